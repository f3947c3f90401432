"""How long loading the SRS takes per process, whole and as W shards (issue 14 item 1).

    python benchmarks/bench_srs_load.py                     # dev SRS 2^16, 2^18; .ptau 2^16 (snarkjs-made)
    python benchmarks/bench_srs_load.py --logs 16,18,20 --save

Each measurement runs in a fresh process (what `zkchain prove` pays once per run). Rows:

* dev SRS, whole: ``SRS.dev(2^n)`` — a parallel fixed-base batch multiplication (arkworks via zksnake).
* dev SRS, W shards in W processes at once: ``load_srs_shard(spec, 2^n, k, W)`` — the wall time until all W hold
  their shard (what a ``--workers W`` pool waits for).
* .ptau, first load (convert from Montgomery form, check every point on the curve, write zkchain's cache) and a
  cached load (``SRS.from_ptau`` + building every point: the points are decoded lazily, this forces all).
* µs per point, and the same cost extrapolated linearly to 2^22 points (both costs are per point: measured
  sizes agree within noise).

Why not "O(1)": zksnake's points cannot be pickled, shared between processes or built from bytes without
arkworks' checks (~70–100 µs per point, ``PointG1(x, y)`` or ``from_bytes``), so a process holding an SRS has
paid per point once. The answers in zkchain are (1) shards: W processes each build 1/W of the points; (2) a warm
process: ``zkchain serve`` / ``api.Prover`` load once and prove many times (0 per proof). See docs/scale.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNARKJS = ROOT / "tools" / "node_modules" / ".bin" / "snarkjs"


def _dev_whole(degree: int, q) -> None:
    from zkchain.crypto.srs import SRS

    t = time.perf_counter()
    SRS.dev(degree)
    q.put(time.perf_counter() - t)


def _dev_shard(degree: int, k: int, w: int, q) -> None:
    from zkchain.prover.keys import load_srs_shard

    t = time.perf_counter()
    load_srs_shard("dev:zkchain-dev", degree, k, w)
    q.put(time.perf_counter() - t)


def _ptau(path: str, degree: int, cache: str, q) -> None:
    import os

    os.environ["ZKCHAIN_CACHE"] = cache
    from zkchain.crypto.srs import SRS

    t = time.perf_counter()
    s = SRS.from_ptau(path, degree)
    s.g1_powers.materialize()
    q.put(time.perf_counter() - t)


def _ptau_shard(path: str, degree: int, cache: str, k: int, w: int, q) -> None:
    import os

    os.environ["ZKCHAIN_CACHE"] = cache
    from zkchain.prover.keys import load_srs_shard

    t = time.perf_counter()
    s = load_srs_shard(path, degree, k, w)
    s.materialize()
    q.put(time.perf_counter() - t)


def _in_processes(target, arg_lists) -> float:
    """Wall time until every process (started together, imports done first) has reported."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    t = time.perf_counter()
    ps = [ctx.Process(target=target, args=(*a, q)) for a in arg_lists]
    for p in ps:
        p.start()
    inner = [q.get() for _ in ps]
    for p in ps:
        p.join()
    return max(inner), time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", default="16,18", help="dev SRS sizes 2^n to measure [16,18]")
    ap.add_argument("--ptau-power", type=int, default=16, help="snarkjs powersoftau power (0 skips) [16]")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/srs-load-<date>.txt")
    a = ap.parse_args()
    lines = [f"SRS load per process, {multiprocessing.cpu_count()} cores (seconds; µs/point; × 2^22 points)"]

    def row(label, secs, n):
        per = secs / n * 1e6
        lines.append(f"{label:<52} {secs:8.2f} s  {per:7.1f} µs/pt  2^22 ≈ {per * (1 << 22) / 1e6:7.0f} s")
        print(lines[-1], flush=True)

    for lg in (int(x) for x in a.logs.split(",")):
        n = 1 << lg
        inner, _ = _in_processes(_dev_whole, [(n - 1,)])
        row(f"dev SRS 2^{lg}, whole, 1 process", inner, n)
        inner, _ = _in_processes(_dev_shard, [(n - 1, k, a.workers) for k in range(a.workers)])
        row(f"dev SRS 2^{lg}, {a.workers} shards in {a.workers} processes", inner, n)
    if a.ptau_power and shutil.which("node") and SNARKJS.exists():
        with tempfile.TemporaryDirectory() as d:
            p = Path(d)
            t = time.perf_counter()
            subprocess.run([str(SNARKJS), "powersoftau", "new", "bn128", str(a.ptau_power), "f0.ptau"], cwd=p,
                           check=True, capture_output=True)
            lines.append(f"(snarkjs powersoftau new {a.ptau_power}: {time.perf_counter() - t:.1f} s)")
            n = 1 << a.ptau_power
            inner, _ = _in_processes(_ptau, [(str(p / "f0.ptau"), n - 1, str(p / "cache"))])
            row(f".ptau 2^{a.ptau_power}: first load (convert, check, cache)", inner, n)
            inner, _ = _in_processes(_ptau, [(str(p / "f0.ptau"), n - 1, str(p / "cache"))])
            row(f".ptau 2^{a.ptau_power}: cached load, every point built", inner, n)
            inner, _ = _in_processes(_ptau_shard, [(str(p / "f0.ptau"), n - 1, str(p / "cache"), k, a.workers)
                                                   for k in range(a.workers)])
            row(f".ptau 2^{a.ptau_power}: cached, {a.workers} shards in {a.workers} processes", inner, n)
    text = "\n".join(lines)
    if a.save:
        out = ROOT / "benchmarks" / "results" / f"srs-load-{_dt.date.today().isoformat()}.txt"
        out.write_text(text + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
