"""Shared helpers for the front-end tests: tiny ONNX models built with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]


def _make_model(nodes, inputs, outputs, inits=(), opset=17) -> onnx.ModelProto:
    """nodes: NodeProtos; inputs/outputs: (name, shape) with shape entries int or str (symbolic)."""
    g = helper.make_graph(
        list(nodes), "t",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def mlp_model(rng, k=6, h=8, n=4) -> onnx.ModelProto:
    W1 = rng.normal(size=(h, k)).astype(np.float32)
    b1 = rng.normal(size=h).astype(np.float32)
    W2 = rng.normal(size=(h, n)).astype(np.float32)
    b2 = rng.normal(size=n).astype(np.float32)
    return _make_model(
        [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
         helper.make_node("Relu", ["h"], ["a"], name="relu"),
         helper.make_node("MatMul", ["a", "W2"], ["m"], name="fc2"),
         helper.make_node("Add", ["m", "b2"], ["y"], name="bias2")],
        [("x", ["batch", k])], [("y", ["batch", n])],
        [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)],
    )


@pytest.fixture
def mlp_path(tmp_path, rng) -> Path:
    return _save(mlp_model(rng), tmp_path / "mlp.onnx")


@pytest.fixture
def make_model():
    """make_model(nodes, inputs, outputs, inits=(), opset=17) -> checked ModelProto."""
    return _make_model


@pytest.fixture
def save():
    """save(model, path) -> path."""
    return _save
