"""Conv block: completeness and cheating provers on small hand-built convolutions (stride, padding, channels)."""

from __future__ import annotations

import random

import pytest

from zkchain.compiler.circuit import Circuit, Grid
from zkchain.blocks import Conv, PadZero
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify


def conv_of_padded(xp, w, b, stride):
    C, Hp, Wp = len(xp), len(xp[0]), len(xp[0][0])
    OC, kh, kw = len(w), len(w[0][0]), len(w[0][0][0])
    OH, OW = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    return [[[b[o] + sum(w[o][c][u][v] * xp[c][i * stride + u][j * stride + v]
                         for c in range(C) for u in range(kh) for v in range(kw))
              for j in range(OW)] for i in range(OH)] for o in range(OC)]


def reference(x, w, b, pad, stride):
    C, H, W = len(x), len(x[0]), len(x[0][0])
    xp = [[[0] * (W + 2 * pad) for _ in range(H + 2 * pad)] for _ in range(C)]
    for c in range(C):
        for i in range(H):
            for j in range(W):
                xp[c][i + pad][j + pad] = x[c][i][j]
    return xp, conv_of_padded(xp, w, b, stride)


def lay_out(out, outp):
    ov = [0] * outp.size
    for o in range(outp.C):
        for i in range(outp.H):
            for j in range(outp.W):
                ov[o * outp.Hp * outp.Wp + (i + outp.top) * outp.Wp + j + outp.left] = out[o][i][j]
    return ov


CASES = [(2, 5, 5, 3, 3, 1, 1), (1, 6, 6, 2, 3, 0, 2), (3, 4, 4, 2, 2, 1, 2)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: "C{}H{}W{}-OC{}k{}p{}s{}".format(*c))
def case(request):
    C, H, W, OC, k, pad, stride = request.param
    rnd = random.Random(hash(request.param) % 1000)
    x = [[[rnd.randrange(-9, 10) for _ in range(W)] for _ in range(H)] for _ in range(C)]
    w = [[[[rnd.randrange(-5, 6) for _ in range(k)] for _ in range(k)] for _ in range(C)] for _ in range(OC)]
    b = [rnd.randrange(-30, 31) for _ in range(OC)]
    xp, out = reference(x, w, b, pad, stride)
    inp = Grid(C, H, W, H + 2 * pad, W + 2 * pad, pad, pad)
    outp = Grid(OC, len(out[0]), len(out[0][0]), len(out[0]) + 2, len(out[0][0]) + 1, 1, 0)  # padded for a consumer
    circ = Circuit()
    xe = circ.add_vector("x", inp.size, "witness")
    oe = circ.add_vector("out", outp.size, "witness")
    cv = Conv(xe, "K", inp, outp, OC, k, k, stride, stride, oe, "conv")
    circ.add_vector("K", cv.kernel_length, "fixed")
    circ.constraints += [cv] + ([PadZero(xe, inp, "pad")] if pad else [])
    circ.check()
    fixed = {"K": cv.kernel_vector(w, b)}
    pk = setup(circ, fixed, SRS.dev(required_degree(circ), seed="conv-test"), "dev:conv-test")
    xv = [v for ch in xp for row in ch for v in row]
    return pk, {"x": xv, "out": lay_out(out, outp)}, inp, outp, (xp, w, b, stride)


def test_convolution_proof_is_accepted(case):
    pk, vals, _, _, _ = case
    v = verify(pk.vk, prove(pk, vals))
    assert v.accepted, v.reason


def test_wrong_output_cell_is_rejected(case):
    pk, vals, _, outp, _ = case
    bad = dict(vals, out=list(vals["out"]))
    bad["out"][outp.top * outp.Wp + outp.left] += 1
    assert not verify(pk.vk, prove(pk, bad, check_witness=False))


def test_nonzero_output_padding_is_rejected(case):
    pk, vals, _, outp, _ = case
    bad = dict(vals, out=list(vals["out"]))
    bad["out"][0] += 1  # cell (0, 0) is padding of the output grid (top = 1)
    assert not verify(pk.vk, prove(pk, bad, check_witness=False))


def test_nonzero_input_padding_is_rejected(case):
    pk, vals, inp, outp, (xp, w, b, stride) = case
    if not inp.padded:
        pytest.skip("no input padding in this case")
    xp = [[list(r) for r in ch] for ch in xp]
    xp[0][0][0] = 3  # a padding cell; the output is the true convolution of this input, so only PadZero objects
    bad = {"x": [v for ch in xp for row in ch for v in row], "out": lay_out(conv_of_padded(xp, w, b, stride), outp)}
    assert not verify(pk.vk, prove(pk, bad, check_witness=False))


def test_selection_closed_form_matches_coefficients(case):
    """The verifier's closed forms (through the native loader) equal the prover's coefficient vectors at 1/ζ."""
    from zkchain.blocks.common import VerifierContext
    from zkchain.crypto.field import inv
    from zkchain.verifier.loader import NativeLoader

    pk, _, _, _, _ = case
    c = next(k for k in pk.circuit.constraints if isinstance(k, Conv))
    rho, zeta = random.randrange(R), random.randrange(2, R)
    y = inv(zeta)
    vc = VerifierContext(NativeLoader.standalone(rho, zeta), Circuit(), {})
    coeffs = c.selection().coefficients(rho, c.kernel_length)
    assert int(c.selection().closed_form(vc)) == sum(a * pow(y, i, R) for i, a in enumerate(coeffs) if a) % R
    pin = c.pin(rho)
    assert int(c.pin_eval(vc)) == sum(a * pow(y, i, R) for i, a in enumerate(pin) if a) % R
    assert all(pin[i] == 0 for i in range(c.kernel_length) if c.sumpool_kernel()[i]) and pin[0] == 1
    pz = PadZero(c.x, c.inp)
    mask = pz.mask(rho)
    assert int(pz.mask_eval(vc, 1)) == sum(a * pow(y, i, R) for i, a in enumerate(mask) if a) % R
    assert int(pz.mask_eval(vc, 0)) == sum(mask) % R


# -- the v2 layout: x's zero-knowledge tail never reaches a valid product position --------------------------

def _layout_holds(cv: Conv, rnd: random.Random, block_length: int | None = None) -> bool:
    """One random instance: data on the grid, a maximal random tail (RESERVED_SPAN coefficients), random
    kernel and bias; does ``⟨x'·K, sel_ρ⟩`` equal ``Σ ρ^(out index)·out``? ``block_length`` overrides L."""
    from zkchain.blocks.common import RESERVED_SPAN

    gi, go = cv.inp, cv.outp
    C, g = gi.C, gi.Hp * gi.Wp
    L = block_length or cv.block_length
    x = [[[0] * gi.Wp for _ in range(gi.Hp)] for _ in range(C)]
    for c in range(C):
        for i in range(gi.H):
            for j in range(gi.W):
                x[c][i + gi.top][j + gi.left] = rnd.randrange(-9, 10)
    w = [[[[rnd.randrange(1, 6) for _ in range(cv.kw)] for _ in range(cv.kh)] for _ in range(C)] for _ in range(cv.OC)]
    b = [rnd.randrange(1, 31) for _ in range(cv.OC)]
    out = conv_of_padded(x, w, b, cv.sh)
    flat = [x[c][i][j] % R for c in range(C) for i in range(gi.Hp) for j in range(gi.Wp)]
    xp = [1] * g + flat + [rnd.randrange(R) for _ in range(RESERVED_SPAN)]
    K = [0] * (cv.OC * L)
    for o in range(cv.OC):
        for c in range(C):
            for u in range(cv.kh):
                for v in range(cv.kw):
                    K[o * L + (C - c) * g + (cv.kh - 1 - u) * gi.Wp + (cv.kw - 1 - v)] = w[o][c][u][v]
        K[o * L + cv.window_base] = b[o]
    prod = [0] * (len(xp) + len(K))
    for i, a in enumerate(xp):
        if a:
            for j, k in enumerate(K):
                if k:
                    prod[i + j] = (prod[i + j] + a * k) % R
    rho = rnd.randrange(2, R)
    lhs = 0
    for o in range(cv.OC):
        for i in range(go.H):
            for j in range(go.W):
                pos = o * L + cv.window_base + i * cv.sh * gi.Wp + j * cv.sw
                lhs += prod[pos] * pow(rho, go.index(o, i, j), R)
    want = sum(out[o][i][j] % R * pow(rho, go.index(o, i, j), R)
               for o in range(cv.OC) for i in range(go.H) for j in range(go.W))
    return (lhs - want) % R == 0


def _shapes(rnd, n):
    for _ in range(n):
        C, H, W, k = rnd.randint(1, 3), rnd.randint(1, 5), rnd.randint(1, 5), rnd.randint(1, 3)
        pad, s = rnd.randint(0, 1), rnd.randint(1, 3)
        Hp, Wp = H + 2 * pad, W + 2 * pad
        if k > min(Hp, Wp):
            continue
        OH, OW = (Hp - k) // s + 1, (Wp - k) // s + 1
        inp = Grid(C, H, W, Hp, Wp, pad, pad)
        yield Conv(None, "K", inp, Grid(rnd.randint(1, 2), OH, OW, OH, OW), 0, k, k, s, s, None)


def test_conv_layout_keeps_maximal_tails_off_valid_positions():
    rnd = random.Random(11)
    n = 0
    for cv in _shapes(rnd, 300):
        cv = Conv(cv.x, cv.weight, cv.inp, cv.outp, cv.outp.C, cv.kh, cv.kw, cv.sh, cv.sw, cv.out)
        assert _layout_holds(cv, rnd), cv
        n += 1
    assert n > 150


def test_conv_layout_one_shorter_block_fails_somewhere():
    """Negative control (ZK-DESIGN §10.2): with ``L − 1`` a tail or a neighbouring block reaches a valid position
    for some shape, so the layout test above can fail."""
    rnd = random.Random(12)
    failures = 0
    for cv in _shapes(rnd, 300):
        cv = Conv(cv.x, cv.weight, cv.inp, cv.outp, cv.outp.C, cv.kh, cv.kw, cv.sh, cv.sw, cv.out)
        failures += not _layout_holds(cv, rnd, cv.block_length - 1)
    assert failures > 0
