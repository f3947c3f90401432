"""A malicious setup: the model owner plants a non-zero where a layout relies on a zero of the hidden weights.

A matmul's row gaps and a convolution kernel block's empty slot 0 are where the input's zero-knowledge tail lands
(``docs/protocol.md`` §7.3). The zeros there sit inside the owner's hiding VK commitment, which nobody can open; a
planted ``c`` would let every proof add ``tail·c`` to an output through the tail coin it chooses. The pins
``⟨W̃, Z_ρ⟩ = 0`` and ``⟨K̃, Z_ρ⟩ = 0`` check those zeros in every proof (ZK-DESIGN §10.1). On compiled models, a
key with a planted gap or slot entry and a prover that spends its tail on a moved accumulator are rejected by the
Python and the Solidity verifier, and accepted by both once the pin is removed from prover and verifiers (the
control: the attack works, so the pin is what stops it).
"""

from __future__ import annotations

import numpy as np
import pytest
from harness import SMALL, SolidityJudge, execute_tampered, judge
from unit_models import save_unit_model

from zkchain.blocks import Conv, MatMul
from zkchain.compiler.lower import lower
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.quant.compile import compile_model

DELTA = 40  # what the cheater adds to output 0 of the block


class FirstCoin:
    """An ``rng`` whose first coin (the first witness vector's first tail coefficient) is ``v``, every other 0."""

    def __init__(self, v: int):
        self.v = v

    def randrange(self, n):
        v, self.v = self.v, 0
        return v


class _Built:  # what harness.judge reads
    def __init__(self, pk):
        self.pk = pk


def _planted(block: type, tmp_path, name: str):
    """Compile ``name``, plant 1 at the weight position the input's first tail coefficient meets for output 0 of
    its ``block``, set up with that key; returns (model, compiled, pk, block instance, x_int)."""
    path, _, _ = save_unit_model(name, tmp_path)
    model = compile_model(path, calibration=tmp_path / "calibration.npy", config=SMALL)
    compiled = lower(model)
    c = compiled.circuit
    blk = next(k for k in c.of_block(block) if k.x.vectors() == [model.input_name])
    assert c.of_kind("witness")[0].name == model.input_name, "the input's tail must be the first coins drawn"
    assert schedule(c).tails[model.input_name][0] == c.vectors[model.input_name].length, "tail right after the data"
    if block is MatMul:  # row 0's gap starts right after bias and column: it meets x̃[k], the first tail coefficient
        pos = 1 + blk.k
    else:  # kernel block 0, slot 0, at the offset of output (0,0,0)'s window corner: it meets x' slot C+1, entry 0
        pos = (blk.kh - 1) * blk.inp.Wp + blk.kw - 1
    fixed = {k: list(v) for k, v in compiled.fixed_values.items()}
    assert fixed[blk.weight][pos] == 0, "the planted position is one the layout keeps zero"
    fixed[blk.weight][pos] = 1
    pk = setup(c, fixed, SRS.dev(required_degree(c), seed="owner"), "dev:owner")
    return model, compiled, pk, blk, model.quantize_input(np.load(tmp_path / "calibration.npy")[0])


def _without_pin(monkeypatch, block: type):
    """The control: the pin claim dropped from the prover and from both verifiers (the Solidity verifier is
    generated from the same ``verifier_claims``)."""
    p, v = block.prover_claims, block.verifier_claims
    monkeypatch.setattr(block, "prover_claims", lambda self, pc: p(self, pc)[:1])
    monkeypatch.setattr(block, "verifier_claims", lambda self, vc: v(self, vc)[:1])


@pytest.mark.parametrize("block,name", [(MatMul, "gemm_relu"), (Conv, "conv_pad1_maxpool")])
def test_planted_weight_zero_cannot_move_an_output(block, name, tmp_path, adv_chain, monkeypatch):
    model, compiled, pk, blk, x_int = _planted(block, tmp_path, name)
    acc = next(op.outputs[0] for op in model.ops if op.source == blk.name)
    lie = compiled.vector_values(execute_tampered(model, x_int, acc, 0, lambda v: v + DELTA))
    honest = compiled.vector_values(model.execute(x_int))
    assert lie != honest
    forged = prove(pk, lie, check_witness=False, rng=FirstCoin(DELTA))
    label = "Adv" + block.__name__ + "Planted"
    assert judge(_Built(pk), forged, SolidityJudge(adv_chain, pk.vk, label)) == (False, False)

    _without_pin(monkeypatch, block)
    forged = prove(pk, lie, check_witness=False, rng=FirstCoin(DELTA))
    assert judge(_Built(pk), forged, SolidityJudge(adv_chain, pk.vk, label + "NoPin")) == (True, True), \
        "control: without the pin the planted zero lets the tail move the output"
