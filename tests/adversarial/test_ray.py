"""Distributed proving on Ray (zkchain/prover/ray_pool.py) with a local Ray cluster on 127.0.0.1, started once for
the module: two Ray actors (two worker processes) hold SRS shards 1 and 2 of 3, the driver holds shard 0 and the
transcript. The proof is the one-process proof bit for bit; closing a pool kills its actors, and the last pool to
leave the cluster stops it. `zkchain prove --ray auto` in a fresh process starts its own cluster, proves and stops
it; a bad address, ``--workers 1`` or a missing ``ray`` package is one clear error."""

from __future__ import annotations

import importlib.util
import random
import socket
import time
import sys
from pathlib import Path

import numpy as np
import pytest
from harness import SMALL
from unit_models import save_unit_model

from zkchain import api
from zkchain.errors import InputError, SetupError
from zkchain.prover import ray_pool
from zkchain.prover.parallel import ProverPool
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify

# the CLI runner of the end-to-end tests, loaded by path: putting tests/e2e on sys.path would make a later
# `from conftest import ...` in this folder find tests/e2e/conftest.py
_spec = importlib.util.spec_from_file_location("e2e_clirun", Path(__file__).parents[1] / "e2e" / "clirun.py")
_clirun = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_clirun)
zk = _clirun.zk

# ray is imported by the tests that use it, not at collection (the rest of the suite runs without it loaded)
HAVE_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "ray is not installed (pip install 'zkchain[ray]'; the dev extra has it)"
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason=NO_RAY)

# conv + pool: hidden kernels, padded grids, fixed vectors masked at shifts that W = 3 does not divide (every branch
# of the shard index map)
MODEL = "conv_pad1_maxpool"
SHARDS = 3


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A compiled and set-up build directory of the unit model, its proving key, witness values and input file."""
    d = tmp_path_factory.mktemp("ray")
    path, _shape, _public = save_unit_model(MODEL, d)
    api.compile(path, d / "b", d / "calibration.npy", config=SMALL)
    api.setup(d / "b")
    pk, model = api.load_proving_key(d / "b")
    x = np.load(d / "calibration.npy")[0]
    np.save(d / "x.npy", x)
    values = pk.witness.vector_values(model.execute(model.quantize_input(x)))
    return d, pk, values


@pytest.fixture(scope="module")
def cluster(build):
    """One warm pool of 3 shards on a local Ray cluster (``ray="auto"``) for the whole module. The cluster is
    started as the pools start it, with CPUs for this pool's 2 actors and one more pool's 1 (an actor takes 1 CPU);
    the pools of the tests join it, and the last to leave stops it."""
    if not HAVE_RAY:
        pytest.skip(NO_RAY)
    import ray

    assert not ray.is_initialized()
    _, pk, _ = build
    session = ray_pool.join("auto", cpus=SHARDS)
    try:
        pool = ProverPool(pk.srs_spec, pk.vk.srs_degree, workers=SHARDS, ray="auto")
        yield pool
        pool.close()
        assert ray.is_initialized() and session.users == 1
    finally:
        ray_pool.leave(session)
    assert not ray.is_initialized(), "the last pool to leave a cluster it started must shut Ray down"


@needs_ray
def test_ray_actors_give_the_one_process_proof(build, cluster):
    _, pk, values = build
    cluster.wait_ready()
    assert [r.size for r in cluster._remote] == [(pk.vk.srs_degree + 1 - k + SHARDS - 1) // SHARDS
                                                 for k in range(1, SHARDS)]
    one = prove(pk, values, workers=1, rng=random.Random(11))
    on_ray = prove(pk, values, pool=cluster, rng=random.Random(11))
    assert on_ray.proof_bytes(pk.circuit) == one.proof_bytes(pk.circuit)
    assert verify(pk.vk, on_ray)


@needs_ray
def test_cli_proves_on_a_local_ray_cluster(build, tmp_path):
    """A user's shell: `zkchain prove --ray auto` (2 shards: one actor) starts a local cluster, proves, stops it and
    exits; `zkchain verify` accepts the proof."""
    d, _, _ = build
    out = tmp_path / "proof.json"
    p = zk("prove", d / "b", "--input", d / "x.npy", "-o", out, "--ray", "auto", check=0)
    assert "on Ray (auto: 2 SRS shards, 1 actor)" in " ".join(p.stderr.split())  # the console's report, wrapped
    zk("verify", d / "b", out, check=0)


@needs_ray
def test_closing_a_pool_kills_its_actors_and_keeps_a_shared_cluster(build, cluster):
    import ray

    _, pk, _ = build
    second = ProverPool(pk.srs_spec, pk.vk.srs_degree, workers=2, ray="auto")  # joins the running cluster
    second.wait_ready()
    actor = second._remote[0].actor
    second.close()
    # ray.kill is asynchronous: a call made before the kill lands may still be answered; the actor must be dead
    # within a minute
    deadline, dead = time.monotonic() + 60, False
    while not dead and time.monotonic() < deadline:
        try:
            ray.get(actor.hello.remote(), timeout=10)
            time.sleep(0.2)
        except ray.exceptions.RayActorError:
            dead = True
    assert dead, "the closed pool's actor still answers after a minute"
    assert ray.is_initialized()  # the module's pool still uses it
    with pytest.raises(SetupError, match=r"the local Ray cluster has [01] free CPUs?; 3 SRS shards need 2 actors"):
        # rather than wait for a CPU forever (1 is free once Ray has seen the kill)
        ProverPool(pk.srs_spec, pk.vk.srs_degree, workers=3, ray="auto")
    with pytest.raises(InputError, match="already proves on Ray cluster 'auto'"):
        ProverPool(pk.srs_spec, pk.vk.srs_degree, workers=2, ray="127.0.0.1:6379")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_ray
def test_an_unreachable_cluster_is_one_clear_line(build, tmp_path):
    """In a fresh process (no cluster joined yet): exit 2, one line naming the address, no traceback."""
    d, _, _ = build
    address = f"127.0.0.1:{_closed_port()}"
    p = zk("prove", d / "b", "--input", d / "x.npy", "-o", tmp_path / "p.json", "--ray", address, check=2)
    assert f"error: no Ray cluster at {address}" in p.stderr and "ray start --head" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("address", ["nowhere", "host:port", ":6379", "localhost:0", "127.0.0.1:70000"])
def test_a_malformed_address_is_an_input_error(address):
    with pytest.raises(InputError, match="expected HOST:PORT"):
        ProverPool("dev:x", 15, workers=2, ray=address)


def test_ray_needs_two_shards():
    with pytest.raises(InputError, match="at least 2 SRS shards"):
        ProverPool("dev:x", 15, workers=1, ray="auto")


def test_a_missing_ray_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(SetupError, match=r"pip install 'zkchain\[ray\]'"):
        ProverPool("dev:x", 15, workers=2, ray="auto")
