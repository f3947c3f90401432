"""A Gemm over a [T, H] activation: one proof of T rows against T single-row proofs (issue 26's number).

    python benchmarks/bench_rows.py                 # T = 16, H = 64: x[1×T×64] → MatMul+Add → Relu → MatMul+Add → 10
    python benchmarks/bench_rows.py --rows 16 --hidden 64 --repeat 3 --save

Both models have the same weights; the single-row model is the T-row model's graph with T = 1. Per model: setup
(dev SRS), prove (``api.prove``: median of ``--repeat``; "minus SRS load" subtracts the dev SRS's re-derivation,
which the ``--profile`` breakdown reports apart), proof size (calldata bytes) and, when solc-js is found, the
verifier's execution gas on the embedded chain. The T single-row proofs are T times one proof (their inputs differ
only in values, so their cost does not). Target (issue 26): T-row prove time ≤ 0.25 × T single-row proofs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def make_model(path: Path, rows: int, hidden: int, n_out: int, seed: int = 0) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    W1 = (rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
    W2 = (rng.normal(size=(hidden, n_out)) / np.sqrt(hidden)).astype(np.float32)
    b1, b2 = (rng.normal(size=hidden) * 0.1).astype(np.float32), (rng.normal(size=n_out) * 0.1).astype(np.float32)
    mk = helper.make_node
    nodes = [mk("MatMul", ["input", "W1"], ["h"]), mk("Add", ["h", "b1"], ["hb"]), mk("Relu", ["hb"], ["a"]),
             mk("MatMul", ["a", "W2"], ["o"]), mk("Add", ["o", "b2"], ["output"])]
    g = helper.make_graph(nodes, f"rows{rows}", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, rows, hidden])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, rows, n_out])],
                          [numpy_helper.from_array(a, n) for a, n in ((W1, "W1"), (b1, "b1"), (W2, "W2"), (b2, "b2"))])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def run(rows: int, hidden: int, n_out: int, repeat: int, work: Path) -> dict:
    from zkchain import api
    from zkchain.crypto.srs import SRS

    d = work / f"T{rows}"
    d.mkdir()
    make_model(d / "model.onnx", rows, hidden, n_out)
    rng = np.random.default_rng(1)
    np.save(d / "cal.npy", rng.normal(size=(32, 1, rows, hidden)).astype(np.float32))
    x = rng.normal(size=(1, rows, hidden)).astype(np.float32)
    api.compile(d / "model.onnx", d / "build", calibration=d / "cal.npy")
    t = time.perf_counter()
    vk = api.setup(d / "build")
    setup_s = time.perf_counter() - t
    t = time.perf_counter()
    SRS.dev(vk.srs_degree)  # what every api.prove re-derives
    srs_s = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        proof, info = api.prove(d / "build", x)
        runs.append(info["prove_s"])
    assert api.verify(d / "build", proof).accepted
    out = {"rows": rows, "hidden": hidden, "setup_s": setup_s, "srs_degree": vk.srs_degree, "srs_load_s": srs_s,
           "prove_s": statistics.median(runs), "prove_best_s": min(runs), "proof_bytes": info["proof_bytes"],
           "timings": info["timings"]}
    try:
        from zkchain.errors import SetupError
        from zkchain.evm.chain import Chain
        from zkchain.evm.verifier_gen import calldata, compile_verifier

        compiled = compile_verifier(vk, f"Rows{rows}Verifier")
    except SetupError as exc:  # no solc-js: report without gas
        out["verify_gas_error"] = str(exc)[:120]
        return out
    chain = Chain.embedded()
    address, _ = chain.deploy(compiled, gas=15_000_000)
    pb, pub = calldata(proof, vk)
    tx = chain.transact(address, compiled, "verifyProof", pb, pub, gas=3_000_000, replay=False)
    data = bytes.fromhex(chain.w3.eth.contract(abi=compiled.abi).encode_abi("verifyProof", [pb, pub])[2:])
    assert tx.receipt["status"] == 1
    out["verify_gas"] = tx.gas_used - 21_000 - sum(16 if b else 4 for b in data)
    out["runtime_bytes"] = compiled.runtime_size_bytes
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--out", type=int, default=10, help="outputs of the second layer")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/rows-<date>.{json,txt}")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        many = run(a.rows, a.hidden, a.out, a.repeat, Path(tmp))
        one = run(1, a.hidden, a.out, a.repeat, Path(tmp))
    lines = [f"Gemm over [{a.rows}, {a.hidden}] → {a.hidden} → Relu → {a.out}: one {a.rows}-row proof vs {a.rows} "
             "single-row proofs (median of %d, dev SRS)" % a.repeat,
             f"{'':28}{'1 row':>12}{f'{a.rows} rows':>12}{f'{a.rows} × 1 row':>14}{'ratio':>8}"]

    def row(label, key, fmt, scale_many=True):
        v1, vt = one[key], many[key]
        tot = v1 * a.rows if scale_many else v1
        lines.append(f"{label:28}{fmt.format(v1):>12}{fmt.format(vt):>12}{fmt.format(tot):>14}{vt / tot:>8.3f}")

    one["prove_minus_srs_s"] = one["prove_s"] - one["srs_load_s"]
    many["prove_minus_srs_s"] = many["prove_s"] - many["srs_load_s"]
    row("prove (s, wall)", "prove_s", "{:.3f}")
    row("prove minus SRS load (s)", "prove_minus_srs_s", "{:.3f}")
    row("proof (bytes)", "proof_bytes", "{:,}")
    if "verify_gas" in one and "verify_gas" in many:
        row("verify gas (execution)", "verify_gas", "{:,}")
    else:
        lines.append(f"verify gas: not measured ({one.get('verify_gas_error', '')})")
    lines.append(f"SRS degree: 1 row {one['srs_degree']}, {a.rows} rows {many['srs_degree']}; "
                 f"target prove ratio ≤ 0.25 ({'met' if many['prove_s'] <= 0.25 * a.rows * one['prove_s'] else 'missed'})")
    text = "\n".join(lines)
    print(text)
    if a.save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"rows-{_dt.date.today().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps({"one_row": one, "rows": many}, indent=1))
        stem.with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
