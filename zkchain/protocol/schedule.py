"""The shape of one proof, written once: what is committed in which round, which challenges follow, what is
opened where, and where each item sits in the calldata.

The prover, the Python verifier, the Solidity generator (through the same verifier routine) and the tests
derive everything from :func:`schedule`, so the proof carries no layout information and the contract can
hard-code it. Round structure (``docs/protocol.md`` §4)::

    transcript ← domain "zkchain.proof.v1", VK digest, public inputs and outputs (Fr, in circuit order)
    round "witness":   witness vectors (circuit order), then the arguments' first polynomials (m)  → γ, β
    round "helpers":   the arguments' helper polynomials (h, g)                                     → ρ, α, ε
    round "quotients": Laurent quotients A, B; degree reversal W                                     → ζ
    evaluations at ρ, ζ, 1/ζ, ρ/ζ (schedule order)                                                   → ν
    one batched KZG opening proof per point                                                          → u

Calldata (``verifyProof(bytes proof, uint256[] publicInputs)``): ``proof`` = commitments (64 B each, round by
round) ‖ evaluations (32 B each, point by point) ‖ opening proofs (64 B each, point order); ``publicInputs`` =
the public vectors' entries in :attr:`Schedule.public` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkchain.blocks import ARGUMENTS, KINDS
from zkchain.blocks.common import POINTS, ZETA, ZETA_INV
from zkchain.blocks.degree import W
from zkchain.blocks.inner_product import A, B
from zkchain.compiler.circuit import RESERVED_NAMES, Circuit
from zkchain.errors import InputError, UnsupportedModelError

PROOF_DOMAIN = b"zkchain.proof.v1"
EVALUATION_CHALLENGE = "nu"
ACCUMULATION_CHALLENGE = "u"
PROTOCOL_POLYNOMIALS = ("m", "h", "g", A, B, W)  # canonical order after the circuit's vectors
assert PROTOCOL_POLYNOMIALS == RESERVED_NAMES, "circuit.RESERVED_NAMES must list the protocol's polynomials"


@dataclass(frozen=True)
class Round:
    """One commitment round: its commitments in proof order, then the challenges drawn after them."""

    name: str
    commitments: tuple[str, ...]
    challenges: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    """Transcript order and calldata layout of every proof for one circuit (built by :func:`schedule`)."""

    public: tuple[str, ...]                 # public vectors: inputs then outputs, circuit order
    public_lengths: tuple[int, ...]
    rounds: tuple[Round, ...]
    opened: dict[str, tuple[str, ...]]      # point -> polynomials opened there, evaluation order
    lengths: dict[str, int]                 # declared length of every committed polynomial that has one
    degree_checked: tuple[str, ...]         # in ε-power order
    points: tuple[str, ...] = POINTS
    offsets: dict = field(default_factory=dict, compare=False)

    # -- transcript -----------------------------------------------------------------------------------
    @property
    def commitments(self) -> tuple[str, ...]:
        """Every prover commitment in proof order."""
        return tuple(n for r in self.rounds for n in r.commitments)

    @property
    def challenges(self) -> tuple[str, ...]:
        """Every challenge label in the order the transcript draws them."""
        return tuple(c for r in self.rounds for c in r.challenges) + (EVALUATION_CHALLENGE, ACCUMULATION_CHALLENGE)

    def round(self, name: str) -> Round:
        return next(r for r in self.rounds if r.name == name)

    # -- calldata -------------------------------------------------------------------------------------
    @property
    def n_evaluations(self) -> int:
        return sum(len(self.opened[p]) for p in self.points)

    @property
    def n_public(self) -> int:
        return sum(self.public_lengths)

    @property
    def evaluations_offset(self) -> int:
        return 64 * len(self.commitments)

    @property
    def openings_offset(self) -> int:
        return self.evaluations_offset + 32 * self.n_evaluations

    @property
    def proof_length(self) -> int:
        return self.openings_offset + 64 * len(self.points)

    def commitment_offset(self, name: str) -> int:
        return 64 * self.commitments.index(name)

    def evaluation_offset(self, point: str, name: str) -> int:
        off = self.evaluations_offset
        for p in self.points:
            if p == point:
                return off + 32 * self.opened[p].index(name)
            off += 32 * len(self.opened[p])
        raise KeyError(point)

    def opening_offset(self, point: str) -> int:
        return self.openings_offset + 64 * self.points.index(point)

    def public_offset(self, name: str) -> int:
        """Byte offset of public vector ``name`` in ``publicInputs`` (32 bytes per entry)."""
        i = self.public.index(name)
        return 32 * sum(self.public_lengths[:i])


def schedule(circuit: Circuit) -> Schedule:
    """The proof schedule of ``circuit``: rounds, opening schedule, lengths and calldata layout (cached on the
    circuit object; circuits are not modified after lowering)."""
    unknown = sorted({type(k).__name__ for k in circuit.constraints if KINDS.get(getattr(k, "kind", None)) is not type(k)})
    if unknown:  # never prove or verify a circuit with a constraint nobody checks
        raise UnsupportedModelError(f"constraints of unregistered kinds {', '.join(unknown)} (zkchain.blocks.BLOCKS)")
    key = (len(circuit.vectors), len(circuit.constraints), len(circuit.tables))
    cached = getattr(circuit, "_schedule", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    clash = sorted(set(PROTOCOL_POLYNOMIALS) & set(circuit.vectors))
    if clash:
        raise InputError(f"circuit vectors {clash} collide with the protocol's own polynomials {PROTOCOL_POLYNOMIALS}")
    args = [a for a in ARGUMENTS if a.active(circuit)]
    witness = [v.name for v in circuit.of_kind("witness")]
    polys = [(n, ln, rnd) for a in args for n, ln, rnd in a.polynomials(circuit)]
    rounds = (
        Round("witness", tuple(witness + [n for n, _, rnd in polys if rnd == "witness"]), ("gamma", "beta")),
        Round("helpers", tuple(n for n, _, rnd in polys if rnd == "helpers"), ("rho", "alpha", "epsilon")),
        Round("quotients", (A, B, W), ("zeta",)),
    )
    lengths = {v.name: v.length for v in circuit.vectors.values()}
    lengths.update({n: ln for n, ln, _ in polys})
    degree_checked = tuple(witness + [n for n, _, _ in polys])

    need: dict[str, set[str]] = {p: set() for p in POINTS}
    for c in circuit.constraints:
        for name, pt in c.openings(circuit):
            need[pt].add(name)
    for a in args:
        for name, pt in a.openings(circuit):
            need[pt].add(name)
    need[ZETA].update(degree_checked)
    need[ZETA].add(A)
    need[ZETA_INV].update([B, W])
    order = {name: i for i, name in enumerate(list(circuit.vectors) + list(PROTOCOL_POLYNOMIALS))}
    public = [v.name for v in circuit.public("input")] + [v.name for v in circuit.public("output")]
    skip = set(public)
    opened = {p: tuple(sorted((n for n in need[p] if n not in skip), key=order.__getitem__)) for p in POINTS}
    s = Schedule(tuple(public), tuple(circuit.vectors[n].length for n in public), rounds, opened, lengths,
                 degree_checked)
    circuit._schedule = (key, s)
    return s
