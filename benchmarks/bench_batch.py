"""Batch proofs (issue 12's numbers): N samples in one proof against N single-sample proofs, per bundled model.

    python benchmarks/bench_batch.py                                  # digits MLP and digits CNN, N = 1, 16, 64
    python benchmarks/bench_batch.py --models digits_cnn --samples 1 16 64 450 --save

Per model and N: ``compile --batch N`` (N = 1: the plain build) and ``setup`` (dev SRS) through the Python API;
prove the first N test digits with a warm ``api.Prover`` (keys, SRS and workers loaded once, then the median of
``--repeat`` proofs: the per-proof cost a prover service pays) and cold ``api.prove`` (one run, keys and SRS
loaded in the call); proof size (calldata bytes); the verifier's execution gas and whole-transaction gas of
``verifyProof`` on the embedded py-evm chain (specialised contract when it fits EIP-170, else the reusable one);
peak RSS of the process so far. Targets (issue 12): per-sample prove time at N = 64 ≤ 0.2× the single-sample
proof; verify gas at N = 450 ≤ 1.5× the single-sample verifier's.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def gas(vk, proof) -> dict:
    """Execution and transaction gas of ``verifyProof`` (the specialised contract, or the shared reusable one
    with the model's tape registered when the specialised code passes EIP-170)."""
    from zkchain.evm import reusable
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier

    chain = Chain.embedded(block_gas_limit=60_000_000)
    args = calldata(proof, vk)
    compiled = compile_verifier(vk, "BatchBench")
    if compiled.runtime_size_bytes <= 24_576:
        address, _ = chain.deploy(compiled, gas=30_000_000)
        mode = "specialised"
    else:
        compiled = reusable.compile_reusable()
        address, _ = chain.deploy(compiled, gas=reusable.DEPLOY_GAS)
        tape = reusable.record_tape(vk)
        reusable.register(chain, address, tape, compiled)
        args = (tape.model_id,) + tuple(args)
        mode = "reusable"
    tx = chain.transact(address, compiled, "verifyProof", *args, gas=20_000_000, replay=False)
    assert tx.receipt["status"] == 1, tx.outcome
    data = bytes.fromhex(chain.w3.eth.contract(abi=compiled.abi).encode_abi("verifyProof", list(args))[2:])
    cd = sum(16 if b else 4 for b in data)
    return {"mode": mode, "tx_gas": tx.gas_used, "exec_gas": tx.gas_used - 21_000 - cd}


def run(model: str, n: int, work: Path, repeat: int, workers: int | None) -> dict:
    from zkchain import api
    from zkchain.models import bundled_model_dir
    from zkchain.protocol.vk import VerifyingKey
    from zkchain.prover.parallel import default_workers

    d = bundled_model_dir(model)
    x = np.load(d / "test_inputs.npy")[:n]
    b = work / f"{model}-N{n}"
    api.compile(d / "model.onnx", b, calibration=d / "calibration.npy", batch=n)
    t = time.perf_counter()
    api.setup(b)
    setup_s = time.perf_counter() - t
    sample = x if n > 1 else x[0]
    workers = workers or default_workers(VerifyingKey.load(b / "vk.json").srs_degree)  # as `zkchain prove`
    t = time.perf_counter()
    proof, info = api.prove(b, sample, workers=workers)
    cold = time.perf_counter() - t
    times = []
    with api.Prover(b, workers) as prover:
        for _ in range(repeat):
            t = time.perf_counter()
            proof, info = prover.prove(sample)
            times.append(time.perf_counter() - t)
    vk = VerifyingKey.load(b / "vk.json")
    assert api.verify(b, proof).accepted
    out = {"model": model, "samples": n, "workers": workers, "setup_s": round(setup_s, 3), "cold_s": round(cold, 3),
           "warm_s": round(statistics.median(times), 3), "proof_bytes": info["proof_bytes"],
           "srs_degree": vk.srs_degree, "committed_vectors": len(vk.circuit.of_kind("witness")),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    out.update(gas(vk, proof))
    return out


def table(rows: list[dict]) -> str:
    lines = [f"{'model':<11} {'N':>4} {'warm s':>7} {'s/sample':>9} {'x single':>9} {'cold s':>7} {'W':>2} {'proof B':>8} "
             f"{'exec gas':>10} {'tx gas':>10} {'x single':>9} {'verifier':>11} {'SRS deg':>8} {'RSS MB':>7}"]
    for r in rows:
        one = next((o for o in rows if o["model"] == r["model"] and o["samples"] == 1), None)
        per = r["warm_s"] / r["samples"]
        t_ratio = f"{per / one['warm_s']:.3f}" if one else "-"
        g_ratio = f"{r['tx_gas'] / one['tx_gas']:.2f}" if one else "-"
        lines.append(f"{r['model']:<11} {r['samples']:>4} {r['warm_s']:>7.2f} {per:>9.3f} {t_ratio:>9} "
                     f"{r['cold_s']:>7.2f} {r['workers']:>2} {r['proof_bytes']:>8,} {r['exec_gas']:>10,} {r['tx_gas']:>10,} {g_ratio:>9} "
                     f"{r['mode']:>11} {r['srs_degree']:>8,} {r['peak_rss_mb']:>7}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["digits_mlp", "digits_cnn"])
    ap.add_argument("--samples", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--repeat", type=int, default=3, help="warm proofs per point (the median is reported)")
    ap.add_argument("--workers", type=int, default=None,
                    help="prover processes (SRS shards); default: zkchain prove's default for each key")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/batch-<date>.{json,txt}")
    a = ap.parse_args(argv)
    rows = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.models:
            for n in a.samples:
                rows.append(run(m, n, Path(tmp), a.repeat, a.workers))
                print(json.dumps(rows[-1]), flush=True)
    head = (f"batch proofs, first N test digits, dev SRS, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"1-min load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end (2 cores). warm = api.Prover "
            f"(median of {a.repeat}), cold = api.prove; W = workers (zkchain prove's default unless --workers); 'x single' = per-sample warm time / the N = 1 proof's, and "
            "transaction gas / the N = 1 proof's")
    text = head + "\n" + table(rows)
    print(text)
    if a.save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"batch-{_dt.date.today().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(rows, indent=1))
        stem.with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
