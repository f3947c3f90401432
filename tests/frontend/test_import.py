"""ONNX import: parsing errors, batch dimension, constant folding of torch shape chains, BN folding."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

from zkchain.errors import InputError, UnsupportedModelError
from zkchain.onnx import load_onnx
from zkchain.quant.ops import check_supported, float_execute


def test_torch_shape_chain_is_folded(tmp_path, make_model, save):
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", onnx.TensorProto.INT64, [], [0])),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Cast", ["target"], ["target64"], to=onnx.TensorProto.INT64),
        helper.make_node("Reshape", ["x", "target64"], ["y"], name="flatten"),
    ]
    m = make_model(nodes, [("x", ["batch", 2, 3])], [("y", ["batch", 6])],
                   [("axes", np.array([0], dtype=np.int64)), ("minus1", np.array([-1], dtype=np.int64))])
    g = load_onnx(save(m, tmp_path / "m.onnx"))
    assert [n.op_type for n in g.nodes] == ["Reshape"]
    assert g.inputs[0].shape == (1, 2, 3) and g.outputs[0].shape == (1, 6)
    assert g.nodes[0].name == "flatten"


def test_batch_size_option(tmp_path, mlp_path):
    g = load_onnx(mlp_path, batch_size=3)
    assert g.inputs[0].shape == (3, 6) and g.outputs[0].shape == (3, 4)


def test_batchnorm_after_conv_is_folded(tmp_path, rng, make_model, save):
    W = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    bn = [rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3), rng.uniform(0.5, 2, 3)]
    m = make_model(
        [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1], name="conv"),
         helper.make_node("BatchNormalization", ["c", "g", "b", "mu", "var"], ["y"], name="bn")],
        [("x", [1, 2, 5, 5])], [("y", [1, 3, 5, 5])],
        [("W", W)] + [(k, v.astype(np.float32)) for k, v in zip(["g", "b", "mu", "var"], bn)],
    )
    path = save(m, tmp_path / "m.onnx")
    g = load_onnx(path)
    assert [n.op_type for n in g.nodes] == ["Conv"]
    x = rng.normal(size=(1, 2, 5, 5)).astype(np.float32)
    ort = pytest.importorskip("onnxruntime")
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert np.allclose(float_execute(g, x)["y"], ref, atol=1e-4)


def test_unsupported_ops_reported_all_at_once(tmp_path, make_model, save):
    m = make_model(
        [helper.make_node("Hardmax", ["x"], ["a"], name="my_hardmax"),
         helper.make_node("Relu", ["a"], ["b"], name="ok_relu"),
         helper.make_node("Shrink", ["b"], ["y"], name="my_shrink")],
        [("x", [1, 3])], [("y", [1, 3])],
    )
    g = load_onnx(save(m, tmp_path / "m.onnx"))
    with pytest.raises(UnsupportedModelError) as ei:
        check_supported(g)
    msg = str(ei.value)
    assert "my_hardmax (Hardmax)" in msg and "my_shrink (Shrink)" in msg and "ok_relu" not in msg
    assert msg.startswith("2 unsupported node(s)")


def test_symbolic_non_batch_dimension(tmp_path, make_model, save):
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["b", "n"])], [("y", ["b", "n"])])
    with pytest.raises(UnsupportedModelError, match="symbolic dimension 'n'"):
        load_onnx(save(m, tmp_path / "m.onnx"))


@pytest.mark.parametrize("content", [b"", b"hello, I am not ONNX\n" * 10, None])
def test_not_onnx_or_truncated(tmp_path, mlp_path, content):
    p = tmp_path / "bad.onnx"
    p.write_bytes(content if content is not None else mlp_path.read_bytes()[:-7])
    with pytest.raises(InputError):
        load_onnx(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_onnx(tmp_path / "nope.onnx")


def test_zero_pad_folded_into_conv_and_avgpool(tmp_path, rng, make_model, save):
    W = rng.normal(size=(2, 1, 3, 3)).astype(np.float32)
    m = make_model(
        [helper.make_node("Pad", ["x", "p1"], ["xp"], mode="constant", name="pad1"),
         helper.make_node("Conv", ["xp", "W"], ["c"], name="conv"),
         helper.make_node("Pad", ["c", "p0"], ["cp"], mode="constant", name="pad_noop"),
         helper.make_node("Pad", ["cp", "p1b"], ["cq"], mode="constant", name="pad2"),
         helper.make_node("AveragePool", ["cq"], ["y"], kernel_shape=[2, 2], strides=[2, 2], name="avg")],
        [("x", [1, 1, 6, 6])], [("y", [1, 2, 4, 4])],
        [("W", W), ("p1", np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)),
         ("p0", np.zeros(8, dtype=np.int64)), ("p1b", np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64))],
    )
    path = save(m, tmp_path / "m.onnx")
    g = load_onnx(path)
    assert [n.op_type for n in g.nodes] == ["Conv", "Identity", "AveragePool"]
    assert g.nodes[0].attrs["pads"] == [1, 1, 1, 1] and g.nodes[2].attrs["count_include_pad"] == 1
    ort = pytest.importorskip("onnxruntime")
    x = rng.normal(size=(1, 1, 6, 6)).astype(np.float32)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert np.allclose(float_execute(g, x)["y"], ref, atol=1e-5)


def test_integer_input_must_be_token_ids(tmp_path):
    """An int64 input is accepted as token ids feeding a Gather into a constant table; read any other way it is
    refused, naming the node."""
    from onnx import TensorProto, numpy_helper

    def model(nodes, inits):
        g = helper.make_graph(nodes, "ids", [helper.make_tensor_value_info("ids", TensorProto.INT64, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])], initializer=inits)
        path = tmp_path / f"m{len(list(tmp_path.iterdir()))}.onnx"
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        return path

    E = numpy_helper.from_array(np.ones((5, 2), np.float32), "E")
    ok = model([helper.make_node("Gather", ["E", "ids"], ["y"], axis=0, name="embed")], [E])
    assert load_onnx(ok).inputs[0].dtype == "int64"
    cast = model([helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT, name="to_float"),
                  helper.make_node("Unsqueeze", ["f", "ax"], ["f2"], name="col"),
                  helper.make_node("Mul", ["f2", "E"], ["y"], name="scale")],
                 [E, numpy_helper.from_array(np.array([1], np.int64), "ax")])
    with pytest.raises(UnsupportedModelError, match="token ids feeding Gather.*'to_float' \\(Cast\\)"):
        load_onnx(cast)


def test_division_by_a_square_root_becomes_one_rsqrt_table(tmp_path, rng, make_model, save):
    """``a / Sqrt(v)`` with that Sqrt read by nothing else is ``a · Rsqrt(v)`` (``importer.fuse_rsqrt``): the same
    float values, one table in the integer model; a Sqrt read twice stays a Sqrt (and its Div a Div)."""
    from zkchain.quant import compile_model

    m = make_model(
        [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
         helper.make_node("Add", ["sq", "eps"], ["ve"], name="eps"),
         helper.make_node("Sqrt", ["ve"], ["std"], name="sqrt"),
         helper.make_node("Div", ["x", "std"], ["y"], name="div"),
         helper.make_node("Sqrt", ["ve"], ["s2"], name="sqrt_twice"),
         helper.make_node("Div", ["x", "s2"], ["z0"], name="div2"),
         helper.make_node("Add", ["z0", "s2"], ["z"], name="reads_s2")],
        [("x", [1, 6])], [("y", [1, 6]), ("z", [1, 6])],
        [("eps", np.array(0.1, dtype=np.float32))],
    )
    path = save(m, tmp_path / "m.onnx")
    g = load_onnx(path)
    assert [n.op_type for n in g.nodes] == ["Mul", "Add", "Rsqrt", "Mul", "Sqrt", "Div", "Add"]
    ort = pytest.importorskip("onnxruntime")
    x = rng.normal(size=(1, 6)).astype(np.float32)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = float_execute(g, x)
    assert np.allclose(got["y"], ref[0], atol=1e-5) and np.allclose(got["z"], ref[1], atol=1e-5)
    single = make_model(
        [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
         helper.make_node("ReduceMean", ["sq"], ["var"], axes=[1], keepdims=1, name="var"),
         helper.make_node("Add", ["var", "eps"], ["ve"], name="eps"),
         helper.make_node("Sqrt", ["ve"], ["std"], name="sqrt"),
         helper.make_node("Div", ["x", "std"], ["y"], name="div")],
        [("x", [1, 8])], [("y", [1, 8])], [("eps", np.array(1e-5, dtype=np.float32))], opset=17)
    p2 = save(single, tmp_path / "rms.onnx")
    q = compile_model(p2, rng.normal(size=(64, 8)))
    assert [op.kind for op in q.ops].count("table") == 1  # one rsqrt lookup per row, no sqrt + reciprocal
    xs = rng.normal(size=(16, 8))
    want = xs / np.sqrt((xs * xs).mean(axis=1, keepdims=True) + 1e-5)
    got = np.stack([np.asarray(q.predict(xi[None])).reshape(-1) for xi in xs])
    assert np.max(np.abs(got - want)) < 0.05 * np.max(np.abs(want))


def test_movement_ops_match_onnxruntime_and_refuse_what_they_cannot_prove(tmp_path, rng, make_model, save):
    """Expand, Tile, Pad (zeros), Resize (nearest, integer factors, under three coordinate/rounding modes), Trilu,
    ConvTranspose (strides, uneven pads, output_padding), 1-D Conv/MaxPool/AveragePool (lifted to 2-D at import),
    Pow of a constant base, PRelu (one slope: a table; per-channel slopes: written out) and ReduceLogSumExp (written out as Exp, ReduceSum, Log): zkchain's float semantics equal
    onnxruntime's; the variants the integer primitives cannot express are refused naming the node and why."""
    ort = pytest.importorskip("onnxruntime")
    f32 = lambda v: np.array(v, dtype=np.float32)  # noqa: E731
    i64 = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    mk = helper.make_node
    m = make_model(
        [mk("Pad", ["x", "pads"], ["p"], mode="constant", name="pad"),
         mk("Resize", ["p", "", "sc2"], ["u"], mode="nearest", name="up_half_pixel"),
         mk("Resize", ["p", "", "sc3"], ["v"], mode="nearest", coordinate_transformation_mode="asymmetric",
            nearest_mode="floor", name="up_asymmetric"),
         mk("Trilu", ["u", "k"], ["tu"], upper=1, name="triu"), mk("Trilu", ["v"], ["tl"], upper=0, name="tril"),
         mk("Expand", ["x", "shape"], ["e"], name="expand"), mk("Tile", ["e", "reps"], ["t"], name="tile"),
         mk("PRelu", ["t", "slope"], ["pr"], name="prelu"),
         mk("ReduceLogSumExp", ["pr"], ["l"], axes=[2], keepdims=0, name="lse"),
         mk("ConvTranspose", ["x", "K", "kb"], ["ct"], kernel_shape=[3, 2], strides=[2, 3], pads=[1, 0, 2, 1],
            output_padding=[1, 2], name="deconv"),
         mk("Reshape", ["x", "s3"], ["x3"], name="to_1d"),
         mk("Conv", ["x3", "K1", "kb"], ["c1"], kernel_shape=[2], pads=[1, 0], strides=[2], name="conv1d"),
         mk("MaxPool", ["c1"], ["mp"], kernel_shape=[2], strides=[1], pads=[0, 1], name="maxpool1d"),
         mk("AveragePool", ["mp"], ["ap"], kernel_shape=[2], name="avgpool1d"),
         mk("Pow", ["base", "ap"], ["pw"], name="two_to_the"),
         mk("PRelu", ["ct", "slopes"], ["pc"], name="per_channel_prelu")],
        [("x", [1, 1, 2, 3])], [("tu", [1, 1, 6, 10]), ("tl", [1, 1, 9, 15]), ("l", [1, 2, 6]), ("ct", [1, 2, 3, 9]),
                                ("pw", [1, 2, 1]), ("pc", [1, 2, 3, 9])],
        [("pads", i64([0, 0, 1, 0, 0, 0, 0, 2])), ("sc2", f32([1, 1, 2, 2])), ("sc3", f32([1, 1, 3, 3])),
         ("k", i64(1)), ("shape", i64([1, 2, 1, 1])), ("reps", i64([1, 1, 1, 2])), ("slope", f32([0.3])),
         ("K", f32(rng.normal(size=(1, 2, 3, 2)))), ("kb", f32([0.5, -0.25])), ("s3", i64([1, 2, 3])),
         ("K1", f32(rng.normal(size=(2, 2, 2)))), ("base", f32(2.0)), ("slopes", f32([[[0.1]], [[-0.4]]]))],
        opset=17)
    path = save(m, tmp_path / "m.onnx")
    g = load_onnx(path)
    check_supported(g)
    assert "ReduceLogSumExp" not in [n.op_type for n in g.nodes]
    x = rng.normal(size=(1, 1, 2, 3)).astype(np.float32)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = float_execute(g, x)
    for name, want in zip(("tu", "tl", "l", "ct", "pw", "pc"), ref):
        assert np.allclose(got[name], want, atol=1e-5), name

    def refused(node, inits, why, in_shape=(1, 1, 2, 3), out_shape=(1, 1, 4, 6)):
        bad = make_model([node], [("x", list(in_shape))], [("y", list(out_shape))], inits, opset=17)
        with pytest.raises(UnsupportedModelError) as ei:
            check_supported(load_onnx(save(bad, tmp_path / "bad.onnx")))
        assert f"{node.name} ({node.op_type})" in str(ei.value) and why in str(ei.value), str(ei.value)

    refused(mk("Pad", ["x", "pads"], ["y"], mode="reflect", name="p_reflect"),
            [("pads", i64([0, 0, 1, 1, 0, 0, 1, 2]))], "mode 'reflect'")
    refused(mk("Pad", ["x", "pads", "val"], ["y"], name="p_value"),
            [("pads", i64([0, 0, 1, 1, 0, 0, 1, 2])), ("val", f32(1.5))], "only zeros")
    refused(mk("Resize", ["x", "", "sc"], ["y"], mode="linear", name="r_linear"), [("sc", f32([1, 1, 2, 2]))],
            "mode 'linear'")
    refused(mk("Resize", ["x", "", "sc"], ["y"], mode="nearest", name="r_frac"), [("sc", f32([1, 1, 1.5, 1.5]))],
            "not an integer multiple", out_shape=(1, 1, 3, 4))
    refused(mk("Resize", ["x", "", "sc"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric",
               nearest_mode="ceil", name="r_ceil"), [("sc", f32([1, 1, 2, 2]))], "not a repetition")
    refused(mk("ConvTranspose", ["x", "K"], ["y"], kernel_shape=[2, 2], pads=[2, 2, 2, 2], name="ct_pads"),
            [("K", f32(np.ones((1, 1, 2, 2))))], "pads larger than the kernel", out_shape=(1, 1, 0, 1))
    refused(mk("ConvTranspose", ["x", "K"], ["y"], kernel_shape=[2, 2], group=2, name="ct_groups"),
            [("K", f32(np.ones((1, 1, 2, 2))))], "groups", in_shape=(1, 2, 2, 3), out_shape=(1, 2, 3, 4))


@pytest.mark.parametrize("op,gates,attrs", [("RNN", 1, {}), ("GRU", 3, {"linear_before_reset": 0}),
                                            ("GRU", 3, {"linear_before_reset": 1}), ("LSTM", 4, {})])
def test_recurrent_layers_unrolled_match_onnxruntime(tmp_path, rng, make_model, save, op, gates, attrs):
    """RNN, GRU (both reset placements) and LSTM over 3 steps with biases and a constant non-zero initial state,
    unrolled at import (``importer.expand_recurrent``): no recurrent node is left and every output (Y, Y_h and
    LSTM's Y_c) equals onnxruntime's; a bidirectional layer is refused naming the node."""
    ort = pytest.importorskip("onnxruntime")
    T, B, I, H = 3, 1, 2, 4
    f32 = lambda v: np.asarray(v, dtype=np.float32)  # noqa: E731
    inits = [("W", f32(rng.normal(size=(1, gates * H, I)))), ("R", f32(rng.normal(size=(1, gates * H, H)) * 0.5)),
             ("B", f32(rng.normal(size=(1, 2 * gates * H)) * 0.3)), ("h0", f32(rng.normal(size=(1, B, H)) * 0.3))]
    ins, outs = ["x", "W", "R", "B", "", "h0"], ["Y", "Yh"]
    shapes = [("Y", [T, 1, B, H]), ("Yh", [1, B, H])]
    if op == "LSTM":
        inits.append(("c0", f32(rng.normal(size=(1, B, H)) * 0.3)))
        ins.append("c0")
        outs.append("Yc")
        shapes.append(("Yc", [1, B, H]))
    m = make_model([helper.make_node(op, ins, outs, hidden_size=H, name="rec", **attrs)], [("x", [T, B, I])], shapes,
                   inits, opset=17)
    path = save(m, tmp_path / "m.onnx")
    g = load_onnx(path)
    check_supported(g)
    assert op not in [n.op_type for n in g.nodes]
    x = rng.normal(size=(T, B, I)).astype(np.float32)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = float_execute(g, x)
    for name, want in zip(outs, ref):
        assert np.allclose(got[name], want, atol=1e-5), name
    bi = make_model([helper.make_node(op, ins[:3], ["Y"], hidden_size=H, direction="bidirectional", name="both")],
                    [("x", [T, B, I])], [("Y", [T, 2, B, H])],
                    [(k, np.concatenate([v, v])) for k, v in inits[:2]], opset=17)
    with pytest.raises(UnsupportedModelError, match=rf"both \({op}\)"):
        check_supported(load_onnx(save(bi, tmp_path / "bi.onnx")))
