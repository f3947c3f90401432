"""A tensor read both in row-major order and by a padded convolution stays on its plain grid; the convolution reads
a copy placed on its padded grid by a Gather (``Lowering.on_grid``, ``Grid.copy_to``). That Gather must tie the
copy to the tensor.

The attack, on ``shared_grid`` (``r`` read by a padded convolution, an unpadded one and a Flatten → Gemm): the
padded convolution sees ``r`` with one entry moved, everything downstream of it recomputed from that view (its
accumulator, rescale, Gemm and the output), every other vector honest — a consistent story except where the copy
is read off ``r``. Python and Solidity must reject it; the test fails on a build without the copy's Gather (both
accept then, checked by hand when it was written). The witness-freedom sweep cannot make this lie: its tampers
recompute from the integer model's tensors, and the copy is not one."""

from __future__ import annotations

import numpy as np
from harness import judge

from zkchain.crypto.field import R
from zkchain.prover.prove import prove
from zkchain.quant.primitives import RUN


def _forged_values(b) -> tuple[dict, str, dict]:
    """Vector values where conv_pad1 (and all that follows from it) sees ``r`` with entry 5 moved by one, the copy
    on its 6×6 grid holding that view; every other vector honest. Returns (values, copy name, honest values)."""
    model, compiled = b.model, b.compiled
    conv = next(op for op in model.ops if op.kind == "conv2d" and op.source == "conv_pad1")
    env = {model.input_name: np.asarray(b.x_int).astype(object).reshape(model.input_shape)}
    seen = None
    for op in model.ops:
        ins = [np.asarray(env[i]).astype(object) for i in op.inputs]
        if op is conv:
            seen = ins[0].copy()
            seen.flat[5] += 1
            ins[0] = seen
        for n, v in zip(op.outputs, RUN[op.kind](op, ins)):
            env[n] = v
    vals = compiled.vector_values(env)
    honest = compiled.vector_values(model.execute(b.x_int))
    copy = next(n for n in vals if ".grid" in n)
    lay = np.zeros((2, 6, 6), dtype=object)  # r is 1×2×4×4; conv_pad1 reads it with one cell of zero padding
    lay[:, 1:5, 1:5] = seen.reshape(2, 4, 4)
    vals[copy] = [int(v) % R for v in lay.reshape(-1)]
    return vals, copy, honest


def test_the_copy_on_a_padded_grid_is_tied_to_its_tensor(unit_built, solidity):
    b = unit_built("shared_grid")
    kinds = [(k.kind, k.name) for k in b.compiled.circuit.constraints]
    assert ("gather", "r: onto a 6x6 grid") in kinds and ("conv", "conv_pad1") in kinds
    vals, copy, honest = _forged_values(b)
    assert len(vals[copy]) == b.compiled.circuit.vectors[copy].length and vals[copy] != honest[copy]
    out = b.compiled.circuit.public("output")[0].name
    assert vals[out] != honest[out], "the moved view must change the output"
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)
