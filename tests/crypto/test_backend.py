"""BN254 backends: fast (zksnake/arkworks) and reference (py_ecc) agree; decoders reject bad points."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as bn

from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import P, R
from zkchain.errors import InputError

fr = st.integers(min_value=0, max_value=R - 1)
any_int = st.one_of(fr, st.integers(min_value=-(2**300), max_value=2**300))
slow = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FAST, REF = get_backend("fast"), get_backend("reference")


def _g1(be, s):
    return be.g1_mul(be.g1(), s)


def _g2(be, s):
    return be.g2_mul(be.g2(), s)


def test_get_backend_selection(monkeypatch):
    monkeypatch.delenv("ZKCHAIN_BACKEND", raising=False)
    assert get_backend().name == "fast"
    monkeypatch.setenv("ZKCHAIN_BACKEND", "reference")
    assert get_backend() is REF
    assert get_backend("fast") is FAST and get_backend(REF) is REF
    with pytest.raises(InputError, match="unknown BN254 backend"):
        get_backend("gnark")


@slow
@given(st.lists(st.tuples(any_int, fr), min_size=0, max_size=4))
def test_msm_and_serialization_agree(pairs):
    # pairs: (scalar, discrete log of the base point)
    scalars = [s for s, _ in pairs]
    out = []
    for be in (FAST, REF):
        pts = [_g1(be, d) for _, d in pairs]
        out.append(be.g1_to_bytes(be.g1_msm(pts + [be.g1()], scalars)))
    expect = sum(s * d for s, d in pairs) % R
    assert out[0] == out[1] == FAST.g1_to_bytes(_g1(FAST, expect))


@slow
@given(fr, fr, any_int)
def test_group_ops_agree(a, b, s):
    for op in ("add", "sub", "neg", "mul"):
        res = []
        for be in (FAST, REF):
            pa, pb = _g1(be, a), _g1(be, b)
            val = {"add": lambda: be.g1_add(pa, pb), "sub": lambda: be.g1_sub(pa, pb),
                   "neg": lambda: be.g1_neg(pa), "mul": lambda: be.g1_mul(pa, s)}[op]()
            res.append(be.g1_to_bytes(val))
        assert res[0] == res[1], op


@slow
@given(fr, any_int)
def test_g2_ops_and_encoding_agree(a, s):
    res = [be.g2_to_bytes(be.g2_add(be.g2_mul(_g2(be, a), s), be.g2_neg(be.g2()))) for be in (FAST, REF)]
    assert res[0] == res[1]
    for be in (FAST, REF):
        assert be.g2_eq(be.g2_from_bytes(res[0]), be.g2_add(be.g2_mul(_g2(be, a), s), be.g2_neg(be.g2())))


def test_g2_msm_agree():
    res = [be.g2_to_bytes(be.g2_msm([_g2(be, 3), _g2(be, 5)], [7, -1])) for be in (FAST, REF)]
    assert res[0] == res[1] == FAST.g2_to_bytes(_g2(FAST, 16))


@settings(max_examples=3, deadline=None)
@given(fr.filter(bool), fr.filter(bool))
def test_pairing_check_agrees(a, b):
    for be in (FAST, REF):
        # e([a]₁, [b]₂) · e(−[ab]₁, [1]₂) = 1, and a perturbed product is not 1
        good = [(_g1(be, a), _g2(be, b)), (be.g1_neg(_g1(be, a * b)), be.g2())]
        bad = [(_g1(be, a), _g2(be, b)), (be.g1_neg(_g1(be, a * b + 1)), be.g2())]
        assert be.pairing_check(good)
        assert not be.pairing_check(bad)


@pytest.mark.parametrize("be", [FAST, REF], ids=["fast", "reference"])
def test_pairing_edge_cases(be):
    assert be.pairing_check([])
    assert be.pairing_check([(be.g1_zero(), be.g2()), (be.g1(), be.g2_zero())])
    assert not be.pairing_check([(be.g1(), be.g2())])


@pytest.mark.parametrize("be", [FAST, REF], ids=["fast", "reference"])
def test_known_encodings(be):
    assert be.g1_to_bytes(be.g1()) == (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    g2 = be.g2_to_bytes(be.g2())  # EIP-197 generator, x_im first
    assert g2.hex().startswith("198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2")
    assert be.g1_to_bytes(be.g1_zero()) == bytes(64) and be.g2_to_bytes(be.g2_zero()) == bytes(128)
    assert be.g1_is_zero(be.g1_from_bytes(bytes(64))) and be.g2_eq(be.g2_from_bytes(bytes(128)), be.g2_zero())
    assert be.g1_to_xy(be.g1_zero()) == (0, 0)
    assert be.g1_eq(be.g1_from_xy(1, 2), be.g1())
    assert be.g1_eq(be.g1_msm([be.g1()], []), be.g1_zero())


# -- decoding rejects bad points -------------------------------------------------------------------------------


def _fq2_sqrt(a0: int, a1: int):
    """sqrt in Fq2 = Fq[i]/(i²+1), p ≡ 3 mod 4 (complex method); None if not a square."""
    norm = (a0 * a0 + a1 * a1) % P
    s = pow(norm, (P + 1) // 4, P)
    if s * s % P != norm:
        return None
    for t in (s, P - s):
        h = (a0 + t) * pow(2, -1, P) % P
        x0 = pow(h, (P + 1) // 4, P)
        if x0 * x0 % P == h and x0:
            x1 = a1 * pow(2 * x0, -1, P) % P
            return x0, x1
    return None


def _twist_point_outside_subgroup():
    b2 = (int(bn.b2.coeffs[0]), int(bn.b2.coeffs[1]))
    for x0 in range(1, 100):
        x = (x0, 1)
        # x³ + b2 in Fq2
        xx = ((x[0] * x[0] - x[1] * x[1]) % P, 2 * x[0] * x[1] % P)
        x3 = ((xx[0] * x[0] - xx[1] * x[1]) % P, (xx[0] * x[1] + xx[1] * x[0]) % P)
        y = _fq2_sqrt((x3[0] + b2[0]) % P, (x3[1] + b2[1]) % P)
        if y is None:
            continue
        pt = (bn.FQ2(list(x)), bn.FQ2(list(y)), bn.FQ2.one())
        assert bn.is_on_curve(pt, bn.b2)
        if not bn.is_inf(bn.multiply(pt, R)):
            return x, y
    raise AssertionError("no test point found")


def _g2_bytes(x, y):
    return b"".join(c.to_bytes(32, "big") for c in (x[1], x[0], y[1], y[0]))


@pytest.mark.parametrize("be", [FAST, REF], ids=["fast", "reference"])
def test_decoders_reject(be):
    gx, gy = 1, 2
    cases_g1 = {
        "not on the curve": (1).to_bytes(32, "big") + (3).to_bytes(32, "big"),
        r"not in \[0, p\)": gx.to_bytes(32, "big") + (gy + P).to_bytes(32, "big"),
        "expected 64 bytes, got 63": bytes(63),
        "expected 64 bytes, got 65": bytes(65),
    }
    for msg, b in cases_g1.items():
        with pytest.raises(InputError, match=msg):
            be.g1_from_bytes(b)
    with pytest.raises(InputError, match="not on the curve"):
        be.g1_from_xy(0, 1)
    g2 = be.g2_to_bytes(be.g2())
    x, y = _twist_point_outside_subgroup()
    cases_g2 = {
        "not in the order-r subgroup": _g2_bytes(x, y),
        "not on the twist curve": g2[:127] + bytes([g2[127] ^ 1]),
        r"not in \[0, p\)": (int.from_bytes(g2[:32], "big") + P).to_bytes(32, "big") + g2[32:],
        "expected 128 bytes, got 127": g2[:127],
        "expected 128 bytes, got 129": g2 + b"\0",
    }
    for msg, b in cases_g2.items():
        with pytest.raises(InputError, match=msg):
            be.g2_from_bytes(b)
