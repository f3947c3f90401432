"""A convolution lowered as patches × weights (``lower._conv_as_patches``: a Gather of the input grid into the
patch matrix, a multi-row MatMul, a Gather back onto the output grid) must tie every patch to the input.

The attack: a public input ``x``; every committed vector taken from the honest run of *another* input ``x'``
(patches, accumulators, activations, output), only the input vector itself ``x``. The story is consistent
everywhere except where the patch matrix is read off the input, so a circuit without that Gather would prove
``y = model(x)`` for ``y = model(x')``. Python and Solidity must reject it; the test fails on a build that drops
the patches Gather (checked by hand when it was written).

Over a batch (three images in one proof, every convolution in patch form) the other input is the same three
images in another order: each image's patches must come from that image, so the proof cannot hand one sample's
output row to another (accepted by both verifiers when the patches Gather of conv1 is dropped, checked by hand)."""

from __future__ import annotations

import numpy as np
from harness import judge

from zkchain.compiler.witness import FromTensor, Limb
from zkchain.prover.prove import prove


def _forged_values(b, other_x):
    plan = b.compiled.witness
    honest = b.compiled.vector_values(b.model.execute(b.x_int))
    forged = b.compiled.vector_values(b.model.execute(other_x))
    from_input = set()
    for name, r in plan.recipes.items():  # the input vector, and limbs read off it, stay honest
        if (isinstance(r, FromTensor) and r.tensor == b.model.input_name) or (isinstance(r, Limb) and r.base in from_input):
            from_input.add(name)
    assert from_input, "the input vector was not found"
    return {n: (honest[n] if n in from_input else v) for n, v in forged.items()}, honest, forged


def test_patches_are_tied_to_the_input(unit_built, solidity):
    b = unit_built("conv_patches_public")
    kinds = {(c.kind, c.name) for c in b.compiled.circuit.constraints}
    assert ("matmul", "conv1") in kinds and ("conv", "conv2") in kinds, "conv1 as patches, conv2 as one product"
    other = np.roll(b.x_int, 1) + 1  # another input in range
    vals, honest, forged = _forged_values(b, other)
    out = b.compiled.circuit.public("output")[0].name
    assert forged[out] != honest[out], "the other input must change the output"
    patches = next(n for n in vals if n.endswith(".patches"))
    assert vals[patches] != honest[patches]
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)


def test_batched_patches_are_tied_to_their_own_image(unit_built, solidity):
    b = unit_built("batch_cnn_public")
    kinds = {(c.kind, c.name) for c in b.compiled.circuit.constraints}
    assert {("gather", "conv1: patches"), ("gather", "conv2: patches"), ("gather", "pool2")} <= kinds
    x = np.asarray(b.x_int).reshape(b.model.input_shape)
    other = x[[1, 2, 0]]  # the same images, rotated: every per-image vector is honest for some image
    vals, honest, forged = _forged_values(b, other)
    out = b.compiled.circuit.public("output")[0].name
    assert forged[out] != honest[out], "the rotation must change the output rows"
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)
