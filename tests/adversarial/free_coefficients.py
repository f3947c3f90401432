"""A generic cheating prover: it moves a public output and solves for the free coefficients the schedule exposes.

What a prover may choose besides the witness data (``docs/protocol.md`` §7.8): every committed witness
polynomial's window ``[N, σ + t)`` (span and tail; past it the degree check rejects), and every hidden fixed
vector's per-proof mask ``Δ_f`` at and above ``M_f`` (the link pins it only below; no degree check bounds it). A
*family* is one such window. With everything else fixed, every claim's residual ``Σ_t ⟨p_t, q_t⟩ − value`` is an
affine function of one family's coefficients and a polynomial in ρ (each power of ρ is an equation of its own,
all operands being committed before ρ). The attack samples ``m > #unknowns`` values of ρ (β, γ, λ fixed: the
cheater is even told them in advance), builds the Jacobian by finite differences, and solves over Fr
(:func:`harness.solve_mod_r`). A solution is a forgery candidate: it is proved and handed to the verifiers, which
must reject it; no solution means the family cannot balance the lie at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness import ZeroCoins, solve_mod_r

from zkchain.blocks import ARGUMENTS
from zkchain.blocks import hiding
from zkchain.blocks.common import ProverContext
from zkchain.crypto.field import R
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule


@dataclass(frozen=True)
class Family:
    """``kind`` "tail" (a witness vector's free window) or "mask" (a hidden vector's ``Δ`` from ``M_f``);
    ``start`` is the first free position, ``size`` the number of unknowns."""

    kind: str
    vector: str
    start: int
    size: int


def families(pk, values, cap: int = 64) -> list[Family]:
    """Every free window of ``pk``'s circuit: each witness vector's ``[N, σ + t)``, and each hidden vector's
    ``Δ`` from ``M_f`` up to the longest vector any claim pairs it with (a coefficient past every partner meets
    nothing), at most ``cap`` coefficients (the region is unbounded; the cap keeps the attack quadratic cost small)."""
    c, sch = pk.circuit, schedule(pk.circuit)
    out = []
    for v in c.of_kind("witness"):
        sigma, t = sch.tails[v.name]
        out.append(Family("tail", v.name, v.length, sigma + t - v.length))
    reach = _reach(pk, values)
    for f in sch.hidden:
        out.append(Family("mask", f, sch.masks[f][0], max(1, min(cap, reach - sch.masks[f][0]))))
    return out


def _reach(pk, values) -> int:
    """The longest coefficient list of any claim term (random challenges, every coin zero)."""
    vals, coeffs = _base(pk, values)
    pc = _context(pk, vals, coeffs, _challenges(random.Random(1)), [a for a in _sources(pk) if a in ARGUMENTS])
    return max(max(len(p), len(q)) for src in _sources(pk) for cl in src.prover_claims(pc) for p, q in cl.terms)


def _base(pk, values):
    """The committed polynomials with every coin zero: witness data, and ``F̃_f = F_f + r⁰_f·X^(M_f)``."""
    sch = schedule(pk.circuit)
    vals = {n: [int(x) % R for x in v] for n, v in values.items()}
    for v in pk.circuit.of_kind("fixed"):
        vals[v.name] = [int(x) % R for x in pk.fixed_values[v.name]]
    coeffs = {v.name: list(vals[v.name]) for v in pk.circuit.of_kind("witness")}
    for f in sch.hidden:
        coeffs[f] = hiding.masked(vals[f], pk.fixed_masks[f], [], sch.masks[f][0])
    return vals, coeffs


def _challenges(rng: random.Random) -> dict:
    return {k: rng.randrange(1, R) for k in ("gamma", "beta", "lambda", "rho")} | {"alpha": 1, "epsilon": 1}


def _sources(pk) -> list:
    """Everything that makes claims: the constraints, then the active arguments (logUp)."""
    return list(pk.circuit.constraints) + [a for a in ARGUMENTS if a.active(pk.circuit)]


def _reads(pk, src, name: str) -> bool:
    """Whether claim source ``src`` reads vector ``name`` (an argument reads every lookup operand and its own
    polynomials, ``table_out`` included)."""
    if src in ARGUMENTS:
        lookups = [k for k in pk.circuit.constraints if k.kind == "lookup"]
        return any(name == n for k in lookups + [src] for n, _ in k.openings(pk.circuit))
    return any(name == n for n, _ in src.openings(pk.circuit))


def _context(pk, vals, coeffs, challenges, args) -> ProverContext:
    """The prover's context after the rounds of ``args`` (``m, h, g`` from the data: no tails)."""
    pc = ProverContext(pk.circuit, dict(vals))
    pc.coeffs.update(coeffs)
    pc.challenges.update(challenges)
    for rnd in ("witness", "helpers"):
        for a in args:
            for n, entries in a.prover_round(rnd, pc, strict=False).items():
                pc.values[n] = entries
                pc.coeffs[n] = list(entries)
    return pc


def residuals(pk, vals, coeffs, challenges, sources=None) -> list[int]:
    """``Σ_t ⟨p_t, q_t⟩ − value`` of every claim of ``sources`` (default all) for these polynomials and challenges."""
    sources = _sources(pk) if sources is None else sources
    pc = _context(pk, vals, coeffs, challenges, [s for s in sources if s in ARGUMENTS])
    return [(sum(sum(x * y for x, y in zip(p, q)) for p, q in cl.terms) - cl.value) % R
            for src in sources for cl in src.prover_claims(pc)]


def _with(coeffs, fam: Family, values: list[int]) -> dict:
    out = dict(coeffs)
    poly = list(out[fam.vector])
    poly += [0] * max(0, fam.start + fam.size - len(poly))
    for i, v in enumerate(values):
        poly[fam.start + i] = (poly[fam.start + i] + v) % R
    out[fam.vector] = poly
    return out


def solve(pk, values, fam: Family, seed: int = 0, extra: int = 3) -> list[int] | None:
    """Coefficients for ``fam`` that make every claim hold for the lie ``values`` at every sampled ρ (and at a
    fresh one), or None. A claim that does not read ``fam``'s vector cannot be balanced by it: if one of those
    fails for the lie, there is no solution; the Jacobian is built over the others only."""
    rng = random.Random(seed)
    vals, coeffs = _base(pk, values)
    fixed = _challenges(rng)
    near = [s for s in _sources(pk) if _reads(pk, s, fam.vector)]
    far = [s for s in _sources(pk) if not _reads(pk, s, fam.vector)]
    if any(residuals(pk, vals, coeffs, dict(fixed, rho=rng.randrange(1, R)), far)):
        return None
    rows, rhs = [], []
    for _ in range(fam.size + extra):
        ch = dict(fixed, rho=rng.randrange(1, R))
        r0 = residuals(pk, vals, coeffs, ch, near)
        cols = []
        for k in range(fam.size):
            e = [0] * fam.size
            e[k] = 1
            rk = residuals(pk, vals, _with(coeffs, fam, e), ch, near)
            cols.append([(a - b) % R for a, b in zip(rk, r0)])
        for ci in range(len(r0)):
            rows.append([cols[k][ci] for k in range(fam.size)])
            rhs.append(-r0[ci] % R)
    sol = solve_mod_r(rows, rhs)
    if sol is None:
        return None
    ch = dict(fixed, rho=rng.randrange(1, R))
    return sol if not any(residuals(pk, vals, _with(coeffs, fam, sol), ch)) else None


class _Scripted:
    """An ``rng`` for :func:`prove` whose coins for one witness tail are given (every other coin 0)."""

    def __init__(self, pk, fam: Family, window: list[int]):
        sch = schedule(pk.circuit)
        self.coins = []
        for v in pk.circuit.of_kind("witness"):
            sigma, t = sch.tails[v.name]
            if v.name == fam.vector:
                # prove draws t coins at σ; the span [N, σ) stays 0 (a stagger span is not the prover's to fill)
                self.coins += window[sigma - v.length:]
            else:
                self.coins += [0] * t

    def randrange(self, n):
        return self.coins.pop(0) if self.coins else 0


def forged_proof(pk, values, fam: Family, sol: list[int], monkeypatch):
    """A proof of the lie ``values`` with ``fam``'s coefficients set to ``sol`` (every other coin zero)."""
    if fam.kind == "mask":
        monkeypatch.setattr(hiding, "draw_masks", lambda sch, rng: {
            f: ([0] * fam.start + sol if f == fam.vector else [0] * (sch.masks[f][0] + sch.masks[f][1]))
            for f in sch.hidden})
        return prove(pk, values, check_witness=False, rng=ZeroCoins())
    if any(sol[: schedule(pk.circuit).tails[fam.vector][0] - pk.circuit.vectors[fam.vector].length]):
        return None  # needs the stagger span, which the honest prover's coins never reach
    return prove(pk, values, check_witness=False, rng=_Scripted(pk, fam, sol))
