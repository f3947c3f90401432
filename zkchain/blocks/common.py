"""Shared vocabulary of the basic blocks: opening points, the prover's and the verifier's view of one proof.

Every block's verifier equation is written over evaluations of committed polynomials at four global points
(``docs/protocol.md`` §4): ``ρ`` (linear relations, block outputs), ``ζ`` (inner-product left sides, degree
checks), ``1/ζ`` (inner-product right sides) and ``ρ/ζ`` (Hadamard and lookup right sides). A whole model opens
at these four points only, so the proof carries four KZG opening proofs whatever its size.

Every point a verifier equation evaluates anything at is a monomial ``ρ^a·ζ^(−b)`` (:data:`POINT_MONOMIALS`
for the four opening points; the closed forms of the blocks add more, e.g. a matmul's ``ρ·ζ^−(k+1)``), which is
what lets the Solidity loader compute every ``1/(x − 1)`` with one batched inversion.

:class:`ProverContext` and :class:`VerifierContext` are what a block's ``prover_claims`` and
``verifier_claims`` receive: the block writes its equation once against them, and the verifier context runs it
through a loader (``zkchain.verifier.loader``): Python integers for the Python verifier, emitted Yul for the
Solidity one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from zkchain.compiler.circuit import Circuit, Expr
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R, inv

RHO, ZETA, ZETA_INV, RHO_ZETA_INV = "rho", "zeta", "zeta_inv", "rho_zeta_inv"
POINTS = (RHO, ZETA, ZETA_INV, RHO_ZETA_INV)
#: opening point -> (a, b) with the point = ρ^a·ζ^(−b)
POINT_MONOMIALS = {RHO: (1, 0), ZETA: (0, -1), ZETA_INV: (0, 1), RHO_ZETA_INV: (1, 1)}


def point_values(rho: int, zeta: int) -> dict[str, int]:
    """The opening points as field elements (``ζ ≠ 0``; a zero challenge is rejected upstream)."""
    zi = inv(zeta)
    return {p: pow(rho, a, R) * pow(zi if b >= 0 else zeta, abs(b), R) % R for p, (a, b) in POINT_MONOMIALS.items()}


def ones_eval(n: int, x: int) -> int:
    """``ones_n(x) = Σ_{i<n} x^i = (x^n − 1)/(x − 1)`` (``n`` when ``x = 1``)."""
    x %= R
    if x == 1:
        return n % R
    return (pow(x, n, R) - 1) * inv(x - 1) % R


def iota_eval(n: int, x: int) -> int:
    """``Σ_{i<n} i·x^i = x·(1 − n·x^(n−1) + (n−1)·x^n)/(1 − x)^2`` (``n(n−1)/2`` when ``x = 1``)."""
    x %= R
    if x == 1:
        return n * (n - 1) // 2 % R
    num = x * (1 - n * pow(x, n - 1, R) + (n - 1) * pow(x, n, R)) % R
    return num * inv((1 - x) * (1 - x)) % R


def expr_values(e: Expr, values: Callable[[str], list[int]]) -> list[int]:
    """The entries of expression ``e`` (``e.length`` field elements) from the vectors' entries."""
    out = [e.const % R] * e.length
    for t in e.terms:
        v = values(t.vector)
        c = t.coef % R
        if len(v) + t.shift > len(out):  # only a cheating prover's over-long vector (soundness tests)
            out += [0] * (len(v) + t.shift - len(out))
        for i, a in enumerate(v):
            out[i + t.shift] = (out[i + t.shift] + c * a) % R
    return out


def weighted(entries: list[int], x: int) -> list[int]:
    """``(x^i · v_i)_i``: the coefficients of ``V(x·Y)`` (Hadamard and lookup right sides)."""
    out, p = [], 1
    for v in entries:
        out.append(v * p % R)
        p = p * x % R
    return out


# -- the prover's view -------------------------------------------------------------------------------------

@dataclass
class ProverContext:
    """One proof in progress: every vector's entries (field ints; fixed vectors included), the challenges drawn
    so far by label, and per-argument scratch state."""

    circuit: Circuit
    values: dict[str, list[int]]
    challenges: dict[str, int] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def entries(self, e: Expr) -> list[int]:
        return expr_values(e, self.values.__getitem__)

    @property
    def rho(self) -> int:
        return self.challenges["rho"]

    def at_rho(self, e: Expr) -> int:
        """``e(ρ)`` — a block output's value in its claim (``docs/protocol.md`` §4)."""
        return fpoly.evaluate(fpoly.poly(self.entries(e)), self.rho)


# -- the verifier's view -----------------------------------------------------------------------------------

class VerifierContext:
    """What a block's verifier equation reads: the loader ``L`` (scalars ``S``, points, closed forms), the
    challenges by label, the opening points, and every vector's evaluation at an opening point (opened from the
    proof, or computed from the public values)."""

    def __init__(self, loader, circuit: Circuit, challenges: dict[str, Any]):
        self.L = loader
        self.circuit = circuit
        self.ch = challenges
        self.points = {p: loader.point(*POINT_MONOMIALS[p]) for p in POINTS}
        self.public = {v.name for v in circuit.of_kind("public")}

    @property
    def rho(self):
        return self.points[RHO]

    @property
    def zeta(self):
        return self.points[ZETA]

    @property
    def zeta_inv(self):
        return self.points[ZETA_INV]

    @property
    def rho_zeta_inv(self):
        return self.points[RHO_ZETA_INV]

    def vec(self, name: str, point: str):
        """``V_name(point)``: the opened evaluation, or the public vector evaluated by the verifier."""
        if name in self.public:
            return self.L.public_eval(name, self.points[point])
        return self.L.opened(point, name)

    def at(self, e: Expr, point: str):
        """``e(point) = Σ_t coef_t·x^shift_t·V_t(x) + const·ones_N(x)``."""
        x = self.points[point]
        L = self.L
        terms = []
        if e.const % R:
            terms.append((e.const % R, L.ones(e.length, x)))
        for t in e.terms:
            if t.coef % R:
                v = self.vec(t.vector, point)
                terms.append((t.coef % R, v if t.shift == 0 else L.pow(x, t.shift) * v))
        return L.lincomb(terms)

    def at_rho(self, e: Expr):
        """``e(ρ)`` — a block output's value in its claim."""
        return self.at(e, RHO)

    def selection(self, base: tuple[int, int], steps: list[tuple[int, int, int]], extra: list | None = None):
        """``(Π extra) · ρ^(r_0)·ζ^(−e_0) · Π_k ones_{n_k}(ρ^(r_k)·ζ^(−e_k))``: the closed form of a strided selection
        vector evaluated at ``1/ζ`` (``Σ_{i_1<n_1} … ρ^(r_0 + Σ i_k r_k)·Y^(e_0 + Σ i_k e_k)`` at ``Y = 1/ζ``), the right
        side of the convolution and pick claims. ``steps`` lists ``(n_k, r_k, e_k)``."""
        L = self.L
        factors = list(extra or []) + [L.pow(self.rho, base[0]), L.pow(self.zeta_inv, base[1])]
        factors += [L.ones(n, L.point(r, e)) for n, r, e in steps]
        return L.prod(factors)

