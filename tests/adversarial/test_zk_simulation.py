"""Exact simulation test (issue 15, ``docs/protocol.md`` §7.7): another witness explains a whole proof.

``z = x·W + b`` with a zero first row of ``W``: the inputs ``x`` and ``x'`` (``x'_0 ≠ x_0``) have the same public
output. For a proof of ``x`` made with coins ``c`` we solve for coins ``c'`` (the tail of ``x̃'`` and the mask
``S'``; the weight mask ``Δ`` unchanged) with which the honest prover, run on ``x'``, writes the *byte-identical*
proof. So the proof carries no information about which of the two inputs was used — the simulator argument made
concrete. With one tail coefficient fewer the linear system has no solution. The weight case: ``W₂`` differs from
``W`` in the row ``x_0 = 0`` leaves unread; a solved VK mask gives the same VK, and solved coins (the weight mask
``Δ`` and ``S``) the same proof; one mask coefficient fewer, and no coins do.

How the coins are solved: with the challenges held at the proof's values, every value the proof reveals — each
committed polynomial at τ (the dev SRS's τ is public, ``dev_tau``) and each evaluation — is an affine function of
the coins; the prover itself, run once per coin, gives the map. A proof with the same commitments has the same
transcript, so the solution, proved for real (no patches), reproduces the proof exactly.
"""

from __future__ import annotations

import random

import pytest
from harness import Recorder, matmul_circuit, solve_mod_r

from zkchain.blocks.matmul import GAP, weight_vector
from zkchain.crypto import transcript
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS, dev_tau
from zkchain.evm.verifier_gen import calldata
from zkchain.prover import parallel
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.verifier.verify import verify

K, N = 4, 3
W = [[0] * N] + [[(5 * l + 3 * j) % 7 - 3 for j in range(N)] for l in range(1, K)]  # row 0 zero: x_0 is unread
BIAS = [2, -3, 5]
SEED = "simulation"


def _values(x):
    return {"x": x, "z": [sum(x[l] * W[l][j] for l in range(K)) + BIAS[j] for j in range(N)]}


@pytest.fixture(scope="module")
def pk():
    c = matmul_circuit(K, N)
    return setup(c, {"W": weight_vector(W, BIAS)}, SRS.dev(required_degree(c) + 2 * GAP, seed=SEED), f"dev:{SEED}",
                 rng=random.Random(3))


class Replay:
    """An rng handing out given coins in order (and recording what it was asked for)."""

    def __init__(self, coins):
        self.coins, self.i = list(coins), 0

    def randrange(self, n):
        v = self.coins[self.i]
        self.i += 1
        return v


def _revealed(pk, values, coins, fixed_challenges, monkeypatch) -> list[int]:
    """The proof's revealed values as field elements — every polynomial the prover commits, evaluated at τ, then
    every evaluation — with the challenges held at ``fixed_challenges``."""
    tau, at_tau = dev_tau(SEED), []
    real_commit = parallel.ProverPool.commit_many

    def commit_many(self, vectors):
        at_tau.extend(sum(c * pow(tau, i, R) for i, c in enumerate(v)) % R for v in vectors)
        return real_commit(self, vectors)

    with monkeypatch.context() as m:
        m.setattr(parallel.ProverPool, "commit_many", commit_many)
        m.setattr(transcript.Transcript, "challenge", lambda self, label: fixed_challenges[label])
        proof = prove(pk, values, rng=Replay(coins))
    return at_tau + [v for p in proof.evaluations for v in proof.evaluations[p]]


def _explain(pk, values, pk2, values2, free_of, monkeypatch):
    """Prove ``values`` under ``pk`` with recorded coins, then solve for coins with which the prover on
    ``values2`` under ``pk2`` reveals the same values; ``free_of(t_x, t_delta, n)`` lists the coins it may
    change. Returns (proof, solved coins or None)."""
    sch = schedule(pk.circuit)
    rec, seen = Recorder(15), {}
    real_challenge = transcript.Transcript.challenge

    def recording(self, label):
        seen[label] = real_challenge(self, label)
        return seen[label]

    with monkeypatch.context() as m:
        m.setattr(transcript.Transcript, "challenge", recording)
        proof = prove(pk, values, rng=rec)
    coins = rec.coins
    t_x, t_delta = sch.tails["x"][1], sum(t for _, t in sch.masks.values())
    assert len(coins) == t_x + t_delta + 5, "coin order: x's tail, the weight masks Δ, then S (5)"
    free = free_of(t_x, t_delta, len(coins))
    base = _revealed(pk2, values2, coins, seen, monkeypatch)
    target = _revealed(pk, values, coins, seen, monkeypatch)
    assert base != target, "the two witnesses reveal different values under the same coins"
    columns = []
    for i in free:
        bumped = list(coins)
        bumped[i] = (bumped[i] + 1) % R
        columns.append([(v - b) % R for v, b in zip(_revealed(pk2, values2, bumped, seen, monkeypatch), base)])
    rows = [list(r) for r in zip(*columns)]
    d = solve_mod_r(rows, [(t - b) % R for t, b in zip(target, base)])
    if d is None:
        return proof, None
    solved = list(coins)
    for i, di in zip(free, d):
        solved[i] = (solved[i] + di) % R
    return proof, solved


def _tail_and_mask(drop: int):
    """x's tail (less its last ``drop`` coefficients) and S; the weight mask Δ stays."""
    return lambda t_x, t_delta, n: list(range(t_x - drop)) + list(range(t_x + t_delta, n))


def _weight_mask_and_s(drop: int):
    """The weight mask Δ (less ``drop`` coefficients) and S; x's tail stays (both free would make the map
    bilinear: the matmul claim multiplies them)."""
    return lambda t_x, t_delta, n: list(range(t_x, t_x + t_delta - drop)) + list(range(t_x + t_delta, n))


X1, X2 = [1, -2, 3, 2], [-7, -2, 3, 2]


def test_another_input_gives_the_byte_identical_proof(pk, monkeypatch):
    assert _values(X1)["z"] == _values(X2)["z"]
    proof, coins = _explain(pk, _values(X1), pk, _values(X2), _tail_and_mask(0), monkeypatch)
    assert coins is not None, "the coins that explain the proof with the other input exist"
    again = prove(pk, _values(X2), rng=Replay(coins))  # the real prover, real transcript, no patches
    assert calldata(again, pk.vk) == calldata(proof, pk.vk)
    assert verify(pk.vk, again)


def test_with_one_tail_coefficient_fewer_no_coins_explain_it(pk, monkeypatch):
    _, coins = _explain(pk, _values(X1), pk, _values(X2), _tail_and_mask(1), monkeypatch)
    assert coins is None


def _other_weights(pk):
    """Weights ``W₂`` that differ from ``W`` in row 0 (which ``x_0 = 0`` leaves unread) and a VK mask ``r⁰′``
    that gives them the same VK commitment: ``r⁰′ = r⁰ + (W' − W₂')(τ)/τ^M``. Returns (pk₂, W₂)."""
    W2 = [row[:] for row in W]
    W2[0] = [4, -1, 6]
    a, b = weight_vector(W, BIAS), weight_vector(W2, BIAS)
    tau, (m, _) = dev_tau(SEED), schedule(pk.circuit).masks["W"]
    diff = sum((u - v) * pow(tau, i, R) for i, (u, v) in enumerate(zip(a, b))) % R
    r0 = (pk.fixed_masks["W"] + diff * pow(pow(tau, m, R), R - 2, R)) % R
    pk2 = setup(pk.circuit, {"W": b}, pk.srs(), f"dev:{SEED}", rng=Replay([r0]))
    return pk2, W2


def test_other_weights_give_the_same_vk_and_the_byte_identical_proof(pk, monkeypatch):
    """Two weight sets with equal outputs on x: the same VK (a solved VK mask) and, with solved coins, the
    byte-identical proof — a proof says nothing about the weights beyond the outputs."""
    x = [0, -2, 3, 2]
    pk2, W2 = _other_weights(pk)
    assert pk2.vk.digest == pk.vk.digest and pk2.fixed_values["W"] != pk.fixed_values["W"]
    v2 = {"x": x, "z": [sum(x[l] * W2[l][j] for l in range(K)) + BIAS[j] for j in range(N)]}
    assert v2["z"] == _values(x)["z"]
    proof, coins = _explain(pk, _values(x), pk2, v2, _weight_mask_and_s(0), monkeypatch)
    assert coins is not None
    again = prove(pk2, v2, rng=Replay(coins))
    assert calldata(again, pk.vk) == calldata(proof, pk.vk)
    _, fewer = _explain(pk, _values(x), pk2, v2, _weight_mask_and_s(1), monkeypatch)
    assert fewer is None, "with one weight-mask coefficient fewer no coins explain the proof"
