"""Greedy generation as one ONNX graph: ``K`` copies of a next-token model chained by argmax (issue 11, item 5).

A next-token model maps token ids ``idx`` (``(T,)`` or ``(1, T)``, int64) to logits over a vocabulary for every
position (``(T, V)`` or ``(1, T, V)``). :func:`unroll` writes the graph that runs it ``K`` times:

    ids_0 = idx
    step k:  logits_k = model(ids_k);  tok_k = ArgMax(logits_k[T − 1]) (lowest index on a tie)
             ids_(k+1) = Concat(ids_k[1:], tok_k)            (the window slides by one token)
    output:  generated = Concat(tok_0, …, tok_(K−1))          (K,) int64

so ``generated`` is exactly what a greedy decoding loop over a sliding window of ``T`` tokens prints. Every copy
reads the same initializers (one set of weights in the proof); the copies' tensors and nodes get an ``@k`` suffix.
The graph uses only ops zkchain proves (Reshape, Gather with a constant index, ArgMax, Slice, Concat), so
``zkchain compile --generate K`` proves the whole generation with the K tokens as the public output.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from zkchain.errors import InputError, UnsupportedModelError

GENERATED = "generated"


def _dims(vi) -> list[int]:
    return [d.dim_value if d.HasField("dim_value") else 0 for d in vi.type.tensor_type.shape.dim]


def unroll(model: onnx.ModelProto, steps: int) -> onnx.ModelProto:
    """The generation graph of ``model`` for ``steps`` tokens (module doc). Raises :class:`InputError` for
    ``steps < 1`` and :class:`UnsupportedModelError` for a model that is not ``ids (T,) → logits (T, V)``."""
    if steps < 1:
        raise InputError(f"--generate must be at least 1, got {steps}")
    g = model.graph
    inits = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1 or len(g.output) != 1:
        raise UnsupportedModelError("--generate needs a model with one input (token ids) and one output (logits)")
    (inp,), (out,) = inputs, g.output
    in_dims, out_dims = _dims(inp), _dims(out)
    if inp.type.tensor_type.elem_type not in (TensorProto.INT64, TensorProto.INT32):
        raise UnsupportedModelError(f"--generate: input {inp.name!r} must hold token ids (int64), not "
                                    f"{TensorProto.DataType.Name(inp.type.tensor_type.elem_type)}")
    if len(in_dims) not in (1, 2) or (len(in_dims) == 2 and in_dims[0] != 1) or not in_dims[-1]:
        raise UnsupportedModelError(f"--generate: input {inp.name!r} must have shape (T,) or (1, T), got {in_dims}")
    T = in_dims[-1]
    if len(out_dims) < 2 or out_dims[-2] != T or not out_dims[-1] or any(d != 1 for d in out_dims[:-2]):
        raise UnsupportedModelError(f"--generate: output {out.name!r} must be logits of shape (T, V) with T = {T}, "
                                    f"got {out_dims}")
    V = out_dims[-1]

    consts = [numpy_helper.from_array(np.array([T, V], np.int64), "gen.logits_2d"),
              numpy_helper.from_array(np.array(T - 1, np.int64), "gen.last"),
              numpy_helper.from_array(np.array([1], np.int64), "gen.one"),
              numpy_helper.from_array(np.array([T], np.int64), "gen.T"),
              numpy_helper.from_array(np.array([0], np.int64), "gen.axis0"),
              numpy_helper.from_array(np.array(in_dims, np.int64), "gen.ids_shape")]
    nodes, tokens, cur = [], [], inp.name
    for k in range(steps):
        rename = {inp.name: cur}
        for n in g.node:
            new = onnx.NodeProto()
            new.CopyFrom(n)
            new.name = f"{n.name or n.op_type}@{k}"
            del new.input[:]
            new.input.extend(rename.get(i, i) for i in n.input)
            del new.output[:]
            for o in n.output:
                rename[o] = f"{o}@{k}" if o else o
                new.output.append(rename[o])
            nodes.append(new)
        logits = rename[out.name]
        nodes += [helper.make_node("Reshape", [logits, "gen.logits_2d"], [f"gen.logits@{k}"], name=f"gen.logits@{k}"),
                  helper.make_node("Gather", [f"gen.logits@{k}", "gen.last"], [f"gen.next_logits@{k}"], axis=0,
                                   name=f"gen.next_logits@{k}"),
                  helper.make_node("ArgMax", [f"gen.next_logits@{k}"], [f"gen.token@{k}"], axis=0, keepdims=1,
                                   name=f"gen.token@{k}")]
        tokens.append(f"gen.token@{k}")
        if k + 1 < steps:
            nodes += [helper.make_node("Reshape", [cur, "gen.T"], [f"gen.ids@{k}"], name=f"gen.ids@{k}"),
                      helper.make_node("Slice", [f"gen.ids@{k}", "gen.one", "gen.T", "gen.axis0"],
                                       [f"gen.kept@{k}"], name=f"gen.kept@{k}"),
                      helper.make_node("Concat", [f"gen.kept@{k}", f"gen.token@{k}"], [f"gen.window@{k}"], axis=0,
                                       name=f"gen.window@{k}"),
                      helper.make_node("Reshape", [f"gen.window@{k}", "gen.ids_shape"], [f"gen.input@{k + 1}"],
                                       name=f"gen.input@{k + 1}")]
            cur = f"gen.input@{k + 1}"
    nodes.append(helper.make_node("Concat", tokens, [GENERATED], axis=0, name="gen.generated") if steps > 1
                 else helper.make_node("Identity", tokens, [GENERATED], name="gen.generated"))
    graph = helper.make_graph(nodes, f"{g.name or 'model'}_generate{steps}", [inp],
                              [helper.make_tensor_value_info(GENERATED, TensorProto.INT64, [steps])],
                              initializer=list(g.initializer) + consts)
    out_model = helper.make_model(graph, opset_imports=list(model.opset_import))
    out_model.ir_version = model.ir_version
    onnx.checker.check_model(out_model)
    return out_model
