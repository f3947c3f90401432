"""Unit checks of the block algebra against brute force (no commitments)."""

from __future__ import annotations

import random

from zkchain.blocks import degree, inner_product, matmul
from zkchain.blocks.common import iota_eval, ones_eval
from zkchain.compiler.circuit import Expr
from zkchain.blocks import MatMul
from zkchain.crypto.field import R, inv

rnd = random.Random(7)


def ev(coeffs, x):
    return sum(c * pow(x, i, R) for i, c in enumerate(coeffs)) % R


def test_closed_forms_match_sums():
    for n in (1, 2, 5, 64):
        x = rnd.randrange(2, R)
        assert ones_eval(n, x) == sum(pow(x, i, R) for i in range(n)) % R
        assert iota_eval(n, x) == sum(i * pow(x, i, R) for i in range(n)) % R
        assert ones_eval(n, 1) == n and iota_eval(n, 1) == n * (n - 1) // 2


def test_laurent_product_splits_constant_term():
    p = [rnd.randrange(R) for _ in range(7)]
    q = [rnd.randrange(R) for _ in range(5)]
    const, a, b = inner_product.laurent_product(p, q)
    assert const == sum(x * y for x, y in zip(p, q)) % R
    z = rnd.randrange(2, R)
    zi = inv(z)
    lhs = ev(p, z) * ev(q, zi) % R
    from zkchain.crypto import poly as fpoly

    rhs = (const + z * fpoly.evaluate(a, z) + zi * fpoly.evaluate(b, zi)) % R
    assert lhs == rhs


def test_aggregate_rejects_false_claim():
    p = [1, 2, 3]
    q = [4, 5, 6]
    good = inner_product.LaurentClaim([(p, q)], 32, "good")
    bad = inner_product.LaurentClaim([(p, q)], 33, "bad")
    inner_product.aggregate([good], 5)
    try:
        inner_product.aggregate([good, bad], 5)
    except ValueError as e:
        assert "bad" in str(e)
    else:
        raise AssertionError("false claim accepted")


def _vc(rho, zeta, opened=None):
    from zkchain.blocks.common import VerifierContext
    from zkchain.compiler.circuit import Circuit
    from zkchain.verifier.loader import NativeLoader

    return VerifierContext(NativeLoader.standalone(rho, zeta, opened), Circuit(), {})


def test_matmul_right_vector_gives_output_at_rho_whatever_the_tail():
    from zkchain.blocks.common import RHO_ZETA_INV, ZETA, ZETA_INV, ones_eval

    k, n = 5, 3
    x = [rnd.randrange(-9, 9) for _ in range(k)]
    W = [[rnd.randrange(-9, 9) for _ in range(n)] for _ in range(k)]
    b = [rnd.randrange(-9, 9) for _ in range(n)]
    out = [sum(x[l] * W[l][j] for l in range(k)) + b[j] for j in range(n)]
    rho = rnd.randrange(R)
    c = MatMul(Expr.of("x", k), "W", k, n, Expr.of("o", n))
    wv = matmul.weight_vector(W, b)
    xt = [v % R for v in x] + [rnd.randrange(R) for _ in range(matmul.GAP)]  # data, then a maximal random tail
    u = c.right_side(xt, rho)
    assert sum(a * bb for a, bb in zip(wv, u)) % R == ev([v % R for v in out], rho)
    z = c.gap_pin(rho)
    assert sum(a * bb for a, bb in zip(wv, z)) % R == 0
    bad = list(wv)
    bad[1 + k] = 7  # a model owner's planted gap entry: the tail would move output 0, the pin sees it
    assert sum(a * bb for a, bb in zip(bad, u)) % R != ev([v % R for v in out], rho)
    assert sum(a * bb for a, bb in zip(bad, z)) % R != 0
    zeta = rnd.randrange(2, R)
    zi = inv(zeta)
    o = [v % R for v in out] + [rnd.randrange(R) for _ in range(3)]
    vc = _vc(rho, zeta, {ZETA: {"W": ev(wv, zeta), "o": ev(o, zeta)}, ZETA_INV: {"x": ev(xt, zi)}})
    (lhs, value), (lz, vz) = c.verifier_claims(vc)
    assert int(lhs) == ev(wv, zeta) * ev(u, zi) % R
    assert int(value) == ev(o, zeta) * ones_eval(n, rho * zi) % R
    assert int(lz) == ev(wv, zeta) * ev(z, zi) % R and int(vz) == 0
    assert RHO_ZETA_INV in vc.points


def test_degree_reversal_accepts_short_and_rejects_long():
    from zkchain.blocks.common import ZETA, ZETA_INV
    from zkchain.verifier.loader import Rejected

    vs = [([rnd.randrange(R) for _ in range(4)], 4), ([rnd.randrange(R) for _ in range(9)], 9)]
    eps, zeta = rnd.randrange(R), rnd.randrange(2, R)

    def check(vectors, w):
        vc = _vc(1, zeta, {ZETA: {f"v{i}": ev(c, zeta) for i, (c, _) in enumerate(vectors)},
                           ZETA_INV: {degree.W: ev(w, inv(zeta))}})
        vc.ch["epsilon"] = eps
        try:
            degree.verifier_check(vc, [(f"v{i}", n) for i, (_, n) in enumerate(vectors)])
        except Rejected:
            return False
        return True

    assert check(vs, degree.reversed_sum(vs, eps))
    # a vector one entry longer than declared cannot be matched by any W of the declared size
    long_ = [([rnd.randrange(R) for _ in range(5)], 4), vs[1]]
    assert not check(long_, degree.reversed_sum([(long_[0][0][:4], 4), vs[1]], eps))


def test_schedule_refuses_a_tail_inside_a_structured_operand():
    """A shifted term in a matmul row would put ``vb``'s tail inside the data: v2 fails closed (the compiler never
    emits one; a Zero relation may shift, because ``⟨v, q_N⟩`` reads each vector's own data)."""
    import pytest

    from zkchain.blocks import Zero
    from zkchain.compiler.circuit import Circuit, Term
    from zkchain.errors import UnsupportedModelError
    from zkchain.protocol.schedule import schedule

    c = Circuit()
    for nm in ("va", "vb"):
        c.add_vector(nm, 3, "witness")
    c.add_vector("W", matmul.row_stride(6) * 2, "fixed")
    c.add_vector("z", 2, "witness")
    c.constraints.append(MatMul(Expr(6, (Term("va"), Term("vb", 1, 3))), "W", 6, 2, Expr.of("z", 2), "fc"))
    c.check()
    with pytest.raises(UnsupportedModelError, match="zero-knowledge tail"):
        schedule(c)
    c2 = Circuit()
    for nm in ("va", "vb"):
        c2.add_vector(nm, 3, "witness")
    c2.add_vector("vc", 6, "witness")
    c2.constraints.append(Zero(Expr(6, (Term("vc"), Term("va", -1), Term("vb", -1, 3))), "concat"))
    c2.check()
    assert schedule(c2).tails["vb"] == (3, 2)
