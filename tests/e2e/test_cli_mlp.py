"""End to end through the CLI: compile → setup → prove → verify on real-data MLPs (bundled digits and the
EZKL corpus). Exit codes: 0 accepted, 1 rejected, 2 usage/input error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clirun import zk

from zkchain.models import bundled_model_dir

CORPUS_MLPS = ["1l_mlp", "2l_relu_fc", "2l_relu_small", "1l_linear", "1l_relu", "2l_relu_sigmoid_small",
               "2l_sigmoid_small"]


@pytest.fixture(scope="module")
def mlp_build(tmp_path_factory):
    d = bundled_model_dir("digits_mlp")
    build = tmp_path_factory.mktemp("mlp") / "build"
    zk("compile", d / "model.onnx", "-o", build, "--calibration", d / "calibration.npy", check=0)
    zk("setup", build, check=0)
    return build


def test_digits_mlp_proves_and_verifies(mlp_build, tmp_path):
    d = bundled_model_dir("digits_mlp")
    proof = tmp_path / "proof.json"
    p = zk("prove", mlp_build, "--input", d / "input.json", "-o", proof, check=0)
    assert "wrote" in p.stdout
    v = zk("verify", mlp_build, proof, check=0)
    assert "accepted" in v.stdout
    pj = json.loads(proof.read_text())
    assert pj["zero_knowledge"] is True and pj["hides"] == ["private input", "activations", "weights"]
    assert pj["srs_insecure"] is True and "INSECURE" in pj["warning"]
    assert "INSECURE" in v.stderr
    assert "zero-knowledge: the proof hides" in p.stderr and "not yet" not in p.stderr
    # every artifact agrees: the verifying key says so too, and an edited flag is refused (exit 2)
    vkj = json.loads((mlp_build / "vk.json").read_text())
    assert vkj["zero_knowledge"] is True and vkj["hides"] == pj["hides"]
    vkj["zero_knowledge"] = False
    edited = tmp_path / "edited"
    edited.mkdir()
    for f in mlp_build.iterdir():
        if f.is_file():
            (edited / f.name).write_bytes(f.read_bytes())
    (edited / "vk.json").write_text(json.dumps(vkj))
    bad = zk("verify", edited, proof, check=2)
    assert "zero_knowledge" in bad.stderr and "Traceback" not in bad.stderr
    # the public output is the quantized logits; its argmax is the float model's class for this sample
    out = next(iter(pj["outputs_float"].values()))
    ref = json.loads((d / "input.json").read_text())["output_data"][0]
    assert max(range(10), key=out.__getitem__) == max(range(10), key=ref.__getitem__)


def test_setup_refuses_to_replace_keys_without_force(mlp_build, tmp_path):
    """A second setup would make a new verifying key (earlier proofs and deployed verifiers stop matching): exit 2
    with one line naming the files, nothing touched; --force replaces them."""
    b = tmp_path / "b"
    b.mkdir()
    for f in mlp_build.iterdir():
        if f.is_file():
            (b / f.name).write_bytes(f.read_bytes())
    before = {f: (b / f).read_bytes() for f in ("vk.json", "pk.json", "pk_fixed.npz")}
    p = zk("setup", b, check=2)
    assert len(p.stderr.strip().splitlines()) == 1 and "vk.json, pk.json, pk_fixed.npz" in p.stderr
    assert "--force" in p.stderr and {f: (b / f).read_bytes() for f in before} == before
    zk("setup", b, "--force", check=0)
    assert (b / "vk.json").read_bytes() != before["vk.json"]


def test_tampered_output_is_rejected_with_exit_1(mlp_build, tmp_path):
    d = bundled_model_dir("digits_mlp")
    proof = tmp_path / "proof.json"
    zk("prove", mlp_build, "--input", d / "input.json", "-o", proof, check=0)
    pj = json.loads(proof.read_text())
    name = next(iter(pj["public"]))
    pj["public"][name][0] += 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(pj))
    v = zk("verify", mlp_build, bad, check=2)  # the calldata no longer encodes the public values: an edited file
    assert "public_inputs" in v.stderr and "Traceback" not in v.stderr
    # the same lie told consistently (public value, calldata and outputs_float edited together) is a rejected proof
    from zkchain.protocol.vk import VerifyingKey
    from zkchain.protocol.proof import Proof

    vk = VerifyingKey.load(mlp_build / "vk.json")
    p = Proof.load(proof, vk)
    p.public[name][0] += 1
    p.save(bad, vk)
    v = zk("verify", mlp_build, bad, check=1)
    assert "rejected" in v.stderr


def test_bad_inputs_exit_2_without_traceback(mlp_build, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    for args in (("verify", mlp_build, junk), ("prove", mlp_build, "--input", junk, "-o", tmp_path / "p.json"),
                 ("verify", mlp_build, tmp_path / "missing.json")):
        p = zk(*args, check=2)
        assert "Traceback" not in p.stderr and p.stderr.strip()
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"input_data": [[0.5] * 10]}))
    p = zk("prove", mlp_build, "--input", wrong, "-o", tmp_path / "p.json", check=2)
    assert "64" in p.stderr and "Traceback" not in p.stderr


def test_existing_proof_is_not_overwritten(mlp_build, tmp_path):
    d = bundled_model_dir("digits_mlp")
    proof = tmp_path / "proof.json"
    proof.write_text("keep me")
    p = zk("prove", mlp_build, "--input", d / "input.json", "-o", proof, check=2)
    assert "--force" in p.stderr and proof.read_text() == "keep me"


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS_MLPS)
def test_corpus_mlp_proves_and_verifies_through_the_cli(name, tmp_path, corpus_model):
    folder = corpus_model(name)
    build, proof = tmp_path / "build", tmp_path / "proof.json"
    zk("compile", folder / "network.onnx", "-o", build, "--calibration", folder / "input.json", check=0)
    zk("setup", build, check=0)
    zk("prove", build, "--input", folder / "input.json", "-o", proof, check=0)
    assert "accepted" in zk("verify", build, proof, check=0).stdout


@pytest.mark.slow
def test_setup_with_a_snarkjs_ptau_makes_a_secure_labelled_proof(tmp_path):
    snarkjs = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / ".bin" / "snarkjs"
    if not snarkjs.exists():
        pytest.skip("snarkjs not installed (bash scripts/dev.sh setup)")
    p0, p1 = tmp_path / "p0.ptau", tmp_path / "p1.ptau"
    subprocess.run([snarkjs, "powersoftau", "new", "bn128", "13", p0], check=True, capture_output=True, timeout=300)
    subprocess.run([snarkjs, "powersoftau", "contribute", p0, p1, "--name=test", "-e=entropy"], check=True,
                   capture_output=True, timeout=300)
    d = bundled_model_dir("digits_mlp")
    build, proof = tmp_path / "build", tmp_path / "proof.json"
    zk("compile", d / "model.onnx", "-o", build, "--calibration", d / "calibration.npy", check=0)
    s = zk("setup", build, "--srs", p1, check=0)
    assert "INSECURE" not in s.stderr
    zk("prove", build, "--input", d / "input.json", "-o", proof, check=0)
    zk("verify", build, proof, check=0)
    assert json.loads(proof.read_text())["srs_insecure"] is False
    vk = json.loads((build / "vk.json").read_text())
    assert vk["srs"]["insecure"] is False and vk["srs"]["source"].startswith("ptau:")
    # a .ptau too small for the model is refused with exit 2
    small = tmp_path / "small.ptau"
    subprocess.run([snarkjs, "powersoftau", "new", "bn128", "8", small], check=True, capture_output=True, timeout=120)
    p = zk("setup", build, "--srs", small, "--force", check=2)
    assert "Traceback" not in p.stderr and "degree" in p.stderr
