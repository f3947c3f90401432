"""Parameter-free fixed vectors are the verifier's own closed forms, never the model owner's commitments.

A sum-pool kernel and a ReLU-only table column follow from the circuit (``docs/protocol.md`` §7.6). Committed
unmasked in the VK, they were never recomputed, so a VK could commit another function under the ReLU name. Now
the verifier evaluates them in closed form (``Conv.closed_forms``, ``LogUp.closed_forms``); the VK holds no
commitment for them. Tests: the closed forms equal the compiler's vectors at random points; a proving key whose
"ReLU" column secretly maps one row elsewhere proves a consistent story that Python and Solidity reject, and the
Python verifier accepts once the closed form is swapped for the owner's column (the control).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from harness import SolidityJudge, execute_tampered, judge

from zkchain.blocks.common import VerifierContext, closed_forms
from zkchain.blocks.lookup import TABLE_OUT, LogUp, table_layout
from zkchain.compiler.circuit import PARAMETER_FREE
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.verifier.loader import NativeLoader


@pytest.mark.parametrize("name", ["digits_mlp", "lenet5"])
def test_closed_forms_equal_the_compiled_vectors(name):
    from harness import compile_model, lower

    from zkchain.models import bundled_model_dir

    d = bundled_model_dir(name)
    comp = lower(compile_model(d / "model.onnx", calibration=d / "calibration.npy"))
    c = comp.circuit
    free = {v.name for v in c.of_kind("fixed") if v.role == PARAMETER_FREE}
    forms = closed_forms(c)
    assert free and set(forms) == free
    assert not free & set(schedule(c).opened["zeta"] + schedule(c).opened["rho_zeta_inv"]), "never opened"
    rnd = random.Random(5)
    for _ in range(3):
        rho, zeta = rnd.randrange(2, R), rnd.randrange(2, R)
        vc = VerifierContext(NativeLoader.standalone(rho, zeta), c, {})
        for n, f in forms.items():
            point = "rho_zeta_inv" if n == TABLE_OUT else "zeta"
            assert int(f(vc, point)) == fpoly.evaluate(fpoly.poly(comp.fixed_values[n]), int(vc.points[point])), n


def test_a_relu_column_the_owner_changed_is_rejected(unit_built, adv_chain, monkeypatch):
    b = unit_built("gemm_relu")
    c = b.compiled.circuit
    assert c.vectors[TABLE_OUT].role == PARAMETER_FREE
    ((tab, off),) = [(t, o) for t, o in table_layout(c) if t.kind == "map"]
    h = np.asarray(b.model.execute(b.x_int)["h"]).reshape(-1)
    i = int(np.argmin(h))
    assert h[i] < 0, "a negative pre-activation to lie about"
    row = off + int(h[i]) - tab.lo
    fixed = {k: list(v) for k, v in b.compiled.fixed_values.items()}
    fixed[TABLE_OUT][row] = 7  # "ReLU", except that this row maps to 7
    pk = setup(c, fixed, SRS.dev(required_degree(c), seed="owner"), "dev:owner")
    lie = b.compiled.vector_values(execute_tampered(b.model, b.x_int, "a", i, lambda v: 7))
    proof = prove(pk, lie)  # consistent with the owner's table: the prover's own checks pass
    assert judge(b.__class__(b.name, b.model, b.compiled, pk, b.x_int, proof), proof,
                 SolidityJudge(adv_chain, pk.vk, "AdvLeakyRelu")) == (False, False)

    def owners_column(circuit):  # the control: read the owner's column instead of the closed form
        return {TABLE_OUT: lambda vc, point: vc.L.const(fpoly.evaluate(fpoly.poly(fixed[TABLE_OUT]),
                                                                         int(vc.points[point])))}

    monkeypatch.setattr(LogUp, "closed_forms", staticmethod(owners_column))
    assert judge(b.__class__(b.name, b.model, b.compiled, pk, b.x_int, proof), proof, None)[0]
