"""The README's PyTorch path, exactly as written there: export with ``dynamo=False`` and compile with the API.

Skipped without torch (an optional extra: ``pip install -e '.[torch]'``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_readme_export_compiles_proves_and_verifies(tmp_path):
    from zkchain import api

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # dynamo=False says it is deprecated; it works
        torch.onnx.export(net.eval(), torch.randn(1, 64), str(tmp_path / "model.onnx"), dynamo=False,
                          opset_version=17, input_names=["input"], output_names=["output"])
    cal = np.random.default_rng(0).normal(size=(32, 64)).astype(np.float32)
    np.save(tmp_path / "calibration.npy", cal)
    res = api.compile(tmp_path / "model.onnx", tmp_path / "build", calibration=tmp_path / "calibration.npy")
    assert res.blocks and res.model.info["fidelity"]["top1_agreement"] >= 0.9
    api.setup(tmp_path / "build")
    proof, info = api.prove(tmp_path / "build", cal[0])
    assert api.verify(tmp_path / "build", proof)
    ref = net(torch.from_numpy(cal[:1])).detach().numpy()[0]
    assert int(np.argmax(info["outputs"][0])) == int(np.argmax(ref))
