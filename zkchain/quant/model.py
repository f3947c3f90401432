"""The compiled (quantized) model artifact: integer tensors, op records, lookup tables; save/load; execution.

On disk (``BUILD_DIR``): ``quantized.json`` (format name, version, config, tensors, ops with scalar params,
tables metadata, calibration and fidelity summaries) and ``quantized.npz`` (every array param and table,
int64 / float64, loaded with ``allow_pickle=False``). Never pickle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkchain.errors import InputError
from zkchain.quant.primitives import IntOp, RangeError, compact, max_abs, run_op

FORMAT = "zkchain-quantized-model"
VERSION = 1
JSON_NAME = "quantized.json"
NPZ_NAME = "quantized.npz"


@dataclass
class IntTensor:
    """An integer tensor of the compiled model.

    Attributes:
        name: unique name (witness key).
        shape: concrete shape.
        scale: real value ≈ int · scale (float); ``None`` for auxiliary witnesses (``rem``, ``idx``).
        bound: calibrated max |int| over the calibration set (Python int).
        role: ``input`` | ``output`` | ``activation`` | ``remainder`` | ``index``.
    """

    name: str
    shape: tuple[int, ...]
    scale: float | None
    bound: int = 0
    role: str = "activation"


@dataclass
class Table:
    """A lookup table: ``values[v − lo]`` for every integer v in the domain [lo, hi] (hi = lo + len − 1).

    ``fn`` names the real function, ``in_scale``/``out_scale`` its scales:
    values[v − lo] = round(fn(v·in_scale)/out_scale) (saturated, see :meth:`Lowerer.table`).
    """

    name: str
    fn: str
    lo: int
    values: np.ndarray
    in_scale: float
    out_scale: float

    @property
    def hi(self) -> int:
        return self.lo + len(self.values) - 1

    @property
    def size(self) -> int:
        return len(self.values)


class Witness(dict):
    """name -> integer ndarray for every tensor of one execution (input, intermediates, remainders, lookup
    indices, outputs), plus ``ops``: the ordered op records that produced them."""

    ops: list[IntOp]


@dataclass
class QuantizedModel:
    """The integer model: what ``zkchain compile`` writes and the prover reads (see :mod:`zkchain.quant.primitives`).

    Attributes:
        input_name / input_shape / input_scale: the single graph input (batch dimension included, normally 1).
        output_names: graph outputs, in ONNX order; their scales are ``tensors[name].scale``.
        tensors: name -> :class:`IntTensor` for every integer tensor.
        ops: ordered :class:`~zkchain.quant.primitives.IntOp` records (execution order).
        tables: name -> :class:`Table` (also referenced from the ``table`` ops' params).
        config: quantization settings (bit widths, accumulator bound, ...).
        info: provenance, calibration and fidelity summaries (JSON-able).
    """

    input_name: str
    input_shape: tuple[int, ...]
    input_scale: float
    output_names: list[str]
    tensors: dict[str, IntTensor]
    ops: list[IntOp]
    tables: dict[str, Table]
    config: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ quantize / execute / dequantize

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        return [self.tensors[o].shape for o in self.output_names]

    @property
    def output_scales(self) -> list[float]:
        return [float(self.tensors[o].scale) for o in self.output_names]

    def quantize_input(self, x_float: np.ndarray) -> np.ndarray:
        """x_int = floor(x/input_scale + 1/2) as int64, shape ``input_shape``.

        Accepts exactly ``input_shape`` or the same number of entries. Raises :class:`InputError` on a wrong
        size or NaN/inf.
        """
        x = np.asarray(x_float, dtype=np.float64)
        size = int(np.prod(self.input_shape))
        if x.size != size:
            n = int((getattr(self, "info", None) or {}).get("batch", 1))
            if n > 1 and x.size % (size // n) == 0:
                raise InputError(f"this build proves {n} samples per proof (compiled with --batch {n}); the input "
                                 f"holds {x.size // (size // n)} (pad the batch or compile with --batch "
                                 f"{x.size // (size // n)})")
            raise InputError(
                f"input has {x.size} values but the model input {self.input_name!r} has shape "
                f"{list(self.input_shape)} ({size} values)"
            )
        if not np.all(np.isfinite(x)):
            raise InputError("input contains NaN or infinite values")
        if (getattr(self, "info", None) or {}).get("input_dtype") == "int64" and not np.all(x == np.round(x)):
            bad = x.reshape(-1)[np.nonzero(x.reshape(-1) != np.round(x.reshape(-1)))[0][0]]
            raise InputError(f"input {self.input_name!r} holds token ids, which must be integers (got {bad:g})")
        return np.floor(x.reshape(self.input_shape) / self.input_scale + 0.5).astype(np.int64)

    def execute(self, x_int: np.ndarray) -> Witness:
        """Run the integer model on one quantized input (shape ``input_shape``).

        Returns the :class:`Witness`: every integer tensor by name (int64 arrays, or Python-int object arrays
        where values can leave ±2^62) and ``ops``. Raises :class:`~zkchain.quant.primitives.RangeError` (an
        :class:`InputError`) if a table input leaves its domain.
        """
        x = np.asarray(x_int)
        if x.shape != tuple(self.input_shape):
            if x.size != int(np.prod(self.input_shape)):
                raise InputError(f"integer input has shape {list(x.shape)}, expected {list(self.input_shape)}")
            x = x.reshape(self.input_shape)
        env = Witness({self.input_name: compact(x)})
        for op in self.ops:
            run_op(op, env)
        env.ops = self.ops
        return env

    def dequantize_output(self, y_int: np.ndarray, output: str | None = None) -> np.ndarray:
        """y_int · scale as float64 (``output``: which graph output; default the first)."""
        name = output or self.output_names[0]
        return np.asarray(y_int).astype(np.float64) * float(self.tensors[name].scale)

    def predict(self, x_float: np.ndarray) -> np.ndarray:
        """Quantize one sample, execute, dequantize: flat float64 vector of all outputs concatenated."""
        w = self.execute(self.quantize_input(x_float))
        return np.concatenate([self.dequantize_output(w[o], o).ravel() for o in self.output_names])

    def op_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for op in self.ops:
            out[op.kind] = out.get(op.kind, 0) + 1
        return out

    # ---------------------------------------------------------------------------------------- save / load

    def save(self, build_dir: str | Path) -> list[Path]:
        """Write ``quantized.json`` and ``quantized.npz`` into ``build_dir`` (created). Returns the paths."""
        d = Path(build_dir)
        d.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}

        def enc(v: Any, key: str) -> Any:
            if isinstance(v, np.ndarray):
                arr = v if v.dtype != object else v.astype(np.int64)
                arrays[key] = arr
                return {"npz": key, "dtype": str(arr.dtype), "shape": list(arr.shape)}
            if isinstance(v, (np.integer,)):
                return int(v)
            if isinstance(v, (np.floating,)):
                return float(v)
            if isinstance(v, tuple):
                return list(v)
            return v

        ops = []
        for i, op in enumerate(self.ops):
            params = {}
            for k, v in op.params.items():
                if op.kind == "table" and k == "values":
                    continue  # stored once with the table
                params[k] = enc(v, f"op{i}.{k}")
            ops.append({"kind": op.kind, "inputs": op.inputs, "outputs": op.outputs, "params": params,
                        "source": op.source})
        tables = {}
        for name, t in self.tables.items():
            tables[name] = {"fn": t.fn, "lo": t.lo, "hi": t.hi, "size": t.size, "in_scale": t.in_scale,
                            "out_scale": t.out_scale, "values": enc(t.values.astype(np.int64), f"table.{name}")}
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "input": {"name": self.input_name, "shape": list(self.input_shape), "scale": self.input_scale},
            "outputs": [{"name": o, "shape": list(self.tensors[o].shape), "scale": self.tensors[o].scale}
                        for o in self.output_names],
            "config": self.config,
            "tensors": [dict(asdict(t), shape=list(t.shape)) for t in self.tensors.values()],
            "ops": ops,
            "tables": tables,
            "info": self.info,
        }
        jpath, npath = d / JSON_NAME, d / NPZ_NAME
        jpath.write_text(json.dumps(doc, indent=1) + "\n")
        with open(npath, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return [jpath, npath]


def load_compiled(build_dir: str | Path) -> QuantizedModel:
    """Load the artifact written by :meth:`QuantizedModel.save` / ``zkchain compile``.

    Raises :class:`InputError` if the directory has no artifact, or it is corrupt or of another version.
    """
    d = Path(build_dir)
    jpath, npath = d / JSON_NAME, d / NPZ_NAME
    if not jpath.is_file() or not npath.is_file():
        raise InputError(f"{d} holds no compiled model ({JSON_NAME} + {NPZ_NAME}); run `zkchain compile` first")
    try:
        doc = json.loads(jpath.read_text())
        npz = np.load(npath, allow_pickle=False)
        arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise InputError(f"compiled model in {d} is corrupt: {exc}") from None
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise InputError(f"{jpath} is not a {FORMAT} v{VERSION} artifact "
                         f"(found {doc.get('format')} v{doc.get('version')})")

    def dec(v: Any) -> Any:
        if isinstance(v, dict) and "npz" in v:
            try:
                return arrays[v["npz"]]
            except KeyError:
                raise InputError(f"compiled model in {d} is corrupt: array {v['npz']} missing") from None
        return v

    tables = {
        name: Table(name, t["fn"], int(t["lo"]), dec(t["values"]), float(t["in_scale"]), float(t["out_scale"]))
        for name, t in doc["tables"].items()
    }
    ops = []
    for o in doc["ops"]:
        params = {k: dec(v) for k, v in o["params"].items()}
        if o["kind"] == "table":
            params["values"] = tables[params["table"]].values
        ops.append(IntOp(o["kind"], list(o["inputs"]), list(o["outputs"]), params, o.get("source", "")))
    tensors = {
        t["name"]: IntTensor(t["name"], tuple(t["shape"]), t["scale"], int(t["bound"]), t["role"])
        for t in doc["tensors"]
    }
    return QuantizedModel(
        input_name=doc["input"]["name"],
        input_shape=tuple(doc["input"]["shape"]),
        input_scale=float(doc["input"]["scale"]),
        output_names=[o["name"] for o in doc["outputs"]],
        tensors=tensors,
        ops=ops,
        tables=tables,
        config=doc["config"],
        info=doc.get("info", {}),
    )


__all__ = ["IntTensor", "Table", "Witness", "QuantizedModel", "load_compiled", "RangeError", "max_abs"]
