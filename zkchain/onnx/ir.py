"""Graph IR of an imported ONNX model: a topologically ordered DAG of float ops with concrete shapes.

This is the output of the import stage (zkPyTorch §3.2, "model preprocessing"): every runtime tensor has a
concrete shape (the batch dimension fixed, 1 by default), every initializer and every folded shape
computation is a constant array, and nodes are listed so that each node comes after the producers of all its
inputs. The IR is float and framework-free; ``zkchain.quant`` turns it into the integer model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class TensorInfo:
    """A runtime (non-constant) tensor: name, concrete shape, element type (numpy dtype name, e.g. ``float32``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"


@dataclass
class Node:
    """One ONNX operator application.

    ``inputs``/``outputs`` are tensor names (``""`` marks an omitted optional input); ``attrs`` holds the
    decoded ONNX attributes (ints, floats, strings, lists, tensors as numpy arrays).
    """

    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """Topologically ordered DAG of :class:`Node` over runtime tensors and constants.

    Attributes:
        inputs: runtime graph inputs (initializers excluded), concrete shapes.
        outputs: graph outputs, concrete shapes.
        nodes: runtime nodes in topological order (constant subgraphs already folded away).
        constants: name -> numpy array (initializers, Constant nodes and folded subgraphs).
        tensors: name -> :class:`TensorInfo` for every runtime tensor (inputs, intermediates, outputs).
        opset: default-domain opset version of the model.
        source: path the model was read from (for messages).
        packed: for a model with several float inputs, their ``(name, shape)`` in ONNX order: ``inputs`` is then one
            packed input holding each sample's values of every input back to back (``importer.pack_inputs``).
    """

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    nodes: list[Node]
    constants: dict[str, np.ndarray]
    tensors: dict[str, TensorInfo]
    opset: int
    source: str = ""
    packed: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)

    def is_const(self, name: str) -> bool:
        """True if ``name`` is a constant (initializer or folded value)."""
        return name in self.constants

    def consumers(self, name: str) -> list[Node]:
        """Nodes that read tensor ``name``."""
        return [n for n in self.nodes if name in n.inputs]

    def op_types(self) -> list[str]:
        """Distinct op types of the runtime nodes, in first-use order."""
        seen: dict[str, None] = {}
        for n in self.nodes:
            seen.setdefault(n.op_type, None)
        return list(seen)
