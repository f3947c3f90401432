"""The Python API over a build directory (what the CLI calls).

    from zkchain import api
    api.compile("model.onnx", "build/", calibration="calibration.npy")   # = `zkchain compile`
    api.setup("build/")
    proof, info = api.prove("build/", x)                 # x: float array of the model's input shape
    assert api.verify("build/", proof)
    with api.Prover("build/", workers=2) as p:          # keys, SRS shards and workers loaded once
        proofs = [p.prove(x)[0] for x in xs]             # each proof pays only for itself (docs/scale.md)

A build directory holds the compiled integer model (``zkchain compile``), then the keys (``vk.json``,
``pk.json``, ``pk_fixed.npz``) written by :func:`setup`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkchain.compiler.lower import lower
from zkchain.crypto.field import R
from zkchain.crypto.srs import DEFAULT_DEV_SEED
from zkchain.errors import InputError, SetupError, UnsupportedModelError
from zkchain.protocol.vk import VerifyingKey
from zkchain.prover.keys import ProvingKey, load_srs, required_degree
from zkchain.prover.keys import setup as keygen
from zkchain.protocol.proof import Proof
from zkchain.prover.prove import Timings
from zkchain.prover.prove import prove as prove_circuit
from zkchain.verifier.verify import Verdict
from zkchain.verifier.verify import verify as verify_proof

DEV_SEED = DEFAULT_DEV_SEED


def _load_model(build_dir: Path):
    from zkchain.quant.model import load_compiled

    return load_compiled(build_dir)


def model_digest(build_dir) -> str:
    """SHA-256 of the compiled model's files (``quantized.json`` + ``quantized.npz``): the proving key records
    it, so keys are never used with another compile of the model."""
    from zkchain.quant.model import JSON_NAME, NPZ_NAME

    h = hashlib.sha256()
    for name in (JSON_NAME, NPZ_NAME):
        path = Path(build_dir) / name
        if not path.is_file():
            raise InputError(f"{build_dir} holds no compiled model ({name}); run `zkchain compile` first")
        h.update(path.read_bytes())
    return "0x" + h.hexdigest()


KEY_FILES = ("vk.json", "pk.json", "pk_fixed.npz")  # what setup writes into a build directory


@dataclass(frozen=True)
class CompileResult:
    """What :func:`compile` made: the integer model, the files written, and the number of proof blocks (None
    with ``quantize_only``)."""

    model: object
    paths: list[Path]
    blocks: int | None


def _compile_generation(model_path: Path, calibration, config, batch: int, steps: int):
    """Unroll ``model_path`` into its ``steps``-token generation graph and compile that (calibrated like the
    model itself: its inputs are the model's)."""
    import hashlib
    import tempfile

    import onnx

    from zkchain.onnx.generate import unroll
    from zkchain.quant import compile_model

    if batch > 1:
        raise InputError("--generate and --batch do not combine: a generation proof covers one prompt")
    try:
        graph = unroll(onnx.load(str(model_path)), steps)
    except onnx.checker.ValidationError as exc:
        raise UnsupportedModelError(f"--generate: the unrolled graph is not valid ONNX: {exc}") from None
    if calibration is None and (model_path.parent / "calibration.npy").is_file():
        calibration = model_path.parent / "calibration.npy"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{model_path.stem}.generate{steps}.onnx"
        onnx.save(graph, str(path))
        model = compile_model(path, calibration, config)
    model.info.update(model=model_path.parent.name if model_path.stem in ("model", "network") else model_path.stem,
                      source_model=str(model_path), source_sha256=hashlib.sha256(model_path.read_bytes()).hexdigest(),
                      generate=steps)
    return model


def compile(model_path, build_dir, calibration=None, config: dict | None = None, force: bool = False,
            quantize_only: bool = False, batch: int = 1, generate: int = 0) -> CompileResult:
    """``zkchain compile``: import, calibrate and quantize ``model_path`` (``zkchain.quant.compile_model``), check
    that it can be proven — lowered to blocks and its zero-knowledge layout checked, so an operation without a
    block is reported now, with its ONNX node, not at :func:`setup` — and write the artifact into ``build_dir``.

    ``calibration``: ``.npy`` batch, EZKL ``input.json`` or array (None: the bundled or a synthetic set);
    ``config``: quantization settings (``act_bits``, ``weight_bits``, ``table_bits``, ``hide_scales``);
    ``batch``: samples per proof (a batch circuit: every matmul over ``batch`` rows, its weights opened once);
    ``generate``: ``K > 0`` compiles a greedy generation of ``K`` tokens by a next-token model (token ids →
    logits for every position; ``zkchain/onnx/generate.py``): the proof's public output is the ``K`` generated ids.
    Raises :class:`InputError` for a non-empty ``build_dir`` without ``force`` or a missing model,
    :class:`UnsupportedModelError` when the model compiles but cannot be proven (``quantize_only`` writes it
    anyway, for ``predict``), ``CalibrationError``."""
    from zkchain.errors import UnsupportedModelError
    from zkchain.protocol.schedule import schedule
    from zkchain.quant import compile_model, write_compiled

    model_path, build_dir = Path(model_path), Path(build_dir)
    if build_dir.is_dir() and any(build_dir.iterdir()) and not force:  # fail before the (slow) calibration
        raise InputError(f"{build_dir} is not empty (it may hold a previous build); use --force to overwrite")
    if not model_path.is_file():
        raise InputError(f"model file {model_path} does not exist")
    if generate:
        model = _compile_generation(model_path, calibration, config, batch, generate)
    else:
        model = compile_model(model_path, calibration, config, batch=batch)
    blocks = None
    if not quantize_only:
        try:
            circuit = lower(model).circuit
            schedule(circuit)  # the zero-knowledge layout: fails closed where a free coefficient could meet data
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(f"{model_path.name} compiles but cannot be proven: {exc} "
                                        "(--quantize-only writes it anyway, for `predict`)") from None
        blocks = len(circuit.constraints)
    return CompileResult(model, write_compiled(model, build_dir, force=force), blocks)


def read_array(source, what: str) -> np.ndarray:
    """An array given directly or as a ``.npy`` file (no pickles). Raises :class:`InputError` for a missing or
    unreadable file."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{what} file not found: {path}")
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a .npy array ({what}): {exc}") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"{path}: expected a single .npy array ({what}), found an archive")
        return arr
    return np.asarray(source)


def setup(build_dir, srs: str = "dev", public_input: bool = False, force: bool = False, dataset=None,
          labels=None) -> VerifyingKey:
    """Lower the compiled model, load the SRS (``"dev"`` = insecure seeded SRS, ``"hermez:<power>"`` = the public
    ceremony file ``zkchain srs get`` cached, or a ``.ptau`` path), commit
    the weights and tables, and write ``vk.json``/``pk.json``/``pk_fixed.npz`` into ``build_dir``.

    ``dataset`` and ``labels`` (float ``(N, ...)`` samples and ``(N,)`` class indices, arrays or ``.npy`` paths)
    commit a test set instead, for :func:`prove_accuracy`: the build must prove ``N`` samples per proof
    (``compile --batch N``); the quantized samples and the labels become public-data vectors of the circuit,
    committed plainly in the verifying key (``VerifyingKey.dataset_digest`` names them; :func:`check_dataset`
    recomputes it), the logits stay private, and the one public output is the number of correct samples
    (``docs/protocol.md`` §5.11). Range checks are widened to cover the test set's run.

    Every setup makes a new verifying key (fresh VK masks), so proofs made before and verifiers deployed for the
    old key stop matching: existing keys are replaced only with ``force``.

    Raises :class:`InputError` when keys exist and ``force`` is false, for a test set that does not fit the build
    (sample count, shape, labels, a value outside a table's domain), :class:`SetupError` for a missing/too-small
    SRS, :class:`UnsupportedModelError` for ops without a block."""
    from zkchain.crypto.ceremony import resolve

    build_dir = Path(build_dir)
    if (dataset is None) != (labels is None):
        raise InputError("a test set needs both --dataset and --labels")
    if dataset is not None and public_input:
        raise InputError("--public-input does not apply to a committed test set (its samples are public data already)")
    srs = resolve(srs)  # "hermez:<power>" → the cached, verified ceremony file
    existing = [f for f in KEY_FILES if (build_dir / f).exists()]
    if existing and not force:
        raise InputError(f"{build_dir} already holds keys ({', '.join(existing)}); a new setup makes a new verifying "
                         "key, so earlier proofs and deployed verifiers stop matching: pass --force to replace them")
    model = _load_model(build_dir)
    ts = None
    if dataset is not None:
        from zkchain.compiler.accuracy import labelled_set, widen_bounds
        from zkchain.quant.inputs import as_floats

        x = as_floats(read_array(dataset, "dataset"), "dataset")
        ts = labelled_set(model, x, read_array(labels, "labels"))
        try:
            widen_bounds(model, model.execute(ts.x_int))
        except InputError as exc:
            raise InputError(f"the test set does not fit the compiled model: {exc} (recompile with a calibration set "
                             "that covers it)") from None
    compiled = lower(model, public_input=public_input, test_set=ts)
    degree = required_degree(compiled.circuit)
    spec = f"dev:{DEV_SEED}" if srs == "dev" else str(Path(srs).resolve())
    if srs != "dev" and not Path(srs).is_file():
        raise SetupError(f"SRS file not found: {srs}")
    meta = {"public_input": public_input, "model": model.info.get("model", ""),
            "input_shape": list(model.input_shape), "outputs": list(model.output_names)}
    pk = keygen(compiled.circuit, compiled.fixed_values, load_srs(spec, degree), spec, meta=meta)
    pk.witness, pk.model_digest = compiled.witness, model_digest(build_dir)
    pk.save(build_dir)
    return pk.vk


def is_accuracy(vk: VerifyingKey) -> bool:
    """Whether ``vk`` proves accuracy on a committed test set (``setup --dataset``) rather than inferences."""
    return "accuracy" in vk.circuit.meta


@dataclass(frozen=True)
class DatasetCheck:
    """:func:`check_dataset`'s answer: ``match`` iff every recomputed commitment equals the key's; the digests
    (hex) expected by the key and recomputed from the data; ``mismatched`` names the vectors that differ."""

    match: bool
    expected: str
    found: str
    mismatched: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.match


def check_dataset(vk_or_build, dataset, labels, srs: str | None = None) -> DatasetCheck:
    """Recompute the committed test set of an accuracy key from the data a third party expects, with nothing but
    the verifying key (``vk.json``, or a build directory holding one) and the SRS: quantize ``dataset`` with the
    key's input scale (``circuit.meta["accuracy"]``), build the label vectors, commit each plainly and compare with
    the key's commitments and dataset digest. ``srs``: the ``.ptau`` file (or ``hermez:<power>``) of a ceremony key;
    a dev key derives its SRS from its seed.

    Raises :class:`InputError` for a key without a test set or data of the wrong shape, :class:`SetupError` when a
    ceremony key's SRS is not given."""
    from zkchain.compiler.accuracy import DATA_VECTORS, LabelledSet, data_vectors
    from zkchain.crypto import kzg
    from zkchain.crypto.backend import get_backend
    from zkchain.crypto.ceremony import resolve
    from zkchain.crypto.srs import dev_seed
    from zkchain.crypto.transcript import keccak256
    from zkchain.quant.accuracy import check_labels
    from zkchain.quant.inputs import as_floats

    path = Path(vk_or_build)
    vk = VerifyingKey.load(path / "vk.json" if path.is_dir() else path) if isinstance(vk_or_build, (str, Path)) \
        else vk_or_build
    acc = vk.circuit.meta.get("accuracy")
    if acc is None or vk.dataset_digest is None:
        raise InputError("this verifying key commits no test set (made without `setup --dataset`)")
    n, classes = int(acc["samples"]), int(acc["classes"])
    x = as_floats(read_array(dataset, "dataset"), "dataset")
    g = acc.get("input_grid")  # [planes, H, W, ...]: the inputs on a convolution's padded grid
    per = g[0] * g[1] * g[2] // n if g else vk.circuit.vectors[DATA_VECTORS[0]].length // n
    if x.size != n * per:
        raise InputError(f"dataset: expected {n} samples of {per} values, got shape {list(x.shape)}")
    if not np.all(np.isfinite(x)):
        raise InputError("dataset: contains NaN or infinite values")
    x_int = np.floor(x.reshape(n, per) / float(acc["input_scale"]) + 0.5).astype(np.int64)
    values = data_vectors(LabelledSet(x_int, check_labels(read_array(labels, "labels"), n, classes), classes), acc)
    seed = dev_seed(vk.srs_source)
    if seed is None and srs is None:
        raise SetupError(f"the key's SRS is {vk.srs_source!r}: pass its .ptau file (--srs) to recompute commitments")
    longest = max(len(v) for v in values.values())
    spec = f"dev:{seed}" if srs is None else str(Path(resolve(srs)).resolve())
    the_srs = load_srs(spec, longest - 1)
    be = get_backend()
    mine = {nm: be.g1_to_bytes(kzg.commit(the_srs, [v % R for v in vals]))
            for nm, vals in values.items()}
    found = keccak256(b"".join(mine[nm] for nm in DATA_VECTORS))
    bad = tuple(nm for nm in DATA_VECTORS if mine[nm] != vk.fixed_commitments[nm])
    return DatasetCheck(not bad, "0x" + vk.dataset_digest.hex(), "0x" + found.hex(), bad)


def load_proving_key(build_dir) -> tuple[ProvingKey, object]:
    """The proving key (with its witness plan) and the integer model it was made for.

    Raises :class:`SetupError` when the keys were made for another compile of the model, or predate the
    witness plan."""
    build_dir = Path(build_dir)
    pk = ProvingKey.load(build_dir)
    if pk.witness is None or pk.model_digest != model_digest(build_dir):
        raise SetupError(f"{build_dir}: the keys were made for another compiled model; rerun `zkchain setup`")
    return pk, _load_model(build_dir)


class Prover:
    """A warm prover for one build directory: the proving key, the integer model, the SRS and the worker pool
    are loaded once, then :meth:`prove` answers many inputs (what ``zkchain serve`` keeps per model).

    ``workers``: SRS shards, each in its own process (1 = all in this process). ``ray``: the address of a Ray
    cluster (``HOST:PORT`` of its head, or ``"auto"`` to start a local one) whose actors hold shards ``1 …
    workers−1`` instead of spawned processes (``workers ≥ 2``; ``docs/scale.md``). ``pool``: a
    :class:`~zkchain.prover.parallel.ProverPool` to share between several builds made with one SRS (the caller
    closes it; ``workers`` and ``ray`` are then ignored); ``None`` opens one for this prover (closed by
    :meth:`close` / ``with``). ``load_s`` is the seconds spent loading keys, model and SRS.
    Raises :class:`SetupError` for missing or stale keys, without the ``ray`` package or when the Ray cluster
    cannot be reached, :class:`InputError` when ``pool`` holds another SRS or for a malformed Ray address."""

    def __init__(self, build_dir, workers: int = 1, pool=None, ray: str | None = None):
        from zkchain.prover.parallel import ProverPool

        t = time.perf_counter()
        self.build_dir = Path(build_dir)
        self.pk, self.model = load_proving_key(self.build_dir)
        self.accuracy = is_accuracy(self.pk.vk)
        self._own_pool = pool is None
        if pool is None:
            pool = ProverPool(self.pk.srs_spec, self.pk.vk.srs_degree, workers, ray=ray)
        pool.check_serves(self.pk.srs_spec, self.pk.vk.srs_degree)
        self.pool = pool
        self.load_s = time.perf_counter() - t

    def __enter__(self) -> "Prover":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()

    def _prove(self, values, progress) -> tuple[Proof, Timings, float]:
        tm = Timings()
        t0 = time.perf_counter()
        proof = prove_circuit(self.pk, values, progress=progress, timings=tm, pool=self.pool)
        return proof, tm, time.perf_counter() - t0

    def prove(self, x_float: np.ndarray, progress=None) -> tuple[Proof, dict]:
        """Prove one inference on float input ``x_float`` (the model's input shape, or as many values).

        Returns the proof and a summary dict: ``prove_s`` (wall seconds of the proof, the warm part),
        ``timings`` (seconds per prover stage), ``block_timings`` (``[label, seconds]`` per block,
        :class:`~zkchain.prover.prove.Timings`), ``outputs`` (dequantized), ``proof_bytes`` (calldata form).
        Raises :class:`InputError` for a wrong shape, NaN/inf, values outside the calibrated range, or an
        accuracy build (it proves :meth:`prove_accuracy`)."""
        if self.accuracy:
            raise InputError(f"{self.build_dir} proves accuracy on its committed test set: run `zkchain "
                             "prove-accuracy` (or set it up again without --dataset to prove inferences)")
        model = self.model
        x_int = model.quantize_input(np.asarray(x_float))
        witness = model.execute(x_int)
        proof, tm, elapsed = self._prove(self.pk.witness.vector_values(witness), progress)
        outputs = [model.dequantize_output(witness[o], o).reshape(-1).tolist() for o in model.output_names]
        info = {"prove_s": elapsed, "timings": dict(tm), "block_timings": [list(b) for b in tm.blocks],
                "outputs": outputs, "proof_bytes": len(proof.proof_bytes(self.pk.circuit))}
        return proof, info

    def prove_accuracy(self, progress=None) -> tuple[Proof, dict]:
        """Prove how many samples of the committed test set (``setup --dataset``) the model classifies correctly.

        Returns the proof (its one public value, ``proof.public["accuracy"]``, is that count ``k``) and a summary
        dict: ``correct`` (k), ``total`` (N), ``accuracy`` (k/N), ``dataset_digest`` (hex), ``prove_s``,
        ``timings``, ``block_timings``, ``proof_bytes``. Raises :class:`InputError` for a build set up without a
        test set."""
        from zkchain.compiler.accuracy import COUNT, DATASET, dataset_inputs

        pk, model = self.pk, self.model
        if not self.accuracy:
            raise InputError(f"{self.build_dir} commits no test set: run `zkchain setup {self.build_dir} --dataset "
                             "X.npy --labels y.npy --force` first")
        x_int = dataset_inputs(pk.fixed_values[DATASET], pk.circuit.meta["accuracy"])
        witness = model.execute(x_int.reshape(model.input_shape))
        data = {v.name: pk.fixed_values[v.name] for v in pk.circuit.public_data()}
        proof, tm, elapsed = self._prove(pk.witness.vector_values(witness, data), progress)
        k, n = int(proof.public[COUNT][0]), int(pk.circuit.meta["accuracy"]["samples"])
        info = {"correct": k, "total": n, "accuracy": k / n, "dataset_digest": "0x" + pk.vk.dataset_digest.hex(),
                "prove_s": elapsed, "timings": dict(tm), "block_timings": [list(b) for b in tm.blocks],
                "proof_bytes": len(proof.proof_bytes(pk.circuit))}
        return proof, info


def _cold(info: dict, prover: Prover) -> dict:
    """A one-shot proof's summary: its wall time and stage timings include loading keys, model and SRS."""
    info["prove_s"] += prover.load_s
    info["timings"] = {"load keys and SRS": prover.load_s, **info["timings"]}
    return info


def prove(build_dir, x_float: np.ndarray, workers: int = 1, progress=None, ray: str | None = None
          ) -> tuple[Proof, dict]:
    """One proof with a fresh :class:`Prover` (:meth:`Prover.prove`; ``prove_s`` includes loading keys and SRS;
    ``workers`` and ``ray`` as for :class:`Prover`). Raises :class:`InputError` for a wrong shape, NaN/inf, or
    values outside the calibrated range, and as :class:`Prover`."""
    with Prover(build_dir, workers, ray=ray) as prover:
        proof, info = prover.prove(x_float, progress)
    return proof, _cold(info, prover)


def prove_batch(build_dir, x_float: np.ndarray, workers: int = 1, progress=None, ray: str | None = None
                ) -> tuple[Proof, dict]:
    """:func:`prove` for a batch build (``compile --batch N``): ``x_float`` holds the ``N`` samples. The summary adds
    ``rows`` (one dequantized output row per sample, first output) and ``predicted`` (each row's class, ties to the
    lowest index: :mod:`zkchain.quant.accuracy`). Raises :class:`InputError` for another sample count."""
    from zkchain.quant.accuracy import predicted

    proof, info = prove(build_dir, x_float, workers=workers, progress=progress, ray=ray)
    n = int(_load_model(Path(build_dir)).info.get("batch", 1))
    rows = np.asarray(info["outputs"][0], dtype=np.float64).reshape(n, -1)
    return proof, dict(info, rows=rows.tolist(), predicted=predicted(rows).tolist())


def prove_accuracy(build_dir, workers: int = 1, progress=None, ray: str | None = None) -> tuple[Proof, dict]:
    """One accuracy proof with a fresh :class:`Prover` (:meth:`Prover.prove_accuracy`; ``workers`` and ``ray`` as
    for :class:`Prover`). Raises :class:`InputError` for a build set up without a test set, and as :class:`Prover`."""
    with Prover(build_dir, workers, ray=ray) as prover:
        proof, info = prover.prove_accuracy(progress)
    return proof, _cold(info, prover)


def verify(build_dir, proof: Proof) -> Verdict:
    """Verify ``proof`` against the build directory's verifying key. ``Verdict.warning`` says ``INSECURE`` when
    the key uses a dev SRS (anyone can forge proofs for it)."""
    vk = VerifyingKey.load(Path(build_dir) / "vk.json")
    return verify_proof(vk, proof)


@dataclass(frozen=True)
class Verifier:
    """The generated Solidity verifier: where it was written, its contract name, runtime code size (bytes; EIP-170
    caps deployed code at 24,576), the verifying key it checks (hex digest), whether that key uses an INSECURE dev
    SRS, and ``status``: ``"wrote"`` or ``"unchanged"`` (the same text was already there)."""

    path: Path
    contract: str
    runtime_bytes: int
    vk_digest: str
    insecure: bool = False
    status: str = "wrote"
    mode: str = "specialised"  # or "reusable": ``path`` is then the model's tape, ``contract`` the shared verifier
    why: str = ""  # why this mode (``auto`` decides by the specialised verifier's size)
    model_id: str = ""  # reusable: keccak256 of the tape, the model's id at the shared verifier
    tape_bytes: int = 0
    tape_chunks: int = 0


def gen_verifier(build_dir, out=None, contract: str | None = None, force: bool = False,
                 mode: str = "auto") -> Verifier:
    """``zkchain gen-verifier``: write the Solidity verifier for ``build_dir``'s key (default
    ``build_dir/Verifier.sol``) after compiling it with solc-js — or, in ``reusable`` mode, the model's tape
    (default ``build_dir/verifier.tape``), which the shared ``ZkchainReusableVerifier`` runs
    (``docs/evm-verifier.md`` §7). ``mode``: ``auto`` (specialised when its runtime code fits EIP-170 with a
    10 % margin), ``specialised`` or ``reusable``. Raises ``SetupError`` without keys or the solc-js toolchain,
    ``InputError`` for an unknown mode or if a different file exists and ``force`` is false."""
    from zkchain.evm import deploy, reusable

    vk = deploy.load_vk(build_dir)
    compiled = source = None
    if mode != "reusable":
        source, compiled = deploy.build_verifier(vk, contract)
    chosen, why = reusable.choose_mode(vk, mode, compiled)
    digest = "0x" + vk.digest.hex()
    if chosen == "specialised":
        path = Path(out) if out else Path(build_dir) / "Verifier.sol"
        status = deploy.write_verifier_source(source, path, force=force)
        return Verifier(path, compiled.name, compiled.runtime_size_bytes, digest, vk.srs_insecure, status,
                        why=why)
    tape = reusable.record_tape(vk)
    shared = reusable.compile_reusable()
    path = Path(out) if out else Path(build_dir) / reusable.TAPE_FILE
    status = reusable.write_tape(tape, path, force=force)
    return Verifier(path, shared.name, shared.runtime_size_bytes, digest, vk.srs_insecure, status, "reusable", why,
                    "0x" + tape.model_id.hex(), len(tape.data), len(reusable.chunks(tape)))


def read_input(path) -> np.ndarray:
    """One float sample from an EZKL-style ``input.json`` or an ``.npy`` file. ``input_data`` holds one flat list
    per model input; a model with several inputs takes them packed (``importer.pack_inputs``): the lists' values
    in turn, which is what this returns (a flat array) when there are several lists.

    Raises :class:`InputError` for a missing, malformed or non-finite file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            d = json.loads(path.read_text())
            data = d["input_data"] if isinstance(d, dict) else d
            if isinstance(data, list) and len(data) > 1 and all(isinstance(v, list) for v in data):
                arr = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in data])  # several inputs
            else:
                arr = np.asarray(data[0] if isinstance(data, list) and data and isinstance(data[0], list) else data,
                                 dtype=np.float64)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: not an input.json (with input_data) or .npy file: {exc}") from None
    from zkchain.quant.inputs import as_floats

    arr = as_floats(np.asarray(arr), str(path))
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: input contains NaN or infinite values")
    return arr
