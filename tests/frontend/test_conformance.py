"""Acceptance over the EZKL example corpus: every model whose ops zkchain supports compiles and predicts
within 5% of the output scale (max |output_data| from EZKL, and onnxruntime's float output)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zkchain.errors import InputError, UnsupportedModelError
from zkchain.onnx import load_onnx
from zkchain.quant import compile_model
from zkchain.quant.compile import float_reference
from zkchain.quant.inputs import read_input_json

from pathlib import Path

from zkchain.models import corpus_missing_reason, ezkl_corpus_dir

EZKL = ezkl_corpus_dir() or Path("/nonexistent")
# models whose ops are all supported today (a regression if one stops compiling)
EXPECTED_SUPPORTED = {
    "1l_average", "1l_batch_norm", "1l_concat", "1l_conv", "1l_div", "1l_downsample", "1l_eltwise_div", "1l_elu", "1l_erf",
    "1l_flatten", "1l_gelu_noappx", "1l_gelu_tanh_appx", "1l_identity", "1l_leakyrelu", "1l_linear",
    "1l_max_pool", "1l_mean", "1l_mlp", "1l_powf", "1l_relu", "1l_reshape", "1l_sigmoid", "1l_softmax",
    "1l_sqrt", "1l_tanh", "1l_tiny_div", "1l_var", "1l_slice", "1l_instance_norm", "layernorm", "2l_relu_fc", "2l_relu_sigmoid", "2l_relu_sigmoid_conv",
    "2l_relu_sigmoid_small", "2l_relu_small", "2l_sigmoid_small", "3l_relu_conv_fc", "4l_relu_conv_fc",
    "accuracy", "blackman_window", "celu", "clip", "exp", "eye", "fr_age", "hard_sigmoid", "hard_swish", "lenet_5",
    "linear_regression", "log", "log_softmax", "max", "min", "mish", "quantize_dequantize", "reducel1",
    "reducel2", "remainder", "rsqrt", "selu", "sklearn_mlp", "softplus", "softsign", "trig", "variable_cnn",
    "self_attention", "large_op_graph", "multihead_attention", "1l_lppool", "nanoGPT",
    "1l_pad", "1l_upsample", "tril", "triu", "large_mlp", "1l_prelu", "prelu_gmm", "logsumexp", "1l_conv_transpose",
    "mnist_gan", "ltsf", "general_exp", "rnn", "gru", "lstm", "lstm_medium", "lstm_large", "tutorial", "idolmodel",
    "rounding_ops",
}


# models that need wider than default widths, and why: prelu_gmm's one output is a difference of larger terms;
# at the default 10-bit weights it is 9 % off its sample's value (1.8 % of its calibrated range), at 12 bits 0.9 %
CONFIG = {"prelu_gmm": {"weight_bits": 12}}
# models whose float function jumps: Floor/Ceil/Round of a quantized input land one integer off where the input sits
# within a quantization step of a jump (rounding_ops: error 1 of max |output| 2); allowed that one step, no more
JUMPS = {"rounding_ops": 0.51}


def _models():
    return sorted(p.parent.name for p in EZKL.glob("*/network.onnx")) if EZKL.is_dir() else []


@pytest.mark.skipif(not EZKL.is_dir(), reason=corpus_missing_reason())
def test_ezkl_corpus():
    passed, unsupported, failures = [], {}, {}
    for name in _models():
        d = EZKL / name
        try:
            m = compile_model(d / "network.onnx", config=CONFIG.get(name))
        except (UnsupportedModelError, InputError) as exc:
            unsupported[name] = str(exc).splitlines()[0]
            continue
        doc = json.loads((d / "input.json").read_text())
        x = read_input_json(d / "input.json", m.input_shape, len(m.info.get("packed_inputs", [])) or 1)[0]
        y = m.predict(x)
        ref, _ = float_reference(d / "network.onnx", load_onnx(d / "network.onnx"), x[None])
        scale = float(np.abs(ref[0]).max())
        errs = {"onnxruntime": float(np.abs(y - ref[0]).max()) / scale if scale else float(np.abs(y).max())}
        if doc.get("output_data"):
            od = np.concatenate([np.ravel(o) for o in doc["output_data"]])
            oscale = float(np.abs(od).max())
            # EZKL's stored output comes from its own quantized run; it is a reference only where it agrees with the
            # float model (self_attention's and large_op_graph's differ from it by 131 % and 68 %)
            if od.size == y.size and scale and float(np.abs(od - ref[0]).max()) / scale <= 0.05:
                errs["ezkl"] = float(np.abs(y - od).max()) / oscale if oscale else float(np.abs(y).max())
        bad = {k: v for k, v in errs.items() if v > JUMPS.get(name, 0.05)}
        if bad:
            failures[name] = bad
        else:
            passed.append(name)
    print(f"\n{len(passed)} passed, {len(failures)} failed, {len(unsupported)} unsupported: {sorted(passed)}")
    for k, v in failures.items():
        print(f"FAIL {k}: {v}")
    assert not failures, failures
    assert EXPECTED_SUPPORTED <= set(passed), EXPECTED_SUPPORTED - set(passed)
