"""Linear block: a linear expression of committed and public vectors is the zero vector.

Used for rescaling (``M·acc + 2^(s−1) = 2^s·q + r``, the remainder ``r`` range-checked by the lookup block),
residual additions, subtractions and copies. Matmul accumulators are never committed: the compiler writes them
as linear expressions of the rescale's quotient and remainder, so most rescales cost no Zero constraint at all.

Relation. ``E = Σ_t coef_t · X^shift_t · V_t + const · ones_N`` is the zero vector of ``Fr^N``.

Protocol (``docs/protocol.md`` §5.5). No prover message. After every ``V_t`` is committed, challenge ``ρ``.
Verifier equation: ``E(ρ) = Σ_t coef_t ρ^shift_t V_t(ρ) + const·ones_N(ρ) = 0``, each committed ``V_t``
opened at ``ρ`` (public vectors evaluated by the verifier).

Soundness error. A non-zero ``E`` (degree < N, guaranteed by the degree block) vanishes at ``ρ`` with
probability ≤ (N − 1)/r.
"""

from __future__ import annotations

from zkchain.blocks.common import RHO, expr_eval
from zkchain.compiler.circuit import Zero


def openings(c: Zero) -> list[tuple[str, str]]:
    return [(v, RHO) for v in c.expr.vectors()]


def verify(c: Zero, rho: int, vec) -> bool:
    """``vec(name)`` gives ``V(ρ)``."""
    return expr_eval(c.expr, rho, vec) == 0
