"""Witness freedom: no committed entry of any compiled model can be changed and still verify.

For every unit model (every op and option the lowering supports) and every committed vector, one entry is
perturbed (±1, ±2^k, just below the input range, r − 1), everything downstream recomputed with the integer
semantics, and the result proved with witness checks off. Python and Solidity must both reject; the honest
proof must be accepted by both (so a rejection means something).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import UNIT_NAMES
from harness import cheating_proof, judge, public_tampers, tampers


@pytest.mark.parametrize("name", UNIT_NAMES)
def test_no_committed_entry_is_free(name, unit_built, solidity):
    b = unit_built(name)
    sol = solidity(b)
    assert judge(b, b.honest, sol) == (True, True if sol else None), "the honest proof must be accepted"
    accepted, lies = [], 0
    for t in tampers(b, rng=np.random.default_rng(1)) + public_tampers(b):
        proof = cheating_proof(b, t)
        if proof is None:
            continue  # not a lie (see harness.cheating_values)
        lies += 1
        py, so = judge(b, proof, sol)
        if py or so:
            accepted.append((t, py, so))
    assert lies >= 3 * len(b.compiled.circuit.of_kind("witness")), "too few lies were tried"
    assert not accepted, f"{len(accepted)} of {lies} forged proofs accepted: {accepted[:5]}"
