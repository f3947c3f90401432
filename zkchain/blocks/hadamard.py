"""Hadamard block: elementwise product of two vectors, ``out_i = a_i · b_i``.

Used for elementwise multiplication of two activations (``x·x`` activations, gating) and for
multiplication by a per-entry constant (``b`` a fixed vector: folded batch-norm scales, broadcast constants).

Relation. ``a, b, out ∈ Fr^N`` (expressions over committed, public or fixed vectors): ``out = a ∘ b``.

Protocol (``docs/protocol.md`` §5.7). After ``a``, ``b``, ``out`` are committed, challenge ``ρ``; one claim of
the Laurent inner-product argument (§5.3) weights the products by ``ρ^i``:

    Σ_i a_i · (ρ^i b_i) = out(ρ)       left ``a``, right ``Q̂(Y) = b(ρY)``, value ``out(ρ)``

Verifier equation (its part of the aggregated check): ``a(ζ) · b(ρ/ζ)`` against ``out(ρ)``.
Openings: ``a``'s vectors at ``ζ``, ``b``'s at ``ρ/ζ``, ``out``'s at ``ρ``.

Soundness error. ``Σ ρ^i (a_i b_i − out_i)`` is a polynomial of degree < N in ρ fixed before ρ: a wrong entry
survives with probability ≤ N/r; plus §5.3. Degree bounds on ``a``, ``b`` (degree block) keep the sum to the
first N entries.
"""

from __future__ import annotations

from zkchain.blocks.common import RHO, RHO_ZETA_INV, ZETA
from zkchain.compiler.circuit import Hadamard
from zkchain.crypto.field import R


def openings(c: Hadamard) -> list[tuple[str, str]]:
    return ([(v, ZETA) for v in c.a.vectors()] + [(v, RHO_ZETA_INV) for v in c.b.vectors()]
            + [(v, RHO) for v in c.out.vectors()])


def prover_right(b_entries: list[int], rho: int) -> list[int]:
    """Coefficients of ``Q̂(Y) = b(ρY)``: entry ``i`` is ``ρ^i b_i``."""
    out, p = [], 1
    for v in b_entries:
        out.append(v * p % R)
        p = p * rho % R
    return out


def verifier_term(a_at_zeta: int, b_at_rho_zeta_inv: int) -> int:
    return a_at_zeta * b_at_rho_zeta_inv % R
