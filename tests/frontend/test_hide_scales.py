"""``--hide-scales``: a verifying key does not tell two models whose weights differ by 2 % apart.

Without it, every scale is the calibrated range over ``2^(bits−1) − 1``, so the rescale constants, the tables and
the output scales in ``vk.json``/``proof.json`` move with the weights and answer "is this model X?". With it,
every range and weight maximum is rounded up to a power of two first (``zkchain.quant.lowering``): the circuit
depends on the weights only through those exponents.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from zkchain.compiler.lower import lower
from zkchain.models import bundled_model_dir
from zkchain.quant.compile import compile_model


def _public_circuit(path, calibration, hide: bool) -> tuple[dict, dict]:
    q = compile_model(path, calibration=calibration, config={"hide_scales": hide})
    d = lower(q).circuit.to_json()
    d["meta"].pop("model")  # the file's name
    return d, q.info["fidelity"]


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_weights_two_percent_apart_give_one_circuit(name, tmp_path):
    d = bundled_model_dir(name)
    m = onnx.load(str(d / "model.onnx"))
    for i, init in enumerate(m.graph.initializer):
        a = numpy_helper.to_array(init)
        if a.dtype == np.float32:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array((a * 1.02).astype(np.float32), init.name))
    onnx.save(m, str(tmp_path / "model.onnx"))
    cal = d / "calibration.npy"
    plain = [_public_circuit(p, cal, False)[0] for p in (d / "model.onnx", tmp_path / "model.onnx")]
    assert plain[0] != plain[1], "control: without --hide-scales the circuit tells the two weight sets apart"
    (a, fid), (b, _) = (_public_circuit(p, cal, True) for p in (d / "model.onnx", tmp_path / "model.onnx"))
    assert a == b
    assert fid["top1_agreement"] == 1.0, "one bit of range costs no accuracy on the bundled model"


def test_cli_flag_compiles_proves_and_verifies(tmp_path, capsys):
    import json

    from zkchain.cli import main

    def run(*argv):
        with pytest.raises(SystemExit) as ei:
            main([str(a) for a in argv])
        assert ei.value.code == 0, capsys.readouterr().err
        return capsys.readouterr()

    d, b = bundled_model_dir("digits_mlp"), tmp_path / "b"
    run("compile", d / "model.onnx", "-o", b, "--calibration", d / "calibration.npy", "--hide-scales")
    assert json.loads((b / "quantized.json").read_text())["config"]["hide_scales"] is True
    run("setup", b)
    run("prove", b, "--input", d / "input.json", "-o", tmp_path / "proof.json")
    assert "accepted" in run("verify", b, tmp_path / "proof.json").out
