"""Fr helpers and flint-backed polynomial arithmetic (zkchain.crypto.field / poly)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkchain.crypto import field
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import P, R

fr = st.integers(min_value=0, max_value=R - 1)
coeff_lists = st.lists(fr, min_size=0, max_size=40)


def test_moduli_are_bn254():
    from py_ecc import optimized_bn128 as bn
    assert R == bn.curve_order and P == bn.field_modulus


def test_inverse_and_batch_inverse():
    xs = [1, 2, R - 1, 12345678901234567890]
    assert field.batch_inverse(xs) == [field.inv(x) for x in xs]
    assert all(x * y % R == 1 for x, y in zip(xs, field.batch_inverse(xs)))
    assert field.batch_inverse([]) == []
    with pytest.raises(ZeroDivisionError):
        field.inv(R)
    with pytest.raises(ZeroDivisionError, match="element 1"):
        field.batch_inverse([3, 0, 5])


def test_to_signed_cutoff():
    assert field.to_signed(5) == 5
    assert field.to_signed(R - 5) == -5
    assert field.to_signed(R // 2) == R // 2
    assert field.to_signed(R // 2 + 1) == R // 2 + 1 - R


def test_roots_of_unity_have_exact_order():
    w = field.ROOT_OF_UNITY_2_28
    assert pow(w, 1 << 28, R) == 1 and pow(w, 1 << 27, R) != 1
    w8 = field.root_of_unity(8)
    assert pow(w8, 8, R) == 1 and pow(w8, 4, R) == R - 1
    with pytest.raises(ValueError):
        field.root_of_unity(12)


@given(coeff_lists, fr)
def test_div_linear(c, x):
    p = fpoly.poly(c)
    q, y = fpoly.div_linear(p, x)
    assert y == fpoly.evaluate(p, x)
    assert q * fpoly.poly([(-x) % R, 1]) + y == p


@given(coeff_lists, st.integers(min_value=1, max_value=12), fr)
def test_divmod_sparse(c, k, cst):
    p = fpoly.poly(c)
    q, rem = fpoly.divmod_sparse(p, k, cst)
    divisor = fpoly.poly([(-cst) % R] + [0] * (k - 1) + [1])
    assert q * divisor + rem == p
    assert rem.degree() < k
    assert (q, rem) == fpoly.divmod_poly(p, divisor)


def test_divmod_sparse_matches_matmul_reduction():
    # A (2x3) row-major, reduced mod X^k - z^n: a_l = Σ_i z^(n·i) A[i,l] (docs/protocol.md matmul route)
    A = [[1, 2, 3], [4, 5, 6]]
    z, n, k = 7, 4, 3
    _, a = fpoly.divmod_sparse(fpoly.poly([v for row in A for v in row]), k, pow(z, n, R))
    assert fpoly.coeffs(a, k) == [sum(pow(z, n * i, R) * A[i][l] for i in range(2)) % R for l in range(k)]


@settings(max_examples=25)
@given(st.lists(fr, min_size=1, max_size=24, unique=True), st.data())
def test_interpolate(xs, data):
    ys = data.draw(st.lists(fr, min_size=len(xs), max_size=len(xs)))
    p = fpoly.interpolate(xs, ys)
    assert p.degree() < len(xs)
    assert fpoly.evaluate_many(p, xs) == ys


def test_interpolate_rejects_repeated_points():
    with pytest.raises(ValueError):
        fpoly.interpolate([1, 1], [2, 3])


@given(st.lists(fr, min_size=1, max_size=32))
def test_ntt_roundtrip_and_evaluations(c):
    e = fpoly.ntt(c)
    n = len(e)
    w = field.root_of_unity(n)
    assert e == fpoly.evaluate_many(fpoly.poly(c), [pow(w, i, R) for i in range(n)])
    assert fpoly.intt(e) == c + [0] * (n - len(c))


@given(coeff_lists, coeff_lists, fr)
def test_ring_operations_evaluate_pointwise(a, b, x):
    pa, pb = fpoly.poly(a), fpoly.poly(b)
    ea, eb = fpoly.evaluate(pa, x), fpoly.evaluate(pb, x)
    assert fpoly.evaluate(fpoly.mul(pa, pb), x) == ea * eb % R
    assert fpoly.evaluate(fpoly.add(pa, pb), x) == (ea + eb) % R
    assert fpoly.evaluate(fpoly.sub(pa, pb), x) == (ea - eb) % R
    assert fpoly.evaluate(fpoly.scale(pa, 5), x) == 5 * ea % R
    assert fpoly.evaluate(fpoly.shift(pa, 3), x) == pow(x, 3, R) * ea % R
    assert fpoly.evaluate(fpoly.linear_combination([pa, pb], [2, 3]), x) == (2 * ea + 3 * eb) % R


def test_coeffs_padding_and_reduction():
    p = fpoly.poly([1, -1, R + 2])
    assert fpoly.coeffs(p) == [1, R - 1, 2]
    assert fpoly.coeffs(p, 5) == [1, R - 1, 2, 0, 0]
    assert fpoly.coeffs(p, 2) == [1, R - 1]
    assert fpoly.coeffs(fpoly.zero(), 2) == [0, 0]
    assert fpoly.coeffs([5, -1]) == [5, R - 1]
