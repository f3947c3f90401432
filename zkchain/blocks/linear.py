"""Linear block: a linear expression of committed and public vectors is the zero vector.

Used for rescaling (``M·acc + 2^(s−1) = 2^s·q + r``, the remainder ``r`` range-checked by the lookup block),
residual additions, subtractions, copies and binding expression outputs to public vectors. Matmul accumulators
are never committed: the compiler writes them as linear expressions of the rescale's quotient and remainder,
so most rescales cost no Zero constraint at all.

Relation. ``E = Σ_t coef_t · X^shift_t · V_t + const · ones_N`` is the zero vector of ``Fr^N``.

Protocol (``docs/protocol.md`` §5.5). No prover message. After every ``V_t`` is committed, challenge ``ρ``.
Verifier equation: ``E(ρ) = Σ_t coef_t ρ^shift_t V_t(ρ) + const·ones_N(ρ) = 0``, each committed ``V_t``
opened at ``ρ`` (public vectors evaluated by the verifier).

Soundness error. A non-zero ``E`` (degree < N, guaranteed by the degree block) vanishes at ``ρ`` with
probability ≤ (N − 1)/r.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import RHO
from zkchain.compiler.circuit import Block, Expr


@dataclass(frozen=True)
class Zero(Block):
    """The linear expression ``expr`` is the zero vector (rescale, addition, copy, output binding)."""

    kind = "zero"
    expr: Expr
    name: str = ""

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, RHO) for v in self.expr.vectors()]

    def verifier_zero_checks(self, vc) -> list:
        return [(vc.at_rho(self.expr), f"linear relation {self.name!r} does not hold")]
