"""`zkchain demo`: the whole pipeline on the bundled digits MLP ends with every proof accepted on chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("ZKCHAIN_PRIVATE_KEY", "ZKCHAIN_DEMO_RPC_URL")}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "zkchain.cli", "demo", *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, env=env, cwd=ROOT)
    return p, time.perf_counter() - t0


def _proof_bytes(work: Path) -> int:
    """The calldata size the schedule implies (64 B per commitment and opening proof, 32 B per evaluation)."""
    from zkchain.protocol.schedule import schedule
    from zkchain.protocol.vk import VerifyingKey

    (vk_path,) = work.rglob("vk.json")
    sch = schedule(VerifyingKey.load(vk_path).circuit)
    return 64 * len(sch.commitments) + 32 * sum(len(v) for v in sch.opened.values()) + 64 * len(sch.points)


@pytest.mark.slow
def test_demo_one_sample_on_the_embedded_chain(tmp_path):
    work = tmp_path / "demo"
    p, seconds = _demo("--samples", "1", "--workdir", work)
    assert p.returncode == 0, f"stdout:{p.stdout}\nstderr:{p.stderr}"
    out = p.stdout
    assert "on-chain: 1/1 proofs accepted  PASS" in out
    assert "INSECURE dev SRS" in out and "test accuracy" in out and "deploy gas" in out and "verify gas" in out
    assert str(work) in out and seconds < 120
    summary = json.loads((work / "summary.json").read_text())
    assert summary["ok"] is True and summary["srs_insecure"] is True
    (s,) = summary["samples"]
    assert s["onchain_accepted"] and s["python_ok"] and s["event"] == "ProofVerified"
    assert s["predicted"] == s["label"]  # test digit 0 is classified correctly by the float and integer model
    assert 300_000 < s["verify_gas"] < 400_000 and s["proof_bytes"] == _proof_bytes(work)
    assert summary["accuracy"]["quantized"] > 0.95 and summary["accuracy"]["float"] > 0.95
    assert (work / "build" / "Verifier.sol").is_file() and (work / "proofs" / "sample_0.json").is_file()


def test_demo_refuses_a_non_empty_workdir(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    p, _ = _demo("--workdir", tmp_path)
    assert p.returncode == 2 and "--force" in p.stderr and "Traceback" not in p.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.sweep
@pytest.mark.parametrize("model", ["digits_vit", "char_gpt"])
def test_demo_of_a_bundled_transformer_on_the_shared_verifier(tmp_path, model):
    """The transformers' own verifiers are over EIP-170: the demo switches to the shared reusable verifier, registers
    the model's tape and every proof is accepted on chain (about a minute each; ``pytest -m sweep``)."""
    work = tmp_path / "demo"
    p, _ = _demo("--model", model, "--samples", "1", "--workdir", work, timeout=900)
    assert p.returncode == 0, f"stdout:{p.stdout}\nstderr:{p.stderr}"
    summary = json.loads((work / "summary.json").read_text())
    assert summary["model"] == model and summary["verifier_mode"] == "reusable" and summary["ok"]
    assert summary["verifier"]["runtime_size_bytes"] < 24_576


def test_demo_names_the_bundled_models():
    p, _ = _demo("--model", "no_such_model", timeout=60)
    assert p.returncode == 2 and "digits_vit" in p.stderr and "char_gpt" in p.stderr
