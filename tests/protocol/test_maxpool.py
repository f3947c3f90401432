"""Max pooling (Pick + range + Hadamard chain): honest maxima accepted; a smaller or larger "maximum" rejected."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from zkchain.compiler.lower import lower
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.quant.compile import compile_model
from zkchain.verifier.verify import verify


def maxpool_model(path, pads):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    side = 2 if pads[0] == 0 else 3
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, side, side])
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2], pads=pads, name="pool")
    m = helper.make_model(helper.make_graph([node], "mp", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, path)


@pytest.fixture(scope="module", params=[[0, 0, 0, 0], [1, 1, 1, 1]], ids=["no-pad", "pad1"])
def case(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("mp")
    maxpool_model(d / "m.onnx", request.param)
    rnd = np.random.default_rng(1)
    cal = rnd.normal(size=(16, 1, 2, 4, 4)).astype(np.float32).reshape(16, 2, 4, 4)
    np.save(d / "cal.npy", cal)
    model = compile_model(d / "m.onnx", calibration=d / "cal.npy")
    model = model[0] if isinstance(model, tuple) else model
    compiled = lower(model)
    pk = setup(compiled.circuit, compiled.fixed_values, SRS.dev(required_degree(compiled.circuit), seed="mp"), "dev:mp")
    x = model.quantize_input(cal[0])
    return pk, compiled, model, x


def test_maxima_are_accepted(case):
    pk, compiled, model, x = case
    v = verify(pk.vk, prove(pk, compiled.vector_values(model.execute(x))))
    assert v.accepted, v.reason


@pytest.mark.parametrize("delta", [-1, +1], ids=["below-max", "above-max"])
def test_wrong_maximum_is_rejected(case, delta):
    pk, compiled, model, x = case
    w = model.execute(x)
    out = model.output_names[0]
    w[out] = np.array(w[out]).copy()
    w[out].reshape(-1)[0] += delta  # the witness plan recomputes d = y − x_tap from the tampered y
    assert not verify(pk.vk, prove(pk, compiled.vector_values(w), check_witness=False))


def test_pick_closed_form_matches_coefficients():
    import random

    from zkchain.blocks import Pick
    from zkchain.blocks.common import VerifierContext
    from zkchain.compiler.circuit import Circuit, Expr, Grid
    from zkchain.crypto.field import R, inv
    from zkchain.verifier.loader import NativeLoader

    gi, go = Grid(2, 4, 4, 6, 6, 1, 1), Grid(2, 3, 3, 4, 5, 1, 2)
    c = Pick(Expr.of("x", gi.size), gi, go, 1, 0, 2, 2, Expr.of("y", go.size))
    rho, zeta = random.randrange(R), random.randrange(2, R)
    y = inv(zeta)
    g = c.selection().coefficients(rho, gi.size)
    vc = VerifierContext(NativeLoader.standalone(rho, zeta), Circuit(), {})
    assert int(c.selection().closed_form(vc)) == sum(a * pow(y, i, R) for i, a in enumerate(g) if a) % R
