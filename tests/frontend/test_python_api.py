"""The top-level Python API (``import zkchain``): one function per CLI verb, typed results, and the README's
five lines from a ``torch.nn.Module`` to a verified proof, run exactly as written (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import zkchain
from zkchain.models import bundled_model_dir


def test_api_mirrors_the_cli_with_typed_results(tmp_path):
    d = bundled_model_dir("digits_mlp")
    res = zkchain.compile(d / "model.onnx", tmp_path / "b", calibration=d / "calibration.npy")
    assert res.blocks and (tmp_path / "b" / "quantized.json") in res.paths
    vk = zkchain.setup(tmp_path / "b")
    assert vk.srs_insecure
    x = np.load(d / "test_inputs.npy")[0]
    proved = zkchain.prove(tmp_path / "b", x)
    assert isinstance(proved, zkchain.Proved) and len(proved.outputs[0]) == 10 and proved.proof_bytes > 0
    assert zkchain.verify(tmp_path / "b", proved)
    proved.save(tmp_path / "proof.json", tmp_path / "b")
    assert zkchain.verify(tmp_path / "b", tmp_path / "proof.json")
    with pytest.raises(zkchain.errors.InputError, match="already holds keys"):
        zkchain.setup(tmp_path / "b")
    v = zkchain.gen_verifier(tmp_path / "b")
    assert v.path == tmp_path / "b" / "Verifier.sol" and v.path.is_file() and 0 < v.runtime_bytes < 24_576
    assert v.vk_digest == "0x" + vk.digest.hex() and v.contract.startswith("InsecureDevSrs")


def test_readme_torch_example(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    cal = torch.randn(32, 64)
    x = cal[0].numpy()
    # --- the README's example, verbatim ---
    import zkchain
    zkchain.from_torch(net, torch.randn(1, 64), "build", calibration=cal)
    zkchain.setup("build")
    proved = zkchain.prove("build", x)
    assert zkchain.verify("build", proved)
    # ---
    assert (tmp_path / "build" / "model.onnx").is_file()
    assert int(np.argmax(proved.outputs[0])) == int(net(cal[:1]).argmax())
