"""The API contract other packages import (zkchain.crypto.*) exists and round-trips on both backends."""

import pytest

from zkchain.crypto import kzg
from zkchain.crypto import poly as fpoly
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.crypto.transcript import Transcript


@pytest.mark.parametrize("name", ["fast", "reference"])
def test_commit_open_accumulate_roundtrip(name):
    be = get_backend(name)
    srs = SRS.dev(8, backend=be)
    f, g = fpoly.poly([1, 2, 3]), fpoly.poly([R - 1, 5])
    tr = Transcript("zkchain.test")
    cf, cg = kzg.commit(srs, f), kzg.commit(srs, g)
    tr.absorb_g1(cf, be)
    tr.absorb_g1(cg, be)
    x = tr.challenge("x")
    nu = tr.challenge("nu")
    values, proof = kzg.batch_open(srs, [f, g], x, nu)
    claim = kzg.combine_claims_at_point(be, [cf, cg], values, x, nu, proof)
    y, pi = kzg.open(srs, f, 3)
    acc = kzg.accumulate([claim, kzg.Claim(cf, 3, y, pi)], tr.challenge("u"), backend=be)
    assert acc.check(srs.g2_one, srs.g2_tau)
    assert srs.insecure and srs.source == "dev:zkchain-dev"
    assert len(srs.digest()) == 32
