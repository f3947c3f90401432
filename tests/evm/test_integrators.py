"""docs/integrators.md's example consumer (`contracts/examples/DigitOracle.sol`), compiled and used on the embedded
chain as an integrator would: it pins the verifier by key digest, records the argmax of a verified output,
refuses a moved output, a verifier for another key, and a dev-SRS verifier unless allowed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zkchain.errors import ChainError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    from zkchain import api
    from zkchain.evm import deploy
    from zkchain.evm.chain import Chain
    from zkchain.evm.solc import compile_solidity
    from zkchain.evm.verifier_gen import calldata
    from zkchain.models import bundled_model_dir

    d, b = bundled_model_dir("digits_mlp"), tmp_path_factory.mktemp("mlp") / "b"
    api.compile(d / "model.onnx", b, d / "calibration.npy")
    vk = api.setup(b)
    x = np.load(d / "test_inputs.npy")[3]
    proof, info = api.prove(b, x)
    chain = Chain.embedded()
    _, compiled = deploy.build_verifier(vk)
    vaddr, _ = chain.deploy(compiled, gas=8_000_000)
    oracle = compile_solidity({"DigitOracle.sol": (ROOT / "contracts" / "examples" / "DigitOracle.sol").read_text()})
    return chain, vk, vaddr, oracle["DigitOracle"], calldata(proof, vk), info


def test_oracle_records_the_verified_argmax(setting):
    chain, vk, vaddr, oracle, (pb, pub), info = setting
    addr, _ = chain.deploy(oracle, vaddr, vk.digest, True, gas=3_000_000)
    tx = chain.transact(addr, oracle, "submit", pb, pub, gas=2_000_000)
    assert tx.outcome.success, tx
    assert chain.call(addr, oracle, "lastDigit") == int(np.argmax(info["outputs"][0]))
    assert chain.call(addr, oracle, "digits") == 1
    moved = list(pub)
    moved[0] = (moved[0] + 1) % (2**256)
    with pytest.raises(ChainError, match="ProofRejected"):
        chain.call(addr, oracle, "submit", pb, moved, gas=2_000_000)


def test_oracle_pins_the_key_and_refuses_a_dev_srs_verifier_by_default(setting):
    chain, vk, vaddr, oracle, _, _ = setting
    """Each constructor check alone reverts the deployment (the right digest with the dev SRS allowed deploys:
    test_oracle_records_the_verified_argmax)."""
    with pytest.raises(ChainError, match="constructor revert"):
        chain.deploy(oracle, vaddr, b"\x01" * 32, True, gas=3_000_000)  # another key
    with pytest.raises(ChainError, match="constructor revert"):
        chain.deploy(oracle, vaddr, vk.digest, False, gas=3_000_000)  # dev SRS not allowed
