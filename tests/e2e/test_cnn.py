"""Convolutional models end to end: the bundled digits CNN and LeNet-5, and the corpus CNNs, proved and
verified in Python (LeNet also by its generated Solidity verifier on the embedded chain)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from zkchain import api
from zkchain.models import bundled_model_dir
from zkchain.quant.compile import compile_model, write_compiled

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "ezkl-examples"
CORPUS_CNNS = ["1l_conv", "2l_relu_sigmoid_conv", "3l_relu_conv_fc", "4l_relu_conv_fc", "1l_flatten", "1l_batch_norm",
               "lenet_5"]


def build(tmp: Path, onnx: Path, calibration: Path) -> Path:
    m = compile_model(onnx, calibration=calibration)
    write_compiled(m[0] if isinstance(m, tuple) else m, tmp / "b")
    api.setup(tmp / "b")
    return tmp / "b"


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    d = bundled_model_dir("digits_cnn")
    return d, build(tmp_path_factory.mktemp("cnn"), d / "model.onnx", d / "calibration.npy")


def test_digits_cnn_proves_and_classifies_like_the_float_model(cnn):
    d, b = cnn
    xs, labels = np.load(d / "test_inputs.npy"), np.load(d / "test_labels.npy")
    for i in (0, 1):
        proof, info = api.prove(b, xs[i])
        v = api.verify(b, proof)
        assert v.accepted, v.reason
        assert int(np.argmax(info["outputs"][0])) == int(labels[i])


def test_digits_cnn_tampered_output_is_rejected(cnn):
    d, b = cnn
    proof, _ = api.prove(b, np.load(d / "test_inputs.npy")[0])
    bad = copy.deepcopy(proof)
    name = next(iter(bad.public))
    bad.public[name][3] -= 1
    assert not api.verify(b, bad)


@pytest.mark.slow
def test_lenet5_proves_and_verifies_in_python_and_on_chain(tmp_path):
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.prover.keys import VerifyingKey

    d = bundled_model_dir("lenet5")
    b = build(tmp_path, d / "model.onnx", d / "calibration.npy")
    x, label = np.load(d / "test_inputs.npy")[0], int(np.load(d / "test_labels.npy")[0])
    proof, info = api.prove(b, x)
    assert api.verify(b, proof).accepted
    assert int(np.argmax(info["outputs"][0])) == label
    vk = VerifyingKey.load(b / "vk.json")
    compiled = compile_verifier(vk, "Lenet5Verifier")
    assert compiled.runtime_size_bytes <= 24_576  # EIP-170
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=12_000_000)
    pb, pub = calldata(proof, vk)
    assert chain.call(address, compiled, "verifyProof", pb, pub, gas=3_000_000) is True
    pub_bad = list(pub)
    pub_bad[-1] += 1  # another output value
    assert chain.call(address, compiled, "verifyProof", pb, pub_bad, gas=3_000_000) is False


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS_CNNS)
def test_corpus_cnn_proves_and_verifies(name, tmp_path):
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.skip(f"EZKL corpus not found at {CORPUS}")
    b = build(tmp_path, folder / "network.onnx", folder / "input.json")
    proof, _ = api.prove(b, api.read_input(folder / "input.json"))
    v = api.verify(b, proof)
    assert v.accepted, v.reason
