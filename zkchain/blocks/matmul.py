"""MatMul block: ``out = x · W + bias`` with private weights ``W`` committed in the verifying key.

Relation. For a row ``x ∈ Fr^k``, fixed ``W ∈ Fr^{k×n}`` and ``bias ∈ Fr^n``: ``out_j = Σ_l x_l W[l,j] + bias_j``.
The weights are held column-major, one row of stride ``s = 1 + k + G`` per output (``G`` =
:data:`~zkchain.blocks.common.RESERVED_SPAN`): the bias first, then the column, then a gap of ``G`` zeros
(``docs/protocol.md`` §7.3)::

    W'[j·s] = bias_j,   W'[j·s + 1 + l] = W[l, j],   W'[j·s + 1 + k + i] = 0  (i < G)

Protocol (coefficient-basis matmul of ``docs/protocol.md`` §5.1; idea from the DESIGN brief's worked route
and zkCNN's use of polynomial products, Liu–Xie–Zhang CCS'21). After ``x`` and ``out`` are committed, draw
``ρ``. With ``u(Y) = (1 + Y·x(Y))·Σ_{j<n} ρ^j Y^{j·s}`` (entry ``j·s + 1 + l`` of ``u`` is ``ρ^j x_l``, entry
``j·s`` is ``ρ^j``), ``⟨W', u⟩ = Σ_j ρ^j out_j``. ``x``'s zero-knowledge tail (entries ``k ..< k+G`` of ``x``)
lands in the row gaps, where ``W'`` is zero. Two claims of the Laurent argument (``inner_product.py``):

    ⟨W', u⟩ = ⟨out, q_n⟩                    (the product; the output read through its data only)
    ⟨W', Z_ρ⟩ = 0,  Z_ρ(Y) = (ρY)^(1+k)·ones_G(ρY)·ones_n((ρY)^s)      (the gaps of W' are zero)

The second claim pins the gaps: the model owner runs setup, and a non-zero in a gap would let every proof add
``tail·W'_gap`` to an output (ZK-DESIGN §10.1). Verifier terms: ``W'(ζ)·(1 + ζ^{−1}·x(1/ζ))·ones_n(ρ·ζ^{−s})``
against ``out``'s ``⟨out, q_n⟩`` value, and ``W'(ζ)·(ρ/ζ)^(1+k)·ones_G(ρ/ζ)·ones_n((ρ/ζ)^s)`` against 0.
Openings: ``W'`` at ``ζ``; the vectors of ``x`` at ``1/ζ``; the vectors of ``out`` at ``ζ``.

Packing. Several matmuls may share one hidden fixed vector (``zkchain.compiler.lower._pack_weights``): each reads
its rows from ``offset`` on, so both right sides gain a factor ``Y^offset`` (verifier: ``ζ^{−offset}``). A claim's
reach ends inside its own segment — row ``n−1`` reads up to ``offset + (n−1)·s + 1 + (k + G) − 1 = offset + n·s − 1``,
``x``'s degree bound included — so no claim reads another matmul's weights; each segment's gaps have their own pin.
One mask commitment and one evaluation serve them all (about 6,350 gas less per vector packed).

Soundness error. If ``out ≠ xW + bias``, then ``⟨W', u⟩ ≠ ⟨out, q_n⟩`` except with probability ``n/r`` over ``ρ``
(two distinct polynomials of degree < n in ρ, both fixed before ρ: ``W'`` at setup, ``x`` and ``out`` before ρ);
a non-zero gap entry survives the second claim with probability ``≤ n·s/r``; the Laurent check adds its own
error (see there). ``x``'s degree bound (< k + G, from the degree block) keeps its tail inside the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import RESERVED_SPAN, ZETA, ZETA_INV
from zkchain.compiler.circuit import Block, Expr
from zkchain.crypto.field import R

GAP = RESERVED_SPAN


def row_stride(k: int) -> int:
    """``s = 1 + k + G``: one output's row of ``W'`` (bias, column, gap)."""
    return 1 + k + GAP


def weight_vector(W: list[list[int]], bias: list[int]) -> list[int]:
    """Lay out ``W`` (k×n, nested lists of ints) and ``bias`` (n) as the fixed vector ``W'`` (n·s entries)."""
    k, n = len(W), len(bias)
    s = row_stride(k)
    out = [0] * (s * n)
    for j in range(n):
        base = j * s
        out[base] = bias[j] % R
        for l in range(k):
            out[base + 1 + l] = W[l][j] % R
    return out


@dataclass(frozen=True)
class MatMul(Block):
    """``out[j] = Σ_l x[l]·W[l, j] + bias[j]`` for one row ``x`` of ``k`` entries and ``n`` outputs.

    ``weight`` names a fixed vector of ``n·s`` entries (``s`` = :func:`row_stride`): entry ``j·s`` is ``bias[j]``,
    entry ``j·s + 1 + l`` is ``W[l, j]``, the last ``G`` entries of each row are zero."""

    kind = "matmul"
    x: Expr
    weight: str
    k: int
    n: int
    out: Expr
    name: str = ""
    offset: int = 0  # where this matmul's rows start in ``weight`` (several matmuls share one packed vector)

    @property
    def stride(self) -> int:
        return row_stride(self.k)

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        w = circuit.vectors.get(self.weight)
        if w is None or w.kind != "fixed" or self.offset < 0 or w.length < self.offset + self.stride * self.n:
            raise ValueError(f"{where}: {self.weight!r} must be a fixed vector holding {self.stride * self.n} entries "
                             f"from offset {self.offset}")
        if self.x.length != self.k or self.out.length != self.n:
            raise ValueError(f"{where}: x has {self.x.length} entries (k={self.k}), out {self.out.length} (n={self.n})")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return ([(self.weight, ZETA)] + [(v, ZETA_INV) for v in self.x.vectors()]
                + [(v, ZETA) for v in self.out.vectors()])

    def right_side(self, x_coeffs: list[int], rho: int) -> list[int]:
        """The coefficients of ``u(Y) = (1 + Y·x(Y))·Σ_j ρ^j Y^(j·s)`` for whatever ``x`` polynomial was committed
        (its tail lands in the gaps; a cheating prover's longer ``x`` spills into the next row, exactly as the
        verifier's ``u(1/ζ)`` sees it)."""
        s, n = self.stride, self.n
        xp = [1] + list(x_coeffs)
        out = [0] * (self.offset + (n - 1) * s + len(xp))
        rj = 1
        for j in range(n):
            base = self.offset + j * s
            for l, a in enumerate(xp):
                out[base + l] = (out[base + l] + rj * a) % R
            rj = rj * rho % R
        return out

    def gap_pin(self, rho: int) -> list[int]:
        """The coefficients of ``Z_ρ``: ``ρ^p`` at every gap position ``p`` of ``W'``."""
        s, k = self.stride, self.k
        z = [0] * (self.offset + s * self.n)
        for j in range(self.n):
            for i in range(GAP):
                p = j * s + 1 + k + i
                z[self.offset + p] = pow(rho, p, R)
        return z

    def prover_claims(self, pc) -> list:
        w = pc.committed(self.weight)
        u = self.right_side(pc.poly(self.x), pc.rho)
        return [pc.claim([(w, u)], self.out, self.name or "matmul"),
                pc.claim([(w, self.gap_pin(pc.rho))], None, f"{self.name or 'matmul'} weight gaps")]

    def verifier_claims(self, vc) -> list:
        L, s = vc.L, self.stride
        w = vc.vec(self.weight, ZETA)
        u = (L.const(1) + vc.zeta_inv * vc.at(self.x, ZETA_INV)) * L.ones(self.n, L.point(1, s))
        y = vc.rho_zeta_inv
        z = L.prod([L.pow(y, 1 + self.k), L.ones(GAP, y), L.ones(self.n, L.point(s, s))])
        if self.offset:  # the rows start at X^offset of the packed vector: Y^offset on both right sides
            u, z = L.pow(vc.zeta_inv, self.offset) * u, L.pow(vc.zeta_inv, self.offset) * z
        return [(L.named(w * u, f"matmul {self.name}"), vc.at_rho(self.out)),
                (L.named(w * z, f"matmul gaps {self.name}"), L.const(0))]
