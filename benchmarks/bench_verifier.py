"""The generated verifier's cost per bundled model: execution gas, runtime code size, proof size, prove time.

    python benchmarks/bench_verifier.py -o before.json            # measure (digits MLP, digits CNN, LeNet-5)
    python benchmarks/bench_verifier.py --compare before.json after.json
    python benchmarks/bench_verifier.py --readme                  # save under results/ and regenerate README's table

Used to hold refactors of the verifier and its generator to their budget (issue: one verifier, one block
registry — gas and code size within +2 % of the previous generator). Run it on two checkouts with
``PYTHONPATH=<checkout>`` and compare. Everything runs in this process on the embedded chain (py-evm), with the
dev SRS; gas is execution gas (transaction gas − 21,000 − calldata gas).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("digits_mlp", "digits_cnn", "lenet5")


def measure(model: str, work: Path, repeat: int = 3) -> dict:
    import numpy as np

    import zkchain
    from zkchain import api
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.models import bundled_model_dir
    from zkchain.quant.compile import compile_model, write_compiled

    d = bundled_model_dir(model)
    build = work / model
    write_compiled(compile_model(d / "model.onnx", calibration=d / "calibration.npy"), build)
    vk = api.setup(build)
    x = np.load(d / "test_inputs.npy")[0]
    api.prove(build, x)  # warm-up (SRS derivation, imports)
    times = []
    for _ in range(repeat):  # wall time of api.prove (key loading included), median of `repeat` runs
        t = time.perf_counter()
        proof, info = api.prove(build, x)
        times.append(time.perf_counter() - t)
    prove_s = sorted(times)[len(times) // 2]
    compiled = compile_verifier(vk, "BenchVerifier")
    chain = Chain.embedded()
    address, deploy_gas = chain.deploy(compiled, gas=15_000_000)
    pb, pub = calldata(proof, vk)
    tx = chain.transact(address, compiled, "verifyProof", pb, pub, gas=3_000_000, replay=False)
    data = bytes.fromhex(chain.w3.eth.contract(abi=compiled.abi).encode_abi("verifyProof", [pb, pub])[2:])
    cd_gas = sum(16 if b else 4 for b in data)
    return {"model": model, "zkchain": str(Path(zkchain.__file__).parent), "accepted": tx.receipt["status"] == 1,
            "exec_gas": tx.gas_used - 21_000 - cd_gas, "tx_gas": tx.gas_used, "runtime_bytes": compiled.runtime_size_bytes,
            "deploy_gas": deploy_gas, "proof_bytes": len(pb), "prove_s": round(prove_s, 3)}


def compare(a: list[dict], b: list[dict]) -> None:
    print(f"{'model':<12} {'metric':<14} {'before':>12} {'after':>12} {'change':>9}")
    for ra in a:
        rb = next(r for r in b if r["model"] == ra["model"])
        for k in ("exec_gas", "runtime_bytes", "proof_bytes", "prove_s"):
            ch = (rb[k] - ra[k]) / ra[k] * 100 if ra[k] else 0.0
            print(f"{ra['model']:<12} {k:<14} {ra[k]:>12,} {rb[k]:>12,} {ch:>+8.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, help="write the measurements as JSON")
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--repeat", type=int, default=3, help="prove runs per model (the median is reported)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    ap.add_argument("--readme", action="store_true",
                    help="save to benchmarks/results/verifier-<date>.json and regenerate README.md's measured table")
    args = ap.parse_args()
    if args.compare:
        compare(*(json.loads(p.read_text()) for p in args.compare))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for m in args.models:
            rows.append(measure(m, Path(tmp), args.repeat))
            print(json.dumps(rows[-1]), flush=True)
    if args.readme and not args.output:
        import datetime

        args.output = Path(__file__).parent / "results" / f"verifier-{datetime.date.today().isoformat()}.json"
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1) + "\n")
    if args.readme:
        sys.path.insert(0, str(Path(__file__).parent))
        import readme_table

        readme_table.update()
    if not all(r["accepted"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
