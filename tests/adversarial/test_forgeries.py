"""The outside review's forgeries, reproduced, and the attacks on the protocol's own polynomials.

Each test builds a cheating witness or proof on a real compiled model, proves it with witness checks off and
asks both verifiers. The first two were accepted by both verifiers before the fixes (1×1 max pooling had no
"output equals a tap" constraint; a public input was not range-checked, so padding could win a max pooling).
"""

from __future__ import annotations

import numpy as np
import pytest
from harness import ZeroCoins, execute_tampered, input_half, judge

from zkchain.blocks import degree, hiding, lookup
from zkchain.blocks.matmul import GAP, row_stride, weight_vector
from zkchain.compiler.circuit import Circuit, Expr
from zkchain.blocks import MatMul
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.errors import InputError
from zkchain.prover import parallel
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.verifier import verify as verify_mod
from zkchain.verifier.verify import verify


def _argmax(b, values):
    return int(np.argmax(values[b.compiled.circuit.public("output")[0].name]))


def test_1x1_maxpool_output_cannot_move_the_argmax(unit_built, solidity):
    """Pool(1×1, stride 2) → Gemm: the pooled value was free in [x, x + 4·xbound); now it is the tap."""
    b = unit_built("maxpool1x1_s2")
    sol = solidity(b)
    honest = b.compiled.vector_values(b.model.execute(b.x_int))
    pooled = next(op.outputs[0] for op in b.model.ops if op.kind == "maxpool")
    size = int(np.prod(b.model.tensors[pooled].shape))
    forged = None
    for i in range(size):
        for delta in range(1, 4 * input_half(b)):
            vals = b.compiled.vector_values(execute_tampered(b.model, b.x_int, pooled, i, lambda v, d=delta: v + d))
            if _argmax(b, vals) != _argmax(b, honest):
                forged = vals
                break
        if forged:
            break
    assert forged is not None, "the search found no argmax-changing pooled value (adjust the model)"
    assert judge(b, prove(b.pk, forged, check_witness=False), sol) == (False, False if sol else None)


def test_padding_cannot_win_a_max_pooling_of_a_public_input(unit_built, solidity):
    """Padded MaxPool on a public input: a border entry below −half made the padding (−half) the claimed max."""
    b = unit_built("maxpool2x2_pad1_public")
    sol = solidity(b)
    half = input_half(b)
    pooled = next(op.outputs[0] for op in b.model.ops if op.kind == "maxpool")
    w = execute_tampered(b.model, b.x_int, b.model.input_name, 0, lambda v: -half - 5)
    # the corner window holds x[0,0] and three padding cells: claim the padding value wins it
    w2 = execute_tampered(b.model, np.asarray(w[b.model.input_name]), pooled, 0, lambda v: -half)
    vals = b.compiled.vector_values(w2)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)
    with pytest.raises(InputError, match="calibrated range"):  # the honest prover says why, before proving
        prove(b.pk, b.compiled.vector_values(w))


def _matmul_circuit():
    """``z = x·W + b`` with a committed x (k=4) and a public output: x is read by the matmul only."""
    k, n = 4, 3
    W = [[(5 * l + 3 * j) % 7 - 3 for j in range(n)] for l in range(k)]
    bias = [2, -3, 5]
    c = Circuit()
    c.add_vector("x", k, "witness")
    c.add_vector("W", row_stride(k) * n, "fixed")
    c.add_vector("z", n, "public", "output")  # unbounded: the forged last row carries c·r⁰ (a field element)
    c.constraints.append(MatMul(Expr.of("x", k), "W", k, n, Expr.of("z", n), "fc"))
    c.check()
    pk = setup(c, {"W": weight_vector(W, bias)}, SRS.dev(required_degree(c) + 2 * GAP, seed="overlong"), "dev:overlong")
    x = [1, -2, 3, 2]
    z = [sum(x[l] * W[l][j] for l in range(k)) + bias[j] for j in range(n)]
    return pk, x, z, bias


def _overlong(pk, x, z, c):
    """x past its reserved span: its coefficient k + G lands on row j+1's bias slot of the weight polynomial the
    proof reads (``W̃ = W + r⁰·X^M``: past the last row sits the VK mask), z_j moves by c·W̃[(j+1)·s]."""
    s = row_stride(len(x))
    m, _ = schedule(pk.circuit).masks["W"]
    w = hiding.masked(pk.fixed_values["W"], pk.fixed_masks["W"], [], m)
    forged_x = x + [0] * GAP + [c]
    return {"x": forged_x, "z": [(zj + c * (w[(j + 1) * s] if (j + 1) * s < len(w) else 0)) % R
                                 for j, zj in enumerate(z)]}


def test_over_long_commitment_is_caught_by_the_degree_check(monkeypatch):
    """x with a coefficient past its tail span lands in the next row's bias slot: z_j = honest + c·W̃[(j+1)s], every
    Laurent term consistent. Only the degree check stands in the way; without it the forgery is accepted
    (power check)."""
    pk, x, z, bias = _matmul_circuit()
    forged = _overlong(pk, x, z, 7)
    proof = prove(pk, forged, check_witness=False, rng=ZeroCoins())
    v = verify(pk.vk, proof)
    assert not v and "degree" in v.reason
    monkeypatch.setattr(degree, "verifier_check", lambda *a, **k: True)
    monkeypatch.setattr(verify_mod.degree, "verifier_check", lambda *a, **k: True)
    assert verify(pk.vk, prove(pk, forged, check_witness=False, rng=ZeroCoins())), \
        "without the degree check this must pass"


def test_over_long_commitment_is_rejected_on_chain(adv_chain):
    from harness import SolidityJudge

    pk, x, z, bias = _matmul_circuit()
    sol = SolidityJudge(adv_chain, pk.vk, "AdvOverLong")
    assert sol.accepts(prove(pk, {"x": x, "z": z}))
    assert not sol.accepts(prove(pk, _overlong(pk, x, z, 7), check_witness=False, rng=ZeroCoins()))


@pytest.mark.parametrize("how", ["false claim, honest quotients", "A shifted", "B shifted"])
def test_forged_laurent_quotients_are_rejected(unit_built, solidity, monkeypatch, how):
    b = unit_built("gemm_relu")
    sol = solidity(b)
    vals = b.compiled.vector_values(b.model.execute(b.x_int))
    if how.startswith("false claim"):
        out = b.compiled.circuit.public("output")[0].name
        vals[out] = [v + (1 if i == 0 else 0) for i, v in enumerate(vals[out])]
    else:
        real = parallel.ProverPool.aggregate_blocks

        def doctored(self, groups, alpha, check=True):
            A, B, secs = real(self, groups, alpha, check)
            bump = fpoly.poly([0, 0, 5])
            return (A + bump, B, secs) if how == "A shifted" else (A, B + bump, secs)

        monkeypatch.setattr(parallel.ProverPool, "aggregate_blocks", doctored)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)


def test_lookup_query_outside_the_table_with_doctored_multiplicities(unit_built, solidity, monkeypatch):
    """An input entry past the top of its range, the multiplicity of the table's top row bumped to keep the
    counts consistent: the logUp sums differ, both verifiers reject."""
    b = unit_built("gemm_relu")
    sol = solidity(b)
    half = input_half(b)
    w = execute_tampered(b.model, b.x_int, b.model.input_name, 0, lambda v: half + 3)
    vals = b.compiled.vector_values(w)
    real = lookup.multiplicities

    def doctored(circuit, queries, table, strict=True):
        m = real(circuit, queries, table, strict=False)
        top = max(j for j, row in enumerate(table) if row[1] == (half - 1) % R and row[2] == 0)
        m[top] += 1
        return m

    monkeypatch.setattr(lookup, "multiplicities", doctored)
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)
