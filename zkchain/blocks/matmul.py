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

from zkchain.blocks.common import RHO, ZETA, ZETA_INV, ones_eval
from zkchain.compiler.circuit import MatMul
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


def openings(c: MatMul) -> list[tuple[str, str]]:
    """(vector, point) pairs this block reads."""
    return ([(c.weight, ZETA)] + [(v, ZETA_INV) for v in c.x.vectors()] + [(v, RHO) for v in c.out.vectors()])


def prover_terms(c: MatMul, x_entries: list[int], rho: int) -> list[int]:
    """The coefficients of ``Q̂(Y) = u(Y) = (x(Y) + Y^k)·S_ρ(Y)`` ((k+1)·n entries for an honest ``x``); the left
    side is ``W'``. Computed as the polynomial product for whatever ``x`` polynomial was committed (a cheating
    prover's longer ``x`` spills into the bias slot and the next row, exactly as the verifier's ``u(1/ζ)`` sees it)."""
    k, n = c.k, c.n
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


def verifier_term(c: MatMul, w_at_zeta: int, x_at_zeta_inv: int, zeta_inv: int, rho: int) -> int:
    """``W'(ζ) · u(1/ζ)`` computed from openings (the value ``v`` is ``out(ρ)``)."""
    k, n = c.k, c.n
    u = (x_at_zeta_inv + pow(zeta_inv, k, R)) * ones_eval(n, rho * pow(zeta_inv, k + 1, R)) % R
    return w_at_zeta * u % R

