"""Convolutional models end to end: the bundled digits CNN and LeNet-5, and the corpus CNNs, proved and
verified in Python (LeNet also by its generated Solidity verifier on the embedded chain)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from zkchain import api
from zkchain.models import bundled_model_dir

CORPUS_CNNS = ["1l_conv", "2l_relu_sigmoid_conv", "3l_relu_conv_fc", "4l_relu_conv_fc", "1l_flatten", "1l_batch_norm",
               "1l_max_pool", "1l_average",
               pytest.param("lenet_5", marks=pytest.mark.sweep)]  # ~35 s; the bundled LeNet-5 runs by default


@pytest.fixture(scope="module")
def cnn(tmp_path_factory, build_model):
    d = bundled_model_dir("digits_cnn")
    return d, build_model(tmp_path_factory.mktemp("cnn"), d / "model.onnx", d / "calibration.npy")


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


@pytest.fixture(scope="module")
def lenet(tmp_path_factory, build_model):
    d = bundled_model_dir("lenet5")
    b = build_model(tmp_path_factory.mktemp("lenet"), d / "model.onnx", d / "calibration.npy")
    x, label = np.load(d / "test_inputs.npy")[0], int(np.load(d / "test_labels.npy")[0])
    proof, info = api.prove(b, x)
    return b, proof, info, label


@pytest.mark.slow
def test_lenet5_proves_and_verifies_in_python_and_on_chain(lenet):
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.protocol.vk import VerifyingKey

    b, proof, info, label = lenet
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
@pytest.mark.anvil
def test_lenet5_proof_is_accepted_on_anvil(lenet):
    from zkchain.evm.anvil import Anvil, find_anvil
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.errors import SetupError
    from zkchain.protocol.vk import VerifyingKey

    try:
        find_anvil()
    except SetupError:
        pytest.skip("anvil not installed (bash scripts/dev.sh setup)")
    b, proof, _, _ = lenet
    vk = VerifyingKey.load(b / "vk.json")
    compiled = compile_verifier(vk, "Lenet5Verifier")
    with Anvil() as node:
        chain = Chain.rpc(node.url)
        address, _ = chain.deploy(compiled, gas=12_000_000)
        pb, pub = calldata(proof, vk)
        assert chain.call(address, compiled, "verifyProof", pb, pub, gas=3_000_000) is True
        tx = chain.transact(address, compiled, "submitProof", pb, pub, gas=3_000_000)
        assert tx.outcome.success and tx.gas_used < 1_000_000


@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS_CNNS)
def test_corpus_cnn_proves_and_verifies(name, tmp_path, corpus_model, prove_corpus):
    v = prove_corpus(corpus_model(name), tmp_path)
    assert v.accepted, v.reason


def test_global_average_pooling_proves_and_verifies_on_chain(tmp_path, build_model):
    """ReLU → GlobalAveragePool → Flatten → Gemm: the spatial sum is a sum pooling with an H×W window."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.protocol.vk import VerifyingKey

    rnd = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    W = numpy_helper.from_array(rnd.normal(size=(4, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]), helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "gap", [x], [y], [W, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    cal = rnd.normal(size=(8, 3, 5, 5)).astype(np.float32)
    np.save(tmp_path / "cal.npy", cal)
    b_dir = build_model(tmp_path, tmp_path / "m.onnx", tmp_path / "cal.npy")
    proof, info = api.prove(b_dir, cal[0])
    assert api.verify(b_dir, proof).accepted
    w = numpy_helper.to_array(W)
    expect = np.maximum(cal[0], 0).mean(axis=(1, 2)) @ w.T
    assert np.allclose(info["outputs"][0], expect, atol=0.05 * np.abs(expect).max())
    vk = VerifyingKey.load(b_dir / "vk.json")
    compiled = compile_verifier(vk, "GapVerifier")
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=10_000_000)
    pb, pub = calldata(proof, vk)
    assert chain.call(address, compiled, "verifyProof", pb, pub, gas=3_000_000) is True
    pub[-1] += 1
    assert chain.call(address, compiled, "verifyProof", pb, pub, gas=3_000_000) is False
