"""A model with several inputs, as EZKL's examples have them: the inputs are packed into one committed input
(``importer.pack_inputs``: each sample's values of every input in turn, ONNX order) and ``input.json`` holds one
``input_data`` list per input. Through the CLI: compile (calibrated on that input.json) → predict → setup →
prove → verify, the proof's output equal to ``predict``'s and close to onnxruntime's; a wrong number of lists or
values is a clear input error (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from clirun import zk
from onnx import TensorProto, helper, numpy_helper


def _two_input_model(rng) -> onnx.ModelProto:
    """a(1×4), b(1×2×3) → Gemm(a) + Gemm(flatten(b)) → Relu → y(1×2)."""
    mk = helper.make_node
    w = lambda name, shape: numpy_helper.from_array((rng.normal(size=shape) * 0.5).astype(np.float32), name)  # noqa: E731
    nodes = [mk("Gemm", ["a", "Wa", "ba"], ["ha"], transB=1), mk("Flatten", ["b"], ["bf"]),
             mk("Gemm", ["bf", "Wb"], ["hb"], transB=1), mk("Add", ["ha", "hb"], ["h"]), mk("Relu", ["h"], ["y"])]
    g = helper.make_graph(nodes, "two_inputs",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
                          [w("Wa", (2, 4)), w("ba", (2,)), w("Wb", (2, 6))])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    rng = np.random.default_rng(5)
    d = tmp_path_factory.mktemp("multi")
    onnx.save(_two_input_model(rng), str(d / "network.onnx"))
    a, b = rng.normal(size=4), rng.normal(size=6)
    (d / "input.json").write_text(json.dumps({"input_data": [a.tolist(), b.tolist()]}))
    zk("compile", d / "network.onnx", "-o", d / "build", check=0)
    zk("setup", d / "build", check=0)
    return d, a, b


def test_two_inputs_compile_prove_and_verify(built, tmp_path):
    d, a, b = built
    meta = json.loads((d / "build" / "quantized.json").read_text())
    assert meta["input"]["shape"] == [1, 10]
    assert meta["info"]["packed_inputs"] == [["a", [1, 4]], ["b", [1, 2, 3]]]
    assert meta["info"]["fidelity"]["reference"] == "onnxruntime"  # fed the two inputs, not the packed one
    pred = json.loads(zk("predict", d / "build", "--input", d / "input.json", check=0).stdout)["outputs"][0]
    ort = pytest.importorskip("onnxruntime")
    want = ort.InferenceSession(str(d / "network.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"a": a.reshape(1, 4).astype(np.float32), "b": b.reshape(1, 2, 3).astype(np.float32)})[0].ravel()
    assert np.allclose(pred, want, atol=0.02 * max(1.0, float(np.abs(want).max())))
    proof = tmp_path / "proof.json"
    zk("prove", d / "build", "--input", d / "input.json", "-o", proof, check=0)
    assert "accepted" in zk("verify", d / "build", proof, check=0).stdout
    # the one input a user might also give: the values packed in turn, as a flat .npy
    np.save(tmp_path / "x.npy", np.concatenate([a, b]))
    zk("prove", d / "build", "--input", tmp_path / "x.npy", "-o", tmp_path / "p2.json", check=0)


def test_wrong_input_lists_are_clear_errors(built, tmp_path):
    d, a, b = built
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"input_data": [a.tolist()]}))
    err = zk("predict", d / "build", "--input", one, check=2).stderr
    assert "holds 1 input(s) but the model has 2" in err
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"input_data": [a.tolist(), b.tolist()[:5]]}))
    assert "10 values per sample" in zk("predict", d / "build", "--input", short, check=2).stderr
    assert "10" in zk("prove", d / "build", "--input", short, "-o", tmp_path / "p.json", check=2).stderr
