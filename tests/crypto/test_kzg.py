"""KZG commitments, openings, batching, degree bounds and the accumulator (docs/protocol.md §3)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkchain.crypto import kzg
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R
from zkchain.crypto.kzg import Claim


def rand_coeffs(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(R) for _ in range(n)]


def _claims(srs, rng, k, size=8):
    """k valid claims on random polynomials at random points."""
    out = []
    for _ in range(k):
        f = rand_coeffs(rng, size)
        x = rng.randrange(R)
        y, pi = kzg.open(srs, f, x)
        out.append(Claim(kzg.commit(srs, f), x, y, pi))
    return out


def _ok(srs, claim):
    return kzg.verify_claim(srs.backend, claim, srs.g2_one, srs.g2_tau)


# -- completeness ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 33, 1 << 12, (1 << 12) + 1])
def test_completeness_fast_up_to_degree_2_12(fast_srs, rng, n):
    f = fpoly.poly(rand_coeffs(rng, n))
    x = rng.randrange(R)
    y, pi = kzg.open(fast_srs, f, x)
    assert y == fpoly.evaluate(f, x)
    assert _ok(fast_srs, Claim(kzg.commit(fast_srs, f), x, y, pi))


def test_commit_is_the_msm_of_coefficients(srs, rng):
    be = srs.backend
    c = rand_coeffs(rng, 5)
    assert be.g1_eq(kzg.commit(srs, c), be.g1_msm(srs.g1_powers, c))
    assert be.g1_eq(kzg.commit(srs, fpoly.poly(c)), kzg.commit(srs, c))
    assert be.g1_is_zero(kzg.commit(srs, []))


def test_too_many_coefficients(srs):
    with pytest.raises(kzg.SRSTooSmall) as info:
        kzg.commit(srs, [1] * (srs.degree + 2))
    assert info.value.num_coefficients == srs.degree + 2 and info.value.num_powers == srs.degree + 1


def test_opening_at_a_root_and_of_constants(srs):
    f = fpoly.poly([(-6) % R, 1])  # X - 6
    y, pi = kzg.open(srs, f, 6)
    assert y == 0 and _ok(srs, Claim(kzg.commit(srs, f), 6, 0, pi))
    y, pi = kzg.open(srs, [9], 123)
    assert y == 9 and srs.backend.g1_is_zero(pi)


def test_batch_open_one_point(srs, rng):
    be = srs.backend
    polys = [fpoly.poly(rand_coeffs(rng, n)) for n in (3, 8, 1, 5)]
    x, nu = rng.randrange(R), rng.randrange(R)
    values, proof = kzg.batch_open(srs, polys, x, nu)
    assert values == [fpoly.evaluate(p, x) for p in polys]
    comms = [kzg.commit(srs, p) for p in polys]
    claim = kzg.combine_claims_at_point(be, comms, values, x, nu, proof)
    assert _ok(srs, claim)
    bad = list(values)
    bad[2] = (bad[2] + 1) % R
    assert not _ok(srs, kzg.combine_claims_at_point(be, comms, bad, x, nu, proof))
    assert not _ok(srs, kzg.combine_claims_at_point(be, comms[::-1], values, x, nu, proof))


def test_multi_point_batching_into_accumulator(srs, rng):
    be = srs.backend
    groups = [([fpoly.poly(rand_coeffs(rng, 6)) for _ in range(3)], rng.randrange(R)) for _ in range(3)]
    nu, u = rng.randrange(R), rng.randrange(R)
    opened = kzg.multi_open(srs, groups, nu)
    claims = [kzg.combine_claims_at_point(be, [kzg.commit(srs, p) for p in polys], vals, x, nu, pi)
              for (polys, x), (vals, pi) in zip(groups, opened)]
    assert kzg.verify_claims(claims, u, srs.g2_one, srs.g2_tau, backend=be)


def test_degree_bound(srs, rng):
    d = 6
    f = fpoly.poly(rand_coeffs(rng, d + 1))
    x = rng.randrange(R)
    y, pi = kzg.open(srs, f, x)
    c_shift = kzg.commit_degree_bound(srs, f, d)
    y_shift, pi_shift = kzg.open_degree_bound(srs, f, d, x)
    assert y_shift == pow(x, srs.degree - d, R) * y % R
    claims = [Claim(kzg.commit(srs, f), x, y, pi), kzg.degree_bound_claim(c_shift, x, y, pi_shift, srs.degree, d)]
    assert kzg.verify_claims(claims, rng.randrange(R), srs.g2_one, srs.g2_tau, backend=srs.backend)
    # a polynomial of degree d+1 cannot be committed with bound d (X^(D-d)·f exceeds the SRS) ...
    g = fpoly.poly(rand_coeffs(rng, d + 2))
    with pytest.raises(kzg.SRSTooSmall):
        kzg.commit_degree_bound(srs, g, d)
    # ... and a shifted commitment for the wrong bound does not verify against the claimed bound
    c_wrong = kzg.commit_degree_bound(srs, f, d + 1)
    _, pi_wrong = kzg.open_degree_bound(srs, f, d + 1, x)
    assert not _ok(srs, kzg.degree_bound_claim(c_wrong, x, y, pi_wrong, srs.degree, d))


# -- soundness: tampered claims are rejected -------------------------------------------------------------------


def test_tampered_claims_rejected(srs, rng):
    good, other = _claims(srs, rng, 2)
    assert _ok(srs, good)
    tampered = {
        "wrong value": Claim(good.commitment, good.point, (good.value + 1) % R, good.proof),
        "wrong point": Claim(good.commitment, (good.point + 1) % R, good.value, good.proof),
        "wrong proof": Claim(good.commitment, good.point, good.value, other.proof),
        "swapped commitment": Claim(other.commitment, good.point, good.value, good.proof),
        "identity proof": Claim(good.commitment, good.point, good.value, srs.backend.g1_zero()),
    }
    u = rng.randrange(R)
    for name, bad in tampered.items():
        assert not _ok(srs, bad), name
        assert not kzg.verify_claims([other, bad], u, srs.g2_one, srs.g2_tau, backend=srs.backend), name


def test_accumulator_dropped_or_added_claim_rejected(srs, rng):
    be = srs.backend
    claims = _claims(srs, rng, 4)
    u = rng.randrange(R)
    acc = kzg.accumulate(claims, u, backend=be)
    assert acc.check(srs.g2_one, srs.g2_tau) and kzg.check_accumulation(acc, claims, u)
    dropped = kzg.accumulate(claims[:2] + claims[3:], u, backend=be)
    assert not kzg.check_accumulation(dropped, claims, u)
    extra = _claims(srs, rng, 1)[0]
    added = kzg.accumulate(claims + [extra], u, backend=be)
    assert not kzg.check_accumulation(added, claims, u)
    false = Claim(extra.commitment, extra.point, (extra.value + 1) % R, extra.proof)
    assert not (acc + kzg.accumulate([false], u, start_index=4, backend=be)).check(srs.g2_one, srs.g2_tau)


# -- the accumulator is a sum ------------------------------------------------------------------------------------


def test_incremental_add_equals_batch_accumulate(srs, rng):
    claims = _claims(srs, rng, 3)
    u = rng.randrange(R)
    acc = kzg.Accumulator(srs.backend)
    for k, c in enumerate(claims):
        acc.add(c, pow(u, k, R))
    assert acc == kzg.accumulate(claims, u, backend=srs.backend) and acc.count == 3
    assert len(acc.to_bytes()) == 128


def _tree_sum(parts, rng):
    parts = list(parts)
    while len(parts) > 1:
        i = rng.randrange(len(parts) - 1)
        parts[i:i + 2] = [parts[i] + parts[i + 1]] if rng.random() < 0.5 else [parts[i + 1] + parts[i]]
    return parts[0]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_partial_accumulators_combine_in_any_tree_order(fast_srs, sizes, hrng):
    srs = fast_srs
    claims = _claims(srs, random.Random(sum(sizes)), sum(sizes), size=4)
    u = 0x1234567890ABCDEF
    whole = kzg.accumulate(claims, u, backend=srs.backend)
    parts, start = [], 0
    for s in sizes:  # each worker folds its contiguous range with weights u^(start+k)
        parts.append(kzg.accumulate(claims[start:start + s], u, start_index=start, backend=srs.backend))
        start += s
    hrng.shuffle(parts)
    combined = _tree_sum(parts, hrng)
    assert combined == whole and combined.count == len(claims)
    assert combined.check(srs.g2_one, srs.g2_tau)


def test_reference_and_fast_accumulators_agree(srs_for):
    out = []
    for name in ("fast", "reference"):
        srs = srs_for(name)
        claims = _claims(srs, random.Random(7), 2, size=4)
        out.append(kzg.accumulate(claims, 99, backend=srs.backend).to_bytes())
    assert out[0] == out[1]
