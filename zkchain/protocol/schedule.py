"""The shape of one proof, written once: what is committed in which round, which challenges follow, what is
opened where, and where each item sits in the calldata.

The prover, the Python verifier, the Solidity generator (through the same verifier routine) and the tests
derive everything from :func:`schedule`, so the proof carries no layout information and the contract can
hard-code it. Round structure (``docs/protocol.md`` §4)::

    transcript ← domain "zkchain.proof.v2", VK digest, public inputs and outputs (Fr, in circuit order)
    round "witness":   witness vectors (circuit order), the arguments' witness-round polynomials, mask S,
                       the fixed vectors' per-proof masks Δ_f (circuit order)  → the arguments' challenges
    round "helpers":   the arguments' helper polynomials, R_λ                                        → ρ, α, ε
    round "quotients": Laurent quotients A, B; degree reversal W                                     → ζ
    evaluations at ζ, 1/ζ, ρ/ζ (schedule order)                                                      → ν
    one batched KZG opening proof per point                                                          → u

The arguments (``blocks.ARGUMENTS``, :class:`zkchain.blocks.common.Argument`) declare their own polynomials,
rounds, challenges and partners; with logUp, the link and a row fold active the witness round draws γ, β (logUp),
λ (the link), σ (the row folds), in that order. Nothing here names an argument's polynomial or challenge.

Zero-knowledge tails (``docs/protocol.md`` §7): every committed witness polynomial (and the arguments') carries
``t`` random coefficients from position ``σ``; :attr:`Schedule.tails` holds ``(σ, t)`` and
:attr:`Schedule.bounds` the degree bound ``σ + t`` the degree check enforces. Every fixed vector ``f`` but a
parameter-free one is hidden (§7.6): its VK commitment is to ``F + r⁰_f·X^(M_f)``, each proof adds ``Δ_f = X^(M_f)·R_f`` (``t_f`` coefficients)
and every block reads ``F̃_f = F^vk_f + Δ_f``; :attr:`Schedule.masks` holds ``(M_f, t_f)``. The link
``D = Σ_f λ^f·ζ^(M_f)·Δ_f − R_λ`` joins the batch at :data:`LINK_POINT` with value 0 (no evaluation sent). A
parameter-free fixed vector is neither committed nor opened: the verifier evaluates its closed form.

Calldata (``verifyProof(bytes proof, uint256[] publicInputs)``): ``proof`` = commitments (64 B each, round by
round) ‖ evaluations (32 B each, point by point) ‖ opening proofs (64 B each, point order); ``publicInputs`` =
the public vectors' entries in :attr:`Schedule.public` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkchain.blocks import ARGUMENTS, KINDS
from zkchain.blocks.common import POINTS, RESERVED_SPAN, STAGGER, ZETA, ZETA_INV, closed_forms
from zkchain.blocks.degree import W
from zkchain.blocks.inner_product import A, B, MASK_LENGTH, S
from zkchain.blocks.linear import Zero
from zkchain.compiler.circuit import PARAMETER_FREE, RESERVED_NAMES, Circuit, Term
from zkchain.crypto.field import R
from zkchain.blocks.hiding import LINK_CHALLENGE, R_LAMBDA, delta_name
from zkchain.errors import InputError, UnsupportedModelError
from zkchain.blocks.layout import check as check_layout, declared, tail_conflicts

PROOF_DOMAIN = b"zkchain.proof.v2"
EVALUATION_CHALLENGE = "nu"
LINK_POINT = ZETA_INV  # D(1/ζ) = 0 joins this point's batch
ACCUMULATION_CHALLENGE = "u"
# the arguments' fixed names, then the backbone's: canonical order after the circuit's vectors
PROTOCOL_POLYNOMIALS = tuple(n for a in ARGUMENTS for n in a.names) + (S, A, B, W)
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
    lengths: dict[str, int]                 # data length of every committed polynomial that has one
    degree_checked: tuple[str, ...]         # in ε-power order
    tails: dict = field(default_factory=dict)   # name -> (σ, t): t random coefficients from position σ
    masks: dict = field(default_factory=dict)   # fixed name -> (M_f, t_f): its per-proof mask's offset and size
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

    @property
    def bounds(self) -> dict[str, int]:
        """The degree bound ``σ + t`` of every degree-checked polynomial (its data, gap and tail)."""
        return {n: self.tails[n][0] + self.tails[n][1] for n in self.degree_checked}

    @property
    def hidden(self) -> tuple[str, ...]:
        """The hidden fixed vectors in λ-power order (circuit order)."""
        return tuple(self.masks)

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
    fixed = [v.name for v in circuit.of_kind("fixed") if circuit.is_hidden(v.name)]  # hidden ones (§7.6)
    polys = [(n, ln, rnd) for a in args for n, ln, rnd in a.polynomials(circuit)]
    def drawn(rnd: str, own: tuple[str, ...] = ()) -> tuple[str, ...]:  # the backbone's, then the arguments'
        return tuple(dict.fromkeys(own + tuple(c for a in args for c in a.challenges(circuit).get(rnd, ()))))

    rounds = (
        Round("witness", tuple(witness + [n for n, _, rnd in polys if rnd == "witness"] + [S]
                               + [delta_name(f) for f in fixed]), drawn("witness")),
        Round("helpers", tuple([n for n, _, rnd in polys if rnd == "helpers"] + ([R_LAMBDA] if fixed else [])),
              drawn("helpers", ("rho", "alpha", "epsilon"))),
        Round("quotients", (A, B, W), drawn("quotients", ("zeta",))),
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
    need[ZETA].update([A, S])
    need[ZETA_INV].update([B, W])
    own = [n for n, _, _ in polys if n not in PROTOCOL_POLYNOMIALS]  # an argument's per-circuit polynomials
    order = {name: i for i, name in enumerate(list(circuit.vectors) + list(PROTOCOL_POLYNOMIALS) + own)}
    public = [v.name for v in circuit.public("input")] + [v.name for v in circuit.public("output")]
    free = {v.name for v in circuit.of_kind("fixed") if v.role == PARAMETER_FREE}
    missing = sorted(free - set(closed_forms(circuit)))
    if missing:
        raise UnsupportedModelError(f"parameter-free fixed vectors {missing} have no closed form in any block")
    skip = set(public) | free  # the verifier evaluates these itself
    opened = {p: tuple(sorted((n for n in need[p] if n not in skip), key=order.__getitem__)) for p in POINTS}
    _hidden_reads(circuit)
    claims = declared(circuit)  # every block's claims as meeting families (zkchain/blocks/layout.py)
    first = next((n for n, _, rnd in polys if rnd == "witness"), None)
    tails = _tails(circuit, degree_checked, lengths, opened, claims, first)
    masks = _masks(circuit, fixed, lengths, tails, opened, args)
    s = Schedule(tuple(public), tuple(circuit.vectors[n].length for n in public), rounds, opened, lengths,
                 degree_checked, tails=tails, masks=masks)
    check_layout(circuit, s, claims)  # the zero-knowledge invariant over the declared claims (fails closed)
    circuit._schedule = (key, s)
    return s


def _masks(circuit: Circuit, fixed: list[str], lengths: dict[str, int], tails: dict,
           opened: dict, args: list) -> dict[str, tuple[int, int]]:
    """``(M_f, t_f)`` of every hidden fixed vector (``docs/protocol.md`` §7.6). ``M_f`` is one past the largest
    coefficient any relation can pair with ``f``'s: every operand of every constraint that reads ``f`` (with its
    tail), the constraint's own longest product (a convolution's ``x'·K``), and for a partner of an active argument
    (:meth:`Argument.partners`: logUp's ``table_out``, a constant in a lookup operand) that argument's polynomials
    with their tails. So the masks meet nothing a claim reads. ``t_f = |points f is opened at| + 1`` (the
    commitment ``[Δ_f]`` is one more value)."""

    def bound(n: str) -> int:
        return tails[n][0] + tails[n][1] if n in tails else lengths.get(n, 0)

    partners = [(a.partners(circuit), [n for n, _, _ in a.polynomials(circuit)]) for a in args]
    out = {}
    for f in fixed:
        m = lengths[f]
        for c in circuit.constraints:
            names = {n for n, _ in c.openings(circuit)}
            if f in names:
                m = max([m, c.extra_degree()] + [bound(n) for n in names])
        for reads, own in partners:
            if f in reads:
                m = max([m] + [bound(n) for n in own])
        out[f] = (m, sum(f in opened[p] for p in POINTS) + 1)
    return out


def _hidden_reads(circuit: Circuit) -> None:
    """Fail closed on a hidden fixed vector in a place whose layout was not made for it (``docs/protocol.md``
    §7.8). A hidden ``F̃_f`` is free at and above ``M_f`` (the link pins it only below) and owner-chosen on
    ``[N_f, M_f)``; it may therefore appear only where its offset ``M_f`` (:func:`_masks`) puts both regions
    against verifiable zeros or side rows: as a matmul weight or conv kernel (pinned gaps and slots), as the
    table output column, inside a Zero relation (``⟨F̃, q_N⟩`` reads its data only), and as exactly one whole
    operand where the block declares it (:attr:`Block.hidden_operands`). Anywhere else — ``x + C`` as a matmul
    input, a lookup query or a convolution input — two free regions can meet in a relation row and a prover
    could move an output (the centring forgery of ZK-DESIGN §11.1), so the circuit is refused, naming the node."""
    for c in circuit.constraints:
        for fname, e in c.structured_expressions():
            hid = [t.vector for t in e.terms if circuit.is_hidden(t.vector)]
            if not hid:
                continue
            alone = e.terms == (Term(hid[0]),) and e.const % R == 0 and circuit.vectors[hid[0]].length == e.length
            if fname in c.hidden_operands and alone:
                continue
            raise UnsupportedModelError(
                f"{c.kind} {c.name!r}: operand {fname} holds the hidden fixed vector {hid[0]!r} inside an expression; "
                "its free mask coefficients would meet the layout (a constant added before a matmul is folded into "
                "the bias, before any other block committed as its own vector: recompile with this zkchain)")


def _tails(circuit: Circuit, degree_checked, lengths: dict[str, int], opened: dict,
           claims: list, first: str | None = None) -> dict[str, tuple[int, int]]:
    """``(σ, t)`` of every degree-checked polynomial (``docs/protocol.md`` §7.1).

    ``t = |points it is opened at| + 1`` (the commitment is one more evaluation, at τ); one polynomial gets one
    more, because ``[W]`` reads every vector at 1/τ: by convention ``first``, the arguments' first witness-round
    polynomial (logUp's ``m``) when there is one, else the first degree-checked vector.
    ``σ = N + STAGGER·slot``: the sides of every product the blocks declare position by position (a Hadamard
    product, a product of two folds: :func:`zkchain.blocks.layout.tail_conflicts`) are coloured greedily, so
    that in every product the two sides' tails sit in disjoint windows and ``a_i·b_i = 0`` past the data.
    Raises :class:`UnsupportedModelError` when a layout cannot hold a tail: a vector on both sides of one
    product, a shifted or short term in a structured place, or a span larger than :data:`RESERVED_SPAN`."""
    points = {n: sum(n in opened[p] for p in POINTS) for n in degree_checked}
    t = {n: points[n] + 1 for n in degree_checked}
    if degree_checked:
        t[first if first in t else degree_checked[0]] += 1
    committed = set(degree_checked)
    conflicts = tail_conflicts(claims, lengths, committed)
    slot: dict[str, int] = {}
    for v in degree_checked:  # greedy colouring in circuit order: a-sides first come first
        if v in conflicts:
            taken = {slot[u] for u in conflicts[v] if u in slot}
            slot[v] = next(k for k in range(len(taken) + 1) if k not in taken)
    tails = {n: (lengths[n] + STAGGER * slot.get(n, 0), t[n]) for n in degree_checked}
    # structured places: every committed term aligned (shift 0, full length) and its span within the gap
    for c in circuit.constraints:
        if isinstance(c, Zero):
            continue  # ⟨v, q_N⟩ reads each vector's own data whatever the expression
        for fname, e in c.structured_expressions():
            for term in e.terms:
                if term.vector not in committed:
                    continue
                span = tails[term.vector][0] + tails[term.vector][1] - lengths[term.vector]
                if term.shift or lengths[term.vector] != e.length or span > RESERVED_SPAN:
                    raise UnsupportedModelError(
                        f"{c.kind} {c.name!r}: operand {fname} term {term.vector!r} cannot carry its zero-knowledge "
                        f"tail (shift {term.shift}, length {lengths[term.vector]} of {e.length}, span {span} > "
                        f"{RESERVED_SPAN})")
    return tails


def required_degree(circuit: Circuit) -> int:
    """Smallest SRS degree D (largest power of τ) the circuit needs: the longest committed polynomial. That is
    the longest vector, table or query vector, or a Laurent quotient: A and B have fewer coefficients than the
    two sides of their product, and a convolution's left side is the product ``x'·K``. Not rounded up: a dev SRS
    costs ~45 µs per power to build."""
    sch = schedule(circuit)
    lengths = [v.length for v in circuit.vectors.values()] + list(sch.lengths.values()) + list(sch.bounds.values())
    lengths += [MASK_LENGTH, 2]
    lengths += [c.extra_degree() for c in circuit.constraints]
    # hidden fixed vectors: F̃_f has M_f + t_f coefficients, and a product with F̃_f grows by as much
    lengths += [m + t for m, t in sch.masks.values()]
    for c in circuit.constraints:
        names = {n for n, _ in c.openings(circuit)}
        grow = [m + t - circuit.vectors[f].length for f, (m, t) in sch.masks.items() if f in names]
        if grow and c.extra_degree():
            lengths.append(c.extra_degree() + max(grow))
    return max(lengths) - 1
