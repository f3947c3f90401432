"""Import stage: ONNX file -> :class:`~zkchain.onnx.ir.Graph` (topologically ordered float DAG, concrete shapes,
constant shape subgraphs folded). See :mod:`zkchain.onnx.importer`."""

from zkchain.onnx.importer import load_onnx, parse_onnx, graph_from_model
from zkchain.onnx.ir import Graph, Node, TensorInfo

__all__ = ["load_onnx", "parse_onnx", "graph_from_model", "Graph", "Node", "TensorInfo"]
