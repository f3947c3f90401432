"""Verifiable accuracy (issue 12 item 2): prove time, proof size and verify gas of ``prove-accuracy`` on a bundled
digits model, for the first N test digits (N = 450: the whole test split).

    python benchmarks/bench_accuracy.py                    # digits MLP, N = 16, 64, 450; embedded chain (+ anvil)
    python benchmarks/bench_accuracy.py --samples 450 --save
    python benchmarks/bench_accuracy.py --model digits_cnn --samples 16 64 450 --save

Per N: ``compile --batch N`` and ``setup --dataset --labels`` (dev SRS) through the Python API, ``prove_accuracy``
(wall time of ``api.prove_accuracy``, SRS re-derivation included, and its CPU time — one prover process, so
what an idle machine's wall time would be; s/sample is CPU time; peak RSS of the process so far), the count
against predict's, the Python verdict, and ``submitAccuracy`` on the embedded py-evm chain and on anvil: gas of
the whole transaction and execution gas (minus 21,000 and calldata).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run(n: int, work: Path, chains: dict, model: str = "digits_mlp") -> dict:
    from zkchain import api
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.models import bundled_model_dir
    from zkchain.quant.accuracy import correct

    d = bundled_model_dir(model)
    x, y = np.load(d / "test_inputs.npy")[:n], np.load(d / "test_labels.npy")[:n]
    b = work / f"{model}-N{n}"
    t = time.perf_counter()
    res = api.compile(d / "model.onnx", b, calibration=d / "calibration.npy", batch=n)
    compile_s = time.perf_counter() - t
    expected = int(correct(np.asarray(res.model.predict(x.reshape(res.model.input_shape))).reshape(n, -1), y).sum())
    t = time.perf_counter()
    vk = api.setup(b, dataset=x, labels=y)
    setup_s = time.perf_counter() - t
    cpu = time.process_time()
    proof, info = api.prove_accuracy(b)
    cpu = time.process_time() - cpu  # one prover process: its CPU time is the wall time of an idle machine
    t = time.perf_counter()
    ok = api.verify(b, proof).accepted
    verify_s = time.perf_counter() - t
    out = {"samples": n, "correct": info["correct"], "predict_correct": expected, "accuracy": info["accuracy"],
           "python_accepted": ok, "compile_s": compile_s, "setup_s": setup_s, "prove_s": info["prove_s"],
           "prove_cpu_s": cpu,
           "python_verify_s": verify_s, "proof_bytes": info["proof_bytes"], "srs_degree": vk.srs_degree,
           "committed_vectors": len(vk.circuit.of_kind("witness")), "constraints": len(vk.circuit.constraints),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "dataset_digest": info["dataset_digest"], "timings": info["timings"]}
    compiled = compile_verifier(vk, f"DigitsAccuracy{n}")
    out["runtime_bytes"] = compiled.runtime_size_bytes
    pb, pub = calldata(proof, vk)
    data = bytes.fromhex(next(iter(chains.values())).w3.eth.contract(abi=compiled.abi)
                         .encode_abi("submitAccuracy", [pb, pub])[2:])
    for name, chain in chains.items():
        address, _ = chain.deploy(compiled, gas=15_000_000)
        tx = chain.transact(address, compiled, "submitAccuracy", pb, pub, gas=5_000_000)
        assert tx.receipt["status"] == 1, (name, tx.outcome)
        assert tuple(tx.outcome.value) == (info["correct"], n), tx.outcome
        out[f"{name}_tx_gas"] = tx.gas_used
        out[f"{name}_exec_gas"] = tx.gas_used - 21_000 - sum(16 if v else 4 for v in data)
        out[f"{name}_event"] = [e["event"] for e in tx.events]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, nargs="+", default=[16, 64, 450])
    ap.add_argument("--model", default="digits_mlp", choices=["digits_mlp", "digits_cnn"])
    ap.add_argument("--no-anvil", action="store_true", help="embedded chain only")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/accuracy-<date>.{json,txt}")
    a = ap.parse_args(argv)
    from zkchain.evm.chain import Chain

    chains = {"embedded": Chain.embedded(block_gas_limit=60_000_000)}
    node = None
    if not a.no_anvil:
        try:
            from zkchain.evm.anvil import Anvil

            node = Anvil(block_gas_limit=60_000_000).__enter__()
            chains["anvil"] = Chain.rpc(node.url)
        except Exception as exc:  # no anvil binary: embedded only, and say so
            print(f"anvil: not used ({exc})", file=sys.stderr)
    rows = []
    load0 = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in a.samples:
                rows.append(run(n, Path(tmp), chains, a.model))
                print(json.dumps({k: v for k, v in rows[-1].items() if k != "timings"}), flush=True)
    finally:
        if node is not None:
            node.__exit__(None, None, None)
    what = {"digits_mlp": "the digits MLP (64→32→10)", "digits_cnn": "the digits CNN (two convolutions, 8×8 input)"}
    lines = [f"prove-accuracy on {what[a.model]}, first N test digits, dev SRS, "
             f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; 1-min load average {load0:.1f} at start, "
             f"{os.getloadavg()[0]:.1f} at end (2 cores: above 2, other work shared them and times are inflated)",
             f"{'N':>5} {'k (=predict)':>13} {'prove s':>8} {'CPU s':>7} {'s/sample':>9} {'proof B':>8} {'exec gas':>10} "
             f"{'tx gas':>10} {'anvil tx':>10} {'RSS MB':>7} {'SRS deg':>8}"]
    for r in rows:
        k = f"{r['correct']} ({r['predict_correct']})"
        lines.append(f"{r['samples']:>5} {k:>13} {r['prove_s']:>8.2f} {r['prove_cpu_s']:>7.2f} "
                     f"{r['prove_cpu_s'] / r['samples']:>9.3f} {r['proof_bytes']:>8,} {r['embedded_exec_gas']:>10,} "
                     f"{r['embedded_tx_gas']:>10,} {r.get('anvil_tx_gas', 0):>10,} {r['peak_rss_mb']:>7.0f} "
                     f"{r['srs_degree']:>8,}")
    text = "\n".join(lines)
    print(text)
    if a.save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"accuracy{'' if a.model == 'digits_mlp' else '-' + a.model}-{_dt.date.today().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(rows, indent=1))
        stem.with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
