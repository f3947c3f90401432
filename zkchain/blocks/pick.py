"""Pick block: a strided gather, ``out[c,i,j] = x[c, i·sh + u, j·sw + v]`` for one fixed tap ``(u, v)``.

Max pooling uses one per window tap: with ``d_w = y − pick_w(x)`` range-checked ``≥ 0`` and
``Π_w d_w = 0`` (a chain of Hadamard products), ``y`` is the window maximum; a 1×1 window is one Pick.

Relation. ``x`` on the grid ``inp``, ``out`` on the grid ``outp`` (its padding cells 0).

Protocol (``docs/protocol.md`` §5.8). After ``x``, ``out`` are committed, ``ρ``; one claim of the Laurent
argument (§5.3) with a structured right side, like the convolution's selection but with no kernel:

    Σ_{c,i,j} ρ^(out index) · x[c, i·sh+u, j·sw+v] = ⟨out, q_N⟩     left ``x``, right ``G(Y)``

``G(Y) = ρ^(top·oWp+left) Y^(u·Wp+v) · ones_C(ρ^(oHp·oWp) Y^(Hp·Wp)) · ones_OH(ρ^(oWp) Y^(sh·Wp)) · ones_OW(ρ Y^sw)``
(grid indices of ``inp`` are absolute: its own padding is part of the layout).
``G`` is supported on ``[0, inp.size)``, so ``x``'s zero-knowledge tail meets zeros.
Verifier equation: ``x(ζ)·G(1/ζ)`` against ``⟨out, q_N⟩``. Openings: ``x``'s and ``out``'s vectors at ζ.

Soundness error ``|out|/r`` (ρ) + §5.3; a non-zero padding cell of ``out`` is caught the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks.common import ZETA
from zkchain.blocks.layout import LayoutClaim, Rows, selection_lin
from zkchain.compiler.circuit import Block, Expr, Grid, Selection


@dataclass(frozen=True)
class Pick(Block):
    """Strided gather of one window tap: ``out[c,i,j] = x[c, i·sh + u, j·sw + v]``."""

    kind = "pick"
    x: Expr
    inp: Grid
    outp: Grid
    u: int
    v: int
    sh: int
    sw: int
    out: Expr
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if self.x.length != self.inp.size or self.out.length != self.outp.size or self.inp.C != self.outp.C:
            raise ValueError(f"{where}: input/output lengths do not match their grids")
        if (self.outp.H - 1) * self.sh + self.u >= self.inp.Hp or (self.outp.W - 1) * self.sw + self.v >= self.inp.Wp:
            raise ValueError(f"{where}: tap outside the input grid")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, ZETA) for v in self.x.vectors()] + [(v, ZETA) for v in self.out.vectors()]

    def selection(self) -> Selection:
        """The tap's index map: ``(c, i, j)`` reads ``x`` at ``c·Hp·Wp + (i·sh + u)·Wp + j·sw + v`` (``inp``'s grid)
        into ``out``'s cell ``(c, i, j)``; the prover's ``G`` and the verifier's closed form both come from it."""
        gi, go = self.inp, self.outp
        return Selection(go.top * go.Wp + go.left, self.u * gi.Wp + self.v,
                         ((go.C, go.Hp * go.Wp, gi.Hp * gi.Wp), (go.H, go.Wp, self.sh * gi.Wp), (go.W, 1, self.sw)))

    def pairs(self):
        """``(input position, output position)`` of every gathered entry (the witness generator's map)."""
        e, r = self.selection().pairs()
        return zip(e.tolist(), r.tolist())

    def prover_claims(self, pc) -> list:
        g = self.selection().coefficients(pc.rho, self.inp.size)
        return [pc.claim([(pc.poly(self.x), g)], self.out, self.name or "pick")]

    def layout(self, lay) -> list:
        fams = (selection_lin(lay.atoms(self.x), self.selection(), "tap"), *lay.reads(self.out))
        return [LayoutClaim(f"pick {self.name}", self.name, fams, Rows([(0, self.out.length)]))]

    def verifier_claims(self, vc) -> list:
        lhs = vc.L.named(self.selection().closed_form(vc, [vc.at(self.x, ZETA)]), f"pick {self.name}")
        return [(lhs, vc.at_rho(self.out))]
