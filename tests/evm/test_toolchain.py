"""The pip user's path: a built wheel, installed in a fresh virtualenv outside the repo, installs its toolchain,
runs ``zkchain demo`` end to end and the CLI pipeline on a chain.

Why a real fresh venv (``python -m venv``, then ``pip install zkchain-*.whl`` with its dependencies) and not the
dev venv with the wheel on ``PYTHONPATH``, nor ``--no-deps`` with the dev venv's site-packages behind a ``.pth``:
only a real install checks the wheel's own metadata — a dependency missing from ``pyproject.toml`` that the dev
venv happens to have (the ``dev`` extra brings onnxruntime, hypothesis, setuptools), or a data file missing from
``package-data``, fails here and nowhere else. It is fast enough: pip resolves the pinned dependencies from PyPI
(the registry CI reaches) and its wheel cache, ~40 s on 2 cores; the whole module takes about 2 minutes. Without
a network pip cannot resolve anything: then the test skips, saying so (any other pip failure fails it).

The wheel is built from this checkout (``pip wheel --no-build-isolation``, no network). Every command runs the
venv's ``zkchain`` script with the working directory outside the repo, no ``PYTHONPATH``, and a fresh
``$ZKCHAIN_CACHE``, so nothing of the clone (its package, its ``tools/node_modules``) is in reach.
``zkchain toolchain install --offline`` installs the pinned solc-js and anvil from npm's own cache (which
``scripts/dev.sh setup`` filled: npm never reaches the internet here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_NETWORK = ("Failed to establish a new connection", "Temporary failure in name resolution", "Network is unreachable",
              "No route to host")


def _run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    if shutil.which("npm") is None:
        pytest.skip("npm not installed")
    d = tmp_path_factory.mktemp("wheel")
    t0 = time.perf_counter()
    out = _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-q",
                "-w", d / "dist"], timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (whl,) = (d / "dist").glob("zkchain-*.whl")
    # the environment of a user's shell: none of the dev venv, the checkout or zkchain's own settings
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ZKCHAIN_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    venv = d / "venv"
    out = _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv], env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    py = venv / "bin" / "python"
    out = _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", whl], env=env, timeout=600)
    if out.returncode != 0 and any(s in out.stderr for s in NO_NETWORK):
        pytest.skip(f"pip cannot reach the package index to install the wheel's dependencies: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr[-3000:]
    install_s = time.perf_counter() - t0
    env.update(ZKCHAIN_CACHE=str(d / "cache"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    work = d / "work"
    work.mkdir()

    def zk(*args, code=0):
        p = _run([venv / "bin" / "zkchain", *args], cwd=work, env=env, timeout=600)
        assert p.returncode == code, f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    where = _run([py, "-c", "import zkchain; print(zkchain.__file__)"], cwd=work, env=env, timeout=60).stdout
    assert where.startswith(str(venv)), f"the wheel's package, not the checkout's: {where}"
    status = zk("toolchain", "status", code=2)
    assert "zkchain toolchain install" in status.stderr
    zk("toolchain", "install", "--offline")
    assert "missing" not in zk("toolchain", "status").stdout
    print(f"\nwheel built and installed in a fresh venv in {install_s:.0f} s")
    return venv, work, zk


def test_wheel_in_a_fresh_venv_runs_the_demo_end_to_end(wheel_env):
    venv, work, zk = wheel_env
    p = zk("demo", "--samples", "2", "--workdir", work / "demo")
    assert "on-chain: 2/2 proofs accepted" in p.stdout and "PASS" in p.stdout
    assert (work / "demo" / "summary.json").is_file()
    nm = Path(zk("toolchain", "status").stdout.split("solc-js", 1)[1].split()[0])
    assert ROOT not in nm.parents, f"solc-js from the clone, not zkchain's cache: {nm}"


def test_wheel_cli_pipeline_outside_the_repo(wheel_env):
    venv, work, zk = wheel_env
    site = next((venv / "lib").glob("python3*/site-packages"))
    models = site / "zkchain" / "models" / "digits_mlp"
    zk("compile", models / "model.onnx", "-o", "build", "--calibration", models / "calibration.npy")
    zk("setup", "build")
    zk("prove", "build", "--input", models / "input.json", "-o", "proof.json")
    assert "runtime code" in zk("gen-verifier", "build").stdout
    assert "accepted" in zk("submit-proof", "build", "proof.json", "--rpc-url", "embedded").stdout
