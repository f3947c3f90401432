"""Completeness, cheating provers and proof mutation for the whole proof system (Python verifier)."""

from __future__ import annotations

import copy
import random

import pytest

from zkchain.crypto.field import R
from zkchain.protocol.proof import Proof
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify


@pytest.fixture(scope="module")
def honest_proof(keys, instance):
    return prove(keys, instance.honest())


def test_honest_proof_is_accepted(keys, honest_proof):
    v = verify(keys.vk, honest_proof)
    assert v.accepted, v.reason


def test_proof_roundtrips_through_json_and_calldata(keys, honest_proof):
    c = keys.circuit
    again = Proof.from_json(honest_proof.to_json(keys.vk), keys.vk)
    assert verify(keys.vk, again)
    parsed = Proof.from_bytes(c, keys.vk.digest, honest_proof.proof_bytes(c), honest_proof.public_inputs(c))
    assert parsed.proof_bytes(c) == honest_proof.proof_bytes(c)
    assert verify(keys.vk, parsed)


@pytest.mark.parametrize("workers", [2, 3])
def test_seeded_prover_is_bit_identical_for_any_worker_count(keys, instance, workers):
    """Every MSM is split over the workers' SRS shards (powers i ≡ k mod W, shifted commitments included) and
    the Laurent products dealt out: the sums are exact, so the proof must not change by one bit."""
    p1 = prove(keys, instance.honest(), workers=1, rng=random.Random(5))
    p2 = prove(keys, instance.honest(), workers=workers, rng=random.Random(5))
    assert p2.proof_bytes(keys.circuit) == p1.proof_bytes(keys.circuit)


def test_two_proofs_of_one_witness_share_no_commitment_or_evaluation(keys, instance, honest_proof):
    """The zero-knowledge coins are fresh per proof (OS CSPRNG): a deterministic tail would make every
    commitment a dictionary oracle for the witness and proofs of one input linkable."""
    again = prove(keys, instance.honest())
    assert verify(keys.vk, again)
    assert not set(again.commitments.values()) & set(honest_proof.commitments.values())
    for p, vals in again.evaluations.items():
        assert not set(vals) & set(honest_proof.evaluations[p]), p


# -- cheating provers: each breaks exactly one relation and proves anyway --------------------------------

def _cheat(keys, values):
    return verify(keys.vk, prove(keys, values, check_witness=False))


def test_wrong_matmul_entry_is_rejected(keys, instance):
    v = instance.honest()
    v["q"][1] += 1  # quotient no longer matches x·W (relu output follows it, so the lookup still holds)
    v["y"][1] = max(v["q"][1], 0)
    assert not _cheat(keys, v)


def test_wrong_relu_output_is_rejected(keys, instance):
    v = instance.honest()
    y = list(v["y"])
    i = max(range(len(y)), key=lambda j: v["q"][j])
    y[i] += 1  # (q, y) is no longer a row of the relu table; the next layer is computed from the wrong y
    assert not _cheat(keys, instance.honest(y=y))


def test_remainder_out_of_range_is_rejected(keys, instance):
    v = instance.honest()
    # same linear relation, remainder shifted by 2^s: rem = 2^s + rem', q = q' - 1
    v["rem"][0] += 1 << instance.s
    v["q"][0] -= 1
    v["y"][0] = max(v["q"][0], 0)
    assert not _cheat(keys, v)


def test_negative_remainder_is_rejected(keys, instance):
    v = instance.honest()
    v["rem2"][0] -= 1 << instance.s
    v["z"][0] += 1
    assert not _cheat(keys, v)


def test_input_outside_its_range_is_rejected(keys, instance):
    x = list(instance.x)
    x[0] = 1000  # not in the input range table; everything downstream is honest for this x
    v = instance.honest(x=x)
    assert not _cheat(keys, v)


def test_swapped_output_is_rejected(keys, instance, honest_proof):
    bad = copy.deepcopy(honest_proof)
    z = bad.public["z"]
    z[0], z[1] = z[1], z[0]
    assert z[0] != z[1]
    assert not verify(keys.vk, bad)


# -- mutation of every field of a valid proof -----------------------------------------------------------

def _mutations(proof: Proof):
    for name in proof.commitments:
        yield f"commitment {name}", "commitments", name, None
    for p, vals in proof.evaluations.items():
        for i in range(len(vals)):
            yield f"evaluation {p}[{i}]", "evaluations", p, i
    for p in proof.openings:
        yield f"opening {p}", "openings", p, None
    for name, vals in proof.public.items():
        for i in range(len(vals)):
            yield f"public {name}[{i}]", "public", name, i


def test_every_mutation_is_rejected(keys, honest_proof):
    from zkchain.crypto.backend import get_backend

    be = get_backend()
    g = be.g1_to_bytes(be.g1())
    count = 0
    for label, field, key, idx in _mutations(honest_proof):
        bad = copy.deepcopy(honest_proof)
        target = getattr(bad, field)
        if field in ("commitments", "openings"):
            pt = be.g1_from_bytes(target[key])
            target[key] = be.g1_to_bytes(be.g1_add(pt, be.g1_from_bytes(g)))
        elif field == "evaluations":
            target[key][idx] = (target[key][idx] + 1) % R
        else:
            target[key][idx] += 1
        assert not verify(keys.vk, bad), f"mutated {label} accepted"
        count += 1
    assert count > 30


def test_malformed_fields_are_rejected_not_raised(keys, honest_proof):
    bad = copy.deepcopy(honest_proof)
    bad.evaluations["zeta"][0] = R  # not a canonical field element
    assert not verify(keys.vk, bad)
    bad = copy.deepcopy(honest_proof)
    bad.commitments["x"] = b"\x00" * 63 + b"\x05"  # off the curve
    assert not verify(keys.vk, bad)
    bad = copy.deepcopy(honest_proof)
    bad.vk_digest = b"\x00" * 32
    assert not verify(keys.vk, bad)
    bad = copy.deepcopy(honest_proof)
    del bad.evaluations["zeta_inv"][-1]
    assert not verify(keys.vk, bad)
