"""ONNX import: parse, check, fix the batch dimension, fold constant (shape) subgraphs, build the :class:`Graph` IR.

Follows the preprocessing step of zkPyTorch (§3.2): the exported graph is turned into a DAG whose runtime
nodes are only the operators that touch data; everything computable from constants and static shapes (the
``Shape -> Gather -> Unsqueeze -> Concat -> Reshape`` chains torch emits, ``Constant`` nodes, casts of weights,
BatchNormalization after Conv) is evaluated once at import. Constant folding uses ONNX's own reference
implementation (``onnx.reference``), so folded values have exactly ONNX semantics.

Errors: :class:`~zkchain.errors.InputError` for files that are not (valid) ONNX; :class:`~zkchain.errors.
UnsupportedModelError` for models zkchain cannot give concrete shapes to (symbolic non-batch dimensions,
outputs that do not depend on an input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from zkchain.errors import InputError, UnsupportedModelError
from zkchain.onnx.ir import Graph, Node, TensorInfo

# ops never folded even when all inputs are constant (their value is not a function of the inputs)
_NO_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
_MAX_FOLD_ROUNDS = 8


#: ops that move token ids without computing on them (a generation graph's sliding window)
_ID_MOVES = ("Slice", "Concat", "Reshape", "Squeeze", "Unsqueeze", "Identity")


def _check_token_ids(model, name: str, consts, type_name: str) -> None:
    """An integer input holds token ids: it (and whatever only moves it: Slice, Concat, Reshape, …) may feed
    Gathers as indices into constant tables (embeddings), nothing else. Raises UnsupportedModelError naming the
    first node that reads ids otherwise."""
    seen, todo, users_total = set(), [name], 0
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        for n in model.graph.node:
            if t not in n.input:
                continue
            users_total += 1
            if n.op_type == "Gather" and list(n.input).index(t) == 1 and n.input[0] in consts:
                continue
            if n.op_type in _ID_MOVES and list(n.input).index(t) == 0 or n.op_type == "Concat":
                todo += [o for o in n.output if o]
                continue
            raise UnsupportedModelError(
                f"input {name!r} has element type {type_name}: an integer input is supported as token ids feeding "
                f"Gather nodes into constant tables (embeddings); node {n.name or n.op_type!r} ({n.op_type}) reads "
                "it otherwise")
    if not users_total:
        raise UnsupportedModelError(f"input {name!r} has element type {type_name}: an integer input is supported "
                                    "as token ids feeding Gather nodes into constant tables (embeddings); nothing "
                                    "reads it")


def load_onnx(path: str | Path, batch_size: int = 1) -> Graph:
    """Read an ONNX file and return its :class:`Graph` IR with concrete shapes.

    Args:
        path: the ``.onnx`` file.
        batch_size: value given to the leading symbolic (or zero) dimension of each graph input, and to a fixed
            leading 1 when larger than 1 (a batch circuit: shape constants that spell out a batch of 1, such as a
            Reshape to ``[1, -1]``, then fail shape inference with a clear error).

    Raises:
        InputError: missing, empty, truncated or invalid ONNX file.
        UnsupportedModelError: symbolic non-batch input dimensions, or no output depends on an input.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read model {path}: {exc.strerror or exc}") from None
    model = parse_onnx(data, str(path))
    return graph_from_model(model, batch_size=batch_size, source=str(path))


def parse_onnx(data: bytes, source: str = "<bytes>") -> onnx.ModelProto:
    """Parse and check serialized ONNX bytes. Raises :class:`InputError` if they are not a valid model."""
    if not data:
        raise InputError(f"{source} is empty, not an ONNX model")
    try:
        model = onnx.load_model_from_string(data)
    except Exception:  # protobuf DecodeError and friends: truncated or not protobuf at all
        raise InputError(f"{source} is not an ONNX model (cannot parse it; truncated or wrong file?)") from None
    if model.ir_version == 0 or not model.HasField("graph") or not model.graph.output:
        raise InputError(f"{source} is not an ONNX model (no graph / IR version in the file)")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, or checker errors on odd files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{source} is not a valid ONNX model: {first}") from None
    return model


def _opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 0


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        elif isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode() for s in v]
        out[a.name] = v
    return out


def _fix_input_dims(model: onnx.ModelProto, init_names: set[str], batch_size: int) -> None:
    for inp in model.graph.input:
        if inp.name in init_names:
            continue
        shape = inp.type.tensor_type.shape
        for axis, d in enumerate(shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0 and not (axis == 0 and d.dim_value == 1 and batch_size > 1):
                continue
            if axis == 0:
                d.Clear()
                d.dim_value = batch_size
            else:
                sym = d.dim_param or "?"
                raise UnsupportedModelError(
                    f"input {inp.name!r} has a symbolic dimension {sym!r} at axis {axis}; "
                    "only the leading (batch) dimension may be symbolic"
                )
    for out in model.graph.output:  # declared output shapes carry symbolic batch dims: let inference decide
        if out.type.HasField("tensor_type"):
            out.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]


def _known_shapes(model: onnx.ModelProto) -> dict[str, tuple[tuple[int, ...] | None, int]]:
    """name -> (concrete shape or None, elem_type) from (inferred) value infos."""
    out: dict[str, tuple[tuple[int, ...] | None, int]] = {}
    g = model.graph
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        shape: tuple[int, ...] | None = None
        if tt.HasField("shape"):
            dims = []
            for d in tt.shape.dim:
                if d.HasField("dim_value"):
                    dims.append(int(d.dim_value))
                else:
                    dims = None
                    break
            shape = tuple(dims) if dims is not None else None
        out[vi.name] = (shape, tt.elem_type)
    return out


def _infer(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # inference is best effort; concrete shapes are re-derived by execution below
        return model


def _eval_node(node: onnx.NodeProto, values: list[np.ndarray | None], opset: int) -> list[np.ndarray] | None:
    """Evaluate one node on constant inputs with ONNX's reference implementation (None if it cannot)."""
    from onnx.reference import ReferenceEvaluator

    names = [f"in{i}" if n else "" for i, n in enumerate(node.input)]
    outs = [f"out{i}" if n else "" for i, n in enumerate(node.output)]
    local = onnx.NodeProto()
    local.CopyFrom(node)
    del local.input[:]
    local.input.extend(names)
    del local.output[:]
    local.output.extend(outs)
    feeds = {nm: v for nm, v in zip(names, values) if nm}
    try:
        g = helper.make_graph(
            [local],
            "fold",
            [helper.make_tensor_value_info(nm, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
             for nm, v in feeds.items()],
            [helper.make_empty_tensor_value_info(o) for o in outs if o],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", max(opset, 7))])
        with np.errstate(all="ignore"):
            res = ReferenceEvaluator(m).run(None, feeds)
    except Exception:
        return None
    return [np.asarray(r) for r in res]


def _fold_constants(model: onnx.ModelProto, consts: dict[str, np.ndarray], opset: int) -> bool:
    """One folding pass over ``model`` (in place). Returns True if some node was folded."""
    shapes = _known_shapes(model)
    keep: list[onnx.NodeProto] = []
    changed = False
    for node in model.graph.node:
        ins = [i for i in node.input if i]
        known = shapes.get(node.input[0], (None, 0))[0] if node.input else None
        if node.op_type == "Shape" and node.input[0] not in consts and known is not None:
            full = np.array(shapes[node.input[0]][0], dtype=np.int64)
            a = _attrs(node)
            start, end = a.get("start", 0), a.get("end", None)
            consts[node.output[0]] = full[start:end]
            changed = True
            continue
        if node.op_type == "Size" and shapes.get(node.input[0], (None, 0))[0] is not None:
            consts[node.output[0]] = np.array(int(np.prod(shapes[node.input[0]][0])), dtype=np.int64)
            changed = True
            continue
        if node.op_type not in _NO_FOLD and node.domain in ("", "ai.onnx") and all(i in consts for i in ins):
            res = _eval_node(node, [consts[i] if i else None for i in node.input], opset)
            if res is not None:
                for name, val in zip([o for o in node.output if o], res):
                    consts[name] = val
                changed = True
                continue
        keep.append(node)
    if changed:
        del model.graph.node[:]
        model.graph.node.extend(keep)
        _reset_initializers(model, consts)
    return changed


def _reset_initializers(model: onnx.ModelProto, consts: dict[str, np.ndarray]) -> None:
    used = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
    del model.graph.initializer[:]
    for name in sorted(used & consts.keys()):
        model.graph.initializer.append(numpy_helper.from_array(np.asarray(consts[name]), name))
    init_names = {i.name for i in model.graph.initializer}
    runtime_inputs = [i for i in model.graph.input if i.name not in consts or i.name not in init_names]
    runtime_inputs = [i for i in runtime_inputs if i.name not in consts]
    del model.graph.input[:]
    model.graph.input.extend(runtime_inputs)


def _toposort(nodes: list[Node], available: set[str]) -> list[Node]:
    """Kahn's algorithm; keeps the file order among ready nodes. Raises on cycles / missing producers."""
    done = set(available)
    pending = list(nodes)
    order: list[Node] = []
    while pending:
        progressed = False
        rest = []
        for n in pending:
            if all((not i) or i in done for i in n.inputs):
                order.append(n)
                done.update(o for o in n.outputs if o)
                progressed = True
            else:
                rest.append(n)
        pending = rest
        if not progressed:
            missing = sorted({i for n in pending for i in n.inputs if i and i not in done})
            raise UnsupportedModelError(
                f"graph is not a DAG or reads undefined tensors (e.g. {', '.join(missing[:3])})"
            )
    return order


def _concrete_shapes_by_execution(model: onnx.ModelProto, inputs: list[TensorInfo],
                                  names: list[str]) -> dict[str, tuple]:
    """Fallback when shape inference leaves a runtime tensor without a concrete shape: run on zeros."""
    from onnx.reference import ReferenceEvaluator

    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output}
    for nm in names:
        if nm not in existing:
            m.graph.output.append(helper.make_empty_tensor_value_info(nm))
    feeds = {t.name: np.zeros(t.shape, dtype=np.dtype(t.dtype)) for t in inputs}
    try:
        with np.errstate(all="ignore"):
            res = ReferenceEvaluator(m).run(names, feeds)
    except Exception as exc:
        raise UnsupportedModelError(f"cannot determine concrete tensor shapes: {exc}") from None
    return {nm: tuple(np.asarray(r).shape) for nm, r in zip(names, res)}


def fold_batchnorm(graph: Graph) -> None:
    """Fold ``BatchNormalization`` that directly follows a ``Conv`` (sole consumer) into the conv's weights.

    y = gamma·(conv(x) − mean)/sqrt(var + eps) + beta  ==  conv'(x) with W' = W·a, b' = (b − mean)·a + beta,
    a = gamma/sqrt(var + eps) per output channel. Standalone BatchNormalization stays (lowered as an affine map).
    """
    producers = {o: n for n in graph.nodes for o in n.outputs}
    out_names = {t.name for t in graph.outputs}
    removed: set[int] = set()
    for bn in graph.nodes:
        if bn.op_type != "BatchNormalization" or len([o for o in bn.outputs if o]) != 1:
            continue
        x = bn.inputs[0]
        conv = producers.get(x)
        if conv is None or conv.op_type != "Conv" or x in out_names or len(graph.consumers(x)) != 1:
            continue
        params = bn.inputs[1:5]
        if not all(graph.is_const(p) for p in params) or not graph.is_const(conv.inputs[1]):
            continue
        gamma, beta, mean, var = (graph.constants[p].astype(np.float64) for p in params)
        a = gamma / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
        w = graph.constants[conv.inputs[1]].astype(np.float64)
        has_b = len(conv.inputs) > 2 and conv.inputs[2]
        b = graph.constants[conv.inputs[2]].astype(np.float64) if has_b else np.zeros(w.shape[0])
        wname, bname = f"{conv.name}.W_bnfolded", f"{conv.name}.b_bnfolded"
        graph.constants[wname] = (w * a[:, None, None, None]).astype(np.float32)
        graph.constants[bname] = ((b - mean) * a + beta).astype(np.float32)
        conv.inputs = [conv.inputs[0], wname, bname]
        conv.outputs = [bn.outputs[0]]
        graph.tensors.pop(x, None)
        removed.add(id(bn))
    graph.nodes = [n for n in graph.nodes if id(n) not in removed]


def expand_normalization(graph: Graph) -> None:
    """Write ``LayerNormalization`` (opset 17) and ``InstanceNormalization`` as the ops they are made of, so each
    step is quantized, calibrated and proved by the blocks that already exist (zkPyTorch §3.2: preprocessing with
    auxiliary nodes):

        mean = ReduceMean(x, axes);  d = x − mean;  var = ReduceMean(d·d, axes)
        y = d / Sqrt(var + ε) · scale + bias

    LayerNormalization normalises over ``axis..rank−1`` (``scale`` and ``bias`` broadcast over the leading axes),
    InstanceNormalization over the spatial axes ``2..rank−1`` (``scale`` and ``bias`` per channel). A node whose
    optional Mean/InvStdDev outputs are read stays as it is (and is reported as unsupported)."""
    read = {i for n in graph.nodes for i in n.inputs} | {t.name for t in graph.outputs}
    nodes: list[Node] = []
    for n in graph.nodes:
        if n.op_type not in ("LayerNormalization", "InstanceNormalization") or any(o in read for o in n.outputs[1:] if o) \
                or not all(graph.is_const(i) for i in n.inputs[1:] if i):
            nodes.append(n)
            continue
        x, y = n.inputs[0], n.outputs[0]
        shape = tuple(graph.tensors[x].shape)
        rank = len(shape)
        if n.op_type == "LayerNormalization":
            axes = list(range(int(n.attrs.get("axis", -1)) % rank, rank))
            scale = n.inputs[1]
            bias = n.inputs[2] if len(n.inputs) > 2 and n.inputs[2] else None
        else:
            axes = list(range(2, rank))
            per_channel = (1, shape[1]) + (1,) * (rank - 2)
            scale, bias = f"{y}::in_scale", f"{y}::in_bias"
            graph.constants[scale] = np.asarray(graph.constants[n.inputs[1]]).reshape(per_channel)
            graph.constants[bias] = np.asarray(graph.constants[n.inputs[2]]).reshape(per_channel)
        red = tuple(1 if a in axes else d for a, d in enumerate(shape))
        eps = f"{y}::eps"
        graph.constants[eps] = np.array(float(n.attrs.get("epsilon", 1e-5)), dtype=np.float32)

        def t(suffix: str, shp) -> str:
            name = f"{y}::{suffix}"
            graph.tensors[name] = TensorInfo(name, tuple(shp), "float32")
            return name

        mean, d, sq, var, ve, std, normed = (t("mean", red), t("centred", shape), t("square", shape), t("var", red),
                                             t("var_eps", red), t("std", red), t("normed", shape))
        scaled = t("scaled", shape) if bias else y
        mk = lambda op, ins, out, **attrs: Node(f"{n.name}/{out.rsplit('::', 1)[-1]}", op, ins, [out], attrs)  # noqa: E731
        nodes += [mk("ReduceMean", [x], mean, axes=axes, keepdims=1), mk("Sub", [x, mean], d),
                  mk("Mul", [d, d], sq), mk("ReduceMean", [sq], var, axes=axes, keepdims=1),
                  mk("Add", [var, eps], ve), mk("Sqrt", [ve], std), mk("Div", [d, std], normed),
                  mk("Mul", [normed, scale], scaled)]
        if bias:
            nodes.append(mk("Add", [scaled, bias], y))
    graph.nodes = nodes


def fuse_rsqrt(graph: Graph) -> None:
    """``a / Sqrt(v)`` as ``a · Rsqrt(v)`` when the Sqrt feeds only that Div (LayerNorm's ``d / Sqrt(var + ε)``,
    written out or as torch exports it): one table ``1/√v`` with a 2^16-scaled output, the resolution of the
    reciprocal table, instead of a Sqrt table (rounded to the activation width) and a reciprocal table — one
    lookup and one rounding less per row. ``Rsqrt`` is zkchain's own operator name, never an ONNX one."""
    readers: dict[str, int] = {}
    for n in graph.nodes:
        for i in n.inputs:
            readers[i] = readers.get(i, 0) + 1
    producer = {o: n for n in graph.nodes for o in n.outputs}
    outputs = {t.name for t in graph.outputs}
    swap: dict[int, Node] = {}
    for n in graph.nodes:
        if n.op_type != "Div" or len(n.inputs) != 2:
            continue
        s = producer.get(n.inputs[1])
        std = n.inputs[1]
        if s is None or s.op_type != "Sqrt" or readers.get(std, 0) != 1 or std in outputs:
            continue
        inv = f"{std}::rsqrt"
        graph.tensors[inv] = TensorInfo(inv, tuple(graph.tensors[std].shape), graph.tensors[std].dtype)
        swap[id(s)] = Node(s.name, "Rsqrt", list(s.inputs), [inv])
        swap[id(n)] = Node(n.name, "Mul", [n.inputs[0], inv], list(n.outputs))
    graph.nodes = [swap.get(id(n), n) for n in graph.nodes]


PACKED_INPUT = "packed_inputs"


def pack_inputs(graph: Graph) -> None:
    """A model with several float inputs of one batch size ``B`` gets one input ``packed_inputs`` of shape
    ``(B, Σ per-sample sizes)``: each sample's values of every input back to back, in ONNX order (the order of
    EZKL's ``input_data`` lists), and each original input becomes a Slice of it and a Reshape. Everything after —
    calibration, one quantization scale, the committed (or public) input vector — then sees one input; the
    original ``(name, shape)`` list is kept in ``graph.packed`` (for onnxruntime and messages). Token-id inputs
    or differing batch sizes leave the graph as it is (reported by ``check_supported``)."""
    ins = graph.inputs
    if len(ins) < 2 or any(t.dtype.startswith("int") for t in ins) or len({t.shape[0] for t in ins if t.shape}) != 1 \
            or any(not t.shape for t in ins):
        return
    B = ins[0].shape[0]
    sizes = [int(np.prod(t.shape[1:])) for t in ins]
    name = PACKED_INPUT
    while name in graph.tensors or name in graph.constants:
        name += "_"
    graph.tensors[name] = TensorInfo(name, (B, sum(sizes)), "float32")
    nodes, off = [], 0
    for t, size in zip(ins, sizes):
        cut, c = f"{name}::{t.name}", [f"{name}::{t.name}::{k}" for k in ("starts", "ends", "axes", "shape")]
        graph.constants[c[0]], graph.constants[c[1]] = np.array([off], np.int64), np.array([off + size], np.int64)
        graph.constants[c[2]], graph.constants[c[3]] = np.array([1], np.int64), np.array(t.shape, np.int64)
        graph.tensors[cut] = TensorInfo(cut, (B, size), "float32")
        nodes += [Node(f"{cut}::slice", "Slice", [name] + c[:3], [cut]), Node(f"{cut}::reshape", "Reshape", [cut, c[3]], [t.name])]
        off += size
    graph.packed = [(t.name, tuple(t.shape)) for t in ins]
    graph.inputs = [graph.tensors[name]]
    graph.nodes = nodes + graph.nodes


_RECURRENT_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
_RECURRENT_DEFAULT = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}


def _recurrent_refusal(n: Node, graph: Graph) -> str | None:
    """Why :func:`expand_recurrent` leaves this RNN/GRU/LSTM node as it is, or None."""
    ins = n.inputs + [""] * 8  # string attributes arrive decoded (_attrs)
    if n.attrs.get("direction", "forward") != "forward":
        return "direction"
    if n.attrs.get("layout", 0) or n.attrs.get("clip") is not None or n.attrs.get("input_forget", 0):
        return "layout, clip or input_forget"
    if list(n.attrs.get("activations", _RECURRENT_DEFAULT[n.op_type])) != _RECURRENT_DEFAULT[n.op_type]:
        return "activations"
    if not all(graph.is_const(i) for i in ins[1:3]) or (ins[3] and not graph.is_const(ins[3])):
        return "weights"
    if ins[4] and not graph.is_const(ins[4]):
        return "sequence_lens"
    if any(ins[k] and not graph.is_const(ins[k]) for k in (5, 6)) or (n.op_type == "LSTM" and ins[7]):
        return "initial state or peepholes"
    return None


def expand_recurrent(graph: Graph) -> None:
    """Forward ``RNN``, ``GRU`` and ``LSTM`` (ONNX's equations, default activations, constant weights and initial
    state) unrolled over their time steps into the ops they are made of, so each step is quantized, calibrated
    and proved by the blocks that exist: per gate ``X_t·W_gᵀ + b_g`` and ``H_{t−1}·R_gᵀ`` (Gemms with constant
    weights; the first step's ``H_0·R_gᵀ`` is a constant folded into the bias), Sigmoid/Tanh tables, and
    elementwise products of two activations (``f ⊙ C``, ``i ⊙ c``, ``o ⊙ tanh(C)``; GRU's ``r``, ``z``).
    A node with another direction, layout, activations, clip, peepholes or a runtime initial state stays as it
    is (and is reported as unsupported). Source: the ONNX operator specification (RNN, GRU, LSTM)."""
    out: list[Node] = []
    for n in graph.nodes:
        if n.op_type not in _RECURRENT_GATES or _recurrent_refusal(n, graph):
            out.append(n)
            continue
        ins = n.inputs + [""] * 8
        T, B, _ = graph.tensors[n.inputs[0]].shape
        H = int(n.attrs["hidden_size"])
        G = _RECURRENT_GATES[n.op_type]
        W = np.asarray(graph.constants[ins[1]], dtype=np.float64)[0]  # (G·H, in)
        R = np.asarray(graph.constants[ins[2]], dtype=np.float64)[0]  # (G·H, H)
        bias = np.asarray(graph.constants[ins[3]], dtype=np.float64)[0] if ins[3] else np.zeros(2 * G * H)
        Wb, Rb = bias[:G * H], bias[G * H:]
        h0 = np.asarray(graph.constants[ins[5]], dtype=np.float64)[0] if ins[5] else np.zeros((B, H))
        c0 = np.asarray(graph.constants[ins[6]], dtype=np.float64)[0] if ins[6] else np.zeros((B, H))
        p = n.name
        k = [0]

        def node(op, inputs, shape, attrs=None, name=None):
            k[0] += 1
            y = name or f"{p}::{op.lower()}{k[0]}"
            if name is None:
                graph.tensors[y] = TensorInfo(y, tuple(shape), "float32")
            out.append(Node(f"{p}::{op.lower()}{k[0]}", op, list(inputs), [y], dict(attrs or {})))
            return y

        def const(tag, value):
            c = f"{p}::{tag}"
            graph.constants[c] = np.asarray(value, dtype=np.float32)
            return c

        def gate(g, x_t, h_prev, t, act, h_term=True, extra_bias=None):
            """act(X_t·W_gᵀ + Wb_g [+ H_{t−1}·R_gᵀ + Rb_g]) (the R term folded when H_{t−1} is the constant H_0)."""
            sl = slice(g * H, (g + 1) * H)
            b = Wb[sl] + (Rb[sl] if h_term else 0)
            if h_prev is None and h_term:
                b = b + h0 @ R[sl].T  # (B, H): the first step's recurrent term is a constant
            if extra_bias is not None:
                b = b + extra_bias
            z = node("Gemm", [x_t, const(f"W{g}", W[sl]), const(f"b{g}_t{t}", np.broadcast_to(b, (B, H)) if np.ndim(b) == 2
                                                                   else b)], (B, H), {"transB": 1})
            if h_prev is not None and h_term:
                z = node("Add", [z, node("Gemm", [h_prev, const(f"R{g}", R[sl])], (B, H), {"transB": 1})], (B, H))
            return node(act, [z], (B, H)) if act else z

        x = n.inputs[0]
        h_prev, c_prev, ys = None, None, []
        for t in range(T):
            x_t = node("Slice", [x, const(f"t{t}", [t]), const(f"t{t + 1}", [t + 1]),
                                 const("axis0", [0])], (1, B, graph.tensors[x].shape[2])) if T > 1 else x
            x_t = node("Reshape", [x_t, const("shape_x", [B, graph.tensors[x].shape[2]])], (B, graph.tensors[x].shape[2]))
            hp = h_prev if h_prev is not None else None
            if n.op_type == "RNN":
                h = gate(0, x_t, hp, t, "Tanh")
            elif n.op_type == "LSTM":
                i, o, f, c = (gate(g, x_t, hp, t, a) for g, a in enumerate(("Sigmoid", "Sigmoid", "Sigmoid", "Tanh")))
                if c_prev is None:
                    fc = node("Mul", [f, const("c0", c0)], (B, H)) if np.any(c0) else None
                else:
                    fc = node("Mul", [f, c_prev], (B, H))
                ic = node("Mul", [i, c], (B, H))
                c_prev = ic if fc is None else node("Add", [fc, ic], (B, H))
                h = node("Mul", [o, node("Tanh", [c_prev], (B, H))], (B, H))
            else:  # GRU: gates z, r, h
                zt, rt = gate(0, x_t, hp, t, "Sigmoid"), gate(1, x_t, hp, t, "Sigmoid")
                prev = hp if hp is not None else const("h0", h0)
                if n.attrs.get("linear_before_reset", 0):
                    sl = slice(2 * H, 3 * H)
                    rec = (node("Gemm", [hp, const("R2", R[sl]), const("Rb2", Rb[sl])], (B, H), {"transB": 1})
                           if hp is not None else const(f"rec_t{t}", h0 @ R[sl].T + Rb[sl]))
                    hh = node("Tanh", [node("Add", [gate(2, x_t, hp, t, None, h_term=False), node("Mul", [rt, rec], (B, H))],
                                            (B, H))], (B, H))
                else:
                    sl = slice(2 * H, 3 * H)
                    rh = node("Mul", [rt, prev], (B, H))
                    hh = node("Tanh", [node("Add", [gate(2, x_t, hp, t, None, h_term=False, extra_bias=Rb[sl]),
                                                    node("Gemm", [rh, const("R2", R[sl])], (B, H), {"transB": 1})],
                                            (B, H))], (B, H))
                # H_t = (1 − z) ⊙ h̃ + z ⊙ H_{t−1} = h̃ + z ⊙ (H_{t−1} − h̃)
                h = node("Add", [hh, node("Mul", [zt, node("Sub", [prev, hh], (B, H))], (B, H))], (B, H))
            h_prev = h
            ys.append(h)
        outs = n.outputs + ["", "", ""]
        if outs[0]:
            parts = [node("Reshape", [y, const("shape_y1", [1, 1, B, H])], (1, 1, B, H)) for y in ys]
            if len(parts) == 1:
                out[-1].outputs = [outs[0]]
                graph.tensors.pop(parts[0], None)
            else:
                node("Concat", parts, (T, 1, B, H), {"axis": 0}, name=outs[0])
        for name, v in ((outs[1], h_prev), (outs[2], c_prev)):
            if name:
                node("Reshape", [v, const("shape_state", [1, B, H])], (1, B, H), name=name)
    graph.nodes = out


def lift_1d(graph: Graph) -> None:
    """``Conv``, ``AveragePool`` and ``MaxPool`` over an ``(N, C, L)`` tensor as their 2-D forms over
    ``(N, C, 1, L)`` between two Reshapes (relabellings): kernel ``[1, k]``, strides ``[1, s]``, pads
    ``[0, p0, 0, p1]``, a Conv's weight ``(OC, C/G, k)`` as ``(OC, C/G, 1, k)``. Nodes with ``auto_pad`` or a
    runtime weight stay as they are (and are reported)."""
    out: list[Node] = []
    for n in graph.nodes:
        if (n.op_type not in ("Conv", "AveragePool", "MaxPool") or len(graph.tensors[n.inputs[0]].shape) != 3
                or n.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID")
                or (n.op_type == "Conv" and not graph.is_const(n.inputs[1]))):
            out.append(n)
            continue
        x, y = n.inputs[0], n.outputs[0]
        (N, C, L), ys = graph.tensors[x].shape, graph.tensors[y].shape
        x4, y4, sx, sy = (f"{n.name}::{k}" for k in ("in2d", "out2d", "shape_in2d", "shape_out1d"))
        graph.tensors[x4] = TensorInfo(x4, (N, C, 1, L), graph.tensors[x].dtype)
        graph.tensors[y4] = TensorInfo(y4, (ys[0], ys[1], 1, ys[2]), graph.tensors[y].dtype)
        graph.constants[sx] = np.array([N, C, 1, L], dtype=np.int64)
        graph.constants[sy] = np.array(list(ys), dtype=np.int64)
        attrs = dict(n.attrs)
        for key, one in (("kernel_shape", 1), ("strides", 1), ("dilations", 1)):
            if key in attrs:
                attrs[key] = [one] + list(attrs[key])
        if "pads" in attrs:
            p0, p1 = attrs["pads"]
            attrs["pads"] = [0, p0, 0, p1]
        inputs = [x4] + list(n.inputs[1:])
        if n.op_type == "Conv":
            w = f"{n.name}::weight2d"
            W = np.asarray(graph.constants[n.inputs[1]])
            graph.constants[w] = W.reshape(W.shape[0], W.shape[1], 1, W.shape[2])
            inputs[1] = w
        out += [Node(f"{n.name}::to2d", "Reshape", [x, sx], [x4]), Node(n.name, n.op_type, inputs, [y4], attrs),
                Node(f"{n.name}::to1d", "Reshape", [y4, sy], [y])]
    graph.nodes = out


def expand_prelu(graph: Graph) -> None:
    """``PRelu(x, slope)`` with slopes that differ (per channel) written out as ``r = Relu(x)``,
    ``y = r + slope·(x − r)``: a ReLU table, a subtraction and a multiplication by the (private) slope tensor. One
    slope for every entry stays one PRelu table (``quant/ops.py``)."""
    out: list[Node] = []
    for n in graph.nodes:
        slope = graph.constants.get(n.inputs[1]) if n.op_type == "PRelu" and len(n.inputs) == 2 else None
        if slope is None or np.all(np.asarray(slope) == np.asarray(slope).ravel()[0]):
            out.append(n)
            continue
        x, y = n.inputs[0], n.outputs[0]
        shape = tuple(graph.tensors[y].shape)
        r, d, m = (f"{y}::{k}" for k in ("relu", "negative", "scaled"))
        for t in (r, d, m):
            graph.tensors[t] = TensorInfo(t, shape, "float32")
        out += [Node(f"{n.name}::relu", "Relu", [x], [r]), Node(f"{n.name}::negative", "Sub", [x, r], [d]),
                Node(f"{n.name}::slope", "Mul", [d, n.inputs[1]], [m]), Node(n.name, "Add", [r, m], [y])]
    graph.nodes = out


def expand_logsumexp(graph: Graph) -> None:
    """``ReduceLogSumExp(x)`` written out as ``Log(ReduceSum(Exp(x)))`` (same axes and keepdims): each part has
    its own calibrated table or sum, so nothing new reaches the prover."""
    out = []
    for n in graph.nodes:
        if n.op_type != "ReduceLogSumExp":
            out.append(n)
            continue
        x, y = n.inputs[0], n.outputs[0]
        shape = tuple(graph.tensors[x].shape)
        rank = len(shape)
        axes = n.attrs.get("axes")
        if axes is None and len(n.inputs) > 1 and n.inputs[1]:
            if not graph.is_const(n.inputs[1]):
                out.append(n)  # reported as unsupported with the node's name
                continue
            axes = [int(a) for a in np.asarray(graph.constants[n.inputs[1]]).ravel()]
        axes = sorted(int(a) % rank for a in (axes or range(rank)))
        keep = tuple(1 if a in axes else d for a, d in enumerate(shape))
        e, s = f"{y}::exp", f"{y}::sumexp"
        graph.tensors[e] = TensorInfo(e, shape, "float32")
        graph.tensors[s] = TensorInfo(s, keep if n.attrs.get("keepdims", 1) else
                                      tuple(d for a, d in enumerate(shape) if a not in axes), "float32")
        out += [Node(f"{n.name}::exp", "Exp", [x], [e]),
                Node(f"{n.name}::sum", "ReduceSum", [e], [s], {"axes": axes, "keepdims": int(n.attrs.get("keepdims", 1))}),
                Node(n.name, "Log", [s], [y])]
    graph.nodes = out


def pad_spec(node: Node, graph: Graph) -> tuple[list[int], float, str] | None:
    """(pads [begin..., end...], constant value, mode) of a Pad node with constant parameters, else None."""
    mode = node.attrs.get("mode", "constant")
    if "pads" in node.attrs:  # opset < 11
        return list(node.attrs["pads"]), float(node.attrs.get("value", 0.0)), mode
    ins = node.inputs + ["", "", ""]
    if not graph.is_const(ins[1]) or (ins[2] and not graph.is_const(ins[2])) or ins[3]:
        return None
    value = float(np.asarray(graph.constants[ins[2]]).ravel()[0]) if ins[2] else 0.0
    return [int(v) for v in np.asarray(graph.constants[ins[1]]).ravel()], value, mode


def fold_pad(graph: Graph) -> None:
    """Fold a zero ``Pad`` of the spatial dims into the ``Conv``/``AveragePool`` that is its sole consumer.

    Zero padding followed by a convolution (or an average pool, whose divisor then counts the padded
    zeros: ``count_include_pad=1``) equals the op with larger ``pads``. A Pad whose pads are all zero
    becomes an Identity."""
    removed: set[int] = set()
    for pad in graph.nodes:
        if pad.op_type != "Pad":
            continue
        spec = pad_spec(pad, graph)
        if spec is None or spec[2] != "constant" or spec[1] != 0.0:
            continue
        pads = spec[0]
        rank = len(pads) // 2
        if not any(pads):
            pad.op_type, pad.inputs, pad.attrs = "Identity", pad.inputs[:1], {}
            continue
        users = graph.consumers(pad.outputs[0])
        if rank != 4 or any(pads[i] or pads[rank + i] for i in (0, 1)) or len(users) != 1:
            continue
        user = users[0]
        if user.op_type not in ("Conv", "AveragePool") or pad.outputs[0] in {t.name for t in graph.outputs}:
            continue
        if user.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            continue
        old = list(user.attrs.get("pads", [0, 0, 0, 0]))
        user.attrs["pads"] = [old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]]
        if user.op_type == "AveragePool":
            if any(old) and not user.attrs.get("count_include_pad", 0):
                user.attrs["pads"] = old
                continue
            user.attrs["count_include_pad"] = 1
        user.inputs = [pad.inputs[0] if i == pad.outputs[0] else i for i in user.inputs]
        graph.tensors.pop(pad.outputs[0], None)
        removed.add(id(pad))
    graph.nodes = [n for n in graph.nodes if id(n) not in removed]


def graph_from_model(model: onnx.ModelProto, batch_size: int = 1, source: str = "<model>") -> Graph:
    """Build the :class:`Graph` IR from a checked :class:`onnx.ModelProto` (see :func:`load_onnx`)."""
    model_c = onnx.ModelProto()
    model_c.CopyFrom(model)
    model = model_c
    opset = _opset(model)
    consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    _fix_input_dims(model, set(consts), batch_size)
    runtime_inputs = [i for i in model.graph.input if i.name not in consts]
    if not runtime_inputs:
        raise UnsupportedModelError(f"{source} has no runtime inputs: nothing to prove")

    for _ in range(_MAX_FOLD_ROUNDS):
        model = _infer(model)
        if not _fold_constants(model, consts, opset):
            break
    model = _infer(model)
    shapes = _known_shapes(model)

    inputs = []
    for i in model.graph.input:
        shp, et = shapes[i.name]
        if et in (onnx.TensorProto.INT64, onnx.TensorProto.INT32):
            _check_token_ids(model, i.name, consts, onnx.TensorProto.DataType.Name(et))
            inputs.append(TensorInfo(i.name, tuple(shp), "int64"))
            continue
        if et != onnx.TensorProto.FLOAT and et not in (onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16):
            raise UnsupportedModelError(
                f"input {i.name!r} has element type {onnx.TensorProto.DataType.Name(et)}; "
                "only float inputs and integer token ids are supported"
            )
        inputs.append(TensorInfo(i.name, tuple(shp), "float32"))

    for o in model.graph.output:
        if o.name in consts:
            raise UnsupportedModelError(f"output {o.name!r} is a constant: it does not depend on the model's inputs")

    nodes = [
        Node(n.name or f"{n.op_type}_{k}", n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}",
             list(n.input), list(n.output), _attrs(n))
        for k, n in enumerate(model.graph.node)
    ]
    nodes = _toposort(nodes, {t.name for t in inputs} | set(consts))

    runtime_names = [o for n in nodes for o in n.outputs if o]
    missing = [nm for nm in runtime_names if shapes.get(nm, (None, 0))[0] is None]
    exec_shapes = _concrete_shapes_by_execution(model, inputs, missing) if missing else {}
    tensors: dict[str, TensorInfo] = {t.name: t for t in inputs}
    for nm in runtime_names:
        shp, et = shapes.get(nm, (None, 0))
        if shp is None:
            shp = exec_shapes[nm]
        try:
            dt = np.dtype(helper.tensor_dtype_to_np_dtype(et)).name if et else "float32"
        except Exception:
            dt = "float32"
        tensors[nm] = TensorInfo(nm, tuple(shp), dt)
    outputs = [tensors[o.name] for o in model.graph.output]
    graph = Graph(inputs, outputs, nodes, consts, tensors, opset, source)
    pack_inputs(graph)
    expand_recurrent(graph)
    lift_1d(graph)
    fold_batchnorm(graph)
    fold_pad(graph)
    expand_normalization(graph)
    fuse_rsqrt(graph)
    expand_logsumexp(graph)
    expand_prelu(graph)
    return graph
