"""Matmuls over several rows (``docs/protocol.md`` §5.1, "several rows"): the folded row ``x̄`` is the one new
thing a prover commits, so the attack solves for it.

A cheating prover moves one entry of the last layer's output (the public logits of row 2) and, once ``σ`` is
known, commits the ``x̄'`` with ``x̄'·W + ones_T(σ)·b = Σ_t σ^t·out'_t`` — the product claim then holds for the
moved output. Only the fold claim ``⟨X, v⟩ = ⟨x̄, q_k⟩`` stands in its way: both verifiers reject, and with that
claim removed (prover and Python verifier) the same forgery is accepted, so the test can fail.
"""

from __future__ import annotations

import pytest
from harness import execute_tampered, judge, solve_mod_r

import zkchain.blocks.matmul as matmul_mod
from zkchain.blocks import MatMul
from zkchain.blocks.common import expr_values, ones_eval
from zkchain.crypto.field import R
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.verifier.verify import verify

NAME = "rows_matmul"


def _moved_output(b, row: int = 2, col: int = 1, delta: int = 7) -> dict:
    """Vectors of a run where the last matmul's rescaled output ``(row, col)`` moved by ``delta`` (everything
    downstream recomputed): only that matmul's product claim is broken."""
    linear = [op for op in b.model.ops if op.kind == "linear"][-1]
    q = next(op for op in b.model.ops if op.kind == "rescale" and op.inputs[0] == linear.outputs[0]).outputs[0]
    n = int(b.model.tensors[q].shape[-1])
    return b.compiled.vector_values(execute_tampered(b.model, b.x_int, q, row * n + col, lambda v: v + delta))


def _solved_fold(monkeypatch, b):
    """Replace the prover's folded rows by ``x̄'`` solving the product claim for the (moved) last output."""
    c = b.compiled.circuit
    last = [m for m in c.of_block(MatMul)][-1]
    fixed = b.pk.fixed_values[last.weight]
    honest_round = matmul_mod.RowFold.prover_round.__func__

    def cheat(cls, round_name, pc, strict):
        out = honest_round(cls, round_name, pc, strict)
        if round_name != "helpers":
            return out
        sigma, T, k, n, s = pc.challenges[matmul_mod.SIGMA], last.rows, last.k, last.n, last.stride
        acc = expr_values(last.out, pc.values.__getitem__)
        W = [[fixed[last.offset + j * s + 1 + l] for l in range(k)] for j in range(n)]  # row j: column j of W
        lead = ones_eval(T, sigma)
        target = [(sum(pow(sigma, t, R) * acc[t * n + j] for t in range(T)) - lead * fixed[last.offset + j * s]) % R
                  for j in range(n)]
        xbar = solve_mod_r(W, target)
        assert xbar is not None, "the weights' columns are dependent: no x̄' (adjust the model)"
        out[last.fold] = xbar
        return out

    monkeypatch.setattr(matmul_mod.RowFold, "prover_round", classmethod(cheat))


def _without_fold_claim(monkeypatch):
    """The build with the fold claim removed (prover and Python verifier)."""
    p, v = MatMul.prover_claims, MatMul.verifier_claims
    monkeypatch.setattr(MatMul, "prover_claims", lambda self, pc: p(self, pc)[:2])
    monkeypatch.setattr(MatMul, "verifier_claims", lambda self, vc: v(self, vc)[:2])


def test_rows_share_one_weight_opening(unit_built):
    """One weight evaluation per matmul whatever the rows, a σ challenge and one folded row per input vector."""
    b = unit_built(NAME)
    c = b.compiled.circuit
    sch = schedule(c)
    mms = c.of_block(MatMul)
    assert [m.rows for m in mms] == [4, 4]
    assert matmul_mod.SIGMA in sch.round("witness").challenges
    assert [n for n in sch.round("helpers").commitments if n.endswith(".fold")] == [m.fold for m in mms]
    for m in mms:
        assert m.fold in sch.opened["zeta"] and m.fold in sch.opened["zeta_inv"]


def test_single_row_circuits_draw_no_sigma(unit_built):
    """Models with one row keep the protocol as it was: no σ, no folded row."""
    sch = schedule(unit_built("gemm_relu").compiled.circuit)
    assert matmul_mod.SIGMA not in sch.challenges
    assert not [n for n in sch.commitments if n.endswith(".fold")]


def test_moved_output_with_solved_fold_is_rejected(unit_built, solidity, monkeypatch):
    b = unit_built(NAME)
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    _solved_fold(monkeypatch, b)
    forged = prove(b.pk, _moved_output(b), check_witness=False)
    assert judge(b, forged, sol) == (False, False if sol else None)


def test_the_forgery_works_without_the_fold_claim(unit_built, monkeypatch):
    """Control: the same cheating prover against a verifier without the fold claim is accepted."""
    b = unit_built(NAME)
    _without_fold_claim(monkeypatch)
    _solved_fold(monkeypatch, b)
    forged = prove(b.pk, _moved_output(b), check_witness=False)
    assert verify(b.pk.vk, forged).accepted


@pytest.mark.parametrize("row", [0, 3])
def test_moving_any_row_without_the_fold_breaks_the_product(unit_built, solidity, row):
    """An honest fold of a moved output (first and last row): the product claim rejects it."""
    b = unit_built(NAME)
    sol = solidity(b)
    forged = prove(b.pk, _moved_output(b, row=row), check_witness=False)
    assert judge(b, forged, sol) == (False, False if sol else None)

