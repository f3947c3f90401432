"""``zkchain demo``: the whole pipeline on a bundled model (default the digits MLP; ``--model`` any of
``zkchain.models.BUNDLED_MODELS``, the transformers included), from ONNX to an on-chain verdict.

    compile (bundled calibration) → setup (dev SRS, INSECURE) → prove N real test digits → verify in Python
    → generate the Solidity verifier → deploy it (in-process eth-tester chain, or any JSON-RPC URL; a verifier over
    90 % of EIP-170 goes to the shared reusable verifier instead, with the model's tape registered there)
    → submitProof for every proof → summary table (accuracy, per-sample prediction, prove time, proof bytes,
    verify gas, deploy gas, on-chain verdict)

Everything is written to a work directory (default: a fresh temporary directory, printed and kept):
``build/`` (the compiled model, keys, ``Verifier.sol``, ``deployment.json`` on an RPC chain),
``proofs/sample_<i>.json`` and ``summary.json``. :func:`run_demo` returns True only if every proof was accepted
on chain. On this machine (2 cores) the default run (three samples, embedded chain)
takes about 10 s when idle with a warm compiler cache, about 25 s with a cold cache under load.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from zkchain.errors import InputError
from zkchain.protocol.proof import ZERO_KNOWLEDGE

MODEL = "digits_mlp"
#: compile settings per bundled model (the digits MLP keeps the 10-bit widths its published numbers use)
CONFIG = {"digits_mlp": {"act_bits": 10, "weight_bits": 10}}


def _predictions(out: np.ndarray, label_shape: tuple[int, ...]) -> np.ndarray:
    """Argmax of every labelled position: ``out`` (N × outputs) as N × label_shape × classes."""
    n = out.shape[0]
    return out.reshape((n,) + tuple(label_shape) + (-1,)).argmax(-1)


def _console():
    from rich.console import Console

    con = Console()
    if not con.is_terminal:  # piped or captured: keep the table readable instead of 80 columns
        con = Console(width=120, no_color=True)
    return con


class _Steps:
    """Numbered steps with a spinner while they run and their wall time when done."""

    def __init__(self, console, total: int):
        self.con, self.total, self.n = console, total, 0

    def run(self, title: str, fn):
        """Runs ``fn(status)`` (status: the rich spinner, for sub-progress); fn returns ``(value, detail)``."""
        self.n += 1
        t0 = time.perf_counter()
        with self.con.status(f"[{self.n}/{self.total}] {title}") as status:
            out, detail = fn(status)
        dt = time.perf_counter() - t0
        self.con.print(f"[green]✓[/] [{self.n}/{self.total}] {title} [dim]({dt:.2f} s)[/]  {detail}")
        return out, dt


def run_demo(*, rpc_url: str = "embedded", private_key: str | None = None, samples: int = 3,
             workdir: str | Path | None = None, force: bool = False, console=None, model: str = MODEL) -> bool:
    """Runs the demo on bundled model ``model``, printing progress and the summary to ``console`` (rich; default
    stdout).

    Returns True iff every proof was accepted on chain. Raises :class:`~zkchain.errors.ZkchainError` subclasses
    for a non-empty ``workdir`` without ``force``, an unreachable RPC URL, missing solc-js, etc."""
    from rich.panel import Panel

    from zkchain import api
    from zkchain.evm import deploy, reusable
    from zkchain.evm.verifier_gen import calldata
    from zkchain.models import bundled_model_dir
    from zkchain.prover.parallel import default_workers

    con = console or _console()
    t_start = time.perf_counter()
    src = bundled_model_dir(model)
    meta = json.loads((src / "meta.json").read_text())
    vocab = meta.get("vocabulary")  # a character model: show predictions as text
    test_x = np.load(src / "test_inputs.npy")
    test_y = np.load(src / "test_labels.npy")
    label_shape = tuple(test_y.shape[1:])
    what = "test windows" if vocab else "test digits"
    show = (lambda a: repr("".join(vocab[int(i)] for i in np.ravel(a)))) if vocab else (lambda a: int(np.ravel(a)[0]))
    if samples > len(test_x):
        raise InputError(f"--samples {samples}: the test split has {len(test_x)} {what}")
    if workdir is not None:
        work = Path(workdir)
        if work.exists() and not work.is_dir():
            raise InputError(f"--workdir {work} exists and is not a directory")
        if work.is_dir() and any(work.iterdir()) and not force:
            raise InputError(f"--workdir {work} is not empty; pass --force to reuse it")
    embedded = rpc_url == deploy.EMBEDDED
    chain = deploy.connect(rpc_url, private_key)  # before any work: an unreachable node fails fast
    if workdir is None:
        work = Path(tempfile.mkdtemp(prefix="zkchain-demo-"))
    build, proofs_dir = work / "build", work / "proofs"
    build.mkdir(parents=True, exist_ok=True)
    proofs_dir.mkdir(exist_ok=True)

    con.print(Panel.fit(
        f"zkchain demo: prove the bundled {model} ({meta.get('n_parameters', '?'):,} parameters) on {samples} real "
        f"{what},\nthen verify every proof in Python and in a Solidity verifier on "
        f"{'an in-process eth-tester chain' if embedded else rpc_url}.\nwork directory: {work}",
        title="zkchain demo"))
    note = deploy.key_note(chain)
    if note:
        con.print(f"[yellow]note:[/] {note}")
    steps = _Steps(con, 8)

    # 1. compile ---------------------------------------------------------------------------------------------
    def do_compile(_status):
        from zkchain.quant import compile_model, write_compiled

        qm = compile_model(src / "model.onnx", src / "calibration.npy", CONFIG.get(model))
        write_compiled(qm, build, force=True)
        f = qm.info.get("fidelity", {})
        return qm, (f"{len(qm.ops)} integer ops; calibration {qm.info.get('calibration_samples')} "
                    f"samples; cosine similarity {f.get('cosine_similarity', 0):.5f} vs {f.get('reference')}")

    qmodel, _ = steps.run("compile model.onnx → integer model (bundled calibration set)", do_compile)

    # 2. accuracy on the test split ----------------------------------------------------------------------------
    def do_accuracy(_status):
        from zkchain.onnx import load_onnx
        from zkchain.quant.compile import float_reference

        batch = test_x.reshape((-1,) + tuple(qmodel.input_shape))
        floats, ref = float_reference(src / "model.onnx", load_onnx(src / "model.onnx"), batch)
        quant = np.stack([np.ravel(qmodel.predict(x)) for x in batch])
        acc_f = float(np.mean(_predictions(floats, label_shape) == test_y))
        acc_q = float(np.mean(_predictions(quant, label_shape) == test_y))
        acc = {"float": acc_f, "quantized": acc_q, "n": int(len(test_y)), "float_reference": ref, "what": what}
        return acc, f"float {100 * acc_f:.2f}% ({ref}), quantized {100 * acc_q:.2f}% on {len(test_y)} {what}"

    acc, _ = steps.run("accuracy on the held-out test split", do_accuracy)

    # 3. setup -------------------------------------------------------------------------------------------------
    def do_setup(_status):
        vk = api.setup(build, srs="dev", force=True)  # the demo's own build folder (--force reuses it)
        return vk, (f"{len(vk.circuit.constraints)} constraints, SRS degree {vk.srs_degree}, "
                    f"VK 0x{vk.digest.hex()[:16]}…")

    vk, setup_s = steps.run("setup: proving and verifying keys (dev SRS)", do_setup)
    con.print(Panel("INSECURE dev SRS: τ is derived from a public seed, so anyone can forge proofs for these keys "
                    "and for the verifier deployed below.\nFine for a demo; for real use run `zkchain setup --srs "
                    "FILE.ptau` with a powers-of-tau ceremony file.", title="WARNING", style="bold yellow"))

    # 4. prove + 5. verify in Python ---------------------------------------------------------------------------
    workers = default_workers(vk.srs_degree)
    rows: list[dict[str, Any]] = []

    def do_prove(status):
        for i in range(samples):
            status.update(f"[4/8] proving test sample {i + 1}/{samples} (index {i})")
            proof, info = api.prove(build, test_x[i], workers=workers)
            path = proofs_dir / f"sample_{i}.json"
            proof.save(path, vk)
            out = info["outputs"][0]
            proven = proof.public[qmodel.output_names[0]] if qmodel.output_names[0] in proof.public else out
            pred = _predictions(np.asarray(proven, dtype=float).reshape(1, -1), label_shape)[0]
            rows.append({"index": i, "label": show(test_y[i]), "predicted": show(pred),
                         "prove_s": round(info["prove_s"], 3), "proof_bytes": info["proof_bytes"],
                         "proof": str(path), "proof_obj": proof})
        return None, (f"{samples} proof(s), {rows[0]['proof_bytes']:,} bytes each, "
                      f"{np.mean([r['prove_s'] for r in rows]):.2f} s each ({workers} worker(s))")

    steps.run(f"prove {samples} {what}", do_prove)

    def do_verify(_status):
        for r in rows:
            t0 = time.perf_counter()
            verdict = api.verify(build, r["proof_obj"])
            r["python_ok"] = bool(verdict)
            r["python_verify_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            if not verdict:
                r["python_reason"] = verdict.reason
        n_ok = sum(r["python_ok"] for r in rows)
        return None, f"{n_ok}/{len(rows)} accepted by the Python verifier"

    steps.run("verify every proof in Python", do_verify)

    # 6. verifier ----------------------------------------------------------------------------------------------
    def do_gen(_status):
        source, compiled = deploy.build_verifier(vk)
        mode, why = reusable.choose_mode(vk, "auto", compiled)
        if mode == "reusable":
            tape = reusable.record_tape(vk)
            reusable.write_tape(tape, build / reusable.TAPE_FILE, force=True)
            return (mode, compiled), (f"{why}; tape {len(tape.data):,} bytes → {build / reusable.TAPE_FILE}")
        deploy.write_verifier_source(source, build / "Verifier.sol", force=True)
        return (mode, compiled), (f"{compiled.name}: {compiled.runtime_size_bytes:,} bytes of runtime code → "
                                  f"{build / 'Verifier.sol'}")

    (mode, compiled), _ = steps.run("generate + compile the Solidity verifier (solc-js)", do_gen)

    # 7. deploy -------------------------------------------------------------------------------------------------
    def do_deploy(_status):
        old = None
        if not embedded:
            old, _status = deploy.check_can_record(build, chain, force=True)
        if mode == "reusable":
            dep = deploy.deploy_reusable(chain, vk)
            detail = (f"shared verifier {dep.address} on chain {dep.chain_id}, {dep.deploy_gas:,} gas; model "
                      f"{dep.model_id[:18]}… registered, {dep.register_gas:,} gas")
        else:
            dep = deploy.deploy_verifier(chain, vk, compiled)
            detail = f"{dep.address} on chain {dep.chain_id}, {dep.deploy_gas:,} gas"
        if not embedded:
            path, _backup = deploy.record_deployment(build, dep, old)
            detail += f"; wrote {path}"
        return dep, detail

    dep, _ = steps.run(f"deploy the verifier ({'embedded eth-tester chain' if embedded else rpc_url})",
                                do_deploy)

    # 8. submit -------------------------------------------------------------------------------------------------
    def do_submit(status):
        for k, r in enumerate(rows):
            status.update(f"[8/8] submitProof {k + 1}/{len(rows)}")
            proof_bytes, public_inputs = calldata(r["proof_obj"], vk)
            if mode == "reusable":
                res = deploy.submit_proof(chain, dep.address, dep.abi, proof_bytes, public_inputs,
                                          gas=reusable.VERIFY_GAS, model_id=reusable.parse_model_id(dep.model_id))
            else:
                res = deploy.submit_proof(chain, dep.address, compiled.abi, proof_bytes, public_inputs)
            r.update({"onchain_accepted": res.accepted, "verify_gas": res.gas_used, "tx_hash": res.tx_hash,
                      "event": bool(res.events) and res.events[0]["event"]})
            if not res.accepted:
                r["onchain_reason"] = res.reason
        n_ok = sum(r["onchain_accepted"] for r in rows)
        return None, f"{n_ok}/{len(rows)} accepted on chain"

    steps.run("submitProof for every proof (one transaction each)", do_submit)

    total_s = time.perf_counter() - t_start
    all_ok = all(r["onchain_accepted"] for r in rows)
    _summary(con, acc, rows, dep, vk, compiled, total_s, all_ok, work)
    summary = {
        "ok": all_ok, "model": model, "verifier_mode": mode, "work_dir": str(work), "total_s": round(total_s, 2),
        "accuracy": acc, "setup_s": round(setup_s, 2), "srs_insecure": vk.srs_insecure,
        "zero_knowledge": ZERO_KNOWLEDGE,
        "vk_digest": "0x" + vk.digest.hex(),
        "verifier": {"contract": dep.contract, "address": dep.address, "chain_id": dep.chain_id,
                     "rpc_url": dep.rpc_url, "deploy_gas": dep.deploy_gas,
                     "runtime_size_bytes": dep.runtime_size_bytes, "tx_hash": dep.tx_hash},
        "samples": [{k: v for k, v in r.items() if k != "proof_obj"} for r in rows],
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    con.print(f"wrote {work / 'summary.json'}")
    return all_ok


def _summary(con, acc, rows, dep, vk, compiled, total_s, all_ok, work) -> None:
    from rich.table import Table

    table = Table(title="per-sample results", show_lines=False)
    for col, just in (("test #", "right"), ("label", "right"), ("predicted", "right"), ("prove (s)", "right"),
                      ("proof (bytes)", "right"), ("Python verify", "center"), ("verify gas", "right"),
                      ("on-chain accepted", "center")):
        table.add_column(col, justify=just)
    for r in rows:
        pred = str(r["predicted"]) + ("" if r["predicted"] == r["label"] else " ✗")
        table.add_row(str(r["index"]), str(r["label"]), pred, f"{r['prove_s']:.2f}", f"{r['proof_bytes']:,}",
                      "yes" if r["python_ok"] else "NO", f"{r['verify_gas']:,}" if r["verify_gas"] else "-",
                      "yes" if r["onchain_accepted"] else "NO")
    con.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("test accuracy", f"float {100 * acc['float']:.2f}%  ·  quantized {100 * acc['quantized']:.2f}%  "
                                   f"({acc['n']} {acc['what']}; float by {acc['float_reference']})")
    facts.add_row("verifier", f"{dep.contract}, {dep.runtime_size_bytes:,} bytes of code, at {dep.address} "
                              f"(chain {dep.chain_id}, {dep.rpc_url})")
    facts.add_row("deploy gas", f"{dep.deploy_gas:,}")
    gases = [r["verify_gas"] for r in rows if r["verify_gas"]]
    if gases:
        facts.add_row("verify gas", f"{min(gases):,}" + (f"–{max(gases):,}" if max(gases) != min(gases) else "")
                      + " per submitProof transaction (21,000 base and calldata included)")
    facts.add_row("SRS", "INSECURE dev SRS (demo only)" if vk.srs_insecure else vk.srs_source)
    facts.add_row("total time", f"{total_s:.1f} s")
    facts.add_row("work dir", str(work))
    con.print(facts)
    n_ok = sum(r["onchain_accepted"] for r in rows)
    verdict = "[bold green]PASS[/]" if all_ok else "[bold red]FAIL[/]"
    con.print(f"on-chain: {n_ok}/{len(rows)} proofs accepted  {verdict}")
