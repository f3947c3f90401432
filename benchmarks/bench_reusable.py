"""Specialised vs reusable verifier on the bundled models: code size, registration gas, verify gas (issue 27).

    python benchmarks/bench_reusable.py                      # digits MLP, digits CNN, LeNet-5; prints a table
    python benchmarks/bench_reusable.py -o results.json --models digits_mlp lenet5

For each model: compile, setup (dev SRS), prove test input 0; deploy the specialised verifier and call
``verifyProof``; register the model's tape at one shared ``ZkchainReusableVerifier`` (deployed once for all
models) and call ``verifyProof(modelId, ...)``. Everything runs in this process on the embedded chain (py-evm,
Prague rules). Gas: *execution* = transaction gas − 21,000 − calldata (16/4 per byte); *tx* = the whole
transaction. *register* = the tape's data contracts + the ``register`` transaction (once per model).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

MODELS = ("digits_mlp", "digits_cnn", "lenet5")


def _tx(chain, address, compiled, *args) -> tuple[int, int, bool]:
    tx = chain.transact(address, compiled, "verifyProof", *args, gas=5_000_000, replay=False)
    data = bytes.fromhex(chain.w3.eth.contract(abi=compiled.abi).encode_abi("verifyProof", list(args))[2:])
    cd = sum(16 if b else 4 for b in data)
    ok = chain.call(address, compiled, "verifyProof", *args, gas=5_000_000)
    return tx.gas_used - 21_000 - cd, tx.gas_used, bool(ok and tx.receipt["status"] == 1)


def measure(model: str, work: Path, chain, shared) -> dict:
    import numpy as np

    from zkchain import api
    from zkchain.evm import reusable
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.models import bundled_model_dir
    from zkchain.quant.compile import compile_model, write_compiled

    d = bundled_model_dir(model)
    build = work / model
    write_compiled(compile_model(d / "model.onnx", calibration=d / "calibration.npy"), build)
    vk = api.setup(build)
    proof, _ = api.prove(build, np.load(d / "test_inputs.npy")[0])
    pb, pub = calldata(proof, vk)
    row = {"model": model, "proof_bytes": len(pb)}
    compiled = compile_verifier(vk, "BenchVerifier")
    address, deploy_gas = chain.deploy(compiled, gas=15_000_000)
    ex, tx, ok = _tx(chain, address, compiled, pb, pub)
    row["specialised"] = {"runtime_bytes": compiled.runtime_size_bytes, "deploy_gas": deploy_gas,
                          "exec_gas": ex, "tx_gas": tx, "accepted": ok}
    shared_address, shared_compiled = shared
    tape = reusable.record_tape(vk)
    reg = reusable.register(chain, shared_address, tape, shared_compiled)
    ex, tx, ok = _tx(chain, shared_address, shared_compiled, tape.model_id, pb, pub)
    row["reusable"] = {"tape_bytes": len(tape.data), "instructions": len(tape.code), "data_gas": reg.data_gas,
                       "register_gas": reg.register_gas, "exec_gas": ex, "tx_gas": tx, "accepted": ok}
    row["ratio_exec"] = round(row["reusable"]["exec_gas"] / row["specialised"]["exec_gas"], 3)
    row["ratio_tx"] = round(row["reusable"]["tx_gas"] / row["specialised"]["tx_gas"], 3)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("-o", "--output", type=Path, help="write the measurements as JSON")
    args = ap.parse_args()
    from zkchain.evm import reusable
    from zkchain.evm.chain import Chain

    chain = Chain.embedded()
    sc = reusable.compile_reusable()
    shared_address, shared_deploy = chain.deploy(sc, gas=reusable.DEPLOY_GAS)
    print(f"shared ZkchainReusableVerifier: runtime code {sc.runtime_size_bytes:,} B (the same for every model), "
          f"deployed once for {shared_deploy:,} gas")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in args.models:
            rows.append(measure(m, Path(tmp), chain, (shared_address, sc)))
            print(json.dumps(rows[-1]), flush=True)
    print()
    print(f"{'model':<11} {'specialised code':>16} {'exec gas':>9} {'tx gas':>9} | {'tape':>8} {'register gas':>12} "
          f"{'exec gas':>9} {'tx gas':>9} | {'exec ratio':>10} {'tx ratio':>8}")
    for r in rows:
        s, u = r["specialised"], r["reusable"]
        print(f"{r['model']:<11} {s['runtime_bytes']:>14,} B {s['exec_gas']:>9,} {s['tx_gas']:>9,} | "
              f"{u['tape_bytes']:>6,} B {u['data_gas'] + u['register_gas']:>12,} {u['exec_gas']:>9,} "
              f"{u['tx_gas']:>9,} | {r['ratio_exec']:>9.2f}x {r['ratio_tx']:>7.2f}x")
    if args.output:
        args.output.write_text(json.dumps({"shared_runtime_bytes": sc.runtime_size_bytes,
                                           "shared_deploy_gas": shared_deploy, "rows": rows}, indent=1) + "\n")
    return 0 if all(r["specialised"]["accepted"] and r["reusable"]["accepted"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
