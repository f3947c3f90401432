"""Distribution test of zero knowledge (issue 15, ``docs/protocol.md`` §7.7).

Two witnesses of one small model with the same public output — inputs that differ only in entries the first ReLU
clips to 0 — are proved 1,000 times each (``pytest -m sweep``, ~4 min; CI runs 200 each, ~1 min). Every value a proof reveals (every evaluation, every commitment's and
opening proof's x-coordinate) is reduced mod 3 and the two classes are compared by a two-sample χ² test per
value, at family-wise α = 10⁻³ (Bonferroni). v2 must pass: the revealed values are uniform whatever the witness.
The same test on coin-free proofs (every zero-knowledge coin 0, what a v1 prover made) must detect the classes.

The model has every block kind a CNN uses: lookups (ReLU, range limbs), a convolution, a max pooling (Hadamard
chain, Pick), matmul, rescales and the public output.
"""

from __future__ import annotations

import random

import numpy as np
import onnx
import pytest
from harness import SMALL, ZeroCoins, compile_model, lower
from onnx import helper
from unit_models import _model, _w

from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove

PROOFS = 1000
ALPHA = 1e-3
MODULUS = 3


def _relu_conv_pool(rng):
    """x(1×1×6×6) → Relu → Conv(3×3, pad 1) → Relu → MaxPool(2×2, stride 2) → Flatten → Gemm → y(1×3)."""
    nodes = [helper.make_node("Relu", ["x"], ["x0"], name="relu_in"),
             helper.make_node("Conv", ["x0", "K", "kb"], ["c"], kernel_shape=[3, 3], pads=[1] * 4, name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, name="fc")]
    inits = [_w(rng, "K", (2, 1, 3, 3)), _w(rng, "kb", (2,)), _w(rng, "W", (3, 18)), _w(rng, "b", (3,))]
    return _model(nodes, inits, (1, 1, 6, 6), (1, 3), "relu_conv_pool")


@pytest.fixture(scope="module")
def two_classes(tmp_path_factory):
    d = tmp_path_factory.mktemp("zkdist")
    rng = np.random.default_rng(15)
    model = _relu_conv_pool(rng)
    onnx.checker.check_model(model)
    onnx.save(model, str(d / "model.onnx"))
    np.save(d / "calibration.npy", rng.normal(size=(32, 1, 6, 6)).astype(np.float32))
    qm = compile_model(d / "model.onnx", calibration=d / "calibration.npy", config=SMALL)
    compiled = lower(qm)
    srs = SRS.dev(required_degree(compiled.circuit), seed="zkdist")
    x = rng.uniform(0.1, 1.0, size=(1, 1, 6, 6)).astype(np.float32)
    x[0, 0, ::2, ::2] = 0  # the entries the two classes differ in: non-positive, so ReLU makes them 0
    xa, xb = x.copy(), x.copy()
    xa[0, 0, ::2, ::2], xb[0, 0, ::2, ::2] = -0.2, -1.5
    wa, wb = (qm.execute(qm.quantize_input(v)) for v in (xa, xb))
    va, vb = compiled.vector_values(wa), compiled.vector_values(wb)
    assert va[qm.input_name] != vb[qm.input_name], "the classes differ in the private input"
    out = [v.name for v in compiled.circuit.public("output")]
    assert all(va[o] == vb[o] for o in out), "the classes share the public output"
    return compiled, srs, va, vb


def _revealed(proof) -> list[int]:
    """Every value a proof reveals, as integers: evaluations, then commitment and opening x-coordinates."""
    vals = [v for p in proof.evaluations for v in proof.evaluations[p]]
    vals += [int.from_bytes(c[:32], "big") for c in proof.commitments.values()]
    vals += [int.from_bytes(o[:32], "big") for o in proof.openings.values()]
    return vals


def _family_rejects(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Indices of revealed values whose residues mod 3 differ between the classes (two-sample χ², Bonferroni)."""
    from scipy.stats import chi2_contingency

    bad = []
    for j in range(a.shape[1]):
        table = np.array([np.bincount(a[:, j] % MODULUS, minlength=MODULUS),
                          np.bincount(b[:, j] % MODULUS, minlength=MODULUS)])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            continue  # the same constant in both classes: nothing to tell apart
        if chi2_contingency(table).pvalue < ALPHA / a.shape[1]:
            bad.append(j)
    return bad


def _sample(pk, values, count, rng_of):
    return np.array([[v % MODULUS for v in _revealed(prove(pk, values, rng=rng_of(i)))] for i in range(count)],
                    dtype=np.int64)


@pytest.mark.parametrize("count", [pytest.param(200, marks=pytest.mark.slow),
                                   pytest.param(PROOFS, marks=pytest.mark.sweep)])
def test_revealed_values_do_not_tell_the_witnesses_apart(two_classes, count):
    compiled, srs, va, vb = two_classes
    pk = setup(compiled.circuit, compiled.fixed_values, srs, "dev:zkdist", rng=random.Random(1))
    a = _sample(pk, va, count, lambda i: random.Random(2 * i))
    b = _sample(pk, vb, count, lambda i: random.Random(2 * i + 1))
    assert a.shape[1] > 40
    assert not _family_rejects(a, b)


def test_the_same_test_detects_coin_free_proofs(two_classes):
    """Coin-free proofs are deterministic (checked on two), so 1,000 copies stand for 1,000 proofs."""
    compiled, srs, va, vb = two_classes
    pk = setup(compiled.circuit, compiled.fixed_values, srs, "dev:zkdist", rng=ZeroCoins())
    a, b = _sample(pk, va, 2, lambda i: ZeroCoins()), _sample(pk, vb, 2, lambda i: ZeroCoins())
    assert (a[0] == a[1]).all() and (b[0] == b[1]).all()
    rejected = _family_rejects(np.repeat(a[:1], PROOFS, axis=0), np.repeat(b[:1], PROOFS, axis=0))
    assert len(rejected) > a.shape[1] // 3
