"""Shared vocabulary of the basic blocks: opening points, the prover's and the verifier's view of one proof.

Every block's verifier equation is written over evaluations of committed polynomials at three global points
(``docs/protocol.md`` §4): ``ζ`` (inner-product left sides, degree checks, and every former ρ-read),
``1/ζ`` (inner-product right sides) and ``ρ/ζ`` (Hadamard and lookup right sides). A whole model opens at these
three points only, so the proof carries three KZG opening proofs whatever its size. ``ρ`` itself is never an
opening point (protocol v2, ``docs/protocol.md`` §7): a block output's value ``out(ρ)`` is the Laurent claim
``⟨out, q_N⟩`` with ``q_N(Y) = ones_N(ρY)``, which reads exactly the first ``N`` coefficients, so the random
tail every committed vector carries past its data (:data:`RESERVED_SPAN`) is never read by any relation.

Every point a verifier equation evaluates anything at is a monomial ``ρ^a·ζ^(−b)`` (:data:`POINT_MONOMIALS`
for the opening points and ``ρ``; the closed forms of the blocks add more, e.g. a matmul's ``ρ·ζ^−s``), which is
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
POINTS = (ZETA, ZETA_INV, RHO_ZETA_INV)  # the opening points (ρ is a challenge, not an opening point)
#: point -> (a, b) with the point = ρ^a·ζ^(−b)
POINT_MONOMIALS = {RHO: (1, 0), ZETA: (0, -1), ZETA_INV: (0, 1), RHO_ZETA_INV: (1, 1)}

#: Zero-knowledge tails (protocol v2, ``docs/protocol.md`` §7, rule R1). Every committed witness polynomial is
#: ``P = p + X^σ·r``: ``p`` its ``N`` data coefficients, ``r`` uniform with ``t = (number of opening points) + 1``
#: coefficients, ``σ = N + STAGGER·slot`` (``slot > 0`` only for Hadamard operands whose partners' tails must
#: not meet theirs). Every structured layout (matmul row gaps, lookup segment gaps, the conv tail slot) reserves
#: ``RESERVED_SPAN`` coefficients after a vector's data; the schedule refuses a circuit whose tails would not fit.
STAGGER = 5          # ≥ the largest t (3 points + 1, +1 for the degree reversal's extra coefficient)
RESERVED_SPAN = 2 * STAGGER


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


def closed_forms(circuit: Circuit) -> dict:
    """``{name: f(vc, point)}``: every parameter-free fixed vector's closed form, from the block or argument that
    lays it out (:meth:`zkchain.compiler.circuit.Block.closed_forms`)."""
    from zkchain.blocks import ARGUMENTS

    out: dict = {}
    for src in list(circuit.constraints) + [a for a in ARGUMENTS if a.active(circuit)]:
        out.update(src.closed_forms(circuit))
    return out


class Argument:
    """Defaults of a whole-circuit argument (``blocks.ARGUMENTS``): no challenges, openings, closed forms, claims
    or layout of its own — an argument that only commits what its blocks' claims read (a row fold) overrides
    ``active``, ``polynomials`` and ``prover_round`` alone.

    What the schedule (``zkchain/protocol/schedule.py``) takes from the active arguments, in ``ARGUMENTS`` order:
    their polynomials and rounds (:meth:`polynomials`), the challenges drawn after each round (:meth:`challenges`),
    the names reserved for their polynomials (:attr:`names`) and the vectors their claims pair with those
    polynomials (:meth:`partners`), so the schedule names no argument and no argument's challenge."""

    #: fixed names of the argument's own polynomials (reserved: no circuit vector may take them)
    names: tuple[str, ...] = ()

    @staticmethod
    def challenges(circuit) -> dict[str, tuple[str, ...]]:
        """Labels drawn after each round's commitments (round name → labels), in addition to the protocol's own."""
        return {}

    @staticmethod
    def partners(circuit) -> set[str]:
        """Vectors the argument's own claims pair with its polynomials (a logUp table column): a hidden fixed vector
        among them gets its mask ``M_f`` past those polynomials' tails (``schedule._masks``)."""
        return set()

    @staticmethod
    def openings(circuit) -> list[tuple[str, str]]:
        return []  # its blocks list theirs

    @staticmethod
    def closed_forms(circuit) -> dict:
        return {}

    @staticmethod
    def prover_claims(pc) -> list:
        return []

    @staticmethod
    def verifier_claims(vc) -> list:
        return []

    @staticmethod
    def layout(lay) -> list:
        return []  # its blocks declare the claims that read its polynomials


# -- the prover's view -------------------------------------------------------------------------------------

@dataclass
class ProverContext:
    """One proof in progress: every vector's data entries (``values``; field ints, fixed vectors included),
    every committed polynomial's coefficients (``coeffs``: data, then the zero-knowledge tail; a fixed vector's
    ``F̃ = F^vk + Δ``, its data then its masks at ``M_f``), the challenges drawn so far by label, and per-argument scratch state.

    Witness computations (lookup queries, multiplicities) read :meth:`entries`; claims read :meth:`poly`, the
    polynomial the verifier's evaluations see."""

    circuit: Circuit
    values: dict[str, list[int]]
    coeffs: dict[str, list[int]] = field(default_factory=dict)
    challenges: dict[str, int] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def entries(self, e: Expr) -> list[int]:
        """The ``e.length`` data entries of ``e``."""
        return expr_values(e, self.values.__getitem__)

    def poly(self, e: Expr) -> list[int]:
        """The coefficients of ``e`` as a committed polynomial (tails included)."""
        return expr_values(e, self.committed)

    def committed(self, name: str) -> list[int]:
        """The coefficients of vector ``name`` as the verifier's evaluations see them (tails and masks included;
        a public vector's entries)."""
        return self.coeffs.get(name) or self.values[name]

    @property
    def rho(self) -> int:
        return self.challenges["rho"]

    def rho_read(self, name: str, length: int, coef: int = 1) -> tuple[list[int], list[int]]:
        """The Laurent term ``coef·⟨v, q_N⟩`` with ``q_N(Y) = ones_N(ρY)``: ``coef·Σ_{i<N} ρ^i v_i``, which reads
        the first ``N = length`` coefficients of committed ``v`` only (``docs/protocol.md`` §7.2)."""
        return (self.committed(name), weighted([coef % R] * length, self.rho))

    def claim(self, terms: list, out: Expr | None, name: str, value: int = 0):
        """The claim ``Σ terms = out(ρ) + value``, with ``out(ρ)`` read as ``⟨out, q_N⟩`` terms (committed
        vectors: negated on the left side) and scalars (constants, public vectors, on the value side)."""
        from zkchain.blocks.inner_product import LaurentClaim

        terms = list(terms)
        value %= R
        if out is not None:
            rho = self.rho
            if out.const % R:
                value += out.const * ones_eval(out.length, rho)
            public = {v.name for v in self.circuit.of_kind("public")}
            for t in out.terms:
                c = t.coef * pow(rho, t.shift, R) % R
                if t.vector in public:
                    value += c * fpoly.evaluate(fpoly.poly(self.values[t.vector]), rho)
                else:
                    terms.append(self.rho_read(t.vector, self.circuit.vectors[t.vector].length, -c))
        return LaurentClaim(terms, value % R, name)


# -- the verifier's view -----------------------------------------------------------------------------------

class VerifierContext:
    """What a block's verifier equation reads: the loader ``L`` (scalars ``S``, points, closed forms), the
    challenges by label, the opening points, and every vector's evaluation at an opening point (opened from the
    proof, or computed from the public values)."""

    def __init__(self, loader, circuit: Circuit, challenges: dict[str, Any]):
        self.L = loader
        self.circuit = circuit
        self.ch = challenges
        self.points = {p: loader.point(*m) for p, m in POINT_MONOMIALS.items()}
        self.public = {v.name for v in circuit.of_kind("public")}
        self.closed = closed_forms(circuit)

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
        """``V_name(point)``: the opened evaluation, or the verifier's own: a public vector from its values, a
        parameter-free fixed vector from its closed form."""
        if name in self.public:
            return self.L.public_eval(name, self.points[point])
        if name in self.closed:
            return self.closed[name](self, point)
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

    def rho_read(self, name: str, length: int):
        """The verifier's side of ``⟨v, q_N⟩`` (:meth:`ProverContext.rho_read`): ``V(ζ)·ones_N(ρ/ζ)``."""
        return self.L.opened(ZETA, name) * self.L.ones(length, self.rho_zeta_inv)

    def at_rho(self, e: Expr):
        """``e(ρ)`` over the data of ``e`` only, as a claim's value: ``Σ_t coef_t·ρ^shift_t·⟨V_t, q_N⟩`` for
        committed vectors (each ``V_t(ζ)·ones_N(ρ/ζ)``), public vectors evaluated at ρ by the verifier, and
        ``const·ones_N(ρ)``. The prover writes the same terms with :meth:`ProverContext.claim`."""
        L = self.L
        terms = []
        if e.const % R:
            terms.append((e.const % R, L.ones(e.length, self.rho)))
        for t in e.terms:
            if not t.coef % R:
                continue
            if t.vector in self.public:
                v = L.public_eval(t.vector, self.rho)
            else:
                vec = self.circuit.vectors.get(t.vector)
                v = self.rho_read(t.vector, vec.length if vec is not None else e.length)
            terms.append((t.coef % R, v if t.shift == 0 else L.pow(self.rho, t.shift) * v))
        return L.lincomb(terms)
