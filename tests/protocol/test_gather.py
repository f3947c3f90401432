"""Gather (``docs/protocol.md`` §5.9): one selection descriptor gives the prover's coefficients and the
verifier's closed form, and the block moves data the way numpy does.

* Every kind of map (transpose, sum over axes, placement into a concatenation, one entry along an axis, a slice,
  broadcast of a per-row scalar, tiling, nearest-neighbour upsampling, zero padding, the rows of a triangle,
  strided window taps, the diagonal maps of padding and kernel patterns): its coefficient vector evaluated at
  ``1/ζ`` (and at 1) equals the closed form through the native loader, on random shapes and points.
* ``pairs`` applied to a random array reproduces ``np.transpose``, ``sum(keepdims)``, ``np.concatenate`` and
  ``np.broadcast_to``, ``take``, strided slicing, ``np.tile``, ``np.repeat`` on every axis, ``np.pad`` and
  ``np.triu``/``np.tril`` — and the integer primitives (``zkchain.quant.primitives.RUN``) the compiler lowers to
  these selections.
* An attack on a real compiled model (``movement``: Transpose → MatMul → ReduceMean/Concat → MatMul): a moved
  entry of the transposed activation, everything downstream recomputed, proved with checks off, is rejected by
  Python and Solidity; with the Gather claims removed the same proof is accepted (the test can fail).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

from zkchain.blocks.common import VerifierContext
from zkchain.compiler.circuit import Circuit, Selection
from zkchain.crypto.field import R, inv
from zkchain.verifier.loader import NativeLoader

sys.path.insert(0, str(Path(__file__).parents[1] / "adversarial"))


def _apply(sel: Selection, x: np.ndarray, out_size: int) -> np.ndarray:
    out = np.zeros(out_size, dtype=np.int64)
    e, r = sel.pairs()
    np.add.at(out, r, x.reshape(-1)[e])
    return out


def _random_selections(rnd: random.Random):
    shape = tuple(rnd.randint(1, 4) for _ in range(rnd.randint(1, 4)))
    perm = list(range(len(shape)))
    rnd.shuffle(perm)
    axes = {a for a in range(len(shape)) if rnd.random() < 0.5}
    axis = rnd.randrange(len(shape))
    out_shape = list(shape)
    out_shape[axis] += rnd.randint(0, 3)
    offset = rnd.randint(0, out_shape[axis] - shape[axis])
    rows = rnd.randint(1, 5)
    yield "transpose", Selection.transpose(shape, perm), shape
    yield "reduce", Selection.reduce(shape, axes), shape
    yield "place", Selection.place(shape, out_shape, axis, offset), shape
    yield "take", Selection.take(shape, axis, rnd.randrange(shape[axis]), at=1, count=3), shape
    yield "identity", Selection.identity(rnd.randint(1, 9)), None
    starts = [rnd.randrange(d) for d in shape]
    steps = [rnd.randint(1, 2) for _ in shape]
    yield "slice", Selection.slice(shape, [len(range(a, d, t)) for a, d, t in zip(starts, shape, steps)], starts, steps), shape
    yield "broadcast", Selection(0, 0, ((rows, rnd.randint(2, 5), 1), (rnd.randint(2, 5), 1, 0))), (rows,)
    reps = [rnd.randint(1, 3) for _ in shape]
    yield "tile", Selection.tile(shape, reps), shape
    yield "upsample", Selection.upsample(shape, reps), shape
    yield "pad", Selection.pad(shape, [rnd.randint(0, 2) for _ in range(2 * len(shape))]), shape
    yield "spread", Selection.pad(shape, [rnd.randint(0, 2) for _ in range(2 * len(shape))], reps), shape
    if len(shape) >= 2:
        for i, sel in enumerate(Selection.triangle(shape, rnd.random() < 0.5, rnd.randint(-2, 2))):
            yield f"triangle row {i}", sel, shape
    yield "strided", Selection(rnd.randint(0, 3), rnd.randint(0, 3), ((2, 7, 11), (3, 2, 3), (rnd.randint(1, 3), 1, 1))), None


@pytest.mark.parametrize("seed", range(12))
def test_closed_form_matches_coefficients(seed):
    rnd = random.Random(seed)
    rho, zeta = rnd.randrange(R), rnd.randrange(2, R)
    y = inv(zeta)
    vc = VerifierContext(NativeLoader.standalone(rho, zeta), Circuit(), {})
    for kind, sel, _ in _random_selections(rnd):
        length = sel.reach()[0]
        g = sel.coefficients(rho, length)
        assert int(sel.closed_form(vc)) == sum(a * pow(y, i, R) for i, a in enumerate(g)) % R, kind
        assert int(sel.closed_form(vc, at_one=True)) == sum(g) % R, kind
        extra = rnd.randrange(R)
        assert int(sel.closed_form(vc, [vc.L.const(extra)])) == extra * int(sel.closed_form(vc)) % R, kind


@pytest.mark.parametrize("seed", range(12))
def test_selections_move_data_like_numpy(seed):
    rnd = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rnd.integers(1, 5, size=int(rnd.integers(1, 5))))
    x = rnd.integers(-50, 50, size=shape)
    perm = [int(a) for a in rnd.permutation(len(shape))]
    assert np.array_equal(_apply(Selection.transpose(shape, perm), x, x.size), np.transpose(x, perm).reshape(-1))
    axes = {a for a in range(len(shape)) if rnd.random() < 0.5}
    want = x.sum(axis=tuple(sorted(axes)), keepdims=True).reshape(-1)
    assert np.array_equal(_apply(Selection.reduce(shape, axes), x, want.size), want)
    axis = int(rnd.integers(len(shape)))
    other = list(shape)
    other[axis] = int(rnd.integers(1, 4))
    z = rnd.integers(-50, 50, size=other)
    cat = np.concatenate([x, z], axis=axis)
    got = _apply(Selection.place(shape, cat.shape, axis, 0), x, cat.size) + \
        _apply(Selection.place(z.shape, cat.shape, axis, shape[axis]), z, cat.size)
    assert np.array_equal(got, cat.reshape(-1))
    j = int(rnd.integers(shape[axis]))
    want = x.take([j], axis=axis).reshape(-1)
    assert np.array_equal(_apply(Selection.take(shape, axis, j), x, want.size), want)
    idx = [int(i) for i in rnd.integers(shape[axis], size=int(rnd.integers(1, 4)))]
    want = np.take(x, idx, axis=axis)
    got = sum(_apply(Selection.take(shape, axis, j, at=p, count=len(idx)), x, want.size) for p, j in enumerate(idx))
    assert np.array_equal(got, want.reshape(-1))
    starts = [int(rnd.integers(d)) for d in shape]
    steps = [int(rnd.integers(1, 3)) for _ in shape]
    want = x[tuple(slice(a, None, t) for a, t in zip(starts, steps))]
    got = _apply(Selection.slice(shape, want.shape, starts, steps), x, want.size)
    assert np.array_equal(got, want.reshape(-1))
    small = tuple(1 if rnd.random() < 0.5 else d for d in shape)
    s = rnd.integers(-50, 50, size=small)
    assert np.array_equal(_apply(Selection.broadcast(small, shape), s, x.size), np.broadcast_to(s, shape).reshape(-1))


@pytest.mark.parametrize("seed", range(12))
def test_new_movement_selections_match_numpy_and_the_primitives(seed):
    from zkchain.quant.primitives import RUN, IntOp

    rnd = np.random.default_rng(100 + seed)
    shape = tuple(int(d) for d in rnd.integers(1, 5, size=int(rnd.integers(2, 5))))
    x = rnd.integers(-50, 50, size=shape)

    def prim(kind, **params):
        return RUN[kind](IntOp(kind, ["x"], ["y"], params), [x])[0]

    reps = [int(r) for r in rnd.integers(1, 4, size=len(shape))]
    want = np.tile(x, reps)
    assert np.array_equal(_apply(Selection.tile(shape, reps), x, want.size), want.reshape(-1))
    assert np.array_equal(prim("tile", reps=reps), want)
    want = x
    for a, f in enumerate(reps):
        want = np.repeat(want, f, axis=a)
    assert np.array_equal(_apply(Selection.upsample(shape, reps), x, want.size), want.reshape(-1))
    assert np.array_equal(prim("upsample", factors=reps), want)
    pads = [int(p) for p in rnd.integers(0, 3, size=2 * len(shape))]
    want = np.pad(x, [(pads[a], pads[a + len(shape)]) for a in range(len(shape))])
    assert np.array_equal(_apply(Selection.pad(shape, pads), x, want.size), want.reshape(-1))
    assert np.array_equal(prim("pad", pads=pads), want)
    strides = [int(t) for t in rnd.integers(1, 4, size=len(shape))]
    want = np.zeros([p + q + (d - 1) * t + 1 for p, q, d, t in zip(pads, pads[len(shape):], shape, strides)], np.int64)
    want[tuple(slice(p, p + (d - 1) * t + 1, t) for p, d, t in zip(pads, shape, strides))] = x
    assert np.array_equal(_apply(Selection.pad(shape, pads, strides), x, want.size), want.reshape(-1))
    assert np.array_equal(prim("pad", pads=pads, strides=strides), want)
    for upper in (True, False):
        k = int(rnd.integers(-3, 4))
        want = (np.triu if upper else np.tril)(x, k)
        got = sum((_apply(s, x, x.size) for s in Selection.triangle(shape, upper, k)), np.zeros(x.size, np.int64))
        assert np.array_equal(got, want.reshape(-1)), (upper, k)
        assert np.array_equal(prim("trilu", upper=int(upper), k=k), want)
    small = tuple(1 if rnd.random() < 0.5 else d for d in shape)  # Expand: size-1 axes repeat, a new leading axis
    z = x[tuple(slice(0, d) for d in small)]
    want = np.broadcast_to(z, (int(rnd.integers(1, 4)),) + shape)
    assert np.array_equal(_apply(Selection.broadcast((1,) + small, want.shape), z, want.size), want.reshape(-1))
    assert np.array_equal(RUN["expand"](IntOp("expand", ["x"], ["y"], {"shape": list(want.shape)}), [z])[0], want)


def test_invalid_selections_are_refused():
    with pytest.raises(ValueError):
        Selection(0, 0, ((3, 0, 0),))  # a step that moves neither index
    with pytest.raises(ValueError):
        Selection(-1, 0, ())


# -- an attack on a compiled model -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def movement(tmp_path_factory):
    from harness import SMALL, build
    from unit_models import save_unit_model

    d = tmp_path_factory.mktemp("movement")
    path, _shape, public = save_unit_model("movement", d)
    return build("movement", path, d / "calibration.npy", public_input=public, config=SMALL)


def _moved_transpose(b) -> dict:
    from harness import execute_tampered

    t = next(op for op in b.model.ops if op.kind == "transpose").outputs[0]
    return b.compiled.vector_values(execute_tampered(b.model, b.x_int, t, 5, lambda v: v + 3))


def test_moved_entry_is_rejected_and_accepted_without_the_gather_claim(movement, monkeypatch):
    from harness import SolidityJudge, judge

    from zkchain.blocks import Gather
    from zkchain.evm.chain import Chain
    from zkchain.errors import SetupError
    from zkchain.prover.prove import prove
    from zkchain.verifier.verify import verify

    b = movement
    forged = prove(b.pk, _moved_transpose(b), check_witness=False)
    try:
        sol = SolidityJudge(Chain.embedded(), b.pk.vk, "AdvGatherMoved")
    except SetupError:
        sol = None
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    py, so = judge(b, forged, sol)
    assert not py and not so
    # control: without the permutation's claim (prover and verifier) the moved entry goes through
    monkeypatch.setattr(Gather, "prover_claims", lambda self, pc: [])
    monkeypatch.setattr(Gather, "verifier_claims", lambda self, vc: [])
    assert verify(b.pk.vk, prove(b.pk, _moved_transpose(b), check_witness=False)).accepted
