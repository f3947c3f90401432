"""Calibration, quantization and the integer executor on tiny models covering every supported op."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import helper

from zkchain.errors import InputError
from zkchain.quant import CalibrationError, RangeError, compile_model, load_compiled, write_compiled
from zkchain.quant.primitives import KINDS, RESCALE_LONG_SHIFT, RESCALE_MAX_MULTIPLIER


def _ort(path, x):
    ort = pytest.importorskip("onnxruntime")
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([np.ravel(o) for o in s.run(None, {s.get_inputs()[0].name: x.astype(np.float32)})])


def _check_close(model, path, batch, rel=0.03):
    """Quantized vs onnxruntime within rel·max|float output| on every sample."""
    ref = np.stack([_ort(path, np.reshape(x, model.input_shape)) for x in batch])
    got = np.stack([model.predict(x) for x in batch])
    assert got.shape == ref.shape
    err = np.abs(got - ref).max()
    assert err <= rel * max(np.abs(ref).max(), 1e-9), (err, np.abs(ref).max())


def _conv_model(make_model, rng):
    W1 = rng.normal(size=(4, 2, 3, 3)).astype(np.float32) * 0.5
    b1 = rng.normal(size=4).astype(np.float32)
    bn = [rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4) * 0.1, rng.uniform(0.5, 2, 4)]
    W2 = rng.normal(size=(8, 4)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "W1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[1, 1], name="conv1"),
        helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["n1"], name="bn1"),
        helper.make_node("LeakyRelu", ["n1"], ["a1"], alpha=0.1, name="lrelu"),
        helper.make_node("MaxPool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="maxpool"),
        helper.make_node("AveragePool", ["a1"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="avgpool"),
        helper.make_node("Concat", ["p1", "p2"], ["cat"], axis=1, name="concat"),
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f", "W2"], ["z"], name="fc"),
        helper.make_node("Softmax", ["z"], ["y"], axis=-1, name="softmax"),
    ]
    inits = [("W1", W1), ("b1", b1), ("W2", W2)] + [(k, v.astype(np.float32)) for k, v in
                                                     zip(["g", "be", "mu", "var"], bn)]
    return make_model(nodes, [("x", ["N", 2, 6, 6])], [("y", ["N", 4])], inits)


def _elementwise_model(make_model, rng):
    c = rng.normal(size=(1, 5)).astype(np.float32)
    nodes = [
        helper.make_node("Sigmoid", ["x"], ["s"], name="sig"),
        helper.make_node("Tanh", ["x"], ["t"], name="tanh"),
        helper.make_node("Mul", ["s", "t"], ["st"], name="mul"),
        helper.make_node("Sub", ["st", "c"], ["d"], name="sub_const"),
        helper.make_node("Sub", ["c", "d"], ["e"], name="const_sub"),
        helper.make_node("Div", ["e", "two"], ["h"], name="div"),
        helper.make_node("Mul", ["h", "c"], ["hc"], name="mul_vec"),
        helper.make_node("Add", ["hc", "x"], ["u"], name="add"),
        helper.make_node("Clip", ["u", "lo", "hi"], ["v"], name="clip"),
        helper.make_node("Transpose", ["v"], ["vt"], perm=[1, 0], name="transpose"),
        helper.make_node("Reshape", ["vt", "shape"], ["y"], name="reshape"),
    ]
    inits = [("c", c), ("two", np.array(2.0, dtype=np.float32)), ("lo", np.array(-0.8, dtype=np.float32)),
             ("hi", np.array(1.5, dtype=np.float32)), ("shape", np.array([1, 5], dtype=np.int64))]
    return make_model(nodes, [("x", [1, 5])], [("y", [1, 5])], inits)


def test_mlp_matches_onnxruntime_and_witness_is_complete(tmp_path, rng, mlp_path):
    calib = rng.normal(size=(64, 6))
    m = compile_model(mlp_path, calib)
    _check_close(m, mlp_path, rng.normal(size=(20, 6)))
    assert [op.kind for op in m.ops] == ["linear", "rescale", "table", "linear", "add_const", "rescale"] or \
        {op.kind for op in m.ops} <= set(KINDS)
    w = m.execute(m.quantize_input(calib[0]))
    assert w.ops is m.ops
    for op in m.ops:  # every input and output of every op is in the witness
        assert all(n in w for n in op.inputs + op.outputs)
        if op.kind == "rescale":
            x, (y, rem) = w[op.inputs[0]], op.outputs
            M, s = op.params["M"], op.params["s"]
            assert 1 <= M < RESCALE_MAX_MULTIPLIER and 1 <= s <= RESCALE_LONG_SHIFT
            assert np.all((0 <= w[rem]) & (w[rem] < 2**s))
            assert np.array_equal(M * x.astype(object) + 2 ** (s - 1), (2**s) * w[y].astype(object) + w[rem])
        if op.kind == "table":
            t = m.tables[op.params["table"]]
            assert op.params["lo"] == t.lo and op.params["hi"] == t.hi and t.size <= 2**12
            assert np.array_equal(w[op.outputs[1]], w[op.inputs[0]] - t.lo)
            assert np.array_equal(w[op.outputs[0]], t.values[w[op.outputs[1]]])
    for name, t in m.tensors.items():
        assert name in w and tuple(w[name].shape) == t.shape
        if t.role in ("remainder", "index"):
            assert t.scale is None
        else:
            assert t.scale > 0


def test_cnn_ops_match_onnxruntime(tmp_path, rng, make_model, save):
    path = save(_conv_model(make_model, rng), tmp_path / "cnn.onnx")
    m = compile_model(path, rng.normal(size=(48, 1, 2, 6, 6)))
    kinds = {op.kind for op in m.ops}
    assert {"conv2d", "maxpool", "sumpool", "sum", "concat", "table", "max", "mul"} <= kinds
    assert "bn1" not in {op.source for op in m.ops}  # folded into conv1
    _check_close(m, path, rng.normal(size=(10, 1, 2, 6, 6)), rel=0.03)
    assert m.info["fidelity"]["top1_agreement"] >= 0.9


def test_elementwise_ops_match_onnxruntime(tmp_path, rng, make_model, save):
    path = save(_elementwise_model(make_model, rng), tmp_path / "ew.onnx")
    m = compile_model(path, rng.normal(size=(64, 1, 5)))
    _check_close(m, path, rng.normal(size=(16, 1, 5)), rel=0.03)
    fns = {t.fn for t in m.tables.values()}
    assert {"sigmoid", "tanh", "clip"} <= fns


def test_save_load_roundtrip_same_witness(tmp_path, rng, mlp_path):
    m = compile_model(mlp_path, rng.normal(size=(32, 6)))
    paths = write_compiled(m, tmp_path / "build")
    assert sorted(p.name for p in paths) == ["quantized.json", "quantized.npz"]
    m2 = load_compiled(tmp_path / "build")
    np.load(tmp_path / "build" / "quantized.npz", allow_pickle=False)  # no pickled objects
    x = m.quantize_input(rng.normal(size=6))
    w1, w2 = m.execute(x), m2.execute(x)
    assert w1.keys() == w2.keys() and all(np.array_equal(w1[k], w2[k]) for k in w1)
    assert [(o.kind, o.inputs, o.outputs) for o in m.ops] == [(o.kind, o.inputs, o.outputs) for o in m2.ops]
    doc = json.loads((tmp_path / "build" / "quantized.json").read_text())
    assert doc["format"] == "zkchain-quantized-model" and doc["version"] == 1
    with pytest.raises(InputError, match="not empty"):
        write_compiled(m, tmp_path / "build")
    write_compiled(m, tmp_path / "build", force=True)


def test_load_rejects_missing_or_foreign_artifact(tmp_path, rng, mlp_path):
    with pytest.raises(InputError, match="no compiled model"):
        load_compiled(tmp_path)
    write_compiled(compile_model(mlp_path, rng.normal(size=(8, 6))), tmp_path / "b")
    p = tmp_path / "b" / "quantized.json"
    doc = json.loads(p.read_text())
    doc["version"] = 99
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="v1"):
        load_compiled(tmp_path / "b")


def test_accumulator_bound_error_names_tensor(rng, mlp_path):
    with pytest.raises(CalibrationError, match=r"tensor '.*acc'.*2\^16"):
        compile_model(mlp_path, rng.normal(size=(8, 6)), {"acc_bound_log2": 16})


def test_out_of_table_domain_at_inference_names_tensor(rng, mlp_path):
    m = compile_model(mlp_path, rng.normal(size=(16, 6)) * 0.01)
    with pytest.raises(RangeError, match="outside its lookup-table domain"):
        m.predict(np.full(6, 50.0))


def test_quantize_input_rejects_bad_inputs(rng, mlp_path):
    m = compile_model(mlp_path, rng.normal(size=(8, 6)))
    with pytest.raises(InputError, match="6 values"):
        m.quantize_input(np.zeros(5))
    with pytest.raises(InputError, match="NaN"):
        m.quantize_input(np.array([0, 1, np.nan, 0, 0, 0]))


def test_calibration_file_must_match_model(tmp_path, rng, mlp_path):
    np.save(tmp_path / "c.npy", rng.normal(size=(10, 7)))
    with pytest.raises(InputError, match="calibration file does not match"):
        compile_model(mlp_path, tmp_path / "c.npy")
    (tmp_path / "c.json").write_text(json.dumps({"input_data": [list(range(12))]}))
    m = compile_model(mlp_path, tmp_path / "c.json")  # two samples of 6 values
    assert m.info["calibration_samples"] == 2


def test_default_calibration_uses_sample_input(tmp_path, rng, mlp_path):
    (tmp_path / "input.json").write_text(json.dumps({"input_data": [rng.normal(size=6).tolist()]}))
    m = compile_model(mlp_path)
    assert "sample input" in m.info["calibration"] and "synthetic" in m.info["calibration"]


def test_extra_elementwise_and_reductions_match_onnxruntime(tmp_path, rng, make_model, save):
    nodes = [
        helper.make_node("Exp", ["x"], ["e"], name="exp"),
        helper.make_node("Erf", ["x"], ["f"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["e1"], name="add1"),
        helper.make_node("Div", ["f", "e1"], ["q"], name="div_tensor"),
        helper.make_node("Pow", ["f", "three"], ["p"], name="pow"),
        helper.make_node("ReduceMean", ["p", "ax"], ["m"], keepdims=1, name="mean"),
        helper.make_node("Sub", ["p", "m"], ["c"], name="center"),
        helper.make_node("ReduceMax", ["q", "ax"], ["mx"], keepdims=0, name="rmax"),
        helper.make_node("ReduceMin", ["c", "ax"], ["mn"], keepdims=0, name="rmin"),
        helper.make_node("ReduceL2", ["c", "ax"], ["l2"], keepdims=0, name="l2"),
        helper.make_node("Concat", ["mx", "mn", "l2"], ["y"], axis=0, name="cat"),
    ]
    inits = [("one", np.array(1.0, dtype=np.float32)), ("three", np.array(3.0, dtype=np.float32)),
             ("ax", np.array([1], dtype=np.int64))]
    path = save(make_model(nodes, [("x", [1, 6])], [("y", [3])], inits, opset=18), tmp_path / "r.onnx")
    m = compile_model(path, rng.normal(size=(64, 1, 6)))
    _check_close(m, path, rng.normal(size=(12, 1, 6)), rel=0.05)
    assert {"exp", "erf", "reciprocal", "pow", "sqrt"} <= {t.fn for t in m.tables.values()}
    assert all(t.size <= 2**12 for t in m.tables.values())
