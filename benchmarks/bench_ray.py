"""LeNet-5 proved with 2 SRS shards: in a spawned process (``--workers 2``) vs in a Ray actor on a local cluster
(``--ray auto --workers 2``), cold and warm (issue 14 item 3; docs/scale.md "Distributed proving on Ray").

    python benchmarks/bench_ray.py                  # 3 cold rounds, 5 warm rounds
    python benchmarks/bench_ray.py --cold 3 --warm 5 --save

* cold: ``zkchain prove`` in a fresh process (what a user's shell pays: imports, keys, SRS shards, for Ray also
  starting the cluster and the actor), wall seconds, the two set-ups alternated so both see the same load;
* start-up: ``api.Prover`` until every shard is loaded;
* warm: ``Prover.prove`` on two warm provers, interleaved, ``prove_s``.

Needs ``pip install 'zkchain[ray]'``. On a shared machine the load average is printed with each number: compare
the columns, which saw the same load, not runs made at different times.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "zkchain" / "models" / "lenet5"


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else float("nan")


def cold(build: Path, rounds: int, out: list[str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"local": [], "ray": []}
    for r in range(rounds):
        for name, extra in (("local", []), ("ray", ["--ray", "auto"])):
            load, t = _load(), time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "zkchain.cli", "prove", str(build), "--input",
                                str(MODEL / "input.json"), "-o", str(build / "proof.json"), "--force", "--workers", "2",
                                *extra], capture_output=True, text=True)
            wall = time.perf_counter() - t
            if p.returncode != 0:
                raise SystemExit(f"zkchain prove failed:\n{p.stderr}")
            times[name].append(wall)
            out.append(f"cold {name:<5} round {r}: {wall:6.2f} s wall (load {load:.2f})")
            print(out[-1], flush=True)
    return times


def warm(build: Path, rounds: int, out: list[str]) -> dict[str, list[float]]:
    from zkchain import api

    x = api.read_input(MODEL / "input.json")
    provers = {}
    for name, kw in (("local", {}), ("ray", {"ray": "auto"})):
        t = time.perf_counter()
        provers[name] = api.Prover(build, workers=2, **kw)
        provers[name].pool.wait_ready()
        out.append(f"start {name:<5}: {time.perf_counter() - t:6.2f} s until the shards are loaded (load {_load():.2f})")
        print(out[-1], flush=True)
    times: dict[str, list[float]] = {"local": [], "ray": []}
    try:
        for r in range(rounds):
            for name, p in provers.items():
                load = _load()
                _, info = p.prove(x)
                times[name].append(info["prove_s"])
                out.append(f"warm {name:<5} round {r}: {info['prove_s']:6.2f} s (load {load:.2f})")
                print(out[-1], flush=True)
    finally:
        for p in provers.values():
            p.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold", type=int, default=3, help="cold rounds (each: one local, one Ray)")
    ap.add_argument("--warm", type=int, default=5, help="warm rounds (each: one local, one Ray proof)")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/ray-DATE.txt")
    args = ap.parse_args()
    from zkchain import api

    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "lenet5"
        api.compile(MODEL / "model.onnx", build, MODEL / "calibration.npy")
        vk = api.setup(build, srs="dev")
        out.append(f"LeNet-5, SRS degree {vk.srs_degree}, 2 SRS shards; {sys.platform}, "
                   f"{len(os.sched_getaffinity(0))} cores")
        print(out[-1], flush=True)
        c = cold(build, args.cold, out)
        w = warm(build, args.warm, out)
    med = {k: statistics.median(v) for k, v in c.items()}
    out.append(f"cold median: local {med['local']:.2f} s, ray {med['ray']:.2f} s (+{med['ray'] - med['local']:.2f} s)")
    med = {k: statistics.median(v) for k, v in w.items()}
    out.append(f"warm median: local {med['local']:.2f} s, ray {med['ray']:.2f} s ({med['ray'] / med['local']:.2f}x)")
    print("\n".join(out[-2:]))
    if args.save:
        path = ROOT / "benchmarks" / "results" / f"ray-{_dt.date.today().isoformat()}.txt"
        path.write_text("\n".join(out) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
