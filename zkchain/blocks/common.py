"""Shared vocabulary of the basic blocks: opening points, closed-form evaluations, expression evaluation.

Every block's verifier equation is written over evaluations of committed polynomials at four global points
(``docs/protocol.md`` §4): ``ρ`` (linear relations, matmul outputs), ``ζ`` (inner-product left sides,
degree checks), ``1/ζ`` (inner-product right sides) and ``ρ/ζ`` (Hadamard right sides). A whole model opens
at these four points only, so the proof carries four KZG opening proofs whatever its size.
"""

from __future__ import annotations

from typing import Callable

from zkchain.compiler.circuit import Expr
from zkchain.crypto.field import R, inv

RHO, ZETA, ZETA_INV, RHO_ZETA_INV = "rho", "zeta", "zeta_inv", "rho_zeta_inv"
POINTS = (RHO, ZETA, ZETA_INV, RHO_ZETA_INV)


def point_values(rho: int, zeta: int) -> dict[str, int]:
    """The four opening points as field elements. ``ζ ≠ 0`` (a zero challenge is rejected upstream)."""
    zi = inv(zeta)
    return {RHO: rho, ZETA: zeta, ZETA_INV: zi, RHO_ZETA_INV: rho * zi % R}


def ones_eval(n: int, x: int) -> int:
    """``ones_n(x) = Σ_{i<n} x^i = (x^n − 1)/(x − 1)`` (``n`` when ``x = 1``)."""
    x %= R
    if x == 1:
        return n % R
    return (pow(x, n, R) - 1) * inv(x - 1) % R


def iota_eval(n: int, x: int) -> int:
    """``Σ_{i<n} i·x^i = x·(1 − n·x^(n−1) + (n−1)·x^n)/(1 − x)^2`` (``n(n−1)/2`` when ``x = 1``)."""
    x %= R
    if x == 1:
        return n * (n - 1) // 2 % R
    num = x * (1 - n * pow(x, n - 1, R) + (n - 1) * pow(x, n, R)) % R
    return num * inv((1 - x) * (1 - x)) % R


def expr_eval(e: Expr, x: int, vec: Callable[[str], int]) -> int:
    """Evaluate expression ``e`` at ``x`` given each vector's evaluation ``vec(name)`` at ``x``."""
    acc = e.const * ones_eval(e.length, x) if e.const else 0
    for t in e.terms:
        acc += t.coef * pow(x, t.shift, R) * vec(t.vector)
    return acc % R


def expr_values(e: Expr, values: Callable[[str], list[int]]) -> list[int]:
    """The entries of expression ``e`` (``e.length`` field elements) from the vectors' entries."""
    out = [e.const % R] * e.length
    for t in e.terms:
        v = values(t.vector)
        c = t.coef % R
        if len(v) + t.shift > len(out):  # only a cheating prover's over-long vector (soundness tests)
            out += [0] * (len(v) + t.shift - len(out))
        for i, a in enumerate(v):
            out[i + t.shift] = (out[i + t.shift] + c * a) % R
    return out


def strided_selection_eval(rho: int, y: int, base: tuple[int, int], steps: list[tuple[int, int, int]]) -> int:
    """Closed form of ``Σ_{i_1<n_1} Σ_{i_2<n_2} … ρ^(r_0 + Σ_k i_k·r_k) · y^(e_0 + Σ_k i_k·e_k)``.

    ``base = (r_0, e_0)``; ``steps`` lists ``(n_k, r_k, e_k)``. The sum factors into a product of geometric
    series ``ones_{n_k}(ρ^(r_k)·y^(e_k))``: the selection vectors of the convolution and pick blocks, which
    put ``ρ^(output index)`` at each input or product position of a strided grid walk."""
    acc = pow(rho, base[0], R) * pow(y, base[1], R) % R
    for n, r_step, e_step in steps:
        acc = acc * ones_eval(n, pow(rho, r_step, R) * pow(y, e_step, R)) % R
    return acc
