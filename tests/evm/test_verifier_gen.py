"""The generated Solidity verifier (zkchain/evm/verifier_gen.py) against the Python verifier.

One deployment per verifying key (module scope): the protocol tests' two-layer circuit, a circuit without
lookups that has a public input, and the bundled digits MLP (the gas target). Python and Solidity must agree on
the honest proof and on every mutation of it; the challenges and the accumulator computed on chain must equal
Python's; garbage must be rejected with bounded gas. Gas figures land in the EVM gas summary of the run.
"""

from __future__ import annotations

import time

import pytest
from _vectors import (
    CONV_CASES,
    conv_instance,
    hadamard_instance,
    maxpool_instance,
    mutations,
    no_lookup_instance,
    shifted_instance,
    protocol_instance_module,
    python_state,
    python_verdict,
)
from evm_helpers import keccak256, record_gas

from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.errors import SetupError
from zkchain.evm.verifier_gen import calldata, compile_verifier, generate_verifier, proof_length
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify

GAS = 3_000_000  # per call: a valid proof needs ~0.35M; garbage must stay below 1M
EIP170 = 24_576


class Deployed:
    def __init__(self, chain, vk, proof, name):
        self.chain, self.vk, self.proof = chain, vk, proof
        try:
            self.compiled = compile_verifier(vk, name)
            self.debug = compile_verifier(vk, name + "Debug", debug=True)
        except SetupError as exc:
            pytest.skip(f"solc-js not available: {exc}")
        self.address, self.deploy_gas = chain.deploy(self.compiled, gas=15_000_000)
        self.debug_address, _ = chain.deploy(self.debug, gas=15_000_000)
        self.pb, self.pub = calldata(proof, vk)

    def verify(self, pb, pub) -> bool:
        out = self.chain.try_call(self.address, self.compiled, "verifyProof", pb, pub, gas=GAS)
        return bool(out.success and out.value)

    def verify_tx(self, pb, pub):
        return self.chain.transact(self.address, self.compiled, "verifyProof", pb, pub, gas=GAS, replay=False)

    def calldata_gas(self, pb, pub) -> int:
        data = bytes.fromhex(self.chain.w3.eth.contract(abi=self.compiled.abi)
                             .encode_abi("verifyProof", [pb, pub])[2:])
        return sum(16 if b else 4 for b in data)


def _keys(circuit, fixed, seed):
    return setup(circuit, fixed, SRS.dev(required_degree(circuit), seed=seed), f"dev:{seed}")


@pytest.fixture(scope="module")
def two_layer(chain):
    m = protocol_instance_module()
    inst = m.Instance()
    circuit, fixed = inst.circuit()
    pk = _keys(circuit, fixed, m.SRS_SPEC[4:])
    return Deployed(chain, pk.vk, prove(pk, inst.honest()), "TwoLayerVerifier")


@pytest.fixture(scope="module")
def no_lookups(chain):
    circuit, fixed, values = no_lookup_instance()
    pk = _keys(circuit, fixed, "zkchain-test-nolookup")
    return Deployed(chain, pk.vk, prove(pk, values), "NoLookupVerifier")


@pytest.fixture(scope="module")
def shifted(chain):
    circuit, fixed, values = shifted_instance()
    pk = _keys(circuit, fixed, "zkchain-test-shifted")
    return Deployed(chain, pk.vk, prove(pk, values), "ShiftedVerifier")


@pytest.fixture(scope="module", params=range(len(CONV_CASES)),
                ids=lambda i: "C{}H{}W{}-OC{}k{}p{}s{}".format(*CONV_CASES[i]))
def convolution(chain, request):
    """The protocol tests' convolutions (padding with PadZero, stride, channels); the first with a public output."""
    circuit, fixed, values = conv_instance(CONV_CASES[request.param], public_output=request.param == 0)
    pk = _keys(circuit, fixed, "zkchain-test-conv")
    return Deployed(chain, pk.vk, prove(pk, values), f"ConvVerifier{request.param}")


@pytest.fixture(scope="module")
def hadamard(chain):
    circuit, fixed, values = hadamard_instance()
    pk = _keys(circuit, fixed, "hadamard")
    return Deployed(chain, pk.vk, prove(pk, values), "HadamardVerifier")


@pytest.fixture(scope="module")
def maxpool(chain, tmp_path_factory):
    circuit, fixed, values = maxpool_instance(tmp_path_factory.mktemp("maxpool"))
    pk = _keys(circuit, fixed, "mp")
    return Deployed(chain, pk.vk, prove(pk, values), "MaxPoolVerifier")


def _digits_mlp(chain, public_input: bool, name: str) -> Deployed:
    """The bundled digits MLP (64-32-10), compiled, set up with the dev SRS and proved on test input 0."""
    from pathlib import Path

    import numpy as np

    import zkchain.models
    from zkchain.compiler.lower import lower
    from zkchain.quant.compile import compile_model

    model_dir = Path(zkchain.models.__file__).parent / "digits_mlp"
    model = compile_model(model_dir / "model.onnx")
    lowered = lower(model, public_input=public_input)
    pk = setup(lowered.circuit, lowered.fixed_values, SRS.dev(required_degree(lowered.circuit), seed="zkchain-dev"),
               "dev:zkchain-dev", meta={"model": "digits_mlp"})
    x = np.load(model_dir / "test_inputs.npy")[0]
    values = lowered.vector_values(model.execute(model.quantize_input(x)))
    return Deployed(chain, pk.vk, prove(pk, values), name)


@pytest.fixture(scope="module")
def digits_mlp(chain):
    return _digits_mlp(chain, False, "DigitsMlpVerifier")


@pytest.fixture(scope="module")
def digits_mlp_public_input(chain):
    """Same model with the input public too: its polynomial is evaluated on chain at 1/zeta and rho/zeta."""
    return _digits_mlp(chain, True, "DigitsMlpPublicInputVerifier")


# ------------------------------------------------------------------------------------------------ source


def test_source_header_and_interface(two_layer):
    src = generate_verifier(two_layer.vk, "TwoLayerVerifier")
    assert src.startswith("// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.")
    assert f"0x{two_layer.vk.digest.hex()}" in src
    assert "zero_knowledge:  true" in src
    assert "INSECURE dev SRS" in src  # dev SRS keys say so
    assert "debugState" not in src  # production contract stays lean
    fns = {f["name"] for f in two_layer.compiled.abi if f["type"] == "function"}
    assert {"verifyProof", "submitProof", "VK_DIGEST", "PROOF_LENGTH", "PUBLIC_INPUTS_LENGTH"} <= fns
    chain, addr, abi = two_layer.chain, two_layer.address, two_layer.compiled
    assert chain.call(addr, abi, "VK_DIGEST") == two_layer.vk.digest
    assert chain.call(addr, abi, "PROOF_LENGTH") == proof_length(two_layer.vk) == len(two_layer.pb)
    assert chain.call(addr, abi, "PUBLIC_INPUTS_LENGTH") == len(two_layer.pub)
    assert two_layer.compiled.runtime_size_bytes < EIP170


def test_generation_is_deterministic_and_validates_its_input(two_layer):
    import copy

    from zkchain.errors import InputError, UnsupportedModelError

    vk = two_layer.vk
    assert generate_verifier(vk, "A") == generate_verifier(copy.deepcopy(vk), "A")
    for bad_name in ("1abc", "has space", "semi;colon", ""):
        with pytest.raises(InputError):
            generate_verifier(vk, bad_name)
    broken = copy.deepcopy(vk)
    name = sorted(broken.fixed_commitments)[0]
    broken.fixed_commitments[name] = (1).to_bytes(32, "big") + (3).to_bytes(32, "big")  # off the curve
    with pytest.raises(InputError):
        generate_verifier(broken)
    broken = copy.deepcopy(vk)
    broken.circuit.vectors["a"] = broken.circuit.vectors["x"]  # the Laurent quotient's name
    with pytest.raises(InputError):
        generate_verifier(broken)
    broken = copy.deepcopy(vk)
    broken.circuit.constraints.append(object())  # a block the generator does not know: refuse, never skip
    with pytest.raises(UnsupportedModelError):
        generate_verifier(broken)
    broken = copy.deepcopy(vk)
    broken.g2_tau = bytes(127) + b"\x01"  # not a G2 point
    with pytest.raises(InputError):
        generate_verifier(broken)


# ------------------------------------------------------------------------------------------------ honest proofs


@pytest.mark.parametrize("which", ["two_layer", "no_lookups", "shifted", "digits_mlp", "digits_mlp_public_input"])
def test_honest_proof_is_accepted_by_both(request, which):
    d = request.getfixturevalue(which)
    assert verify(d.vk, d.proof).accepted
    assert python_verdict(d.vk, d.pb, d.pub)
    assert d.verify(d.pb, d.pub)
    tx = d.verify_tx(d.pb, d.pub)
    assert tx.receipt["status"] == 1
    cd = d.calldata_gas(d.pb, d.pub)
    execution = tx.gas_used - 21_000 - cd
    record_gas(f"verifyProof {which} (tx)", tx.gas_used, f"{len(d.pb)} B proof, {len(d.pub)} public")
    record_gas(f"verifyProof {which} (execution)", execution, "tx - 21000 - calldata")
    record_gas(f"deploy {which} verifier", d.deploy_gas, f"runtime {d.compiled.runtime_size_bytes:,} B")
    print(f"\n{which}: verify tx {tx.gas_used:,} gas (execution {execution:,}, calldata {cd:,}), "
          f"deploy {d.deploy_gas:,} gas, runtime {d.compiled.runtime_size_bytes:,} bytes")


def test_digits_mlp_fits_gas_and_size_targets(digits_mlp):
    d = digits_mlp
    assert d.compiled.runtime_size_bytes < EIP170
    tx = d.verify_tx(d.pb, d.pub)
    execution = tx.gas_used - 21_000 - d.calldata_gas(d.pb, d.pub)
    # protocol v2 budget (issue 15): <= 1.1x v1 and <= 320k; the hidden weights cost one ecMul each
    assert execution <= 320_000, f"{execution} gas for {len(d.pb)} proof bytes: see docs/evm-verifier.md section 4"


def test_convolution_proofs_agree(convolution):
    """Conv and PadZero blocks: honest proof, challenges, accumulator and the mutation catalogue."""
    d = convolution
    assert verify(d.vk, d.proof).accepted
    assert d.verify(d.pb, d.pub)
    ok, challenges, lr = d.chain.call(d.debug_address, d.debug, "debugState", d.pb, d.pub, gas=GAS)
    assert ok and (list(challenges), list(lr)) == python_state(d.vk, d.proof)
    count = 0
    for label, pb, pub in mutations(d.vk, d.pb, d.pub):
        assert not python_verdict(d.vk, pb, pub), label
        assert not d.verify(pb, pub), label
        count += 1
    assert count >= 30
    tx = d.verify_tx(d.pb, d.pub)
    record_gas(f"verifyProof conv {d.compiled.name} (tx)", tx.gas_used,
               f"{len(d.pb)} B proof, runtime {d.compiled.runtime_size_bytes:,} B")


@pytest.mark.parametrize("which", ["hadamard", "maxpool"])
def test_hadamard_and_pick_proofs_agree(request, which):
    """Hadamard blocks (``a(ζ)·b(ρ/ζ)``: an expression with a constant at ζ, a fixed vector opened at ρ/ζ) and
    max pooling (Pick blocks, a PadZero with a non-zero padding value, a Hadamard chain): honest proof,
    challenges, accumulator and the mutation catalogue, Python and Solidity alike."""
    d = request.getfixturevalue(which)
    assert verify(d.vk, d.proof).accepted
    assert python_verdict(d.vk, d.pb, d.pub)
    assert d.verify(d.pb, d.pub)
    ok, challenges, lr = d.chain.call(d.debug_address, d.debug, "debugState", d.pb, d.pub, gas=GAS)
    assert ok and (list(challenges), list(lr)) == python_state(d.vk, d.proof)
    count = 0
    for label, pb, pub in mutations(d.vk, d.pb, d.pub):
        if which == "maxpool" and not label.startswith(("evaluation", "public")):
            continue  # the generic encodings are covered by the other keys; keep the block-equation mutations
        assert not python_verdict(d.vk, pb, pub), label
        assert not d.verify(pb, pub), label
        count += 1
    assert count >= 30
    tx = d.verify_tx(d.pb, d.pub)
    record_gas(f"verifyProof {which} (tx)", tx.gas_used,
               f"{len(d.pb)} B proof, runtime {d.compiled.runtime_size_bytes:,} B")


def test_corpus_batch_norm_is_accepted_on_chain(chain, tmp_path):
    """EZKL's ``1l_batch_norm`` (a per-entry scale: a Hadamard with a fixed vector) through the normal build:
    compile with its input.json as calibration, setup, prove; accepted on chain, an output + 1 rejected."""
    from zkchain import api
    from zkchain.models import corpus_missing_reason, ezkl_corpus_dir
    from zkchain.protocol.vk import VerifyingKey
    from zkchain.quant.compile import compile_model, write_compiled

    if ezkl_corpus_dir() is None:
        pytest.skip(corpus_missing_reason())
    folder = ezkl_corpus_dir() / "1l_batch_norm"
    m = compile_model(folder / "network.onnx", calibration=folder / "input.json")
    write_compiled(m[0] if isinstance(m, tuple) else m, tmp_path / "b")
    api.setup(tmp_path / "b")
    proof, _ = api.prove(tmp_path / "b", api.read_input(folder / "input.json"))
    vk = VerifyingKey.load(tmp_path / "b" / "vk.json")
    assert any(type(k).__name__ == "Hadamard" for k in vk.circuit.constraints)
    d = Deployed(chain, vk, proof, "BatchNormVerifier")
    assert verify(vk, proof).accepted
    assert d.verify(d.pb, d.pub)
    pub = list(d.pub)
    pub[-1] = (pub[-1] + 1) % R
    assert not python_verdict(vk, d.pb, pub)
    assert not d.verify(d.pb, pub)
    tx = d.verify_tx(d.pb, d.pub)
    record_gas("verifyProof 1l_batch_norm (tx)", tx.gas_used,
               f"{len(d.pb)} B proof, runtime {d.compiled.runtime_size_bytes:,} B")


def test_challenges_and_accumulator_match_python(request):
    for which in ("two_layer", "no_lookups", "shifted", "digits_mlp", "digits_mlp_public_input"):
        d = request.getfixturevalue(which)
        ok, challenges, lr = d.chain.call(d.debug_address, d.debug, "debugState", d.pb, d.pub, gas=GAS)
        py_challenges, py_lr = python_state(d.vk, d.proof)
        assert ok, which
        assert list(challenges) == py_challenges, which
        assert list(lr) == py_lr, which


def test_submit_proof_emits_event(two_layer):
    d = two_layer
    tx = d.chain.transact(d.address, d.compiled, "submitProof", d.pb, d.pub, gas=GAS)
    assert tx.receipt["status"] == 1 and tx.outcome.value is True
    (ev,) = tx.events
    assert ev["event"] == "ProofVerified"
    assert ev["args"]["vkDigest"] == d.vk.digest
    assert ev["args"]["outputHash"] == keccak256(b"".join(v.to_bytes(32, "big") for v in d.pub))
    assert ev["args"]["submitter"] == d.chain.account
    record_gas("submitProof two_layer (tx)", tx.gas_used, "accepted, event emitted")


def test_submit_invalid_proof_reverts_without_event(two_layer):
    d = two_layer
    pub = list(d.pub)
    pub[1] = (pub[1] + 1) % R
    tx = d.chain.transact(d.address, d.compiled, "submitProof", d.pb, pub, gas=GAS)
    assert tx.receipt["status"] == 0
    assert not tx.events
    assert "ProofRejected" in (tx.outcome.revert_reason or "")


# ------------------------------------------------------------------------------------------------ mutations


def test_python_and_solidity_agree_on_mutations(two_layer):
    d = two_layer
    t0 = time.perf_counter()
    count = 0
    for label, pb, pub in mutations(d.vk, d.pb, d.pub):
        py = python_verdict(d.vk, pb, pub)
        sol = d.verify(pb, pub)
        assert not py, f"Python accepted mutation: {label}"
        assert not sol, f"Solidity accepted mutation: {label}"
        count += 1
    assert count >= 50, count
    print(f"\n{count} mutations rejected by both verifiers in {time.perf_counter() - t0:.1f} s")


@pytest.mark.parametrize("which", ["no_lookups", "shifted"])
def test_more_circuits_mutations(request, which):
    d = request.getfixturevalue(which)
    count = 0
    for label, pb, pub in mutations(d.vk, d.pb, d.pub):
        assert not python_verdict(d.vk, pb, pub), label
        assert not d.verify(pb, pub), label
        count += 1
    assert count >= 20


def test_public_input_mutations(digits_mlp_public_input):
    d = digits_mlp_public_input
    for i in (0, 17, 63, 64, len(d.pub) - 1):  # inputs (evaluated at 1/zeta and rho/zeta) and outputs
        pub = list(d.pub)
        pub[i] = (pub[i] + 1) % R
        assert not python_verdict(d.vk, d.pb, pub), i
        assert not d.verify(d.pb, pub), i


def test_noncanonical_public_value_is_rejected_on_chain(two_layer):
    """v + r encodes the same field element as v; both verifiers demand canonical values (< r)."""
    d = two_layer
    pub = list(d.pub)
    i = min(range(len(pub)), key=lambda j: pub[j])  # a small value, so v + r < 2^256
    pub[i] += R
    assert not python_verdict(d.vk, d.pb, pub)
    assert not d.verify(d.pb, pub)


# ------------------------------------------------------------------------------------------------ bounded gas


def test_garbage_is_rejected_with_bounded_gas(two_layer):
    import random

    d = two_layer
    rnd = random.Random(5)
    worst = 0
    cases = [
        ("random proof bytes", bytes(rnd.randrange(256) for _ in range(len(d.pb))), d.pub),
        ("all-zero proof", b"\0" * len(d.pb), d.pub),
        ("wrong length", d.pb[:100], d.pub),
        ("opening + G (reaches the pairing)", None, d.pub),
    ]
    for label, pb, pub in mutations(d.vk, d.pb, d.pub):
        if label.startswith("opening zeta"):
            cases[3] = (label, pb, pub)
    for label, pb, pub in cases:
        tx = d.verify_tx(pb, pub)
        assert tx.receipt["status"] == 1, label
        assert not d.verify(pb, pub), label
        assert tx.gas_used < 1_000_000, (label, tx.gas_used)
        worst = max(worst, tx.gas_used)
    # raw calldata: the right selector followed by junk (the ABI decoder rejects it)
    selector = keccak256(b"verifyProof(bytes,uint256[])")[:4]
    for junk in (b"", b"\x01" * 31, bytes(rnd.randrange(256) for _ in range(200)),
                 (2**255).to_bytes(32, "big") * 4):
        tx = d.chain.transact_raw(d.address, selector + junk, gas=GAS)
        assert tx.gas_used < 1_000_000
        if tx.receipt["status"] == 1:
            out = d.chain.call_raw(d.address, selector + junk, gas=GAS)
            assert out.value is None or int.from_bytes(out.value[:32] or b"\0", "big") == 0
        worst = max(worst, tx.gas_used)
    record_gas("verifyProof garbage (worst tx)", worst, "must stay < 1M")


# ------------------------------------------------------------------------------------------------ Yul helpers


def test_closed_form_helpers_match_python_including_x_equal_one(chain):
    """zkOnes / zkIota / zkBadG1 of the generated code against zkchain.blocks.common, including the x = 1
    limits (the contract flags a zero denominator and substitutes 1 before the batch inversion)."""
    import random

    from zkchain.blocks.common import iota_eval, ones_eval
    from zkchain.evm.solc import compile_solidity
    from zkchain.evm.verifier_gen import _HELPERS

    helpers = "\n".join("            " + ln for ln in _HELPERS.splitlines())
    src = f"""// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
contract HelperHarness {{
    function ones(uint256 a0, uint256 a1, uint256 a2, uint256 a3) external pure returns (uint256 res) {{
        assembly {{
{helpers}
            res := zkOnes(a0, a1, a2, a3)
        }}
    }}
    function iota(uint256 a0, uint256 a1, uint256 a2, uint256 a3, uint256 a4, uint256 a5)
        external pure returns (uint256 res)
    {{
        assembly {{
{helpers}
            res := zkIota(a0, a1, a2, a3, a4, a5)
        }}
    }}
    function badG1(uint256 a0, uint256 a1) external pure returns (uint256 res) {{
        assembly {{
{helpers}
            res := zkBadG1(a0, a1)
        }}
    }}
}}
"""
    try:
        h = compile_solidity({"HelperHarness.sol": src})["HelperHarness"]
    except SetupError as exc:
        pytest.skip(f"solc-js not available: {exc}")
    addr, _ = chain.deploy(h, gas=3_000_000)
    rnd = random.Random(3)
    for x in (1, 0, 2, R - 1, rnd.randrange(R), rnd.randrange(R)):
        for n in (1, 2, 10, 1024, 5376):
            d = (x - 1) % R
            one = int(d == 0)
            iv = pow(d + one, -1, R)
            xn = pow(x, n, R)
            assert chain.call(addr, h, "ones", xn, iv, one, n % R) == ones_eval(n, x), (x, n)
            half = n * (n - 1) // 2 % R
            assert chain.call(addr, h, "iota", x, xn, iv, one, n % R, half) == iota_eval(n, x), (x, n)
    from zkchain.crypto.field import P

    for (gx, gy), bad in (((1, 2), 0), ((0, 0), 0), ((1, 3), 1), ((1, 2 + P), 1), ((1 + P, 2), 1), ((0, 1), 1),
                          ((1, P - 2), 0)):
        assert chain.call(addr, h, "badG1", gx, gy) == bad, (gx, gy)


# ------------------------------------------------------------------------------------------------ anvil (revm)


@pytest.mark.anvil
def test_mlp_verifier_on_anvil(digits_mlp):
    """The same contract on a production EVM (anvil / revm, its default hardfork): accepted, rejected, event."""
    from zkchain.evm.anvil import Anvil, find_anvil
    from zkchain.evm.chain import Chain

    try:
        find_anvil()
    except SetupError as exc:
        pytest.skip(f"anvil binary missing ({exc})")
    d = digits_mlp
    with Anvil() as node:
        chain = Chain.rpc(node.url)
        address, deploy_gas = chain.deploy(d.compiled, gas=5_000_000)
        assert chain.call(address, d.compiled, "verifyProof", d.pb, d.pub, gas=GAS)
        pub = list(d.pub)
        pub[0] = (pub[0] + 1) % R
        assert not chain.call(address, d.compiled, "verifyProof", d.pb, pub, gas=GAS)
        bad = d.pb[:-64] + bytes(d.pb[-64:-32]) + (int.from_bytes(d.pb[-32:], "big") ^ 1).to_bytes(32, "big")
        assert not chain.call(address, d.compiled, "verifyProof", bad, d.pub, gas=GAS)
        tx = chain.transact(address, d.compiled, "submitProof", d.pb, d.pub, gas=GAS)
        assert tx.receipt["status"] == 1 and tx.events[0]["event"] == "ProofVerified"
        record_gas("submitProof digits_mlp (anvil tx)", tx.gas_used, "default hardfork")
        record_gas("deploy digits_mlp verifier (anvil)", deploy_gas, "")
