"""The CLI in reusable mode (``--mode reusable``): gen-verifier writes the model's tape, deploy-verifier deploys the
shared verifier once and registers models there (``--verifier-address``), submit-proof finds the model's id. Two
models share one verifier on an anvil node (marker ``anvil``). Exit codes: 0 accepted, 1 rejected, 2 error."""

from __future__ import annotations

import json

import pytest
from test_cli_chain import run

from zkchain.models import bundled_model_dir

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The bundled digits MLP and CNN compiled, set up (dev SRS) and proved in-process; a tampered MLP proof."""
    import numpy as np

    from zkchain import api
    from zkchain.quant import compile_model, write_compiled

    root = tmp_path_factory.mktemp("reusable-cli")
    out = {}
    for name in ("digits_mlp", "digits_cnn"):
        src = bundled_model_dir(name)
        b = root / name
        write_compiled(compile_model(src / "model.onnx", src / "calibration.npy"), b)
        vk = api.setup(b)
        proof, _ = api.prove(b, np.load(src / "test_inputs.npy")[0])
        proof.save(b / "proof.json", vk)
        if name == "digits_mlp":
            proof.public[next(iter(proof.public))][0] += 1
            proof.save(b / "tampered.json", vk)
        out[name] = b
    return out


def test_gen_verifier_modes(builds):
    b = builds["digits_mlp"]
    p = run("gen-verifier", b, "--mode", "reusable", check=0)
    from zkchain.evm.tape import model_id

    tape = (b / "verifier.tape").read_bytes()
    assert f"model id 0x{model_id(tape).hex()}" in p.stdout and "the same for every model" in p.stdout
    assert "Invalid value for '--mode'" in run("gen-verifier", b, "--mode", "fast", check=2).stderr


def test_two_models_share_one_verifier_on_anvil(builds, node):
    mlp, cnn = builds["digits_mlp"], builds["digits_cnn"]
    p = run("deploy-verifier", mlp, "--mode", "reusable", "--rpc-url", node.url, check=0)
    assert "deployed ZkchainReusableVerifier" in p.stdout and "registered model" in p.stdout
    dep = json.loads((mlp / "deployment.json").read_text())
    assert dep["mode"] == "reusable" and dep["model_id"].startswith("0x") and dep["tape_chunks"]
    address = dep["address"]
    p = run("deploy-verifier", cnn, "--verifier-address", address, "--rpc-url", node.url, check=0)
    assert f"using ZkchainReusableVerifier at {address}" in p.stdout and "registered model" in p.stdout
    assert json.loads((cnn / "deployment.json").read_text())["address"] == address
    # both models verify at the one address; a tampered proof is rejected (exit 1)
    p = run("submit-proof", mlp, mlp / "proof.json", "--rpc-url", node.url, check=0)
    assert "accepted" in p.stdout and "ProofVerified(modelId=" + dep["model_id"] in p.stdout
    p = run("--proof", cnn / "proof.json", "--deployment", cnn / "deployment.json", "--rpc-url", node.url,
            script=True, check=0)  # the copyable scripts/submit_proof.py sends the model id too
    assert "accepted" in p.stdout
    p = run("submit-proof", mlp, mlp / "tampered.json", "--rpc-url", node.url, check=1)
    assert "ProofRejected(modelId" in p.stderr
    # the CNN's proof under the MLP's id: refused before sending (another key), exit 2
    p = run("submit-proof", cnn, cnn / "proof.json", "--rpc-url", node.url, "--model-id", dep["model_id"],
            check=2)
    assert "checks VK" in p.stderr
    # an address without the shared verifier is an input/chain error
    run("deploy-verifier", mlp, "--verifier-address", "0x000000000000000000000000000000000000dEaD",
        "--rpc-url", node.url, "--force", check=2)
