"""Linear block: a linear expression of committed and public vectors is the zero vector.

Used for rescaling (``M·acc + 2^(s−1) = 2^s·q + r``, the remainder ``r`` range-checked by the lookup block),
residual additions, subtractions, copies and binding expression outputs to public vectors. Matmul accumulators
are never committed: the compiler writes them as linear expressions of the rescale's quotient and remainder,
so most rescales cost no Zero constraint at all.

Relation. ``E = Σ_t coef_t · X^shift_t · V_t + const · ones_N`` is the zero vector of ``Fr^N``.

Protocol (``docs/protocol.md`` §5.5, v2 §7.2). No prover message. After every ``V_t`` is committed, challenge
``ρ``; one claim of the Laurent argument reads each committed vector's data only (never its zero-knowledge tail):

    Σ_t coef_t ρ^shift_t ⟨V_t, q_{N_t}⟩ = −const·ones_N(ρ) − Σ_(public t) coef_t ρ^shift_t V_t(ρ)

with ``q_N(Y) = ones_N(ρY)``. Verifier term: ``Σ_t coef_t ρ^shift_t V_t(ζ)·ones_{N_t}(ρ/ζ)``; ``V_t`` opened at ζ
(public vectors evaluated by the verifier).

Soundness error. ``E``'s data define a polynomial of degree < N in ρ fixed before ρ: a non-zero ``E`` vanishes
at ``ρ`` with probability ≤ (N − 1)/r; plus the Laurent check (§5.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import ZETA
from zkchain.blocks.layout import LayoutClaim, Rows
from zkchain.compiler.circuit import Block, Expr


@dataclass(frozen=True)
class Zero(Block):
    """The linear expression ``expr`` is the zero vector (rescale, addition, copy, output binding)."""

    kind = "zero"
    expr: Expr
    name: str = ""

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, ZETA) for v in self.expr.vectors()]

    def structured_expressions(self) -> list:
        return []

    def prover_claims(self, pc) -> list:
        return [pc.claim([], self.expr, self.name or "linear relation")]

    def verifier_claims(self, vc) -> list:
        return [(vc.L.const(0), vc.at_rho(self.expr))]

    def layout(self, lay) -> list:
        return [LayoutClaim(f"zero {self.name}", self.name, tuple(lay.reads(self.expr)), Rows([(0, self.expr.length)]))]

