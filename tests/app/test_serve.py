"""``zkchain serve`` on 127.0.0.1: concurrent clients get proofs that verify, bad requests get the right 4xx, a full
queue gets 503, and the CLI starts, answers and shuts down cleanly.

The bundled digits MLP is compiled and set up twice (dev SRS): ``digits`` proves inferences, ``digits_acc16``
proves accuracy on 16 committed test digits; both share one prover pool. The app runs on a real socket (a free
port) in a background thread; clients are threads using urllib, so requests really overlap.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pytest
from aiohttp import web

from zkchain import api
from zkchain.app import serve
from zkchain.models import bundled_model_dir
from zkchain.protocol.proof import Proof

M = bundled_model_dir("digits_mlp")
X = np.load(M / "test_inputs.npy")
Y = np.load(M / "test_labels.npy")
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two set-up builds of the digits MLP: inference (``digits``) and accuracy on 16 digits (``digits_acc16``)."""
    from zkchain.quant import compile_model, write_compiled

    root = tmp_path_factory.mktemp("serve")
    write_compiled(compile_model(M / "model.onnx", M / "calibration.npy"), root / "digits")
    api.setup(root / "digits")
    write_compiled(compile_model(M / "model.onnx", M / "calibration.npy", batch=16), root / "digits_acc16")
    api.setup(root / "digits_acc16", dataset=X[:16], labels=Y[:16])
    return {"digits": root / "digits", "acc": root / "digits_acc16", "root": root}


@contextmanager
def running(app: web.Application):
    """Serve ``app`` on 127.0.0.1 (a free port) from a background thread; yields its URL; cleans up (the app's
    shutdown: waits for proofs, closes provers and pools) on exit."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    box: dict = {}
    ready = threading.Event()

    def main():
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            box["port"] = runner.addresses[0][1]
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            box["error"] = exc
            return
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(30) and "error" not in box, box.get("error")
    try:
        yield f"http://127.0.0.1:{box['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(60)
        assert not thread.is_alive(), "the server did not shut down"


def call(url: str, method: str = "GET", body=None, raw: bytes | None = None, timeout: float = 120):
    """One HTTP request; ``(status, JSON body, headers)`` for any status."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers


def verified(build_dir, doc: dict) -> bool:
    vk = api.VerifyingKey.load(build_dir / "vk.json")
    return bool(api.verify(build_dir, Proof.from_json(doc, vk)))


@pytest.fixture(scope="module")
def server(builds):
    """Both builds served with concurrency 2 (two proofs at once on one shared pool), a 64 KiB body limit."""
    provers, pools = serve.open_provers([builds["digits"], builds["acc"]])
    assert len(pools) == 1, "two builds made with the dev SRS share one pool"
    with running(serve.create_app(provers, concurrency=2, max_queue=16, max_body=MAX_BODY, pools=pools)) as url:
        yield url


@pytest.fixture(scope="module")
def concurrent(server):
    """8 prove requests from 4 client threads (alternating the two body formats); their answers in order."""
    samples = list(range(4)) * 2

    def one(i: int):
        x = X[samples[i]]
        body = {"input": x.tolist()} if i % 2 else {"input_data": [x.reshape(-1).tolist()]}
        return call(f"{server}/prove/digits", "POST", body)

    before = call(f"{server}/health")[1]["proofs_done"]
    with ThreadPoolExecutor(4) as ex:
        answers = list(ex.map(one, range(len(samples))))
    return {"samples": samples, "answers": answers, "done": call(f"{server}/health")[1]["proofs_done"] - before}


def test_concurrent_clients_all_get_proofs_that_verify(builds, server, concurrent):
    answers = concurrent["answers"]
    assert [s for s, _, _ in answers] == [200] * 8, [b.get("error") for _, b, _ in answers]
    n_ok = sum(verified(builds["digits"], b["proof"]) for _, b, _ in answers)
    assert n_ok == 8 and concurrent["done"] == 8  # every proof verifies, the server counted each once
    # a fresh proof for each request (zero-knowledge proofs of one input differ), not one answer repeated
    assert len({b["proof"]["proof_bytes"] for _, b, _ in answers}) == 8
    for _, b, _ in answers:
        assert b["model"] == "digits" and b["proof_bytes"] == len(bytes.fromhex(b["proof"]["proof_bytes"][2:]))
        assert b["prove_s"] > 0 and b["queued_s"] >= 0
    _, health, _ = call(f"{server}/health")
    assert health["queue"] == 0 and health["in_flight"] == 0


def test_outputs_equal_in_process_proving(builds, concurrent):
    by_sample = {}
    for i, (_, b, _) in zip(concurrent["samples"], concurrent["answers"]):
        by_sample.setdefault(i, []).append(b["outputs"])
    for i in (0, 3):
        _, info = api.prove(builds["digits"], X[i])
        assert all(out == info["outputs"] for out in by_sample[i]), i
    # different digits give different outputs: the server did not answer every request with one proof
    assert len({json.dumps(v[0]) for v in by_sample.values()}) == 4


def test_zkchain_verify_accepts_a_served_proof_file(builds, concurrent, tmp_path):
    doc = concurrent["answers"][0][1]["proof"]
    (tmp_path / "proof.json").write_text(json.dumps(doc, indent=1))
    p = subprocess.run([sys.executable, "-m", "zkchain.cli", "verify", str(builds["digits"]),
                        str(tmp_path / "proof.json")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "accepted" in p.stdout, p.stderr


def test_models_and_health_describe_what_is_loaded(builds, server):
    status, body, _ = call(f"{server}/models")
    assert status == 200
    models = {m["name"]: m for m in body["models"]}
    assert set(models) == {"digits", "digits_acc16"}
    assert models["digits"]["input_shape"] == [1, 64] and not models["digits"]["accuracy"]
    assert models["digits_acc16"]["input_shape"] == [16, 64] and models["digits_acc16"]["accuracy"]
    assert all(m["srs_insecure"] and "INSECURE" in m["srs"] for m in models.values())
    status, health, _ = call(f"{server}/health")
    vk = api.VerifyingKey.load(builds["digits"] / "vk.json")
    assert status == 200 and health["status"] == "ok"
    assert {"name": "digits", "vk_digest": "0x" + vk.digest.hex()} in health["models"]


def test_prove_accuracy_counts_the_committed_digits(builds, server):
    from zkchain.quant import load_compiled
    from zkchain.quant.accuracy import predicted

    status, body, _ = call(f"{server}/prove-accuracy/digits_acc16", "POST")
    assert status == 200, body
    model = load_compiled(builds["acc"])
    expected = int(np.sum(predicted(np.asarray(model.predict(X[:16])).reshape(16, -1)) == Y[:16]))
    assert (body["correct"], body["total"]) == (expected, 16)
    assert body["proof"]["accuracy"]["correct"] == expected
    assert verified(builds["acc"], body["proof"])


NAN_BODY = ('{"input": [' + ", ".join(["NaN"] + ["0.0"] * 63) + "]}").encode()


@pytest.mark.parametrize("method, path, body, raw, status, says", [
    ("POST", "/prove/digits", None, b'{"input": [1, 2', 400, "not JSON"),
    ("POST", "/prove/digits", {"input": [0.0] * 63}, None, 400, "does not match the model input shape"),
    ("POST", "/prove/digits", None, NAN_BODY, 400, "NaN"),
    ("POST", "/prove/digits", {"input": ["a"] * 64}, None, 400, "expected numbers"),
    ("POST", "/prove/digits", {"input": [[0.0] * 64, [0.0]]}, None, 400, "rectangular"),
    ("POST", "/prove/digits", {"input": [1e6] * 64}, None, 400, "outside its lookup-table domain"),
    ("POST", "/prove/digits", {"input": [0.0] * 128}, None, 400, "2 inputs"),
    ("POST", "/prove/digits", {"samples": [0.0] * 64}, None, 400, "'input_data' field"),
    ("POST", "/prove/digits", None, b"", 400, "empty body"),
    ("POST", "/prove/digits", {"input": [0.0] * 64, "input_data": [[0.0] * 64]}, None, 400, "not both"),
    ("POST", "/prove/digits_acc16", {"input": [0.0] * 64}, None, 400, "/prove-accuracy/digits_acc16"),
    ("POST", "/prove-accuracy/digits", None, None, 400, "commits no test set"),
    ("POST", "/prove/nope", {"input": [0.0] * 64}, None, 404, "unknown model 'nope'"),
    ("GET", "/nowhere", None, None, 404, "no such path"),
    ("GET", "/prove/digits", None, None, 405, "allowed: POST"),
    ("POST", "/prove/digits", {"input": [0.123456789] * (MAX_BODY // 10)}, None, 413, "too large"),
])
def test_bad_requests_get_the_right_4xx(server, method, path, body, raw, status, says):
    got, answer, _ = call(server + path, method, body, raw)
    assert (got, set(answer)) == (status, {"error"}), answer
    assert says in answer["error"]
    assert "Traceback" not in answer["error"]


def test_the_server_keeps_serving_after_bad_requests(builds, server):
    before = call(f"{server}/health")[1]
    for raw in (b"{", b'{"input": "x"}', b"[]", b"null", b'{"input": []}'):
        assert call(f"{server}/prove/digits", "POST", raw=raw)[0] == 400, raw
    status, body, _ = call(f"{server}/prove/digits", "POST", {"input": X[5].tolist()})
    assert status == 200 and verified(builds["digits"], body["proof"])
    after = call(f"{server}/health")[1]
    assert after["proofs_done"] == before["proofs_done"] + 1


class Gated:
    """A prover whose proofs wait for ``gate``: holds the only slot while the queue is filled (deterministic)."""

    def __init__(self, prover):
        self.inner, self.gate, self.started = prover, threading.Event(), threading.Semaphore(0)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def prove(self, x):
        self.started.release()
        assert self.gate.wait(60)
        return self.inner.prove(x)

    def close(self):  # the real prover belongs to the test
        pass


@pytest.mark.parametrize("concurrency, max_queue", [(1, 1), (2, 0)])
def test_a_full_queue_gets_503_with_retry_after(builds, concurrency, max_queue):
    """``concurrency`` proofs run (held at the gate), ``max_queue`` requests wait, the next one is refused."""
    with api.Prover(builds["digits"]) as real:
        gated = Gated(real)
        app = serve.create_app({"digits": gated}, concurrency=concurrency, max_queue=max_queue)
        n = concurrency + max_queue
        with running(app) as url, ThreadPoolExecutor(n) as ex:
            body = {"input": X[7].tolist()}
            admitted = []
            for _ in range(concurrency):
                admitted.append(ex.submit(call, f"{url}/prove/digits", "POST", body))
                assert gated.started.acquire(timeout=30)  # this one holds a slot
            deadline = time.time() + 30
            for k in range(max_queue):
                admitted.append(ex.submit(call, f"{url}/prove/digits", "POST", body))
                while call(f"{url}/health")[1]["queue"] < k + 1:  # it waits in the queue
                    assert time.time() < deadline
                    time.sleep(0.02)
            health = call(f"{url}/health")[1]
            assert (health["in_flight"], health["queue"]) == (concurrency, max_queue)
            status, answer, headers = call(f"{url}/prove/digits", "POST", body, timeout=10)
            assert status == 503 and "queue full" in answer["error"]
            assert int(headers["Retry-After"]) >= 1
            assert not gated.started.acquire(timeout=0.2)  # no proof beyond the limit was started
            gated.gate.set()
            results = [f.result(120) for f in admitted]
            assert [s for s, _, _ in results] == [200] * n
            assert sum(verified(builds["digits"], b["proof"]) for _, b, _ in results) == n
            if max_queue:
                assert results[-1][1]["queued_s"] > 0
            health = call(f"{url}/health")[1]
            assert (health["proofs_done"], health["queue"], health["in_flight"]) == (n, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_until_sigterm(builds):
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "zkchain.cli", "serve", str(builds["digits"]), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.time() + 120
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if call(f"{url}/health")[0] == 200:
                    break
            except OSError:
                assert time.time() < deadline, "the server did not come up"
                time.sleep(0.2)
        status, body, _ = call(f"{url}/prove/digits", "POST", raw=(M / "input.json").read_bytes())  # EZKL file as is
        assert status == 200 and verified(builds["digits"], body["proof"])
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"Running on {url}" in out and "INSECURE: digits" in out and "POST /prove/digits" in out
    assert "POST /prove/digits 200" in err and "closed 1 model(s) and 1 prover pool(s)" in err
    assert "Traceback" not in err


def test_cli_serve_without_keys_is_exit_2_with_one_line(builds, tmp_path):
    from zkchain.quant import compile_model, write_compiled

    write_compiled(compile_model(M / "model.onnx", M / "calibration.npy"), tmp_path / "nokeys")
    p = subprocess.run([sys.executable, "-m", "zkchain.cli", "serve", str(tmp_path / "nokeys"), "--port",
                        str(_free_port())], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "zkchain setup" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_two_builds_with_one_name_are_refused(builds, tmp_path):
    other = tmp_path / "digits"
    other.mkdir()
    with pytest.raises(serve.InputError, match="two builds are named 'digits'"):
        serve.open_provers([builds["digits"], other])


def test_retry_after_grows_with_the_queue():
    svc = serve.Service({}, concurrency=1, max_queue=4)
    svc.proofs_done, svc.prove_s_total = 2, 3.0  # 1.5 s a proof
    assert svc.retry_after_s() == math.ceil(1.5)
    svc.waiting = 3
    assert svc.retry_after_s() == math.ceil(1.5 * 4)
