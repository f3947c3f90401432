"""Small hand-built circuits for the proof-system tests (no ONNX, no quantizer)."""

from __future__ import annotations

import random

import pytest

from zkchain.blocks.lookup import TABLE_OUT, table_layout, table_length
from zkchain.blocks.matmul import row_stride, weight_vector
from zkchain.compiler.circuit import Circuit, Expr, Term
from zkchain.blocks import Lookup, MatMul, Zero
from zkchain.crypto.field import R, inv
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup

SRS_SPEC = "dev:zkchain-test"


class Instance:
    """A layer ``y = relu(rescale(x·W + b))`` followed by ``z = rescale(y·V + c)`` (public), with honest values."""

    def __init__(self, seed: int = 1, k: int = 6, n: int = 4, n2: int = 3, s: int = 4, M: int = 3):
        rnd = random.Random(seed)
        self.k, self.n, self.n2, self.s, self.M = k, n, n2, s, M
        self.x = [rnd.randrange(-8, 8) for _ in range(k)]
        self.W = [[rnd.randrange(-5, 6) for _ in range(n)] for _ in range(k)]
        self.b = [rnd.randrange(-20, 21) for _ in range(n)]
        self.V = [[rnd.randrange(-5, 6) for _ in range(n2)] for _ in range(n)]
        self.c = [rnd.randrange(-20, 21) for _ in range(n2)]

    def honest(self, x: list[int] | None = None, y: list[int] | None = None) -> dict[str, list[int]]:
        """All vector values computed from ``x`` (default: the instance's); ``y`` overrides the relu output
        (a cheating prover) and everything after it is recomputed from it."""
        s, M = self.s, self.M
        x = list(self.x if x is None else x)
        acc = [sum(x[l] * self.W[l][j] for l in range(self.k)) + self.b[j] for j in range(self.n)]
        t = [M * a + (1 << (s - 1)) for a in acc]
        q = [v >> s for v in t]
        rem = [v - (qq << s) for v, qq in zip(t, q)]
        y = [max(v, 0) for v in q] if y is None else list(y)
        acc2 = [sum(y[l] * self.V[l][j] for l in range(self.n)) + self.c[j] for j in range(self.n2)]
        t2 = [M * a + (1 << (s - 1)) for a in acc2]
        z = [v >> s for v in t2]
        rem2 = [v - (zz << s) for v, zz in zip(t2, z)]
        return {"x": x, "q": q, "rem": rem, "y": y, "z": z, "rem2": rem2}

    def circuit(self) -> tuple[Circuit, dict[str, list[int]]]:
        k, n, n2, s, M = self.k, self.n, self.n2, self.s, self.M
        c = Circuit()
        x = c.add_vector("x", k, "witness")
        q = c.add_vector("q", n, "witness")
        rem = c.add_vector("rem", n, "witness")
        y = c.add_vector("y", n, "witness")
        z = c.add_vector("z", n2, "public", "output", bound=2**40)
        rem2 = c.add_vector("rem2", n2, "witness")
        c.add_vector("W1", row_stride(k) * n, "fixed")
        c.add_vector("W2", row_stride(n) * n2, "fixed")
        rng = c.add_table("range16", "range", 0, 1 << s)
        inrange = c.add_table("in", "range", -8, 16)
        relu = c.add_table("relu", "map", -64, 128)
        mi = inv(M)

        def acc_of(qv: Expr, rv: Expr, length: int) -> Expr:
            return Expr(length, (Term(qv.terms[0].vector, (1 << s) * mi % R), Term(rv.terms[0].vector, mi)),
                        -(1 << (s - 1)) * mi % R)

        c.constraints += [
            Lookup(inrange.name, x, None, "input range"),
            MatMul(x, "W1", k, n, acc_of(q, rem, n), "fc1"),
            Lookup(rng.name, rem, None, "rem range"),
            Lookup(relu.name, q, y, "relu"),
            MatMul(y, "W2", n, n2, acc_of(z, rem2, n2), "fc2"),
            Lookup(rng.name, rem2, None, "rem2 range"),
            Zero(Expr(n, (Term("y"), Term("y", R - 1))), "trivial zero"),
        ]
        c.add_vector(TABLE_OUT, table_length(c), "fixed")
        col = []
        for t, _ in table_layout(c):
            col += [max(t.lo + i, 0) for i in range(t.size)] if t.kind == "map" else [0] * t.size
        fixed = {"W1": weight_vector(self.W, self.b), "W2": weight_vector(self.V, self.c), TABLE_OUT: col}
        c.check()
        return c, fixed


@pytest.fixture(scope="session")
def instance():
    return Instance()


@pytest.fixture(scope="session")
def keys(instance):
    circuit, fixed = instance.circuit()
    srs = SRS.dev(required_degree(circuit), seed=SRS_SPEC[4:])
    return setup(circuit, fixed, srs, SRS_SPEC)
