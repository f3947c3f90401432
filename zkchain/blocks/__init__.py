"""The basic blocks: one module per block, each owning its constraint type, JSON form, openings, prover claims
and verifier equation (``docs/architecture.md``, "How to add a block").

:data:`BLOCKS` is the registry: everything that loops over block kinds (circuit parsing, the prover, both
verifiers, the compiler's provability check) reads it. :data:`ARGUMENTS` lists the whole-circuit arguments
with rounds or challenges of their own (logUp, the hiding link, row folds); the Laurent inner-product argument and the degree check are the protocol's
backbone (``zkchain/protocol/schedule.py``).
"""

import contextlib

from zkchain.blocks.conv import Conv, PadZero
from zkchain.blocks.gather import Gather
from zkchain.blocks.hadamard import Hadamard
from zkchain.blocks.hiding import Link
from zkchain.blocks.linear import Zero
from zkchain.blocks.lookup import LogUp, Lookup
from zkchain.blocks.matmul import MatMul, RowFold
from zkchain.blocks.matproduct import MatProduct, ProductFold
from zkchain.blocks.pick import Pick

BLOCKS = [MatMul, Lookup, Zero, Conv, PadZero, Hadamard, Pick, Gather, MatProduct]
KINDS = {b.kind: b for b in BLOCKS}
ARGUMENTS = (LogUp, Link, RowFold, ProductFold)  # the transcript draws their challenges in this order


def register(block: type) -> type:
    """Add a block class to the registry (also usable as a class decorator). Raises ``ValueError`` for a kind
    that is already taken by another class."""
    other = KINDS.get(block.kind)
    if other is not None and other is not block:
        raise ValueError(f"block kind {block.kind!r} is already registered by {other.__name__}")
    if other is None:
        BLOCKS.append(block)
        KINDS[block.kind] = block
    return block


@contextlib.contextmanager
def registered(block: type):
    """``with registered(MyBlock): ...`` — the block is registered inside the ``with`` only (tests)."""
    new = block.kind not in KINDS
    register(block)
    try:
        yield block
    finally:
        if new:
            BLOCKS.remove(block)
            del KINDS[block.kind]


def load_circuit(d: dict):
    """Parse a circuit's JSON form with the registered blocks (:class:`zkchain.errors.InputError` if invalid)."""
    from zkchain.compiler.circuit import Circuit

    return Circuit.from_json(d, KINDS)


__all__ = ["BLOCKS", "KINDS", "ARGUMENTS", "load_circuit", "register", "registered", "MatMul", "Lookup", "Zero", "Conv", "PadZero",
           "Hadamard", "Pick", "Gather", "MatProduct", "LogUp", "Link", "RowFold", "ProductFold"]
