"""The reusable verifier (contracts/ReusableVerifier.sol, zkchain/evm/reusable.py) on the embedded chain.

One deployed ZkchainReusableVerifier serves every model of the module: the bundled digits MLP and digits CNN
(and LeNet-5, marked slow) are registered as tapes; honest proofs are accepted, and the contract agrees with the
Python tape interpreter (hence with the native verifier, tests/evm/test_tape.py) on the mutation catalogue. A
proof for one model is rejected under another model's id; registration refuses a second tape under one id, a
tape whose hash is not the id, and malformed or truncated tapes, with the same reason codes as
``tape.decode_tape``."""

from __future__ import annotations

import pytest
from _models import bundled
from _vectors import mutations
from evm_helpers import record_gas

from zkchain.errors import ChainError, InputError, SetupError
from zkchain.evm import reusable
from zkchain.evm import tape as T
from zkchain.evm.verifier_gen import calldata

GAS = reusable.VERIFY_GAS


class Shared:
    def __init__(self, chain):
        try:
            self.compiled = reusable.compile_reusable()
        except SetupError as exc:
            pytest.skip(f"solc-js not available: {exc}")
        self.chain = chain
        self.address, self.deploy_gas = chain.deploy(self.compiled, gas=reusable.DEPLOY_GAS)
        self.models = {}

    def add(self, name, vk, proof):
        tape = T.record_tape(vk)
        reg = reusable.register(self.chain, self.address, tape, self.compiled)
        pb, pub = calldata(proof, vk)
        self.models[name] = (vk, tape, pb, pub)
        record_gas(f"reusable: register {name} (data + register)", reg.gas, f"tape {len(tape.data):,} B")
        return reg

    def verify(self, model_id, pb, pub) -> bool:
        out = self.chain.try_call(self.address, self.compiled, "verifyProof", model_id, pb, pub, gas=GAS)
        assert out.success, out.revert_reason
        return bool(out.value)

    def exec_gas(self, name) -> int:
        vk, tape, pb, pub = self.models[name]
        tx = self.chain.transact(self.address, self.compiled, "verifyProof", tape.model_id, pb, pub, gas=GAS,
                                 replay=False)
        assert tx.receipt["status"] == 1
        data = bytes.fromhex(self.chain.w3.eth.contract(abi=self.compiled.abi)
                             .encode_abi("verifyProof", [tape.model_id, pb, pub])[2:])
        return tx.gas_used - 21_000 - sum(16 if b else 4 for b in data)


@pytest.fixture(scope="module")
def shared(chain):
    s = Shared(chain)
    s.add("digits_mlp", *bundled("digits_mlp"))
    s.add("digits_cnn", *bundled("digits_cnn"))
    return s


def test_runtime_code_is_the_same_for_every_model(shared, chain):
    code = bytes(chain.w3.eth.get_code(shared.address))
    assert code.hex() == shared.compiled.runtime_bytecode[2:]
    assert len(code) < 24_576
    assert len(shared.models) >= 2  # two models registered, nothing redeployed, the code unchanged
    record_gas("reusable: runtime code (bytes, any model)", len(code))
    record_gas("reusable: deploy", shared.deploy_gas)


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_honest_proofs_are_accepted_and_views_describe_the_model(shared, name):
    vk, tape, pb, pub = shared.models[name]
    assert shared.verify(tape.model_id, pb, pub)
    c, a = shared.compiled, shared.address
    assert shared.chain.call(a, c, "isRegistered", tape.model_id)
    assert shared.chain.call(a, c, "vkDigest", tape.model_id) == vk.digest
    assert shared.chain.call(a, c, "proofLength", tape.model_id) == len(pb)
    assert shared.chain.call(a, c, "publicInputsLength", tape.model_id) == len(pub)
    assert shared.chain.call(a, c, "insecureDevSrs", tape.model_id) is True
    record_gas(f"reusable: verifyProof {name} (execution)", shared.exec_gas(name))


def test_contract_agrees_with_the_tape_interpreter_on_mutations(shared):
    vk, tape, pb, pub = shared.models["digits_mlp"]
    n = 0
    for label, mpb, mpub in mutations(vk, pb, pub):
        assert shared.verify(tape.model_id, mpb, mpub) is T.run_tape(tape, mpb, mpub)[0] is False, label
        n += 1
    assert n > 40


def test_cnn_mutations_are_rejected(shared):
    vk, tape, pb, pub = shared.models["digits_cnn"]
    for i, (label, mpb, mpub) in enumerate(mutations(vk, pb, pub)):
        if i % 6 == 0:  # a sixth of the catalogue: every kind, fewer pairings
            assert not shared.verify(tape.model_id, mpb, mpub), label


def test_proof_for_model_a_is_rejected_under_model_b(shared):
    _, tape_a, pa, puba = shared.models["digits_mlp"]
    _, tape_b, pb, pubb = shared.models["digits_cnn"]
    assert not shared.verify(tape_b.model_id, pa, puba)
    assert not shared.verify(tape_a.model_id, pb, pubb)
    # same circuit and calldata lengths, another key: a third model, the MLP's proof fails there
    tape_c, _ = _other_key(shared)
    assert not shared.verify(tape_c.model_id, pa, puba)


def test_submit_proof_event_and_rejection(shared):
    vk, tape, pb, pub = shared.models["digits_mlp"]
    c, a, chain = shared.compiled, shared.address, shared.chain
    tx = chain.transact(a, c, "submitProof", tape.model_id, pb, pub, gas=GAS)
    assert tx.outcome.success and tx.outcome.value is True
    (ev,) = [e for e in tx.events if e["event"] == "ProofVerified"]
    assert ev["args"]["modelId"] == tape.model_id and ev["args"]["vkDigest"] == vk.digest
    assert ev["args"]["submitter"] == chain.account
    bad = list(pub)
    bad[0] = (bad[0] + 1) % (1 << 254)
    tx = chain.transact(a, c, "submitProof", tape.model_id, pb, bad, gas=GAS)
    assert not tx.outcome.success and "ProofRejected" in tx.outcome.revert_reason and not tx.events
    out = chain.try_call(a, c, "verifyProof", b"\x01" * 32, pb, pub, gas=GAS)
    assert not out.success and "UnknownModel" in out.revert_reason


def _refusal(shared, model_id, addrs) -> str:
    out = shared.chain.try_call(shared.address, shared.compiled, "register", model_id, addrs, gas=10_000_000)
    assert not out.success
    return out.revert_reason


def test_registration_refuses_duplicates_swaps_and_malformed_tapes(shared):
    chain = shared.chain
    _, tape, _, _ = shared.models["digits_mlp"]
    addrs, _ = reusable.deploy_chunks(chain, tape)
    assert "AlreadyRegistered" in _refusal(shared, tape.model_id, addrs)
    assert "ModelIdMismatch" in _refusal(shared, b"\x07" * 32, addrs)
    assert "MalformedTape(11)" in _refusal(shared, b"\x08" * 32, []).replace(" ", "")  # no chunks
    # malformed tapes, each under its own hash: the contract's reason code is decode_tape's
    data = tape.data
    code0 = T.HEADER_BYTES + 32 * tape.header.n_const
    bad_tapes = {
        "truncated header": data[:40],
        "bad magic": b"\x00zkX" + data[4:],
        "truncated": data[:-9],
        "extended": data + b"\x00",
        "unknown opcode": data[:code0] + b"\x63" + data[code0 + 1:],
        "MUL (recorder-only, never encoded)": data[:code0] + bytes([T.MUL]) + data[code0 + 1:],
        "read outside memory": data[:code0 + 1] + b"\xff\xff" + data[code0 + 3:],
        "no pairing": data[:-9] + (bytes([T.REQNZ]) + T.CONST_BASE.to_bytes(2, "big")) * 3,
    }
    pos = code0  # every kind of instruction, one slot operand after its count pointed outside memory
    for ins in tape.code:
        if ins[0] in (T.SQUARES, T.INVXM1, T.MULS, T.LINCOMB, T.PROD, T.MSM, T.ONES, T.DEN, T.HORNER):
            k = 1 if ins[0] in (T.SQUARES, T.INVXM1, T.MULS) else 0  # skip a leading count
            at = pos + 1 + 2 * k
            bad_tapes.setdefault(f"{T.NAMES[ins[0]]} operand outside memory", data[:at] + b"\xff\xfe" + data[at + 2:])
        pos += 1 + 2 * (len(ins) - 1)
    for label, bad in bad_tapes.items():
        with pytest.raises(InputError) as exc:
            T.decode_tape(bad)
        code = int(str(exc.value).split("MalformedTape(")[1].split(")")[0])
        addrs_bad, _ = reusable.deploy_chunks(chain, bad)
        reason = _refusal(shared, T.model_id(bad), addrs_bad)
        assert f"MalformedTape({code})" in reason.replace(" ", ""), (label, reason)
    # a chunk that is not a data contract (its code does not start with STOP): the verifier itself
    assert "MalformedTape(10)" in _refusal(shared, b"\x09" * 32, [shared.address]).replace(" ", "")


def _other_key(shared):
    """The digits MLP under another dev SRS, registered once, in data contracts of 1,000 bytes."""
    if "other" not in shared.models:
        vk, proof = bundled("digits_mlp", seed="another-seed")
        tape = T.record_tape(vk)
        old = reusable.CHUNK_BYTES
        reusable.CHUNK_BYTES = 1000
        try:
            reg = reusable.register(shared.chain, shared.address, tape, shared.compiled)
        finally:
            reusable.CHUNK_BYTES = old
        shared.models["other"] = (vk, tape, *calldata(proof, vk))
        shared.other_chunks = reg.chunks
    return shared.models["other"][1], shared.other_chunks


def test_a_tape_in_several_chunks(shared):
    tape, chunks = _other_key(shared)
    assert len(chunks) == (len(tape.data) + 999) // 1000 > 1
    assert shared.verify(tape.model_id, *shared.models["other"][2:])
    assert shared.chain.call(shared.address, shared.compiled, "tapeChunks", tape.model_id) == list(chunks)


@pytest.mark.sweep
def test_lenet5_on_the_shared_verifier(shared):
    vk, proof = bundled("lenet5")
    shared.add("lenet5", vk, proof)
    _, tape, pb, pub = shared.models["lenet5"]
    assert shared.verify(tape.model_id, pb, pub)
    record_gas("reusable: verifyProof lenet5 (execution)", shared.exec_gas("lenet5"))
    for i, (label, mpb, mpub) in enumerate(mutations(vk, pb, pub)):
        if i % 8 == 0:
            assert not shared.verify(tape.model_id, mpb, mpub), label


@pytest.mark.sweep
def test_digits_vit_on_the_shared_verifier(shared):
    """The bundled vision transformer (MatProduct, LayerNorm, attention): its specialised verifier is over
    EIP-170; its tape needs two data contracts."""
    vk, proof = bundled("digits_vit")
    shared.add("digits_vit", vk, proof)
    _, tape, pb, pub = shared.models["digits_vit"]
    assert len(tape.data) > reusable.CHUNK_BYTES
    assert shared.verify(tape.model_id, pb, pub)
    record_gas("reusable: verifyProof digits_vit (execution)", shared.exec_gas("digits_vit"))
    for i, (label, mpb, mpub) in enumerate(mutations(vk, pb, pub)):
        if i % 8 == 0:
            assert not shared.verify(tape.model_id, mpb, mpub), label
