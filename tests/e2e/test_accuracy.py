"""Verifiable accuracy (issue 12 item 2): ``setup --dataset X --labels y`` commits a test set, ``prove-accuracy``
proves "argmax(model(x_i)) = y_i for exactly k of the N samples" (ties to the lowest index), and both verifiers
hold a proof to the committed set and to the true count.

The default suite runs 16 test digits through the bundled digits MLP (one of them is misclassified, so the count
is a real one: 15 of 16). Attacks, each judged by the Python verifier and the generated Solidity contract
(``verifyAccuracy`` must revert):

- the public count of an honest proof moved to k+1 (a consistent proof file);
- a cheating prover (witness checks off) that moves a misclassified sample's predicted class to its label and claims
  k+1, with the row maximum chosen so that only ``d ∘ A = 0`` stands in its way: rejected, and accepted by the Python
  verifier once that one constraint is removed from the circuit (the control: the test fails without it);
- a prover that runs the model on other samples than the committed ones (same key, its own data in the proof);
- a prover that flips the label of the misclassified sample (same key, its own labels), claiming k+1;
- a mutated proof (one commitment, one evaluation).

``-m sweep``: the whole 450-digit test split, ``k = 438`` = predict's count, accepted on the embedded chain.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from clirun import zk

from zkchain.compiler.accuracy import COUNT, DATASET, ONEHOT, labelled_set, onehot_vector, widen_bounds
from zkchain.compiler.lower import lower
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.models import bundled_model_dir
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.quant.accuracy import correct
from zkchain.quant.compile import compile_model
from zkchain.verifier.verify import verify

N = 16
DIGITS = bundled_model_dir("digits_mlp")


def _logits_vector(comp, model) -> str:
    """The committed vector of the logits (the model output's tensor recipe)."""
    return next(n for n, r in comp.witness.recipes.items()
                if getattr(r, "tensor", None) == model.output_names[0] and not r.bits)


def _keys(model, ts, drop: str | None = None):
    """Lower the accuracy circuit of ``ts`` (without the constraint named ``drop``) and make its keys."""
    comp = lower(model, test_set=ts)
    if drop is not None:
        comp.circuit.constraints = [k for k in comp.circuit.constraints if getattr(k, "name", "") != drop]
    pk = setup(comp.circuit, comp.fixed_values, SRS.dev(required_degree(comp.circuit), seed="acc"), "dev:acc")
    return comp, pk


@pytest.fixture(scope="module")
def acc():
    model = compile_model(DIGITS / "model.onnx", batch=N)
    x, y = np.load(DIGITS / "test_inputs.npy"), np.load(DIGITS / "test_labels.npy")
    ts = labelled_set(model, x[:N], y[:N])
    witness = model.execute(ts.x_int)
    widen_bounds(model, witness)
    comp, pk = _keys(model, ts)
    values = comp.vector_values(witness)
    logits = np.asarray(witness[model.output_names[0]]).reshape(N, -1)
    ok = correct(logits, y[:N])
    honest = prove(pk, values)
    return {"model": model, "ts": ts, "comp": comp, "pk": pk, "values": values, "ok": ok, "honest": honest,
            "x": x, "y": y, "z": _logits_vector(comp, model)}


@pytest.fixture(scope="module")
def contract(acc):
    """``accepts(proof)`` through the deployed ``verifyAccuracy`` (None without solc-js)."""
    from zkchain.errors import SetupError
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier

    vk = acc["pk"].vk
    try:
        compiled = compile_verifier(vk, "AccuracyVerifier")
    except SetupError as exc:
        print(f"no Solidity check: {exc}")
        return None
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=15_000_000)

    def accepts(proof):
        pb, pub = calldata(proof, vk)
        out = chain.try_call(address, compiled, "verifyAccuracy", pb, pub, gas=5_000_000)
        assert out.success or "ProofRejected" in (out.revert_reason or ""), out
        return out.value if out.success else None

    return accepts


def _judge(acc, contract, proof):
    """(Python verdict, Solidity (correct, total) or None for a revert)."""
    return bool(verify(acc["pk"].vk, proof)), (contract(proof) if contract else "no solc")


def test_the_proof_counts_the_correct_samples(acc, contract):
    k = int(acc["ok"].sum())
    assert 0 < k < N  # a real count: the digits MLP gets one of the first 16 test digits wrong
    assert acc["honest"].public == {COUNT: [k]}
    assert _judge(acc, contract, acc["honest"]) == (True, (k, N) if contract else "no solc")


def test_a_claim_of_k_plus_one_is_rejected(acc, contract):
    forged = dataclasses.replace(acc["honest"], public={COUNT: [int(acc["ok"].sum()) + 1]})
    assert _judge(acc, contract, forged)[0] is False
    if contract:
        assert contract(forged) is None


def _cheat_one_sample(acc):
    """Vectors claiming k+1: a misclassified sample's predicted class moved to its label, with a row maximum
    ``m_i = max_j (Z_ij + [j < y_i])`` that keeps every gap ``d_i = m_i − Z_i − T_i`` in range, and the hit and the
    count following. Only ``d ∘ A = 0`` is false (the gap at the label is ``m_i − Z_{i,y} > 0``)."""
    i = int(np.flatnonzero(~acc["ok"])[0])
    C = acc["ts"].classes
    y = int(acc["ts"].labels[i])
    v = {n: list(x) for n, x in acc["values"].items()}
    signed = [a - R if a > R // 2 else a for a in v[acc["z"]][i * C:(i + 1) * C]]
    m = max(z + (j < y) for j, z in enumerate(signed))
    v["acc.max"][i] = m
    for j in range(C):
        v["acc.argmax"][i * C + j] = int(j == y)
        v["acc.gap"][i * C + j] = m - signed[j] - int(j < y)
        v["acc.hit"][i * C + j] = int(j == y)
    assert min(v["acc.gap"][i * C:(i + 1) * C]) >= 0 and v["acc.gap"][i * C + y] > 0
    v[COUNT] = [int(acc["ok"].sum()) + 1]
    return v


def test_a_prover_moving_a_wrong_prediction_to_its_label_is_rejected(acc, contract):
    forged = prove(acc["pk"], _cheat_one_sample(acc), check_witness=False)
    assert forged.public[COUNT] == [int(acc["ok"].sum()) + 1]
    assert _judge(acc, contract, forged) == (False, None if contract else "no solc")


def test_the_forgery_is_accepted_without_the_no_gap_constraint(acc):
    """Control: the same cheating witness against keys whose circuit lacks ``d ∘ A = 0`` verifies."""
    comp, pk = _keys(acc["model"], acc["ts"], drop="accuracy: the predicted class has no gap")
    assert len(comp.circuit.constraints) == len(acc["comp"].circuit.constraints) - 1
    forged = prove(pk, _cheat_one_sample(acc), check_witness=False)
    assert verify(pk.vk, forged).accepted


def _with_fixed(acc, **vectors):
    """The honest proving key with some public-data vectors replaced (the verifying key unchanged)."""
    pk = acc["pk"]
    return dataclasses.replace(pk, fixed_values={**pk.fixed_values, **vectors})


def test_other_samples_than_the_committed_ones_are_rejected(acc, contract):
    model = acc["model"]
    other = labelled_set(model, acc["x"][N:2 * N], acc["y"][N:2 * N])
    data = {DATASET: [int(v) % R for v in other.x_int.reshape(-1)], ONEHOT: acc["pk"].fixed_values[ONEHOT]}
    pk = _with_fixed(acc, **{DATASET: data[DATASET]})
    values = acc["comp"].witness.vector_values(model.execute(other.x_int), data)
    forged = prove(pk, values, check_witness=False)
    assert _judge(acc, contract, forged) == (False, None if contract else "no solc")


def test_a_changed_label_is_rejected(acc, contract):
    """The misclassified sample relabelled as the class the model predicts: an honest run on those labels
    counts k+1, but the key commits the true labels."""
    model, ts = acc["model"], acc["ts"]
    i = int(np.flatnonzero(~acc["ok"])[0])
    witness = model.execute(ts.x_int)
    y = ts.labels.copy()
    y[i] = int(np.argmax(np.asarray(witness[model.output_names[0]]).reshape(N, -1)[i]))
    onehot = onehot_vector(y, ts.classes)
    data = {DATASET: acc["pk"].fixed_values[DATASET], ONEHOT: onehot}
    values = acc["comp"].witness.vector_values(witness, data)
    assert values[COUNT] == [int(acc["ok"].sum()) + 1]
    forged = prove(_with_fixed(acc, **{ONEHOT: onehot}), values, check_witness=False)
    assert _judge(acc, contract, forged) == (False, None if contract else "no solc")


def test_a_mutated_proof_is_rejected(acc, contract):
    honest = acc["honest"]
    c = dict(honest.commitments)
    c["acc.argmax"], c["acc.hit"] = c["acc.hit"], c["acc.argmax"]
    ev = {p: list(v) for p, v in honest.evaluations.items()}
    ev["zeta"][0] = (ev["zeta"][0] + 1) % R
    for forged in (dataclasses.replace(honest, commitments=c), dataclasses.replace(honest, evaluations=ev)):
        assert _judge(acc, contract, forged) == (False, None if contract else "no solc")


def test_cli_setup_prove_verify_check_and_predict(tmp_path):
    """The user's path: compile --batch N, setup --dataset/--labels, prove-accuracy, verify, check-dataset, and
    predict --labels counting the same k; bad input exits 2 with one line."""
    x, y = np.load(DIGITS / "test_inputs.npy")[:N], np.load(DIGITS / "test_labels.npy")[:N]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    y2 = y.copy()
    y2[3] = (y2[3] + 1) % 10
    np.save(tmp_path / "y2.npy", y2)
    np.save(tmp_path / "x10.npy", x[:10])
    from zkchain import api

    b = tmp_path / "b"
    api.compile(DIGITS / "model.onnx", b, batch=N)
    api.setup(b)  # first an inference build: api.prove_batch names each sample's class by the same rule
    _, info = api.prove_batch(b, x)
    assert len(info["rows"]) == N and info["predicted"] == np.argmax(np.asarray(info["rows"]), axis=1).tolist()
    short = zk("setup", b, "--dataset", tmp_path / "x10.npy", "--labels", tmp_path / "y.npy", "--force", check=2)
    assert "--batch 10" in short.stderr and "Traceback" not in short.stderr
    s = zk("setup", b, "--dataset", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--force", check=0)
    digest = next(ln.split()[-1] for ln in s.stdout.splitlines() if ln.startswith("dataset digest"))
    p = zk("prove-accuracy", b, "-o", tmp_path / "acc.json", check=0)
    k = json.loads((tmp_path / "acc.json").read_text())["accuracy"]["correct"]
    assert f"accuracy: {k} of {N} correct" in p.stdout and digest in p.stdout
    v = zk("verify", b, tmp_path / "acc.json", check=0)
    assert f"accuracy: {k} of {N} correct on test set {digest}" in v.stdout
    pred = json.loads(zk("predict", b, "--input", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", check=0).stdout)
    assert (pred["correct"], pred["total"]) == (k, N) and pred["predicted"] == info["predicted"]
    bad = zk("check-dataset", b / "vk.json", "--dataset", tmp_path / "x.npy", "--labels", tmp_path / "y2.npy", check=1)
    assert "different test set" in bad.stderr and "data.onehot" in bad.stderr
    assert api.check_dataset(b, x, y).match  # the same set, recomputed from vk.json alone
    wrong = zk("prove", b, "--input", tmp_path / "x.npy", "-o", tmp_path / "p.json", check=2)
    assert "prove-accuracy" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.sweep
def test_the_whole_test_split_proves_its_real_accuracy(tmp_path):
    """450 digits in one proof: k = predict's count = 438 (97.33 %, the float model's test accuracy too), accepted
    by the Python verifier and by verifyAccuracy on the embedded chain."""
    from zkchain import api
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier

    x, y = np.load(DIGITS / "test_inputs.npy"), np.load(DIGITS / "test_labels.npy")
    b = tmp_path / "b"
    res = api.compile(DIGITS / "model.onnx", b, batch=len(x))
    expected = int(correct(np.asarray(res.model.predict(x.reshape(res.model.input_shape))).reshape(len(x), -1), y).sum())
    import zkchain

    vk = zkchain.setup(b, dataset=x, labels=y)  # the facade: the same steps as the CLI
    acc = zkchain.prove_accuracy(b)
    assert (acc.correct, acc.total) == (expected, len(x)) and expected == 438
    assert zkchain.verify(b, acc).accepted
    proof = acc.proof
    compiled = compile_verifier(vk, "DigitsAccuracy")
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=15_000_000)
    assert chain.call(address, compiled, "verifyAccuracy", *calldata(proof, vk), gas=10_000_000) == (438, 450)


def test_a_two_class_model_on_the_breast_cancer_set(tmp_path):
    """A breast-cancer-sized MLP (30 → 16 → 2, least-squares readout on standardised features, scikit-learn's
    bundled set): two classes, the smallest count gadget; k equals predict's count and the proof verifies."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.datasets import load_breast_cancer

    from zkchain import api

    data = load_breast_cancer()
    x = ((data.data - data.data.mean(0)) / data.data.std(0)).astype(np.float32)
    y = data.target.astype(np.int64)
    rng = np.random.default_rng(0)
    W1 = (rng.normal(size=(30, 16)) / np.sqrt(30)).astype(np.float32)
    h = np.maximum(x @ W1, 0)
    W2 = np.linalg.lstsq(np.c_[h, np.ones(len(h))], np.eye(2)[y], rcond=None)[0].astype(np.float32)
    mk = helper.make_node
    g = helper.make_graph(
        [mk("MatMul", ["input", "W1"], ["h"]), mk("Relu", ["h"], ["a"]), mk("MatMul", ["a", "W2"], ["o"]),
         mk("Add", ["o", "b2"], ["output"])], "bc",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 30])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(W2[:16], "W2"),
         numpy_helper.from_array(W2[16], "b2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "bc.onnx"))
    np.save(tmp_path / "cal.npy", x[:200])
    n = 32
    b = tmp_path / "b"
    res = api.compile(tmp_path / "bc.onnx", b, calibration=tmp_path / "cal.npy", batch=n)
    expected = int(correct(np.asarray(res.model.predict(x[300:300 + n])).reshape(n, -1), y[300:300 + n]).sum())
    api.setup(b, dataset=x[300:300 + n], labels=y[300:300 + n])
    proof, info = api.prove_accuracy(b)
    assert info["correct"] == expected and 0 < expected <= n and info["total"] == n
    assert api.verify(b, proof).accepted
