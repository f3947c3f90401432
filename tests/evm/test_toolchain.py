"""The pip user's path: a built wheel, outside the repo, installs its toolchain and proves on a chain.

The wheel is built from this checkout (``pip wheel --no-build-isolation``, no network) and unpacked into a folder
that shadows the editable install (``PYTHONPATH``); every command runs with the working directory outside the repo
and a fresh ``$ZKCHAIN_CACHE``, so nothing of the clone's ``tools/node_modules`` is in reach.
``zkchain toolchain install --offline`` installs the pinned solc-js and anvil from npm's own cache (which
``scripts/dev.sh setup`` filled: tests never reach the internet); then compile → setup → prove → gen-verifier →
submit-proof on the embedded chain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    if shutil.which("npm") is None:
        pytest.skip("npm not installed")
    d = tmp_path_factory.mktemp("wheel")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(d / "dist")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (whl,) = (d / "dist").glob("zkchain-*.whl")
    site = d / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(whl)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKCHAIN_")}
    env.update(PYTHONPATH=str(site), ZKCHAIN_CACHE=str(d / "cache"))
    work = d / "work"
    work.mkdir()

    def zk(*args, code=0):
        p = subprocess.run([sys.executable, "-m", "zkchain.cli", *map(str, args)], cwd=work, env=env,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == code, f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    return site, zk


def test_wheel_runs_outside_the_repo_with_its_own_toolchain(wheel_env):
    site, zk = wheel_env
    where = zk("--version").stdout
    probe = subprocess.run([sys.executable, "-c", "import zkchain; print(zkchain.__file__)"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(site)}, cwd=site.parent)
    assert probe.stdout.startswith(str(site)), "the wheel's package, not the checkout's"
    assert where
    status = zk("toolchain", "status", code=2)
    assert "zkchain toolchain install" in status.stderr
    zk("toolchain", "install", "--offline")
    assert "missing" not in zk("toolchain", "status").stdout
    models = site / "zkchain" / "models" / "digits_mlp"
    zk("compile", models / "model.onnx", "-o", "build", "--calibration", models / "calibration.npy")
    zk("setup", "build")
    zk("prove", "build", "--input", models / "input.json", "-o", "proof.json")
    assert "runtime code" in zk("gen-verifier", "build").stdout
    assert "accepted" in zk("submit-proof", "build", "proof.json", "--rpc-url", "embedded").stdout
