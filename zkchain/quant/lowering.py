"""Lowering context: the helpers every ONNX op's integer lowering uses (scales, rescales, weights, tables).

Scale policy (zkPyTorch §3.3; static, symmetric, per-tensor):

* activations: a float tensor whose calibrated max |value| is ``R`` gets scale ``R / (2^(act_bits−1) − 1)``;
  every op whose integer output grows past that range (``linear``, ``conv2d``, ``mul``, sums, additions) is
  followed by a ``rescale`` back to it ("fit").
* weights/constants: scale ``max|W| / (2^(weight_bits−1) − 1)`` (integer constants that already fit keep
  scale 1); biases are quantized at the accumulator scale ``s_x·s_w``.
* a rescale realises the multiplier ``r = s_in/s_out`` as ``M/2^s`` (1 ≤ s ≤ 16, M < 2^24). The output scale
  is *defined* as ``s_in·2^s/M``, so the only error a rescale adds is its rounding (±1/2 unit).
* lookup tables cover ``[−2^(table_bits−1), 2^(table_bits−1) − 1]`` (4096 entries by default), i.e. 4× head
  room above the calibrated activation range (2^(act_bits−1), 512 by default), so inputs somewhat outside
  the calibration range still evaluate.
* ``hide_scales``: every calibrated range and every weight/constant maximum is first rounded *up* to a power of
  two. The circuit (rescale constants, tables, output scales) then depends on the weights only through those
  exponents, so a verifying key does not tell two models whose weights differ by a few percent apart; the cost
  is at most one bit of precision per tensor (``docs/quantization.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from zkchain.errors import UnsupportedModelError
from zkchain.onnx.ir import Graph, Node
from zkchain.quant.model import IntTensor, Table
from zkchain.quant.primitives import RESCALE_LONG_SHIFT, RESCALE_MAX_MULTIPLIER, RESCALE_MAX_SHIFT, IntOp


DEFAULT_CONFIG: dict[str, Any] = {
    "act_bits": 10,  # signed activation width: |a| ≤ 2^9 − 1 on the calibration set
    "weight_bits": 10,  # signed weight / constant width
    "table_bits": 12,  # lookup domains have 2^12 entries
    "acc_bound_log2": 40,  # every intermediate |int| must stay below 2^40 on the calibration set
    "hide_scales": False,  # ranges and weight maxima rounded up to powers of two (the circuit reveals exponents only)
}


def pow2_ceil(v: float) -> float:
    """The smallest power of two ``≥ v`` (``v > 0``)."""
    return float(2.0 ** np.ceil(np.log2(v)))


@dataclass
class QT:
    """An integer tensor during lowering: its name, scale, estimated max |int| and shape."""

    name: str
    scale: float
    bound: float
    shape: tuple[int, ...]


class Lowerer:
    """Accumulates integer ops, tensors and tables while the ONNX graph is walked in topological order."""

    def __init__(self, graph: Graph, stats: dict[str, float], config: dict[str, Any]):
        self.graph = graph
        self.stats = stats
        self.cfg = config
        self.limit = (1 << (config["act_bits"] - 1)) - 1
        self.wlimit = (1 << (config["weight_bits"] - 1)) - 1
        self.ops: list[IntOp] = []
        self.tensors: dict[str, IntTensor] = {}
        self.tables: dict[str, Table] = {}
        self.env: dict[str, QT] = {}
        self._names: set[str] = set()
        # a Softmax input that is a mask over another tensor (Where / additive −inf before a Softmax):
        # name -> (the unmasked tensor, 0/1 keep array); ops.py's Softmax weighs the masked entries 0
        self.softmax_masks: dict[str, tuple[str, Any]] = {}

    # ------------------------------------------------------------------------------------------ naming

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}#{k}"
        self._names.add(name)
        return name

    # ------------------------------------------------------------------------------- inputs and constants

    def q(self, onnx_name: str) -> QT:
        """The integer tensor standing for runtime ONNX tensor ``onnx_name``."""
        return self.env[onnx_name]

    def const(self, onnx_name: str) -> np.ndarray | None:
        """Float value of a constant input (None for runtime tensors and omitted inputs)."""
        if not onnx_name or onnx_name not in self.graph.constants:
            return None
        return np.asarray(self.graph.constants[onnx_name], dtype=np.float64)

    def real_max(self, onnx_name: str) -> float:
        """Calibrated max |value| of an ONNX tensor (1.0 if it was identically zero)."""
        r = float(self.stats.get(onnx_name, 0.0))
        if r <= 0:
            return 1.0
        return pow2_ceil(r) if self.cfg.get("hide_scales") else r

    def act_scale(self, onnx_name: str) -> float:
        return self.real_max(onnx_name) / self.limit

    def quant_const(self, c: np.ndarray, bits: int | None = None, min_scale: float = 0.0) -> tuple[np.ndarray, float]:
        """Symmetric per-tensor quantization of a constant: (int64 array, scale). Integers that fit keep scale 1.

        ``min_scale`` bounds the scale from below (weights that are ~0 next to a real bias must not make the
        accumulator scale, hence the quantized bias, explode)."""
        lim = (1 << ((bits or self.cfg["weight_bits"]) - 1)) - 1
        c = np.asarray(c, dtype=np.float64)
        m = float(np.abs(c).max()) if c.size else 0.0
        if m == 0.0 and min_scale == 0.0:
            return np.zeros(c.shape, dtype=np.int64), 1.0
        if np.all(c == np.round(c)) and m <= lim and min_scale <= 1.0:
            return c.astype(np.int64), 1.0
        s = max(m / lim, min_scale)
        if self.cfg.get("hide_scales"):
            s = pow2_ceil(s * lim) / lim
        return np.floor(c / s + 0.5).astype(np.int64), s

    def weight_scale_floor(self, x_scale: float, bias: np.ndarray | None) -> float:
        """Smallest weight scale that keeps the bias quantized at s_x·s_w below 2^30 in magnitude."""
        b = float(np.abs(bias).max()) if bias is not None and np.size(bias) else 0.0
        return b / (x_scale * 2.0 ** 30) if b > 0 else 0.0

    @staticmethod
    def quant_at(c: np.ndarray, scale: float) -> np.ndarray:
        """Quantize a constant at a given scale: floor(c/scale + 1/2) as int64."""
        return np.floor(np.asarray(c, dtype=np.float64) / scale + 0.5).astype(np.int64)

    # --------------------------------------------------------------------------------------- emitting

    def emit(self, kind: str, inputs: list[QT], params: dict[str, Any], base: str, scale: float, bound: float,
             shape: tuple[int, ...], source: str, aux: str | None = None) -> QT:
        """Append one op; returns the QT of its main output (aux output ``rem``/``idx`` recorded too)."""
        out = self.fresh(base)
        outs = [out]
        self.tensors[out] = IntTensor(out, tuple(shape), float(scale), 0, "activation")
        if aux:
            a = self.fresh(f"{out}:{aux}")
            outs.append(a)
            self.tensors[a] = IntTensor(a, tuple(shape), None, 0, "remainder" if aux == "rem" else "index")
        self.ops.append(IntOp(kind, [t.name for t in inputs], outs, params, source))
        return QT(out, float(scale), float(bound), tuple(shape))

    def requant(self, x: QT, target_scale: float, base: str, source: str) -> QT:
        """Rescale ``x`` to (approximately) ``target_scale``; returns the new QT with its exact scale.

        r = s_in/s_out is realised as M/2^s with s = 16, or longer (up to 32) for a tiny r; only a ratio below
        2^-28 first divides exactly by 2^j (M = 1; x then still has more precision than the output); huge r first
        multiplies by an integer constant, so that M ≥ 2^4 and M < 2^24. One rescale with a longer shift rounds
        once and commits only its quotient and ⌈s/8⌉ remainder limbs, where a division by 2^j first would commit
        and range-check the intermediate too (LeNet-5's first convolution: 4 committed vectors instead of 8).
        """
        r = x.scale / target_scale
        if abs(r - 1.0) < 1e-9:
            return x
        cur = x
        # the output scale is *defined* by M/2^s, so M needs only a few significant bits (its rounding only moves
        # the output range, by < 1/M); pre-divide by a power of two only when even the longest shift leaves M < 2^4
        while r * 2.0 ** RESCALE_LONG_SHIFT < 2.0 ** 4:
            j = min(RESCALE_MAX_SHIFT, max(1, int(np.ceil(np.log2(2.0 ** 4 / (r * 2.0 ** RESCALE_LONG_SHIFT))))))
            cur = self.emit("rescale", [cur], {"M": 1, "s": j}, f"{base}:pre", cur.scale * 2.0 ** j,
                            cur.bound / 2.0 ** j, cur.shape, source, aux="rem")
            r *= 2.0 ** j
        if r >= 2.0 ** 23:
            c = int(r // 2.0 ** 22)
            cur = self.emit("mul_const", [cur], {"c": np.array(c, dtype=np.int64)}, f"{base}:up", cur.scale / c,
                            cur.bound * c, cur.shape, source)
            r /= c
        s = RESCALE_MAX_SHIFT
        while r * 2.0 ** s < 2.0 ** 4:  # a tiny ratio: a longer shift (at most RESCALE_LONG_SHIFT) keeps M ≥ 2^4
            s += 1
        while np.floor(r * 2 ** s) >= RESCALE_MAX_MULTIPLIER and s > 1:
            s -= 1
        M = max(1, int(np.floor(r * 2 ** s)))  # rounding M down keeps the output inside the target range
        return self.emit("rescale", [cur], {"M": M, "s": s}, base, cur.scale * 2 ** s / M, cur.bound * M / 2 ** s,
                         cur.shape, source, aux="rem")

    def fit(self, x: QT, onnx_name: str, base: str, source: str) -> QT:
        """Rescale ``x`` down to the activation scale of ``onnx_name`` if its values would exceed the
        activation range (never rescales up: that adds no information)."""
        target = self.act_scale(onnx_name)
        est = self.real_max(onnx_name) / x.scale
        if est <= self.limit * 1.0001:
            return QT(x.name, x.scale, est, x.shape)
        return self.requant(QT(x.name, x.scale, est, x.shape), target, base, source)

    def align(self, xs: list[QT], base: str, source: str) -> list[QT]:
        """Bring tensors to one common (the finest) scale for add/sub/concat."""
        target = min(x.scale for x in xs)
        return [x if abs(x.scale / target - 1) < 1e-12 else self.requant(x, target, f"{x.name}:aligned", source)
                for x in xs]

    def table(self, x: QT, fn: str, f: Callable[[np.ndarray], np.ndarray], out_scale: float, base: str,
              source: str, lo: int | None = None, size: int | None = None, saturate: int | None = None) -> QT:
        """Elementwise lookup y = T[x − lo] with T[v] = round(f(v·s_x)/out_scale) over the default domain.

        Entries saturate at ±``saturate`` (default 2^(table_bits+1), i.e. 8× the calibrated output range at
        the default widths): NaN (outside the function's domain, e.g. log of a negative) becomes 0."""
        tb = self.cfg["table_bits"]
        lo = -(1 << (tb - 1)) if lo is None else lo
        size = (1 << tb) if size is None else size
        v = np.arange(lo, lo + size, dtype=np.float64)
        with np.errstate(all="ignore"):
            vals = np.floor(np.asarray(f(v * x.scale), dtype=np.float64) / out_scale + 0.5)
        sat = float(saturate if saturate is not None else 1 << (tb + 1))
        vals = np.clip(np.nan_to_num(vals, nan=0.0, posinf=sat, neginf=-sat), -sat, sat).astype(np.int64)
        tname = None
        for name, t in self.tables.items():  # identical tables are stored once
            if t.fn == fn and t.lo == lo and t.size == size and np.array_equal(t.values, vals):
                tname = name
                break
        if tname is None:
            tname = f"{fn}_{len(self.tables)}"
            self.tables[tname] = Table(tname, fn, lo, vals, float(x.scale), float(out_scale))
        t = self.tables[tname]
        bound = float(np.abs(vals).max()) if vals.size else 0.0
        return self.emit("table", [x], {"table": tname, "lo": lo, "hi": t.hi, "values": t.values}, base, out_scale,
                         bound, x.shape, source, aux="idx")

    def value_table(self, x: QT, fn: str, values: np.ndarray, out_scale: float, base: str, source: str) -> QT:
        """``y = values[x]`` for integer ``x`` in ``[0, len(values))`` (an embedding column: rows given, not computed
        from a function); stored once per distinct column."""
        vals = np.asarray(values, dtype=np.int64)
        tname = next((name for name, t in self.tables.items()
                      if t.fn == fn and t.lo == 0 and t.size == len(vals) and np.array_equal(t.values, vals)), None)
        if tname is None:
            tname = f"{fn}_{len(self.tables)}"
            self.tables[tname] = Table(tname, fn, 0, vals, float(x.scale), float(out_scale))
        t = self.tables[tname]
        bound = float(np.abs(vals).max()) if vals.size else 0.0
        return self.emit("table", [x], {"table": tname, "lo": 0, "hi": t.hi, "values": t.values}, base, out_scale,
                         bound, x.shape, source, aux="idx")

    def unsupported(self, node: Node, why: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"node {node.name!r} ({node.op_type}): {why}")

