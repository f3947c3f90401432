"""Gather block: data movement and sums described by one affine index map per input — Transpose, Concat, sums
over any axes (ReduceSum, ReduceMean before its rescale) and broadcasts of per-row scalars (the mean a LayerNorm
subtracts); Pick and the convolution use the same descriptor for their own right sides.

Relation. For inputs ``x_i`` with selections ``S_i`` (:class:`~zkchain.compiler.circuit.Selection`: every
multi-index ``m`` sends input entry ``e_i(m)`` to output entry ``r_i(m)``, both affine in ``m``):

    out[r] = Σ_i Σ_{m : r_i(m) = r} x_i[e_i(m)]          (an output entry no map reaches is 0)

Protocol (``docs/protocol.md`` §5.9). After ``x_i`` and ``out`` are committed, ``ρ``; one claim of the Laurent
argument (§5.3):

    Σ_i ⟨x_i, G_i⟩ = ⟨out, q_N⟩,   G_i(Y) = Σ_m ρ^(r_i(m)) Y^(e_i(m)) = ρ^(r0)·Y^(e0)·Π_k ones_(n_k)(ρ^(r_k)·Y^(e_k))

The one descriptor gives both sides: the prover's coefficients (:meth:`Selection.coefficients`) and the
verifier's closed form at ``1/ζ`` (:meth:`Selection.closed_form`); ``tests/protocol/test_gather.py`` checks them
against each other on random points for every kind of map. Verifier equation: ``Σ_i x_i(ζ)·G_i(1/ζ)`` against
``⟨out, q_N⟩``. Openings: every vector of ``x_i`` and ``out`` at ζ.

Zero knowledge. ``G_i`` is supported on ``[0, |x_i|)`` (every ``e_i(m)`` indexes data), and ``q_N`` on ``out``'s
data: every tail meets zeros, with no layout of its own (§7.8's rule holds; operands are whole, unshifted
vectors, which the schedule enforces for every structured operand).

Soundness error ``N/r`` over ρ (``Σ_r ρ^r·(out − S x)_r`` is a non-zero polynomial of degree < N when the
relation fails, and ``x_i``, ``out`` are committed before ρ) + §5.3.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import ZETA
from zkchain.blocks.layout import LayoutClaim, Rows, selection_lin
from zkchain.compiler.circuit import Block, Expr, Selection


@dataclass(frozen=True)
class Gather(Block):
    """``out = Σ_i S_i·x_i`` for selections ``sel[i]`` of inputs ``x[i]`` (see the module doc)."""

    kind = "gather"
    x: tuple[Expr, ...]
    sel: tuple[Selection, ...]
    out: Expr
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if not self.x or len(self.x) != len(self.sel):
            raise ValueError(f"{where}: one selection per input, at least one input")
        for x, s in zip(self.x, self.sel):
            e, r = s.reach()
            if e > x.length or r > self.out.length:
                raise ValueError(f"{where}: selection reaches input entry {e - 1} of {x.length} or output entry "
                                 f"{r - 1} of {self.out.length}")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, ZETA) for x in self.x for v in x.vectors()] + [(v, ZETA) for v in self.out.vectors()]

    def prover_claims(self, pc) -> list:
        terms = [(pc.poly(x), s.coefficients(pc.rho, x.length)) for x, s in zip(self.x, self.sel)]
        return [pc.claim(terms, self.out, self.name or "gather")]

    def layout(self, lay) -> list:
        fams = [selection_lin(lay.atoms(x), s, f"selection {i}") for i, (x, s) in enumerate(zip(self.x, self.sel))]
        return [LayoutClaim(f"gather {self.name}", self.name, tuple(fams + lay.reads(self.out)),
                            Rows([(0, self.out.length)]))]

    def verifier_claims(self, vc) -> list:
        L = vc.L
        parts = [(1, s.closed_form(vc, [vc.at(x, ZETA)])) for x, s in zip(self.x, self.sel)]
        return [(L.named(L.lincomb(parts), f"gather {self.name}"), vc.at_rho(self.out))]
