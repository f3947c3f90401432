"""The sharded prover (zkchain/prover/parallel.py) on real compiled circuits: any worker count gives the same proof
bit for bit, a warm pool proves for several keys made with one SRS and refuses a key of another SRS."""

from __future__ import annotations

import random

import pytest

from zkchain.errors import InputError
from zkchain.prover.parallel import ProverPool
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify

# conv + pool (hidden kernels, padded grids, fixed-vector masks), attention (a product of two activations)
MODELS = ["conv_pad1_maxpool", "attention"]


@pytest.fixture(scope="module")
def pool3(unit_built):
    keys = [unit_built(n).pk for n in MODELS]
    assert len({k.srs_spec for k in keys}) == 1
    with ProverPool(keys[0].srs_spec, max(k.vk.srs_degree for k in keys), workers=3) as pool:
        yield pool  # one warm pool, two keys of different sizes


@pytest.mark.parametrize("name", MODELS)
def test_three_shards_give_the_one_process_proof(unit_built, pool3, name):
    """W = 3 does not divide the shifts of the masked fixed vectors nor the vector lengths, so every branch of
    the shard index map (first coefficient (k − shift) mod W, local start (shift + t0) div W) is exercised."""
    b = unit_built(name)
    vals = b.compiled.vector_values(b.model.execute(b.x_int))
    one = prove(b.pk, vals, workers=1, rng=random.Random(11))
    three = prove(b.pk, vals, pool=pool3, rng=random.Random(11))
    assert three.proof_bytes(b.pk.circuit) == one.proof_bytes(b.pk.circuit)
    assert verify(b.pk.vk, three)


def test_a_warm_pool_refuses_a_key_of_another_srs(unit_built):
    b = unit_built(MODELS[0])
    vals = b.compiled.vector_values(b.model.execute(b.x_int))
    with ProverPool("dev:another-seed", b.pk.vk.srs_degree) as other:
        with pytest.raises(InputError, match="holds SRS 'dev:another-seed'"):
            prove(b.pk, vals, pool=other)
    with ProverPool(b.pk.srs_spec, b.pk.vk.srs_degree - 1) as small:
        with pytest.raises(InputError, match="of degree"):
            prove(b.pk, vals, pool=small)
