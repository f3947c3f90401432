"""Every supported ONNX op in one place: its float semantics, its checks, and its integer lowering.

Adding an op is a local change: write ``_<op>_run`` (numpy float semantics on one sample), ``_<op>_lower``
(emit integer primitives through :class:`~zkchain.quant.lowering.Lowerer`) and, if some attribute values are
not supported, ``_<op>_check``; then add one line to :data:`ONNX_OPS` at the bottom. The float side is used
for calibration (zkPyTorch §3.3) and as the fidelity reference when onnxruntime is absent.

Lowering map (ONNX -> integer primitives of :mod:`zkchain.quant.primitives`):

    Gemm, MatMul (constant weights)   linear (+ reshape/transpose around it for N-D / constant-left) + rescale
    Conv (2-D)                         conv2d + rescale
    ConvTranspose (2-D, group 1)       pad (spread by the strides) + conv2d (kernel flipped) + rescale
    Add / Sub                          [rescale to align] + add | sub | add_const (+ rescale)
    Mul / Div (by constant)            mul_const + rescale ;  Mul of two tensors: mul + rescale
    Relu, LeakyRelu, Sigmoid, Tanh, Clip   table
    MaxPool / AveragePool / GlobalAveragePool   maxpool / sumpool + rescale / sum + rescale
    BatchNormalization                 folded into the preceding Conv at import, else mul_const + add_const + rescale
    Softmax (last axis)                max, sub, table(exp), sum, rescale, table(reciprocal), mul, rescale
    Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat   reshape / transpose / concat (scale unchanged)
    Slice, Split (constant parameters, positive steps)        slice, one per output (scale unchanged)
    Expand, Tile, Pad (zeros), Resize/Upsample (nearest, integer factors), Trilu
                                       expand / tile / pad / upsample / trilu (scale unchanged)
    PRelu                              table (one slope, as LeakyRelu; private like a weight); per-channel slopes:
                                       Relu, Sub, Mul, Add at import (onnx/importer.expand_prelu)
    ReduceLogSumExp                    written out at import as Exp, ReduceSum, Log (onnx/importer.expand_logsumexp)
    Conv/MaxPool/AveragePool (1-D)     lifted to 2-D over (N, C, 1, L) at import (onnx/importer.lift_1d)
    Pow (constant scalar exponent or base)   table
    RNN, GRU, LSTM (forward)           unrolled at import into Gemm, Add, Mul, Sigmoid/Tanh (onnx/importer.expand_recurrent)
    LayerNormalization, InstanceNormalization   written out at import (onnx/importer.expand_normalization)
    Identity, Cast (float -> float), Dropout                  no op (alias)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from zkchain.errors import UnsupportedModelError
from zkchain.onnx.importer import pad_spec
from zkchain.onnx.ir import Graph, Node
from zkchain.quant.lowering import QT, Lowerer
from zkchain.quant.primitives import upsample_nearest, zero_pad

FloatRun = Callable[[Node, list, Graph], list]
Lower = Callable[[Lowerer, Node], None]
Check = Callable[[Node, Graph], "str | None"]


@dataclass(frozen=True)
class Op:
    """Float semantics (``run``), integer lowering (``lower``) and attribute check (``check``) of one ONNX op."""

    run: FloatRun
    lower: Lower
    check: Check | None = None


def _out_shape(g: Graph, node: Node, i: int = 0) -> tuple[int, ...]:
    return g.tensors[node.outputs[i]].shape


def _runtime_inputs(node: Node, g: Graph) -> list[str]:
    return [i for i in node.inputs if i and not g.is_const(i)]


# ------------------------------------------------------------------------------------------ Gemm / MatMul


def _gemm_run(n: Node, x: list, g: Graph) -> list:
    a, b = x[0], x[1]
    if n.attrs.get("transA", 0):
        a = a.T
    if n.attrs.get("transB", 0):
        b = b.T
    y = n.attrs.get("alpha", 1.0) * (a @ b)
    if len(x) > 2 and x[2] is not None:
        y = y + n.attrs.get("beta", 1.0) * x[2]
    return [y]


def _gemm_check(n: Node, g: Graph) -> str | None:
    if g.is_const(n.inputs[0]) or not g.is_const(n.inputs[1]):
        return "only x @ W with a constant weight W is supported"
    if n.attrs.get("transA", 0):
        return "transA=1 is not supported"
    if len(n.inputs) > 2 and n.inputs[2] and not g.is_const(n.inputs[2]):
        return "the bias C must be a constant"
    return None


def _linear(L: Lowerer, n: Node, x: QT, W: np.ndarray, bias: np.ndarray, out: str, shape: tuple) -> QT:
    """x (m×k) @ W (k×n) + bias, rescaled to the activation scale of ONNX tensor ``out``."""
    W_int, s_w = L.quant_const(W, min_scale=L.weight_scale_floor(x.scale, bias))
    s_acc = x.scale * s_w
    b_int = L.quant_at(bias, s_acc)
    acc = L.emit("linear", [x], {"W": W_int, "bias": b_int}, f"{out}:acc", s_acc, L.real_max(out) / s_acc, shape,
                 n.name)
    return L.fit(acc, out, out, n.name)


def _gemm_lower(L: Lowerer, n: Node) -> None:
    x = L.q(n.inputs[0])
    W = L.const(n.inputs[1])
    if n.attrs.get("transB", 0):
        W = W.T
    W = n.attrs.get("alpha", 1.0) * W
    nout = W.shape[1]
    C = L.const(n.inputs[2]) if len(n.inputs) > 2 else None
    bias = np.zeros(nout) if C is None else n.attrs.get("beta", 1.0) * np.broadcast_to(C, (x.shape[0], nout))[0]
    if C is not None and C.ndim == 2 and C.shape[0] > 1 and x.shape[0] > 1 and not np.all(C == C[:1]):
        raise L.unsupported(n, "a bias that differs per row is not supported")
    L.env[n.outputs[0]] = _linear(L, n, x, W, bias, n.outputs[0], _out_shape(L.graph, n))


def _matmul_run(n: Node, x: list, g: Graph) -> list:
    return [np.matmul(x[0], x[1])]


def _matmul_check(n: Node, g: Graph) -> str | None:
    a, b = (g.is_const(i) for i in n.inputs)
    if a and b:
        return "both operands constant (should have been folded)"
    if not a and not b:  # two activations (attention's Q·Kᵀ, softmax(S)·V): 2-D, or batched over equal leading axes
        shapes = [tuple(int(d) for d in g.tensors[i].shape) for i in n.inputs]
        if any(len(s) < 2 for s in shapes) or _heads(shapes[0]) != _heads(shapes[1]):
            return (f"a product of two activations of shapes {[list(s) for s in shapes]}: the leading (batch, head) "
                    "axes must be equal (no broadcasting) so far")
        return None
    if b and g.constants[n.inputs[1]].ndim != 2:
        return "the constant weight must be 2-D"
    if a and (g.constants[n.inputs[0]].ndim != 2 or len(g.tensors[n.inputs[1]].shape) != 2):
        return "constant @ x is supported for 2-D operands only"
    return None


def _heads(shape: tuple[int, ...]) -> int:
    """The number of 2-D products a batched MatMul operand of ``shape`` holds (its leading axes)."""
    return int(np.prod(shape[:-2])) if len(shape) > 2 else 1


def _matmul_activations(L: Lowerer, n: Node, a: QT, b: QT, out: str, shape: tuple[int, ...]) -> None:
    """``a @ b`` for two activations: one ``matmul`` primitive per head (a ``take`` of each head's slice when there
    are several, the results concatenated), each followed by the output's rescale."""
    H = _heads(a.shape)
    T, k, nn = a.shape[-2], a.shape[-1], b.shape[-1]
    a3, b3 = (L.emit("reshape", [x], {"shape": [H, *x.shape[-2:]]}, f"{x.name}:3d", x.scale, x.bound,
                     (H, *x.shape[-2:]), n.name) for x in (a, b))
    ys = []
    for h in range(H):
        ah, bh = a3, b3
        if H > 1:
            ah, bh = (L.emit("take", [x], {"axis": 0, "indices": [h]}, f"{x.name}:head{h}", x.scale, x.bound,
                             (1, *x.shape[1:]), n.name) for x in (a3, b3))
        ah, bh = (L.emit("reshape", [x], {"shape": list(x.shape[1:])}, f"{x.name}:2d", x.scale, x.bound,
                         tuple(x.shape[1:]), n.name) for x in (ah, bh))
        y = L.emit("matmul", [ah, bh], {}, f"{out}:prod{h}" if H > 1 else f"{out}:prod", a.scale * b.scale, 0,
                   (T, nn), n.name)
        y = L.fit(y, out, f"{out}:head{h}" if H > 1 else out, n.name)
        ys.append(L.emit("reshape", [y], {"shape": [1, T, nn]}, f"{y.name}:3d", y.scale, y.bound, (1, T, nn), n.name))
    y = ys[0] if H == 1 else L.emit("concat", ys, {"axis": 0}, f"{out}:heads", ys[0].scale,
                                    max(v.bound for v in ys), (H, T, nn), n.name)
    L.env[out] = L.emit("reshape", [y], {"shape": list(shape)}, out, y.scale, y.bound, shape, n.name)


def _matmul_lower(L: Lowerer, n: Node) -> None:
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    if not L.graph.is_const(n.inputs[0]) and not L.graph.is_const(n.inputs[1]):
        _matmul_activations(L, n, L.q(n.inputs[0]), L.q(n.inputs[1]), out, shape)
        return
    if L.graph.is_const(n.inputs[1]):
        x, W = L.q(n.inputs[0]), L.const(n.inputs[1])
        k = W.shape[0]
        if len(x.shape) == 2:
            L.env[out] = _linear(L, n, x, W, np.zeros(W.shape[1]), out, shape)
            return
        rows = int(np.prod(x.shape[:-1]))
        x2 = L.emit("reshape", [x], {"shape": [rows, k]}, f"{x.name}:2d", x.scale, x.bound, (rows, k), n.name)
        y2 = _linear(L, n, x2, W, np.zeros(W.shape[1]), out, (rows, W.shape[1]))
        y2 = QT(y2.name, y2.scale, y2.bound, (rows, W.shape[1]))
        L.env[out] = L.emit("reshape", [y2], {"shape": list(shape)}, out, y2.scale, y2.bound, shape, n.name)
        return
    # C @ x  ==  (x^T @ C^T)^T
    C, x = L.const(n.inputs[0]), L.q(n.inputs[1])
    xt = L.emit("transpose", [x], {"perm": [1, 0]}, f"{x.name}:T", x.scale, x.bound, x.shape[::-1], n.name)
    yt = _linear(L, n, xt, C.T, np.zeros(C.shape[0]), out, shape[::-1])
    yt = QT(yt.name, yt.scale, yt.bound, shape[::-1])
    L.env[out] = L.emit("transpose", [yt], {"perm": [1, 0]}, out, yt.scale, yt.bound, shape, n.name)


# ------------------------------------------------------------------------------------- Add / Sub / Mul / Div


def _add_run(n: Node, x: list, g: Graph) -> list:
    return [x[0] + x[1]]


def _sub_run(n: Node, x: list, g: Graph) -> list:
    return [x[0] - x[1]]


def _additive_mask(n: Node, g: Graph):
    """``(data, keep)`` when ``n`` is ``x + M`` with a constant mask ``M`` of 0 and −inf (or ≤ :data:`MASK_FILL`)
    entries, as ``nn.Transformer.generate_square_subsequent_mask`` makes; else None."""
    if n.op_type != "Add" or g.is_const(n.inputs[0]) == g.is_const(n.inputs[1]):
        return None
    c_name, x_name = (n.inputs[0], n.inputs[1]) if g.is_const(n.inputs[0]) else (n.inputs[1], n.inputs[0])
    c = np.broadcast_to(np.asarray(g.constants[c_name], dtype=np.float64), _out_shape(g, n))
    masked = c <= MASK_FILL
    if not masked.any():
        return None
    return x_name, ~masked, c


def _add_check(n: Node, g: Graph) -> str | None:
    err = _binary_check(n, g)
    m = None if err else _additive_mask(n, g)
    if m is not None:
        if np.any(m[2][m[1]] != 0):
            return "an additive mask must be 0 where it keeps an entry (and ≤ −1e3 or −inf where it masks)"
        if any(c.op_type != "Softmax" for c in g.consumers(n.outputs[0])):
            return f"an additive mask (entries ≤ {MASK_FILL:g} or −inf) is supported only right before a Softmax"
    return err


def _addsub_lower(L: Lowerer, n: Node, sign: int) -> None:
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    m = _additive_mask(n, L.graph) if sign > 0 else None
    if m is not None:  # x + causal mask before a Softmax: the masked entries weigh 0 (as in _where_lower)
        L.softmax_masks[out] = (m[0], m[1].astype(np.int64))
        return
    a_name, b_name = n.inputs
    if not L.graph.is_const(a_name) and not L.graph.is_const(b_name):
        a, b = L.align([L.q(a_name), L.q(b_name)], out, n.name)
        y = L.emit("add" if sign > 0 else "sub", [a, b], {}, f"{out}:sum", a.scale, 0, shape, n.name)
        L.env[out] = L.fit(y, out, out, n.name)
        return
    if L.graph.is_const(a_name):  # c ± x
        c, x = L.const(a_name), L.q(b_name)
        if sign < 0:
            x = L.emit("mul_const", [x], {"c": np.array(-1, dtype=np.int64)}, f"{out}:neg", x.scale, x.bound,
                       x.shape, n.name)
    else:  # x ± c
        x, c = L.q(a_name), sign * L.const(b_name)
    c_int = np.broadcast_to(L.quant_at(c, x.scale), np.broadcast_shapes(np.shape(c), (1,) * len(shape)))
    if c_int.ndim > len(shape):
        raise L.unsupported(n, "constant operand has more dimensions than the result")
    y = L.emit("add_const", [x], {"c": np.ascontiguousarray(c_int)}, f"{out}:sum", x.scale, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


def _mul_run(n: Node, x: list, g: Graph) -> list:
    return [x[0] * x[1]]


def _div_run(n: Node, x: list, g: Graph) -> list:
    return [x[0] / x[1]]


def _div_check(n: Node, g: Graph) -> str | None:
    if not g.is_const(n.inputs[1]):
        if g.is_const(n.inputs[0]) and g.constants[n.inputs[0]].size != 1:
            return "a constant tensor divided by a runtime tensor is not supported"
        return None
    if np.any(g.constants[n.inputs[1]] == 0):
        return "division by zero"
    if not np.issubdtype(g.constants[n.inputs[1]].dtype, np.floating):
        return "integer division is not supported"
    return None


def _scale_by_const(L: Lowerer, n: Node, x: QT, c: np.ndarray) -> None:
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    c = np.asarray(c, dtype=np.float64)
    if c.size == 1 and len(shape) >= c.ndim and float(c.ravel()[0]) != 0.0:
        # scalar: the same integers stand for x·|c| at scale s_x·|c| (the rescale of the fit absorbs it)
        cv = float(c.ravel()[0])
        if cv < 0:
            x = L.emit("mul_const", [x], {"c": np.array(-1, dtype=np.int64)}, f"{out}:neg", x.scale, x.bound, x.shape,
                       n.name)
        L.env[out] = L.fit(QT(x.name, x.scale * abs(cv), x.bound, x.shape), out, out, n.name)
        return
    c_int, s_c = L.quant_const(c)
    if c_int.ndim > len(shape):
        raise L.unsupported(n, "constant operand has more dimensions than the result")
    y = L.emit("mul_const", [x], {"c": c_int}, f"{out}:prod", x.scale * s_c, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


def _mul_lower(L: Lowerer, n: Node) -> None:
    a_name, b_name = n.inputs
    if L.graph.is_const(a_name) or L.graph.is_const(b_name):
        c, x = (L.const(a_name), L.q(b_name)) if L.graph.is_const(a_name) else (L.const(b_name), L.q(a_name))
        _scale_by_const(L, n, x, c)
        return
    a, b = L.q(a_name), L.q(b_name)
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    y = L.emit("mul", [a, b], {}, f"{out}:prod", a.scale * b.scale, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


RECIP_BITS = 16  # 1/b tables: |1/b| at the smallest nonzero |b| maps to 2^16


def _div_lower(L: Lowerer, n: Node) -> None:
    """a / c: multiply by 1/c. a / b with runtime b: a · T_recip[b] (table over b's domain, 0 -> saturated)."""
    if L.graph.is_const(n.inputs[1]):
        _scale_by_const(L, n, L.q(n.inputs[0]), 1.0 / L.const(n.inputs[1]))
        return
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    b = L.q(n.inputs[1])
    if b.bound > L.limit * 1.0001:
        b = L.requant(b, L.act_scale(n.inputs[1]), f"{b.name}:fit", n.name)
    recip = lambda v: 1.0 / v  # noqa: E731
    r = L.table(b, "reciprocal", recip, 1.0 / (b.scale * 2 ** RECIP_BITS), f"{out}:recip", n.name,
                saturate=1 << RECIP_BITS)
    if L.graph.is_const(n.inputs[0]):  # c / b
        _scale_by_const(L, n, r, L.const(n.inputs[0]))
        return
    a = L.q(n.inputs[0])
    y = L.emit("mul", [a, r], {}, f"{out}:prod", a.scale * r.scale, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


def _rsqrt_lower(L: Lowerer, n: Node) -> None:
    """``1/√v`` (``importer.fuse_rsqrt``): one table over v's domain with the reciprocal table's 2^16-scaled output
    (0 and negative v saturate)."""
    v = L.q(n.inputs[0])
    if v.bound > L.limit * 1.0001:
        v = L.requant(v, L.act_scale(n.inputs[0]), f"{v.name}:fit", n.name)
    rsqrt = lambda u: 1.0 / np.sqrt(u)  # noqa: E731
    L.env[n.outputs[0]] = L.table(v, "rsqrt", rsqrt, 1.0 / (np.sqrt(v.scale) * 2 ** RECIP_BITS), n.outputs[0],
                                  n.name, saturate=1 << RECIP_BITS)


def _binary_check(n: Node, g: Graph) -> str | None:
    if g.is_const(n.inputs[0]) and g.is_const(n.inputs[1]):
        return "both operands constant (should have been folded)"
    return None


# ---------------------------------------------------------------------------------- elementwise (tables)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def _table_lower(fn: str, f_of: Callable[[Node, Graph], Callable], keeps_scale: bool,
                 arg: Callable[[Node, Graph], int] = lambda n, g: 0) -> Lower:
    """Lowering of an elementwise non-linearity of input ``arg(node, graph)`` (the first by default): fit that
    input to the activation range, then one table."""

    def lower(L: Lowerer, n: Node) -> None:
        out = n.outputs[0]
        name_in = n.inputs[arg(n, L.graph)]
        x = L.q(name_in)
        if x.bound > L.limit * 1.0001:
            x = L.requant(x, L.act_scale(name_in), f"{x.name}:fit", n.name)
        f = f_of(n, L.graph)
        out_scale = x.scale if keeps_scale else L.act_scale(out)
        L.env[out] = L.table(x, fn, f, out_scale, out, n.name)

    return lower


def _clip_bounds(n: Node, g: Graph) -> tuple[float, float]:
    lo, hi = n.attrs.get("min", -np.inf), n.attrs.get("max", np.inf)
    if len(n.inputs) > 1 and n.inputs[1]:
        lo = float(g.constants[n.inputs[1]])
    if len(n.inputs) > 2 and n.inputs[2]:
        hi = float(g.constants[n.inputs[2]])
    return lo, hi


def _clip_check(n: Node, g: Graph) -> str | None:
    if any(i and not g.is_const(i) for i in n.inputs[1:]):
        return "min/max must be constants"
    return None


def _clip_run(n: Node, x: list, g: Graph) -> list:
    lo, hi = _clip_bounds(n, g)
    return [np.clip(x[0], lo, hi)]


def _leaky(n: Node, g: Graph) -> Callable:
    alpha = float(n.attrs.get("alpha", 0.01))
    return lambda v: np.where(v >= 0, v, alpha * v)


# ------------------------------------------------------------------------------------------- layout ops


def _reshape_run(n: Node, x: list, g: Graph) -> list:
    return [np.reshape(x[0], _out_shape(g, n))]


def _gather_run(n: Node, x: list, g: Graph) -> list:
    return [np.take(x[0], np.asarray(x[1]).astype(np.int64), axis=int(n.attrs.get("axis", 0)))]


def _gather_check(n: Node, g: Graph) -> str | None:
    """Constant indices, or token ids (an integer model input) into a constant 2-D table along axis 0 (an
    embedding lookup)."""
    if len(n.inputs) < 2:
        return "Gather needs data and indices"
    if not g.is_const(n.inputs[1]):
        ids = g.tensors.get(n.inputs[1])
        data = g.constants.get(n.inputs[0])
        if ids is None or not ids.dtype.startswith("int") or data is None or data.ndim != 2 \
                or int(n.attrs.get("axis", 0)) % 2 != 0:
            return ("Gather with a runtime index is supported as an embedding lookup only: integer token ids (a model "
                    "input, or an ArgMax) into a constant 2-D table along axis 0")
        return None
    shape = g.tensors[n.inputs[0]].shape
    axis = int(n.attrs.get("axis", 0)) % max(len(shape), 1)
    idx = np.asarray(g.constants[n.inputs[1]]).ravel()
    if idx.size and (idx.min() < -shape[axis] or idx.max() >= shape[axis]):
        return f"index out of range for axis {axis} of length {shape[axis]}"
    return None


def _embedding_lower(L: Lowerer, n: Node) -> None:
    """``E[ids]`` for a constant table ``E`` (V×D, quantized like a weight) and token ids: one map table per
    column ``d`` (rows ``id → E[id, d]``, its outputs private like weights), looked up by the ids; the D columns
    concatenated. An id outside ``[0, V)`` is no table row, so no proof exists for it."""
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    ids = L.q(n.inputs[1])
    E = L.const(n.inputs[0])
    V, D = E.shape
    e_int, s_e = L.quant_const(E)
    T = int(np.prod(ids.shape))
    flat = L.emit("reshape", [ids], {"shape": [T]}, f"{ids.name}:flat", ids.scale, ids.bound, (T,), n.name)
    cols = []
    for d in range(D):
        c = L.value_table(flat, "embedding", e_int[:, d], s_e, f"{out}:col{d}", n.name)
        cols.append(L.emit("reshape", [c], {"shape": [T, 1]}, f"{c.name}:2d", c.scale, c.bound, (T, 1), n.name))
    y = cols[0] if D == 1 else L.emit("concat", cols, {"axis": 1}, f"{out}:cols", s_e, max(c.bound for c in cols),
                                      (T, D), n.name)
    L.env[out] = L.emit("reshape", [y], {"shape": list(shape)}, out, y.scale, y.bound, shape, n.name)


def _gather_lower(L: Lowerer, n: Node) -> None:
    """A constant index into a length-1 axis is a relabelling; any other: ``take`` (its entries along one axis)
    and a reshape to the output's shape; runtime token ids: an embedding lookup."""
    if not L.graph.is_const(n.inputs[1]):
        _embedding_lower(L, n)
        return
    x, shape = L.q(n.inputs[0]), _out_shape(L.graph, n)
    axis = int(n.attrs.get("axis", 0)) % max(len(x.shape), 1)
    if x.shape[axis] == 1:
        _reshape_lower(L, n)
        return
    idx = [int(i) % x.shape[axis] for i in np.asarray(L.graph.constants[n.inputs[1]]).ravel()]
    kept = x.shape[:axis] + (len(idx),) + x.shape[axis + 1:]
    y = L.emit("take", [x], {"axis": axis, "indices": idx}, f"{n.outputs[0]}:take", x.scale, x.bound, kept, n.name)
    L.env[n.outputs[0]] = L.emit("reshape", [y], {"shape": list(shape)}, n.outputs[0], y.scale, y.bound, shape, n.name)


def _reshape_lower(L: Lowerer, n: Node) -> None:
    x, shape = L.q(n.inputs[0]), _out_shape(L.graph, n)
    L.env[n.outputs[0]] = L.emit("reshape", [x], {"shape": list(shape)}, n.outputs[0], x.scale, x.bound, shape, n.name)


def _transpose_perm(n: Node, rank: int) -> list[int]:
    return list(n.attrs.get("perm", list(range(rank))[::-1]))


def _transpose_run(n: Node, x: list, g: Graph) -> list:
    return [np.transpose(x[0], _transpose_perm(n, x[0].ndim))]


def _transpose_lower(L: Lowerer, n: Node) -> None:
    x, shape = L.q(n.inputs[0]), _out_shape(L.graph, n)
    perm = _transpose_perm(n, len(x.shape))
    L.env[n.outputs[0]] = L.emit("transpose", [x], {"perm": perm}, n.outputs[0], x.scale, x.bound, shape, n.name)


def _concat_run(n: Node, x: list, g: Graph) -> list:
    return [np.concatenate(x, axis=n.attrs["axis"])]


def _concat_check(n: Node, g: Graph) -> str | None:
    if any(g.is_const(i) for i in n.inputs):
        return "concatenation with constant tensors is not supported"
    return None


def _concat_lower(L: Lowerer, n: Node) -> None:
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    xs = L.align([L.q(i) for i in n.inputs], out, n.name)
    axis = n.attrs["axis"] % len(shape)
    y = L.emit("concat", xs, {"axis": axis}, f"{out}:cat", xs[0].scale, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


def _slice_spec(n: Node, g: Graph) -> tuple[list[int], list[int]] | str:
    """``(starts, steps)`` over every axis of a Slice with constant parameters (ONNX clamping rules), or why not."""
    shape = g.tensors[n.inputs[0]].shape
    rank = len(shape)
    if "starts" in n.attrs:  # opset < 10
        starts, ends = list(n.attrs["starts"]), list(n.attrs["ends"])
        axes, steps = list(n.attrs.get("axes", range(len(starts)))), [1] * len(starts)
    else:
        ins = n.inputs + ["", "", ""]
        if any(i and not g.is_const(i) for i in ins[1:5]):
            return "starts, ends, axes and steps must be constants"
        starts, ends = (np.asarray(g.constants[i]).ravel().tolist() for i in ins[1:3])
        axes = np.asarray(g.constants[ins[3]]).ravel().tolist() if ins[3] else list(range(len(starts)))
        steps = np.asarray(g.constants[ins[4]]).ravel().tolist() if ins[4] else [1] * len(starts)
    full_start, full_step = [0] * rank, [1] * rank
    for a, st, step in zip(axes, starts, steps):
        a, st, step = int(a) % rank, int(st), int(step)
        if step <= 0:
            return "only positive steps are supported"
        dim = shape[a]
        full_start[a] = min(max(st + dim if st < 0 else st, 0), dim)
        full_step[a] = step
    return full_start, full_step


def _slice_check(n: Node, g: Graph) -> str | None:
    spec = _slice_spec(n, g)
    return spec if isinstance(spec, str) else None


def _slice_run(n: Node, x: list, g: Graph) -> list:
    starts, steps = _slice_spec(n, g)
    out = _out_shape(g, n)
    return [x[0][tuple(slice(s, s + (o - 1) * t + 1, t) for s, t, o in zip(starts, steps, out))]]


def _slice_lower(L: Lowerer, n: Node) -> None:
    x = L.q(n.inputs[0])
    starts, steps = _slice_spec(n, L.graph)
    shape = _out_shape(L.graph, n)
    L.env[n.outputs[0]] = L.emit("slice", [x], {"starts": starts, "steps": steps, "shape": list(shape)},
                                 n.outputs[0], x.scale, x.bound, shape, n.name)


def _split_offsets(n: Node, g: Graph) -> tuple[int, list[int]]:
    """(axis, start of each output along it): the outputs' shapes are known, so their sizes are the split."""
    rank = len(g.tensors[n.inputs[0]].shape)
    axis = int(n.attrs.get("axis", 0)) % rank
    sizes = [g.tensors[o].shape[axis] for o in n.outputs]
    return axis, [int(v) for v in np.cumsum([0] + sizes[:-1])]


def _split_run(n: Node, x: list, g: Graph) -> list:
    axis, offs = _split_offsets(n, g)
    return [np.take(x[0], range(o, o + g.tensors[out].shape[axis]), axis=axis) for o, out in zip(offs, n.outputs)]


def _split_lower(L: Lowerer, n: Node) -> None:
    x = L.q(n.inputs[0])
    axis, offs = _split_offsets(n, L.graph)
    for o, out in zip(offs, n.outputs):
        shape = _out_shape(L.graph, n, n.outputs.index(out))
        starts = [0] * len(shape)
        starts[axis] = o
        L.env[out] = L.emit("slice", [x], {"starts": starts, "steps": [1] * len(shape), "shape": list(shape)},
                            out, x.scale, x.bound, shape, n.name)


def _movement_lower(kind: str, params: Callable[[Node, Graph, tuple, tuple], dict]) -> Lower:
    """Lowering of a movement op to the integer primitive ``kind``: same scale and bound, the output's shape;
    ``params(node, graph, in_shape, out_shape)`` gives its parameters. An output of the input's size and order
    (an Expand to the same shape, a Tile or Upsample by 1) is a reshape."""

    def lower(L: Lowerer, n: Node) -> None:
        x, shape = L.q(n.inputs[0]), _out_shape(L.graph, n)
        prm = params(n, L.graph, tuple(x.shape), tuple(shape))
        if prm is None:
            _reshape_lower(L, n)
            return
        L.env[n.outputs[0]] = L.emit(kind, [x], prm, n.outputs[0], x.scale, x.bound, shape, n.name)

    return lower


def _const_ints(g: Graph, name: str) -> list[int]:
    return [int(v) for v in np.asarray(g.constants[name]).ravel()]


def _expand_check(n: Node, g: Graph) -> str | None:
    return None if len(n.inputs) == 2 and g.is_const(n.inputs[1]) else "the target shape must be a constant"


def _expand_run(n: Node, x: list, g: Graph) -> list:
    shape = np.broadcast_shapes(x[0].shape, tuple(int(v) for v in np.asarray(x[1]).ravel()))
    return [np.broadcast_to(x[0], shape).copy()]


def _expand_params(n: Node, g: Graph, shape: tuple, out: tuple) -> dict | None:
    if int(np.prod(shape)) == int(np.prod(out)):
        return None  # nothing repeats
    return {"shape": list(out)}


def _tile_check(n: Node, g: Graph) -> str | None:
    return None if len(n.inputs) == 2 and g.is_const(n.inputs[1]) else "the repetition counts must be a constant"


def _tile_run(n: Node, x: list, g: Graph) -> list:
    return [np.tile(x[0], [int(v) for v in np.asarray(x[1]).ravel()])]


def _tile_params(n: Node, g: Graph, shape: tuple, out: tuple) -> dict | None:
    reps = _const_ints(g, n.inputs[1])
    return None if all(r == 1 for r in reps) else {"reps": reps}


def _pad_check(n: Node, g: Graph) -> str | None:
    spec = pad_spec(n, g)
    if spec is None:
        return "pads and the constant value must be constants (and no axes input)"
    pads, value, mode = spec
    if mode != "constant":
        return f"mode {mode!r} is not supported (only 'constant')"
    if value != 0.0:
        return f"padding with {value} is not supported (only zeros)"
    if min(pads, default=0) < 0:
        return "negative pads (cropping) are not supported; use Slice"
    return None


def _pad_run(n: Node, x: list, g: Graph) -> list:
    return [zero_pad(x[0], pad_spec(n, g)[0])]


def _pad_params(n: Node, g: Graph, shape: tuple, out: tuple) -> dict | None:
    pads = pad_spec(n, g)[0]
    return None if not any(pads) else {"pads": pads}


def _resize_factors(n: Node, g: Graph) -> list[int] | str:
    """The integer factor of every axis of a nearest-neighbour Resize/Upsample whose index map is
    ``i ↦ i // f`` (the ONNX coordinate transformation and rounding evaluated on every output index), or why not."""
    mode = n.attrs.get("mode", "nearest")  # string attributes arrive decoded (importer._attrs)
    if mode != "nearest":
        return f"mode {mode!r} is not supported (only 'nearest')"
    if any(i and not g.is_const(i) for i in n.inputs[1:]):
        return "scales and sizes must be constants"
    shape, out = g.tensors[n.inputs[0]].shape, _out_shape(g, n)
    ctm = n.attrs.get("coordinate_transformation_mode", "half_pixel" if n.op_type == "Resize" else "asymmetric")
    nm = n.attrs.get("nearest_mode", "round_prefer_floor" if n.op_type == "Resize" else "floor")
    factors = []
    for d, o in zip(shape, out):
        if d < 1 or o % d:
            return f"output size {o} is not an integer multiple of input size {d}"
        f = o // d
        i = np.arange(o, dtype=np.float64)
        src = {"half_pixel": (i + 0.5) / f - 0.5, "pytorch_half_pixel": (i + 0.5) / f - 0.5 if o > 1 else 0 * i,
               "asymmetric": i / f, "tf_half_pixel_for_nn": (i + 0.5) / f,
               "align_corners": i * (d - 1) / (o - 1) if o > 1 else 0 * i}.get(ctm)
        if src is None:
            return f"coordinate_transformation_mode {ctm!r} is not supported"
        frac = src - np.floor(src)
        idx = {"floor": np.floor(src), "ceil": np.ceil(src),
               "round_prefer_floor": np.where(frac == 0.5, np.floor(src), np.round(src)),
               "round_prefer_ceil": np.where(frac == 0.5, np.ceil(src), np.round(src))}.get(nm)
        if idx is None:
            return f"nearest_mode {nm!r} is not supported"
        if not np.array_equal(np.clip(idx, 0, d - 1).astype(np.int64), np.arange(o) // f):
            return (f"its index map ({ctm}, {nm}) is not a repetition of every entry by an integer factor; "
                    "only that upsampling is supported")
        factors.append(f)
    return factors


def _resize_check(n: Node, g: Graph) -> str | None:
    f = _resize_factors(n, g)
    return f if isinstance(f, str) else None


def _resize_run(n: Node, x: list, g: Graph) -> list:
    return [upsample_nearest(x[0], _resize_factors(n, g))]


def _resize_params(n: Node, g: Graph, shape: tuple, out: tuple) -> dict | None:
    f = _resize_factors(n, g)
    return None if all(v == 1 for v in f) else {"factors": f}


def _trilu_k(n: Node, g: Graph) -> int:
    return int(np.asarray(g.constants[n.inputs[1]]).ravel()[0]) if len(n.inputs) > 1 and n.inputs[1] else 0


def _trilu_check(n: Node, g: Graph) -> str | None:
    if len(n.inputs) > 1 and n.inputs[1] and not g.is_const(n.inputs[1]):
        return "k must be a constant"
    if len(g.tensors[n.inputs[0]].shape) < 2:
        return "the input must have at least two axes"
    return None


def _trilu_run(n: Node, x: list, g: Graph) -> list:
    return [(np.triu if n.attrs.get("upper", 1) else np.tril)(x[0], _trilu_k(n, g))]


def _trilu_params(n: Node, g: Graph, shape: tuple, out: tuple) -> dict | None:
    return {"upper": int(n.attrs.get("upper", 1)), "k": _trilu_k(n, g)}


def _prelu_slope(n: Node, g: Graph) -> float | str:
    if len(n.inputs) != 2 or not g.is_const(n.inputs[1]):
        return "the slope must be a constant"
    s = np.asarray(g.constants[n.inputs[1]], dtype=np.float64).ravel()
    if s.size == 0 or not np.all(s == s[0]):  # importer.expand_prelu writes these out; one left here is malformed
        return "slopes that differ between entries must be a constant broadcastable to the input"
    return float(s[0])


def _prelu_check(n: Node, g: Graph) -> str | None:
    s = _prelu_slope(n, g)
    return s if isinstance(s, str) else None


def _prelu(n: Node, g: Graph) -> Callable:
    a = _prelu_slope(n, g)
    return lambda v: np.where(v >= 0, v, a * v)


def _identity_run(n: Node, x: list, g: Graph) -> list:
    return [x[0]]


def _alias_lower(L: Lowerer, n: Node) -> None:
    L.env[n.outputs[0]] = L.q(n.inputs[0])


def _cast_check(n: Node, g: Graph) -> str | None:
    import onnx

    to = n.attrs.get("to")
    if to not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16):
        return f"cast of a runtime tensor to {onnx.TensorProto.DataType.Name(to)} (rounding) is not supported"
    return None


def _dropout_check(n: Node, g: Graph) -> str | None:
    if len([o for o in n.outputs if o]) > 1:
        return "the mask output is not supported"
    return None


# ------------------------------------------------------------------------------------------- conv / pools


def _pads2(n: Node) -> list[int]:
    """ONNX pads [top, left, bottom, right] for 2-D ops."""
    p = list(n.attrs.get("pads", [0, 0, 0, 0]))
    return [p[0], p[1], p[2], p[3]]


def _window_check(n: Node, g: Graph, kernel_len: int) -> str | None:
    if len(g.tensors[n.inputs[0]].shape) != 4 or kernel_len != 2:
        return "only 2-D (NCHW) windows are supported"
    if n.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        return f"auto_pad={n.attrs['auto_pad']} is not supported (use explicit pads)"
    if any(d != 1 for d in n.attrs.get("dilations", [1, 1])):
        return "dilations other than 1 are not supported"
    if n.attrs.get("ceil_mode", 0):
        return "ceil_mode=1 is not supported"
    return None


def _float_windows(x: np.ndarray, kernel: list[int], strides: list[int], pads: list[int], fill: float) -> np.ndarray:
    t, l, b, r = pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=fill) if any(pads) else x
    v = np.lib.stride_tricks.sliding_window_view(xp, tuple(kernel), axis=(2, 3))
    return v[:, :, :: strides[0], :: strides[1]]


def _conv_check(n: Node, g: Graph) -> str | None:
    if not g.is_const(n.inputs[1]) or (len(n.inputs) > 2 and n.inputs[2] and not g.is_const(n.inputs[2])):
        return "weights and bias must be constants"
    return _window_check(n, g, g.constants[n.inputs[1]].ndim - 2)


def _conv_run(n: Node, x: list, g: Graph) -> list:
    X, W = x[0], x[1]
    B = x[2] if len(x) > 2 and x[2] is not None else np.zeros(W.shape[0])
    oc, cg, kh, kw = W.shape
    group = n.attrs.get("group", 1)
    win = _float_windows(X, [kh, kw], list(n.attrs.get("strides", [1, 1])), _pads2(n), 0.0)
    ocg = oc // group
    outs = [np.einsum("nchwuv,ocuv->nohw", win[:, k * cg:(k + 1) * cg], W[k * ocg:(k + 1) * ocg]) for k in range(group)]
    return [np.concatenate(outs, axis=1) + B.reshape(1, oc, 1, 1)]


def _emit_conv(L: Lowerer, n: Node, x: QT, W: np.ndarray, B: np.ndarray | None, strides: list[int],
               pads: list[int], group: int) -> None:
    """conv2d of ``x`` with the float kernel ``W`` (OC × C/G × kh × kw) and bias ``B``, quantized, then fitted
    to the node's output range."""
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    B = np.zeros(W.shape[0]) if B is None else B
    W_int, s_w = L.quant_const(W, min_scale=L.weight_scale_floor(x.scale, B))
    s_acc = x.scale * s_w
    params = {"W": W_int, "bias": L.quant_at(B, s_acc), "strides": strides, "pads": pads, "group": group}
    acc = L.emit("conv2d", [x], params, f"{out}:acc", s_acc, 0, shape, n.name)
    L.env[out] = L.fit(acc, out, out, n.name)


def _conv_lower(L: Lowerer, n: Node) -> None:
    B = L.const(n.inputs[2]) if len(n.inputs) > 2 else None
    _emit_conv(L, n, L.q(n.inputs[0]), L.const(n.inputs[1]), B, list(n.attrs.get("strides", [1, 1])), _pads2(n),
               int(n.attrs.get("group", 1)))


def _convt_geometry(n: Node, g: Graph) -> tuple[list[int], list[int], list[int], list[int]]:
    """(kernel [kh, kw], strides, pads [top, left, bottom, right], output_padding) of a ConvTranspose."""
    W = g.constants[n.inputs[1]]
    return (list(W.shape[2:]), list(n.attrs.get("strides", [1, 1])), _pads2(n),
            list(n.attrs.get("output_padding", [0, 0])))


def _convt_check(n: Node, g: Graph) -> str | None:
    if not g.is_const(n.inputs[1]) or (len(n.inputs) > 2 and n.inputs[2] and not g.is_const(n.inputs[2])):
        return "weights and bias must be constants"
    if g.constants[n.inputs[1]].ndim != 4 or len(g.tensors[n.inputs[0]].shape) != 4:
        return "only 2-D (NCHW) transposed convolutions are supported"
    if int(n.attrs.get("group", 1)) != 1:
        return "groups are not supported"
    if "output_shape" in n.attrs:
        return "output_shape is not supported (give pads and output_padding)"
    why = _window_check(n, g, 2)
    if why:
        return why
    (kh, kw), _, (t, l, b, r), (oh, ow) = _convt_geometry(n, g)
    if min(kh - 1 - t, kw - 1 - l, kh - 1 - b + oh, kw - 1 - r + ow) < 0:
        return "pads larger than the kernel size − 1 are not supported"
    return None


def _convt_run(n: Node, x: list, g: Graph) -> list:
    """Every input pixel scatters ``x·W[c, o]`` into the output (ONNX ConvTranspose), then the pads are cut off."""
    X, W = x[0], x[1]
    N, C, H, Wd = X.shape
    (kh, kw), (sh, sw), (t, l, b, r), (oh, ow) = _convt_geometry(n, g)
    full = np.zeros((N, W.shape[1], (H - 1) * sh + kh + oh, (Wd - 1) * sw + kw + ow))
    for u in range(kh):
        for v in range(kw):
            full[:, :, u:u + (H - 1) * sh + 1:sh, v:v + (Wd - 1) * sw + 1:sw] += np.einsum("nchw,co->nohw", X, W[:, :, u, v])
    y = full[:, :, t:full.shape[2] - b, l:full.shape[3] - r]
    if len(x) > 2 and x[2] is not None:
        y = y + x[2].reshape(1, -1, 1, 1)
    return [y]


def _convt_lower(L: Lowerer, n: Node) -> None:
    """A transposed convolution is a convolution of the input spread ``strides`` apart and zero-padded by
    ``k − 1 − pads`` (plus ``output_padding`` at the end) with the kernel flipped in space and its two channel axes
    swapped: one ``pad`` (a Gather) and a ``conv2d``."""
    x = L.q(n.inputs[0])
    (kh, kw), (sh, sw), (t, l, b, r), (oh, ow) = _convt_geometry(n, L.graph)
    pads = [0, 0, kh - 1 - t, kw - 1 - l, 0, 0, kh - 1 - b + oh, kw - 1 - r + ow]
    N, C, H, Wd = x.shape
    dshape = (N, C, (H - 1) * sh + 1 + pads[2] + pads[6], (Wd - 1) * sw + 1 + pads[3] + pads[7])
    if any(pads) or sh > 1 or sw > 1:
        x = L.emit("pad", [x], {"pads": pads, "strides": [1, 1, sh, sw]}, f"{n.outputs[0]}:spread", x.scale, x.bound,
                   dshape, n.name)
    W = np.ascontiguousarray(L.const(n.inputs[1]).transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    B = L.const(n.inputs[2]) if len(n.inputs) > 2 and n.inputs[2] else None
    _emit_conv(L, n, x, W, B, [1, 1], [0, 0, 0, 0], 1)


def _pool_check(n: Node, g: Graph) -> str | None:
    if len(n.attrs.get("kernel_shape", [])) != 2:
        return "only 2-D (NCHW) windows are supported"
    if n.op_type == "MaxPool" and (len([o for o in n.outputs if o]) > 1 or n.attrs.get("storage_order", 0)):
        return "the Indices output is not supported"
    if n.op_type == "AveragePool" and any(_pads2(n)) and not n.attrs.get("count_include_pad", 0):
        return "padding with count_include_pad=0 (a position-dependent divisor) is not supported"
    return _window_check(n, g, len(n.attrs.get("kernel_shape", [])))


def _pool_params(n: Node) -> dict:
    return {"kernel": list(n.attrs["kernel_shape"]), "strides": list(n.attrs.get("strides", [1, 1])), "pads": _pads2(n)}


def _maxpool_run(n: Node, x: list, g: Graph) -> list:
    p = _pool_params(n)
    return [_float_windows(x[0], p["kernel"], p["strides"], p["pads"], -np.inf).max(axis=(4, 5))]


def _maxpool_lower(L: Lowerer, n: Node) -> None:
    x, shape = L.q(n.inputs[0]), _out_shape(L.graph, n)
    L.env[n.outputs[0]] = L.emit("maxpool", [x], _pool_params(n), n.outputs[0], x.scale, x.bound, shape, n.name)


def _avgpool_run(n: Node, x: list, g: Graph) -> list:
    p = _pool_params(n)
    return [_float_windows(x[0], p["kernel"], p["strides"], p["pads"], 0.0).mean(axis=(4, 5))]


def _avgpool_lower(L: Lowerer, n: Node) -> None:
    x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
    p = _pool_params(n)
    k = p["kernel"][0] * p["kernel"][1]
    # the window sum represents the average at scale s_x/k; the fit rescale divides
    y = L.emit("sumpool", [x], p, f"{out}:sum", x.scale / k, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


def _gap_run(n: Node, x: list, g: Graph) -> list:
    return [x[0].mean(axis=(2, 3), keepdims=True)]


def _gap_check(n: Node, g: Graph) -> str | None:
    return None if len(g.tensors[n.inputs[0]].shape) == 4 else "only NCHW inputs are supported"


def _gap_lower(L: Lowerer, n: Node) -> None:
    x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
    k = x.shape[2] * x.shape[3]
    y = L.emit("sum", [x], {"axes": [2, 3]}, f"{out}:sum", x.scale / k, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


# ---------------------------------------------------------------------------------- BatchNormalization


def _bn_affine(n: Node, g: Graph, rank: int) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta, mean, var = (np.asarray(g.constants[i], dtype=np.float64) for i in n.inputs[1:5])
    a = gamma / np.sqrt(var + float(n.attrs.get("epsilon", 1e-5)))
    shp = (1, -1) + (1,) * (rank - 2)
    return a.reshape(shp), (beta - mean * a).reshape(shp)


def _bn_check(n: Node, g: Graph) -> str | None:
    if not all(g.is_const(i) for i in n.inputs[1:5]):
        return "scale, bias, mean and var must be constants (inference mode)"
    if len([o for o in n.outputs if o]) > 1:
        return "training-mode outputs are not supported"
    return None


def _bn_run(n: Node, x: list, g: Graph) -> list:
    a, b = _bn_affine(n, g, x[0].ndim)
    return [x[0] * a + b]


def _bn_lower(L: Lowerer, n: Node) -> None:
    x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
    a, b = _bn_affine(n, L.graph, len(shape))
    a_int, s_a = L.quant_const(a)
    y = L.emit("mul_const", [x], {"c": a_int}, f"{out}:scaled", x.scale * s_a, 0, shape, n.name)
    y = L.emit("add_const", [y], {"c": L.quant_at(b, y.scale)}, f"{out}:shifted", y.scale, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


# ------------------------------------------------------------------------------------------------ Softmax


#: a fill at or below this (or −inf) before a Softmax is a mask: its entries get probability exactly 0
MASK_FILL = -1e3


def _where_parts(n: Node, g: Graph):
    """``(keep, fill, data)`` of ``Where(cond, X, Y)`` with a constant condition and one constant branch: ``keep``
    (bool array) marks where the activation ``data`` is taken, ``fill`` the constant elsewhere."""
    cond, a, b = n.inputs
    c = np.asarray(g.constants[cond]).astype(bool)
    if g.is_const(a) and not g.is_const(b):
        return ~c, np.asarray(g.constants[a], dtype=np.float64), b
    return c, np.asarray(g.constants[b], dtype=np.float64), a


def _where_check(n: Node, g: Graph) -> str | None:
    cond, a, b = n.inputs
    if not g.is_const(cond):
        return "only a constant condition (a mask) is supported"
    if g.is_const(a) == g.is_const(b):
        return "exactly one branch must be a constant (a mask's fill)"
    keep, fill, _ = _where_parts(n, g)
    shape = _out_shape(g, n)
    if np.any(np.broadcast_to(fill, shape)[~np.broadcast_to(keep, shape)] <= MASK_FILL):
        if any(c.op_type != "Softmax" for c in g.consumers(n.outputs[0])):
            return f"a mask fill ≤ {MASK_FILL:g} (−inf) is supported only right before a Softmax"
    return None


def _where_run(n: Node, x: list, g: Graph) -> list:
    return [np.where(x[0].astype(bool), x[1], x[2])]


def _where_lower(L: Lowerer, n: Node) -> None:
    """``Where(mask, x, fill)`` (either branch order). A very negative fill before a Softmax (a causal mask: −inf,
    −1e4) marks entries the Softmax weighs 0; any other fill is ``x·keep + fill·(1 − keep)`` (a product by a 0/1
    constant and an added constant)."""
    keep, fill, data = _where_parts(n, L.graph)
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    keep = np.broadcast_to(keep, shape)
    fill = np.broadcast_to(fill, shape)
    if np.any(fill[~keep] <= MASK_FILL):
        L.softmax_masks[out] = (data, keep.astype(np.int64))
        return
    x = L.q(data)
    y = L.emit("mul_const", [x], {"c": keep.astype(np.int64)}, f"{out}:keep", x.scale, x.bound, shape, n.name)
    c_int = np.round(np.where(keep, 0.0, fill) / y.scale).astype(np.int64)
    L.env[out] = L.emit("add_const", [y], {"c": c_int}, out, y.scale, max(y.bound, float(np.abs(c_int).max())),
                        shape, n.name)


def _argmax_check(n: Node, g: Graph) -> str | None:
    rank = len(g.tensors[n.inputs[0]].shape)
    if int(n.attrs.get("axis", 0)) % rank != rank - 1:
        return "only ArgMax over the last axis is supported"
    if int(n.attrs.get("select_last_index", 0)):
        return "only ArgMax with select_last_index = 0 (the lowest index wins a tie) is supported"
    return None


def _argmax_run(n: Node, x: list, g: Graph) -> list:
    axis = int(n.attrs.get("axis", 0))
    y = np.argmax(x[0], axis=axis)
    return [np.expand_dims(y, axis) if int(n.attrs.get("keepdims", 1)) else y]


def _argmax_lower(L: Lowerer, n: Node) -> None:
    """The index of the largest entry over the last axis (lowest index on a tie), an integer at scale 1: a
    generated token id (``zkchain/onnx/generate.py``). Proven by a one-hot and its gaps to the row maximum."""
    x = L.q(n.inputs[0])
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    C = x.shape[-1]
    kept = tuple(x.shape[:-1]) + (1,)
    y = L.emit("argmax", [x], {"axis": len(x.shape) - 1}, f"{out}:idx", 1.0, C - 1, kept, n.name)
    L.env[out] = L.emit("reshape", [y], {"shape": list(shape)}, out, 1.0, C - 1, shape, n.name)


def _softmax_axis(n: Node, g: Graph) -> int:
    rank = len(g.tensors[n.inputs[0]].shape)
    default = -1 if g.opset >= 13 else 1
    return n.attrs.get("axis", default) % rank


def _softmax_check(n: Node, g: Graph) -> str | None:
    rank = len(g.tensors[n.inputs[0]].shape)
    if _softmax_axis(n, g) != rank - 1:
        return "only Softmax over the last axis is supported"
    return None


def _softmax_run(n: Node, x: list, g: Graph) -> list:
    z = x[0] - x[0].max(axis=-1, keepdims=True)
    e = np.exp(z)
    return [e / e.sum(axis=-1, keepdims=True)]


def _softmax_lower(L: Lowerer, n: Node) -> None:
    """softmax_i = e_i / Σ e with e = T_exp[x − max x] (scale 1/E), 1/Σ from a reciprocal table. Over a masked input
    (a causal mask: :func:`_where_lower`), the masked entries are set to −bound before the row maximum (a masked
    score far above the kept ones would otherwise push every kept exp to 0) and their ``e`` multiplied by 0 before
    the sum."""
    out, shape = n.outputs[0], _out_shape(L.graph, n)
    src, keep = n.inputs[0], None
    masked = L.softmax_masks.get(n.inputs[0])
    if masked is not None:
        src, keep = masked
    x = L.q(src)
    if x.bound > L.limit * 1.0001:
        x = L.requant(x, L.act_scale(src), f"{x.name}:fit", n.name)
    tb = L.cfg["table_bits"]
    red = shape[:-1] + (1,)
    if keep is not None:  # the row maximum over the kept entries only: masked ones become −bound (a constant)
        kb = np.broadcast_to(keep, shape).astype(np.int64)
        B = int(np.ceil(x.bound))
        xk = L.emit("mul_const", [x], {"c": kb}, f"{out}:kept", x.scale, x.bound, shape, n.name)
        x = L.emit("add_const", [xk], {"c": (-B * (1 - kb)).astype(np.int64)}, f"{out}:masked_in", x.scale,
                   x.bound, shape, n.name)
    m = L.emit("max", [x], {"axis": len(shape) - 1}, f"{out}:max", x.scale, x.bound, red, n.name)
    d = L.emit("sub", [x, m], {}, f"{out}:shifted", x.scale, 2 * x.bound, shape, n.name)
    E = L.limit
    e = L.table(d, "exp", np.exp, 1.0 / E, f"{out}:exp", n.name, lo=-(1 << tb) + 1, size=1 << tb, saturate=E)
    if keep is not None:  # masked entries weigh 0 (exactly what exp(−inf) gives in float)
        e = L.emit("mul_const", [e], {"c": np.broadcast_to(keep, shape).astype(np.int64)}, f"{out}:masked", e.scale,
                   e.bound, shape, n.name)
    s = L.emit("sum", [e], {"axes": [len(shape) - 1]}, f"{out}:den", 1.0 / E, E * shape[-1], red, n.name)
    k = max(0, int(np.ceil(np.log2((E * shape[-1] + 1) / ((1 << tb) - 1))))) if E * shape[-1] >= (1 << tb) else 0
    if k:
        s = L.emit("rescale", [s], {"M": 1, "s": k}, f"{out}:den_q", s.scale * 2 ** k, s.bound / 2 ** k, red, n.name,
                   aux="rem")
    P = int(np.ceil(np.log2(E))) + 14
    recip = lambda v: np.where(v > 0, 1.0 / np.maximum(v, 1e-300), 0.0)  # noqa: E731
    # T[v] = round(2^P / (v·2^k)); input "scale" 2^k/E·E = 2^k on the sum of e-units
    r = L.table(QT(s.name, float(2 ** k), s.bound, red), "reciprocal", recip, 2.0 ** -P, f"{out}:recip", n.name,
                lo=0, size=1 << tb, saturate=1 << P)
    y = L.emit("mul", [e, r], {}, f"{out}:prod", 2.0 ** -P, 0, shape, n.name)
    L.env[out] = L.fit(y, out, out, n.name)


# ------------------------------------------------------------------- more elementwise functions (tables)


def _attr_fn(make: Callable[[dict], Callable[[np.ndarray], np.ndarray]]) -> Callable[[Node, Graph], Callable]:
    """Adapter: a function of the node's attributes -> (node, graph) -> elementwise numpy function."""
    return lambda n, g: make(n.attrs)


def _erf(v: np.ndarray) -> np.ndarray:
    import math

    return np.vectorize(math.erf, otypes=[np.float64])(v)


def _softplus(v: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, v)


# name -> (function of attrs, output keeps the input scale?)
_ELEMENTWISE: dict[str, tuple[Callable[[dict], Callable[[np.ndarray], np.ndarray]], bool]] = {
    "Elu": (lambda a: (lambda v: np.where(v > 0, v, a.get("alpha", 1.0) * np.expm1(np.minimum(v, 0)))), False),
    "Celu": (lambda a: (lambda v: np.maximum(v, 0) + np.minimum(0, a.get("alpha", 1.0)
                                                                 * np.expm1(np.minimum(v, 0) / a.get("alpha", 1.0)))),
             False),
    "Selu": (lambda a: (lambda v: a.get("gamma", 1.0507009873554805) * np.where(
        v > 0, v, a.get("alpha", 1.6732632423543772) * np.expm1(np.minimum(v, 0)))), False),
    "HardSigmoid": (lambda a: (lambda v: np.clip(a.get("alpha", 0.2) * v + a.get("beta", 0.5), 0, 1)), False),
    "HardSwish": (lambda a: (lambda v: v * np.clip(v / 6 + 0.5, 0, 1)), False),
    "Softplus": (lambda a: _softplus, False),
    "Softsign": (lambda a: (lambda v: v / (1 + np.abs(v))), False),
    "Mish": (lambda a: (lambda v: v * np.tanh(_softplus(v))), False),
    "Gelu": (lambda a: (lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3))))
             if a.get("approximate", "none") == "tanh" else (lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2)))), False),
    "Erf": (lambda a: _erf, False),
    "Exp": (lambda a: np.exp, False),
    "Log": (lambda a: np.log, False),
    "Sqrt": (lambda a: np.sqrt, False),
    "Reciprocal": (lambda a: (lambda v: 1.0 / v), False),
    "Sin": (lambda a: np.sin, False),
    "Cos": (lambda a: np.cos, False),
    "Tan": (lambda a: np.tan, False),
    "Asin": (lambda a: np.arcsin, False),
    "Acos": (lambda a: np.arccos, False),
    "Atan": (lambda a: np.arctan, False),
    "Sinh": (lambda a: np.sinh, False),
    "Cosh": (lambda a: np.cosh, False),
    "Asinh": (lambda a: np.arcsinh, False),
    "Sign": (lambda a: np.sign, False),
    "Abs": (lambda a: np.abs, True),
    "Floor": (lambda a: np.floor, True),
    "Ceil": (lambda a: np.ceil, True),
    "Round": (lambda a: np.round, True),
}


def _elementwise_op(op_type: str) -> "Op":
    make, keeps = _ELEMENTWISE[op_type]
    return Op(lambda n, x, g: [make(n.attrs)(x[0])], _table_lower(op_type.lower(), _attr_fn(make), keeps_scale=keeps))


def _pow_check(n: Node, g: Graph) -> str | None:
    if _pow_arg(n, g) is None:
        return "only a constant scalar exponent (x^p) or a constant scalar base (b^x) is supported"
    if tuple(g.tensors[n.inputs[_pow_arg(n, g)]].shape) != tuple(_out_shape(g, n)):
        return "the constant must not broadcast the runtime tensor to another shape"
    return None


def _pow_arg(n: Node, g: Graph) -> int | None:
    """Which input of a Pow is the runtime tensor: 0 for ``x^p``, 1 for ``b^x`` (the other a constant scalar)."""
    for i in (0, 1):
        other = n.inputs[1 - i]
        if not g.is_const(n.inputs[i]) and g.is_const(other) and g.constants[other].size == 1:
            return i
    return None


def _pow_fn(n: Node, g: Graph) -> Callable:
    i = _pow_arg(n, g)
    c = float(np.asarray(g.constants[n.inputs[1 - i]]).ravel()[0])
    return (lambda v: np.power(v, c)) if i == 0 else (lambda v: np.power(c, v))


def _neg_lower(L: Lowerer, n: Node) -> None:
    x = L.q(n.inputs[0])
    L.env[n.outputs[0]] = L.emit("mul_const", [x], {"c": np.array(-1, dtype=np.int64)}, n.outputs[0], x.scale,
                                 x.bound, x.shape, n.name)


# ----------------------------------------------------------------------------------------------- reductions


def _reduce_axes(n: Node, g: Graph) -> list[int]:
    rank = len(g.tensors[n.inputs[0]].shape)
    axes = n.attrs.get("axes")
    if axes is None and len(n.inputs) > 1 and n.inputs[1]:
        axes = [int(a) for a in np.asarray(g.constants[n.inputs[1]]).ravel()]
    if axes is None or len(axes) == 0:
        if n.attrs.get("noop_with_empty_axes", 0):
            return []
        axes = list(range(rank))
    return sorted(int(a) % rank for a in axes)


def _reduce_check(n: Node, g: Graph) -> str | None:
    if len(n.inputs) > 1 and n.inputs[1] and not g.is_const(n.inputs[1]):
        return "axes must be a constant"
    return None


def _reduce_run(np_fn: Callable) -> FloatRun:
    return lambda n, x, g: [np_fn(x[0], axis=tuple(_reduce_axes(n, g)), keepdims=bool(n.attrs.get("keepdims", 1)))]


def _reduce_sum_lower(mean: bool) -> Lower:
    def lower(L: Lowerer, n: Node) -> None:
        x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
        axes = _reduce_axes(n, L.graph)
        k = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        # the sum represents the mean at scale s_x/k (the fit rescale divides)
        y = L.emit("sum", [x], {"axes": axes}, f"{out}:sum", x.scale / k if mean else x.scale, 0, kept, n.name)
        if kept != tuple(shape):
            y = L.emit("reshape", [y], {"shape": list(shape)}, f"{out}:squeezed", y.scale, y.bound, shape, n.name)
        L.env[out] = L.fit(y, out, out, n.name)

    return lower


def _reduce_norm_lower(p: int) -> Lower:
    """ReduceL1 = Σ|x| (abs table, sum); ReduceL2 = sqrt(Σ x²) (mul, rescale, sum, rescale, sqrt table)."""

    def lower(L: Lowerer, n: Node) -> None:
        x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
        axes = _reduce_axes(n, L.graph)
        kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        k = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        if x.bound > L.limit * 1.0001:
            x = L.requant(x, L.act_scale(n.inputs[0]), f"{x.name}:fit", n.name)
        if p == 1:
            a = L.table(x, "abs", np.abs, x.scale, f"{out}:abs", n.name)
            y = L.emit("sum", [a], {"axes": axes}, f"{out}:sum", a.scale, 0, kept, n.name)
        else:
            sq = L.emit("mul", [x, x], {}, f"{out}:sq", x.scale ** 2, x.bound ** 2, x.shape, n.name)
            sq_max = float(L.real_max(out)) ** 2  # Σx² ≤ (calibrated max of the norm)²
            sq = L.requant(sq, sq_max / k / L.limit, f"{out}:sq_q", n.name) if x.bound ** 2 > L.limit else sq
            s_ = L.emit("sum", [sq], {"axes": axes}, f"{out}:sum", sq.scale, 0, kept, n.name)
            s_ = L.requant(s_, sq_max / L.limit, f"{out}:sum_q", n.name)
            y = L.table(s_, "sqrt", lambda v: np.sqrt(np.maximum(v, 0)), L.act_scale(out), f"{out}:sqrt", n.name)
        if kept != tuple(shape):
            y = L.emit("reshape", [y], {"shape": list(shape)}, f"{out}:squeezed", y.scale, y.bound, shape, n.name)
        L.env[out] = L.fit(y, out, out, n.name)

    return lower


def _reduce_max_lower(sign: int) -> Lower:
    def lower(L: Lowerer, n: Node) -> None:
        x, out, shape = L.q(n.inputs[0]), n.outputs[0], _out_shape(L.graph, n)
        if sign < 0:  # min(x) = −max(−x)
            x = L.emit("mul_const", [x], {"c": np.array(-1, dtype=np.int64)}, f"{out}:neg", x.scale, x.bound,
                       x.shape, n.name)
        cur = list(x.shape)
        for a in _reduce_axes(n, L.graph):
            cur[a] = 1
            x = L.emit("max", [x], {"axis": a}, f"{out}:max{a}", x.scale, x.bound, tuple(cur), n.name)
        if sign < 0:
            x = L.emit("mul_const", [x], {"c": np.array(-1, dtype=np.int64)}, f"{out}:min", x.scale, x.bound,
                       x.shape, n.name)
        if tuple(cur) != tuple(shape):
            x = L.emit("reshape", [x], {"shape": list(shape)}, out, x.scale, x.bound, shape, n.name)
        L.env[out] = x

    return lower


# =========================================================================================== THE TABLE

ONNX_OPS: dict[str, Op] = {
    "Gemm": Op(_gemm_run, _gemm_lower, _gemm_check),
    "MatMul": Op(_matmul_run, _matmul_lower, _matmul_check),
    "Add": Op(_add_run, lambda L, n: _addsub_lower(L, n, +1), _add_check),
    "Sub": Op(_sub_run, lambda L, n: _addsub_lower(L, n, -1), _binary_check),
    "Mul": Op(_mul_run, _mul_lower, _binary_check),
    "Div": Op(_div_run, _div_lower, _div_check),
    "Relu": Op(lambda n, x, g: [np.maximum(x[0], 0.0)],
               _table_lower("relu", lambda n, g: (lambda v: np.maximum(v, 0.0)), keeps_scale=True)),
    "LeakyRelu": Op(lambda n, x, g: [_leaky(n, g)(x[0])], _table_lower("leakyrelu", _leaky, keeps_scale=True)),
    "Sigmoid": Op(lambda n, x, g: [_sigmoid(x[0])], _table_lower("sigmoid", lambda n, g: _sigmoid, keeps_scale=False)),
    "Tanh": Op(lambda n, x, g: [np.tanh(x[0])], _table_lower("tanh", lambda n, g: np.tanh, keeps_scale=False)),
    "Clip": Op(_clip_run, _table_lower("clip", lambda n, g: (lambda v: np.clip(v, *_clip_bounds(n, g))),
                                       keeps_scale=True), _clip_check),
    "Flatten": Op(_reshape_run, _reshape_lower),
    "Reshape": Op(_reshape_run, _reshape_lower),
    "Squeeze": Op(_reshape_run, _reshape_lower),
    "Unsqueeze": Op(_reshape_run, _reshape_lower),
    "Gather": Op(_gather_run, _gather_lower, _gather_check),  # constant indices: take (or a relabelling)
    "Transpose": Op(_transpose_run, _transpose_lower),
    "Concat": Op(_concat_run, _concat_lower, _concat_check),
    "Slice": Op(_slice_run, _slice_lower, _slice_check),
    "Split": Op(_split_run, _split_lower),
    "ConvTranspose": Op(_convt_run, _convt_lower, _convt_check),
    "Expand": Op(_expand_run, _movement_lower("expand", _expand_params), _expand_check),
    "Tile": Op(_tile_run, _movement_lower("tile", _tile_params), _tile_check),
    "Pad": Op(_pad_run, _movement_lower("pad", _pad_params), _pad_check),
    "Resize": Op(_resize_run, _movement_lower("upsample", _resize_params), _resize_check),
    "Upsample": Op(_resize_run, _movement_lower("upsample", _resize_params), _resize_check),
    "Trilu": Op(_trilu_run, _movement_lower("trilu", _trilu_params), _trilu_check),
    "PRelu": Op(lambda n, x, g: [_prelu(n, g)(x[0])], _table_lower("prelu", _prelu, keeps_scale=True), _prelu_check),
    "Identity": Op(_identity_run, _alias_lower),
    "Dropout": Op(_identity_run, _alias_lower, _dropout_check),
    "Cast": Op(_identity_run, _alias_lower, _cast_check),
    "Conv": Op(_conv_run, _conv_lower, _conv_check),
    "MaxPool": Op(_maxpool_run, _maxpool_lower, _pool_check),
    "AveragePool": Op(_avgpool_run, _avgpool_lower, _pool_check),
    "GlobalAveragePool": Op(_gap_run, _gap_lower, _gap_check),
    "BatchNormalization": Op(_bn_run, _bn_lower, _bn_check),
    "Softmax": Op(_softmax_run, _softmax_lower, _softmax_check),
    "Where": Op(_where_run, _where_lower, _where_check),
    "ArgMax": Op(_argmax_run, _argmax_lower, _argmax_check),
    "Pow": Op(lambda n, x, g: [np.power(x[0], x[1])], _table_lower("pow", _pow_fn, keeps_scale=False, arg=_pow_arg),
               _pow_check),
    "Neg": Op(lambda n, x, g: [-x[0]], _neg_lower),
    "Rsqrt": Op(lambda n, x, g: [1.0 / np.sqrt(x[0])], _rsqrt_lower),  # zkchain's own: importer.fuse_rsqrt
    "ReduceSum": Op(_reduce_run(np.sum), _reduce_sum_lower(mean=False), _reduce_check),
    "ReduceMean": Op(_reduce_run(np.mean), _reduce_sum_lower(mean=True), _reduce_check),
    "ReduceMax": Op(_reduce_run(np.max), _reduce_max_lower(+1), _reduce_check),
    "ReduceMin": Op(_reduce_run(np.min), _reduce_max_lower(-1), _reduce_check),
    "ReduceL1": Op(_reduce_run(lambda v, **kw: np.sum(np.abs(v), **kw)), _reduce_norm_lower(1), _reduce_check),
    "ReduceL2": Op(_reduce_run(lambda v, **kw: np.sqrt(np.sum(v * v, **kw))), _reduce_norm_lower(2), _reduce_check),
    **{name: _elementwise_op(name) for name in _ELEMENTWISE},  # one table each (see _ELEMENTWISE)
}


def check_supported(graph: Graph) -> None:
    """Raise :class:`UnsupportedModelError` listing *every* unsupported node (name and op type) at once."""
    problems = []
    for n in graph.nodes:
        op = ONNX_OPS.get(n.op_type)
        if op is None:
            problems.append(f"{n.name} ({n.op_type}): operator not supported")
            continue
        try:
            why = op.check(n, graph) if op.check else None
        except Exception as exc:  # a malformed node: report it with the others rather than crash
            why = f"malformed node ({type(exc).__name__}: {exc})"
        if why:
            problems.append(f"{n.name} ({n.op_type}): {why}")
    if len(graph.inputs) != 1:
        problems.append(f"the model has {len(graph.inputs)} inputs; exactly one is supported")
    if problems:
        head = f"{len(problems)} unsupported node(s) in {graph.source or 'the model'}; ops that compile (for " \
               f"`predict`; `zkchain compile` then says which nodes cannot be proven yet): {', '.join(sorted(ONNX_OPS))}"
        raise UnsupportedModelError(head + "\n  " + "\n  ".join(problems))


def float_execute(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Run the float semantics of the graph on one sample (shape = the graph input's). Returns every runtime
    tensor by name (float64)."""
    env: dict[str, np.ndarray] = {graph.inputs[0].name: np.asarray(x, dtype=np.float64).reshape(graph.inputs[0].shape)}
    for n in graph.nodes:
        ins = []
        for i in n.inputs:
            if not i:
                ins.append(None)
            elif i in env:
                ins.append(env[i])
            else:
                ins.append(np.asarray(graph.constants[i], dtype=np.float64))
        with np.errstate(all="ignore"):
            outs = ONNX_OPS[n.op_type].run(n, ins, graph)
        for name, v in zip(n.outputs, outs):
            env[name] = np.asarray(v, dtype=np.float64)
    return env


def lower_graph(L: Lowerer) -> None:
    """Walk the graph in topological order and lower every node (inputs must already be in ``L.env``)."""
    for n in L.graph.nodes:
        ONNX_OPS[n.op_type].lower(L, n)


__all__ = ["ONNX_OPS", "Op", "check_supported", "float_execute", "lower_graph", "UnsupportedModelError"]
