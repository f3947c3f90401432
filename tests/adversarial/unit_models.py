"""Tiny ONNX models, one per op and option the compiler lowers, for the adversarial harness.

Each builder returns ``(onnx.ModelProto, input shape)``; weights are small seeded random values so every model
compiles in well under a second and proves in a fraction of one.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(nodes, inits, x_shape, y_shape, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))
    g = helper.make_graph(nodes, name, [x], [y], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _w(rng, name, shape, scale=0.5):
    return numpy_helper.from_array((rng.normal(size=shape) * scale).astype(np.float32), name)


def gemm_relu(rng):
    """x(1×6) → Gemm → Relu → Gemm → y(1×3)."""
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Relu", ["h"], ["a"], name="relu"),
             helper.make_node("Gemm", ["a", "W2", "b2"], ["y"], transB=1, name="fc2")]
    inits = [_w(rng, "W1", (5, 6)), _w(rng, "b1", (5,)), _w(rng, "W2", (3, 5)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 6), (1, 3), "gemm_relu"), (1, 6)


def table_op(op: str, **attrs):
    """x(1×4) → Gemm → <op> (a table non-linearity) → Gemm → y(1×3)."""

    def build(rng):
        nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
                 helper.make_node(op, ["h"], ["a"], name=op.lower(), **attrs),
                 helper.make_node("Gemm", ["a", "W2", "b2"], ["y"], transB=1, name="fc2")]
        inits = [_w(rng, "W1", (4, 4)), _w(rng, "b1", (4,)), _w(rng, "W2", (3, 4)), _w(rng, "b2", (3,))]
        return _model(nodes, inits, (1, 4), (1, 3), f"table_{op}"), (1, 4)

    return build


def pool_gemm(kind: str, k: int, s: int, pad: int, C: int = 1, H: int = 4):
    """x(1×C×H×H) → MaxPool/AveragePool(k×k, stride s, pads) → Flatten → Gemm → y(1×3)."""

    def build(rng):
        oh = (H + 2 * pad - k) // s + 1
        extra = {"count_include_pad": 1} if kind == "AveragePool" else {}
        nodes = [helper.make_node(kind, ["x"], ["p"], kernel_shape=[k, k], strides=[s, s], pads=[pad] * 4,
                                  name="pool", **extra),
                 helper.make_node("Flatten", ["p"], ["f"], name="flat"),
                 helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
        inits = [_w(rng, "W", (3, C * oh * oh)), _w(rng, "b", (3,))]
        return _model(nodes, inits, (1, C, H, H), (1, 3), f"{kind}{k}s{s}p{pad}"), (1, C, H, H)

    return build


def conv_relu_pool(pad: int, stride: int, pool: str = "MaxPool"):
    """x(1×1×6×6) → Conv(3×3, pads, stride) → Relu → <pool>(2×2, pad 1) → Flatten → Gemm → y(1×3)."""

    def build(rng):
        oh = (6 + 2 * pad - 3) // stride + 1
        ph = (oh + 2 - 2) // 2 + 1
        nodes = [helper.make_node("Conv", ["x", "K", "kb"], ["c"], kernel_shape=[3, 3], pads=[pad] * 4,
                                  strides=[stride, stride], name="conv"),
                 helper.make_node("Relu", ["c"], ["r"], name="relu"),
                 helper.make_node(pool, ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
                                  name="pool", **({"count_include_pad": 1} if pool == "AveragePool" else {})),
                 helper.make_node("Flatten", ["p"], ["f"], name="flat"),
                 helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
        inits = [_w(rng, "K", (2, 1, 3, 3)), _w(rng, "kb", (2,)), _w(rng, "W", (3, 2 * ph * ph)),
                 _w(rng, "b", (3,))]
        return _model(nodes, inits, (1, 1, 6, 6), (1, 3), f"conv_p{pad}s{stride}_{pool}"), (1, 1, 6, 6)

    return build


def conv_patches(rng):
    """x(1×16×4×4) → Conv(64, 3×3, pad 1) → Relu → MaxPool(2×2) → Conv(4, 3×3, pad 1) → Flatten → Gemm → y(1×3):
    the first convolution has enough channels to be lowered as patches × weights (im2col, a Gather and a
    multi-row MatMul; ``lower.PATCHES_MIN_KERNEL``, ``PATCHES_FACTOR``), the second stays one polynomial product
    reading its grid."""
    mk = helper.make_node
    nodes = [mk("Conv", ["x", "K1", "kb1"], ["c1"], kernel_shape=[3, 3], pads=[1] * 4, name="conv1"),
             mk("Relu", ["c1"], ["r1"], name="relu1"),
             mk("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
             mk("Conv", ["p1", "K2", "kb2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4, name="conv2"),
             mk("Flatten", ["c2"], ["f"], name="flat"),
             mk("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [_w(rng, "K1", (64, 16, 3, 3), 0.1), _w(rng, "kb1", (64,)), _w(rng, "K2", (4, 64, 3, 3), 0.1),
             _w(rng, "kb2", (4,)), _w(rng, "W", (3, 16)), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 16, 4, 4), (1, 3), "conv_patches"), (1, 16, 4, 4)


def batch_cnn(rng):
    """x(3×1×6×6) → Conv(2, 3×3, pad 1) → Relu → MaxPool(2×2) → Conv(2, 3×3, pad 1) → AveragePool(2×2, stride 1)
    → Flatten → Gemm → y(3×3): three images in one proof (the row axis over image grids). Both convolutions are
    lowered as patches × weights over the three images' pixels, the pooling sum as a Gather; the max pooling's
    taps act on the 3·2 planes."""
    mk = helper.make_node
    nodes = [mk("Conv", ["x", "K1", "kb1"], ["c1"], kernel_shape=[3, 3], pads=[1] * 4, name="conv1"),
             mk("Relu", ["c1"], ["r1"], name="relu1"),
             mk("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
             mk("Conv", ["p1", "K2", "kb2"], ["c2"], kernel_shape=[3, 3], pads=[1] * 4, name="conv2"),
             mk("AveragePool", ["c2"], ["p2"], kernel_shape=[2, 2], strides=[1, 1], name="pool2"),
             mk("Flatten", ["p2"], ["f"], name="flat"),
             mk("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [_w(rng, "K1", (2, 1, 3, 3)), _w(rng, "kb1", (2,)), _w(rng, "K2", (2, 2, 3, 3)), _w(rng, "kb2", (2,)),
             _w(rng, "W", (3, 8)), _w(rng, "b", (3,))]
    return _model(nodes, inits, (3, 1, 6, 6), (3, 3), "batch_cnn"), (3, 1, 6, 6)


def shared_grid(rng):
    """x(1×2×4×4) → Relu → r, read three ways: Conv(3×3, pad 1), Conv(3×3, pad 0) and Flatten → Gemm; the three
    Gemm outputs added → y(1×3). ``r`` stays on its plain grid and the padded convolution reads a copy placed by a
    Gather (``Lowering.on_grid``)."""
    mk = helper.make_node
    nodes = [mk("Relu", ["x"], ["r"], name="relu"),
             mk("Conv", ["r", "K1", "kb1"], ["ca"], kernel_shape=[3, 3], pads=[1] * 4, name="conv_pad1"),
             mk("Conv", ["r", "K2", "kb2"], ["cb"], kernel_shape=[3, 3], name="conv_pad0"),
             mk("Flatten", ["ca"], ["fa"], name="flat_a"), mk("Flatten", ["cb"], ["fb"], name="flat_b"),
             mk("Flatten", ["r"], ["fr"], name="flat_r"),
             mk("Gemm", ["fa", "Wa", "ba"], ["ya"], transB=1, name="fc_a"),
             mk("Gemm", ["fb", "Wb", "bb"], ["yb"], transB=1, name="fc_b"),
             mk("Gemm", ["fr", "Wr", "br"], ["yr"], transB=1, name="fc_r"),
             mk("Add", ["ya", "yb"], ["yab"], name="sum_ab"), mk("Add", ["yab", "yr"], ["y"], name="sum_r")]
    inits = [_w(rng, "K1", (2, 2, 3, 3)), _w(rng, "kb1", (2,)), _w(rng, "K2", (2, 2, 3, 3)), _w(rng, "kb2", (2,)),
             _w(rng, "Wa", (3, 32)), _w(rng, "ba", (3,)), _w(rng, "Wb", (3, 8)), _w(rng, "bb", (3,)),
             _w(rng, "Wr", (3, 32)), _w(rng, "br", (3,))]
    return _model(nodes, inits, (1, 2, 4, 4), (1, 3), "shared_grid"), (1, 2, 4, 4)


def global_avg(channels: int = 2, size: int = 3, name: str = "global_avg"):
    """x(1×2×size×size) → Conv(1×1, ``channels``) → GlobalAveragePool → Flatten → Gemm → y(1×3). With many channels
    (``wide_global_avg``: 32 over 6×6) the sum pool's diagonal Conv kernel (~C²·H·W = 36,864 coefficients) would
    dwarf its input, and the window sums are a Gather."""

    def build(rng):
        nodes = [helper.make_node("Conv", ["x", "K", "kb"], ["c"], kernel_shape=[1, 1], name="conv"),
                 helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
                 helper.make_node("Flatten", ["g"], ["f"], name="flat"),
                 helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
        inits = [_w(rng, "K", (channels, 2, 1, 1)), _w(rng, "kb", (channels,)), _w(rng, "W", (3, channels)),
                 _w(rng, "b", (3,))]
        return _model(nodes, inits, (1, 2, size, size), (1, 3), name), (1, 2, size, size)

    return build


def square_residual(rng):
    """x(1×4) → Gemm → h; y = Gemm(h·h + h): a Hadamard product of two activations and a residual add."""
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Mul", ["h", "h"], ["sq"], name="square"),
             helper.make_node("Add", ["sq", "h"], ["s"], name="residual"),
             helper.make_node("Gemm", ["s", "W2", "b2"], ["y"], transB=1, name="fc2")]
    inits = [_w(rng, "W1", (4, 4)), _w(rng, "b1", (4,)), _w(rng, "W2", (3, 4)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 4), (1, 3), "square_residual"), (1, 4)


def batch_norm(rng):
    """x(1×2×3×3) → BatchNormalization (per-channel scale and shift) → Relu → Flatten → Gemm → y(1×3)."""
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "bb", "mu", "var"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [numpy_helper.from_array(np.array([1.5, 0.7], np.float32), "s"),
             numpy_helper.from_array(np.array([0.2, -0.3], np.float32), "bb"),
             numpy_helper.from_array(np.array([0.1, -0.1], np.float32), "mu"),
             numpy_helper.from_array(np.array([1.2, 0.8], np.float32), "var"),
             _w(rng, "W", (3, 18)), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 2, 3, 3), (1, 3), "batch_norm"), (1, 2, 3, 3)


def rows_matmul(rng):
    """x(1×4×6) → MatMul+Add → Relu → MatMul+Add → y(1×4×3): one weight matrix for every row (a sequence)."""
    mk = helper.make_node
    nodes = [mk("MatMul", ["x", "W1"], ["h"], name="fc1"), mk("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
             mk("Relu", ["hb"], ["a"], name="relu"),
             mk("MatMul", ["a", "W2"], ["o"], name="fc2"), mk("Add", ["o", "b2"], ["y"], name="fc2_bias")]
    inits = [_w(rng, "W1", (6, 5)), _w(rng, "b1", (5,)), _w(rng, "W2", (5, 3)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 4, 6), (1, 4, 3), "rows_matmul"), (1, 4, 6)


def movement(rng):
    """x(1×3×4) → Transpose → MatMul+Add → Relu → a(1×4×5); Concat[a, ReduceMean(a, last axis)] → MatMul+Add
    → y(1×4×3): a permutation, a row mean and a concatenation (Gather blocks) between multi-row matmuls."""
    mk = helper.make_node
    nodes = [mk("Transpose", ["x"], ["t"], perm=[0, 2, 1], name="swap"),
             mk("MatMul", ["t", "W1"], ["h"], name="fc1"), mk("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
             mk("Relu", ["hb"], ["a"], name="relu"),
             mk("ReduceMean", ["a"], ["m"], axes=[-1], keepdims=1, name="mean"),
             mk("Concat", ["a", "m"], ["c"], axis=-1, name="cat"),
             mk("MatMul", ["c", "W2"], ["o"], name="fc2"), mk("Add", ["o", "b2"], ["y"], name="fc2_bias")]
    inits = [_w(rng, "W1", (3, 5)), _w(rng, "b1", (5,)), _w(rng, "W2", (6, 3)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 3, 4), (1, 4, 3), "movement"), (1, 3, 4)


def slice_split(rng):
    """x(1×6) → Gemm → h(1×8) → Split [3, 5] → a + b[0::2] → Relu → Gather [2, 0, 0, 1] → Gemm → y(1×3):
    strided and offset selections (Gather blocks) of one activation."""
    mk = helper.make_node
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [mk("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             mk("Split", ["h", "parts"], ["a", "b"], axis=-1, name="split"),
             mk("Slice", ["b", "st", "en", "ax", "sp"], ["bs"], name="every_other"),
             mk("Add", ["a", "bs"], ["s"], name="sum"), mk("Relu", ["s"], ["r"], name="relu"),
             mk("Gather", ["r", "idx"], ["g"], axis=1, name="reorder"),
             mk("Gemm", ["g", "W2", "b2"], ["y"], transB=1, name="fc2")]
    inits = [_w(rng, "W1", (8, 6)), _w(rng, "b1", (8,)), i64("parts", [3, 5]), i64("st", [0]), i64("en", [5]),
             i64("ax", [-1]), i64("sp", [2]), i64("idx", [2, 0, 0, 1]), _w(rng, "W2", (3, 4)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 6), (1, 3), "slice_split"), (1, 6)


def layer_norm(rng):
    """x(1×6) → Gemm → LayerNorm written out (ReduceMean, Sub, Mul, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β)
    → Gemm → y(1×3): row means, per-row scalars broadcast over the row (Gather blocks)."""
    mk = helper.make_node
    nodes = [mk("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             mk("ReduceMean", ["h"], ["mu"], axes=[-1], keepdims=1, name="mean"),
             mk("Sub", ["h", "mu"], ["d"], name="centre"), mk("Mul", ["d", "d"], ["d2"], name="square"),
             mk("ReduceMean", ["d2"], ["var"], axes=[-1], keepdims=1, name="variance"),
             mk("Add", ["var", "eps"], ["ve"], name="epsilon"), mk("Sqrt", ["ve"], ["std"], name="sqrt"),
             mk("Div", ["d", "std"], ["n"], name="normalise"), mk("Mul", ["n", "gamma"], ["ng"], name="gamma"),
             mk("Add", ["ng", "beta"], ["z"], name="beta"), mk("Gemm", ["z", "W2", "b2"], ["y"], transB=1, name="fc2")]
    inits = [_w(rng, "W1", (8, 6), 1.0), _w(rng, "b1", (8,)),
             numpy_helper.from_array(np.array([1e-5], np.float32), "eps"),
             numpy_helper.from_array((1 + 0.3 * rng.normal(size=8)).astype(np.float32), "gamma"),
             _w(rng, "beta", (8,), 0.1), _w(rng, "W2", (3, 8)), _w(rng, "b2", (3,))]
    return _model(nodes, inits, (1, 6), (1, 3), "layer_norm"), (1, 6)


def attention(rng):
    """x(3×4) → Q, K, V projections (MatMul) → Transpose K → Q·Kᵀ (a product of two activations) → ·1/2 →
    Softmax → ·V (another) → MatMul → y(3×2): one self-attention head."""
    mk = helper.make_node
    nodes = [mk("MatMul", ["x", "Wq"], ["q"], name="q_proj"), mk("MatMul", ["x", "Wk"], ["k"], name="k_proj"),
             mk("MatMul", ["x", "Wv"], ["v"], name="v_proj"), mk("Transpose", ["k"], ["kt"], perm=[1, 0], name="kT"),
             mk("MatMul", ["q", "kt"], ["s"], name="scores"), mk("Mul", ["s", "half"], ["ss"], name="scale"),
             mk("Softmax", ["ss"], ["p"], axis=-1, name="softmax"), mk("MatMul", ["p", "v"], ["o"], name="attend"),
             mk("MatMul", ["o", "Wo"], ["y"], name="out_proj")]
    inits = [_w(rng, "Wq", (4, 4), 0.8), _w(rng, "Wk", (4, 4), 0.8), _w(rng, "Wv", (4, 4)), _w(rng, "Wo", (4, 2)),
             numpy_helper.from_array(np.array(0.5, np.float32), "half")]
    return _model(nodes, inits, (3, 4), (3, 2), "attention"), (3, 4)


def embedding(rng):
    """ids(4) int64 → Gather(E[6×3]) + positional constant → MatMul → y(4×2): token ids looked up in a private
    embedding table (one map table per column)."""
    mk = helper.make_node
    nodes = [mk("Gather", ["E", "x"], ["e"], axis=0, name="embed"), mk("Add", ["e", "P"], ["h"], name="position"),
             mk("MatMul", ["h", "W"], ["y"], name="head")]
    inits = [_w(rng, "E", (6, 3), 1.0), _w(rng, "P", (4, 3), 0.2), _w(rng, "W", (3, 2))]
    x = helper.make_tensor_value_info("x", TensorProto.INT64, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])
    g = helper.make_graph(nodes, "embedding", [x], [y], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), (4,)


def spatial_movement(rng):
    """x(1×1×3×3) → Pad (one zero row below, one column right) → Conv 3×3 pads 1 → PRelu (a slope per channel:
    Relu, Sub, Mul, Add) → Resize
    (nearest, ×2) → Trilu (upper) → Flatten → Gemm → y(1×3): movement Gathers (pad, upsample, a triangle of
    rows) around a convolution that reads the padded tensor through a copy on its own padded grid."""
    mk = helper.make_node
    const = lambda name, v, dt=np.int64: numpy_helper.from_array(np.array(v, dt), name)  # noqa: E731
    nodes = [mk("Pad", ["x", "pads"], ["p"], mode="constant", name="pad"),
             mk("Conv", ["p", "K", "kb"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
             mk("PRelu", ["c", "slope"], ["r"], name="prelu"),
             mk("Resize", ["r", "", "scales"], ["u"], mode="nearest", name="upsample"),
             mk("Trilu", ["u"], ["t"], upper=1, name="triangle"),
             mk("Flatten", ["t"], ["f"], name="flat"), mk("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [const("pads", [0, 0, 0, 0, 0, 0, 1, 1]), _w(rng, "K", (2, 1, 3, 3)), _w(rng, "kb", (2,)),
             const("slope", [[[0.2]], [[-0.3]]], np.float32), const("scales", [1, 1, 2, 2], np.float32),
             _w(rng, "W", (3, 2 * 8 * 8), 0.3), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 1, 3, 3), (1, 3), "spatial_movement"), (1, 1, 3, 3)


def conv_transpose(rng):
    """x(1×2×3×3) → ConvTranspose (3×3, stride 2, pads 1, output_padding 1) → Relu → Flatten → Gemm → y(1×3):
    the input spread two apart and padded (a Gather), then a convolution with the flipped kernel."""
    mk = helper.make_node
    nodes = [mk("ConvTranspose", ["x", "K", "kb"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                output_padding=[1, 1], name="deconv"),
             mk("Relu", ["c"], ["r"], name="relu"), mk("Flatten", ["r"], ["f"], name="flat"),
             mk("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [_w(rng, "K", (2, 2, 3, 3)), _w(rng, "kb", (2,)), _w(rng, "W", (3, 2 * 6 * 6), 0.3), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 2, 3, 3), (1, 3), "conv_transpose"), (1, 2, 3, 3)


def conv1d(rng):
    """x(1×2×8) → Conv1d (k 3, pads 1) → Relu → MaxPool1d (2) → AveragePool1d (2) → Flatten → Gemm → y(1×3): 1-D
    windows lifted to their 2-D forms over (N, C, 1, L) at import."""
    mk = helper.make_node
    nodes = [mk("Conv", ["x", "K", "kb"], ["c"], kernel_shape=[3], pads=[1, 1], name="conv"),
             mk("Relu", ["c"], ["r"], name="relu"), mk("MaxPool", ["r"], ["m"], kernel_shape=[2], strides=[2], name="max"),
             mk("AveragePool", ["m"], ["a"], kernel_shape=[2], strides=[2], name="avg"),
             mk("Flatten", ["a"], ["f"], name="flat"), mk("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [_w(rng, "K", (3, 2, 3)), _w(rng, "kb", (3,)), _w(rng, "W", (3, 3 * 2)), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 2, 8), (1, 3), "conv1d"), (1, 2, 8)


def lstm(rng):
    """x(1×2) → Reshape (2 steps × 1 × 1) → LSTM (hidden 2, a constant initial hidden state) → Y_h → y(1×2): the
    recurrence unrolled at import into Gemms, Sigmoid/Tanh tables and products of two activations (the second
    step reads the first step's H and C)."""
    mk = helper.make_node
    f32 = lambda name, v: numpy_helper.from_array(np.asarray(v, np.float32), name)  # noqa: E731
    nodes = [mk("Reshape", ["x", "seq"], ["xs"], name="to_seq"),
             mk("LSTM", ["xs", "W", "R", "B", "", "h0"], ["", "hT"], hidden_size=2, name="lstm"),
             mk("Reshape", ["hT", "flat"], ["y"], name="last")]
    inits = [numpy_helper.from_array(np.array([2, 1, 1], np.int64), "seq"), _w(rng, "W", (1, 8, 1), 1.0),
             _w(rng, "R", (1, 8, 2), 0.8), _w(rng, "B", (1, 16), 0.3), f32("h0", 0.2 * rng.normal(size=(1, 1, 2))),
             numpy_helper.from_array(np.array([1, 2], np.int64), "flat")]
    return _model(nodes, inits, (1, 2), (1, 2), "lstm"), (1, 2)


def row_movement(rng):
    """x(1×4) → Gemm → Expand to 3 rows → Tile the columns twice → + a 3×8 constant → MatMul+Add (3 rows) →
    PRelu → ReduceLogSumExp
    over each row → y(3): a broadcast and a repetition (Gathers) feeding a multi-row matmul, and a log-sum-exp
    written out as Exp, ReduceSum, Log."""
    mk = helper.make_node
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [mk("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             mk("Expand", ["h", "rows"], ["e"], name="expand"), mk("Tile", ["e", "reps"], ["t"], name="tile"),
             mk("Add", ["t", "P"], ["tp"], name="rows_differ"),
             mk("MatMul", ["tp", "W2"], ["m"], name="fc2"), mk("Add", ["m", "b2"], ["mb"], name="fc2_bias"),
             mk("PRelu", ["mb", "slope"], ["r"], name="prelu"),
             mk("ReduceLogSumExp", ["r"], ["y"], axes=[1], keepdims=0, name="logsumexp")]
    inits = [_w(rng, "W1", (4, 4)), _w(rng, "b1", (4,)), i64("rows", [3, 1]), i64("reps", [1, 2]),
             _w(rng, "P", (3, 8)), _w(rng, "W2", (8, 3)), _w(rng, "b2", (3,)),
             numpy_helper.from_array(np.array([-0.3], np.float32), "slope")]
    return _model(nodes, inits, (1, 4), (3,), "row_movement"), (1, 4)


#: name -> (builder, public input?) — every op and option the lowering supports
UNIT_MODELS = {
    "gemm_relu": (gemm_relu, False),
    "gemm_relu_public": (gemm_relu, True),
    "sigmoid": (table_op("Sigmoid"), False),
    "tanh": (table_op("Tanh"), False),
    "leaky_relu": (table_op("LeakyRelu", alpha=0.1), False),
    "maxpool1x1_s2": (pool_gemm("MaxPool", 1, 2, 0), False),
    "maxpool1x1_s2_public": (pool_gemm("MaxPool", 1, 2, 0), True),
    "maxpool2x2_s2": (pool_gemm("MaxPool", 2, 2, 0, C=2), False),
    "maxpool2x2_pad1_public": (pool_gemm("MaxPool", 2, 2, 1), True),
    "maxpool2x2_pad1": (pool_gemm("MaxPool", 2, 2, 1), False),
    "maxpool3x3_s1_pad1": (pool_gemm("MaxPool", 3, 1, 1, H=3), False),
    "avgpool2x2_s2": (pool_gemm("AveragePool", 2, 2, 0), False),
    "conv_pad1_maxpool": (conv_relu_pool(1, 1), False),
    "conv_s2_avgpool_public": (conv_relu_pool(0, 2, "AveragePool"), True),
    "global_avg": (global_avg(), False),
    "wide_global_avg": (global_avg(32, 6, "wide_global_avg"), False),
    "conv_patches": (conv_patches, False),
    "conv_patches_public": (conv_patches, True),
    "batch_cnn": (batch_cnn, False),
    "shared_grid": (shared_grid, False),
    "batch_cnn_public": (batch_cnn, True),
    "square_residual": (square_residual, False),
    "batch_norm": (batch_norm, False),
    "rows_matmul": (rows_matmul, False),
    "rows_matmul_public": (rows_matmul, True),
    "movement": (movement, False),
    "layer_norm": (layer_norm, False),
    "softmax": (table_op("Softmax", axis=-1), False),
    "slice_split": (slice_split, False),
    "attention": (attention, False),
    "embedding": (embedding, False),
    "spatial_movement": (spatial_movement, False),
    "row_movement": (row_movement, False),
    "conv_transpose": (conv_transpose, False),
    "conv1d": (conv1d, False),
    "lstm": (lstm, False),
}


def _c(rng, name, shape, scale=0.5, offset=0.0):
    """A per-entry float constant (a mean, a scale, a shift) of ``shape``."""
    return numpy_helper.from_array((rng.normal(size=shape) * scale + offset).astype(np.float32), name)


def composition(kind: str):
    """A per-entry constant composed with the next block, the shapes of preprocessing layers (``docs/protocol.md``
    §7.8): each puts a hidden constant vector right into another block's operand.

    ``centre_gemm`` x − mean → Gemm; ``scale_shift_gemm`` x·scale + shift → Gemm; ``sub_div_gemm`` (x − mean)/std
    → Gemm; ``sub_relu_gemm`` Relu(x − mean) → Gemm; ``sub_mul_gemm`` (x − mean)·scale → Gemm; ``add_conv``
    x + C → Conv; ``add_maxpool`` x + C → MaxPool; ``add_residual`` h = Gemm(x), Gemm(Relu(h + C) + h + C)."""

    def build(rng):
        mk = helper.make_node
        gemm = lambda a, k: mk("Gemm", [a, "W", "b"], ["y"], transB=1, name="fc")  # noqa: E731
        wb = lambda k: [_w(rng, "W", (3, k)), _w(rng, "b", (3,))]  # noqa: E731
        if kind in ("centre_gemm", "scale_shift_gemm", "sub_div_gemm", "sub_relu_gemm", "sub_mul_gemm"):
            pre = {"centre_gemm": [mk("Sub", ["x", "mu"], ["z"], name="centre")],
                   "scale_shift_gemm": [mk("Mul", ["x", "sc"], ["m"], name="scale"),
                                        mk("Add", ["m", "sh"], ["z"], name="shift")],
                   "sub_div_gemm": [mk("Sub", ["x", "mu"], ["c"], name="centre"),
                                    mk("Div", ["c", "sd"], ["z"], name="standardise")],
                   "sub_relu_gemm": [mk("Sub", ["x", "mu"], ["c"], name="centre"), mk("Relu", ["c"], ["z"], name="relu")],
                   "sub_mul_gemm": [mk("Sub", ["x", "mu"], ["c"], name="centre"),
                                    mk("Mul", ["c", "sc"], ["z"], name="scale")]}[kind]
            consts = [_c(rng, "mu", (1, 6), 0.3, 0.2), _c(rng, "sc", (1, 6), 0.3, 1.0), _c(rng, "sh", (1, 6), 0.3),
                      numpy_helper.from_array((np.abs(rng.normal(size=(1, 6))) + 0.5).astype(np.float32), "sd")]
            used = {i for n in pre for i in n.input}
            return _model(pre + [gemm("z", 6)], [t for t in consts if t.name in used] + wb(6), (1, 6), (1, 3),
                          kind), (1, 6)
        if kind in ("add_conv", "add_maxpool"):
            if kind == "add_conv":
                body = [mk("Conv", ["z", "K", "kb"], ["c"], kernel_shape=[3, 3], pads=[1] * 4, name="conv")]
                inits, k = [_w(rng, "K", (2, 1, 3, 3)), _w(rng, "kb", (2,))], 2 * 16
            else:
                body = [mk("MaxPool", ["z"], ["c"], kernel_shape=[2, 2], strides=[2, 2], name="pool")]
                inits, k = [], 4
            nodes = ([mk("Add", ["x", "C"], ["z"], name="shift")] + body
                     + [mk("Flatten", ["c"], ["f"], name="flat"), gemm("f", k)])
            return _model(nodes, [_c(rng, "C", (1, 1, 4, 4), 0.3)] + inits + wb(k), (1, 1, 4, 4), (1, 3),
                          kind), (1, 1, 4, 4)
        if kind == "add_residual":
            nodes = [mk("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
                     mk("Add", ["h", "C"], ["a"], name="shift"), mk("Relu", ["a"], ["r"], name="relu"),
                     mk("Add", ["r", "a"], ["s"], name="residual"), gemm("s", 4)]
            return _model(nodes, [_w(rng, "W1", (4, 4)), _w(rng, "b1", (4,)), _c(rng, "C", (1, 4), 0.3)] + wb(4),
                          (1, 4), (1, 3), kind), (1, 4)
        raise ValueError(kind)

    return build


#: name -> (builder, public input?): a per-entry constant composed with each block that can read it
COMPOSITIONS = {k: (composition(k), False) for k in (
    "centre_gemm", "scale_shift_gemm", "sub_div_gemm", "sub_relu_gemm", "sub_mul_gemm", "add_conv", "add_maxpool",
    "add_residual")}


def save_unit_model(name: str, folder) -> tuple[str, tuple[int, ...], bool]:
    """Write unit model ``name`` (of :data:`UNIT_MODELS` or :data:`COMPOSITIONS`) and a 32-sample normal
    calibration set into ``folder``."""
    builder, public = {**UNIT_MODELS, **COMPOSITIONS}[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    model, shape = builder(rng)
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "model.onnx"))
    sample = tuple(shape[1:] if shape[0] == 1 and len(shape) > 1 else shape)
    if model.graph.input[0].type.tensor_type.elem_type == TensorProto.INT64:  # token ids below the vocabulary
        vocab = min(numpy_helper.to_array(i).shape[0] for i in model.graph.initializer if i.name == "E")
        cal = rng.integers(0, vocab, size=(32,) + sample)
    else:
        cal = rng.normal(size=(32,) + sample).astype(np.float32)
    np.save(folder / "calibration.npy", cal)
    return str(folder / "model.onnx"), shape, public
