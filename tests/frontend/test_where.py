"""``Where`` with a constant condition (``zkchain/quant/ops.py``): a finite fill is ``x·keep + fill·(1 − keep)``;
a −inf (or ≤ −1e3) fill before a Softmax is a mask whose entries get probability 0; anywhere else it is refused
with the node's name."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from zkchain.errors import UnsupportedModelError
from zkchain.quant.compile import compile_model

MASK = np.array([[True, False, True, False], [False, True, True, True]])


def _model(tmp_path, fill: float, then: str | None):
    nodes = [helper.make_node("Where", ["cond", "x", "fill"], ["w"], name="mask")]
    if then:
        nodes.append(helper.make_node(then, ["w"], ["y"], name="after", **({"axis": -1} if then == "Softmax" else {})))
    inits = [numpy_helper.from_array(MASK, "cond"), numpy_helper.from_array(np.array(fill, np.float32), "fill")]
    out = "y" if then else "w"
    g = helper.make_graph(nodes, "where", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2, 4])], initializer=inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    cal = np.random.default_rng(0).normal(size=(16, 2, 4)).astype(np.float32)
    return path, cal


def _run(model, x) -> np.ndarray:
    """The quantized model's output on ``x``, dequantized."""
    return np.asarray(model.dequantize_output(model.execute(model.quantize_input(x))[model.output_names[0]]))


def test_finite_fill_is_exact(tmp_path):
    path, cal = _model(tmp_path, 0.75, None)
    m = compile_model(path, calibration=cal)
    x = cal[0]
    kinds = [op.kind for op in m.ops]
    assert "mul_const" in kinds and "add_const" in kinds
    assert np.allclose(_run(m, x).reshape(2, 4), np.where(MASK, x, 0.75), atol=0.05)


def test_minus_inf_before_softmax_is_a_mask(tmp_path):
    path, cal = _model(tmp_path, float("-inf"), "Softmax")
    m = compile_model(path, calibration=cal)
    out = _run(m, cal[3]).reshape(2, 4)
    assert (out[~MASK] == 0).all() and (out[MASK] > 0).all()
    want = np.where(MASK, np.exp(cal[3]), 0)
    assert np.allclose(out, want / want.sum(-1, keepdims=True), atol=0.02)


def test_minus_inf_elsewhere_is_refused(tmp_path):
    path, cal = _model(tmp_path, float("-inf"), "Relu")
    with pytest.raises(UnsupportedModelError, match="mask.*only right before a Softmax"):
        compile_model(path, calibration=cal)


def test_masked_scores_far_above_the_kept_ones(tmp_path):
    """A masked score far above every kept one must not push the kept entries' exp to 0 (the row maximum is taken
    over the kept entries): rows still sum to 1 over the kept positions."""
    path, cal = _model(tmp_path, float("-inf"), "Softmax")
    cal = np.where(MASK, cal * 0.3 - 6.0, 6.0 + cal * 0.3).astype(np.float32)
    m = compile_model(path, calibration=cal)
    out = _run(m, cal[5]).reshape(2, 4)
    want = np.where(MASK, np.exp(cal[5] - cal[5].max()), 0)
    assert np.allclose(out, want / want.sum(-1, keepdims=True), atol=0.03), out


def _additive(tmp_path, mask_values, then="Softmax"):
    nodes = [helper.make_node("Add", ["x", "M"], ["w"], name="causal"),
             helper.make_node(then, ["w"], ["y"], name="after", **({"axis": -1} if then == "Softmax" else {}))]
    g = helper.make_graph(nodes, "additive", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                          initializer=[numpy_helper.from_array(mask_values.astype(np.float32), "M")])
    path = tmp_path / "a.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path, np.random.default_rng(1).normal(size=(16, 2, 4)).astype(np.float32)


def test_additive_causal_mask_before_softmax(tmp_path):
    """``scores + mask`` with 0 / −inf entries (``nn.Transformer.generate_square_subsequent_mask``) is a mask."""
    path, cal = _additive(tmp_path, np.where(MASK, 0.0, -np.inf))
    out = _run(compile_model(path, calibration=cal), cal[2]).reshape(2, 4)
    want = np.where(MASK, np.exp(cal[2]), 0)
    assert (out[~MASK] == 0).all() and np.allclose(out, want / want.sum(-1, keepdims=True), atol=0.02)


@pytest.mark.parametrize("case", ["nonzero_kept", "not_softmax"])
def test_other_additive_masks_are_refused(tmp_path, case):
    values = np.where(MASK, 0.5 if case == "nonzero_kept" else 0.0, -np.inf)
    path, cal = _additive(tmp_path, values, "Softmax" if case == "nonzero_kept" else "Relu")
    with pytest.raises(UnsupportedModelError, match="additive mask"):
        compile_model(path, calibration=cal)
