"""Pick block: a strided gather, ``out[c,i,j] = x[c, i·sh + u, j·sw + v]`` for one fixed tap ``(u, v)``.

Max pooling uses one per window tap: with ``d_w = y − pick_w(x)`` range-checked ``≥ 0`` and
``Π_w d_w = 0`` (a chain of Hadamard products), ``y`` is the window maximum.

Relation. ``x`` on the grid ``inp``, ``out`` on the grid ``outp`` (its padding cells 0).

Protocol (``docs/protocol.md`` §5.8). After ``x``, ``out`` are committed, ``ρ``; one claim of the Laurent
argument (§5.3) with a structured right side, like the convolution's selection but with no kernel:

    Σ_{c,i,j} ρ^(out index) · x[c, i·sh+u, j·sw+v] = out(ρ)     left ``x``, right ``G(Y)``, value ``out(ρ)``

``G(Y) = ρ^(top·oWp+left) Y^(u·Wp+v) · ones_C(ρ^(oHp·oWp) Y^(Hp·Wp)) · ones_OH(ρ^(oWp) Y^(sh·Wp)) · ones_OW(ρ Y^sw)``
(grid indices of ``inp`` are absolute: its own padding is part of the layout).
Verifier equation: ``x(ζ)·G(1/ζ)`` against ``out(ρ)``. Openings: ``x``'s vectors at ζ, ``out``'s at ρ.

Soundness error ``|out|/r`` (ρ) + §5.3; a non-zero padding cell of ``out`` is caught the same way.
"""

from __future__ import annotations

from zkchain.blocks.common import RHO, ZETA, strided_selection_eval
from zkchain.compiler.circuit import Pick
from zkchain.crypto.field import R


def openings(c: Pick) -> list[tuple[str, str]]:
    return [(v, ZETA) for v in c.x.vectors()] + [(v, RHO) for v in c.out.vectors()]


def _pairs(c: Pick):
    gi, go = c.inp, c.outp
    for ch in range(go.C):
        for i in range(go.H):
            for j in range(go.W):
                src = ch * gi.Hp * gi.Wp + (i * c.sh + c.u) * gi.Wp + (j * c.sw + c.v)
                dst = ch * go.Hp * go.Wp + (i + go.top) * go.Wp + (j + go.left)
                yield src, dst


def prover_right(c: Pick, rho: int) -> list[int]:
    """Coefficients of ``G`` (``inp.size`` entries)."""
    g = [0] * c.inp.size
    for src, dst in _pairs(c):
        g[src] = pow(rho, dst, R)
    return g


def gather_eval(c: Pick, rho: int, y: int) -> int:
    gi, go = c.inp, c.outp
    return strided_selection_eval(
        rho, y, (go.top * go.Wp + go.left, c.u * gi.Wp + c.v),
        [(go.C, go.Hp * go.Wp, gi.Hp * gi.Wp), (go.H, go.Wp, c.sh * gi.Wp), (go.W, 1, c.sw)])


def verifier_term(c: Pick, x_at_zeta: int, zeta_inv: int, rho: int) -> int:
    return x_at_zeta * gather_eval(c, rho, zeta_inv) % R
