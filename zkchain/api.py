"""The Python API over a build directory (what the CLI calls).

    from zkchain import api
    api.compile("model.onnx", "build/", calibration="calibration.npy")   # = `zkchain compile`
    api.setup("build/")
    proof, info = api.prove("build/", x)                 # x: float array of the model's input shape
    assert api.verify("build/", proof)

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
from zkchain.crypto.srs import DEFAULT_DEV_SEED
from zkchain.errors import InputError, SetupError
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


def compile(model_path, build_dir, calibration=None, config: dict | None = None, force: bool = False,
            quantize_only: bool = False, batch: int = 1) -> CompileResult:
    """``zkchain compile``: import, calibrate and quantize ``model_path`` (``zkchain.quant.compile_model``), check
    that it can be proven — lowered to blocks and its zero-knowledge layout checked, so an operation without a
    block is reported now, with its ONNX node, not at :func:`setup` — and write the artifact into ``build_dir``.

    ``calibration``: ``.npy`` batch, EZKL ``input.json`` or array (None: the bundled or a synthetic set);
    ``config``: quantization settings (``act_bits``, ``weight_bits``, ``table_bits``, ``hide_scales``);
    ``batch``: samples per proof (a batch circuit: every matmul over ``batch`` rows, its weights opened once).
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


def setup(build_dir, srs: str = "dev", public_input: bool = False, force: bool = False) -> VerifyingKey:
    """Lower the compiled model, load the SRS (``"dev"`` = insecure seeded SRS, ``"hermez:<power>"`` = the public
    ceremony file ``zkchain srs get`` cached, or a ``.ptau`` path), commit
    the weights and tables, and write ``vk.json``/``pk.json``/``pk_fixed.npz`` into ``build_dir``.

    Every setup makes a new verifying key (fresh VK masks), so proofs made before and verifiers deployed for the
    old key stop matching: existing keys are replaced only with ``force``.

    Raises :class:`InputError` when keys exist and ``force`` is false, :class:`SetupError` for a missing/too-small
    SRS, :class:`UnsupportedModelError` for ops without a block."""
    from zkchain.crypto.ceremony import resolve

    build_dir = Path(build_dir)
    srs = resolve(srs)  # "hermez:<power>" → the cached, verified ceremony file
    existing = [f for f in KEY_FILES if (build_dir / f).exists()]
    if existing and not force:
        raise InputError(f"{build_dir} already holds keys ({', '.join(existing)}); a new setup makes a new verifying "
                         "key, so earlier proofs and deployed verifiers stop matching: pass --force to replace them")
    model = _load_model(build_dir)
    compiled = lower(model, public_input=public_input)
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


def load_proving_key(build_dir) -> tuple[ProvingKey, object]:
    """The proving key (with its witness plan) and the integer model it was made for.

    Raises :class:`SetupError` when the keys were made for another compile of the model, or predate the
    witness plan."""
    build_dir = Path(build_dir)
    pk = ProvingKey.load(build_dir)
    if pk.witness is None or pk.model_digest != model_digest(build_dir):
        raise SetupError(f"{build_dir}: the keys were made for another compiled model; rerun `zkchain setup`")
    return pk, _load_model(build_dir)


def prove(build_dir, x_float: np.ndarray, workers: int = 1, progress=None) -> tuple[Proof, dict]:
    """Prove one inference on float input ``x_float`` (the model's input shape, or as many values).

    Returns the proof and a summary dict: ``prove_s`` (wall seconds), ``timings`` (seconds per prover stage),
    ``block_timings`` (``[label, seconds]`` per block, :class:`~zkchain.prover.prove.Timings`), ``outputs``
    (dequantized), ``proof_bytes`` (calldata form).
    Raises :class:`InputError` for a wrong shape, NaN/inf, or values outside the calibrated range."""
    pk, model = load_proving_key(build_dir)
    x_int = model.quantize_input(np.asarray(x_float))
    witness = model.execute(x_int)
    values = pk.witness.vector_values(witness)
    tm = Timings()
    t0 = time.perf_counter()
    proof = prove_circuit(pk, values, workers=workers, progress=progress, timings=tm)
    elapsed = time.perf_counter() - t0
    outputs = [model.dequantize_output(witness[o], o).reshape(-1).tolist() for o in model.output_names]
    info = {"prove_s": elapsed, "timings": dict(tm), "block_timings": [list(b) for b in tm.blocks], "outputs": outputs,
            "proof_bytes": len(proof.proof_bytes(pk.circuit))}
    return proof, info


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


def gen_verifier(build_dir, out=None, contract: str | None = None, force: bool = False) -> Verifier:
    """``zkchain gen-verifier``: write the Solidity verifier for ``build_dir``'s key (default
    ``build_dir/Verifier.sol``) after compiling it with solc-js. Raises ``SetupError`` without keys or the solc-js
    toolchain, ``InputError`` if a different file exists and ``force`` is false."""
    from zkchain.evm import deploy

    vk = deploy.load_vk(build_dir)
    source, compiled = deploy.build_verifier(vk, contract)
    path = Path(out) if out else Path(build_dir) / "Verifier.sol"
    status = deploy.write_verifier_source(source, path, force=force)
    return Verifier(path, compiled.name, compiled.runtime_size_bytes, "0x" + vk.digest.hex(), vk.srs_insecure, status)


def read_input(path) -> np.ndarray:
    """One float sample from an EZKL-style ``input.json`` (``input_data[0]``) or an ``.npy`` file.

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
            arr = np.asarray(data[0] if isinstance(data, list) and data and isinstance(data[0], list) else data,
                             dtype=np.float64)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: not an input.json (with input_data) or .npy file: {exc}") from None
    from zkchain.quant.inputs import as_floats

    arr = as_floats(np.asarray(arr), str(path))
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: input contains NaN or infinite values")
    return arr
