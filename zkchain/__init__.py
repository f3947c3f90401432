"""zkchain: prove ``y = model(x)`` for an ONNX model with a KZG proof on BN254 and check it on Ethereum.

The Python API mirrors the CLI, one function per verb, each returning a typed result::

    import zkchain
    zkchain.from_torch(net, torch.randn(1, 64), "build/", calibration=cal)  # or zkchain.compile("model.onnx", "build/")
    zkchain.setup("build/")                                   # dev SRS; srs="hermez:16" after `zkchain srs get`
    proved = zkchain.prove("build/", x)                        # Proved(proof, outputs, prove_s, timings, proof_bytes)
    assert zkchain.verify("build/", proved)                   # Verdict(accepted=True)
    zkchain.gen_verifier("build/")                            # api.Verifier(path, contract, runtime_bytes, ...)

Errors: :class:`zkchain.errors.InputError` (bad input, exit 2 in the CLI), ``UnsupportedModelError`` (an op
without a proof block, naming the node), ``SetupError`` (missing keys, SRS or toolchain), ``CalibrationError``.
``zkchain.api`` holds the same steps with plain return values (what the CLI calls).

Pipeline (one sub-package per stage; data flows forward only)::

    onnx/ -> quant/ -> compiler/ -> blocks/ -> prover/ -> verifier/ -> evm/ -> api -> (this package: the facade)

The package itself is the last stage (``docs/architecture.md``): its functions import the stages lazily, so
``import zkchain`` stays cheap, and nothing inside zkchain imports the package root.

See ``docs/protocol.md`` for the proof system and ``README.md`` for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkchain.version import __version__

__all__ = ["compile", "from_torch", "setup", "prove", "prove_accuracy", "verify", "gen_verifier", "Proved", "Accuracy"]


@dataclass(frozen=True)
class Proved:
    """A proof and what it says: ``outputs`` (dequantized floats, one list per model output), ``prove_s`` (wall
    seconds), ``timings`` (seconds per prover stage), ``proof_bytes`` (calldata size)."""

    proof: Any  # zkchain.protocol.proof.Proof
    outputs: list[list[float]]
    prove_s: float
    timings: dict[str, float] = field(default_factory=dict)
    proof_bytes: int = 0

    def save(self, path, build_dir) -> None:
        """Write ``proof.json`` (the format ``zkchain verify`` reads) for ``build_dir``'s verifying key."""
        from zkchain.protocol.vk import VerifyingKey

        self.proof.save(Path(path), VerifyingKey.load(Path(build_dir) / "vk.json"))


def compile(model_path, build_dir, calibration=None, config: dict | None = None, force: bool = False,
            batch: int = 1):
    """``zkchain compile``: quantize ``model_path`` (ONNX) with ``calibration`` (``.npy`` N × input shape, EZKL
    ``input.json`` or an array), check it can be proven, write ``build_dir``. Returns ``api.CompileResult``
    (``model``, ``paths``, ``blocks``). ``config``: ``act_bits``, ``weight_bits``, ``table_bits``, ``hide_scales``;
    ``batch``: samples per proof (``--batch``)."""
    from zkchain import api

    return api.compile(model_path, build_dir, calibration, config, force=force, batch=batch)


def from_torch(module, sample_input, build_dir, calibration=None, config: dict | None = None, force: bool = False):
    """Export a ``torch.nn.Module`` to ONNX (TorchScript exporter, ``dynamo=False``, opset 17; ``sample_input``: a
    tensor of the input shape, batch 1), :func:`compile` it into ``build_dir`` and keep the export there as
    ``model.onnx``. ``calibration``: an array or tensor (N × input shape), or a file as for :func:`compile`. Needs the ``torch`` extra
    (``pip install 'zkchain[torch]'``): raises ``SetupError`` without it."""
    import warnings

    from zkchain.errors import SetupError

    try:
        import torch
    except ImportError:
        raise SetupError("zkchain.from_torch needs torch: pip install 'zkchain[torch]'") from None
    import shutil
    import tempfile

    if calibration is not None and hasattr(calibration, "detach"):
        calibration = calibration.detach().cpu().numpy()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # dynamo=False is deprecated upstream; needs no extra
            torch.onnx.export(module.eval(), sample_input, str(onnx_path), dynamo=False, opset_version=17,
                              input_names=["input"], output_names=["output"])
        res = compile(onnx_path, build_dir, calibration, config, force=force)
        shutil.copy(onnx_path, Path(build_dir) / "model.onnx")  # the exported model, kept with its build
    return res


def setup(build_dir, srs: str = "dev", public_input: bool = False, force: bool = False, dataset=None, labels=None):
    """``zkchain setup``: the proving and verifying keys; returns the ``VerifyingKey``. ``srs``: ``"dev"``
    (INSECURE, tests and demos), ``"hermez:<power>"`` or a ``.ptau`` path. ``dataset``/``labels`` (arrays or
    ``.npy`` paths, N samples for a build compiled with ``batch=N``) commit a test set for :func:`prove_accuracy`."""
    from zkchain import api

    return api.setup(build_dir, srs=srs, public_input=public_input, force=force, dataset=dataset, labels=labels)


@dataclass(frozen=True)
class Accuracy:
    """An accuracy proof and what it says: ``correct`` of ``total`` samples of the committed test set
    ``dataset_digest`` (hex) are classified correctly (ties to the lowest index); ``prove_s``, ``proof_bytes``."""

    proof: Any  # zkchain.protocol.proof.Proof
    correct: int
    total: int
    dataset_digest: str
    prove_s: float
    proof_bytes: int = 0

    def save(self, path, build_dir) -> None:
        """Write the proof file (the format ``zkchain verify`` reads) for ``build_dir``'s verifying key."""
        from zkchain.protocol.vk import VerifyingKey

        self.proof.save(Path(path), VerifyingKey.load(Path(build_dir) / "vk.json"))


def prove_accuracy(build_dir, workers: int = 1) -> Accuracy:
    """``zkchain prove-accuracy``: prove how many samples of the test set committed by ``setup(dataset=, labels=)``
    the private model classifies correctly; returns :class:`Accuracy`. Raises ``InputError`` for a build without a
    committed test set."""
    from zkchain import api

    proof, info = api.prove_accuracy(build_dir, workers=workers)
    return Accuracy(proof, info["correct"], info["total"], info["dataset_digest"], info["prove_s"], info["proof_bytes"])


def prove(build_dir, x, workers: int = 1) -> Proved:
    """``zkchain prove``: prove one inference on float input ``x`` (the model's input shape); returns
    :class:`Proved`. Raises ``InputError`` for a wrong shape, NaN/inf or values outside the calibrated range."""
    import numpy as np

    from zkchain import api

    proof, info = api.prove(build_dir, np.asarray(x), workers=workers)
    return Proved(proof, info["outputs"], info["prove_s"], info["timings"], info["proof_bytes"])


def verify(build_dir, proof):
    """``zkchain verify``: the Python verifier's ``Verdict`` (truthy when accepted) for a :class:`Proved`, a
    ``Proof`` or a ``proof.json`` path."""
    from zkchain import api
    from zkchain.protocol.proof import Proof
    from zkchain.protocol.vk import VerifyingKey

    if isinstance(proof, (Proved, Accuracy)):
        proof = proof.proof
    elif isinstance(proof, (str, Path)):
        proof = Proof.load(Path(proof), VerifyingKey.load(Path(build_dir) / "vk.json"))
    return api.verify(build_dir, proof)


def gen_verifier(build_dir, out=None, contract: str | None = None, force: bool = False, mode: str = "auto"):
    """``zkchain gen-verifier``: write and compile the Solidity verifier, or in reusable mode the model's tape for
    the shared verifier; returns ``api.Verifier`` (path, contract, runtime_bytes, vk_digest, insecure, status,
    mode, model_id, ...). ``mode``: ``auto`` | ``specialised`` | ``reusable``. Raises ``SetupError`` without keys
    or solc-js, ``InputError`` if a different file exists and ``force`` is false."""
    from zkchain import api

    return api.gen_verifier(build_dir, out, contract, force=force, mode=mode)
