"""The tape (zkchain/evm/tape.py): the verifier routine recorded by TapeLoader and run by the Python tape
interpreter must give the native verifier's verdict on honest proofs and on every mutation of the calldata
(the catalogue of tests/evm/_vectors.py), for the bundled digits MLP and digits CNN and the protocol tests'
circuits (lookups, convolutions, Hadamard, max pooling). Python only: no chain (test_reusable.py deploys)."""

from __future__ import annotations

import pytest
from _models import bundled
from _vectors import (CONV_CASES, conv_instance, hadamard_instance, maxpool_instance, mutations,
                      no_lookup_instance, protocol_instance_module, python_verdict, shifted_instance)

from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.errors import InputError
from zkchain.evm import tape as T
from zkchain.evm.verifier_gen import calldata
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove


def _keys(circuit, fixed, seed):
    return setup(circuit, fixed, SRS.dev(required_degree(circuit), seed=seed), f"dev:{seed}")


def _instance(which, tmp_path_factory):
    if which in ("digits_mlp", "digits_cnn", "lenet5", "digits_vit"):
        return bundled(which)
    if which == "two_layer":
        m = protocol_instance_module()
        inst = m.Instance()
        circuit, fixed = inst.circuit()
        pk = _keys(circuit, fixed, m.SRS_SPEC[4:])
        return pk.vk, prove(pk, inst.honest())
    circuit, fixed, values = {
        "no_lookups": no_lookup_instance, "shifted": shifted_instance, "hadamard": hadamard_instance,
        "conv": lambda: conv_instance(CONV_CASES[0], public_output=True),
        "maxpool": lambda: maxpool_instance(tmp_path_factory.mktemp("maxpool")),
    }[which]()
    pk = _keys(circuit, fixed, "zkchain-test-tape-" + which)
    return pk.vk, prove(pk, values)


@pytest.mark.parametrize("which", ["digits_mlp", "digits_cnn", "two_layer", "no_lookups", "shifted", "conv",
                                   "hadamard", "maxpool",
                                   pytest.param("lenet5", marks=pytest.mark.sweep),
                                   pytest.param("digits_vit", marks=pytest.mark.sweep)])
def test_tape_interpreter_agrees_with_native_verifier(which, tmp_path_factory):
    vk, proof = _instance(which, tmp_path_factory)
    tape = T.record_tape(vk)
    pb, pub = calldata(proof, vk)
    assert T.run_tape(tape, pb, pub) == (True, "accepted")
    assert python_verdict(vk, pb, pub)
    n = 0
    for label, mpb, mpub in mutations(vk, pb, pub):
        native = python_verdict(vk, mpb, mpub)
        ok, reason = T.run_tape(tape, mpb, mpub)
        assert ok == native, f"{which}: {label}: tape {ok} ({reason}), native {native}"
        assert not ok, label
        n += 1
    assert n > 40


def test_tape_is_deterministic_and_binds_the_key():
    vk, _ = bundled("digits_mlp")
    a, b = T.record_tape(vk), T.record_tape(vk)
    assert a.data == b.data and a.model_id == b.model_id == T.model_id(a.data)
    assert a.data[:4] == b"\x00zkT" and a.header.vk_digest == vk.digest and a.header.insecure
    assert a.header.proof_length == len(calldata(bundled("digits_mlp")[1], vk)[0])
    vk2, _ = bundled("digits_cnn")
    assert T.record_tape(vk2).model_id != a.model_id
    assert "PAIRING" in T.disassemble(a).splitlines()[-1]


def test_proof_for_one_model_is_rejected_by_another_models_tape():
    vk_a, proof_a = bundled("digits_mlp")
    vk_b, proof_b = bundled("digits_cnn")
    tape_b = T.record_tape(vk_b)
    pa, puba = calldata(proof_a, vk_a)
    assert T.run_tape(tape_b, pa, puba)[0] is False
    assert T.run_tape(tape_b, *calldata(proof_b, vk_b))[0]
    # same circuit and lengths, another key (another SRS): the transcript absorbs the VK digest
    vk_c, _ = bundled("digits_mlp", seed="another-seed")
    tape_c = T.record_tape(vk_c)
    assert tape_c.header.proof_length == len(pa) and tape_c.model_id != T.record_tape(vk_a).model_id
    assert T.run_tape(tape_c, pa, puba)[0] is False


def test_noncanonical_public_value_is_rejected_like_the_contract():
    vk, proof = bundled("digits_mlp")
    pb, pub = calldata(proof, vk)
    i = next(i for i, v in enumerate(pub) if v + R < 2**256)
    bad = list(pub)
    bad[i] += R
    assert T.run_tape(T.record_tape(vk), pb, bad)[0] is False


def test_malformed_tapes_are_refused_with_a_reason():
    vk, _ = bundled("digits_mlp")
    data = T.record_tape(vk).data
    n_const = int.from_bytes(data[6:8], "big")
    code0 = T.HEADER_BYTES + 32 * n_const

    def expect(bad: bytes, code: int):
        with pytest.raises(InputError, match=rf"MalformedTape\({code}\)"):
            T.decode_tape(bad)

    expect(data[:40], 1)
    expect(b"\x00zkX" + data[4:], 2)
    expect(data[:4] + b"\x02" + data[5:], 2)
    expect(data[:-1], 3)
    expect(data + b"\x00", 3)
    expect(data[:code0] + b"\x63" + data[code0 + 1:], 4)
    # a MUL writing into the constants: operand outside the writable temporaries
    bad = data[:code0] + bytes([T.MUL]) + (T.CONST_BASE).to_bytes(2, "big") + data[code0 + 3:]
    first = T.decode_tape(data).code[0]
    if first[0] == T.CHKFR:  # the first instruction reads; make it read past memory instead
        bad = data[:code0 + 1] + (0xFFFF).to_bytes(2, "big") + data[code0 + 3:]
    expect(bad, 6)
    # the last instruction (PAIRING, 9 bytes) cut off: the length no longer matches the header; with PAIRING
    # replaced by three 3-byte instructions (same layout), the program no longer ends with PAIRING
    expect(data[:-9], 3)
    expect(data[:-9] + (bytes([T.REQNZ]) + T.CONST_BASE.to_bytes(2, "big")) * 3, 8)


def test_auto_mode_picks_specialised_only_with_margin():
    from types import SimpleNamespace

    from zkchain.evm.reusable import AUTO_MARGIN, choose_mode

    vk, _ = bundled("digits_mlp")
    cap = int(AUTO_MARGIN * 24_576)
    assert choose_mode(vk, "auto", SimpleNamespace(runtime_size_bytes=cap))[0] == "specialised"
    mode, why = choose_mode(vk, "auto", SimpleNamespace(runtime_size_bytes=cap + 1))
    assert mode == "reusable" and "EIP-170" in why
    assert choose_mode(vk, "reusable")[0] == "reusable" and choose_mode(vk, "specialised")[0] == "specialised"
    with pytest.raises(InputError, match="--mode must be one of"):
        choose_mode(vk, "fast")
