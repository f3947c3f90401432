"""Random small ONNX graphs drawn from every op the compiler accepts, for the composition fuzzer.

A graph is 2–5 nodes on a vector ``(1, F)`` or an image ``(1, C, H, W)`` input (every dimension 1–16, images up to
3 channels and 6×6): Gemm, Conv (kernel 1–3, padding 0/1, stride 1/2), MaxPool / AveragePool 2×2 (padding 0/1),
GlobalAveragePool, BatchNormalization, Flatten, the table non-linearities (Relu, Sigmoid, Tanh, LeakyRelu), Add /
Sub / Mul / Div with a constant of every broadcast shape (scalar, per feature or channel, per entry), and
residual Add / Mul of two activations. On vectors, a second stream of draws (so the first stream's graphs keep
their shape) inserts the Gather-block ops: LayerNormalization, Softmax, a row mean or row maximum subtracted
(a broadcast), Slice, Concat with an earlier activation and Gather with constant indices. Whatever compiles must
prove; :func:`random_graph` is deterministic in its seed, so a failure names a graph that can be rebuilt.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

TABLES = ("Relu", "Sigmoid", "Tanh", "LeakyRelu")


class _G:
    def __init__(self, rng: np.random.Generator):
        self.rng, self.nodes, self.inits = rng, [], []
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, shape, scale=0.5, offset=0.0, positive=False) -> str:
        v = self.rng.normal(size=shape) * scale + offset
        if positive:
            v = np.abs(v) + 0.5
        n = self.name("k")
        self.inits.append(numpy_helper.from_array(v.astype(np.float32), n))
        return n

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name("t")
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.name(op.lower()), **attrs))
        return out


def _vector_op(g: _G, rng: np.random.Generator, x: str, cur: list[int], seen: dict) -> tuple[str, list[int], str]:
    """One op of the second stream on a ``(1, F)`` activation: ``(output, its shape, description)``."""
    F = cur[1]
    op = str(rng.choice(["layernorm", "softmax", "centre", "rowmax", "slice", "concat", "take"]))
    i64 = lambda v: g.inits.append(numpy_helper.from_array(np.asarray(v, np.int64), n := g.name("i"))) or n  # noqa: E731
    if op == "layernorm":
        return g.node("LayerNormalization", [x, g.const((F,), 0.2, 1.0), g.const((F,), 0.1)], axis=-1), cur, op
    if op == "softmax":
        return g.node("Softmax", [x], axis=-1), cur, op
    if op in ("centre", "rowmax"):
        m = g.node("ReduceMean" if op == "centre" else "ReduceMax", [x], axes=[-1], keepdims=1)
        return g.node("Sub", [x, m]), cur, op
    if op == "slice":
        start, step = int(rng.integers(0, F - 1)), int(rng.integers(1, 3))
        n = len(range(start, F, step))
        return g.node("Slice", [x, i64([start]), i64([F]), i64([1]), i64([step])]), [1, n], f"slice{start}::{step}"
    if op == "concat":
        other = str(rng.choice(seen.get(tuple(cur), [x])))
        return g.node("Concat", [x, other], axis=1), [1, 2 * F], op
    idx = [int(i) for i in rng.integers(0, F, size=int(rng.integers(1, F + 1)))]
    return g.node("Gather", [x, i64(idx)], axis=1), [1, len(idx)], f"take{idx}"


def random_graph(seed: int):
    """``(model, input shape, description)`` for graph ``seed``."""
    rng = np.random.default_rng(seed)
    g = _G(rng)
    if rng.random() < 0.5:
        shape = [1, int(rng.integers(1, 17))]
    else:
        h = int(rng.integers(2, 7))
        shape = [1, int(rng.integers(1, 4)), h, h]
    x, cur = "x", list(shape)
    seen = {tuple(cur): ["x"]}  # same-shape tensors for residuals
    desc = []
    more = np.random.default_rng([seed, 1])  # the movement / normalisation ops (see the module doc)
    for _ in range(int(rng.integers(2, 6))):
        image = len(cur) == 4
        if not image and cur[1] >= 2 and more.random() < 0.4:
            x, cur, op = _vector_op(g, more, x, cur, seen)
            desc.append(op)
            seen.setdefault(tuple(cur), []).append(x)
        choices = ["const", "table", "residual"] + (["conv", "pool", "gap", "bn", "flatten"] if image else ["gemm"])
        op = str(rng.choice(choices))
        if op == "gemm":
            n = int(rng.integers(1, 17))
            x = g.node("Gemm", [x, g.const((n, cur[1])), g.const((n,))], transB=1)
            cur = [1, n]
        elif op == "conv":
            C, H = cur[1], cur[2]
            k = int(rng.integers(1, min(3, H) + 1))
            pad, stride = int(rng.integers(0, 2)), int(rng.integers(1, 3))
            oc = int(rng.integers(1, 4))
            oh = (H + 2 * pad - k) // stride + 1
            if oh < 1:
                continue
            x = g.node("Conv", [x, g.const((oc, C, k, k)), g.const((oc,))], kernel_shape=[k, k], pads=[pad] * 4,
                       strides=[stride, stride])
            cur = [1, oc, oh, oh]
            op = f"conv{k}p{pad}s{stride}"
        elif op == "pool":
            H, pad = cur[2], int(rng.integers(0, 2))
            if H + 2 * pad < 2:
                continue
            kind = str(rng.choice(["MaxPool", "AveragePool"]))
            extra = {"count_include_pad": 1} if kind == "AveragePool" else {}
            x = g.node(kind, [x], kernel_shape=[2, 2], strides=[2, 2], pads=[pad] * 4, **extra)
            oh = (H + 2 * pad - 2) // 2 + 1
            cur = [1, cur[1], oh, oh]
            op = f"{kind}p{pad}"
        elif op == "gap":
            x = g.node("GlobalAveragePool", [x])
            cur = [1, cur[1], 1, 1]
        elif op == "bn":
            C = cur[1]
            x = g.node("BatchNormalization", [x, g.const((C,), 0.3, 1.0), g.const((C,), 0.3), g.const((C,), 0.3),
                                              g.const((C,), positive=True)])
        elif op == "flatten":
            x = g.node("Flatten", [x])
            cur = [1, int(np.prod(cur[1:]))]
        elif op == "table":
            t = str(rng.choice(TABLES))
            x = g.node(t, [x], **({"alpha": 0.1} if t == "LeakyRelu" else {}))
            op = t
        elif op == "const":
            kind = str(rng.choice(["Add", "Sub", "Mul", "Div"]))
            if image:
                shapes = [(1,), (1, cur[1], 1, 1), tuple(cur)]
            else:
                shapes = [(1,), tuple(cur)]
            cs = shapes[int(rng.integers(len(shapes)))]
            c = g.const(cs, 0.3, 1.0 if kind in ("Mul", "Div") else 0.0, positive=kind == "Div")
            x = g.node(kind, [x, c])
            op = f"{kind}{'x'.join(map(str, cs))}"
        elif op == "residual":
            others = seen.get(tuple(cur), [])
            if not others:
                continue
            kind = str(rng.choice(["Add", "Mul"]))
            x = g.node(kind, [x, str(rng.choice(others))])
            op = f"residual-{kind}"
        desc.append(op)
        seen.setdefault(tuple(cur), []).append(x)
    if len(cur) == 4:
        x = g.node("Flatten", [x])
        cur = [1, int(np.prod(cur[1:]))]
        desc.append("flatten")
    if rng.random() < 0.7 or not desc:
        n = int(rng.integers(1, 5))
        x = g.node("Gemm", [x, g.const((n, cur[1])), g.const((n,))], transB=1)
        cur = [1, n]
        desc.append("gemm")
    g.nodes[-1].output[0] = "y"
    graph = helper.make_graph(g.nodes, f"fuzz{seed}", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, cur)], initializer=g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tuple(shape), " → ".join(desc)
