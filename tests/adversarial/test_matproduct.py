"""A product of two activations (``zkchain/blocks/matproduct.py``, ``docs/protocol.md`` §5.10) on a compiled
self-attention head (Q·Kᵀ, softmax, ·V): the witness-freedom sweep covers it (every perturbed committed vector,
downstream recomputed, rejected by Python and Solidity); here, that the claims can fail — with the final claim
(iv) removed, a moved attention score is accepted."""

from __future__ import annotations

import numpy as np
from harness import cheating_proof, judge, tampers

from zkchain.blocks.matproduct import MatProduct


def test_attention_is_two_products(unit_built):
    """``Q·Kᵀ`` (3×4 by 4×3) and ``softmax·V`` (3×3 by 3×4); the witness-freedom sweep
    (``test_witness_freedom.py``, this unit model included) attacks every committed vector in both verifiers."""
    b = unit_built("attention")
    assert [(m.T, m.k, m.n) for m in b.pk.circuit.of_block(MatProduct)] == [(3, 4, 3), (3, 3, 4)]


def test_a_product_without_its_final_claim_accepts_a_moved_score(unit_built, monkeypatch):
    """The control: drop claim (iv) (``⟨p, ones⟩ = ⟨C, w⟩``) from both sides and the scores are free."""
    b = unit_built("attention")
    prove_claims, verify_claims = MatProduct.prover_claims, MatProduct.verifier_claims
    monkeypatch.setattr(MatProduct, "prover_claims", lambda self, pc: prove_claims(self, pc)[:3])
    monkeypatch.setattr(MatProduct, "verifier_claims", lambda self, vc: verify_claims(self, vc)[:3])
    scores = next(m.out.terms[0].vector for m in b.pk.circuit.of_block(MatProduct))
    lies = [t for t in tampers(b, rng=np.random.default_rng(3)) if t.vector == scores and t.label in ("+1", "-1")]
    assert lies
    for t in lies:  # every small move of a score, softmax and the rest recomputed
        proof = cheating_proof(b, t)
        assert proof is not None and judge(b, proof, None)[0], f"the control must accept the moved score {t}"
