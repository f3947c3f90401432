"""Laurent inner-product argument: many inner-product claims on coefficient vectors, one check.

Relation. Claims ``c = 0..C−1``, each ``Σ_t ⟨p_t, q_t⟩ = v_c`` where ``p_t`` is committed (``P_t(X)``) and
``q_t`` is a vector whose polynomial ``Q̂_t(Y)`` the verifier can evaluate from openings (a committed
vector, a committed vector with entries weighted by ``ρ^i``, or a structured vector such as a matmul row
pattern). The constant term of the Laurent polynomial ``P(X)·Q̂(1/X)`` is ``⟨p, q⟩``.

Protocol (``docs/protocol.md`` §5.3; the coefficient-reversal idea of the DESIGN brief's matmul route, in
Laurent form so no reversed commitment is needed). After challenge ``α`` the prover writes

    Σ_c α^c (Σ_t P_t(X)·Q̂_t(1/X) − v_c) = X·A(X) + X^{−1}·B(1/X)

(the left side has no constant term when every claim holds) and commits ``A`` and ``B``. After ``ζ``:

    Σ_c α^c (Σ_t P_t(ζ)·Q̂_t(1/ζ) − v_c) = ζ·A(ζ) + ζ^{−1}·B(1/ζ)            (verifier equation)

Openings: each ``P_t`` at ``ζ``, ``A`` at ``ζ``, ``B`` at ``1/ζ``, and what ``Q̂_t(1/ζ)`` needs.

Zero knowledge (``docs/protocol.md`` §7.5; the masking polynomial of Aurora §5 / Marlin §5 in coefficient
form). ``A`` and ``B`` are functions of the whole witness. The prover commits, with the witness, a mask
``S = Σ_{i<6} S_i X^i`` with ``S_3 = 0`` and the other five coefficients uniform, and adds the claim
``⟨S, Y³⟩ = 0`` (verifier term ``S(ζ)·ζ^{−3}``). ``X^{−3}S(X) = X·A_S(X) + X^{−1}·B_S(1/X)`` is a uniform Laurent
polynomial with zero constant term, so ``[A], [B], A(ζ)`` are uniform given everything else and ``B(1/ζ)`` is
fixed by the check (the map of the five coins to ``S(τ), S(ζ), A_S(τ), B_S(τ), A_S(ζ)`` has rank 5). Soundness:
``S`` is committed before ``α``, so ``S_3 ≠ 0`` is one more false claim.

Soundness error. If a claim is false, the aggregated constant term is non-zero except with probability
≤ C/r over ``α``; then ``X^D·(left − right)`` is a non-zero polynomial of degree ≤ 2D and vanishes at ``ζ``
with probability ≤ 2D/r (Schwartz–Zippel), D the SRS degree (committed polynomials have degree ≤ D).
"""

from __future__ import annotations

import time

from dataclasses import dataclass, field

from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R

A, B = "a", "b"  # the Laurent quotients (committed in the quotients round)
S = "s"          # the mask of A and B (committed in the witness round)
MASK_LENGTH, MASK_ZERO = 6, 3


def mask_coefficients(rng) -> list[int]:
    """A fresh mask ``S`` (:data:`MASK_LENGTH` coefficients, uniform but ``S_3 = 0``) from ``rng.randrange``."""
    return [0 if i == MASK_ZERO else rng.randrange(R) for i in range(MASK_LENGTH)]


def mask_claim(s_coeffs: list[int]) -> "LaurentClaim":
    """The prover's claim ``⟨S, Y³⟩ = 0``: its Laurent product is ``X^{−3}·S(X)``, the mask of ``A`` and ``B``."""
    return LaurentClaim([(s_coeffs, [0] * MASK_ZERO + [1])], 0, "mask")


def mask_verifier_claim(vc) -> tuple:
    """The verifier's term of the mask claim: ``(S(ζ)·ζ^{−3}, 0)``."""
    from zkchain.blocks.common import ZETA

    return (vc.L.named(vc.L.opened(ZETA, S) * vc.L.pow(vc.zeta_inv, MASK_ZERO), "mask S"), vc.L.const(0))


@dataclass
class LaurentClaim:
    """One claim ``Σ_t ⟨p_t, q_t⟩ = value``; ``terms`` holds ``(p coefficients, q coefficients)`` lists."""

    terms: list[tuple[list[int], list[int]]] = field(default_factory=list)
    value: int = 0
    name: str = ""


def laurent_product(p: list[int], q: list[int]):
    """Split ``P(X)·Q̂(1/X)`` into ``(constant, A-part, B-part)`` with ``P·Q̂(1/X) = const + X·A + X^{-1}·B(1/X)``.

    Returns flint polynomials for A and B. Cost: one polynomial product of sizes len(p), len(q)."""
    nq = len(q)
    z = fpoly.poly(p) * fpoly.poly(q[::-1])  # = X^(nq-1) · P(X) Q̂(1/X)
    const = int(z[nq - 1])
    a = z.right_shift(nq)                                            # X^e, e ≥ 1 → A[e-1]
    b = z.truncate(nq - 1).reverse(nq - 2) if nq > 1 else fpoly.zero()  # X^(-e), e ≥ 1 → B[e-1]
    return const, a, b


def weighted_sums(jobs):
    """``Σ w·(A_c, B_c)`` (flint polynomials) over claims given as ``(index c, weight w, terms)``, with each claim's
    constant term (``{c: Σ const}``, mod r) and seconds (``{c: s}``, for the per-block profile). The one loop
    behind :func:`aggregate` and the prover pool's shares (``zkchain.prover.parallel``)."""
    A, B, consts, secs = fpoly.poly([]), fpoly.poly([]), {}, {}
    for c, w, terms in jobs:
        t = time.perf_counter()
        total = 0
        for p, q in terms:
            const, a, b = laurent_product(p, q)
            total += const
            A, B = A + a * w, B + b * w
        consts[c], secs[c] = total % R, time.perf_counter() - t
    return A, B, consts, secs


def aggregate(claims: list[LaurentClaim], alpha: int, check: bool = True):
    """The prover's ``A``, ``B`` (flint polynomials) for claims weighted by ``α^c``.

    With ``check`` set, raises ``ValueError`` naming the first claim whose inner product differs from its
    value: an honest prover never produces one, so this catches witness bugs before any proof is made."""
    ws = [pow(alpha, c, R) for c in range(len(claims))]
    A, B, consts, _ = weighted_sums([(c, w, cl.terms) for c, (w, cl) in enumerate(zip(ws, claims))])
    for c, cl in enumerate(claims):
        if check and (consts[c] - cl.value) % R:
            raise ValueError(f"inner-product claim {cl.name!r} does not hold")
    return A, B


def verifier_check(vc, terms: list) -> None:
    """The aggregated equation ``Σ_c α^c (lhs_c − v_c) = ζ·A(ζ) + ζ^{−1}·B(1/ζ)`` over ``(lhs, value)`` pairs in
    claim order, through the verifier context's loader (``A``, ``B`` opened at ζ and 1/ζ)."""
    from zkchain.blocks.common import ZETA, ZETA_INV

    L = vc.L
    lhs = L.powsum([a - v for a, v in terms], vc.ch["alpha"])
    rhs = vc.zeta * L.opened(ZETA, A) + vc.zeta_inv * L.opened(ZETA_INV, B)
    L.require_eq(lhs, rhs, "inner-product (matmul / lookup) check failed")
