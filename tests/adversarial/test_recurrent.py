"""An LSTM unrolled at import (``importer.expand_recurrent``) is proved step by step: the second step reads the
first step's hidden and cell state through committed vectors, and a lie there must not verify.

On the ``lstm`` unit model (two steps, hidden 2; its verifier is the shared reusable one, the specialised code being
past EIP-170): each product of two activations of the second step (``f ⊙ C₁``, ``i ⊙ c``, ``o ⊙ tanh(C₂)``) and its
recurrent Gemm ``H₁·Rᵀ`` is perturbed by one, everything downstream recomputed with the integer semantics, and
proved with witness checks off; Python and Solidity must reject every one (the honest proof is accepted by both).
The full sweep of every committed vector of this model runs under ``-m sweep``
(``test_witness_freedom.py``), and fails when any of these relations is removed.
"""

from __future__ import annotations

import re

import numpy as np
from harness import Tamper, cheating_proof, judge


def _step_two(b, kind: str, count: int) -> list[str]:
    """The last ``count`` tensors made by the unrolled LSTM's ``kind`` nodes (``lstm::mul7`` …): the second step's."""
    names = [t for t in b.model.tensors if re.fullmatch(rf"lstm::{kind}\d+", t)]
    return sorted(names, key=lambda t: int(re.search(r"\d+$", t).group()))[-count:]


def test_a_lie_in_the_second_step_of_an_lstm_is_rejected(unit_built, solidity):
    b = unit_built("lstm")
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None)
    targets = _step_two(b, "mul", 3) + _step_two(b, "gemm", 1)
    plan, rng = b.compiled.witness, np.random.default_rng(3)
    tried = 0
    for v in b.compiled.circuit.of_kind("witness"):
        src = plan.tensor_of(v.name)
        if src is None or src.tensor not in targets:
            continue
        flat = int(rng.integers(int(np.prod(b.model.tensors[src.tensor].shape))))
        proof = cheating_proof(b, Tamper(v.name, src.index(flat), "+1", src.tensor, flat))
        assert proof is not None, v.name
        assert judge(b, proof, sol) == (False, False if sol else None), v.name
        tried += 1
    assert tried >= len(targets), (targets, tried)
