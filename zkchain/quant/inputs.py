"""Reading model inputs: ``.npy`` batches and EZKL-style ``input.json`` files (or the same JSON document received
some other way, e.g. a ``zkchain serve`` request body), validated against the model's input.

Every reader returns a float64 array of shape ``(N, *input_shape)`` (one row per sample, each row exactly the
model's input shape, batch dimension included) or raise :class:`~zkchain.errors.InputError` with one clear
message (unreadable file, wrong shape/length, NaN/inf).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zkchain.errors import InputError


def as_floats(arr: np.ndarray, source: str) -> np.ndarray:
    """``arr`` as float64; :class:`InputError` naming ``source`` unless it holds numbers (strings, objects)."""
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{source}: expected numbers, found dtype {arr.dtype}")
    return arr.astype(np.float64)


def _as_samples(arr: np.ndarray, input_shape: tuple[int, ...], source: str) -> np.ndarray:
    shape = tuple(input_shape)
    size = int(np.prod(shape))
    arr = as_floats(arr, source)
    if arr.shape == shape:
        out = arr.reshape((1,) + shape)
    elif arr.ndim == len(shape) and shape[0] == 1 and arr.shape[1:] == shape[1:]:
        out = arr.reshape((arr.shape[0],) + shape)  # N × (input shape without its batch-1 dim)
    elif arr.shape[1:] == shape:
        out = arr
    elif arr.ndim == 2 and arr.shape[1] == size:
        out = arr.reshape((arr.shape[0],) + shape)
    elif arr.ndim == 1 and arr.size == size:
        out = arr.reshape((1,) + shape)
    else:
        raise InputError(
            f"{source}: array of shape {list(arr.shape)} does not match the model input shape {list(shape)} "
            f"(expected N × {list(shape[1:]) if shape[0] == 1 else list(shape)})"
        )
    if out.shape[0] == 0:
        raise InputError(f"{source}: no samples")
    if not np.all(np.isfinite(out)):
        bad = int(np.argwhere(~np.isfinite(out.reshape(out.shape[0], -1)))[0][0])
        raise InputError(f"{source}: sample {bad} contains NaN or infinite values")
    return out


def read_npy(path: str | Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """Load an ``.npy`` batch (N × input shape, or one sample) as float64 ``(N, *input_shape)``."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise InputError(f"cannot read {path} as a .npy array: {exc}") from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"{path}: expected a single .npy array, found an archive")
    return _as_samples(arr, input_shape, str(path))


def read_input_json(path: str | Path, input_shape: tuple[int, ...], parts: int = 1) -> np.ndarray:
    """Load an EZKL-style ``input.json`` (``{"input_data": [[...flat values...]]}``) as ``(N, *input_shape)``.

    ``input_data[0]`` may hold several samples back to back (length a multiple of the input size). A model with
    ``parts`` > 1 inputs (packed into one, ``importer.pack_inputs``) takes one list per input, in ONNX order.
    """
    try:
        doc = json.loads(Path(path).read_text())
    except Exception as exc:
        raise InputError(f"cannot read {path} as JSON: {exc}") from None
    return samples_from_json(doc, input_shape, str(path), parts)


def _interleave(lists: list, parts: int, size: int, source: str) -> np.ndarray:
    """EZKL's ``input_data`` of a model with ``parts`` inputs (one flat list each, ``N`` samples back to back in
    every list) as ``N`` packed samples of ``size`` values: each sample's values of every input in turn."""
    if len(lists) != parts:
        raise InputError(f"{source}: 'input_data' holds {len(lists)} input(s) but the model has {parts}")
    try:
        flats = [np.asarray(v, dtype=np.float64).ravel() for v in lists]
    except (TypeError, ValueError):
        raise InputError(f"{source}: 'input_data' must contain only numbers") from None
    total = sum(f.size for f in flats)
    n = total // size if size and total % size == 0 else 0
    if n == 0 or any(f.size % n for f in flats):
        raise InputError(f"{source}: 'input_data' has {[f.size for f in flats]} values for the model's {parts} "
                         f"inputs; they need {size} values per sample in all")
    return np.concatenate([f.reshape(n, -1) for f in flats], axis=1)


def samples_from_json(doc, input_shape: tuple[int, ...], source: str, parts: int = 1) -> np.ndarray:
    """The samples of a parsed JSON input document as float64 ``(N, *input_shape)``: EZKL-style
    ``{"input_data": [[...flat values...]]}`` (as :func:`read_input_json`; one list per input when the model has
    ``parts`` > 1 inputs), or ``{"input": values}`` with ``values`` nested to the input shape, ``N ×`` it, or flat
    (one sample or several back to back; the packed values of every input in turn when there are several).

    Raises :class:`InputError` naming ``source`` for another document, non-numbers, a ragged list, a length that
    is not a whole number of samples, or NaN/inf (JSON has no NaN, but Python's reader accepts ``NaN``)."""
    size = int(np.prod(input_shape))
    if isinstance(doc, dict) and "input" in doc and "input_data" not in doc:
        try:
            arr = np.asarray(doc["input"])
        except (TypeError, ValueError):
            raise InputError(f"{source}: 'input' is not a rectangular list of numbers") from None
        if arr.dtype == object:  # None, a ragged list, or a non-list value numpy would not make numbers of
            raise InputError(f"{source}: 'input' must be a rectangular list of numbers")
        if arr.ndim == 1 and arr.size and arr.size % size == 0:
            arr = arr.reshape((arr.size // size,) + tuple(input_shape))  # flat: samples back to back
        return _as_samples(arr, input_shape, source)
    if not isinstance(doc, dict) or "input_data" not in doc:
        raise InputError(f"{source}: expected a JSON object with an 'input_data' field (EZKL input format)"
                         " or an 'input' field")
    data = doc["input_data"]
    if not isinstance(data, list) or not data:
        raise InputError(f"{source}: 'input_data' must be a non-empty list")
    if not isinstance(data[0], list):
        data = [data]
    if parts > 1:
        packed = _interleave(data, parts, size, source)
        return _as_samples(packed.reshape((packed.shape[0],) + tuple(input_shape)), input_shape, source)
    if len(data) != 1:
        raise InputError(f"{source}: 'input_data' holds {len(data)} inputs but the model has 1 input")
    try:
        flat = np.asarray(data[0], dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{source}: 'input_data' must contain only numbers") from None
    if flat.size == 0 or flat.size % size:
        raise InputError(
            f"{source}: 'input_data' has {flat.size} values; the model input {list(input_shape)} needs {size} per sample"
        )
    return _as_samples(flat.reshape((flat.size // size,) + tuple(input_shape)), input_shape, source)


def read_samples(path: str | Path, input_shape: tuple[int, ...], parts: int = 1) -> np.ndarray:
    """Dispatch on the file: ``.npy`` -> :func:`read_npy` (several inputs: their values packed in turn), ``.json``
    -> :func:`read_input_json` (one ``input_data`` list per input)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input file {p} does not exist")
    if p.suffix.lower() == ".npy":
        return read_npy(p, input_shape)
    if p.suffix.lower() == ".json":
        return read_input_json(p, input_shape, parts)
    raise InputError(f"{p}: unknown input format (expected .npy or EZKL-style .json)")
