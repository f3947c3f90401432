"""Batch proofs (issue 12): ``zkchain compile --batch 64`` makes a circuit for 64 samples, one proof covers 64
real digits with the weights opened once, and both verifiers hold every output row to its own sample.

Attacks on the public output of an honest batch proof (each a consistent proof file, the derived fields
rewritten through ``Proof.save``): two rows swapped, and one row replaced by the row of a sample from another
batch — Python (``zkchain verify``, exit 1) and the generated Solidity verifier both reject.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from clirun import zk

from zkchain.models import bundled_model_dir

N = 64


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = bundled_model_dir("digits_mlp")
    tmp = tmp_path_factory.mktemp("batch")
    build = tmp / "build"
    out = zk("compile", d / "model.onnx", "-o", build, "--batch", N, check=0)
    assert "grouped 64 per batch input" in out.stderr + out.stdout
    zk("setup", build, check=0)
    x, labels = np.load(d / "test_inputs.npy"), np.load(d / "test_labels.npy")
    np.save(tmp / "a.npy", x[:N])
    np.save(tmp / "b.npy", x[N:2 * N])
    for name in ("a", "b"):
        zk("prove", build, "--input", tmp / f"{name}.npy", "-o", tmp / f"{name}.json", check=0)
    return {"build": build, "tmp": tmp, "labels": labels}


def _load(b, name):
    from zkchain.protocol.proof import Proof
    from zkchain.protocol.vk import VerifyingKey

    vk = VerifyingKey.load(b["build"] / "vk.json")
    return vk, Proof.load(b["tmp"] / name, vk)


def _rows(proof) -> tuple[str, np.ndarray]:
    (name, values), = proof.public.items()
    return name, np.asarray(values, dtype=object).reshape(N, -1)


def test_one_proof_of_64_digits_verifies_and_predicts_each_row(batch):
    v = zk("verify", batch["build"], batch["tmp"] / "a.json", check=0)
    assert "accepted" in v.stdout
    _, proof = _load(batch, "a.json")
    _, rows = _rows(proof)
    assert rows.shape == (N, 10)
    predicted = [int(np.argmax(r.astype(np.int64))) for r in rows]
    assert np.mean(np.asarray(predicted) == batch["labels"][:N]) > 0.9  # the digits MLP's accuracy, row by row
    out = json.loads(zk("predict", batch["build"], "--input", batch["tmp"] / "a.npy", check=0).stdout)["outputs"]
    assert len(out) == N and [int(np.argmax(r)) for r in out] == predicted  # predict: one row per sample too
    assert json.loads((batch["build"] / "vk.json").read_text())["circuit"]["meta"]["batch"] == N


def _forged(batch, rows_of):
    vk, proof = _load(batch, "a.json")
    name, rows = _rows(proof)
    rows = rows_of(rows)
    proof.public[name] = [int(v) for v in rows.reshape(-1)]
    return vk, proof


def test_swapped_rows_and_a_foreign_row_are_rejected_by_python_and_solidity(batch, tmp_path):
    from zkchain.errors import SetupError
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier

    _, other = _load(batch, "b.json")
    _, other_rows = _rows(other)

    def swap(rows):
        rows = rows.copy()
        rows[[0, 1]] = rows[[1, 0]]
        return rows

    def foreign(rows):
        rows = rows.copy()
        rows[3] = other_rows[0]  # an honest output row, of a sample this proof does not cover
        return rows

    try:
        chain = Chain.embedded()
        vk, honest = _load(batch, "a.json")
        compiled = compile_verifier(vk, "BatchVerifier")
        address, _ = chain.deploy(compiled, gas=15_000_000)
    except SetupError as exc:  # no solc-js: Python only
        chain = None
        print(f"no Solidity check: {exc}")

    def solidity_accepts(vk, proof) -> bool:
        pb, pub = calldata(proof, vk)
        out = chain.try_call(address, compiled, "verifyProof", pb, pub, gas=5_000_000)
        return bool(out.success and out.value)

    if chain is not None:
        assert solidity_accepts(vk, honest)
    for label, change in (("swapped", swap), ("foreign", foreign)):
        vk, forged = _forged(batch, change)
        assert forged.public != honest.public
        path = tmp_path / f"{label}.json"
        forged.save(path, vk)
        v = zk("verify", batch["build"], path)
        assert v.returncode == 1 and "rejected" in v.stdout + v.stderr, (label, v.stdout, v.stderr)
        if chain is not None:
            assert not solidity_accepts(vk, forged), label


def test_a_batch_build_names_the_sample_count_when_the_input_is_short(batch, tmp_path):
    x = np.load(bundled_model_dir("digits_mlp") / "test_inputs.npy")[:10]
    np.save(tmp_path / "short.npy", x)
    p = zk("prove", batch["build"], "--input", tmp_path / "short.npy", "-o", tmp_path / "p.json", check=2)
    assert "proves 64 samples per proof" in p.stderr and "holds 10" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "p.json").exists()
