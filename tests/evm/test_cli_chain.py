"""The on-chain verbs: gen-verifier, deploy-verifier, submit-proof (and scripts/submit_proof.py) on the bundled
digits MLP. Exit codes: 0 accepted, 1 rejected by the verifier, 2 usage/input/chain error.

The library path (zkchain.evm.deploy) runs on the in-process eth-tester chain. The CLI runs in separate
processes, which cannot share an in-process chain, so the CLI path runs against an anvil node started by this
module on a free port and stopped by PID (marker ``anvil``; skipped when the binary is missing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zkchain.errors import ChainError, InputError, SetupError
from zkchain.models import bundled_model_dir

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "submit_proof.py"
DEAD = "0x000000000000000000000000000000000000dEaD"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("ZKCHAIN_PRIVATE_KEY", "ZKCHAIN_RPC_URL"):  # the tests choose keys and URLs explicitly
        env.pop(var, None)
    return env


def run(*args, check=None, script=False):
    cmd = [sys.executable, str(SCRIPT)] if script else [sys.executable, "-m", "zkchain.cli"]
    p = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=300, env=_env(), cwd=ROOT)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}"
    assert "Traceback" not in p.stderr, p.stderr
    return p


def closed_port_url() -> str:
    from zkchain.evm.anvil import free_port

    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """Compiled + set-up bundled MLP, one valid proof and one with a changed public output (in-process: fast)."""
    import numpy as np

    from zkchain import api
    from zkchain.quant import compile_model, write_compiled

    src = bundled_model_dir("digits_mlp")
    root = tmp_path_factory.mktemp("chain")
    b = root / "build"
    write_compiled(compile_model(src / "model.onnx", src / "calibration.npy"), b)
    vk = api.setup(b)
    proof, _ = api.prove(b, np.load(src / "test_inputs.npy")[0])
    proof.save(root / "proof.json", vk)
    # a consistent lie (public value, calldata and outputs_float together): loads, and the verifier rejects it
    name = next(iter(proof.public))
    proof.public[name][0] += 1
    proof.save(root / "tampered.json", vk)
    return {"dir": b, "proof": root / "proof.json", "tampered": root / "tampered.json", "vk": vk, "root": root}


@pytest.fixture(scope="module")
def verifier(build):
    from zkchain.evm import deploy

    try:
        return deploy.build_verifier(build["vk"])
    except SetupError as exc:
        pytest.skip(f"solc-js not available: {exc}")


@pytest.fixture(scope="module")
def deployed(build, verifier, node):
    """The CLI's deploy-verifier on anvil, once; returns the deployment record."""
    p = run("deploy-verifier", build["dir"], "--rpc-url", node.url, check=0)
    assert "anvil's first dev account" in p.stderr and "INSECURE" in p.stderr
    return json.loads((build["dir"] / "deployment.json").read_text())


# ------------------------------------------------------------------------------------------------ library, embedded chain


def test_deploy_and_submit_on_the_embedded_chain(build, verifier):
    from zkchain.evm import deploy
    from zkchain.evm.verifier_gen import calldata
    from zkchain.protocol.proof import Proof

    vk = build["vk"]
    _source, compiled = verifier
    assert compiled.name == "InsecureDevSrsDigitsMlpVerifier"
    chain = deploy.connect("embedded")
    dep = deploy.deploy_verifier(chain, vk, compiled)
    assert dep.vk_digest == "0x" + vk.digest.hex() and dep.srs_insecure and 1_500_000 < dep.deploy_gas < 3_000_000
    proof = Proof.load(build["proof"], vk)
    deploy.check_verifier_at(chain, dep.address, compiled.abi, proof.vk_digest)
    pb, pi = calldata(proof, vk)

    ok = deploy.submit_proof(chain, dep.address, compiled.abi, pb, pi)
    assert ok.accepted and ok.mode == "transaction" and 300_000 < ok.gas_used < 400_000
    (ev,) = ok.events
    assert ev["event"] == "ProofVerified" and ev["args"]["vkDigest"] == dep.vk_digest
    assert ev["args"]["submitter"] == chain.account

    bad = deploy.submit_proof(chain, dep.address, compiled.abi, pb, [pi[0] + 1, *pi[1:]])
    assert not bad.accepted and bad.rejected_by_verifier and bad.reason.startswith("ProofRejected")
    assert not bad.events and bad.tx_hash

    assert deploy.submit_proof(chain, dep.address, compiled.abi, pb, pi, call=True).accepted
    assert not deploy.submit_proof(chain, dep.address, compiled.abi, pb, pi[::-1], call=True).accepted
    with pytest.raises(InputError, match="intrinsic"):  # would sit in a node's mempool forever
        deploy.submit_proof(chain, dep.address, compiled.abi, pb, pi, gas=60_000)
    oog = deploy.submit_proof(chain, dep.address, compiled.abi, pb, pi, gas=200_000)
    assert not oog.accepted and not oog.rejected_by_verifier and "out of gas" in oog.reason

    with pytest.raises(ChainError, match="no contract"):
        deploy.check_verifier_at(chain, DEAD, compiled.abi, proof.vk_digest)
    with pytest.raises(InputError, match="checks VK"):
        deploy.check_verifier_at(chain, dep.address, compiled.abi, b"\x01" * 32)


def test_deployment_record_is_never_lost(build, verifier, tmp_path):
    from zkchain.evm import deploy

    vk, (_s, compiled) = build["vk"], verifier
    chain = deploy.connect("embedded")
    first = deploy.deploy_verifier(chain, vk, compiled)
    assert deploy.check_can_record(tmp_path, chain, force=False) == (None, "none")
    deploy.record_deployment(tmp_path, first)
    rec = deploy.Deployment.load(tmp_path / "deployment.json")
    assert rec.address == first.address and rec.abi == compiled.abi and rec.chain_id == chain.chain_id

    with pytest.raises(InputError, match="still has code"):  # live on this chain
        deploy.check_can_record(tmp_path, chain, force=False)
    old, status = deploy.check_can_record(tmp_path, chain, force=True)
    second = deploy.deploy_verifier(chain, vk, compiled)
    _path, backup = deploy.record_deployment(tmp_path, second, old)
    assert status == "live" and backup.is_file() and json.loads(backup.read_text())["address"] == first.address
    assert deploy.Deployment.load(tmp_path / "deployment.json").address == second.address

    other = deploy.connect("embedded")  # same chain id, empty state: the recorded contract is gone (stale)
    assert deploy.check_can_record(tmp_path, other, force=False)[1] == "stale"
    rec = json.loads((tmp_path / "deployment.json").read_text())
    rec["chain_id"] = 1
    (tmp_path / "deployment.json").write_text(json.dumps(rec))
    with pytest.raises(InputError, match="chain 1"):
        deploy.check_can_record(tmp_path, chain, force=False)
    (tmp_path / "deployment.json").write_text("{junk")
    with pytest.raises(InputError, match="not a zkchain.deployment.v1"):
        deploy.check_can_record(tmp_path, chain, force=False)


def test_gen_verifier(build, verifier, tmp_path):
    b = build["dir"]
    p = run("gen-verifier", b, check=0)
    assert "InsecureDevSrsDigitsMlpVerifier" in p.stdout and f"{verifier[1].runtime_size_bytes:,} bytes" in p.stdout
    assert "INSECURE" in p.stderr and (b / "Verifier.sol").read_text() == verifier[0]
    assert "unchanged" in run("gen-verifier", b, check=0).stdout
    other = tmp_path / "Other.sol"
    other.write_text("// someone else's contract\n")
    p = run("gen-verifier", b, "-o", other, check=2)
    assert "--force" in p.stderr and other.read_text().startswith("// someone")
    run("gen-verifier", b, "-o", other, "--force", check=0)
    assert other.read_text() == verifier[0]


def test_unreachable_rpc_url_is_exit_2_with_one_line(build, verifier):
    url = closed_port_url()
    for args in (("deploy-verifier", build["dir"], "--rpc-url", url),
                 ("submit-proof", build["dir"], build["proof"], "--rpc-url", url, "--address", DEAD)):
        p = run(*args, check=2)
        assert len(p.stderr.strip().splitlines()) == 1 and "no JSON-RPC node answers" in p.stderr
    dep = build["root"] / "unreachable-deployment.json"
    dep.write_text(json.dumps({"address": DEAD, "chain_id": 31337, "vk_digest": "0x" + build["vk"].digest.hex(),
                               "abi": verifier[1].abi}))
    p = run("--proof", build["proof"], "--deployment", dep, "--rpc-url", url, script=True, check=2)
    assert "no JSON-RPC node answers" in p.stderr


def test_submit_proof_on_the_embedded_chain_is_a_dry_run(build, verifier):
    p = run("submit-proof", build["dir"], build["proof"], "--rpc-url", "embedded", check=0)
    assert "accepted" in p.stdout and "ProofVerified" in p.stdout and "for this check only" in p.stderr
    p = run("submit-proof", build["dir"], build["tampered"], "--rpc-url", "embedded", check=1)
    assert "ProofRejected" in p.stderr


# ------------------------------------------------------------------------------------------------ CLI on anvil


@pytest.mark.anvil
def test_deploy_verifier_writes_deployment_json(deployed, build, verifier, node):
    from zkchain.evm.chain import ANVIL_DEV_ADDRESS

    assert deployed["format"] == "zkchain.deployment.v1" and deployed["chain_id"] == 31337
    assert deployed["rpc_url"] == node.url and deployed["deployer"] == ANVIL_DEV_ADDRESS
    assert deployed["vk_digest"] == "0x" + build["vk"].digest.hex() and deployed["abi"] == verifier[1].abi
    assert deployed["tx_hash"].startswith("0x") and deployed["compiler"].startswith("0.8.")
    assert 1_500_000 < deployed["deploy_gas"] < 3_000_000 and deployed["srs_insecure"] is True


@pytest.mark.anvil
def test_submit_valid_proof_exit_0_with_event(deployed, build, node):
    p = run("submit-proof", build["dir"], build["proof"], "--rpc-url", node.url, check=0)
    assert p.stdout.startswith("accepted") and deployed["address"] in p.stdout
    assert f"ProofVerified(vkDigest={deployed['vk_digest']}" in p.stdout and "gas used" in p.stdout
    p = run("submit-proof", build["dir"], build["proof"], "--rpc-url", node.url, "--call", check=0)
    assert "verifyProof returned true" in p.stdout


@pytest.mark.anvil
def test_tampered_proof_exit_1(deployed, build, node):
    p = run("submit-proof", build["dir"], build["tampered"], "--rpc-url", node.url, check=1)
    assert "rejected: ProofRejected" in p.stderr and "ProofVerified" not in p.stdout and "tx 0x" in p.stdout
    run("submit-proof", build["dir"], build["tampered"], "--rpc-url", node.url, "--call", check=1)


@pytest.mark.anvil
def test_wrong_address_or_key_is_exit_2(deployed, build, node):
    p = run("submit-proof", build["dir"], build["proof"], "--rpc-url", node.url, "--address", DEAD, check=2)
    assert "no contract at" in p.stderr
    p = run("submit-proof", build["dir"], build["proof"], "--rpc-url", node.url, "--address", "0x1234", check=2)
    assert "not an address" in p.stderr
    # a proof for another verifying key than the deployment's
    other = json.loads(build["proof"].read_text())
    other["vk_digest"] = "0x" + "11" * 32
    (build["root"] / "other-key.json").write_text(json.dumps(other))
    p = run("submit-proof", build["dir"], build["root"] / "other-key.json", "--rpc-url", node.url, check=2)
    assert "verifying key" in p.stderr
    p = run("--proof", build["root"] / "other-key.json", "--deployment", build["dir"] / "deployment.json",
            "--rpc-url", node.url, script=True, check=2)
    assert "verifying key" in p.stderr


@pytest.mark.anvil
def test_deployment_json_mismatch_and_overwrite(deployed, build, node, tmp_path):
    b = tmp_path / "build"
    shutil.copytree(build["dir"], b)
    rec = json.loads((b / "deployment.json").read_text())
    rec["vk_digest"] = "0x" + "22" * 32
    (b / "deployment.json").write_text(json.dumps(rec))
    p = run("submit-proof", b, build["proof"], "--rpc-url", node.url, check=2)
    assert "is a verifier for key 0x2222" in p.stderr
    p = run("deploy-verifier", b, "--rpc-url", node.url, check=2)  # a live verifier is recorded there
    assert "--force" in p.stderr
    p = run("deploy-verifier", b, "--rpc-url", node.url, "--force", check=0)
    backups = list(b.glob("deployment.31337.*.json"))
    assert len(backups) == 1 and json.loads(backups[0].read_text())["address"] == rec["address"]
    assert json.loads((b / "deployment.json").read_text())["address"] != rec["address"]


@pytest.mark.anvil
def test_script_submits_valid_and_tampered_proofs(deployed, build, node):
    dep = build["dir"] / "deployment.json"
    p = run("--help", script=True, check=0)
    assert "--deployment" in p.stdout
    p = run("--proof", build["proof"], "--deployment", dep, "--rpc-url", node.url, script=True, check=0)
    assert p.stdout.startswith("accepted") and "ProofVerified" in p.stdout and "gas used" in p.stdout
    p = run("--proof", build["tampered"], "--deployment", dep, "--rpc-url", node.url, script=True, check=1)
    assert "ProofRejected" in p.stderr
    run("--proof", build["proof"], "--deployment", dep, "--call", script=True, check=0)  # rpc_url from the record


def test_script_imports_no_zkchain():
    text = SCRIPT.read_text()
    assert not [ln for ln in text.splitlines() if ln.startswith(("import zkchain", "from zkchain"))]


@pytest.mark.anvil
def test_no_key_on_another_chain_is_exit_2(build, verifier):
    from zkchain.evm.anvil import Anvil

    with Anvil(chain_id=1337) as other:
        p = run("deploy-verifier", build["dir"], "--rpc-url", other.url, check=2)
    assert "chain id 1337" in p.stderr and "private key" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
