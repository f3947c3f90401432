"""`zkchain compile` / `zkchain predict`: outputs, artifact, and exit code 2 with one line for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zkchain.cli import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as ei:
        main(list(argv))
    out, err = capsys.readouterr()
    return ei.value.code, out, err


def test_compile_then_predict_json_and_npy(tmp_path, capsys, rng, mlp_path):
    np.save(tmp_path / "calib.npy", rng.normal(size=(32, 6)).astype(np.float32))
    code, out, err = run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--calibration",
                         str(tmp_path / "calib.npy"))
    assert code == 0, err
    assert "wrote" in out and "quantized.json" in out and "top-1 agreement" in out and "cosine" in out
    (tmp_path / "in.json").write_text(json.dumps({"input_data": [rng.normal(size=6).tolist()]}))
    code, out, err = run(capsys, "predict", str(tmp_path / "b"), "--input", str(tmp_path / "in.json"))
    assert code == 0, err
    rows = json.loads(out)["outputs"]
    assert len(rows) == 1 and len(rows[0]) == 4
    np.save(tmp_path / "batch.npy", rng.normal(size=(3, 6)))
    code, out, err = run(capsys, "predict", str(tmp_path / "b"), "--input", str(tmp_path / "batch.npy"))
    assert code == 0 and len(json.loads(out)["outputs"]) == 3


def test_compile_refuses_nonempty_build_dir_without_force(tmp_path, capsys, mlp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "old.txt").write_text("x")
    code, _, err = run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"))
    assert code == 2 and "--force" in err
    code, out, err = run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--force")
    assert code == 0 and "synthetic" in err  # says what it calibrated on


@pytest.mark.parametrize("case", ["not_onnx", "truncated", "unsupported", "missing"])
def test_compile_bad_model_exit_2(tmp_path, capsys, mlp_path, make_model, save, case):
    from onnx import helper

    p = tmp_path / "m.onnx"
    if case == "not_onnx":
        p.write_text("definitely not a model")
    elif case == "truncated":
        p.write_bytes(mlp_path.read_bytes()[: len(mlp_path.read_bytes()) // 2])
    elif case == "unsupported":
        save(make_model([helper.make_node("Hardmax", ["x"], ["y"], name="hm0")], [("x", [1, 2])], [("y", [1, 2])]), p)
    code, out, err = run(capsys, "compile", str(p), "-o", str(tmp_path / "b"))
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err
    if case == "unsupported":
        assert "hm0 (Hardmax)" in err


@pytest.mark.parametrize("case", ["wrong_length", "nan", "not_json", "wrong_npy_shape", "no_build"])
def test_predict_bad_input_exit_2(tmp_path, capsys, rng, mlp_path, case):
    np.save(tmp_path / "calib.npy", rng.normal(size=(8, 6)))
    assert run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--calibration",
               str(tmp_path / "calib.npy"))[0] == 0
    build = tmp_path / ("b" if case != "no_build" else "nothing")
    f = tmp_path / "in.json"
    if case == "wrong_length":
        f.write_text(json.dumps({"input_data": [[1.0, 2.0, 3.0, 4.0, 5.0]]}))
    elif case == "nan":
        f = tmp_path / "in.npy"
        np.save(f, np.array([[0, 1, np.nan, 0, 0, 0.0]]))
    elif case == "not_json":
        f.write_text("{oops")
    elif case == "wrong_npy_shape":
        f = tmp_path / "in.npy"
        np.save(f, np.zeros((2, 7)))
    else:
        f.write_text(json.dumps({"input_data": [[0.0] * 6]}))
    code, out, err = run(capsys, "predict", str(build), "--input", str(f))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err


def test_calibration_not_matching_model_exit_2(tmp_path, capsys, rng, mlp_path):
    np.save(tmp_path / "calib.npy", rng.normal(size=(8, 5)))
    code, _, err = run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--calibration",
                       str(tmp_path / "calib.npy"))
    assert code == 2 and "calibration file does not match" in err


def _grouped_conv(rng, make_model):
    from onnx import helper

    w = ("W", rng.normal(size=(2, 1, 3, 3)).astype(np.float32))
    return make_model([helper.make_node("Conv", ["x", "W"], ["y"], name="dw0", group=2, kernel_shape=[3, 3])],
                      [("x", [1, 2, 5, 5])], [("y", [1, 2, 3, 3])], [w])


def test_compile_refuses_what_cannot_be_proven(tmp_path, capsys, rng, make_model, save):
    """A grouped (depthwise) convolution quantizes (it runs in `predict`) but has no proof layout yet: compile
    says so, naming the ONNX node, instead of failing later at `setup`. --quantize-only writes it anyway."""
    p = save(_grouped_conv(rng, make_model), tmp_path / "dw.onnx")
    code, _, err = run(capsys, "compile", str(p), "-o", str(tmp_path / "b"))
    assert code == 2 and "error: " in err and "cannot be proven" in err and "dw0" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())  # nothing half-written
    code, out, err = run(capsys, "compile", str(p), "-o", str(tmp_path / "b"), "--quantize-only")
    assert code == 0 and "quantized.json" in out, err


def test_api_compile_checks_provability_like_the_cli(tmp_path, rng, make_model, save):
    """The README's first API step refuses what cannot be proven (it used to surface only at `api.setup`)."""
    from zkchain import api
    from zkchain.errors import UnsupportedModelError

    p = save(_grouped_conv(rng, make_model), tmp_path / "dw.onnx")
    with pytest.raises(UnsupportedModelError, match="cannot be proven.*dw0"):
        api.compile(p, tmp_path / "b")
    assert api.compile(p, tmp_path / "b", quantize_only=True).blocks is None


def test_a_linear_over_rows_compiles_proves_and_verifies(tmp_path, capsys, rng, make_model, save):
    """A Linear over a [1, 8, 16] activation (8 rows, one weight matrix) goes through the CLI: compile, setup,
    prove, verify (``docs/protocol.md`` §5.1, several rows); a moved output is rejected."""
    import json

    from onnx import helper

    w = ("W", rng.normal(size=(16, 4)).astype(np.float32))
    m = make_model([helper.make_node("MatMul", ["x", "W"], ["y"], name="proj")], [("x", [1, 8, 16])],
                   [("y", [1, 8, 4])], [w])
    p = save(m, tmp_path / "rows.onnx")
    np.save(tmp_path / "x.npy", rng.normal(size=(1, 8, 16)).astype(np.float32))
    b = str(tmp_path / "b")
    assert run(capsys, "compile", str(p), "-o", b)[0] == 0
    assert run(capsys, "setup", b)[0] == 0
    assert run(capsys, "prove", b, "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "p.json"))[0] == 0
    code, out, _ = run(capsys, "verify", b, str(tmp_path / "p.json"))
    assert code == 0 and "accepted" in out
    from zkchain.protocol.proof import Proof
    from zkchain.protocol.vk import VerifyingKey

    vk = VerifyingKey.load(tmp_path / "b" / "vk.json")
    proof = Proof.load(tmp_path / "p.json", vk)
    name = next(iter(proof.public))
    proof.public[name][5] += 1  # row 1, column 1: a consistent file claiming another output
    proof.save(tmp_path / "moved.json", vk)
    code, out, err = run(capsys, "verify", b, str(tmp_path / "moved.json"))
    assert code == 1 and "rejected" in out + err


def test_layer_normalization_over_rows_proves_through_the_cli(tmp_path, capsys, rng, make_model, save):
    """An opset-17 LayerNormalization over the last axis of a [1, 4, 8] activation, then a Linear: written out at
    import (per-row mean and variance, broadcasts: Gather blocks), compiled, proved and verified from the CLI;
    the prediction stays close to onnxruntime's."""
    from onnx import helper

    gamma = ("gamma", (1 + 0.2 * rng.normal(size=8)).astype(np.float32))
    beta = ("beta", (0.1 * rng.normal(size=8)).astype(np.float32))
    w = ("W", rng.normal(size=(8, 3)).astype(np.float32))
    m = make_model([helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["n"], name="ln", axis=-1),
                    helper.make_node("MatMul", ["n", "W"], ["y"], name="proj")],
                   [("x", [1, 4, 8])], [("y", [1, 4, 3])], [gamma, beta, w])
    p = save(m, tmp_path / "ln.onnx")
    np.save(tmp_path / "cal.npy", rng.normal(size=(16, 1, 4, 8)).astype(np.float32))
    np.save(tmp_path / "x.npy", rng.normal(size=(1, 4, 8)).astype(np.float32))
    b = str(tmp_path / "b")
    code, out, err = run(capsys, "compile", str(p), "--calibration", str(tmp_path / "cal.npy"), "-o", b)
    assert code == 0 and "cosine similarity 0.99" in out, out + err
    assert run(capsys, "setup", b)[0] == 0
    assert run(capsys, "prove", b, "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "p.json"))[0] == 0
    code, out, _ = run(capsys, "verify", b, str(tmp_path / "p.json"))
    assert code == 0 and "accepted" in out


def test_unsupported_op_message_does_not_promise_a_proof(tmp_path, capsys, make_model, save):
    from onnx import helper

    m = make_model([helper.make_node("Hardmax", ["x"], ["y"], name="hm0")], [("x", [1, 4])], [("y", [1, 4])], [])
    p = save(m, tmp_path / "hm.onnx")
    code, _, err = run(capsys, "compile", str(p), "-o", str(tmp_path / "b"))
    assert code == 2 and "hm0 (Hardmax): operator not supported" in err
    assert "ops that compile (for `predict`" in err and "cannot be proven yet" in err


def test_prove_with_a_string_npy_is_exit_2_in_one_line(tmp_path, capsys, mlp_path, rng):
    np.save(tmp_path / "calib.npy", rng.normal(size=(32, 6)).astype(np.float32))
    assert run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--calibration",
               str(tmp_path / "calib.npy"))[0] == 0
    assert run(capsys, "setup", str(tmp_path / "b"))[0] == 0
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    code, _, err = run(capsys, "prove", str(tmp_path / "b"), "--input", str(tmp_path / "s.npy"), "-o",
                       str(tmp_path / "p.json"))
    assert code == 2 and err.strip().splitlines() == [f"error: {tmp_path / 's.npy'}: expected numbers, found dtype <U1"]


def test_gen_verifier_says_what_it_is_doing(tmp_path, capsys, mlp_path, rng, monkeypatch):
    """Generating and compiling the contract takes seconds: a status line on a terminal, as setup and prove have."""
    from rich.console import Console

    import zkchain.cli as cli

    np.save(tmp_path / "calib.npy", rng.normal(size=(32, 6)).astype(np.float32))
    run(capsys, "compile", str(mlp_path), "-o", str(tmp_path / "b"), "--calibration", str(tmp_path / "calib.npy"))
    run(capsys, "setup", str(tmp_path / "b"))
    monkeypatch.setattr(cli, "_console", lambda: Console(stderr=True, force_terminal=True))
    code, _, err = run(capsys, "gen-verifier", str(tmp_path / "b"))
    assert code == 0 and "generating the Solidity verifier" in err
