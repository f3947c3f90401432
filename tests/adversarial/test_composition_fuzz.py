"""The composition fuzzer: random small graphs from every op the compiler accepts (``fuzz_graphs.py``).

For each graph: it compiles, or the compiler refuses it with a clear error (never a traceback); whatever compiles
sets up and proves honestly, and both verifiers accept. Then it is attacked twice: (1) every committed vector
perturbed once, everything downstream recomputed (``harness.sweep``); (2) the public output moved by one and every
free window the schedule exposes — each witness vector's span and tail, each hidden vector's mask from ``M_f``
— solved for, one at a time (``free_coefficients.py``); a solution is proved and must be rejected by Python and
Solidity. CI runs a fixed subset; ``pytest -m sweep -k fuzz`` runs 300 graphs and prints the counts.
"""

from __future__ import annotations

import collections

import numpy as np
import onnx
import pytest
from free_coefficients import families, forged_proof, solve
from fuzz_graphs import random_graph
from harness import SMALL, build, judge, sweep

from zkchain.errors import ZkchainError

CI_SEEDS = range(8)


def _run(seed: int, tmp_path, solidity, monkeypatch, counts: collections.Counter, on_chain: bool = True) -> None:
    model, shape, desc = random_graph(seed)
    onnx.save(model, str(tmp_path / "model.onnx"))
    np.save(tmp_path / "cal.npy", np.random.default_rng(seed).normal(size=(32,) + shape[1:]).astype(np.float32))
    counts["graphs"] += 1
    try:
        b = build(f"fuzz{seed}", tmp_path / "model.onnx", tmp_path / "cal.npy", config=SMALL)
    except ZkchainError as exc:  # refused with a message (unsupported shape or padding): fail closed
        assert str(exc) and "Traceback" not in str(exc)
        counts["refused"] += 1
        return
    counts["proved"] += 1
    sol = solidity(b) if on_chain else None
    n = len(b.compiled.circuit.of_kind("witness"))
    counts["tampers"] += sweep(b, sol, per_vector=1, min_lies=n // 2)  # also: the honest proof is accepted by both
    values = b.compiled.vector_values(b.model.execute(b.x_int))
    out = next(v.name for v in b.compiled.circuit.public("output"))
    lie = {k: list(v) for k, v in values.items()}
    lie[out][0] += 1
    for fam in families(b.pk, lie):
        counts[f"{fam.kind} windows"] += 1
        counts["unknowns"] += fam.size
        found = solve(b.pk, lie, fam, seed=seed)
        if found is None:
            continue
        counts["solved"] += 1
        proof = forged_proof(b.pk, lie, fam, found, monkeypatch)
        assert proof is not None, f"graph {seed} ({desc}): {fam} balances a moved output through its stagger span"
        verdict = judge(b, proof, sol)
        assert not any(verdict), f"graph {seed} ({desc}): moved output accepted via {fam}: {verdict}"
        monkeypatch.undo()


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_random_composition_proves_and_resists(seed, tmp_path, solidity, monkeypatch):
    counts = collections.Counter()
    _run(seed, tmp_path, solidity, monkeypatch, counts)
    if counts["proved"]:
        assert counts["mask windows"] + counts["tail windows"] and not counts["solved"]


@pytest.mark.sweep
def test_composition_fuzz_long(tmp_path_factory, solidity, monkeypatch):
    """300 graphs (every fifth also on chain); prints the counts."""
    counts = collections.Counter()
    for seed in range(1000, 1300):
        _run(seed, tmp_path_factory.mktemp(f"g{seed}"), solidity, monkeypatch, counts, on_chain=seed % 5 == 0)
    print("\ncomposition fuzz:", dict(counts))
    assert counts["graphs"] == 300 and counts["proved"] >= 250
