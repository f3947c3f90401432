"""zkchain.crypto (Python prover side) and the Solidity libraries agree: the Python accumulator is accepted by
BN254.verifyAccumulator and the Solidity fold of the same claims decides the same way. (The generated verifier's
transcript is checked against Python's in tests/evm/test_verifier_gen.py: same challenges, same accumulator.)"""

from __future__ import annotations

import random

import pytest

kzg = pytest.importorskip("zkchain.crypto.kzg")

from zkchain.crypto import poly as fpoly  # noqa: E402
from zkchain.crypto.backend import get_backend  # noqa: E402
from zkchain.crypto.field import R  # noqa: E402
from zkchain.crypto.srs import SRS  # noqa: E402
from zkchain.crypto.transcript import Transcript  # noqa: E402


def words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]


@pytest.fixture(scope="module")
def setup(chain, compiled):
    be = get_backend("fast")
    srs = SRS.dev(16, backend=be)
    g2_one, g2_tau = words(be.g2_to_bytes(srs.g2_one)), words(be.g2_to_bytes(srs.g2_tau))
    address, _ = chain.deploy(compiled["BN254Harness"], g2_one, g2_tau, gas=5_000_000)
    return be, srs, (address, compiled["BN254Harness"])


def claim_row(be, claim) -> list[int]:
    return [*words(be.g1_to_bytes(claim.commitment)), claim.point, claim.value, *words(be.g1_to_bytes(claim.proof))]


def test_python_accumulator_is_decided_on_chain(chain, setup):
    be, srs, (address, contract) = setup
    rnd = random.Random(5)
    polys = [fpoly.poly([rnd.randrange(R) for _ in range(d)]) for d in (17, 9, 4)]
    tr = Transcript("zkchain.evm.interop")
    commitments = [kzg.commit(srs, f) for f in polys]
    for c in commitments:
        tr.absorb_g1(c, be)
    x, nu = tr.challenge("x"), tr.challenge("nu")
    values, proof = kzg.batch_open(srs, polys, x, nu)
    claims = [kzg.combine_claims_at_point(be, commitments, values, x, nu, proof)]
    for f, c in zip(polys[:2], commitments):
        z = tr.challenge("z")
        y, pi = kzg.open(srs, f, z)
        claims.append(kzg.Claim(c, z, y, pi))
    u = tr.challenge("u")
    acc = kzg.accumulate(claims, u, backend=be)
    assert acc.check(srs.g2_one, srs.g2_tau)

    lr = words(acc.to_bytes())
    assert chain.call(address, contract, "verifyAccumulator", lr[:2], lr[2:])
    rows = [claim_row(be, c) for c in claims]
    assert chain.call(address, contract, "verifyClaims", rows, u)  # Solidity fold of the same claims

    rows[2][3] = (rows[2][3] + 1) % R  # a wrong value
    assert not chain.call(address, contract, "verifyClaims", rows, u)
    bad = kzg.accumulate([claims[0], claims[1], kzg.Claim(claims[2].commitment, claims[2].point,
                                                          (claims[2].value + 1) % R, claims[2].proof)], u, backend=be)
    bad_lr = words(bad.to_bytes())
    assert not chain.call(address, contract, "verifyAccumulator", bad_lr[:2], bad_lr[2:])
