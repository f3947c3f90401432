"""Hadamard block: elementwise products of two committed vectors and of a committed and a fixed vector."""

from __future__ import annotations

import random

import pytest

from zkchain.compiler.circuit import Circuit, Expr, Term
from zkchain.blocks import Hadamard, Zero
from zkchain.errors import UnsupportedModelError
from zkchain.protocol.schedule import schedule
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify

N = 11


@pytest.fixture(scope="module")
def keys():
    c = Circuit()
    a = c.add_vector("x", N, "witness")
    a2 = c.add_vector("x2", N, "witness")  # x∘x needs a copy: the two sides' tails sit in different windows
    sq = c.add_vector("sq", N, "witness")
    k = c.add_vector("k", N, "fixed")
    out = c.add_vector("out", N, "public", "output", bound=2**40)
    c.constraints += [
        Zero(Expr(N, (Term("x2"), Term("x", -1))), "copy"),
        Hadamard(a, a2, sq, "square"),
        # out = (a + 1) ∘ k: an expression on the left, a fixed vector on the right
        Hadamard(Expr(N, (Term("x"),), 1), k, out, "scale"),
    ]
    c.check()
    rnd = random.Random(3)
    kv = [rnd.randrange(-50, 50) for _ in range(N)]
    return setup(c, {"k": kv}, SRS.dev(required_degree(c), seed="hadamard"), "dev:hadamard"), kv


def values(kv, a):
    return {"x": a, "x2": a, "sq": [x * x for x in a], "out": [(x + 1) * y for x, y in zip(a, kv)]}


def test_a_vector_on_both_sides_is_refused_and_sides_are_staggered(keys):
    pk, _ = keys
    c = Circuit()
    a = c.add_vector("x", N, "witness")
    c.constraints.append(Hadamard(a, a, c.add_vector("sq", N, "witness"), "square"))
    with pytest.raises(UnsupportedModelError, match="both sides"):
        schedule(c)
    tails = schedule(pk.circuit).tails
    (sa, ta), (sb, tb) = tails["x"], tails["x2"]
    assert sa == N and sb >= sa + ta and tb >= 1  # disjoint tail windows: a_i·b_i = 0 past the data


def test_products_are_accepted(keys):
    pk, kv = keys
    a = [random.Random(9).randrange(-100, 100) for _ in range(N)]
    v = verify(pk.vk, prove(pk, values(kv, a)))
    assert v.accepted, v.reason


@pytest.mark.parametrize("which", ["sq", "out"])
def test_wrong_product_entry_is_rejected(keys, which):
    pk, kv = keys
    a = list(range(N))
    vals = values(kv, a)
    vals[which][4] += 1
    assert not verify(pk.vk, prove(pk, vals, check_witness=False))
