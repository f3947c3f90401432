"""Hadamard block: elementwise product of two vectors, ``out_i = a_i · b_i``.

Used for elementwise multiplication of two activations (``x·x`` activations, gating), for multiplication by a
per-entry constant (``b`` a fixed vector: folded batch-norm scales, broadcast constants) and for the product
chain of max pooling.

Relation. ``a, b, out ∈ Fr^N`` (expressions over committed, public or fixed vectors): ``out = a ∘ b``.

Protocol (``docs/protocol.md`` §5.7). After ``a``, ``b``, ``out`` are committed, challenge ``ρ``; one claim of
the Laurent inner-product argument (§5.3) weights the products by ``ρ^i``:

    Σ_i a_i · (ρ^i b_i) = ⟨out, q_N⟩       left ``a``, right ``Q̂(Y) = b(ρY)``

The left side sums over *all* coefficients, so the two sides' zero-knowledge tails must never meet: the
schedule staggers them (``docs/protocol.md`` §7.3, ``σ = N + STAGGER·slot`` with the a/b conflict graph
coloured), so ``a_i·b_i = 0`` for every ``i ≥ N`` in an honest proof.

Verifier equation (its part of the aggregated check): ``a(ζ) · b(ρ/ζ)`` against ``out``'s ``⟨out, q_N⟩`` value.
Openings: ``a``'s vectors at ``ζ``, ``b``'s at ``ρ/ζ``, ``out``'s at ``ζ``.

Soundness error. ``Σ ρ^i (a_i b_i − out_i)`` is a polynomial in ρ fixed before ρ (every operand is committed
first): a wrong entry, or a non-zero product past the data, survives with probability ≤ N̄/r (N̄ the operands'
degree bound); plus §5.3.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import RHO_ZETA_INV, ZETA, weighted
from zkchain.blocks.layout import Diag, LayoutClaim, Rows
from zkchain.compiler.circuit import Block, Expr


@dataclass(frozen=True)
class Hadamard(Block):
    """Elementwise product ``out = a ∘ b``; ``b`` may be a fixed vector."""

    kind = "hadamard"
    hidden_operands = ("b",)  # a per-entry constant C: M_C past every partner's bound, products past N in side rows
    a: Expr
    b: Expr
    out: Expr
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if not self.a.length == self.b.length == self.out.length:
            raise ValueError(f"{where}: operand lengths differ")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return ([(v, ZETA) for v in self.a.vectors()] + [(v, RHO_ZETA_INV) for v in self.b.vectors()]
                + [(v, ZETA) for v in self.out.vectors()])

    def prover_claims(self, pc) -> list:
        right = weighted(pc.poly(self.b), pc.rho)  # b(ρY)
        return [pc.claim([(pc.poly(self.a), right)], self.out, self.name or "hadamard")]

    def verifier_claims(self, vc) -> list:
        lhs = vc.L.named(vc.at(self.a, ZETA) * vc.at(self.b, RHO_ZETA_INV), f"hadamard {self.name}")
        return [(lhs, vc.at_rho(self.out))]

    def layout(self, lay) -> list:
        """``a[i]`` meets ``b[i]`` in row ``i`` for every ``i`` (tails included: the schedule staggers them)."""
        fams = (Diag(lay.atoms(self.a), lay.atoms(self.b), ((0, "pos", 0),), "a[i]·b[i]"), *lay.reads(self.out))
        return [LayoutClaim(f"hadamard {self.name}", self.name, fams, Rows([(0, self.a.length)]))]

