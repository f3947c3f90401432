"""Batch proofs of a convolutional network (issue 12's CNN half, issue 26's row axis over image grids): the
bundled digits CNN compiled with ``--batch N`` lays the N images out as N·C planes, proves its convolutions as
patches × weights over all N images' pixels (one multi-row MatMul per layer, the kernel opened once), and one
proof carries one output row per image.

- every row equals what the single-image build computes for that image (``predict`` on a ``--batch 1`` build:
  the same integer model), the proof is accepted by ``zkchain verify`` and by the generated Solidity verifier;
- ``prove-accuracy`` on 16 test digits counts what ``predict --labels`` counts, and verifies; ``check-dataset``
  recomputes the committed images (laid out on the first convolution's padded grid) and tells another set apart.

The attack (a proof whose images are another order of the same images: each sample's patches from another
sample) is ``tests/adversarial/test_conv_patches.py::test_batched_patches_are_tied_to_their_own_image``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from clirun import zk

from zkchain.models import bundled_model_dir

N = 8
CNN = bundled_model_dir("digits_cnn")


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch_cnn")
    build = tmp / "build"
    zk("compile", CNN / "model.onnx", "-o", build, "--batch", N, check=0)
    zk("setup", build, check=0)
    np.save(tmp / "x.npy", np.load(CNN / "test_inputs.npy")[:N])
    p = zk("prove", build, "--input", tmp / "x.npy", "-o", tmp / "p.json", check=0)
    return {"build": build, "tmp": tmp, "prove_out": p.stdout + p.stderr}


def test_one_proof_of_8_images_holds_each_image_row(cnn, tmp_path):
    from zkchain import api

    v = zk("verify", cnn["build"], cnn["tmp"] / "p.json", check=0)
    assert "accepted" in v.stdout
    rows = np.asarray(json.loads((cnn["tmp"] / "p.json").read_text())["outputs_float"]["output"]).reshape(N, -1)
    single = api.compile(CNN / "model.onnx", tmp_path / "one").model  # one image per proof, the same calibration
    x = np.load(CNN / "test_inputs.npy")[:N]
    expected = np.stack([np.asarray(single.predict(x[i:i + 1])).reshape(-1) for i in range(N)])
    np.testing.assert_array_equal(rows, expected)
    labels = np.load(CNN / "test_labels.npy")[:N]
    assert np.mean(np.argmax(rows, axis=1) == labels) >= 0.75
    assert f"argmax per sample: {np.argmax(rows, axis=1).tolist()}" in cnn["prove_out"]


def test_the_batch_verifier_accepts_on_chain(cnn):
    from zkchain.errors import SetupError
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.protocol.proof import Proof
    from zkchain.protocol.vk import VerifyingKey

    vk = VerifyingKey.load(cnn["build"] / "vk.json")
    proof = Proof.load(cnn["tmp"] / "p.json", vk)
    try:
        compiled = compile_verifier(vk, "BatchCnnVerifier")
    except SetupError as exc:
        pytest.skip(f"no solc: {exc}")
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=15_000_000)
    assert chain.call(address, compiled, "verifyProof", *calldata(proof, vk), gas=5_000_000) is True


def test_accuracy_of_the_cnn_on_16_digits(tmp_path):
    x, y = np.load(CNN / "test_inputs.npy")[:16], np.load(CNN / "test_labels.npy")[:16]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    b = tmp_path / "b"
    zk("compile", CNN / "model.onnx", "-o", b, "--batch", 16, check=0)
    zk("setup", b, "--dataset", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", check=0)
    zk("prove-accuracy", b, "-o", tmp_path / "acc.json", check=0)
    k = json.loads((tmp_path / "acc.json").read_text())["accuracy"]["correct"]
    pred = json.loads(zk("predict", b, "--input", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", check=0).stdout)
    assert (pred["correct"], pred["total"]) == (k, 16) and k >= 12
    v = zk("verify", b, tmp_path / "acc.json", check=0)
    assert f"accuracy: {k} of 16 correct" in v.stdout
    # a third party recommits the set from vk.json alone (the images lie on the first convolution's padded grid)
    zk("check-dataset", b / "vk.json", "--dataset", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", check=0)
    np.save(tmp_path / "x2.npy", x[::-1])
    zk("check-dataset", b / "vk.json", "--dataset", tmp_path / "x2.npy", "--labels", tmp_path / "y.npy", check=1)
