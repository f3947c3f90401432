"""Every EZKL corpus model zkchain compiles, proved zero-knowledge and verified in Python and on chain.

For each model of ``../shared/conformance/ezkl-examples`` (or ``--corpus``): compile with its ``input.json`` as
calibration, setup (dev SRS), prove that input, verify in Python, generate the Solidity verifier and call
``verifyProof`` on the embedded chain (eth-tester / py-evm) — and on anvil with ``--anvil``. Prints one row per
model (zero_knowledge, prove time, proof size, execution gas, verdicts) and a summary; ``-o`` writes JSON.
A model that does not compile (unsupported op) is listed as such, not counted as a failure.

``--mode`` picks the verifier as ``zkchain gen-verifier`` does: ``specialised`` (one contract per model, the
default: what this sweep always measured), ``reusable`` (one shared ZkchainReusableVerifier per chain, deployed
once, every model registered as a tape) or ``auto`` (specialised when it fits EIP-170 with a 10 % margin).

    python benchmarks/corpus_onchain.py [--models NAME ...] [--anvil] [--mode auto] [-o results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from zkchain.models import ezkl_corpus_dir

CORPUS = ezkl_corpus_dir()
VERIFY_GAS = 30_000_000  # gas offered to one verifyProof: Ethereum's block gas limit was 30-36M through 2025


def run_one(folder: Path, work: Path, chains: dict, mode: str = "specialised", shared: dict | None = None) -> dict:
    from zkchain import api
    from zkchain.errors import InputError, UnsupportedModelError
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.quant.compile import compile_model, write_compiled

    row = {"model": folder.name}
    try:
        m = compile_model(folder / "network.onnx", calibration=folder / "input.json")
    except (UnsupportedModelError, InputError) as exc:
        return {**row, "status": "unsupported", "reason": str(exc).splitlines()[0][:100]}
    build = work / folder.name
    write_compiled(m[0] if isinstance(m, tuple) else m, build)
    try:
        vk = api.setup(build)
    except UnsupportedModelError as exc:  # compiles, but an op has no proof block yet
        return {**row, "status": "not provable", "reason": str(exc).splitlines()[0][:100]}
    x = api.read_input(folder / "input.json")
    t = time.perf_counter()
    try:
        proof, _ = api.prove(build, x)
    except InputError as exc:
        return {**row, "status": "input refused", "reason": str(exc).splitlines()[0][:100]}
    row["prove_s"] = round(time.perf_counter() - t, 2)
    doc = proof.to_json(vk)
    row["zero_knowledge"] = doc["zero_knowledge"]
    row["python"] = bool(api.verify(build, proof))
    from zkchain.evm import reusable

    compiled = compile_verifier(vk, "CorpusVerifier")
    pb, pub = calldata(proof, vk)
    row["proof_bytes"], row["runtime_bytes"] = len(pb), compiled.runtime_size_bytes
    row["mode"] = reusable.choose_mode(vk, mode, compiled)[0]
    if row["mode"] == "reusable":
        tape = reusable.record_tape(vk)
        row["tape_bytes"] = len(tape.data)
    for name, chain in chains.items():
        if row["mode"] == "reusable":
            address, shared_compiled = shared[name]
            reg = reusable.register(chain, address, tape, shared_compiled)
            row[f"{name}_register_gas"] = reg.gas
            args, cc = (tape.model_id, pb, pub), shared_compiled
        else:
            address, _ = chain.deploy(compiled, gas=30_000_000)
            args, cc = (pb, pub), compiled
        # up to a whole block (transformers need several million gas; a 5M cap ran out on self_attention)
        tx = chain.transact(address, cc, "verifyProof", *args, gas=VERIFY_GAS, replay=False)
        ok = chain.call(address, cc, "verifyProof", *args, gas=VERIFY_GAS)
        row[name] = bool(tx.receipt["status"] == 1 and ok)
        row[f"{name}_gas"] = tx.gas_used
    row["status"] = "ok" if row["python"] and all(row[n] for n in chains) and row["zero_knowledge"] else "FAILED"
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--models", nargs="*", help="names (default: every folder with a network.onnx)")
    ap.add_argument("--anvil", action="store_true", help="also verify on a local anvil node")
    ap.add_argument("-o", "--output", type=Path, help="write the rows as JSON")
    ap.add_argument("--mode", choices=["specialised", "reusable", "auto"], default="specialised",
                    help="which verifier (see the module docstring)")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    from zkchain.evm.chain import Chain

    names = args.models or sorted(p.parent.name for p in args.corpus.glob("*/network.onnx"))
    chains = {"eth_tester": Chain.embedded(block_gas_limit=60_000_000)}
    node = None
    if args.anvil:
        from zkchain.evm.anvil import Anvil

        node = Anvil(block_gas_limit=60_000_000)
        node.__enter__()
        chains["anvil"] = Chain.rpc(node.url)
    shared = {}
    if args.mode != "specialised":  # one shared verifier per chain, deployed once
        from zkchain.evm import reusable

        sc = reusable.compile_reusable()
        for name, chain in chains.items():
            shared[name] = (chain.deploy(sc, gas=reusable.DEPLOY_GAS)[0], sc)
        print(f"shared {sc.name}: runtime code {sc.runtime_size_bytes:,} bytes", flush=True)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                try:
                    row = run_one(args.corpus / name, Path(tmp), chains, args.mode, shared)
                except Exception as exc:  # a sweep reports every model; the row says what went wrong
                    row = {"model": name, "status": "FAILED", "reason": f"{type(exc).__name__}: {exc}"[:160]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        if node is not None:
            node.__exit__(None, None, None)
    ok = [r for r in rows if r["status"] == "ok"]
    bad = [r for r in rows if r["status"] not in ("ok", "unsupported", "not provable", "input refused")]
    n_reusable = sum(1 for r in ok if r.get("mode") == "reusable")
    print(f"\nmode {args.mode}: {n_reusable} of the verified models on the shared reusable verifier")
    print(f"{len(ok)} proved zero-knowledge and verified (Python + {' + '.join(chains)}), "
          f"{len(bad)} failed, {len(rows) - len(ok) - len(bad)} not compiled, not provable or input refused, "
          f"of {len(rows)}")
    for r in bad:
        print(f"  FAILED {r['model']}: {r.get('reason', r)}")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
