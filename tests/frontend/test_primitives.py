"""The integer primitives (the prover contract): exact semantics, remainders, ranges, wide integers."""

from __future__ import annotations

import numpy as np
import pytest

from zkchain.quant.primitives import IntOp, RangeError, conv2d, linear, maxpool, rescale, run_op, sumpool, table


@pytest.mark.parametrize("s", [1, 5, 16])
def test_rescale_identity_and_remainder_range(rng, s):
    x = rng.integers(-2**40, 2**40, size=200)
    M = int(rng.integers(1, 2**24))
    y, rem = rescale(x, M, s)
    for xi, yi, ri in zip(x.tolist(), y.tolist(), rem.tolist()):
        assert M * xi + (1 << (s - 1)) == (1 << s) * yi + ri
        assert 0 <= ri < (1 << s)
        assert yi == (M * xi + (1 << (s - 1))) // (1 << s)


def test_rescale_switches_to_python_ints_without_overflow():
    x = np.array([2**45, -(2**45) - 3], dtype=np.int64)
    M, s = 2**23 + 5, 7
    y, rem = rescale(x, M, s)
    for xi, yi, ri in zip(x.tolist(), y.tolist(), rem.tolist()):
        assert M * xi + 64 == 128 * int(yi) + int(ri) and 0 <= int(ri) < 128


def test_linear_exact_with_huge_values():
    x = np.array([[2**40, -(2**40)]], dtype=np.int64)
    W = np.array([[2**23], [2**23 - 1]], dtype=np.int64)
    b = np.array([7], dtype=np.int64)
    y = linear(x, W, b)
    assert int(y[0, 0]) == 2**40 * 2**23 - 2**40 * (2**23 - 1) + 7


def test_table_lookup_and_out_of_range_names_tensor():
    vals = np.arange(10, dtype=np.int64) * 3
    y, idx = table(np.array([-2, 0, 7]), -2, vals, "t0")
    assert y.tolist() == [0, 6, 27] and idx.tolist() == [0, 2, 9]
    with pytest.raises(RangeError, match="t0"):
        table(np.array([8]), -2, vals, "t0")


def test_conv2d_matches_float_reference(rng):
    x = rng.integers(-100, 100, size=(1, 4, 7, 6))
    W = rng.integers(-50, 50, size=(6, 2, 3, 2))
    b = rng.integers(-1000, 1000, size=6)
    y = conv2d(x, W, b, [2, 1], [1, 0, 1, 1], group=2)
    # direct definition
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 1)))
    oh, ow = (xp.shape[2] - 3) // 2 + 1, xp.shape[3] - 2 + 1
    ref = np.zeros((1, 6, oh, ow), dtype=np.int64)
    for o in range(6):
        g = o // 3
        for i in range(oh):
            for j in range(ow):
                ref[0, o, i, j] = b[o] + np.sum(W[o] * xp[0, 2 * g:2 * g + 2, 2 * i:2 * i + 3, j:j + 2])
    assert y.shape == ref.shape and np.array_equal(y, ref)


def test_pools():
    x = np.arange(16, dtype=np.int64).reshape(1, 1, 4, 4) - 20
    assert maxpool(x, [2, 2], [2, 2], [0, 0, 0, 0]).ravel().tolist() == [-15, -13, -7, -5]
    # padding never wins, even when every entry is negative
    assert maxpool(x, [2, 2], [2, 2], [1, 1, 1, 1])[0, 0, 0, 0] == -20
    assert sumpool(x, [2, 2], [2, 2], [0, 0, 0, 0]).ravel().tolist() == [-70, -62, -38, -30]


def test_run_op_elementwise_broadcast():
    env = {"a": np.array([[1, 2], [3, 4]]), "b": np.array([[10, 20]])}
    run_op(IntOp("add", ["a", "b"], ["s"]), env)
    run_op(IntOp("mul", ["a", "b"], ["p"]), env)
    run_op(IntOp("mul_const", ["a"], ["m"], {"c": np.array([[-1, 2]])}), env)
    run_op(IntOp("sum", ["a"], ["t"], {"axes": [1]}), env)
    run_op(IntOp("max", ["a"], ["u"], {"axis": 1}), env)
    assert env["s"].tolist() == [[11, 22], [13, 24]]
    assert env["p"].tolist() == [[10, 40], [30, 80]]
    assert env["m"].tolist() == [[-1, 4], [-3, 8]]
    assert env["t"].tolist() == [[3], [7]] and env["u"].tolist() == [[2], [4]]
