"""Leak attacks on the private input, as regressions (issue 15, ``docs/protocol.md`` §7).

An attacker holds one proof and the verifying key. Protocol v1 opened the private input ``x`` (64 small
integers for the digits MLP) at three public points with a deterministic commitment, so a lattice attack
(LLL on the Kannan embedding of ``Σ_i x_i p^i = x(p) mod r``, ``p`` = ζ, 1/ζ, ρ/ζ) returned ``x`` exactly.
Protocol v2 gives ``x``'s polynomial a tail of ``t = #points + 1`` uniform coefficients; the same attack must
recover nothing. The control proves with every zero-knowledge coin 0 (a v1-like proof, :class:`ZeroCoins`): the
attack must succeed there, so these tests fail on a build whose tails are removed or too short.

The simulation test is the per-vector core of §7's simulator: for the proof's own input tail and *another*
input ``x'``, there is a tail that gives ``x̃'`` the same KZG commitment (computed on the SRS) and the same value at
every point the proof opens ``x`` at; with one tail coefficient fewer there is none.
"""

from __future__ import annotations

import random

import flint
import pytest

from harness import Recorder, ZeroCoins, build, solve_mod_r

from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.kzg import commit
from zkchain.crypto.srs import dev_tau
from zkchain.models import bundled_model_dir
from zkchain.protocol.schedule import schedule
from zkchain.prover.prove import prove
from zkchain.verifier.loader import NativeLoader
from zkchain.verifier.verify import run

INPUT = "input"


@pytest.fixture(scope="module")
def mlp():
    d = bundled_model_dir("digits_mlp")
    b = build("digits_mlp", d / "model.onnx", d / "calibration.npy")
    return b, b.compiled.vector_values(b.model.execute(b.x_int))


def opened_points(vk, proof, name: str) -> list[tuple[int, int]]:
    """``(point value, x(point))`` for every point the proof opens ``name`` at (the transcript replayed)."""
    sch = schedule(vk.circuit)
    ch = run(NativeLoader(vk, proof, sch, get_backend()), vk)
    rho, zeta = int(ch["rho"]), int(ch["zeta"])
    zi = pow(zeta, R - 2, R)
    at = {"zeta": zeta, "zeta_inv": zi, "rho_zeta_inv": rho * zi % R}
    return [(at[p], proof.evaluations[p][list(names).index(name)])
            for p, names in sch.opened.items() if name in names]


def lll_recover(eqs: list[tuple[int, int]], n: int, lo: int, hi: int) -> list[int] | None:
    """A short ``x ∈ [lo, hi]^n`` with ``Σ_i x_i p^i ≡ v (mod r)`` for every ``(p, v)``, by LLL (python-flint) on
    the Kannan embedding (entries centred on ``(lo + hi)/2``), or None if the reduced basis has none."""
    mid, m = (lo + hi) // 2, len(eqs)
    k = max(hi - mid, mid - lo)
    w = 2 ** 40 * n  # weight of the congruence columns: a short vector must satisfy them exactly
    rows = [[int(i == j) for j in range(n)] + [w * pow(p, i, R) for p, _ in eqs] + [0] for i in range(n)]
    rows += [[0] * n + [w * R * int(c == j) for j in range(m)] + [0] for c in range(m)]
    rows.append([0] * n + [-w * ((v - mid * sum(pow(p, i, R) for i in range(n))) % R) for p, v in eqs] + [k])
    red = flint.fmpz_mat(rows).lll()
    for i in range(red.nrows()):
        row = [int(red[i, j]) for j in range(red.ncols())]
        if abs(row[-1]) == k and not any(row[n:n + m]):
            s = 1 if row[-1] == k else -1
            return [s * v + mid for v in row[:n]]
    return None


def test_lll_recovers_the_input_from_a_proof_without_coins(mlp):
    b, vals = mlp
    proof = prove(b.pk, vals, rng=ZeroCoins())
    eqs = opened_points(b.pk.vk, proof, INPUT)
    assert len(eqs) == 3  # ζ, 1/ζ, ρ/ζ: 3·254 bits against 64·9 bits of unknowns
    assert lll_recover(eqs, 64, 0, 511) == vals[INPUT]


def test_lll_recovers_nothing_from_a_v2_proof(mlp):
    b, vals = mlp
    for seed in range(3):
        proof = prove(b.pk, vals, rng=random.Random(seed))
        assert lll_recover(opened_points(b.pk.vk, proof, INPUT), 64, 0, 511) != vals[INPUT]


def _tail_solution(points: list[int], sigma: int, t: int, rhs: list[int]):
    """Tail ``c`` (``t`` coefficients from ``X^σ``) with ``Σ_j c_j p^(σ+j) = rhs_p`` for every point, or None."""
    return solve_mod_r([[pow(p, sigma + j, R) for j in range(t)] for p in points], rhs)


def test_another_input_explains_the_input_commitment_and_evaluations(mlp):
    """Exact simulation of the input's part of a proof: x' ≠ x, a solved tail, the same commitment bytes and
    evaluations; one tail coefficient fewer and the system has no solution."""
    b, vals = mlp
    pk, sch = b.pk, schedule(b.pk.circuit)
    rng = Recorder(5)
    proof = prove(pk, vals, rng=rng)
    # the witness tails are the first coins, in circuit order
    offset = 0
    for v in pk.circuit.of_kind("witness"):
        if v.name == INPUT:
            break
        offset += sch.tails[v.name][1]
    sigma, t = sch.tails[INPUT]
    x = vals[INPUT]
    tilde = list(x) + [0] * (sigma - len(x)) + rng.coins[offset:offset + t]
    srs = pk.srs()
    be = get_backend()
    assert be.g1_to_bytes(commit(srs, tilde)) == proof.commitments[INPUT]

    x2 = list(x)
    j = next(i for i, v in enumerate(x) if v != x[0])
    x2[0], x2[j] = x[j], x[0]  # another input with the same pixel multiset
    tau = dev_tau("adv")
    points = [tau] + [p for p, _ in opened_points(pk.vk, proof, INPUT)]
    assert len(points) == t  # t = #points + 1: exactly enough

    def delta(p):  # (x − x')(p): what the new tail must make up at p
        return sum((a - c) * pow(p, i, R) for i, (a, c) in enumerate(zip(x, x2))) % R

    old_tail = lambda p: sum(c * pow(p, sigma + i, R) for i, c in enumerate(tilde[sigma:])) % R  # noqa: E731
    rhs = [(old_tail(p) + delta(p)) % R for p in points]
    tail2 = _tail_solution(points, sigma, t, rhs)
    assert tail2 is not None
    tilde2 = list(x2) + [0] * (sigma - len(x2)) + tail2
    assert be.g1_to_bytes(commit(srs, tilde2)) == proof.commitments[INPUT]
    for p, v in opened_points(pk.vk, proof, INPUT):
        assert sum(c * pow(p, i, R) for i, c in enumerate(tilde2)) % R == v
    # one coefficient fewer: t equations, t − 1 unknowns
    assert _tail_solution(points, sigma, t - 1, rhs) is None
