"""Conv block: 2-D convolution (and sum pooling) with a fixed kernel, as one polynomial product; PadZero.

Relation. Input ``x`` (C channels on the padded grid ``inp = (C, Hp, Wp)``, its padding cells zero), fixed
kernel ``w[o,c,u,v]`` (OC × C × kh × kw) and bias ``b_o``, strides ``(sh, sw)``:
``out[o,i,j] = b_o + Σ_{c,u,v} w[o,c,u,v] · x[c, i·sh + u, j·sw + v]``, written on the output grid ``outp``
(cell ``(o, i+top, j+left)``; every other cell of ``out`` is zero).

Layout (zkCNN's insight: a convolution is a polynomial product; Liu, Xie, Zhang, CCS 2021), v2
(``docs/protocol.md`` §7.3). With ``g = Hp·Wp``, put a channel of ones *first*, ``x'(X) = ones_g(X) + X^g·x(X)``:
data channel ``c`` sits in slot ``c + 1`` and ``x``'s zero-knowledge tail in slot ``C + 1`` (an extra channel
whose kernel is zero). The kernel has reversed taps and reversed channels, one block of
``L = (C+1)·g + max(G, g)`` coefficients per output channel (``G`` = :data:`RESERVED_SPAN`)::

    K(X) = Σ_o X^(o·L) [ Σ_{c<C,u,v} w[o,c,u,v] X^((C−c)·g + (kh−1−u)·Wp + (kw−1−v))  +  b_o X^((C+1)·g + (kh−1)·Wp + kw−1) ]

(slot 0 of every block is empty). Coefficient ``o·L + (C+1)·g + (i·sh + kh − 1)·Wp + (j·sw + kw − 1)`` of
``x'·K`` is ``out[o,i,j]``: products of other channel pairs (the tail's included) never land on a valid position,
and blocks of different ``o`` do not overlap (checked over random shapes in ``tests/protocol/test_conv.py``).

Protocol. After ``x`` and ``out`` are committed, ``ρ``; the selection vector ``sel_ρ`` has ``ρ^(out index)``
at each valid product position. Two claims of the Laurent argument (§5.3):

    constant term of  x'(X)·K(X) · sel_ρ(1/X)  =  ⟨out, q_N⟩
    ⟨K, Z_ρ⟩ = 0,  Z_ρ(y) = ones_{OC·L}(ρy) − taps(ρy) − bias(ρy)       (K is zero off its tap/bias pattern)

with ``taps(y) = ones_OC(y^L)·y^g·ones_C(y^g)·ones_kh(y^Wp)·ones_kw(y)`` and
``bias(y) = y^((C+1)g + (kh−1)Wp + kw−1)·ones_OC(y^L)``. The second claim pins the empty slot the tail meets
(the model owner runs setup; ZK-DESIGN §10.1) and every other off-pattern entry (which could otherwise hide a
larger receptive field). Verifier terms: ``(ones_g(ζ) + ζ^g·x(ζ)) · K(ζ) · sel_ρ(1/ζ)`` against the output's value,
with ``sel_ρ(y) = ρ^(top·oWp + left) · y^((C+1)g + (kh−1)Wp + kw−1) · ones_OC(ρ^(oHp·oWp) y^L) ·
ones_OH(ρ^(oWp) y^(sh·Wp)) · ones_OW(ρ y^sw)``, and ``K(ζ)·Z_ρ(1/ζ)`` against 0. Openings: ``K``, ``x``'s and
``out``'s vectors at ``ζ``.

PadZero (a padded model input): ``Σ_{pad cells} ρ^pos x_pos = value·Σ_{pad cells} ρ^pos``, one claim with right
side ``mask_ρ(y) = ones_{C·Hp·Wp}(ρy) − (ρy)^(top·Wp+left)·ones_C((ρy)^(HpWp))·ones_H((ρy)^Wp)·ones_W(ρy)``.

Soundness error. ``out``'s data are compared coefficient by coefficient as polynomials in ρ: a wrong valid
cell, or a non-zero padding cell of ``out``, survives with probability ≤ |out|/r; an off-pattern kernel entry
survives the pin with probability ≤ OC·L/r; plus §5.3. The degree check bounds ``x`` (data and tail) to
``size + G``, which the no-overlap argument needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks.common import RESERVED_SPAN, ZETA
from zkchain.blocks.layout import Anti, Atom, LayoutClaim, Rows, positions_lin
from zkchain.compiler.circuit import Block, Expr, Grid, Selection, complement_closed_form, complement_coefficients
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R


@dataclass(frozen=True)
class Conv(Block):
    """2-D convolution with fixed kernel: ``out[o,i,j] = bias_o + Σ_{c,u,v} w[o,c,u,v]·x[c, i·sh+u, j·sw+v]``.

    ``x`` lives on ``inp`` (its padding is the convolution's zero padding), ``out`` on ``outp``.
    ``weight`` names the fixed kernel polynomial (layout above). Sum pooling is a convolution with a fixed 0/1
    kernel."""

    kind = "conv"
    x: Expr
    weight: str
    inp: Grid
    outp: Grid
    OC: int
    kh: int
    kw: int
    sh: int
    sw: int
    out: Expr
    name: str = ""

    @property
    def block_length(self) -> int:
        g = self.inp.Hp * self.inp.Wp
        return (self.inp.C + 1) * g + max(RESERVED_SPAN, g)

    @property
    def kernel_length(self) -> int:
        return self.OC * self.block_length

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        circuit.fixed_vector(self.weight, self.kernel_length, where)
        if self.x.length != self.inp.size or self.out.length != self.outp.size or self.outp.C != self.OC:
            raise ValueError(f"{where}: input/output lengths do not match their grids")
        if (self.inp.Hp - self.kh) // self.sh + 1 != self.outp.H or (self.inp.Wp - self.kw) // self.sw + 1 != self.outp.W:
            raise ValueError(f"{where}: output grid does not match kernel and strides")

    def extra_degree(self) -> int:
        """The left side ``x'·K`` is the longest polynomial of the claim (its Laurent quotient as long)."""
        return self.inp.size + RESERVED_SPAN + self.inp.Hp * self.inp.Wp + self.kernel_length - 1

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(self.weight, ZETA)] + [(v, ZETA) for v in self.x.vectors()] + [(v, ZETA) for v in self.out.vectors()]

    @property
    def window_base(self) -> int:
        """Offset of output ``(o, 0, 0)``'s product within block ``o``: ``(C+1)·g + (kh−1)·Wp + kw − 1``."""
        return (self.inp.C + 1) * self.inp.Hp * self.inp.Wp + (self.kh - 1) * self.inp.Wp + self.kw - 1

    def kernel_vector(self, w, bias) -> list[int]:
        """The fixed vector ``K`` from ``w`` (OC×C×kh×kw nested ints) and ``bias`` (OC ints)."""
        C, Hp, Wp = self.inp.C, self.inp.Hp, self.inp.Wp
        L, g = self.block_length, Hp * Wp
        out = [0] * self.kernel_length
        for o in range(self.OC):
            for cc in range(C):
                for u in range(self.kh):
                    for v in range(self.kw):
                        out[o * L + (C - cc) * g + (self.kh - 1 - u) * Wp + (self.kw - 1 - v)] = int(w[o][cc][u][v]) % R
            out[o * L + self.window_base] = int(bias[o]) % R
        return out

    def taps(self) -> Selection:
        """The kernel's tap positions ``o·L + (C−c)·g + u·Wp + v`` (``c < C``, ``u < kh``, ``v < kw``) as a diagonal
        selection (entry ``p`` weighted ``ρ^p``)."""
        C, Wp, g, Lb = self.inp.C, self.inp.Wp, self.inp.Hp * self.inp.Wp, self.block_length
        return Selection(g, g, ((self.OC, Lb, Lb), (C, g, g), (self.kh, Wp, Wp), (self.kw, 1, 1)))

    def bias_slots(self) -> Selection:
        """The bias positions ``o·L + window_base`` as a diagonal selection."""
        Lb = self.block_length
        return Selection(self.window_base, self.window_base, ((self.OC, Lb, Lb),))

    def pin(self, rho: int) -> list[int]:
        """Coefficients of ``Z_ρ``: ``ρ^p`` at every position of ``K`` off the tap/bias pattern."""
        return complement_coefficients(rho, self.kernel_length, (self.taps(), self.bias_slots()))

    def pin_eval(self, vc):
        """``Z_ρ(1/ζ) = ones_{OC·L}(ρ/ζ) − taps(ρ/ζ) − bias(ρ/ζ)`` from the same two selections."""
        return complement_closed_form(vc, self.kernel_length, (self.taps(), self.bias_slots()))

    def selection(self) -> Selection:
        """``sel_ρ``: product position ``o·L + window_base + i·sh·Wp + j·sw`` of ``x'·K`` holds ``out[o, i, j]``
        (cell ``(o, top+i, left+j)`` of ``outp``); the prover's coefficients and the verifier's closed form."""
        oo = self.outp
        return Selection(oo.top * oo.Wp + oo.left, self.window_base,
                         ((self.OC, oo.Hp * oo.Wp, self.block_length), (oo.H, oo.Wp, self.sh * self.inp.Wp),
                          (oo.W, 1, self.sw)))

    def prover_claims(self, pc) -> list:
        xp = [1] * (self.inp.Hp * self.inp.Wp) + pc.poly(self.x)  # x' = ones_g + X^g·x
        k = pc.committed(self.weight)
        xk = fpoly.poly(xp) * fpoly.poly(k)
        return [pc.claim([(fpoly.coeffs(xk), self.selection().coefficients(pc.rho, self.kernel_length))], self.out,
                          self.name or "conv"),
                pc.claim([(k, self.pin(pc.rho))], None, f"{self.name or 'conv'} kernel pattern")]

    def closed_forms(self, circuit) -> dict:
        """A parameter-free kernel is the sum-pool kernel (``w[o,o,u,v] = 1``, ``OC = C``, bias 0), whose taps
        ``o·L + (C−o)·g + (kh−1−u)·Wp + (kw−1−v)`` sum to ``K(ζ) = ζ^(C·g)·ones_C(ζ^(L−g))·ones_kh(ζ^Wp)·ones_kw(ζ)``
        (evaluated through ``ζ^−m`` points)."""
        from zkchain.compiler.circuit import PARAMETER_FREE

        if circuit.vectors[self.weight].role != PARAMETER_FREE:
            return {}
        C, Wp, g, Lb = self.inp.C, self.inp.Wp, self.inp.Hp * self.inp.Wp, self.block_length

        def kernel(vc, point):
            if point != ZETA:
                raise ValueError(f"sum-pool kernel {self.weight!r} is only read at zeta")
            L = vc.L
            # ones_n(ζ^m) = ζ^(m(n−1))·ones_n(ζ^−m): every point stays a ρ^a·ζ^−b the loaders know
            top = C * g + (Lb - g) * (C - 1) + Wp * (self.kh - 1) + self.kw - 1
            return L.named(L.prod([L.pow(vc.zeta, top), L.ones(C, L.point(0, Lb - g)), L.ones(self.kh, L.point(0, Wp)),
                                   L.ones(self.kw, vc.zeta_inv)]), f"sum-pool kernel {self.weight}")

        return {self.weight: kernel}

    def sumpool_kernel(self) -> list[int]:
        """The sum-pool kernel's coefficients (what :meth:`closed_forms` evaluates)."""
        eye = [[[[int(o == c)] * self.kw for _ in range(self.kh)] for c in range(self.inp.C)] for o in range(self.OC)]
        return self.kernel_vector(eye, [0] * self.OC)

    def off_pattern(self):
        """Positions of ``K`` the pattern pin forces to zero (every slot but the taps and the bias)."""
        keep = np.concatenate([self.taps().pairs()[0], self.bias_slots().pairs()[0]])
        return np.setdiff1d(np.arange(self.kernel_length, dtype=np.int64), keep)

    def layout(self, lay) -> list:
        """``x'[a]`` meets ``K[b]`` at every product position ``a + b`` the selection reads (row: its output
        cell); the pattern pin's positions are verifiable zeros of ``K``."""
        g = self.inp.Hp * self.inp.Wp
        V, rows = self.selection().pairs()
        xp = lay.constant(g) + lay.atoms(self.x, g)
        product = (Anti(xp, (Atom(self.weight),), V, rows, "x'·K at sel_ρ"), *lay.reads(self.out))
        pin = positions_lin((Atom(self.weight),), self.off_pattern(), what="kernel pattern pin")
        return [LayoutClaim(f"conv {self.name}", self.name, product, Rows([(0, self.out.length)])),
                LayoutClaim(f"conv pattern {self.name}", self.name, (pin,), pin=True)]

    def verifier_claims(self, vc) -> list:
        L, g = vc.L, self.inp.Hp * self.inp.Wp
        xp = L.ones(g, vc.zeta) + L.pow(vc.zeta, g) * vc.at(self.x, ZETA)
        k = vc.vec(self.weight, ZETA)
        lhs = L.named(self.selection().closed_form(vc, [xp, k]), f"conv {self.name}")
        return [(lhs, vc.at_rho(self.out)),
                (L.named(k * self.pin_eval(vc), f"conv pattern {self.name}"), L.const(0))]


@dataclass(frozen=True)
class PadZero(Block):
    """The padding cells of ``x`` (laid out on ``grid``) hold ``value`` (0 for a convolution's input, a value
    below every real entry for a max pooling's input)."""

    kind = "padzero"
    x: Expr
    grid: Grid
    name: str = ""
    value: int = 0

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if self.x.length != self.grid.size:
            raise ValueError(f"{where}: vector length does not match its grid")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, ZETA) for v in self.x.vectors()]

    def inside(self) -> Selection:
        """The grid's data cells as a diagonal selection (cell ``p`` weighted ``ρ^p``)."""
        gr = self.grid
        at = gr.top * gr.Wp + gr.left
        return Selection(at, at, ((gr.C, gr.Hp * gr.Wp, gr.Hp * gr.Wp), (gr.H, gr.Wp, gr.Wp), (gr.W, 1, 1)))

    def mask(self, rho: int) -> list[int]:
        """Coefficients ``ρ^pos`` at the padding cells of the grid, 0 elsewhere."""
        return complement_coefficients(rho, self.grid.size, (self.inside(),))

    def mask_eval(self, vc, b: int):
        """``mask_ρ(y)`` at ``y = 1/ζ`` (``b = 1``) or ``y = 1`` (``b = 0``): ``ones_size(ρy) − inside(y)``."""
        return complement_closed_form(vc, self.grid.size, (self.inside(),), at_one=not b)

    def prover_claims(self, pc) -> list:
        mask = self.mask(pc.rho)
        return [pc.claim([(pc.poly(self.x), mask)], None, self.name or "padding", self.value * sum(mask))]

    def layout(self, lay) -> list:
        """The padding cells, each in its own row (all relation rows)."""
        pad = np.setdiff1d(np.arange(self.grid.size, dtype=np.int64), self.inside().pairs()[0])
        return [LayoutClaim(f"pad {self.name}", self.name, (positions_lin(lay.atoms(self.x), pad, what="mask_ρ"),),
                            Rows.positions(pad))]

    def verifier_claims(self, vc) -> list:
        L = vc.L
        lhs = L.named(vc.at(self.x, ZETA) * self.mask_eval(vc, 1), f"pad {self.name}")
        value = L.named(L.const(self.value % R) * self.mask_eval(vc, 0), f"pad value {self.name}") \
            if self.value % R else L.const(0)
        return [(lhs, value)]
