"""The ``zkchain`` command line. Verbs mirror the pipeline::

    compile -> setup -> prove -> verify -> gen-verifier -> deploy-verifier -> submit-proof  (report: a page on all)

Exit codes: 0 success, 1 proof rejected, 2 usage or input error (one clear line on stderr, no traceback).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from zkchain.version import __version__
from zkchain.errors import ZkchainError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zkchain")
def cli() -> None:
    """zkchain: prove y = model(x) for an ONNX model and verify it on Ethereum.

    Typical flow: zkchain compile model.onnx -o build/ ; zkchain setup build/ ;
    zkchain prove build/ --input input.json -o proof.json ; zkchain verify build/ proof.json
    """


# --- front end commands (compile, predict): zkchain/onnx, zkchain/quant ---

import pathlib  # noqa: E402  (front-end section: keeps its imports local to the section)


def _fe_report(model, paths) -> None:
    """Human summary of a compiled model (stdout): what was written, calibration, ops, tables, fidelity."""
    info = model.info
    click.echo(f"model: {info.get('source_model')}  input {model.input_name} {list(model.input_shape)} "
               f"(scale {model.input_scale:.3g})")
    click.echo(f"calibration: {info.get('calibration')}")
    counts = ", ".join(f"{k} {v}" for k, v in info.get("op_counts", {}).items())
    click.echo(f"integer ops: {len(model.ops)} ({counts})")
    for t in model.tables.values():
        click.echo(f"table {t.name}: {t.fn} over [{t.lo}, {t.hi}] ({t.size} entries)")
    f = info.get("fidelity", {})
    top1 = "n/a (single output)" if f.get("top1_agreement") is None else f"{100 * f['top1_agreement']:.2f}%"
    click.echo(f"fidelity on {f.get('samples')} calibration samples vs {f.get('reference')}: top-1 agreement {top1}, "
               f"max abs error {f.get('max_abs_error', 0):.4g} (max |float output| {f.get('max_abs_float', 0):.4g}), "
               f"cosine similarity {f.get('cosine_similarity', 0):.6f}")
    for p in paths:
        click.echo(f"wrote {p}")


@cli.command("compile")
@click.argument("model_path", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=pathlib.Path))
@click.option("-o", "--output", "build_dir", required=True,
              type=click.Path(file_okay=False, path_type=pathlib.Path),
              help="Build directory for the compiled artifact (quantized.json + quantized.npz).")
@click.option("--calibration", type=click.Path(dir_okay=False, path_type=pathlib.Path), default=None,
              help="Calibration inputs: .npy batch (N × input shape) or EZKL-style input.json (input_data).")
@click.option("--act-bits", type=int, default=10, show_default=True, help="Signed activation bit width.")
@click.option("--weight-bits", type=int, default=10, show_default=True, help="Signed weight bit width.")
@click.option("--force", is_flag=True, help="Overwrite a non-empty build directory.")
@click.option("--hide-scales", is_flag=True,
              help="Round every calibrated range and weight maximum up to a power of two, so the verifying key "
                   "reveals only their exponents (at most one bit of precision per tensor).")
@click.option("--quantize-only", is_flag=True,
              help="Write the quantized model even if some operations cannot be proven yet (for `predict`).")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples per proof: the input's leading dimension becomes N, and each proof then takes N samples "
                   "(prove --input with an N × sample array); weights are opened once per proof.")
@click.option("--generate", type=click.IntRange(min=1), default=None, metavar="K",
              help="For a next-token model (token ids → logits per position): prove a greedy generation of K "
                   "tokens instead of one forward pass; the proof's public output is the K generated token ids.")
def compile_cmd(model_path: pathlib.Path, build_dir: pathlib.Path, calibration: pathlib.Path | None,
                act_bits: int, weight_bits: int, force: bool, hide_scales: bool, quantize_only: bool,
                batch: int, generate: int | None) -> None:
    """Import MODEL.onnx, calibrate, quantize to integer ops and write the compiled artifact to BUILD_DIR.

    The model is also lowered to proof blocks, so an operation that cannot be proven is reported here (with
    its ONNX node), not at `setup`; --quantize-only skips that check."""
    from zkchain import api

    res = api.compile(model_path, build_dir, calibration, {"act_bits": act_bits, "weight_bits": weight_bits,
                                                           "hide_scales": hide_scales},
                      force=force, quantize_only=quantize_only, batch=batch, generate=generate or 0)
    if calibration is None:
        click.echo(f"note: calibrated on {res.model.info['calibration']}", err=True)
    if res.blocks is not None:
        click.echo(f"provable: {res.blocks} blocks; zero-knowledge layout checked: no tail or hidden mask meets a "
                   "relation's data (docs/protocol.md §7.8)", err=True)
    _fe_report(res.model, res.paths)


@cli.command()
@click.argument("build_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="EZKL-style input.json (one sample) or .npy batch (N × input shape).")
@click.option("--labels", "labels_path", type=click.Path(dir_okay=False, path_type=pathlib.Path), default=None,
              help=".npy of one class index per sample: also print how many are classified correctly (ties go to "
                   "the lowest index, the rule prove-accuracy proves).")
def predict(build_dir: pathlib.Path, input_path: pathlib.Path, labels_path: pathlib.Path | None) -> None:
    """Run the quantized model; prints {"outputs": [[...], ...], "predicted": [...]} (dequantized floats, one row
    per sample, and each row's class: the lowest index wins a tie); with --labels also "correct" and "total"."""
    import json

    import numpy as np

    from zkchain.api import read_array
    from zkchain.quant import load_compiled
    from zkchain.quant.accuracy import check_labels, predicted
    from zkchain.quant.inputs import read_samples

    model = load_compiled(build_dir)
    batch = read_samples(input_path, model.input_shape, len(model.info.get("packed_inputs", [])) or 1)
    n = int(model.info.get("batch", 1))  # a batch build: each input holds n samples, one output row each
    rows = [[float(v) for v in r] for x in batch for r in np.asarray(model.predict(x)).reshape(n, -1)]
    out = {"outputs": rows, "predicted": predicted(np.asarray(rows)).tolist() if len(rows[0]) > 1 else None}
    if labels_path is not None:
        if out["predicted"] is None:
            raise click.UsageError("--labels needs a model with at least two class scores per sample")
        y = check_labels(read_array(labels_path, "labels"), len(rows), len(rows[0]), str(labels_path))
        out["correct"], out["total"] = int(np.sum(np.asarray(out["predicted"]) == y)), len(rows)
    click.echo(json.dumps(out))


# --- prover commands (setup, prove, verify): zkchain/prover, zkchain/verifier ---


def _console():
    from rich.console import Console

    return Console(stderr=True)


@cli.command()
@click.argument("build_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--srs", default="dev", show_default=True,
              help="'dev' (INSECURE seeded SRS, for tests and demos), 'hermez:POWER' (the public ceremony file "
                   "`zkchain srs get --power POWER` downloaded) or a snarkjs .ptau file.")
@click.option("--public-input", is_flag=True, help="Make the model input public (default: private).")
@click.option("--dataset", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Commit a test set for prove-accuracy: a .npy of N float samples (N = the build's --batch). "
                   "Needs --labels. The samples and labels are public data, committed plainly in the verifying key.")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --dataset: a .npy of N integer class indices.")
@click.option("--force", is_flag=True,
              help="Replace existing keys (proofs made with them and verifiers deployed for them stop matching).")
def setup(build_dir: Path, srs: str, public_input: bool, dataset: Path | None, labels: Path | None,
          force: bool) -> None:
    """Make the proving key and verifying key for a compiled model (writes vk.json, pk.json, pk_fixed.npz).

    With --dataset X.npy --labels y.npy (a build compiled with --batch N, N = len(X)) the keys prove accuracy on
    that test set instead (`zkchain prove-accuracy`); its commitments and digest are printed, and anyone can
    recompute them from the data (`zkchain check-dataset`)."""
    from zkchain import api

    con = _console()
    t0 = time.perf_counter()
    with con.status("setup: committing weights and tables" + (" and the test set" if dataset else "")):
        vk = api.setup(build_dir, srs=srs, public_input=public_input, force=force, dataset=dataset, labels=labels)
    c = vk.circuit
    con.print(f"setup done in {time.perf_counter() - t0:.2f} s: {len(c.constraints)} constraints, "
              f"{len(c.of_kind('witness'))} committed vectors, SRS degree {vk.srs_degree}")
    if api.is_accuracy(vk):
        acc = c.meta["accuracy"]
        click.echo(f"test set: {acc['samples']} samples, {acc['classes']} classes (ties: {acc['tie_rule']})")
        for v in c.public_data():
            click.echo(f"commitment {v.name}: 0x{vk.fixed_commitments[v.name].hex()}")
        click.echo(f"dataset digest 0x{vk.dataset_digest.hex()}")
    if vk.srs_insecure:
        con.print("[yellow]warning:[/] INSECURE dev SRS (public seed): proofs can be forged; use --srs FILE.ptau for real use")
    for f in api.KEY_FILES:
        click.echo(f"wrote {build_dir / f}")


_RAY_HELP = ("Prove on a Ray cluster: HOST:PORT of its head (`ray start --head` prints it), or 'auto' to start a "
             "local one on 127.0.0.1 for this proof. This process keeps the transcript and SRS shard 0; Ray actors "
             "hold the other --workers − 1 shards (default --workers 2). Needs pip install 'zkchain[ray]'; see "
             "docs/scale.md.")


def _shards(workers: int | None, ray: str | None, srs_degree: int) -> int:
    """``--workers`` as given, else 2 with ``--ray`` (this process + one actor), else the local default. With
    ``--ray``, checks the address and that Ray is installed before any key is read."""
    from zkchain.prover.parallel import default_workers

    if ray is not None:
        from zkchain.prover import ray_pool

        ray_pool.parse_address(ray)
        ray_pool.import_ray()
    return workers or (2 if ray is not None else default_workers(srs_degree))


def _where(workers: int, ray: str | None) -> str:
    if ray is None:
        return ""
    return f" on Ray ({ray}: {workers} SRS shards, {workers - 1} actor{'s' if workers > 2 else ''})"


@cli.command()
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="EZKL-style input.json (input_data[0]) or a .npy sample.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write proof.json.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Prover processes, each holding 1/N of the SRS (default: one per 16k SRS powers, at most one "
                   "per core; 1 for small models; 2 with --ray). See docs/scale.md.")
@click.option("--ray", "ray", metavar="HOST:PORT|auto", default=None, help=_RAY_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing proof file.")
@click.option("--profile", is_flag=True,
              help="Print the time of each prover stage and block, and keep them in PROOF.profile.json (next to "
                   "the proof, for `zkchain report`).")
def prove(build_dir: Path, input_path: Path, out: Path, workers: int | None, ray: str | None, force: bool,
          profile: bool) -> None:
    """Prove one inference of the compiled model; the proof carries the public output."""
    from zkchain import api
    from zkchain.app.report import profile_path

    if out.exists() and not force:
        raise ZkchainError(f"{out} exists; pass --force to overwrite it")
    if profile and profile_path(out).exists() and not force:
        raise ZkchainError(f"{profile_path(out)} exists; pass --force to overwrite it")
    x = api.read_input(input_path)
    vk = api.VerifyingKey.load(build_dir / "vk.json")
    con = _console()
    workers = _shards(workers, ray, vk.srs_degree)
    with con.status("proving") as st:
        proof, info = api.prove(build_dir, x, workers=workers, progress=lambda s: st.update(f"proving: {s}"), ray=ray)
    proof.save(out, vk)
    con.print(f"proved in {info['prove_s']:.2f} s{_where(workers, ray)}; proof {info['proof_bytes']} bytes "
              "(calldata form)")
    if profile:
        for k, v in info["timings"].items():
            con.print(f"  {k:<28} {v:8.3f} s")
        con.print("  per block (claims + Laurent products):")
        for k, v in info["block_timings"]:
            con.print(f"    {k:<40} {v:8.3f} s", markup=False, highlight=False)
    outs = info["outputs"][0]
    n = int(vk.circuit.meta.get("batch", 1))
    from zkchain.quant.accuracy import predicted  # argmax, ties to the lowest index (the rule prove-accuracy proves)

    if n > 1:  # a batch proof: one output row per sample
        rows = [outs[i * len(outs) // n:(i + 1) * len(outs) // n] for i in range(n)]
        con.print(f"outputs of {n} samples; argmax per sample: "
                  f"{predicted(rows).tolist() if len(rows[0]) > 1 else 'n/a'}")
    else:
        con.print(f"output: {[round(v, 4) for v in outs]}  (argmax {max(range(len(outs)), key=outs.__getitem__)})")
    if vk.srs_insecure:
        con.print(f"[yellow]warning:[/] {vk.srs_description}")
    from zkchain.protocol.proof import HIDES

    con.print(f"zero-knowledge: the proof hides the {', '.join(HIDES)} (docs/protocol.md §7)")
    click.echo(f"wrote {out}")
    if profile:
        from zkchain.app.report import write_profile

        click.echo(f"wrote {write_profile(out, info, force=True)}")


@cli.command()
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("proof_path", type=click.Path(path_type=Path))
def verify(build_dir: Path, proof_path: Path) -> None:
    """Verify a proof against the build's verifying key. Exit 0 accepted, 1 rejected, 2 error."""
    from zkchain import api
    from zkchain.protocol.proof import Proof

    vk = api.VerifyingKey.load(build_dir / "vk.json")
    proof = Proof.load(proof_path, vk)
    t0 = time.perf_counter()
    verdict = api.verify(build_dir, proof)
    ms = (time.perf_counter() - t0) * 1000
    if verdict.warning:
        click.echo(f"warning: {verdict.warning}", err=True)
    if verdict:
        click.echo(f"accepted ({ms:.0f} ms)")
        for name, vals in proof.public.items():
            click.echo(f"public {name}: {vals}")
        from zkchain.protocol.proof import accuracy_summary

        acc = accuracy_summary(vk, proof.public)
        if acc is not None:
            click.echo(f"accuracy: {acc['correct']} of {acc['total']} correct on test set {acc['dataset_digest']}")
        return
    click.echo(f"rejected: {verdict.reason}", err=True)
    raise click.exceptions.Exit(1)



@cli.command("prove-accuracy")
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the proof (a proof.json whose one public value is the count).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Prover processes, each holding 1/N of the SRS (default: one per 16k SRS powers, at most one "
                   "per core; 2 with --ray). See docs/scale.md.")
@click.option("--ray", "ray", metavar="HOST:PORT|auto", default=None, help=_RAY_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing proof file.")
def prove_accuracy_cmd(build_dir: Path, out: Path, workers: int | None, ray: str | None, force: bool) -> None:
    """Prove how many samples of the committed test set (setup --dataset) the private model classifies
    correctly: "argmax(model(x_i)) = y_i for exactly k of the N samples" (ties to the lowest index), k and N
    public, the weights and every logit hidden. Verify it with `zkchain verify`, or on chain with the generated
    contract's verifyAccuracy."""
    from zkchain import api

    if out.exists() and not force:
        raise ZkchainError(f"{out} exists; pass --force to overwrite it")
    vk = api.VerifyingKey.load(build_dir / "vk.json")
    con = _console()
    workers = _shards(workers, ray, vk.srs_degree)
    with con.status("proving accuracy") as st:
        proof, info = api.prove_accuracy(build_dir, workers=workers, ray=ray,
                                         progress=lambda s: st.update(f"proving accuracy: {s}"))
    proof.save(out, vk)
    con.print(f"proved in {info['prove_s']:.2f} s{_where(workers, ray)}; proof {info['proof_bytes']} bytes "
              "(calldata form)")
    click.echo(f"accuracy: {info['correct']} of {info['total']} correct ({100 * info['accuracy']:.2f} %) on test set "
               f"{info['dataset_digest']}")
    if vk.srs_insecure:
        con.print(f"[yellow]warning:[/] {vk.srs_description}")
    click.echo(f"wrote {out}")


@cli.command("check-dataset")
@click.argument("key", metavar="BUILD_DIR|VK.json", type=click.Path(exists=True, path_type=Path))
@click.option("--dataset", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The test set you expect: a .npy of N float samples.")
@click.option("--labels", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Its labels: a .npy of N class indices.")
@click.option("--srs", default=None, help="The key's .ptau file or hermez:POWER (a dev key needs none).")
def check_dataset_cmd(key: Path, dataset: Path, labels: Path, srs: str | None) -> None:
    """Check that a verifying key commits exactly the test set you expect: quantize it with the key's input scale,
    recommit it and compare (needs only vk.json and the SRS). Exit 0 same set, 1 another set, 2 error."""
    from zkchain import api

    with _console().status("recommitting the test set"):
        res = api.check_dataset(key, dataset, labels, srs=srs)
    if res:
        click.echo(f"same test set: dataset digest {res.expected}")
        return
    click.echo(f"different test set: the key commits {res.expected}, this data gives {res.found} "
               f"(differs in {', '.join(res.mismatched)})", err=True)
    raise click.exceptions.Exit(1)


# --- chain commands (node, gen-verifier, deploy-verifier, submit-proof, demo): zkchain/evm ---


@cli.command("node")
@click.option("--port", type=int, default=8545, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--chain-id", type=int, default=31337, show_default=True, help="Chain id of the local chain.")
@click.option("--verbose", is_flag=True, help="Show anvil's own log (every RPC request).")
def node_cmd(port: int, host: str, chain_id: int, verbose: bool) -> None:
    """Run a local anvil node in the foreground (Ctrl-C stops it); deploy verifiers to the printed URL."""
    from zkchain.evm.anvil import run_node

    run_node(port, host=host, chain_id=chain_id, verbose=verbose, echo=lambda line: click.echo(line))


def _chain_echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def _insecure_warning(what: str) -> str:
    return (f"warning: {what} was made with an INSECURE dev SRS (public seed): anyone can forge proofs it "
            "accepts; use `zkchain setup --srs FILE.ptau` before deploying anywhere it protects value")


_RPC_HELP = ("JSON-RPC URL of the chain (e.g. http://127.0.0.1:8545 from `zkchain node`), or `embedded` for a "
             "throwaway in-process chain (dry run: nothing survives the command). Env: ZKCHAIN_RPC_URL.")
_MODE_HELP = ("specialised: one contract for this model, every constant compiled in (cheapest to verify); "
              "reusable: one shared verifier per chain that runs this model's tape, registered as data (any model "
              "size); auto: specialised when its code fits EIP-170 with a 10% margin, else reusable.")
_KEY_HELP = ("Hex private key of the sending account (env: ZKCHAIN_PRIVATE_KEY). Without it only chain id 31337 "
             "is allowed, from anvil's first dev account (public key).")


@cli.command("gen-verifier")
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write the Solidity source (default: BUILD_DIR/Verifier.sol).")
@click.option("--name", "contract_name", default=None,
              help="Contract name (default: from the model, e.g. DigitsMlpVerifier).")
@click.option("--force", is_flag=True, help="Overwrite an existing, different file.")
@click.option("--mode", type=click.Choice(["auto", "specialised", "reusable"]), default="auto", show_default=True,
              help=_MODE_HELP)
def gen_verifier_cmd(build_dir: Path, out: Path | None, contract_name: str | None, force: bool, mode: str) -> None:
    """Generate the Solidity verifier for BUILD_DIR's verifying key and compile it (solc-js) to check it; in
    reusable mode, write the model's tape (BUILD_DIR/verifier.tape) for the shared verifier instead."""
    from zkchain import api
    from zkchain.evm import deploy

    with _console().status("generating the Solidity verifier and compiling it with solc-js"):
        v = api.gen_verifier(build_dir, out, contract_name, force=force, mode=mode)
    size = v.runtime_bytes
    if v.mode == "reusable":
        click.echo(f"mode reusable ({v.why})")
        click.echo(f"shared verifier {v.contract}: runtime code {size:,} bytes, the same for every model")
        click.echo(f"model id {v.model_id} (keccak256 of the tape: {v.tape_bytes:,} bytes, "
                   f"{v.tape_chunks} data contract{'s' if v.tape_chunks > 1 else ''})")
        click.echo(f"verifying key {v.vk_digest}")
        if v.insecure:
            _chain_echo_err(_insecure_warning("this verifying key"))
        click.echo(f"{v.status} {v.path}")
        return
    click.echo(f"contract {v.contract}: runtime code {size:,} bytes "
               f"({100 * size / deploy.EIP170_LIMIT:.0f}% of the EIP-170 limit {deploy.EIP170_LIMIT:,})")
    click.echo(f"verifying key {v.vk_digest}")
    if size > deploy.EIP170_LIMIT:
        _chain_echo_err("warning: runtime code is above the EIP-170 limit: Ethereum mainnet and most L2s will refuse "
                        "to deploy it")
    if v.insecure:
        _chain_echo_err(_insecure_warning("this verifying key"))
    click.echo(f"{v.status} {v.path}")


@cli.command("deploy-verifier")
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rpc-url", required=True, envvar="ZKCHAIN_RPC_URL", help=_RPC_HELP)
@click.option("--private-key", envvar="ZKCHAIN_PRIVATE_KEY", default=None, help=_KEY_HELP)
@click.option("--gas", type=click.IntRange(min=100_000), default=None,
              help="Gas limit of the creation transaction (default: from the code size, +25%).")
@click.option("--name", "contract_name", default=None, help="Contract name (default: from the model).")
@click.option("--force", is_flag=True,
              help="Deploy even if BUILD_DIR/deployment.json records a live verifier or one on another chain "
                   "(the old record is kept as deployment.<chain>.<address>.json).")
@click.option("--mode", type=click.Choice(["auto", "specialised", "reusable"]), default="auto", show_default=True,
              help=_MODE_HELP)
@click.option("--verifier-address", default=None,
              help="Reusable mode: register the model at this already deployed shared verifier instead of "
                   "deploying a new one.")
def deploy_verifier_cmd(build_dir: Path, rpc_url: str, private_key: str | None, gas: int | None,
                        contract_name: str | None, force: bool, mode: str, verifier_address: str | None) -> None:
    """Generate, compile and deploy BUILD_DIR's verifier; record it in BUILD_DIR/deployment.json. In reusable mode:
    deploy the shared verifier once (or use --verifier-address) and register this model's tape there."""
    from zkchain.errors import InputError
    from zkchain.evm import deploy, reusable

    vk = deploy.load_vk(build_dir)
    if verifier_address and mode == "specialised":
        raise InputError("--verifier-address is for --mode reusable (a specialised verifier is never shared)")
    if verifier_address:
        mode = "reusable"
    chain = deploy.connect(rpc_url, private_key)
    embedded = rpc_url == deploy.EMBEDDED
    note = deploy.key_note(chain)
    if note:
        _chain_echo_err(f"note: {note}")
    old, status = (None, "none") if embedded else deploy.check_can_record(build_dir, chain, force)
    compiled = None
    if mode != "reusable":
        _source, compiled = deploy.build_verifier(vk, contract_name)
    chosen, why = reusable.choose_mode(vk, mode, compiled)
    if chosen == "reusable":
        dep = deploy.deploy_reusable(chain, vk, verifier_address=verifier_address, gas=gas)
        click.echo(f"mode reusable ({why})")
        if dep.tx_hash:
            click.echo(f"deployed {dep.contract} at {dep.address}")
            click.echo(f"deploy gas {dep.deploy_gas:,}; runtime code {dep.runtime_size_bytes:,} bytes; "
                       f"tx {dep.tx_hash}")
        else:
            click.echo(f"using {dep.contract} at {dep.address}")
        click.echo(f"chain id {dep.chain_id} ({dep.rpc_url}), deployer {dep.deployer}")
        if dep.register_gas:
            click.echo(f"registered model {dep.model_id}: tape {dep.tape_bytes:,} bytes in "
                       f"{len(dep.tape_chunks)} data contract(s), {dep.register_gas:,} gas")
        else:
            click.echo(f"model {dep.model_id} was registered already")
    else:
        dep = deploy.deploy_verifier(chain, vk, compiled, gas=gas)
        click.echo(f"deployed {dep.contract} at {dep.address}")
        click.echo(f"chain id {dep.chain_id} ({dep.rpc_url}), deployer {dep.deployer}")
        click.echo(f"deploy gas {dep.deploy_gas:,}; runtime code {dep.runtime_size_bytes:,} bytes; tx {dep.tx_hash}")
    if vk.srs_insecure:
        _chain_echo_err(_insecure_warning("this verifier's key"))
    if embedded:
        _chain_echo_err("note: embedded chain: the contract disappears when this command exits; "
                        "deployment.json not written (use --rpc-url with a real node)")
        return
    path, backup = deploy.record_deployment(build_dir, dep, old)
    if backup is not None:
        why = "its contract is gone from this chain" if status == "stale" else "replaced with --force"
        _chain_echo_err(f"note: previous {path.name} ({why}) kept as {backup}")
    click.echo(f"wrote {path}")


@cli.command("submit-proof")
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("proof_path", metavar="PROOF.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rpc-url", required=True, envvar="ZKCHAIN_RPC_URL",
              help=_RPC_HELP.replace("dry run: nothing survives the command",
                                     "deploys a fresh verifier there first: a dry run"))
@click.option("--address", default=None, help="Verifier address (default: from BUILD_DIR/deployment.json).")
@click.option("--private-key", envvar="ZKCHAIN_PRIVATE_KEY", default=None, help=_KEY_HELP)
@click.option("--gas", type=click.IntRange(min=50_000), default=None,
              help="Gas limit of the transaction (or call). [default: 1,000,000; 5,000,000 for a reusable verifier]")
@click.option("--call", "use_call", is_flag=True,
              help="Free check: eth_call of verifyProof instead of a submitProof transaction (no event).")
@click.option("--model-id", default=None,
              help="Reusable verifier: the model's id (default: from deployment.json, or keccak256 of the "
                   "build's tape).")
@click.option("--mode", type=click.Choice(["auto", "specialised", "reusable"]), default="auto", show_default=True,
              help="Which verifier the embedded chain deploys (elsewhere deployment.json or the code at --address "
                   "decides).")
def submit_proof_cmd(build_dir: Path, proof_path: Path, rpc_url: str, address: str | None,
                     private_key: str | None, gas: int | None, use_call: bool, model_id: str | None,
                     mode: str) -> None:
    """Send PROOF.json to the deployed verifier. Exit 0 accepted, 1 rejected by the verifier, 2 error."""
    from zkchain.app.submit import resolve_verifier
    from zkchain.errors import ChainError
    from zkchain.evm import deploy, reusable
    from zkchain.evm.reusable import parse_model_id
    from zkchain.evm.verifier_gen import calldata
    from zkchain.protocol.proof import Proof

    vk = deploy.load_vk(build_dir)
    proof = Proof.load(proof_path, vk)  # refuses a proof for another key, or an edited file
    with _console().status("connecting (the embedded chain compiles and deploys the verifier first)"
                           if rpc_url == "embedded" else f"connecting to {rpc_url}"):
        target = resolve_verifier(build_dir, vk, proof, rpc_url, address, private_key, announce_key=not use_call,
                                  mode=mode, model_id=parse_model_id(model_id) if model_id else None)
    for line in target.notes:
        _chain_echo_err(line)
    chain, address, abi = target.chain, target.address, target.abi
    if vk.srs_insecure:
        _chain_echo_err(_insecure_warning("this proof's key"))
    proof_bytes, public_inputs = calldata(proof, vk)
    if gas is None:
        gas = deploy.DEFAULT_SUBMIT_GAS if target.model_id is None else reusable.VERIFY_GAS
    # an accuracy proof on its specialised verifier: submitAccuracy emits AccuracyVerified (the shared reusable
    # verifier has submitProof only; the count is a public output there)
    accuracy = "accuracy" in vk.circuit.meta and target.model_id is None
    result = deploy.submit_proof(chain, address, abi, proof_bytes, public_inputs, gas=gas, call=use_call,
                                 function="submitAccuracy" if accuracy else "submitProof", model_id=target.model_id)
    where = f"{address} on chain {chain.chain_id}"
    if target.model_id is not None:
        where += f", model 0x{target.model_id.hex()}"
    if result.mode == "call":
        if result.accepted:
            click.echo(f"accepted: verifyProof returned true at {where} (eth_call: no transaction, no event)")
            return
        if not result.rejected_by_verifier:
            raise ChainError(f"verifyProof call failed at {where}: {result.reason}")
        click.echo(f"rejected: verifyProof returned false at {where} (eth_call)", err=True)
        raise click.exceptions.Exit(1)
    tx_line = f"tx {result.tx_hash}  block {result.block_number}  gas used {result.gas_used:,}"
    if result.accepted:
        click.echo(f"accepted: {'submitAccuracy' if accuracy else 'submitProof'} succeeded at {where}")
        click.echo(tx_line)
        for ev in result.events:
            args = ", ".join(f"{k}={v}" for k, v in ev["args"].items())
            click.echo(f"event {ev['event']}({args})")
        return
    if not result.rejected_by_verifier:
        raise ChainError(f"submitProof transaction failed at {where} ({tx_line}): {result.reason}")
    click.echo(f"rejected: {result.reason} at {where}", err=True)
    click.echo(tx_line)
    raise click.exceptions.Exit(1)


@cli.command("report")
@click.argument("build_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("proof_path", metavar="[PROOF.json]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write the HTML page (default: BUILD_DIR/report.html).")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instead of PROOF.json: prove this input.json/.npy now and report that proof, timed here.")
@click.option("--no-gas", is_flag=True, help="Skip the verify-gas measurement (it compiles and deploys the "
                                             "verifier on an in-process chain: a few seconds).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def report_cmd(build_dir: Path, proof_path: Path | None, out: Path | None, input_path: Path | None, no_gas: bool,
               force: bool) -> None:
    """Write one static HTML page about BUILD_DIR: the model graph with each layer's scale and fidelity (float vs
    quantized), and for PROOF.json the prove time per stage and per block (from the PROOF.profile.json that
    `zkchain prove --profile` wrote), the proof size and the verify gas by part (measured on an in-process chain).
    The page has no script and loads nothing from the network. Exit 2 for a missing build, a corrupt proof or an
    existing output without --force."""
    from zkchain.app import report

    out = out or build_dir / "report.html"
    report.check_output(out, force)  # before any work
    with _console().status("collecting") as st:
        data = report.collect(build_dir, proof_path, input_path, gas=not no_gas,
                              progress=lambda s: st.update(s))
    path = report.write(out, data, force=force)
    for note in data.notes:
        click.echo(f"note: {note}", err=True)
    if data.gas:
        click.echo(f"verify gas {data.gas['total']:,} ({'accepted' if data.gas['accepted'] else 'REJECTED'})")
    if data.proof:
        click.echo(f"proof {data.proof['bytes']:,} bytes")
    click.echo(f"wrote {path}")


@cli.group()
def toolchain() -> None:
    """The npm toolchain (solc-js to compile verifiers, anvil for a local node) outside a clone."""


@toolchain.command("install")
@click.option("--offline", is_flag=True, help="Install from npm's own cache only (no network).")
def toolchain_install(offline: bool) -> None:
    """Install the pinned solc-js and anvil (the clone's package-lock.json) into zkchain's cache with npm ci."""
    from zkchain.evm import toolchain as tc

    with _console().status("npm ci: solc-js, anvil, snarkjs"):
        nm = tc.install(offline=offline)
    click.echo(f"installed into {nm}")
    for name, where in tc.status():
        click.echo(f"{name:8} {where}")


@toolchain.command("status")
def toolchain_status() -> None:
    """Which node, solc-js and anvil zkchain would use (exit 2 if one is missing)."""
    from zkchain.errors import SetupError
    from zkchain.evm import toolchain as tc

    rows = tc.status()
    for name, where in rows:
        click.echo(f"{name:8} {where}")
    missing = [n for n, w in rows if w.startswith("missing")]
    if missing:
        raise SetupError(f"missing: {', '.join(missing)}; run `zkchain toolchain install`")


@cli.group()
def srs() -> None:
    """Public ceremony SRS files: download once, check the published hash, cache."""


@srs.command("get")
@click.option("--power", type=click.IntRange(8, 28), required=True,
              help="log2 of the number of points; `zkchain setup` says which degree a model needs.")
@click.option("--source", type=click.Choice(["hermez"]), default="hermez", show_default=True,
              help="The ceremony (Hermez / Polygon zkEVM Powers of Tau 28: 54 contributions and a beacon).")
@click.option("--mirror", default=None, help="Base URL of a mirror holding the same file names (the published "
                                             "BLAKE2b-512 digest is checked all the same).")
def srs_get(power: int, source: str, mirror: str | None) -> None:
    """Download the ceremony's .ptau of POWER, check its published BLAKE2b-512 digest and cache it; then
    `zkchain setup BUILD --srs hermez:POWER` uses it. Exit 2 for an unreachable server, a truncated download or a
    wrong digest (nothing is cached then)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from zkchain.crypto import ceremony

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=_console(), transient=True) as bar:
        task = bar.add_task(ceremony.file_name(power), total=None)
        path, downloaded = ceremony.fetch(power, source, mirror,
                                          progress=lambda got, total: bar.update(task, completed=got, total=total))
    click.echo(f"{'downloaded and verified' if downloaded else 'already cached (verified when downloaded)'}: {path}")
    click.echo(f"use it with: zkchain setup BUILD_DIR --srs {source}:{power}")


def _bundled_names() -> tuple[str, ...]:
    from zkchain.models import BUNDLED_MODELS

    return BUNDLED_MODELS


@cli.command("demo")
@click.option("--rpc-url", default="embedded", show_default=True, envvar="ZKCHAIN_DEMO_RPC_URL",
              help="Chain to deploy on: `embedded` (in-process eth-tester) or a JSON-RPC URL such as anvil's.")
@click.option("--private-key", envvar="ZKCHAIN_PRIVATE_KEY", default=None, help=_KEY_HELP)
@click.option("--samples", type=click.IntRange(min=1, max=450), default=3, show_default=True,
              help="How many test samples (digits, or text windows for char_gpt) to prove and verify on chain.")
@click.option("--model", "model_name", type=click.Choice(list(_bundled_names())), default="digits_mlp",
              show_default=True, help="Bundled model: the digits MLP, CNN, LeNet-5, the vision transformer "
                                      "digits_vit or the character-level GPT char_gpt (the last two verify on "
                                      "chain through the shared reusable verifier: their own are over EIP-170).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the build, proofs and summary (default: a fresh temporary directory, kept).")
@click.option("--force", is_flag=True, help="Reuse a non-empty --workdir (its demo files are overwritten).")
def demo_cmd(rpc_url: str, private_key: str | None, samples: int, workdir: Path | None, force: bool,
             model_name: str) -> None:
    """Whole pipeline on a bundled model (default the digits MLP): compile, setup, prove test samples, verify in
    Python, generate and deploy the verifier, verify every proof on chain, summary table. Exit 0 iff all
    accepted."""
    from zkchain.app.demo import run_demo

    ok = run_demo(rpc_url=rpc_url, private_key=private_key, samples=samples, workdir=workdir, force=force,
                  model=model_name)
    if not ok:
        raise click.exceptions.Exit(1)


# --- the prover service (serve): zkchain/app/serve.py ---


@cli.command("serve")
@click.argument("build_dirs", metavar="BUILD_DIR...", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Prover processes per SRS pool, each holding 1/N of the SRS (default: as `zkchain prove`, from "
                   "the SRS degree; 1 = in the server process).")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Proofs in flight at once (each on its own thread).")
@click.option("--max-queue", type=click.IntRange(min=0), default=16, show_default=True,
              help="Requests that may wait for a prover; one more is answered 503 with Retry-After.")
@click.option("--max-body", type=click.IntRange(min=1024), default=1 << 20, show_default=True,
              help="Largest request body in bytes; a larger one is answered 413.")
def serve_cmd(build_dirs: tuple[Path, ...], host: str, port: int, workers: int | None, concurrency: int, max_queue: int,
              max_body: int) -> None:
    """Keep the builds' keys and SRS in memory and prove over HTTP until Ctrl-C (docs/serve.md).

    GET /health, GET /models, POST /prove/MODEL with {"input": [...]} or {"input_data": [[...]]}, POST
    /prove-accuracy/MODEL; MODEL is the build directory's name. Answers carry the proof.json document that
    `zkchain verify` reads."""
    import logging

    from zkchain.app.serve import serve

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("zkchain.serve")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        serve(build_dirs, host=host, port=port, workers=workers, max_queue=max_queue, concurrency=concurrency,
              max_body=max_body, echo=lambda line: click.echo(line))
    except OSError as exc:  # the port is taken, or the host is not an address of this machine
        raise ZkchainError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the click group and maps user-facing errors to exit code 2."""
    try:
        rc = cli.main(args=argv, prog_name="zkchain", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(2)
    except click.exceptions.ClickException as exc:  # usage errors: click's own message, exit 2
        exc.show()
        sys.exit(2)
    except ZkchainError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    # Without standalone mode click returns ctx.exit()'s code (e.g. 1 for a rejected proof) instead of raising.
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
