"""KZG polynomial commitments over BN254 and the accumulator that decides all opening claims at once.

Construction: Kate, Zaverucha, Goldberg, *Constant-size commitments to polynomials and their applications*
(ASIACRYPT 2010, §3, "PolyCommit_DL"), https://www.iacr.org/archive/asiacrypt2010/6477178/6477178.pdf.
Many polynomials opened at one point share one proof through a random combination (Boneh–Drake–Fisch–Gabizon,
ePrint 2020/081, §3); degree bounds use shifted commitments ``[τ^(D−d)·f(τ)]₁`` opened at the same point
(as in Marlin/Sonic). Binding and evaluation binding hold under q-SDH; the commitments are not hiding yet
(``docs/protocol.md``, status).

Every check is reduced to an opening claim ``(C, x, y, π)``, valid iff ``e(C − [y]₁ + x·π, [1]₂) = e(π, [τ]₂)``.
Claims fold by a random linear combination into one pair ``(L, R)`` checked with
``e(L, [1]₂)·e(−R, [τ]₂) = 1`` — one 2-pair call of the EVM pairing precompile (``docs/protocol.md`` §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zkchain.crypto import field
from zkchain.crypto import poly as fpoly
from zkchain.crypto.backend import Backend, get_backend
from zkchain.errors import SetupError


class SRSTooSmall(SetupError):
    """A polynomial has more coefficients than the SRS has powers of tau."""

    def __init__(self, num_coefficients: int, num_powers: int):
        self.num_coefficients, self.num_powers = num_coefficients, num_powers
        super().__init__(f"polynomial has {num_coefficients} coefficients but the SRS has only {num_powers} "
                         f"powers of tau (degree {num_powers - 1}); use a larger SRS")


def _coeffs(p) -> list[int]:
    return fpoly.coeffs(p)


def commit(srs, p) -> object:
    """``[f(τ)]₁ = Σ f_i·[τ^i]₁`` for ``f`` given as a flint poly or a coefficient list (monomial basis, index 0
    first). One MSM of ``deg f + 1`` points. Raises :class:`SRSTooSmall` if ``deg f > srs.degree``."""
    c = _coeffs(p)
    if len(c) > srs.degree + 1:
        raise SRSTooSmall(len(c), srs.degree + 1)
    return srs.backend.g1_msm(srs.g1_powers[:len(c)], c)


def commit_shifted(srs, p, shift: int) -> object:
    """``[τ^shift·f(τ)]₁`` — the commitment to ``X^shift·f`` without building the shifted polynomial."""
    c = _coeffs(p)
    if shift < 0 or shift + len(c) > srs.degree + 1:
        raise SRSTooSmall(shift + len(c), srs.degree + 1)
    if not c:
        return srs.backend.g1_zero()
    return srs.backend.g1_msm(srs.g1_powers[shift:shift + len(c)], c)


def open(srs, p, x: int) -> tuple[int, object]:  # noqa: A001 - the name of the KZG operation
    """Open ``f`` at ``x``: returns ``(y, π)`` with ``y = f(x)`` and ``π = [q(τ)]₁``, ``q = (f − y)/(X − x)``
    (KZG10 §3.2, CreateWitness)."""
    q, y = fpoly.div_linear(p, x)
    return y, commit(srs, q)


def batch_open(srs, polys: Sequence, x: int, nu: int) -> tuple[list[int], object]:
    """Open ``f_1..f_m`` at one point ``x`` with one proof for ``Σ ν^(j−1) f_j`` (BDFG20 §3).
    Returns ``(values, π)`` with ``values[j] = f_j(x)``; the verifier side is :func:`combine_claims_at_point`."""
    ps = [fpoly.poly(f) for f in polys]
    values = [fpoly.evaluate(f, x) for f in ps]
    return values, commit(srs, batch_quotient(ps, x, nu))


def batch_quotient(polys: Sequence, x: int, nu: int):
    """``q = (Σ ν^(j−1) f_j − y)/(X − x)`` (a flint polynomial): what :func:`batch_open` commits."""
    ps = [fpoly.poly(f) for f in polys]
    q, _ = fpoly.div_linear(fpoly.linear_combination(ps, field.powers(nu, len(ps))), x)
    return q


def multi_open(srs, openings: Sequence[tuple[Sequence, int]], nu: int) -> list[tuple[list[int], object]]:
    """Several points: ``openings = [(polys, x), ...]``; one :func:`batch_open` (same ν) per distinct point.
    Returns ``[(values, π), ...]`` in the same order. The claims then meet in the accumulator."""
    return [batch_open(srs, polys, x, nu) for polys, x in openings]


# -- degree bounds ---------------------------------------------------------------------------------------------


def degree_bound_shift(srs_degree: int, bound: int) -> int:
    """``D − d``: multiplying by ``X^(D−d)`` keeps the result within the SRS only if ``deg f ≤ d``."""
    if not 0 <= bound <= srs_degree:
        raise SetupError(f"degree bound {bound} is outside the SRS degree range 0..{srs_degree}")
    return srs_degree - bound


def commit_degree_bound(srs, p, bound: int) -> object:
    """Shifted commitment ``[τ^(D−d)·f(τ)]₁`` proving ``deg f ≤ d`` once opened (``D = srs.degree``).
    Raises :class:`SRSTooSmall` if ``deg f > d`` (an honest prover cannot commit)."""
    return commit_shifted(srs, p, degree_bound_shift(srs.degree, bound))


def open_degree_bound(srs, p, bound: int, x: int) -> tuple[int, object]:
    """Open ``X^(D−d)·f`` at ``x``: returns ``(x^(D−d)·f(x), π)``."""
    shift = degree_bound_shift(srs.degree, bound)
    return open(srs, fpoly.shift(fpoly.poly(p), shift), x)


def degree_bound_claim(shifted_commitment, x: int, value: int, proof, srs_degree: int, bound: int) -> "Claim":
    """Verifier side: the claim ``(C_shift, x, x^(D−d)·y, π)`` where ``y = f(x)`` is the value the verifier
    also checks against the unshifted commitment — tying both to the same f."""
    shift = degree_bound_shift(srs_degree, bound)
    return Claim(shifted_commitment, x % field.R, pow(x, shift, field.R) * value % field.R, proof)


# -- claims and the accumulator --------------------------------------------------------------------------------


@dataclass
class Claim:
    """A KZG opening claim ``f(point) = value`` about ``commitment = [f(τ)]₁`` with witness ``proof = [q(τ)]₁``.
    Points are backend-native G1; ``point`` and ``value`` are Fr ints."""

    commitment: object
    point: int
    value: int
    proof: object


def combine_claims_at_point(backend, commitments: Sequence, values: Sequence[int], x: int, nu: int,
                            proof) -> Claim:
    """Verifier side of :func:`batch_open`: the single claim ``(Σ ν^(j−1) C_j, x, Σ ν^(j−1) y_j, π)``
    (BDFG20 §3). One MSM over the commitments (on chain: one ecMul each)."""
    be = get_backend(backend)
    if len(commitments) != len(values):
        raise ValueError(f"{len(commitments)} commitments but {len(values)} values")
    w = field.powers(nu, len(values))
    c = be.g1_msm(list(commitments), w)
    y = sum(wi * yi for wi, yi in zip(w, values)) % field.R
    return Claim(c, x % field.R, y, proof)


def verify_claim(backend, claim: Claim, g2_one, g2_tau) -> bool:
    """Check one claim with its own 2-pair pairing: ``e(C − [y]₁ + x·π, [1]₂)·e(−π, [τ]₂) = 1``."""
    be = get_backend(backend)
    lhs = be.g1_msm([claim.commitment, be.g1(), claim.proof], [1, -claim.value, claim.point])
    return be.pairing_check([(lhs, g2_one), (be.g1_neg(claim.proof), g2_tau)])


class Accumulator:
    """Running fold ``L = Σ w_k (C_k − [y_k]₁ + x_k π_k)``, ``R = Σ w_k π_k`` of weighted claims.

    Because ``e(C − [y]₁ + xπ, [1]₂) = e(π, [τ]₂)`` is linear in (C, y, π), a sum of valid claims passes
    ``e(L, [1]₂)·e(−R, [τ]₂) = 1``; with weights ``w_k = u^k`` for a transcript challenge u drawn after all
    claims are fixed, a false claim survives with probability ≤ (K−1)/r (``docs/protocol.md`` §3).
    Accumulators are plain sums: ``a + b`` merges partial folds from independent workers in any order.
    """

    def __init__(self, backend=None, L=None, R=None, count: int = 0):
        self.backend: Backend = get_backend(backend)
        self.L = self.backend.g1_zero() if L is None else L
        self.R = self.backend.g1_zero() if R is None else R
        self.count = count

    def add(self, claim: Claim, weight: int) -> "Accumulator":
        """Fold one claim with weight ``w`` in place (returns self for chaining)."""
        be = self.backend
        w = weight % field.R
        self.L = be.g1_add(self.L, be.g1_msm([claim.commitment, claim.proof, be.g1()],
                                             [w, w * claim.point, -w * claim.value]))
        self.R = be.g1_add(self.R, be.g1_mul(claim.proof, w))
        self.count += 1
        return self

    def __add__(self, other: "Accumulator") -> "Accumulator":
        be = self.backend
        return Accumulator(be, be.g1_add(self.L, other.L), be.g1_add(self.R, other.R), self.count + other.count)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Accumulator) and self.backend.g1_eq(self.L, other.L)
                and self.backend.g1_eq(self.R, other.R))

    def check(self, g2_one, g2_tau) -> bool:
        """The decider: ``e(L, [1]₂)·e(−R, [τ]₂) = 1`` (EIP-197 precompile 0x08, two pairs)."""
        be = self.backend
        return be.pairing_check([(self.L, g2_one), (be.g1_neg(self.R), g2_tau)])

    def to_bytes(self) -> bytes:
        """``evm64(L) ‖ evm64(R)`` (128 bytes), as the on-chain verifier receives the pair."""
        return self.backend.g1_to_bytes(self.L) + self.backend.g1_to_bytes(self.R)

    def __repr__(self) -> str:
        return f"Accumulator(claims={self.count}, backend={self.backend.name!r})"


def accumulate(claims: Sequence[Claim], u: int, start_index: int = 0, backend=None) -> Accumulator:
    """Fold claims ``k = 0..K−1`` with weights ``w_k = u^(start_index + k)`` — the accumulation-verifier step:
    exactly what a verifier recomputes from the claims before the final pairing check. Two MSMs:
    ``L = Σ w_k C_k + Σ (w_k x_k) π_k − (Σ w_k y_k)·[1]₁`` and ``R = Σ w_k π_k``.
    ``start_index`` lets workers fold disjoint ranges whose sum equals the fold of the whole list."""
    be = get_backend(backend)
    if not claims:
        return Accumulator(be)
    w = field.powers(u, len(claims), start=pow(u, start_index, field.R))
    pts = [c.commitment for c in claims] + [c.proof for c in claims] + [be.g1()]
    ys = sum(wk * c.value for wk, c in zip(w, claims)) % field.R
    L = be.g1_msm(pts, w + [wk * c.point % field.R for wk, c in zip(w, claims)] + [-ys])
    R = be.g1_msm([c.proof for c in claims], w)
    return Accumulator(be, L, R, len(claims))


def check_accumulation(acc: Accumulator, claims: Sequence[Claim], u: int, start_index: int = 0) -> bool:
    """Accumulation verifier: does a prover-supplied (partial) accumulator equal the fold the verifier
    recomputes from the claims? Catches a claim dropped from or slipped into the fold even when every
    remaining claim is true (a fold of fewer true claims would still pass the pairing check)."""
    return acc == accumulate(claims, u, start_index, backend=acc.backend)


def verify_claims(claims: Sequence[Claim], u: int, g2_one, g2_tau, backend=None) -> bool:
    """Accumulate all claims with challenge ``u`` and run the single 2-pair check."""
    return accumulate(claims, u, backend=backend).check(g2_one, g2_tau)
