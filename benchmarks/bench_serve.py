"""Prover service throughput (issue 14 item 5): ``zkchain serve`` against back-to-back in-process proving.

    python benchmarks/bench_serve.py                     # digits MLP, N = 10
    python benchmarks/bench_serve.py --model digits_cnn -n 20

The bundled model is compiled and set up (dev SRS) in a temporary directory. Then, each after one untimed warm-up
proof:

* **in-process**: one warm :class:`zkchain.api.Prover`, ``prove`` on N test inputs back to back;
* **service**: ``zkchain serve`` in a subprocess (``--concurrency 1``), the same N inputs as ``POST /prove``
  requests, from 1 client (each request sent when the previous answer arrived: HTTP, JSON and the proof document
  add to every proof) and from 2 clients (one request always waits in the queue: the service's throughput).

The in-process measurement runs again after the service's, and the ratio is service rate / the mean of the two
in-process rates (target ≥ 0.9): load that other work puts on a shared machine drifts over a run. ``busy`` is the
share of the wall time spent inside ``Prover.prove`` (the sum of the answers' ``prove_s``): what the service adds
around the proofs (HTTP, JSON, queueing, the proof document), and so the ratio on an idle machine, unaffected by
that drift. Both prove on one core; compare the ratios of one run, not rates across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(build: Path, n: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zkchain.cli", "serve", str(build), "--port", str(port),
                             "--concurrency", "1", "--max-queue", str(n)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}", time.time() + 300
    while True:
        if proc.poll() is not None:
            sys.exit(f"zkchain serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            if time.time() > deadline:
                proc.kill()
                sys.exit("zkchain serve did not come up in 300 s")
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="digits_mlp", help="bundled model (default digits_mlp)")
    ap.add_argument("-n", type=int, default=10, help="proofs per measurement (default 10)")
    args = ap.parse_args()
    from zkchain import api
    from zkchain.models import bundled_model_dir

    src = bundled_model_dir(args.model)
    xs = np.load(src / "test_inputs.npy")
    xs = [xs[i % len(xs)] for i in range(args.n + 1)]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    print(f"prover service throughput, {args.model}, N = {args.n}, dev SRS, commit {commit}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, "
          f"1-min load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / args.model
        api.compile(src / "model.onnx", build, calibration=src / "calibration.npy")
        api.setup(build)

        def in_process():
            with api.Prover(build) as prover:
                prover.prove(xs[-1])  # warm-up
                t = time.perf_counter()
                infos = [prover.prove(x)[1] for x in xs[:args.n]]
                return time.perf_counter() - t, sum(i["prove_s"] for i in infos)

        local = [in_process()]
        proc, url = _start_server(build, args.n)
        try:
            _post(f"{url}/prove/{args.model}", {"input": xs[-1].tolist()})  # warm-up
            runs = {}
            for clients in (1, 2):
                t = time.perf_counter()
                with ThreadPoolExecutor(clients) as ex:
                    answers = list(ex.map(lambda x: _post(f"{url}/prove/{args.model}", {"input": x.tolist()}),
                                          xs[:args.n]))
                runs[clients] = (time.perf_counter() - t, answers)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        local.append(in_process())
        vk = api.VerifyingKey.load(build / "vk.json")
        from zkchain.protocol.proof import Proof

        accepted = sum(bool(api.verify(build, Proof.from_json(a["proof"], vk))) for _, ans in runs.values()
                       for a in ans)

    rate = sum(args.n / wall for wall, _ in local) / len(local)
    print(f"{'':36}{'wall s':>8}{'proofs/s':>10}{'prove s (sum)':>15}{'busy':>7}{'ratio':>8}")
    rows = [("in-process, back to back", *local[0])]
    rows += [(f"service, {c} client{'s' if c > 1 else ''} (concurrency 1)", wall, sum(a["prove_s"] for a in answers))
             for c, (wall, answers) in runs.items()]
    rows += [("in-process, back to back (again)", *local[1])]
    for label, wall, prove_s in rows:
        r = args.n / wall
        print(f"{label:36}{wall:8.2f}{r:10.3f}{prove_s:15.2f}{prove_s / wall:7.3f}{r / rate:8.2f}")
    print(f"ratio = rate / {rate:.3f} proofs/s (the mean in-process rate); target for the service ≥ 0.90")
    print(f"service proofs verified: {accepted} of {2 * args.n}; 1-min load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
