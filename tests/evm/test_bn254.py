"""BN254.sol against py_ecc: group law, MSM, validation, and the KZG accumulator decision (docs/protocol.md §3).

The KZG instance is built here with a known tau (so [f(tau)]_1 is one scalar multiplication), independent of
zkchain.crypto: a claim (C, x, y, pi) is valid iff C - [y]_1 + x pi = tau pi.
"""

from __future__ import annotations

import os
import random
import time

import pytest
from evm_helpers import fold, g1_words, g2_words, point, random_claims, record_gas, record_time
from py_ecc.optimized_bn128 import G1, G2, Z1, add, curve_order, field_modulus, multiply, neg

from zkchain.evm.chain import CallReverted

R, P = curve_order, field_modulus
rng = random.Random(20261122)
TAU = rng.randrange(2, R)
TAU_G2 = multiply(G2, TAU)


@pytest.fixture(scope="module")
def harness(chain, compiled):
    address, gas_used = chain.deploy(compiled["BN254Harness"], g2_words(G2), g2_words(TAU_G2), gas=5_000_000)
    record_gas("deploy BN254Harness (test contract)", gas_used, "transaction")
    return address, compiled["BN254Harness"]


def call(chain, harness, fn, *args):
    return chain.call(harness[0], harness[1], fn, *args)


def random_point():
    return multiply(G1, rng.randrange(1, R))


# ------------------------------------------------------------------------------------------------ group law


def test_add_and_mul_agree_with_py_ecc(chain, harness):
    for _ in range(3):
        a, b = random_point(), random_point()
        assert call(chain, harness, "add", g1_words(a), g1_words(b)) == g1_words(add(a, b))
        s = rng.randrange(0, 2**256)  # ecMul takes any 256-bit scalar, reduced mod r by the group order
        assert call(chain, harness, "mul", g1_words(a), s) == g1_words(multiply(a, s % R))


def test_group_law_edge_cases(chain, harness):
    a = random_point()
    assert call(chain, harness, "add", g1_words(a), g1_words(neg(a))) == [0, 0]
    assert call(chain, harness, "add", g1_words(a), [0, 0]) == g1_words(a)
    assert call(chain, harness, "add", g1_words(a), g1_words(a)) == g1_words(add(a, a))  # doubling
    assert call(chain, harness, "mul", g1_words(a), 0) == [0, 0]
    assert call(chain, harness, "mul", g1_words(a), R) == [0, 0]
    assert call(chain, harness, "negate", g1_words(a)) == g1_words(neg(a))
    assert call(chain, harness, "negate", [0, 0]) == [0, 0]


def test_msm_agrees_with_py_ecc(chain, harness):
    points = [random_point() for _ in range(5)]
    scalars = [rng.randrange(0, R) for _ in range(5)]
    expected = Z1
    for pt, s in zip(points, scalars):
        expected = add(expected, multiply(pt, s))
    got = call(chain, harness, "msm", [g1_words(pt) for pt in points], scalars)
    assert got == g1_words(expected)
    assert call(chain, harness, "msm", [], []) == [0, 0]
    with pytest.raises(CallReverted, match="length mismatch"):
        call(chain, harness, "msm", [g1_words(points[0])], [1, 2])


# ------------------------------------------------------------------------------------------------ validation


def test_g1_and_fr_validation(chain, harness):
    x, y = g1_words(random_point())
    assert call(chain, harness, "isOnCurve", 1, 2)
    assert call(chain, harness, "isOnCurve", x, y)
    assert call(chain, harness, "isOnCurve", 0, 0)  # identity
    assert not call(chain, harness, "isOnCurve", 1, 3)  # off curve
    assert not call(chain, harness, "isOnCurve", 0, 1)
    assert not call(chain, harness, "isOnCurve", x + P, y)  # same point mod p, non-canonical
    assert not call(chain, harness, "isOnCurve", x, y + P)
    assert not call(chain, harness, "isOnCurve", 1, P - 2 + P)
    assert not call(chain, harness, "isOnCurve", 2**256 - 1, 2**256 - 1)
    with pytest.raises(CallReverted, match=r"InvalidG1Point\(1, 3\)"):
        call(chain, harness, "requireG1", 1, 3)
    call(chain, harness, "requireG1", x, y)
    assert call(chain, harness, "isFr", R - 1)
    assert not call(chain, harness, "isFr", R)
    with pytest.raises(CallReverted, match="FrOutOfRange"):
        call(chain, harness, "requireFr", R)


def test_fr_exp_and_inverse(chain, harness):
    for a in (1, 2, R - 1, rng.randrange(R), R + 5):
        e = rng.randrange(2**256)
        assert call(chain, harness, "expFr", a, e) == pow(a, e, R)
        if a % R:
            assert call(chain, harness, "invFr", a) == pow(a, -1, R)
    for zero in (0, R):
        with pytest.raises(CallReverted, match="InverseOfZero"):
            call(chain, harness, "invFr", zero)
    xs = [rng.randrange(1, R) for _ in range(6)]
    assert call(chain, harness, "batchInvFr", xs) == [pow(x, -1, R) for x in xs]
    assert call(chain, harness, "batchInvFr", [7]) == [pow(7, -1, R)]
    assert call(chain, harness, "batchInvFr", []) == []
    with pytest.raises(CallReverted, match="InverseOfZero"):
        call(chain, harness, "batchInvFr", [3, 0, 5])


# ------------------------------------------------------------------------------------------------ KZG


@pytest.fixture(scope="module")
def three_claims():
    return random_claims(rng, TAU), rng.randrange(1, R)


def test_python_fold_is_consistent(three_claims):
    claims, u = three_claims
    lhs, rhs = fold(claims, u)
    assert g1_words(lhs) == g1_words(multiply(rhs, TAU))  # e(L,[1]) = e(R,[tau]) iff L = tau R


def test_accumulator_decision(chain, harness, three_claims):
    claims, u = three_claims
    lhs, rhs = fold(claims, u)
    assert call(chain, harness, "verifyAccumulator", g1_words(lhs), g1_words(rhs))
    assert not call(chain, harness, "verifyAccumulator", g1_words(add(lhs, G1)), g1_words(rhs))
    assert not call(chain, harness, "verifyAccumulator", [1, 3], g1_words(rhs))  # off curve: false, no revert


def test_contract_accepts_valid_fold(chain, harness, three_claims):
    claims, u = three_claims
    t0 = time.perf_counter()
    assert call(chain, harness, "verifyClaims", claims, u)
    record_time("verifyClaims, 3 claims, eth-tester eth_call", time.perf_counter() - t0)
    assert call(chain, harness, "verifyClaims", claims[:1], u)  # a single claim


@pytest.mark.parametrize(
    "field, mutate",
    [
        ("commitment", lambda c: [*g1_words(add(point(c[0], c[1]), G1)), *c[2:]]),
        ("point x", lambda c: [c[0], c[1], (c[2] + 1) % R, *c[3:]]),
        ("value y", lambda c: [c[0], c[1], c[2], (c[3] + 1) % R, c[4], c[5]]),
        ("proof", lambda c: [*c[:4], *g1_words(add(point(c[4], c[5]), G1))]),
    ],
)
def test_contract_rejects_mutated_claim(chain, harness, three_claims, field, mutate):
    claims, u = three_claims
    bad = [list(c) for c in claims]
    bad[1] = mutate(bad[1])
    assert not call(chain, harness, "verifyClaims", bad, u), f"mutated {field} accepted"


def test_contract_rejects_malformed_claims(chain, harness, three_claims):
    claims, u = three_claims
    c = claims[0]
    for bad in (
        [c[0], c[1], c[2] + R, *c[3:]],  # x >= r (same residue)
        [c[0], c[1], c[2], c[3] + R, c[4], c[5]],  # y >= r
        [c[0] + P, *c[1:]],  # coordinate >= p
        [1, 3, *c[2:]],  # off curve
        [*c[:4], c[4], c[5] + P],
    ):
        assert not call(chain, harness, "verifyClaims", [bad, *claims[1:]], u)
    assert not call(chain, harness, "verifyClaims", claims, u + R)


# ------------------------------------------------------------------------------------------------ garbage, gas


def test_garbage_calldata_reverts_or_returns_false_with_bounded_gas(chain, harness, three_claims):
    address, contract = harness
    gas_limit = 5_000_000
    for data in (b"", os.urandom(3), os.urandom(4), os.urandom(300)):
        result = chain.transact_raw(address, data, gas=gas_limit)
        assert not result.outcome.success and result.gas_used < 40_000, (data, result.gas_used)
    # right selector, truncated / garbage arguments: the ABI decoder reverts
    selector = bytes.fromhex(chain.w3.keccak(text="verifyClaims(uint256[6][],uint256)").hex()[:8])
    for data in (selector, selector + os.urandom(50), selector + (2**255).to_bytes(32, "big") * 3):
        result = chain.transact_raw(address, data, gas=gas_limit)
        assert not result.outcome.success and result.gas_used < 40_000, result.gas_used
    # well-formed ABI, garbage points: false, no pairing attempted
    claims, u = three_claims
    junk = [[rng.randrange(2**256) for _ in range(6)] for _ in range(3)]
    result = chain.transact(address, contract, "submitClaims", junk, u, gas=gas_limit)
    assert result.outcome.success and result.outcome.value is False
    assert result.events[0]["args"] == {"ok": False, "claims": 3}
    assert result.gas_used < 60_000, result.gas_used  # 21k base + ~10k calldata + checks + event


def test_pairing_with_invalid_g2_returns_false(chain, harness):
    g1 = g1_words(G1)
    assert call(chain, harness, "pairingCheck", [g1, g1_words(neg(G1))], [g2_words(G2), g2_words(G2)])
    assert not call(chain, harness, "pairingCheck", [g1], [[1, 2, 3, 4]])  # not on the twist
    assert call(chain, harness, "pairingCheck", [], [])  # empty product is 1


def test_measured_gas(chain, harness, three_claims):
    add_gas, mul_gas, pairing_gas, fold_gas, on_curve_gas, msm4_gas = call(chain, harness, "measureGas")
    record_gas("BN254.add (ecAdd 0x06)", add_gas, "in-contract, precompile 150")
    record_gas("BN254.mul (ecMul 0x07)", mul_gas, "in-contract, precompile 6,000")
    record_gas("BN254.pairing2 (ecPairing 0x08, 2 pairs)", pairing_gas, "in-contract, precompile 113,000")
    record_gas("BN254.foldClaim (3 ecMul + 3 ecAdd)", fold_gas, "in-contract")
    record_gas("BN254.msm, 4 terms", msm4_gas, "in-contract")
    record_gas("BN254.isOnCurve", on_curve_gas, "in-contract")
    assert 150 <= add_gas < 1_000
    assert 6_000 <= mul_gas < 7_000
    assert 113_000 <= pairing_gas < 116_000
    assert fold_gas < 21_000 and msm4_gas < 4 * 6_800 and on_curve_gas < 300
    inv_gas, batch8_gas = call(chain, harness, "measureInvGas")
    record_gas("BN254.invFr (modexp 0x05), Prague", inv_gas, "in-contract, precompile 1,349 (EIP-2565)")
    record_gas("BN254.batchInvFr, 8 elements, Prague", batch8_gas, "in-contract")
    assert 1_349 <= inv_gas < 2_100 and batch8_gas < inv_gas + 3_000
    claims, u = three_claims
    result = chain.transact(harness[0], harness[1], "submitClaims", claims, u, gas=1_000_000)
    assert result.outcome.value is True and result.events[0]["args"] == {"ok": True, "claims": 3}
    record_gas("submitClaims: fold 3 KZG claims + decide", result.gas_used, "whole transaction")
    assert result.gas_used < 250_000
