"""The basic blocks: one module per block, each owning its constraint type, JSON form, openings, prover claims
and verifier equation (``docs/architecture.md``, "How to add a block").

:data:`BLOCKS` is the registry: everything that loops over block kinds (circuit parsing, the prover, both
verifiers, the compiler's provability check) reads it. :data:`ARGUMENTS` lists the whole-circuit arguments
with rounds of their own (logUp); the Laurent inner-product argument and the degree check are the protocol's
backbone (``zkchain/protocol/schedule.py``).
"""

from zkchain.blocks.conv import Conv, PadZero
from zkchain.blocks.hadamard import Hadamard
from zkchain.blocks.linear import Zero
from zkchain.blocks.lookup import LogUp, Lookup
from zkchain.blocks.matmul import MatMul
from zkchain.blocks.pick import Pick

BLOCKS = (MatMul, Lookup, Zero, Conv, PadZero, Hadamard, Pick)
KINDS = {b.kind: b for b in BLOCKS}
ARGUMENTS = (LogUp,)


def load_circuit(d: dict):
    """Parse a circuit's JSON form with the registered blocks (:class:`zkchain.errors.InputError` if invalid)."""
    from zkchain.compiler.circuit import Circuit

    return Circuit.from_json(d, KINDS)


__all__ = ["BLOCKS", "KINDS", "ARGUMENTS", "load_circuit", "MatMul", "Lookup", "Zero", "Conv", "PadZero",
           "Hadamard", "Pick", "LogUp"]
