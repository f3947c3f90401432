"""Real-data models bundled with zkchain (scikit-learn's 8x8 digits; made by ``scripts/train_digits.py``).

Each model lives in its own folder next to this file::

    model.onnx        ONNX opset 17, float32, static batch 1, input "input", output "output" (10 logits)
    calibration.npy   float32 (200, *input_shape[1:]) training samples, for choosing quantisation scales
    test_inputs.npy   float32 (450, *input_shape[1:]) the whole held-back test split
    test_labels.npy   int64 (450,) its labels
    input.json        one test sample in EZKL's format (input_data / input_shapes / output_data)
    meta.json         input shape, float test accuracy, split, seed, torch version, date, how to retrain

Example::

    from zkchain.models import bundled_model_dir
    onnx_path = bundled_model_dir("digits_mlp") / "model.onnx"

Torch is not needed to use these files, only to retrain them (``pip install -e '.[torch]'``).
"""

from __future__ import annotations

from pathlib import Path

from zkchain.errors import InputError

__all__ = ["BUNDLED_MODELS", "bundled_model_dir", "ezkl_corpus_dir", "CORPUS_ENV"]

#: Names accepted by :func:`bundled_model_dir`, smallest model first.
BUNDLED_MODELS: tuple[str, ...] = ("digits_mlp", "digits_cnn", "lenet5", "digits_vit", "char_gpt")

_HERE = Path(__file__).resolve().parent


def bundled_model_dir(name: str) -> Path:
    """Return the folder holding the bundled model ``name`` (one of :data:`BUNDLED_MODELS`).

    Raises :class:`zkchain.errors.InputError` naming the available models if ``name`` is unknown, or if
    the package was installed without its data files.
    """
    if name not in BUNDLED_MODELS:
        raise InputError(f"unknown bundled model {name!r}; available: {', '.join(BUNDLED_MODELS)}")
    path = _HERE / name
    if not (path / "model.onnx").is_file():
        raise InputError(f"bundled model {name!r} is missing its files under {path} (broken installation?)")
    return path


#: Environment variable naming the EZKL example corpus (folders with ``network.onnx`` and ``input.json``).
CORPUS_ENV = "ZKCHAIN_EZKL_CORPUS"
_CORPUS_PLACES = (_HERE.parents[2].parent / "shared" / "conformance" / "ezkl-examples",  # beside the clone
                  Path("/work/shared/conformance/ezkl-examples"))                      # the workplace's copy


def ezkl_corpus_dir() -> Path | None:
    """The EZKL example corpus the conformance tests and ``benchmarks/corpus_onchain.py`` use (not shipped):
    ``$ZKCHAIN_EZKL_CORPUS``, else ``../shared/conformance/ezkl-examples`` beside the clone, else the workplace's
    copy; None when none of them is a folder (tests then skip, naming :data:`CORPUS_ENV`)."""
    import os

    env = os.environ.get(CORPUS_ENV)
    for p in ([Path(env)] if env else []) + list(_CORPUS_PLACES):
        if p.is_dir():
            return p
    return None


def corpus_missing_reason() -> str:
    """The skip reason when :func:`ezkl_corpus_dir` finds nothing."""
    return (f"EZKL example corpus not found (set {CORPUS_ENV}=/path/to/ezkl-examples, or put "
            f"shared/conformance/ezkl-examples beside the clone)")
