"""MatMul block: ``out = x · W + bias`` with private weights ``W`` committed in the verifying key.

Relation. For a row ``x ∈ Fr^k``, fixed ``W ∈ Fr^{k×n}`` and ``bias ∈ Fr^n``: ``out_j = Σ_l x_l W[l,j] + bias_j``.
The weights are held column-major with the bias folded in as an extra row:
``W'(X) = Σ_j Σ_{l≤k} W'[l,j] X^{j(k+1)+l}`` with ``W'[k,j] = bias_j``; ``x' = x + X^k`` (a constant 1 appended).

Protocol (coefficient-basis matmul of ``docs/protocol.md`` §5.1; idea from the DESIGN brief's worked route
and zkCNN's use of polynomial products, Liu–Xie–Zhang CCS'21). After ``x`` and ``out`` are committed, draw
``ρ``. With ``S_ρ(Y) = Σ_{j<n} ρ^j Y^{j(k+1)}`` and ``u(Y) = x'(Y)·S_ρ(Y)`` (entry ``j(k+1)+l`` of ``u`` is
``ρ^j x'_l``), ``⟨W', u⟩ = Σ_j ρ^j out_j = out(ρ)``. This inner product is one claim of the Laurent
inner-product argument (``zkchain/blocks/inner_product.py``):

    constant term of  W'(X) · u(1/X)  =  out(ρ)

Verifier equation (its part of the aggregated Laurent check at ``ζ``):
``W'(ζ) · (x(1/ζ) + ζ^{−k}) · ones_n(ρ·ζ^{−(k+1)})`` against ``v = out(ρ)``.
Openings: ``W'`` at ``ζ``; the vectors of ``x`` at ``1/ζ``; the vectors of ``out`` at ``ρ``.

Soundness error. If ``out ≠ xW + bias``, then ``out(ρ) ≠ ⟨W', u⟩`` except with probability ``n/r`` over ``ρ``
(two distinct polynomials of degree < n in ρ); the Laurent check adds its own error (see there). ``x``'s degree
bound (< k, from the degree block) keeps ``u``'s rows from overlapping.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import RHO, ZETA, ZETA_INV
from zkchain.blocks.inner_product import LaurentClaim
from zkchain.compiler.circuit import Block, Expr
from zkchain.crypto.field import R


def weight_vector(W: list[list[int]], bias: list[int]) -> list[int]:
    """Lay out ``W`` (k×n, nested lists of ints) and ``bias`` (n) as the fixed vector ``W'`` ((k+1)·n entries)."""
    k, n = len(W), len(bias)
    out = [0] * ((k + 1) * n)
    for j in range(n):
        base = j * (k + 1)
        for l in range(k):
            out[base + l] = W[l][j] % R
        out[base + k] = bias[j] % R
    return out


@dataclass(frozen=True)
class MatMul(Block):
    """``out[j] = Σ_l x[l]·W[l, j] + bias[j]`` for one row ``x`` of ``k`` entries and ``n`` outputs.

    ``weight`` names a fixed vector of ``(k+1)·n`` entries holding ``W`` column-major with the bias folded in as
    row ``k``: entry ``j·(k+1) + l`` is ``W[l, j]`` for ``l < k`` and ``bias[j]`` for ``l = k``."""

    kind = "matmul"
    x: Expr
    weight: str
    k: int
    n: int
    out: Expr
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        circuit.fixed_vector(self.weight, (self.k + 1) * self.n, where)
        if self.x.length != self.k or self.out.length != self.n:
            raise ValueError(f"{where}: x has {self.x.length} entries (k={self.k}), out {self.out.length} (n={self.n})")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return ([(self.weight, ZETA)] + [(v, ZETA_INV) for v in self.x.vectors()]
                + [(v, RHO) for v in self.out.vectors()])

    def right_side(self, x_entries: list[int], rho: int) -> list[int]:
        """The coefficients of ``u(Y) = (x(Y) + Y^k)·S_ρ(Y)`` ((k+1)·n entries for an honest ``x``). Computed as the
        polynomial product for whatever ``x`` polynomial was committed (a cheating prover's longer ``x`` spills
        into the bias slot and the next row, exactly as the verifier's ``u(1/ζ)`` sees it)."""
        k, n = self.k, self.n
        xp = list(x_entries) + [0] * max(0, k + 1 - len(x_entries))
        xp[k] = (xp[k] + 1) % R
        out = [0] * ((n - 1) * (k + 1) + len(xp))
        rj = 1
        for j in range(n):
            base = j * (k + 1)
            for l, a in enumerate(xp):
                out[base + l] = (out[base + l] + rj * a) % R
            rj = rj * rho % R
        return out

    def prover_claims(self, pc) -> list[LaurentClaim]:
        u = self.right_side(pc.entries(self.x), pc.rho)
        return [LaurentClaim([(pc.values[self.weight], u)], pc.at_rho(self.out), self.name or "matmul")]

    def verifier_claims(self, vc) -> list:
        L = vc.L
        u = (vc.at(self.x, ZETA_INV) + L.pow(vc.zeta_inv, self.k)) * L.ones(self.n, L.point(1, self.k + 1))
        lhs = L.named(vc.vec(self.weight, ZETA) * u, f"matmul {self.name}")
        return [(lhs, vc.at_rho(self.out))]
