"""Acceptance: the bundled digits models lose ≤ 0.5 percentage points of test accuracy after quantization."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zkchain.onnx import load_onnx
from zkchain.quant import compile_model
from zkchain.quant.compile import float_reference

MODELS = Path(__file__).resolve().parents[2] / "zkchain" / "models"


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn", "lenet5"])
def test_bundled_model_accuracy_drop(name):
    d = MODELS / name
    if not (d / "model.onnx").is_file() or not (d / "test_inputs.npy").is_file():
        pytest.skip(f"bundled model {name} not present")
    m = compile_model(d / "model.onnx", d / "calibration.npy")
    X = np.load(d / "test_inputs.npy").reshape((-1,) + tuple(m.input_shape))
    y = np.load(d / "test_labels.npy")
    ref, _ = float_reference(d / "model.onnx", load_onnx(d / "model.onnx"), X)
    quant = np.stack([m.predict(x) for x in X])
    acc_float = float(np.mean(ref.argmax(1) == y))
    acc_quant = float(np.mean(quant.argmax(1) == y))
    print(f"{name}: float {acc_float:.4f} quantized {acc_quant:.4f} ({len(y)} test samples)")
    assert acc_float - acc_quant <= 0.005
    assert max(t.size for t in m.tables.values()) <= 2**12
