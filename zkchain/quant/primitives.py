"""The integer primitives: the contract between the quantizer and the prover.

A compiled (quantized) model is an ordered list of :class:`IntOp` records over named integer tensors. Every
record's ``kind`` is one of the primitives below, with exact semantics over Python integers (the numpy code
here is the reference; it switches from ``int64`` to Python-int object arrays whenever a value could leave
±2^62). The prover lowers each record to proof blocks; the witness it proves is what :func:`run_op` writes.

Notation: tensors are numpy arrays of integers, shapes are concrete, broadcasting is numpy's. ``floor`` is
the mathematical floor (Python ``//``, arithmetic shift ``>>``). All params are Python ints or int64 arrays.

=============  ======================================  ================================================
kind           inputs -> outputs                       semantics (params)
=============  ======================================  ================================================
``linear``     x (m×k) -> y (m×n)                      y[b,j] = Σ_l x[b,l]·W[l,j] + bias[j]   (W k×n, bias n)
``conv2d``     x (N×C×H×W) -> y (N×OC×OH×OW)           y[n,o,i,j] = bias[o] + Σ_{c,u,v} W[o,c,u,v]·xp[n,g(o)·C/G+c, i·sh+u, j·sw+v]
                                                       with xp = x zero-padded by ``pads`` = [top, left, bottom, right],
                                                       ``strides`` = [sh, sw], ``group`` = G, W (OC × C/G × kh × kw)
``rescale``    x -> y, rem                             y = floor((M·x + 2^(s−1)) / 2^s),
                                                       rem = M·x + 2^(s−1) − 2^s·y,  0 ≤ rem < 2^s
                                                       (``M``: 1 ≤ M < 2^24, ``s``: 1 ≤ s ≤ 16)
``table``      x -> y, idx                             idx = x − lo (must satisfy 0 ≤ idx < len(values)),
                                                       y = values[idx]   (``table`` name, ``lo``, ``hi``, ``values``)
``add``        a, b -> y                               y = a + b   (same scale; numpy broadcasting)
``sub``        a, b -> y                               y = a − b
``add_const``  x -> y                                  y = x + c   (``c`` int array, broadcastable to x)
``mul_const``  x -> y                                  y = x · c   (``c`` int array, broadcastable to x)
``mul``        a, b -> y                               y = a · b   (elementwise; always followed by a rescale)
``matmul``     a (T×k), b (k×n) -> y (T×n)              y = a @ b   (two activations; always followed by a rescale)
``sum``        x -> y                                  y = Σ over ``axes`` of x, dims kept (size 1)
``sumpool``    x (N×C×H×W) -> y                        y[n,c,i,j] = Σ_{u<kh,v<kw} xp[n,c,i·sh+u,j·sw+v] (zero padding ``pads``;
                                                       average pooling = sumpool then rescale by 1/(kh·kw))
``maxpool``    x (N×C×H×W) -> y                        y[n,c,i,j] = max over the window's entries that lie inside x
                                                       (``kernel`` [kh,kw], ``strides``, ``pads`` [top,left,bottom,right])
``max``        x -> y                                  y = max over ``axis`` (last axis for Softmax), dim kept
``argmax``     x -> y                                  y = index of the largest entry over ``axis`` (the last), the
                                                       lowest index on a tie (numpy.argmax), dim kept
``concat``     x1..xn -> y                             numpy concatenate along ``axis`` (all at one scale)
``reshape``    x -> y                                  same entries, row-major order, new ``shape``
``transpose``  x -> y                                  y = x.transpose(``perm``)
``take``       x -> y                                  y = np.take(x, ``indices``, ``axis``) (constant indices, kept as one
                                                       axis of ``len(indices)`` positions; a reshape follows)
``slice``      x -> y                                  y = x[starts[a] :: steps[a]] on every axis ``a``, ``shape`` entries
                                                       (``steps`` ≥ 1)
``expand``     x -> y                                  y = np.broadcast_to(x, ``shape``) (x's shape aligned right)
``tile``       x -> y                                  y = np.tile(x, ``reps``) (one repetition count per axis)
``pad``        x -> y                                  y = x with zeros added: ``pads`` = [begin_0.., end_0..] ≥ 0, and
                                                       ``strides``[a] − 1 zeros between neighbours on axis a (default 1:
                                                       none; a transposed convolution's dilated input)
``upsample``   x -> y                                  y[.., i, ..] = x[.., i // f, ..] on every axis (``factors`` f ≥ 1;
                                                       nearest-neighbour upsampling)
``trilu``      x -> y                                  y = np.triu(x, ``k``) if ``upper`` else np.tril(x, ``k``) (last
                                                       two axes; the other entries 0)
=============  ======================================  ================================================

Scales (zkPyTorch §3.3, static symmetric per-tensor quantization): each integer tensor t stands for the real
tensor ``t_int · scale_t``. ``linear``/``conv2d``/``mul``/``mul_const`` multiply scales (bias is quantized at
s_x·s_w); a ``rescale`` maps scale s to s·2^s/M; ``table`` maps scale s_in to the table's output scale;
everything else keeps the scale. Auxiliary witness tensors (``rem`` of a rescale, ``idx`` of a table) have no
scale. The prover must range-check ``rem`` ∈ [0, 2^s) and ``idx`` through the table lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from zkchain.errors import InputError

KINDS = (
    "linear", "conv2d", "rescale", "table", "add", "sub", "add_const", "mul_const", "mul", "matmul",
    "sum", "sumpool", "maxpool", "max", "argmax", "concat", "reshape", "transpose", "slice", "take",
    "expand", "tile", "pad", "upsample", "trilu",
)
RESCALE_MAX_SHIFT = 16
RESCALE_LONG_SHIFT = 32  # a tiny ratio takes a longer shift (more remainder limbs) rather than a second rescale
RESCALE_MAX_MULTIPLIER = 1 << 24
_INT64_SAFE = 1 << 62


@dataclass
class IntOp:
    """One integer primitive application.

    Attributes:
        kind: one of :data:`KINDS`.
        inputs: names of the integer tensors read (in order).
        outputs: names written; ``rescale`` writes ``[y, rem]``, ``table`` writes ``[y, idx]``, others ``[y]``.
        params: kind-specific parameters (Python ints, lists of ints, or int64 numpy arrays), see the module table.
        source: name of the ONNX node this op was lowered from (for messages and debugging).
    """

    kind: str
    inputs: list[str]
    outputs: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""


class RangeError(InputError):
    """An integer value left the range the compiled model was calibrated for (e.g. outside a table domain)."""


# ---------------------------------------------------------------------------------------------------- helpers


def max_abs(a: np.ndarray) -> int:
    """max |a| as a Python int (0 for empty arrays); exact for int64 and object arrays."""
    if a.size == 0:
        return 0
    if a.dtype == object:
        return max(abs(int(v)) for v in a.flat)
    return max(abs(int(a.max())), abs(int(a.min())))


def compact(a: np.ndarray) -> np.ndarray:
    """Return ``a`` as int64 if every entry fits comfortably (|v| < 2^62), else as a Python-int object array."""
    a = np.asarray(a)
    if a.dtype == object:
        return a.astype(np.int64) if max_abs(a) < _INT64_SAFE else a
    if a.dtype != np.int64:
        a = a.astype(np.int64)
    return a


def _wide(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(a).astype(object) for a in arrays]


def _pad_nchw(x: np.ndarray, pads: list[int], value: Any) -> np.ndarray:
    t, l, b, r = pads
    if not any(pads):
        return x
    if x.dtype == object:  # np.pad fills object arrays with np.int64 values, which overflow against wide ints
        out = np.full((x.shape[0], x.shape[1], x.shape[2] + t + b, x.shape[3] + l + r), int(value), dtype=object)
        out[:, :, t:t + x.shape[2], l:l + x.shape[3]] = x
        return out
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(xp: np.ndarray, kernel: list[int], strides: list[int]) -> np.ndarray:
    """(N, C, OH, OW, kh, kw) view of the sliding windows of a padded NCHW tensor."""
    v = np.lib.stride_tricks.sliding_window_view(xp, tuple(kernel), axis=(2, 3))
    return v[:, :, :: strides[0], :: strides[1]]


# ------------------------------------------------------------------------------------------------- primitives


def linear(x: np.ndarray, W: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """y = x @ W + bias. x (m×k), W (k×n), bias (n) integers; y (m×n)."""
    k = W.shape[0]
    if max_abs(x) * max_abs(W) * max(k, 1) + max_abs(bias) < _INT64_SAFE and x.dtype != object:
        return x.astype(np.int64) @ W.astype(np.int64) + bias.astype(np.int64)
    xw, Ww, bw = _wide(x, W, bias)
    return compact(xw @ Ww + bw)


def conv2d(x: np.ndarray, W: np.ndarray, bias: np.ndarray, strides: list[int], pads: list[int],
           group: int) -> np.ndarray:
    """NCHW 2-D convolution with zero padding (see module table). Returns (N, OC, OH, OW)."""
    oc, cg, kh, kw = W.shape
    wide = not (max_abs(x) * max_abs(W) * cg * kh * kw + max_abs(bias) < _INT64_SAFE and x.dtype != object)
    if wide:
        x, W, bias = _wide(x, W, bias)
    else:
        x, W, bias = x.astype(np.int64), W.astype(np.int64), bias.astype(np.int64)
    xp = _pad_nchw(x, pads, 0)
    win = _windows(xp, [kh, kw], strides)  # N, C, OH, OW, kh, kw
    n, _, oh, ow = win.shape[:4]
    ocg = oc // group
    outs = []
    for g in range(group):
        cols = win[:, g * cg:(g + 1) * cg]  # N, cg, OH, OW, kh, kw
        cols = np.moveaxis(cols, 1, 3).reshape(n, oh, ow, cg * kh * kw)
        wg = W[g * ocg:(g + 1) * ocg].reshape(ocg, cg * kh * kw)
        outs.append(np.moveaxis(cols @ wg.T, 3, 1))  # N, ocg, OH, OW
    y = np.concatenate(outs, axis=1) + bias.reshape(1, oc, 1, 1)
    return compact(y)


def rescale(x: np.ndarray, M: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, rem) with y = floor((M·x + 2^(s−1))/2^s), rem = M·x + 2^(s−1) − 2^s·y ∈ [0, 2^s)."""
    half = 1 << (s - 1)
    if x.dtype != object and max_abs(x) * M + half < _INT64_SAFE:
        t = x.astype(np.int64) * M + half
        y = t >> s
        return y, t - (y << s)
    t = x.astype(object) * M + half
    y = t >> s
    return compact(y), compact(t - (y << s))


def table(x: np.ndarray, lo: int, values: np.ndarray, tensor: str = "?", name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(y, idx) with idx = x − lo and y = values[idx]; raises :class:`RangeError` if some x is outside [lo, hi]
    (for an embedding table, ``name`` ``embedding_*``: a token id outside the vocabulary)."""
    hi = lo + len(values) - 1
    if x.size:
        xmin, xmax = int(x.min()), int(x.max())
        if (xmin < lo or xmax > hi) and name.startswith("embedding"):
            raise RangeError(f"token id {xmin if xmin < lo else xmax} is outside the vocabulary [0, {hi + 1}) of the "
                             f"embedding read by {tensor!r}")
        if xmin < lo or xmax > hi:
            raise RangeError(
                f"tensor {tensor!r} has value {xmin if xmin < lo else xmax} outside its lookup-table domain "
                f"[{lo}, {hi}]: the input lies far outside the calibration range (recompile with calibration data "
                "that covers it)"
            )
    idx = x.astype(np.int64) - lo
    return values[idx].astype(np.int64), idx


def sumpool(x: np.ndarray, kernel: list[int], strides: list[int], pads: list[int]) -> np.ndarray:
    """Window sums of an NCHW tensor with zero padding."""
    win = _windows(_pad_nchw(x, pads, 0), kernel, strides)
    return compact(win.sum(axis=(4, 5)))


def maxpool(x: np.ndarray, kernel: list[int], strides: list[int], pads: list[int]) -> np.ndarray:
    """Window maxima of an NCHW tensor over the entries inside x (padding never wins)."""
    sentinel = int(x.min()) - 1 if x.size else 0
    win = _windows(_pad_nchw(x, pads, sentinel), kernel, strides)
    return compact(win.max(axis=(4, 5)))


# ------------------------------------------------------------------------------------------------ dispatcher


def _pad_widths(pads: list[int], rank: int) -> list[tuple[int, int]]:
    """ONNX ``pads`` ([begin of every axis, then end of every axis], each ≥ 0) as numpy's pad widths."""
    if len(pads) != 2 * rank or min(pads, default=0) < 0:
        raise ValueError(f"pads {pads} for a rank-{rank} tensor")
    return [(int(pads[a]), int(pads[a + rank])) for a in range(rank)]


def zero_pad(x: np.ndarray, pads: list[int], strides: list[int] | None = None) -> np.ndarray:
    """``x`` spread ``strides`` apart (zeros between) and zero-padded by ``pads`` (ONNX order: every axis's begin,
    then every axis's end); the ``pad`` primitive, and ONNX Pad's float semantics (``quant/ops.py``)."""
    widths = _pad_widths(pads, x.ndim)
    strides = [1] * x.ndim if strides is None else [int(s) for s in strides]
    shape = [b + (d - 1) * s + 1 + e if d else b + e for (b, e), d, s in zip(widths, x.shape, strides)]
    y = np.zeros(shape, dtype=x.dtype)
    y[tuple(slice(b, b + (d - 1) * s + 1, s) for (b, _), d, s in zip(widths, x.shape, strides))] = x
    return y


def upsample_nearest(x: np.ndarray, factors: list[int]) -> np.ndarray:
    """Every entry repeated ``factors[a]`` times along axis ``a`` (nearest-neighbour upsampling): the ``upsample``
    primitive, and Resize/Upsample's float semantics (``quant/ops.py``)."""
    for a, f in enumerate(factors):
        x = np.repeat(x, int(f), axis=a)
    return np.ascontiguousarray(x)


def _binary(f: Callable[[Any, Any], Any]) -> Callable[[IntOp, list[np.ndarray]], list[np.ndarray]]:
    def run(op: IntOp, xs: list[np.ndarray]) -> list[np.ndarray]:
        a, b = xs
        if a.dtype == object or b.dtype == object or max_abs(a) + max_abs(b) >= _INT64_SAFE >> 1:
            a, b = _wide(a, b)
        return [compact(f(a, b))]

    return run


def _mul(op: IntOp, xs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = xs
    if a.dtype == object or b.dtype == object or max_abs(a) * max_abs(b) >= _INT64_SAFE:
        a, b = _wide(a, b)
    return [compact(a * b)]


def _matmul(op: IntOp, xs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = xs
    if a.dtype == object or b.dtype == object or max_abs(a) * max_abs(b) * a.shape[-1] >= _INT64_SAFE:
        a, b = _wide(a, b)
    return [compact(np.matmul(a, b))]


def _with_const(f: Callable[[Any, Any], Any], bound: Callable[[int, int], int]):
    def run(op: IntOp, xs: list[np.ndarray]) -> list[np.ndarray]:
        (x,) = xs
        c = np.asarray(op.params["c"])
        if x.dtype == object or bound(max_abs(x), max_abs(c)) >= _INT64_SAFE:
            x, c = _wide(x, c)
        return [compact(f(x, c))]

    return run


def _sum(op: IntOp, xs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = xs
    axes = tuple(op.params["axes"])
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    if x.dtype == object or max_abs(x) * n >= _INT64_SAFE:
        x = x.astype(object)
    return [compact(x.sum(axis=axes, keepdims=True))]


# kind -> function(op, input arrays) -> output arrays; the one place that runs integer ops
RUN: dict[str, Callable[[IntOp, list[np.ndarray]], list[np.ndarray]]] = {
    "linear": lambda op, xs: [linear(xs[0], op.params["W"], op.params["bias"])],
    "conv2d": lambda op, xs: [conv2d(xs[0], op.params["W"], op.params["bias"], op.params["strides"],
                                     op.params["pads"], op.params["group"])],
    "rescale": lambda op, xs: list(rescale(xs[0], op.params["M"], op.params["s"])),
    "table": lambda op, xs: list(table(xs[0], op.params["lo"], op.params["values"], op.inputs[0],
                                       str(op.params.get("table", "")))),
    "add": _binary(lambda a, b: a + b),
    "sub": _binary(lambda a, b: a - b),
    "add_const": _with_const(lambda x, c: x + c, lambda a, b: a + b),
    "mul_const": _with_const(lambda x, c: x * c, lambda a, b: a * b),
    "mul": _mul,
    "matmul": _matmul,
    "sum": _sum,
    "sumpool": lambda op, xs: [sumpool(xs[0], op.params["kernel"], op.params["strides"], op.params["pads"])],
    "maxpool": lambda op, xs: [maxpool(xs[0], op.params["kernel"], op.params["strides"], op.params["pads"])],
    "max": lambda op, xs: [compact(xs[0].max(axis=op.params["axis"], keepdims=True))],
    "argmax": lambda op, xs: [np.expand_dims(np.argmax(xs[0], axis=op.params["axis"]), op.params["axis"]).astype(np.int64)],
    "concat": lambda op, xs: [compact(np.concatenate([x.astype(object) if any(y.dtype == object for y in xs) else x
                                                      for x in xs], axis=op.params["axis"]))],
    "reshape": lambda op, xs: [xs[0].reshape(op.params["shape"])],
    "transpose": lambda op, xs: [np.ascontiguousarray(xs[0].transpose(op.params["perm"]))],
    "take": lambda op, xs: [np.ascontiguousarray(np.take(xs[0], op.params["indices"], axis=op.params["axis"]))],
    "slice": lambda op, xs: [np.ascontiguousarray(xs[0][tuple(
        slice(s, s + (o - 1) * t + 1, t) for s, t, o in zip(op.params["starts"], op.params["steps"], op.params["shape"]))])],
    "expand": lambda op, xs: [np.ascontiguousarray(np.broadcast_to(xs[0], op.params["shape"]))],
    "tile": lambda op, xs: [np.tile(xs[0], op.params["reps"])],
    "pad": lambda op, xs: [zero_pad(xs[0], op.params["pads"], op.params.get("strides"))],
    "upsample": lambda op, xs: [upsample_nearest(xs[0], op.params["factors"])],
    "trilu": lambda op, xs: [(np.triu if op.params["upper"] else np.tril)(xs[0], int(op.params["k"]))],
}
assert set(RUN) == set(KINDS)


def run_op(op: IntOp, env: dict[str, np.ndarray]) -> None:
    """Execute one op on the integer tensors in ``env`` (name -> array) and store its outputs there."""
    outs = RUN[op.kind](op, [env[i] for i in op.inputs])
    for name, val in zip(op.outputs, outs):
        env[name] = val
