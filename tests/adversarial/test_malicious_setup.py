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


class TailCoin:
    """An ``rng`` for :func:`prove` whose first tail coin of witness vector ``vector`` is ``v``, every other coin 0
    (the prover draws each witness vector's ``t`` tail coins in circuit order, before anything else)."""

    def __init__(self, pk, vector: str, v: int):
        sch, self.coins = schedule(pk.circuit), []
        for w in pk.circuit.of_kind("witness"):
            t = sch.tails[w.name][1]
            self.coins += [v] + [0] * (t - 1) if w.name == vector else [0] * t

    def randrange(self, n):
        return self.coins.pop(0) if self.coins else 0


class _Built:  # what harness.judge reads
    def __init__(self, pk):
        self.pk = pk


def _planted(block: type, tmp_path, name: str, node: str):
    """Compile ``name``, plant 1 at the weight position its operand's first tail coefficient meets for output 0 of
    ``block`` ``node``, set up with that key; returns (model, compiled, pk, block instance, x_int)."""
    path, _, _ = save_unit_model(name, tmp_path)
    model = compile_model(path, calibration=tmp_path / "calibration.npy", config=SMALL)
    compiled = lower(model)
    c = compiled.circuit
    blk = next(k for k in c.of_block(block) if k.name == node)
    (xv,) = blk.x.vectors()
    assert schedule(c).tails[xv][0] == c.vectors[xv].length, "tail right after the data"
    if block is MatMul:  # row 0's gap starts right after bias and column: it meets x̃[k], the first tail coefficient
        pos = blk.offset + 1 + blk.k
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


@pytest.mark.parametrize("block,name,node", [(MatMul, "gemm_relu", "fc1"), (Conv, "conv_pad1_maxpool", "conv"),
                                             (MatMul, "gemm_relu", "fc2")])  # fc2: the second segment of W.packed
def test_planted_weight_zero_cannot_move_an_output(block, name, node, tmp_path, adv_chain, monkeypatch):
    model, compiled, pk, blk, x_int = _planted(block, tmp_path, name, node)
    (xv,) = blk.x.vectors()
    acc = next(op.outputs[0] for op in model.ops if op.source == blk.name)
    lie = compiled.vector_values(execute_tampered(model, x_int, acc, 0, lambda v: v + DELTA))
    honest = compiled.vector_values(model.execute(x_int))
    assert lie != honest
    forged = prove(pk, lie, check_witness=False, rng=TailCoin(pk, xv, DELTA))
    label = "Adv" + block.__name__ + "Planted" + node.capitalize()
    assert judge(_Built(pk), forged, SolidityJudge(adv_chain, pk.vk, label)) == (False, False)

    _without_pin(monkeypatch, block)
    forged = prove(pk, lie, check_witness=False, rng=TailCoin(pk, xv, DELTA))
    assert judge(_Built(pk), forged, SolidityJudge(adv_chain, pk.vk, label + "NoPin")) == (True, True), \
        "control: without the pin the planted zero lets the tail move the output"
