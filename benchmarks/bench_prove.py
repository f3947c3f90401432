"""Benchmark the whole prover on the bundled models, side by side with EZKL when it is installed (issue 4).

    python benchmarks/bench_prove.py                       # digits_mlp; EZKL columns if `import ezkl` works
    python benchmarks/bench_prove.py --save                # also write benchmarks/results/bench_prove-<date>.json
    python benchmarks/bench_prove.py --models digits_mlp,digits_cnn,lenet5 --no-ezkl

Every stage runs in its own subprocess, so the peak RSS of a stage is that stage's alone (``os.wait4`` of the
stage process: the max over the process and the pool workers it reaped, not their sum). Each prove run is its own
process, and zkchain and EZKL runs alternate (order flipped every round), so that load from other processes on a
shared machine hits both systems alike; the median and the best run are reported. Per model:

zkchain  compile (``compile_model`` + ``write_compiled`` on the bundled calibration set), setup (``api.setup``,
         dev SRS), prove (``api.prove``; median of ``--repeat`` runs; wall time of the call = key load + witness +
         SRS + proof), verify (``api.verify``, Python), proof size (calldata form, ``proof.proof_bytes``),
         proving-key size on disk (``pk.json`` + ``pk_fixed.npz``; the SRS is not in it), and, if solc-js is
         found, the generated Solidity verifier on the embedded eth-tester chain: deploy gas and verifyProof gas
         (whole transaction, and execution = tx - 21000 - calldata, the figure the 300k target is about).
EZKL     gen_settings -> calibrate_settings (same calibration set) -> compile_circuit ("compile"), gen_srs at the
         calibrated logrows, setup, gen_witness, prove (median of ``--repeat``), verify; proof size = bytes of
         the proof (without its instances), pk size = pk.key on disk; gas: the Verifier.sol that
         create_evm_verifier writes, compiled with zkchain's solc-js and run on the same embedded chain with
         ``encode_evm_calldata``'s calldata (EZKL's own solc 0.8.20 download is not needed).

"prove minus SRS load" subtracts the time of loading zkchain's SRS alone (measured in a separate process): with
the dev SRS it is re-derived from its seed on every ``api.prove`` and is not in the ``--profile`` breakdown.

Models whose setup raises UnsupportedModelError (conv blocks are not implemented yet) are reported as
"not provable yet: <reason>". Times are wall-clock seconds on this machine; RSS in MB (2^20 bytes).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MB = 1 << 20

#: Targets of issue 4 / DESIGN.md: prove time against EZKL, verify gas of the digits MLP (execution gas).
TARGET_PROVE_RATIO = 0.2
TARGET_MLP_VERIFY_GAS = 300_000


# ============================================================================ stages (run in subprocesses)


def _zk_compile(a: dict) -> dict:
    from zkchain.quant.compile import compile_model, write_compiled

    model_dir = Path(a["model_dir"])
    t = time.perf_counter()
    model = compile_model(model_dir / "model.onnx", model_dir / "calibration.npy")
    write_compiled(model, a["build"], force=True)
    return {"compile_s": time.perf_counter() - t, "op_counts": model.info.get("op_counts"),
            "fidelity": model.info.get("fidelity")}


def _zk_setup(a: dict) -> dict:
    from zkchain import api

    build = Path(a["build"])
    t = time.perf_counter()
    vk = api.setup(build, srs="dev")
    dt = time.perf_counter() - t
    c = vk.circuit
    pk_bytes = sum((build / f).stat().st_size for f in ("pk.json", "pk_fixed.npz"))
    return {"setup_s": dt, "srs_degree": vk.srs_degree, "constraints": len(c.constraints),
            "committed_vectors": len(c.of_kind("witness")), "pk_bytes": pk_bytes,
            "vk_bytes": (build / "vk.json").stat().st_size}


def _zk_prove(a: dict) -> dict:
    import numpy as np

    from zkchain import api
    from zkchain.protocol.vk import VerifyingKey
    from zkchain.prover.parallel import default_workers

    build = Path(a["build"])
    x = api.read_input(Path(a["model_dir"]) / "input.json")
    vk = VerifyingKey.load(build / "vk.json")
    workers = a["workers"] or default_workers(vk.srs_degree)
    runs = []
    for _ in range(a["repeat"]):
        t = time.perf_counter()
        proof, info = api.prove(build, x, workers=workers)
        runs.append({"wall_s": time.perf_counter() - t, "prove_s": info["prove_s"], "timings": info["timings"],
                     "proof_bytes": info["proof_bytes"]})
    proof.save(build / "proof.json", vk)
    walls = [r["wall_s"] for r in runs]
    mid = sorted(range(len(runs)), key=lambda i: walls[i])[len(runs) // 2]
    return {"workers": workers, "prove_wall_s": statistics.median(walls),
            "prove_core_s": statistics.median(r["prove_s"] for r in runs), "runs_wall_s": walls,
            "profile": runs[mid]["timings"], "profile_run_prove_s": runs[mid]["prove_s"],
            "proof_bytes": runs[-1]["proof_bytes"], "outputs": [float(v) for v in np.ravel(info["outputs"])]}


def _zk_warm(a: dict) -> dict:
    """Proofs from one warm ``api.Prover`` (keys, model, SRS shards and workers loaded once, as ``zkchain serve``
    keeps them): the per-proof cost without the per-process one."""
    from zkchain import api

    x = api.read_input(Path(a["model_dir"]) / "input.json")
    with api.Prover(a["build"], workers=a["workers"] or 1) as prover:
        prover.pool.wait_ready()
        walls = []
        for _ in range(a["repeat"]):
            t = time.perf_counter()
            prover.prove(x)
            walls.append(time.perf_counter() - t)
        load_s = prover.load_s
    return {"workers": a["workers"] or 1, "warm_prove_s": statistics.median(walls), "runs_s": walls,
            "load_s": load_s}


def _zk_srs(a: dict) -> dict:
    """Time of loading the SRS alone (dev: re-derived from the seed), which api.prove does outside its profile."""
    from zkchain.prover.keys import ProvingKey, load_srs

    pk = ProvingKey.load(Path(a["build"]))
    times = []
    for _ in range(a["repeat"]):
        t = time.perf_counter()
        load_srs(pk.srs_spec, pk.vk.srs_degree)
        times.append(time.perf_counter() - t)
    return {"srs_load_s": statistics.median(times), "runs_s": times, "srs_spec": pk.srs_spec}


def _zk_verify(a: dict) -> dict:
    from zkchain import api
    from zkchain.protocol.proof import Proof

    build = Path(a["build"])
    proof = Proof.load(build / "proof.json", api.VerifyingKey.load(build / "vk.json"))
    times, ok = [], True
    for _ in range(a["repeat"]):
        t = time.perf_counter()
        ok = ok and bool(api.verify(build, proof))
        times.append(time.perf_counter() - t)
    return {"verify_s": statistics.median(times), "accepted": ok}


def _zk_gas(a: dict) -> dict:
    from zkchain.evm.chain import Chain
    from zkchain.evm.verifier_gen import calldata, compile_verifier
    from zkchain.protocol.vk import VerifyingKey
    from zkchain.protocol.proof import Proof

    build = Path(a["build"])
    vk = VerifyingKey.load(build / "vk.json")
    proof = Proof.load(build / "proof.json", vk)
    t = time.perf_counter()
    compiled = compile_verifier(vk, "BenchVerifier")
    solc_s = time.perf_counter() - t
    chain = Chain.embedded()
    address, deploy_gas = chain.deploy(compiled, gas=15_000_000)
    pb, pub = calldata(proof, vk)
    ok = chain.call(address, compiled, "verifyProof", pb, pub, gas=3_000_000)
    tx = chain.transact(address, compiled, "verifyProof", pb, pub, gas=3_000_000, replay=False)
    data = bytes.fromhex(chain.w3.eth.contract(abi=compiled.abi).encode_abi("verifyProof", [pb, pub])[2:])
    cd_gas = sum(16 if b else 4 for b in data)
    return {"accepted_on_chain": bool(ok) and tx.receipt["status"] == 1, "verify_tx_gas": tx.gas_used,
            "verify_exec_gas": tx.gas_used - 21_000 - cd_gas, "calldata_gas": cd_gas, "deploy_gas": deploy_gas,
            "runtime_bytes": compiled.runtime_size_bytes, "solc_s": solc_s}


def _ez_compile(a: dict) -> dict:
    import ezkl
    import numpy as np

    d, model_dir = Path(a["dir"]), Path(a["model_dir"])
    onnx = str(model_dir / "model.onnx")
    cal = np.load(model_dir / "calibration.npy")
    if a.get("calib_samples"):
        cal = cal[: a["calib_samples"]]
    # EZKL chunks a flat calibration vector into model inputs (batch 1 here).
    (d / "cal.json").write_text(json.dumps({"input_data": [cal.reshape(-1).astype(float).tolist()]}))
    x = json.loads((model_dir / "input.json").read_text())
    (d / "input.json").write_text(json.dumps({"input_data": x["input_data"]}))
    args = ezkl.PyRunArgs()
    args.input_visibility = a["input_visibility"]
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    t = time.perf_counter()
    assert ezkl.gen_settings(onnx, str(d / "settings.json"), py_run_args=args)
    t_cal = time.perf_counter()
    assert ezkl.calibrate_settings(str(d / "cal.json"), onnx, str(d / "settings.json"), "resources")
    t_cal = time.perf_counter() - t_cal
    assert ezkl.compile_circuit(onnx, str(d / "network.ezkl"), str(d / "settings.json"))
    dt = time.perf_counter() - t
    run = json.loads((d / "settings.json").read_text())["run_args"]
    keep = ("logrows", "input_scale", "param_scale", "input_visibility", "output_visibility", "param_visibility")
    return {"compile_s": dt, "calibrate_s": t_cal, "calibration_samples": int(cal.shape[0]),
            "run_args": {k: run.get(k) for k in keep}}


def _ez_srs(a: dict) -> dict:
    import ezkl

    d = Path(a["dir"])
    t = time.perf_counter()
    ezkl.gen_srs(str(d / "kzg.srs"), a["logrows"])
    return {"gen_srs_s": time.perf_counter() - t, "srs_bytes": (d / "kzg.srs").stat().st_size}


def _ez_setup(a: dict) -> dict:
    import ezkl

    d = Path(a["dir"])
    t = time.perf_counter()
    assert ezkl.setup(str(d / "network.ezkl"), str(d / "vk.key"), str(d / "pk.key"), str(d / "kzg.srs"))
    return {"setup_s": time.perf_counter() - t, "pk_bytes": (d / "pk.key").stat().st_size,
            "vk_bytes": (d / "vk.key").stat().st_size}


def _ez_witness(a: dict) -> dict:
    import ezkl

    d = Path(a["dir"])
    t = time.perf_counter()
    ezkl.gen_witness(str(d / "input.json"), str(d / "network.ezkl"), str(d / "witness.json"), str(d / "vk.key"),
                     str(d / "kzg.srs"))
    return {"witness_s": time.perf_counter() - t}


def _ez_prove(a: dict) -> dict:
    import ezkl

    d = Path(a["dir"])
    walls = []
    for _ in range(a["repeat"]):
        t = time.perf_counter()
        ezkl.prove(str(d / "witness.json"), str(d / "network.ezkl"), str(d / "pk.key"), str(d / "proof.json"),
                   str(d / "kzg.srs"))
        walls.append(time.perf_counter() - t)
    p = json.loads((d / "proof.json").read_text())
    raw = p.get("proof")
    n = len(raw) if isinstance(raw, list) else len(bytes.fromhex(str(p.get("hex_proof", "")).removeprefix("0x")))
    instances = sum(len(i) for i in p.get("instances", []))
    return {"prove_wall_s": statistics.median(walls), "runs_wall_s": walls, "proof_bytes": n,
            "public_instances": instances}


def _ez_verify(a: dict) -> dict:
    import ezkl

    d = Path(a["dir"])
    times, ok = [], True
    for _ in range(a["repeat"]):
        t = time.perf_counter()
        ok = ok and bool(ezkl.verify(str(d / "proof.json"), str(d / "settings.json"), str(d / "vk.key"),
                                     str(d / "kzg.srs")))
        times.append(time.perf_counter() - t)
    return {"verify_s": statistics.median(times), "accepted": ok}


def _ez_gas(a: dict) -> dict:
    """EZKL's Halo2Verifier.sol on the same embedded chain as zkchain's verifier. ``create_evm_verifier`` writes the
    source before it asks svm for solc 0.8.20 (no network here), so its solc error is ignored when the file exists;
    the source is then compiled with zkchain's solc-js (its version, optimizer 200 runs, evm cancun: the settings
    of zkchain's own verifier) rather than EZKL's pinned 0.8.20. Gas as for zkchain: whole tx and execution."""
    import asyncio
    import inspect

    import ezkl

    from zkchain.evm.chain import Chain
    from zkchain.evm.solc import compile_solidity

    d = Path(a["dir"])
    sol = d / "Verifier.sol"
    sol.unlink(missing_ok=True)

    async def gen():  # ezkl ≥ 13 needs a running event loop and returns an awaitable
        res = ezkl.create_evm_verifier(str(d / "vk.key"), str(d / "settings.json"), str(sol), str(d / "abi.json"),
                                       str(d / "kzg.srs"))
        return await res if inspect.isawaitable(res) else res

    note = None
    try:
        asyncio.run(gen())
    except Exception as exc:  # noqa: BLE001  (svm cannot download solc 0.8.20 offline: expected)
        note = str(exc)
    if not sol.is_file():
        raise RuntimeError(f"create_evm_verifier wrote no Verifier.sol: {note}")
    compiled = compile_solidity({"Verifier.sol": sol.read_text()})
    name = next(iter(compiled))
    c = compiled[name]
    chain = Chain.embedded()
    address, deploy_gas = chain.deploy(c, gas=15_000_000)
    data = bytes(ezkl.encode_evm_calldata(str(d / "proof.json"), str(d / "calldata.bytes")))
    out = chain.call_raw(address, data, gas=3_000_000)
    tx = chain.transact_raw(address, data, gas=3_000_000)
    cd_gas = sum(16 if b else 4 for b in data)
    return {"accepted_on_chain": bool(out.success and out.value and int.from_bytes(out.value[-32:], "big") == 1)
            and tx.receipt["status"] == 1, "verify_tx_gas": tx.gas_used, "verify_exec_gas": tx.gas_used - 21_000 - cd_gas,
            "calldata_gas": cd_gas, "calldata_bytes": len(data), "deploy_gas": deploy_gas,
            "runtime_bytes": c.runtime_size_bytes, "create_evm_verifier_note": note and note[:300]}


STAGES = {f.__name__[1:]: f for f in (_zk_compile, _zk_setup, _zk_prove, _zk_warm, _zk_srs, _zk_verify, _zk_gas, _ez_compile,
                                      _ez_srs, _ez_setup, _ez_witness, _ez_prove, _ez_verify, _ez_gas)}


def _stage_main(name: str, args_path: str, out_path: str) -> int:
    """Child side: run one stage, write {"ok": ..., result or error} as JSON to ``out_path``."""
    a = json.loads(Path(args_path).read_text())
    try:
        res = {"ok": True, **STAGES[name](a)}
    except Exception as exc:  # reported by the parent, never a traceback in the table
        from zkchain.errors import UnsupportedModelError

        unsupported = isinstance(exc, UnsupportedModelError)
        res = {"ok": False, "error": str(exc) if unsupported else f"{type(exc).__name__}: {exc}",
               "unsupported": unsupported}
    Path(out_path).write_text(json.dumps(res))
    return 0


# ============================================================================ parent: orchestration


def run_stage(name: str, args: dict, work: Path, timeout: float, verbose: bool, tag: str = "") -> dict:
    """Run one stage in a fresh interpreter; adds ``peak_rss_mb`` (wait4 of that process) and ``stage_wall_s``."""
    stem = name + tag.strip().replace("/", "of")
    ap, op = work / f"{stem}.args.json", work / f"{stem}.out.json"
    ap.write_text(json.dumps(args))
    op.unlink(missing_ok=True)
    load_before = os.getloadavg()[0]  # other work on the machine skews times: recorded next to them
    log = open(work / f"{stem}.log", "w")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "_stage", name, str(ap), str(op)], stdout=log,
                            stderr=subprocess.STDOUT, cwd=str(work))
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = -9
            log.close()
            return {"ok": False, "error": f"timed out after {timeout:.0f} s", "stage_wall_s": timeout}
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    log.close()
    if op.is_file():
        res = json.loads(op.read_text())
    else:
        tail = (work / f"{stem}.log").read_text()[-400:].strip().splitlines()
        res = {"ok": False, "error": f"stage process exited {proc.returncode}: {tail[-1] if tail else ''}"}
    res["peak_rss_mb"] = ru.ru_maxrss / 1024  # Linux: KiB
    res["stage_wall_s"] = wall
    res["loadavg_1m_before"] = round(load_before, 2)
    if verbose:
        shown = {k: v for k, v in res.items() if k not in ("profile", "fidelity", "op_counts", "outputs")}
        print(f"  [{name}{tag}] {json.dumps(shown, default=str)}", file=sys.stderr)
    return res


def _step(out: dict, stage: str, base: dict, work: Path, args, label: str, tag: str = "") -> dict:
    print(f"{label}: {stage[3:]}{tag} ...", file=sys.stderr, flush=True)
    r = run_stage(stage, base, work, args.timeout, args.verbose, tag)
    out[stage[3:]] = r
    return r


def _merge_prove_runs(runs: list[dict]) -> dict:
    """One prove result from single-run stage processes: median wall time, max peak RSS, the median run's profile."""
    bad = next((r for r in runs if not r["ok"]), None)
    if bad is not None:
        return bad
    walls = [r["prove_wall_s"] for r in runs]
    mid = sorted(range(len(runs)), key=lambda i: walls[i])[len(runs) // 2]
    out = dict(runs[mid])
    out.update({"prove_wall_s": statistics.median(walls), "runs_wall_s": walls,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs_peak_rss_mb": [r["peak_rss_mb"] for r in runs],
                "runs_loadavg_1m_before": [r["loadavg_1m_before"] for r in runs]})
    if "prove_core_s" in out:
        out["prove_core_s"] = statistics.median(r["prove_core_s"] for r in runs)
    return out


def bench_model(model: str, model_dir: Path, work: Path, args, use_ezkl: bool, ezkl_note: str) -> tuple[dict, dict]:
    """Both systems on one model. Prove runs alternate between zkchain and EZKL (one process per run, the order
    flipped every round) so that load from other processes on a shared machine hits both alike."""
    zb = {"model_dir": str(model_dir), "build": str(work / "build"), "repeat": args.repeat,
          "workers": args.workers[0]}
    (work / "ezkl").mkdir(exist_ok=True)
    eb = {"model_dir": str(model_dir), "dir": str(work / "ezkl"), "repeat": args.repeat,
          "calib_samples": args.ezkl_calib_samples, "input_visibility": args.ezkl_input_visibility}
    zk: dict = {}
    ez: dict = {"version": _ezkl_version()} if use_ezkl else {"skipped": ezkl_note}

    for stage in ("zk_compile", "zk_setup"):
        r = _step(zk, stage, zb, work, args, f"{model}: zkchain")
        if not r["ok"]:
            zk["not_provable"], zk["unsupported"] = r["error"], bool(r.get("unsupported"))
            break
    provable = "not_provable" not in zk
    run_ez = use_ezkl and (provable or args.ezkl_unprovable)
    if use_ezkl and not run_ez:
        ez = {"skipped": "zkchain cannot prove this model yet (--ezkl-unprovable runs EZKL anyway)"}
    if run_ez:
        for stage in ("ez_compile", "ez_srs", "ez_setup", "ez_witness"):
            if stage == "ez_srs":
                eb["logrows"] = ez["compile"]["run_args"]["logrows"]
            r = _step(ez, stage, eb, work, args, f"{model}: EZKL")
            if not r["ok"]:
                ez["failed"] = f"{stage[3:]}: {r['error']}"
                break
    ez_ok = run_ez and "failed" not in ez

    runs: dict[str, list[dict]] = {"zk": [], "ez": []}
    for i in range(args.repeat if provable or ez_ok else 0):
        for who in (("zk", "ez") if i % 2 == 0 else ("ez", "zk")):
            if who == "zk" and provable and all(r["ok"] for r in runs["zk"]):
                runs["zk"].append(_step({}, "zk_prove", dict(zb, repeat=1), work, args, f"{model}: zkchain",
                                        f" {i + 1}/{args.repeat}"))
            if who == "ez" and ez_ok and all(r["ok"] for r in runs["ez"]):
                runs["ez"].append(_step({}, "ez_prove", dict(eb, repeat=1), work, args, f"{model}: EZKL",
                                        f" {i + 1}/{args.repeat}"))
    if provable:
        zk["prove"] = _merge_prove_runs(runs["zk"])
        if not zk["prove"]["ok"]:
            zk["not_provable"], zk["unsupported"] = zk["prove"]["error"], bool(zk["prove"].get("unsupported"))
            provable = False
    if ez_ok:
        ez["prove"] = _merge_prove_runs(runs["ez"])
        if not ez["prove"]["ok"]:
            ez["failed"], ez_ok = f"prove: {ez['prove']['error']}", False

    if provable:
        for w in args.workers[1:]:  # the other worker counts, zkchain alone
            rs = [_step({}, "zk_prove", dict(zb, repeat=1, workers=w), work, args, f"{model}: zkchain {w} workers",
                        f" {i + 1}/{args.repeat}") for i in range(args.repeat)]
            zk[f"prove_w{w}"] = _merge_prove_runs(rs)
        for w in args.workers:
            _step(zk, "zk_warm", dict(zb, workers=w), work, args, f"{model}: zkchain warm, {w} workers")
            zk[f"warm_w{w}"] = zk.pop("warm", None)
        for stage in ("zk_srs", "zk_verify", "zk_gas"):
            if stage == "zk_gas" and not args.gas:
                zk["gas_skipped"] = "--no-gas"
            elif stage == "zk_gas" and not _have_verifier_gen():
                zk["gas_skipped"] = "zkchain.evm.verifier_gen is not importable"
            else:
                r = _step(zk, stage, zb, work, args, f"{model}: zkchain")
                if stage == "zk_gas" and not r["ok"]:
                    zk["gas_skipped"] = r["error"]
    if ez_ok:
        for stage in ("ez_verify", "ez_gas"):
            if stage == "ez_gas" and not args.gas:
                ez["gas_skipped"] = "--no-gas"
                continue
            r = _step(ez, stage, eb, work, args, f"{model}: EZKL")
            if stage == "ez_gas" and not r["ok"]:  # optional: needs solc-js, as zkchain's own gas stage does
                ez["gas_skipped"] = r["error"]
    return zk, ez


def _have_verifier_gen() -> bool:
    try:
        import zkchain.evm.verifier_gen  # noqa: F401
    except Exception:
        return False
    return True


def _have_ezkl() -> bool:
    try:
        import ezkl  # noqa: F401
    except Exception:
        return False
    return True


def _ezkl_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("ezkl")
    except Exception:
        return None


# ============================================================================ report


def _g(d: dict, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def summary(zk: dict, ez: dict | None) -> list[tuple[str, object, object, str]]:
    """Rows (label, zkchain value, EZKL value, unit) of the side-by-side table."""
    rows = [
        ("compile", _g(zk, "compile", "compile_s"), _g(ez, "compile", "compile_s"), "s"),
        ("setup", _g(zk, "setup", "setup_s"), _g(ez, "setup", "setup_s"), "s"),
        ("prove (median)", _g(zk, "prove", "prove_wall_s"), _g(ez, "prove", "prove_wall_s"), "s"),
        ("  prove (best run)", _min(_g(zk, "prove", "runs_wall_s")), _min(_g(ez, "prove", "runs_wall_s")), "s"),
        ("  prove minus SRS load (est.)", _sub(_g(zk, "prove", "prove_wall_s"), _g(zk, "srs", "srs_load_s")),
         _g(ez, "prove", "prove_wall_s"), "s"),
        *[(f"  prove, {k[7:]} workers (median)", _g(zk, k, "prove_wall_s"), _g(ez, "prove", "prove_wall_s"), "s")
          for k in zk if k.startswith("prove_w")],
        *[(f"  warm prove, {k[6:]} worker(s)", _g(zk, k, "warm_prove_s"), _g(ez, "prove", "prove_wall_s"), "s")
          for k in zk if k.startswith("warm_w")],
        ("verify (Python / ezkl.verify)", _g(zk, "verify", "verify_s"), _g(ez, "verify", "verify_s"), "s"),
        ("proof size", _g(zk, "prove", "proof_bytes"), _g(ez, "prove", "proof_bytes"), "B"),
        ("peak RSS of prove", _g(zk, "prove", "peak_rss_mb"), _g(ez, "prove", "peak_rss_mb"), "MB"),
        ("proving key on disk", _g(zk, "setup", "pk_bytes"), _g(ez, "setup", "pk_bytes"), "B"),
        ("verify gas (execution)", _g(zk, "gas", "verify_exec_gas"), _g(ez, "gas", "verify_exec_gas"), "gas"),
        ("verify gas (whole tx)", _g(zk, "gas", "verify_tx_gas"), _g(ez, "gas", "verify_tx_gas"), "gas"),
        ("verify calldata gas", _g(zk, "gas", "calldata_gas"), _g(ez, "gas", "calldata_gas"), "gas"),
        ("deploy gas", _g(zk, "gas", "deploy_gas"), _g(ez, "gas", "deploy_gas"), "gas"),
        ("verifier runtime code", _g(zk, "gas", "runtime_bytes"), _g(ez, "gas", "runtime_bytes"), "B"),
    ]
    return rows


def _min(xs):
    return min(xs) if xs else None


def _sub(a, b):
    return None if a is None or b is None else a - b


def _ratio(a, b) -> str:
    if a is None or not b:
        return "-"
    r = a / b
    return f"{r:.3f}×" if r >= 0.001 else f"{r:.1e}×"


def _fmt(v, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "s":
        return f"{v * 1e3:.0f} ms" if v < 1 else f"{v:.2f} s"
    if unit == "MB":
        return f"{v:.0f} MB"
    if unit == "B":
        return f"{v / MB:.1f} MiB" if v >= MB else (f"{v / 1024:.1f} KiB" if v >= 10 * 1024 else f"{v:,} B")
    return f"{v:,}"


def print_model(model: str, res: dict) -> None:
    zk, ez = res["zkchain"], res.get("ezkl")
    print(f"\n## {model}")
    if zk.get("not_provable"):
        print(f"zkchain: not provable yet: {zk['not_provable']}")
        c = _g(zk, "compile", "compile_s")
        if c is not None:
            print(f"  (compile {_fmt(c, 's')})")
        return
    s = zk.get("setup", {})
    print(f"zkchain: SRS degree {s.get('srs_degree')} (dev SRS), {s.get('constraints')} constraints, "
          f"{s.get('committed_vectors')} committed vectors, prover workers {_g(zk, 'prove', 'workers')}")
    if ez and not ez.get("failed") and ez.get("skipped") is None:
        ra = _g(ez, "compile", "run_args") or {}
        print(f"EZKL {ez.get('version')}: logrows {ra.get('logrows')}, scales {ra.get('input_scale')}/"
              f"{ra.get('param_scale')}, visibility input {ra.get('input_visibility')} / output "
              f"{ra.get('output_visibility')} / params {ra.get('param_visibility')}")
    elif ez and ez.get("failed"):
        print(f"EZKL failed: {ez['failed']}")
    have_ez = bool(ez) and ez.get("skipped") is None
    head = f"| {'metric':<30} | {'zkchain':>12} |" + (f" {'EZKL':>12} | {'zkchain/EZKL':>12} |" if have_ez else "")
    print(head)
    print("|" + "-" * 32 + "|" + "-" * 14 + "|" + ("-" * 14 + "|" + "-" * 14 + "|" if have_ez else ""))
    for label, a, b, unit in summary(zk, ez if have_ez else None):
        line = f"| {label:<30} | {_fmt(a, unit):>12} |"
        if have_ez:
            ratio = _ratio(a, b)
            line += f" {_fmt(b, unit):>12} | {ratio:>12} |"
        print(line)
    if zk.get("gas_skipped"):
        print(f"(zkchain gas not measured: {zk['gas_skipped']})")
    if have_ez and ez.get("gas_skipped"):
        print(f"(EZKL gas not measured: {ez['gas_skipped']})")
    # targets
    print("targets:")
    zp, ep = _g(zk, "prove", "prove_wall_s"), _g(ez, "prove", "prove_wall_s") if have_ez else None
    if zp is not None and ep:
        r = zp / ep
        print(f"  prove ≤ {TARGET_PROVE_RATIO}× EZKL: {r:.3f}× -> {'PASS' if r <= TARGET_PROVE_RATIO else 'FAIL'}")
        srs = _g(zk, "srs", "srs_load_s")
        if srs is not None:
            r2 = (zp - srs) / ep
            print(f"    (without the {srs:.2f} s SRS load inside api.prove: {r2:.3f}× -> "
                  f"{'PASS' if r2 <= TARGET_PROVE_RATIO else 'FAIL'})")
    else:
        print(f"  prove ≤ {TARGET_PROVE_RATIO}× EZKL: not measured (EZKL not run)")
    g = _g(zk, "gas", "verify_exec_gas")
    if model == "digits_mlp":
        if g is not None:
            print(f"  MLP verify gas ≤ {TARGET_MLP_VERIFY_GAS:,}: {g:,} (execution; whole tx "
                  f"{_g(zk, 'gas', 'verify_tx_gas'):,}) -> {'PASS' if g <= TARGET_MLP_VERIFY_GAS else 'FAIL'}")
        else:
            print(f"  MLP verify gas ≤ {TARGET_MLP_VERIFY_GAS:,}: not measured")
    # profile of one prove
    prof = _g(zk, "prove", "profile")
    if prof:
        core = _g(zk, "prove", "profile_run_prove_s")
        srs = _g(zk, "srs", "srs_load_s")
        print(f"zkchain prove --profile of one run (the median run: {core:.3f} s inside api.prove):")
        total = sum(prof.values())
        for k, v in prof.items():
            print(f"  {k:<28} {v:8.3f} s  {100 * v / core:5.1f}%")
        print(f"  {'(sum of profiled stages)':<28} {total:8.3f} s  {100 * total / core:5.1f}%")
        print(f"  {'(not in the profile)':<28} {core - total:8.3f} s  {100 * (core - total) / core:5.1f}%"
              + (f"   <- SRS load alone: {srs:.3f} s ({_g(zk, 'srs', 'srs_spec')})" if srs is not None else ""))
    if have_ez and _g(ez, "srs", "gen_srs_s") is not None:
        print(f"EZKL extra: gen_srs {_fmt(ez['srs']['gen_srs_s'], 's')} (not in setup), gen_witness "
              f"{_fmt(_g(ez, 'witness', 'witness_s'), 's')} (not in prove), calibrate_settings "
              f"{_fmt(_g(ez, 'compile', 'calibrate_s'), 's')} of compile")


# ============================================================================ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="digits_mlp",
                    help="comma-separated bundled models (digits_mlp, digits_cnn, lenet5) [digits_mlp]")
    ap.add_argument("--repeat", type=int, default=3, help="prove/verify runs per system; the median is reported [3]")
    ap.add_argument("--workers", default="",
                    help="zkchain prover processes; a comma list (1,2) also proves with each other count and "
                         "reports warm proofs for each [as the CLI: zkchain.prover.parallel.default_workers]")
    ap.add_argument("--model-dir", type=Path, action="append", default=[],
                    help="a model folder (model.onnx, calibration.npy, input.json; e.g. from "
                         "benchmarks/scale_models.py), named by its folder; repeatable")
    ap.add_argument("--no-ezkl", action="store_true", help="skip EZKL even if it is installed")
    ap.add_argument("--no-gas", dest="gas", action="store_false", help="skip the Solidity verifier gas stage")
    ap.add_argument("--ezkl-calib-samples", type=int, default=None,
                    help="use only the first N samples of calibration.npy for EZKL's calibrate_settings [all]")
    ap.add_argument("--ezkl-input-visibility", choices=("private", "public"), default="private",
                    help="EZKL input visibility; zkchain's default input is private [private]")
    ap.add_argument("--ezkl-unprovable", action="store_true",
                    help="run EZKL even on models zkchain cannot prove yet (LeNet: ~1 min, ~5 GB)")
    ap.add_argument("--timeout", type=float, default=900, help="per stage, seconds [900]")
    ap.add_argument("--save", action="store_true", help="write benchmarks/results/bench_prove-<date>.json")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (implies --save)")
    ap.add_argument("--keep", type=Path, default=None, help="keep build dirs and logs under this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each stage's raw result")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be ≥ 1")

    from zkchain.models import BUNDLED_MODELS, bundled_model_dir

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in models if m not in BUNDLED_MODELS]
    if bad:
        ap.error(f"unknown model(s) {bad}; available: {', '.join(BUNDLED_MODELS)}")
    folders = {m: bundled_model_dir(m) for m in models}
    for d in args.model_dir:
        if not (d / "model.onnx").is_file():
            ap.error(f"--model-dir {d}: no model.onnx")
        folders[d.name] = d.resolve()
    try:
        args.workers = [int(w) for w in args.workers.split(",") if w.strip()] or [None]
    except ValueError:
        ap.error(f"--workers {args.workers!r}: expected a number or a comma list")
    use_ezkl = not args.no_ezkl and _have_ezkl()
    ezkl_note = ("disabled (--no-ezkl)" if args.no_ezkl else
                 f"ezkl {_ezkl_version()}" if use_ezkl else "not installed (pip install ezkl): EZKL columns skipped")
    print(f"EZKL: {ezkl_note}", file=sys.stderr)

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_prove-"))
    root.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    results: dict = {}
    try:
        for m, model_dir in folders.items():
            work = (root / m).resolve()
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
            zk, ez = bench_model(m, model_dir, work, args, use_ezkl, ezkl_note)
            results[m] = {"zkchain": zk, "ezkl": ez}
            print_model(m, results[m])
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - t_all
    print(f"\ntotal benchmark time {total:.0f} s; 1-minute load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores (other processes skew the times)")

    if args.save or args.out:
        now = _dt.datetime.now(_dt.timezone.utc)
        path = args.out or RESULTS / f"bench_prove-{now:%Y-%m-%d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "benchmark": "benchmarks/bench_prove.py", "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "argv": sys.argv[1:], "git_commit": _git_commit(), "git_dirty": _git_dirty(), "machine": _machine(),
            "units": {"*_s": "seconds (wall)", "*_bytes": "bytes", "peak_rss_mb": "MiB, wait4 ru_maxrss of the "
                      "stage process (max over it and its reaped workers)", "*gas*": "gas"},
            "targets": {"prove_ratio_vs_ezkl": TARGET_PROVE_RATIO, "digits_mlp_verify_exec_gas": TARGET_MLP_VERIFY_GAS},
            "summary": {m: {label.strip(): {"zkchain": a, "ezkl": b, "unit": u}
                            for label, a, b, u in summary(r["zkchain"],
                                                          r["ezkl"] if r["ezkl"] and "skipped" not in r["ezkl"]
                                                          else None)}
                        for m, r in results.items()},
            "results": results, "total_s": total,
        }
        path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
        print(f"wrote {path}")
    return 0


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except Exception:
        return None


def _git_dirty() -> list[str]:
    """Uncommitted changes under zkchain/ (the tree is shared: a run may measure someone's work in progress)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "zkchain"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout
    except Exception:
        return []
    return [ln.strip() for ln in out.splitlines() if ln.strip()]


def _machine() -> dict:
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    return {"cpus": os.cpu_count(), "mem_gib": round(mem, 1) if mem else None, "python": platform.python_version(),
            "platform": platform.platform()}


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "_stage":
        sys.exit(_stage_main(*sys.argv[2:]))
    sys.exit(main())
