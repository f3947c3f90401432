"""Conv block: 2-D convolution (and sum pooling) with a fixed kernel, as one polynomial product.

Relation. Input ``x`` (C channels on the padded grid ``inp = (C, Hp, Wp)``, its padding cells zero), fixed
kernel ``w[o,c,u,v]`` (OC × C × kh × kw) and bias ``b_o``, strides ``(sh, sw)``:
``out[o,i,j] = b_o + Σ_{c,u,v} w[o,c,u,v] · x[c, i·sh + u, j·sw + v]``, written on the output grid ``outp``
(cell ``(o, i+top, j+left)``; every other cell of ``out`` is zero).

Layout (zkCNN's insight: a convolution is a polynomial product; Liu, Xie, Zhang, CCS 2021). Append a channel
of ones, ``x'(X) = x(X) + X^(C·Hp·Wp)·ones_{Hp·Wp}(X)``, and lay the kernel out with reversed taps and
reversed channels, one block of ``L = 2(C+1)·Hp·Wp`` coefficients per output channel::

    K(X) = Σ_o X^(o·L) [ Σ_{c<C,u,v} w[o,c,u,v] X^((C−c)·Hp·Wp + (kh−1−u)·Wp + (kw−1−v))  +  b_o X^((kh−1)·Wp + kw−1) ]

Then coefficient ``o·L + C·Hp·Wp + (i·sh + kh − 1)·Wp + (j·sw + kw − 1)`` of ``x'·K`` is ``out[o,i,j]``: every
product of a different channel pair lands below or above the valid window (the ``(C − c)`` channel offsets
differ by whole grids), and blocks of different ``o`` do not overlap (each product spans < L).

Protocol. After ``x`` and ``out`` are committed, ``ρ``; the selection vector ``sel_ρ`` has ``ρ^(out index)``
at each valid product position. One claim of the Laurent argument (§5.3):

    constant term of  x'(X)·K(X) · sel_ρ(1/X)  =  out(ρ)

Verifier equation: ``(x(ζ) + ζ^(C·Hp·Wp)·ones_{HpWp}(ζ)) · K(ζ) · sel_ρ(1/ζ)`` against ``out(ρ)``, with
``sel_ρ(y) = ρ^(top·oWp + left) · y^(C·HpWp + (kh−1)Wp + kw−1) · ones_OC(ρ^(oHp·oWp) y^L) ·
ones_OH(ρ^(oWp) y^(sh·Wp)) · ones_OW(ρ y^sw)`` in closed form. Openings: ``K`` and ``x``'s vectors at ``ζ``,
``out``'s vectors at ``ρ``.

PadZero (a padded private input): ``Σ_{pad cells} ρ^pos x_pos = 0``, one claim with right side
``mask_ρ(y) = ones_{C·Hp·Wp}(ρy) − (ρy)^(top·Wp+left)·ones_C((ρy)^(HpWp))·ones_H((ρy)^Wp)·ones_W(ρy)``.

Soundness error. ``out(ρ)`` is compared coefficient by coefficient as polynomials in ρ: a wrong valid cell, or
a non-zero padding cell of ``out``, survives with probability ≤ |out|/r; plus §5.3. The degree check bounds
``x`` to its grid, which the no-overlap argument needs.
"""

from __future__ import annotations

from zkchain.blocks.common import RHO, ZETA, ones_eval, strided_selection_eval
from zkchain.compiler.circuit import Conv, PadZero
from zkchain.crypto.field import R


def block_length(c: Conv) -> int:
    return 2 * (c.inp.C + 1) * c.inp.Hp * c.inp.Wp


def kernel_length(c: Conv) -> int:
    return c.OC * block_length(c)


def kernel_vector(c: Conv, w, bias) -> list[int]:
    """The fixed vector ``K`` from ``w`` (OC×C×kh×kw nested ints) and ``bias`` (OC ints)."""
    C, Hp, Wp = c.inp.C, c.inp.Hp, c.inp.Wp
    L, g = block_length(c), Hp * Wp
    out = [0] * kernel_length(c)
    for o in range(c.OC):
        for cc in range(C):
            for u in range(c.kh):
                for v in range(c.kw):
                    out[o * L + (C - cc) * g + (c.kh - 1 - u) * Wp + (c.kw - 1 - v)] = int(w[o][cc][u][v]) % R
        out[o * L + (c.kh - 1) * Wp + (c.kw - 1)] = int(bias[o]) % R
    return out


def _indices(c: Conv):
    C, Hp, Wp = c.inp.C, c.inp.Hp, c.inp.Wp
    L, g = block_length(c), Hp * Wp
    oo = c.outp
    for o in range(c.OC):
        for i in range(oo.H):
            for j in range(oo.W):
                prod = o * L + C * g + (i * c.sh + c.kh - 1) * Wp + (j * c.sw + c.kw - 1)
                out = o * oo.Hp * oo.Wp + (i + oo.top) * oo.Wp + (j + oo.left)
                yield prod, out


def openings(c: Conv | PadZero) -> list[tuple[str, str]]:
    if isinstance(c, PadZero):
        return [(v, ZETA) for v in c.x.vectors()]
    return [(c.weight, ZETA)] + [(v, ZETA) for v in c.x.vectors()] + [(v, RHO) for v in c.out.vectors()]


def input_with_ones(c: Conv, x_entries: list[int]) -> list[int]:
    """Entries of ``x'`` (x followed by a channel of ones)."""
    return list(x_entries) + [1] * (c.inp.Hp * c.inp.Wp)


def selection(c: Conv, rho: int) -> list[int]:
    """Coefficients of ``sel_ρ`` (``kernel_length`` entries)."""
    sel = [0] * kernel_length(c)
    for prod, out in _indices(c):
        sel[prod] = pow(rho, out, R)
    return sel


def selection_eval(c: Conv, rho: int, y: int) -> int:
    """``sel_ρ(y)`` in closed form."""
    C, Hp, Wp = c.inp.C, c.inp.Hp, c.inp.Wp
    oo = c.outp
    return strided_selection_eval(
        rho, y, (oo.top * oo.Wp + oo.left, C * Hp * Wp + (c.kh - 1) * Wp + c.kw - 1),
        [(c.OC, oo.Hp * oo.Wp, block_length(c)), (oo.H, oo.Wp, c.sh * Wp), (oo.W, 1, c.sw)])


def verifier_term(c: Conv, x_at_zeta: int, k_at_zeta: int, zeta: int, zeta_inv: int, rho: int) -> int:
    g = c.inp.Hp * c.inp.Wp
    xp = (x_at_zeta + pow(zeta, c.inp.C * g, R) * ones_eval(g, zeta)) % R
    return xp * k_at_zeta % R * selection_eval(c, rho, zeta_inv) % R


def pad_mask(grid, rho: int) -> list[int]:
    """Coefficients ``ρ^pos`` at the padding cells of ``grid``, 0 elsewhere."""
    inside = set()
    for ch in range(grid.C):
        for i in range(grid.H):
            for j in range(grid.W):
                inside.add(ch * grid.Hp * grid.Wp + (i + grid.top) * grid.Wp + (j + grid.left))
    return [0 if p in inside else pow(rho, p, R) for p in range(grid.size)]


def pad_mask_eval(grid, rho: int, y: int) -> int:
    t = rho * y % R
    inner = (pow(t, grid.top * grid.Wp + grid.left, R) * ones_eval(grid.C, pow(t, grid.Hp * grid.Wp, R))
             * ones_eval(grid.H, pow(t, grid.Wp, R)) % R * ones_eval(grid.W, t))
    return (ones_eval(grid.size, t) - inner) % R
