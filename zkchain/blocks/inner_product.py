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

Soundness error. If a claim is false, the aggregated constant term is non-zero except with probability
≤ C/r over ``α``; then ``X^D·(left − right)`` is a non-zero polynomial of degree ≤ 2D and vanishes at ``ζ``
with probability ≤ 2D/r (Schwartz–Zippel), D the SRS degree (committed polynomials have degree ≤ D).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R

A, B = "a", "b"  # the Laurent quotients (committed in the quotients round)


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
    zc = fpoly.coeffs(z, len(p) + nq - 1)
    const = zc[nq - 1]
    a = fpoly.poly(zc[nq:])                   # coefficient of X^(e) for e ≥ 1 goes to A[e-1]
    b = fpoly.poly(zc[: nq - 1][::-1])        # coefficient of X^(-e) for e ≥ 1 goes to B[e-1]
    return const, a, b


def aggregate(claims: list[LaurentClaim], alpha: int, check: bool = True):
    """The prover's ``A``, ``B`` (flint polynomials) for claims weighted by ``α^c``.

    With ``check`` set, raises ``ValueError`` naming the first claim whose inner product differs from its
    value: an honest prover never produces one, so this catches witness bugs before any proof is made."""
    A = fpoly.poly([])
    B = fpoly.poly([])
    w = 1
    for c in claims:
        total = 0
        for p, q in c.terms:
            const, a, b = laurent_product(p, q)
            total += const
            A = A + a * w
            B = B + b * w
        if check and (total - c.value) % R:
            raise ValueError(f"inner-product claim {c.name!r} does not hold")
        w = w * alpha % R
    return A, B


def verifier_check(vc, terms: list) -> None:
    """The aggregated equation ``Σ_c α^c (lhs_c − v_c) = ζ·A(ζ) + ζ^{−1}·B(1/ζ)`` over ``(lhs, value)`` pairs in
    claim order, through the verifier context's loader (``A``, ``B`` opened at ζ and 1/ζ)."""
    from zkchain.blocks.common import ZETA, ZETA_INV

    L = vc.L
    lhs = L.powsum([a - v for a, v in terms], vc.ch["alpha"])
    rhs = vc.zeta * L.opened(ZETA, A) + vc.zeta_inv * L.opened(ZETA_INV, B)
    L.require_eq(lhs, rhs, "inner-product (matmul / lookup) check failed")
