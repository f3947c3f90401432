"""The shape of one proof: what is committed in which round, which challenges follow, what is opened where.

Prover and verifier both derive these lists from the circuit, so the proof carries no layout information and
the Solidity verifier can hard-code it. Round structure (``docs/protocol.md`` §4)::

    transcript ← domain "zkchain.proof.v1", VK digest, public inputs and outputs (Fr, in circuit order)
    round 1: witness vectors, multiplicities m         → γ, β
    round 2: logUp helpers h, g                         → ρ, α, ε
    round 3: Laurent quotients A, B; degree reversal W   → ζ
    round 4: evaluations at ρ, ζ, 1/ζ, ρ/ζ               → ν
             one batched KZG opening proof per point     → u (accumulation weights)
"""

from __future__ import annotations

from zkchain.blocks import conv, hadamard, lookup, linear, matmul, pick
from zkchain.blocks.common import POINTS, RHO, ZETA, ZETA_INV
from zkchain.compiler.circuit import Circuit, Conv, Hadamard, Lookup, MatMul, PadZero, Pick, Zero

PROOF_DOMAIN = b"zkchain.proof.v1"
M, H, G, A, B, W = "m", "h", "g", "a", "b", "w"
ROUND1_LABELS = ("gamma", "beta")
ROUND2_LABELS = ("rho", "alpha", "epsilon")
ROUND3_LABELS = ("zeta",)
ROUND4_LABELS = ("nu",)
ACCUMULATION_LABEL = "u"


def has_lookups(circuit: Circuit) -> bool:
    return bool(circuit.lookups())


def round1_names(circuit: Circuit) -> list[str]:
    """Commitments of round 1 in proof order: witness vectors in circuit order, then ``m``."""
    names = [v.name for v in circuit.of_kind("witness")]
    return names + ([M] if has_lookups(circuit) else [])


def round2_names(circuit: Circuit) -> list[str]:
    return [H, G] if has_lookups(circuit) else []


ROUND3_NAMES = [A, B, W]


def commitment_names(circuit: Circuit) -> list[str]:
    """All prover commitments in proof order."""
    return round1_names(circuit) + round2_names(circuit) + ROUND3_NAMES


def lengths(circuit: Circuit) -> dict[str, int]:
    """Declared length of every committed polynomial that has one (vectors and the lookup helpers)."""
    out = {v.name: v.length for v in circuit.vectors.values()}
    if has_lookups(circuit):
        out.update({M: circuit.table_length(), H: circuit.query_length(), G: circuit.table_length()})
    return out


def degree_checked(circuit: Circuit) -> list[str]:
    """Polynomials whose length the degree block enforces, in ε-power order."""
    return [v.name for v in circuit.of_kind("witness")] + ([M, H, G] if has_lookups(circuit) else [])


def opening_schedule(circuit: Circuit) -> dict[str, list[str]]:
    """For each point (in :data:`POINTS` order), the committed polynomials opened there, in canonical order.

    Public vectors are never opened (the verifier evaluates them); fixed vectors are opened against their
    verifying-key commitments."""
    need: dict[str, set[str]] = {p: set() for p in POINTS}
    for c in circuit.constraints:
        if isinstance(c, MatMul):
            pairs = matmul.openings(c)
        elif isinstance(c, Zero):
            pairs = linear.openings(c)
        elif isinstance(c, (Conv, PadZero)):
            pairs = conv.openings(c)
        elif isinstance(c, Hadamard):
            pairs = hadamard.openings(c)
        elif isinstance(c, Pick):
            pairs = pick.openings(c)
        else:
            continue
        for name, pt in pairs:
            need[pt].add(name)
    if has_lookups(circuit):
        for name, pt in lookup.openings(circuit):
            need[pt].add(name)
        need[RHO].add(M)
        need[ZETA].update([H, G])
    need[ZETA].update(degree_checked(circuit))
    need[ZETA].add(A)
    need[ZETA_INV].update([B, W])
    order = {name: i for i, name in enumerate(list(circuit.vectors) + [M, H, G, A, B, W])}
    public = {v.name for v in circuit.of_kind("public")}
    return {p: sorted((n for n in need[p] if n not in public), key=order.__getitem__) for p in POINTS}


def public_names(circuit: Circuit) -> list[str]:
    """Public vectors in transcript / calldata order: inputs first, then outputs, each in circuit order."""
    return [v.name for v in circuit.public("input")] + [v.name for v in circuit.public("output")]


def lookups_and_matmuls(circuit: Circuit) -> tuple[list[MatMul], list[Lookup]]:
    return ([c for c in circuit.constraints if isinstance(c, MatMul)], circuit.lookups())
