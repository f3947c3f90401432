"""Transformers end to end (issue 11): prove time, peak memory, proof size and on-chain verify gas.

    python benchmarks/bench_transformers.py                       # digits_vit, char_gpt; prints a table
    python benchmarks/bench_transformers.py --models nanoGPT -o results.json

Each model runs in a fresh process (so ``ru_maxrss`` is that model's peak): compile (bundled calibration; EZKL's
``nanoGPT`` from the corpus with its input.json), setup (dev SRS), prove one test input, verify in Python, then
register the model's tape at a shared reusable verifier on the embedded chain (their specialised verifiers are
over EIP-170) and send one ``submitProof``: *tx gas* is the whole transaction. ``generate`` adds a proved greedy
generation of 4 tokens for char_gpt (``compile --generate 4``). EZKL is not installed on this machine (no
``ezkl`` on PATH or in the venv), so its column is empty and says why.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ("digits_vit", "char_gpt")


def _one(model: str, work: Path, generate: int = 0) -> dict:
    import numpy as np

    from zkchain import api
    from zkchain.evm import deploy, reusable
    from zkchain.evm.verifier_gen import calldata
    from zkchain.models import bundled_model_dir, ezkl_corpus_dir
    from zkchain.quant.inputs import read_samples

    if model in ("digits_vit", "char_gpt"):
        d = bundled_model_dir(model)
        path, cal = d / "model.onnx", d / "calibration.npy"
        x = np.load(d / "test_inputs.npy")[0]
    else:
        d = ezkl_corpus_dir() / model
        path, cal = d / "network.onnx", None
        x = None
    build = work / f"{model}{'-gen' + str(generate) if generate else ''}"
    t0 = time.perf_counter()
    res = api.compile(path, build, cal, generate=generate)
    compile_s = time.perf_counter() - t0
    if x is None:
        x = read_samples(d / "input.json", res.model.input_shape)[0]
    t0 = time.perf_counter()
    vk = api.setup(build)
    setup_s = time.perf_counter() - t0
    proof, info = api.prove(build, x)
    ok_py = bool(api.verify(build, proof))
    chain = deploy.connect(deploy.EMBEDDED, None)
    dep = deploy.deploy_reusable(chain, vk)
    pb, pub = calldata(proof, vk)
    sub = deploy.submit_proof(chain, dep.address, dep.abi, pb, pub, gas=30_000_000,
                              model_id=reusable.parse_model_id(dep.model_id))
    return {"model": model + (f" --generate {generate}" if generate else ""), "blocks": res.blocks,
            "compile_s": round(compile_s, 1), "setup_s": round(setup_s, 1), "prove_s": round(info["prove_s"], 2),
            "proof_bytes": info["proof_bytes"], "python_verified": ok_py, "onchain_accepted": sub.accepted,
            "tx_gas": sub.gas_used, "tape_bytes": dep.tape_bytes, "register_gas": dep.register_gas,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "srs_degree": vk.srs_degree}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--generate", type=int, default=0, help="also prove char_gpt's greedy generation of K tokens")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:  # child process: one model, JSON on stdout
        name, _, k = args.one.partition("@")
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(_one(name, Path(tmp), int(k or 0))))
        return 0
    jobs = [m for m in args.models] + ([f"char_gpt@{args.generate}"] if args.generate else [])
    rows = []
    for job in jobs:
        out = subprocess.run([sys.executable, __file__, "--one", job], capture_output=True, text=True, timeout=1800)
        if out.returncode:
            print(f"{job}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cols = ("model", "blocks", "prove_s", "peak_rss_mb", "proof_bytes", "tx_gas", "tape_bytes", "register_gas",
            "python_verified", "onchain_accepted")
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:,}" if isinstance(r[c], int) and not isinstance(r[c], bool) else str(r[c])
                         for c in cols))
    print("EZKL: not installed on this machine (no `ezkl` binary or Python package), so no side-by-side figures.")
    if args.output:
        args.output.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
