"""Univariate polynomials over Fr (BN254's scalar field), on python-flint's ``fmpz_mod_poly``.

How vectors are held (``docs/protocol.md`` §1): a vector ``v ∈ Fr^N`` *is* the polynomial
``v(X) = Σ_{i<N} v_i X^i`` — monomial (coefficient) basis, index 0 first. At API boundaries a vector is a
Python ``list[int]`` with entries in ``[0, R)``; inside computations it is a flint ``fmpz_mod_poly`` whose
context has modulus R (``poly(list)`` and ``coeffs(p)`` convert, ~0.5 µs per coefficient). Flint multiplies,
divides and evaluates in C (degree 2^16 multiply ≈ 0.2 s), so protocol code composes flint polynomials and
converts to ints only to commit (MSM) or to hash.

Division by ``X − x`` (KZG opening quotient, Kate–Zaverucha–Goldberg 2010 §3) and by the sparse
``X^k − c`` (the matmul reduction of ``docs/protocol.md``) are done by synthetic division in O(n).
NTT / inverse NTT over power-of-two subgroups of Fr* are provided for evaluation-form data.
"""

from __future__ import annotations

from collections.abc import Sequence

import flint

from zkchain.crypto.field import R, batch_inverse, root_of_unity

#: The flint context of polynomials over Fr.
CTX = flint.fmpz_mod_poly_ctx(R)
Poly = flint.fmpz_mod_poly


def poly(coeffs: Sequence[int] | Poly) -> Poly:
    """Polynomial with coefficients ``coeffs`` (index 0 = constant term; any ints, reduced mod r).
    A flint polynomial is returned unchanged."""
    if isinstance(coeffs, Poly):
        return coeffs
    return CTX(list(coeffs))


def zero() -> Poly:
    return CTX.zero()


def X() -> Poly:
    """The indeterminate X."""
    return CTX.gen()


def coeffs(p: Poly | Sequence[int], n: int | None = None) -> list[int]:
    """Coefficient list of ``p`` (ints in ``[0, R)``, index 0 first). With ``n``: padded with zeros or truncated
    to exactly ``n`` entries (truncation drops high coefficients — callers decide if that is an error)."""
    if isinstance(p, Poly):
        out = list(map(int, p.coeffs()))
    else:
        out = [c % R for c in p]
    if n is not None:
        out = out[:n] + [0] * (n - len(out)) if len(out) < n else out[:n]
    return out


def degree(p: Poly) -> int:
    """Degree; ``-1`` for the zero polynomial."""
    return p.degree()


def evaluate(p: Poly | Sequence[int], x: int) -> int:
    """``p(x)`` as an int in ``[0, R)``."""
    return int(poly(p)(x % R))


def evaluate_many(p: Poly, xs: Sequence[int]) -> list[int]:
    """``[p(x) for x in xs]`` via flint's subproduct-tree multipoint evaluation."""
    if not xs:
        return []
    return [int(v) for v in p.multipoint_evaluate([x % R for x in xs])]


def add(a: Poly, b: Poly) -> Poly:
    return a + b


def sub(a: Poly, b: Poly) -> Poly:
    return a - b


def mul(a: Poly, b: Poly) -> Poly:
    return a * b


def scale(p: Poly, c: int) -> Poly:
    """``c · p``."""
    return p * (c % R)


def shift(p: Poly, k: int) -> Poly:
    """``X^k · p`` (k ≥ 0), e.g. the degree-bound shift ``X^(D−d)·f``."""
    return p.left_shift(k) if k else p


def linear_combination(polys: Sequence[Poly], weights: Sequence[int]) -> Poly:
    """``Σ weights[j]·polys[j]`` (the batched polynomial of a one-point opening)."""
    acc = CTX.zero()
    for p, w in zip(polys, weights, strict=True):
        if w % R:
            acc += poly(p) * (w % R)
    return acc


def div_linear(p: Poly | Sequence[int], x: int) -> tuple[Poly, int]:
    """Divide by ``X − x``: returns ``(q, p(x))`` with ``p = q·(X − x) + p(x)`` (synthetic division)."""
    c = coeffs(p)
    x %= R
    n = len(c)
    if n == 0:
        return CTX.zero(), 0
    q = [0] * (n - 1)
    acc = 0
    for i in range(n - 1, 0, -1):
        acc = (acc * x + c[i]) % R
        q[i - 1] = acc
    value = (acc * x + c[0]) % R
    return CTX(q), value


def divmod_sparse(p: Poly | Sequence[int], k: int, c: int) -> tuple[Poly, Poly]:
    """Divide by the sparse ``X^k − c`` (k ≥ 1): returns ``(q, rem)`` with ``p = q·(X^k − c) + rem``,
    ``deg rem < k``. O(deg p): coefficient ``i ≥ k`` of the running remainder folds onto ``i − k`` times c."""
    if k < 1:
        raise ValueError(f"divmod_sparse: k must be ≥ 1, got {k}")
    a = coeffs(p)
    c %= R
    n = len(a)
    if n <= k:
        return CTX.zero(), CTX(a)
    q = [0] * (n - k)
    for i in range(n - 1, k - 1, -1):
        t = a[i]
        if t:
            q[i - k] = t
            a[i - k] = (a[i - k] + t * c) % R
    return CTX(q), CTX(a[:k])


def divmod_poly(a: Poly, b: Poly) -> tuple[Poly, Poly]:
    """General Euclidean division ``a = q·b + r`` (flint). Raises ``ZeroDivisionError`` if ``b = 0``."""
    if b.is_zero():
        raise ZeroDivisionError("polynomial division by zero")
    return divmod(a, b)


def vanishing(xs: Sequence[int]) -> Poly:
    """``Π (X − x_i)`` by a balanced product tree."""
    layer = [CTX([(-x) % R, 1]) for x in xs] or [CTX.one()]
    while len(layer) > 1:
        layer = [layer[i] * layer[i + 1] if i + 1 < len(layer) else layer[i] for i in range(0, len(layer), 2)]
    return layer[0]


def interpolate(xs: Sequence[int], ys: Sequence[int]) -> Poly:
    """The unique polynomial of degree < n through ``(xs[i], ys[i])`` (distinct xs). Lagrange form summed by a
    product tree: O(n log² n) flint operations. Raises ``ValueError`` on repeated points or length mismatch."""
    if len(xs) != len(ys):
        raise ValueError(f"interpolate: {len(xs)} points but {len(ys)} values")
    n = len(xs)
    if n == 0:
        return CTX.zero()
    xs = [x % R for x in xs]
    if len(set(xs)) != n:
        raise ValueError("interpolate: the points are not distinct")
    z = vanishing(xs)
    denom = evaluate_many(z.derivative(), xs)  # Z'(x_i) = Π_{j≠i} (x_i − x_j)
    w = [y * d % R for y, d in zip(ys, batch_inverse(denom))]
    # combine (Z_S, N_S = Σ_{i∈S} w_i Π_{j∈S, j≠i}(X − x_j)) pairwise up the tree
    layer = [(CTX([(-x) % R, 1]), CTX([wi])) for x, wi in zip(xs, w)]
    while len(layer) > 1:
        nxt = []
        for i in range(0, len(layer), 2):
            if i + 1 == len(layer):
                nxt.append(layer[i])
                continue
            (zl, nl), (zr, nr) = layer[i], layer[i + 1]
            nxt.append((zl * zr, nl * zr + nr * zl))
        layer = nxt
    return layer[0][1]


# -- NTT over H = <ω>, |H| = n a power of two -----------------------------------------------------------------


def _ntt_in_place(a: list[int], omega: int) -> None:
    n = len(a)
    j = 0
    for i in range(1, n):  # bit-reversal permutation
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    length = 2
    while length <= n:
        w_len = pow(omega, n // length, R)
        half = length // 2
        ws = [1] * half
        for k in range(1, half):
            ws[k] = ws[k - 1] * w_len % R
        for start in range(0, n, length):
            for k in range(half):
                u = a[start + k]
                v = a[start + k + half] * ws[k] % R
                a[start + k] = (u + v) % R
                a[start + k + half] = (u - v) % R
        length <<= 1


def ntt(values: Sequence[int], n: int | None = None) -> list[int]:
    """Evaluations ``[f(ω^0), …, f(ω^(n−1))]`` of ``f = Σ values[i] X^i`` on the size-n subgroup
    (``ω = root_of_unity(n)``; n defaults to the next power of two ≥ len). Pure Python radix-2, O(n log n)."""
    n = n or max(1, 1 << (len(values) - 1).bit_length())
    if len(values) > n:
        raise ValueError(f"ntt: {len(values)} coefficients do not fit a domain of size {n}")
    a = [v % R for v in values] + [0] * (n - len(values))
    _ntt_in_place(a, root_of_unity(n))
    return a


def intt(evals: Sequence[int]) -> list[int]:
    """Inverse of :func:`ntt`: coefficients (length n) of the polynomial with ``f(ω^i) = evals[i]``."""
    n = len(evals)
    a = [v % R for v in evals]
    _ntt_in_place(a, pow(root_of_unity(n), -1, R))
    n_inv = pow(n, -1, R)
    return [v * n_inv % R for v in a]
