"""The zero-knowledge layout invariant, checked by machine on every circuit before a key or a proof is made.

Why (``docs/protocol.md`` §7.9, ``../shared/LAYOUT-PLANNER.md``). Every claim of the Laurent argument is a
bilinear form in committed coefficients: its constant term is ``Σ κ·ρ^row·P[i]·Q[j]`` — coefficient ``i`` of
``P`` *meets* coefficient ``j`` of ``Q`` (or an entry of a closed form) in *row* ``row``. Every operand is
committed before ``ρ``, so each power of ``ρ`` is its own equation. Zero-knowledge puts *free* coefficients in
committed polynomials (random tails, a lookup helper's gaps, a hidden weight vector's per-proof mask). A
composition of blocks nobody listed can make a free coefficient meet a coefficient the relation reads — then
the prover solves for the free one and moves any output (the constant-before-Gemm forgery of protocol v2's
audit). Rules written per block cannot see compositions; this module checks the finished layout.

Classes of coefficients (one :class:`Region` per committed polynomial, from the schedule's tails and masks and
the blocks' pins):

=========  =========================================================================================
``data``   constrained: a witness's ``[0, N)``, ``h`` on the query segments, fixed data, public values,
           closed-form constants
``zero``   a verifiable zero: past a degree bound, outside a public vector or a closed form
``pin``    a fixed-vector entry a pin claim forces to zero (matmul row gaps, conv off-pattern slots)
``link``   a hidden fixed vector on ``[N_f, M_f)``: equal to the verifying key's by the link, zero under an
           honest setup but chosen by the model owner (a malicious setup, ZK-DESIGN §10)
``span``   a witness on ``[N, σ)`` (stagger room: zero for an honest prover, free for a cheating one)
``tail``   a witness's random tail ``[σ, σ+t)``
``gap``    ``h`` in a lookup gap
``mask``   a hidden fixed vector's per-proof mask ``[M_f, M_f+t_f)``
``delta``  a hidden fixed vector past its mask: free and unbounded (``Δ_f`` has no degree check)
=========  =========================================================================================

``span, tail, gap, mask, delta`` are *free*; ``tail`` and ``mask`` are random in an honest proof.

**The invariant** (one rule for every block and every composition). Blocks declare their claims as meeting
families (:class:`Lin`, :class:`Diag`, :class:`Anti`) and the rows that carry their relation
(:meth:`zkchain.compiler.circuit.Block.layout`); the other rows are *side rows*, forced to zero on their own.

- ``VIOLATION``: a free coefficient meets ``data`` or another free coefficient in a relation row (a forgery);
- ``SETUP-TRUST``: a ``link`` coefficient meets ``data`` or a free one in a relation row (a forgery under a
  malicious setup);
- ``COMPLETENESS``: a random coefficient meets a possibly non-zero one in any row (an honest proof fails).

:func:`check` raises :class:`~zkchain.errors.UnsupportedModelError` on the first finding, naming the block (its
ONNX node), so a circuit whose layout was not made for a composition fails closed instead of proving
unsoundly. The declarations are tied to the code: ``tests/adversarial/test_layout.py`` perturbs single
coefficients of random committed polynomials and checks that every change of a prover claim's constant term
is explained by the declared meetings and rows.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from zkchain.compiler.circuit import Circuit, Expr
from zkchain.crypto.field import R
from zkchain.errors import UnsupportedModelError

INF = 1 << 60
DATA, ZERO, PIN, LINK = "data", "zero", "pin", "link"
SPAN, TAIL, GAP, MASK, DELTA = "span", "tail", "gap", "mask", "delta"
FREE = frozenset({SPAN, TAIL, GAP, MASK, DELTA})
RANDOM = frozenset({TAIL, MASK})
LOUD = frozenset({DATA}) | FREE          # what a free coefficient must not meet in a relation row
HONEST_NONZERO = frozenset({DATA}) | RANDOM

VIOLATION, SETUP_TRUST, COMPLETENESS = "VIOLATION", "SETUP-TRUST", "COMPLETENESS"


# -- class maps and row sets ---------------------------------------------------------------------------------

class Region:
    """The class of every coefficient of one polynomial over ``[0, INF)``: sorted ``(lo, hi, class)`` runs."""

    def __init__(self, runs):
        out: list[tuple[int, int, str]] = []
        for lo, hi, c in runs:
            if hi <= lo:
                continue
            if out and out[-1][2] == c and out[-1][1] == lo:
                out[-1] = (out[-1][0], hi, c)
            else:
                out.append((lo, hi, c))
        self.runs = out
        self.starts = [r[0] for r in out]
        self._codes = None

    @classmethod
    def of(cls, data: int, rest: list[tuple[int, str]], pinned=()) -> "Region":
        """``data`` coefficients (``pinned`` positions among them as ``pin``), then ``(end, class)`` runs."""
        runs, pos = [], 0
        for p in sorted(set(int(p) for p in pinned if 0 <= p < data)):
            runs += [(pos, p, DATA), (p, p + 1, PIN)]
            pos = p + 1
        runs.append((pos, data, DATA))
        pos = data
        for end, c in rest:
            runs.append((pos, end, c))
            pos = end
        return cls(runs)

    def shifted(self, s: int) -> "Region":
        """The region of ``X^s·P`` (``s ≥ 0``): ``s`` zeros first."""
        if s == 0:
            return self
        return Region([(0, s, ZERO)] + [(lo + s, min(INF, hi + s), c) for lo, hi, c in self.runs])

    def within(self, lo: int, hi: int):
        """``(a, b, class)`` pieces of ``[lo, hi)``."""
        lo = max(lo, 0)
        if hi <= lo:
            return
        k = max(0, bisect.bisect_right(self.starts, lo) - 1)
        while k < len(self.runs) and self.runs[k][0] < hi:
            a, b, c = self.runs[k]
            if b > lo:
                yield max(a, lo), min(b, hi), c
            k += 1

    def loud(self):
        """The runs a finding can start from: free ones and ``link``."""
        return [r for r in self.runs if r[2] in FREE or r[2] == LINK]

    def classes(self, idx: np.ndarray) -> list[str]:
        """The class of every position in ``idx`` (non-negative ints)."""
        k = np.searchsorted(np.asarray(self.starts, dtype=np.int64), idx, side="right") - 1
        names = [r[2] for r in self.runs]
        return [names[i] for i in k.tolist()]


class Rows:
    """A set of rows (powers of ρ) as sorted disjoint intervals."""

    def __init__(self, intervals=()):
        merged: list[list[int]] = []
        for a, b in sorted((int(a), int(b)) for a, b in intervals if b > a):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(b, merged[-1][1])
            else:
                merged.append([a, b])
        self.iv = [tuple(m) for m in merged]
        self.starts = [a for a, _ in self.iv]

    @classmethod
    def positions(cls, pos) -> "Rows":
        return cls((int(p), int(p) + 1) for p in np.unique(np.asarray(pos, dtype=np.int64)).tolist())

    def first(self, lo: int, hi: int) -> int | None:
        """The smallest row of the set in ``[lo, hi)``, or None."""
        k = max(0, bisect.bisect_right(self.starts, lo) - 1)
        while k < len(self.iv) and self.iv[k][0] < hi:
            a, b = self.iv[k]
            if b > lo:
                return max(a, lo)
            k += 1
        return None

    def mask(self, rows: np.ndarray) -> np.ndarray:
        if not self.iv:
            return np.zeros(len(rows), dtype=bool)
        st = np.asarray(self.starts, dtype=np.int64)
        en = np.asarray([b for _, b in self.iv], dtype=np.int64)
        k = np.searchsorted(st, rows, side="right") - 1
        out = np.zeros(len(rows), dtype=bool)
        ok = k >= 0
        out[ok] = rows[ok] < en[k[ok]]
        return out


# -- what blocks declare -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Atom:
    """One committed term of an operand: polynomial ``vector`` (None: a closed-form constant that is non-zero on
    ``[shift, shift + length)``) multiplied by ``X^shift``."""

    vector: str | None
    shift: int = 0
    length: int = 0

    @property
    def label(self) -> str:
        return self.vector if self.vector is not None else "constant"


@dataclass(frozen=True)
class Lin:
    """``P[idx[k]]`` meets a non-zero closed-form entry in row ``rows[k]`` (out reads ``⟨v, q_N⟩``, selections,
    pins, logUp's closed columns)."""

    P: tuple[Atom, ...]
    idx: np.ndarray
    rows: np.ndarray
    what: str = ""


@dataclass(frozen=True)
class Diag:
    """``P[i]`` meets ``Q[i − d]`` for every ``(d, kind, r)`` of ``offs``: in row ``r`` (kind ``"const"``) or in row
    ``i + r`` (kind ``"pos"``) — a matmul's rows, a Hadamard product, logUp's query column."""

    P: tuple[Atom, ...]
    Q: tuple[Atom, ...]
    offs: tuple[tuple[int, str, int], ...]
    what: str = ""


@dataclass(frozen=True)
class Anti:
    """``P[a]`` meets ``Q[b]`` when ``a + b = V[k]``, in row ``rows[k]`` (a convolution's product read by its
    selection)."""

    P: tuple[Atom, ...]
    Q: tuple[Atom, ...]
    V: np.ndarray
    rows: np.ndarray
    what: str = ""


@dataclass(frozen=True)
class LayoutClaim:
    """One claim of the Laurent argument as meeting families, and the rows that carry the block's relation.
    ``pin``: the claim forces every coefficient its :class:`Lin` families read to zero (no relation rows)."""

    name: str
    node: str
    families: tuple
    relation: Rows = field(default_factory=Rows)
    pin: bool = False


@dataclass(frozen=True)
class Finding:
    kind: str
    claim: str
    node: str
    what: str
    p: str
    p_class: str
    q: str
    q_class: str
    at: tuple
    row: int | None

    def __str__(self) -> str:
        row = "every row" if self.row is None else f"row {self.row}"
        return (f"{self.kind}: {self.claim} ({self.what}): {self.p} [{self.p_class}] meets {self.q} [{self.q_class}] "
                f"at coefficients {self.at}, {row}")


# -- the layout of one circuit ------------------------------------------------------------------------------------

class Declarer:
    """What a block's :meth:`~zkchain.compiler.circuit.Block.layout` receives: the circuit and the helpers to
    declare meetings (:meth:`atoms`, :meth:`constant`, :meth:`reads`). Declarations do not depend on where tails
    and masks are placed, so the schedule reads them before it places anything."""

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit

    def atoms(self, e: Expr, shift: int = 0) -> tuple[Atom, ...]:
        """The atoms of expression ``e`` placed at ``X^shift``: every term with a non-zero coefficient, and the
        constant (non-zero on ``e``'s entries)."""
        out = [Atom(t.vector, t.shift + shift) for t in e.terms if t.coef % R]
        if e.const % R:
            out.append(Atom(None, shift, e.length))
        return tuple(out)

    def constant(self, length: int, shift: int = 0) -> tuple[Atom, ...]:
        """A closed-form operand that is non-zero on ``[shift, shift + length)`` (a channel of ones, a tag)."""
        return (Atom(None, shift, length),)

    def reads(self, e: Expr | None) -> list[Lin]:
        """``⟨e, q_N⟩`` (:meth:`zkchain.blocks.common.ProverContext.claim`): each committed term ``t`` reads its
        vector's ``N_t`` data coefficients in rows ``shift_t + i`` (public vectors and constants are values)."""
        if e is None:
            return []
        out = []
        for t in e.terms:
            v = self.circuit.vectors[t.vector]
            if v.kind == "public" or not t.coef % R:
                continue
            idx = np.arange(v.length, dtype=np.int64)
            out.append(Lin((Atom(t.vector),), idx, idx + t.shift, f"read of {t.vector}"))
        return out


def declared(circuit: Circuit) -> list[LayoutClaim]:
    """Every claim of ``circuit`` as declared by its blocks, then by the active arguments (prover-claim order).
    Raises :class:`UnsupportedModelError` naming a block that declares nothing."""
    from zkchain.blocks import ARGUMENTS

    d = Declarer(circuit)
    out: list[LayoutClaim] = []
    for k in circuit.constraints:
        claims = k.layout(d)
        if claims is None:
            raise UnsupportedModelError(
                f"{k.kind} {k.name!r}: the block declares no layout (Block.layout), so the zero-knowledge "
                "layout of its claims cannot be checked; refusing the circuit")
        out += claims
    for a in ARGUMENTS:
        if a.active(circuit):
            out += a.layout(d)
    return out


def tail_conflicts(claims: list[LayoutClaim], lengths: dict[str, int], committed) -> dict[str, set[str]]:
    """Pairs of committed polynomials whose random tails would meet: both sides of a diagonal family that reads
    them position by position (``Diag`` at ``d = 0``, row ``i``) from the same offset with the same data length — a
    Hadamard product's sides, a product of two folds. Their tails must sit in different windows (the schedule's
    stagger slots). Raises :class:`UnsupportedModelError` for a polynomial on both sides of one product."""
    out: dict[str, set[str]] = {}
    for c in claims:
        for f in c.families:
            if not isinstance(f, Diag) or (0, "pos", 0) not in f.offs:
                continue
            ps = {a.vector for a in f.P if a.vector in committed and a.shift == 0}
            qs = {b.vector for b in f.Q if b.vector in committed and b.shift == 0}
            both = ps & qs
            if both:
                raise UnsupportedModelError(f"{c.name}: {sorted(both)} on both sides of one product "
                                            "(the compiler materialises a copy)")
            for a in ps:
                for b in qs:
                    if lengths[a] == lengths[b]:
                        out.setdefault(a, set()).add(b)
                        out.setdefault(b, set()).add(a)
    return out


class Layout:
    """The class map of every committed polynomial of ``circuit`` under schedule ``sch`` and the declared claims
    (:func:`declared`), and the check over them."""

    def __init__(self, circuit: Circuit, sch, claims: list[LayoutClaim] | None = None) -> None:
        self.circuit = circuit
        self.sch = sch
        self.claims = declared(circuit) if claims is None else claims
        pinned: dict[str, set[int]] = {}
        for c in self.claims:
            if c.pin:
                for f in c.families:
                    for a in f.P:
                        pinned.setdefault(a.vector, set()).update((f.idx - a.shift).tolist())
        self.regions: dict[str, Region] = {}
        for v in circuit.vectors.values():
            n = v.length
            if v.kind == "public":
                self.regions[v.name] = Region.of(n, [(INF, ZERO)])
            elif v.kind == "fixed":
                if v.name in sch.masks:
                    m, t = sch.masks[v.name]
                    self.regions[v.name] = Region.of(n, [(m, LINK), (m + t, MASK), (INF, DELTA)],
                                                     pinned.get(v.name, ()))
                else:  # parameter-free (the verifier's closed form) or public data (a committed test set, recommitted
                    # from the data by whoever relies on it: docs/protocol.md §5.11): zero past its data (and pinned)
                    self.regions[v.name] = Region.of(n, [(INF, ZERO)], pinned.get(v.name, ()))
        for name, (sigma, t) in sch.tails.items():
            if name in self.regions and circuit.vectors[name].kind != "witness":
                continue
            n = sch.lengths[name]
            self.regions[name] = Region.of(n, [(sigma, SPAN), (sigma + t, TAIL), (INF, ZERO)])
        from zkchain.blocks.lookup import H, lookup_layout, query_length

        if H in sch.tails:  # the query helper: data on the segments, free in the gaps
            sigma, t = sch.tails[H]
            runs, pos = [], 0
            for lk, off in lookup_layout(circuit):
                runs += [(pos, off, GAP), (off, off + lk.inp.length, DATA)]
                pos = off + lk.inp.length
            nf = query_length(circuit)
            runs += [(pos, nf, GAP), (nf, sigma, SPAN), (sigma, sigma + t, TAIL), (sigma + t, INF, ZERO)]
            self.regions[H] = Region(runs)

    def region(self, a: Atom) -> Region:
        if a.vector is None:
            return Region([(0, a.shift, ZERO), (a.shift, a.shift + a.length, DATA), (a.shift + a.length, INF, ZERO)])
        r = self.regions.get(a.vector)
        if r is None:
            raise UnsupportedModelError(f"layout: no coefficient classes for {a.vector!r}")
        return r.shifted(a.shift)

    # -- what one coefficient meets (the declarations' test reads this) ---------------------------------------
    def rows_meeting(self, name: str, j: int) -> dict[int, set[int]]:
        """``{claim index: rows}``: the rows in which coefficient ``j`` of polynomial ``name`` meets a coefficient
        that is not a verifiable zero, per the declarations (claims in :attr:`claims` order)."""
        quiet = (ZERO, PIN)

        def live(atoms, pos: int) -> bool:
            return pos >= 0 and any(self.region(b).classes(np.asarray([pos], dtype=np.int64))[0] not in quiet
                                    for b in atoms)

        out: dict[int, set[int]] = {}
        for ci, c in enumerate(self.claims):
            rows: set[int] = set()
            for f in c.families:
                if isinstance(f, Lin):
                    for a in f.P:
                        if a.vector == name:
                            rows.update(f.rows[f.idx == j + a.shift].tolist())
                elif isinstance(f, Diag):
                    for side, mine, other in ((0, f.P, f.Q), (1, f.Q, f.P)):
                        for a in mine:
                            if a.vector != name:
                                continue
                            for d, kind, r in f.offs:
                                i = j + a.shift if side == 0 else j + a.shift + d  # the P index
                                if live(other, i - d if side == 0 else i):
                                    rows.add(r if kind == "const" else i + r)
                elif isinstance(f, Anti):
                    for mine, other in ((f.P, f.Q), (f.Q, f.P)):
                        for a in mine:
                            if a.vector != name:
                                continue
                            for k in np.nonzero(f.V - (j + a.shift) >= 0)[0].tolist():
                                if live(other, int(f.V[k]) - (j + a.shift)):
                                    rows.add(int(f.rows[k]))
            if rows:
                out[ci] = rows
        return out

    # -- the check -------------------------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """Every distinct finding (kind, claim, family, the two polynomials and their classes), in claim order."""
        out: list[Finding] = []
        seen: set = set()
        for c in self.claims:
            for f in c.families:
                for fd in self._family(c, f):
                    key = (fd.kind, fd.claim, fd.what, fd.p, fd.p_class, fd.q, fd.q_class)
                    if key not in seen:
                        seen.add(key)
                        out.append(fd)
        return out

    @staticmethod
    def _judge(pc: str, qc: str) -> tuple[str | None, str | None]:
        """``(relation-row finding, any-row finding)`` for a ``pc`` coefficient meeting a ``qc`` one."""
        rel = None
        if (pc in FREE and qc in LOUD) or (qc in FREE and pc in LOUD):
            rel = VIOLATION
        elif (pc == LINK and qc in LOUD) or (qc == LINK and pc in LOUD):
            rel = SETUP_TRUST
        anyrow = COMPLETENESS if ((pc in RANDOM and qc in HONEST_NONZERO) or (qc in RANDOM and pc in HONEST_NONZERO)) else None
        return rel, anyrow

    def _found(self, c, f, kind, p, pc, q, qc, at, row) -> Finding:
        return Finding(kind, c.name, c.node, f.what, p, pc, q, qc, at, row)

    def _family(self, c: LayoutClaim, f):
        if isinstance(f, Lin):
            yield from self._lin(c, f)
        elif isinstance(f, Diag):
            yield from self._diag(c, f)
        elif isinstance(f, Anti):
            yield from self._anti(c, f)
        else:
            raise TypeError(f"unknown meeting family {type(f).__name__}")

    def _lin(self, c, f: Lin):
        if c.pin:  # the pinned coefficients themselves; what else a pin claim reads is checked like any claim
            return
        for a in f.P:
            reg = self.region(a)
            loud = [i for i, r in enumerate(reg.runs) if r[2] in FREE or r[2] == LINK]
            if not loud:
                continue
            k = np.searchsorted(np.asarray(reg.starts, dtype=np.int64), f.idx, side="right") - 1
            for j in np.nonzero(np.isin(k, loud))[0].tolist():
                pc = reg.runs[int(k[j])][2]
                rel, anyrow = self._judge(pc, DATA)
                row = int(f.rows[j])
                if rel and c.relation.first(row, row + 1) is not None:
                    yield self._found(c, f, rel, a.label, pc, "closed form", DATA, (int(f.idx[j]),), row)
                if anyrow:
                    yield self._found(c, f, anyrow, a.label, pc, "closed form", DATA, (int(f.idx[j]),), row)

    def _pairs(self, P: tuple[Atom, ...], Q: tuple[Atom, ...]):
        for a in P:
            for b in Q:
                yield a, self.region(a), b, self.region(b)

    def _diag(self, c, f: Diag):
        for a, ra, b, rb in self._pairs(f.P, f.Q):
            for d, kind, r in f.offs:
                # P[i]·Q[i − d]: walk the loud runs of each side against the other's classes
                for lo, hi, pc in ra.loud():
                    for qlo, qhi, qc in rb.within(lo - d, hi - d):
                        yield from self._meet(c, f, a, pc, b, qc, qlo + d, qhi + d, d, kind, r)
                for qlo, qhi, qc in rb.loud():
                    for lo, hi, pc in ra.within(qlo + d, qhi + d):
                        yield from self._meet(c, f, a, pc, b, qc, lo, hi, d, kind, r)

    def _meet(self, c, f, a, pc, b, qc, lo, hi, d, kind, r):
        rel, anyrow = self._judge(pc, qc)
        if not rel and not anyrow:
            return
        at = (lo, lo - d)
        if kind == "const":
            row = r
            if rel and c.relation.first(row, row + 1) is not None:
                yield self._found(c, f, rel, a.label, pc, b.label, qc, at, row)
        else:
            row_lo, row_hi = lo + r, min(INF, hi + r)
            hit = c.relation.first(row_lo, row_hi) if rel else None
            if hit is not None:
                yield self._found(c, f, rel, a.label, pc, b.label, qc, (hit - r, hit - r - d), hit)
            row = row_lo
        if anyrow:
            yield self._found(c, f, anyrow, a.label, pc, b.label, qc, at, row)

    def _anti(self, c, f: Anti):
        if not len(f.V):
            return
        vmax = int(f.V.max())
        rel_mask = c.relation.mask(f.rows)
        for a, ra, b, rb in self._pairs(f.P, f.Q):
            for side, (rs, ro, sa, sb) in enumerate(((ra, rb, a, b), (rb, ra, b, a))):
                for lo, hi, sc in rs.loud():
                    for pos in range(lo, min(hi, vmax + 1)):
                        other = f.V - pos
                        ok = other >= 0
                        if not ok.any():
                            continue
                        oc = ro.classes(other[ok])
                        rows, rel = f.rows[ok], rel_mask[ok]
                        for k, qc in enumerate(oc):
                            relk, anyrow = self._judge(sc, qc)
                            pq = (pos, int(other[ok][k])) if side == 0 else (int(other[ok][k]), pos)
                            pcls, qcls = (sc, qc) if side == 0 else (qc, sc)
                            if relk and rel[k]:
                                yield self._found(c, f, relk, a.label, pcls, b.label, qcls, pq, int(rows[k]))
                            if anyrow:
                                yield self._found(c, f, anyrow, a.label, pcls, b.label, qcls, pq, int(rows[k]))


def findings(circuit: Circuit, sch, claims: list[LayoutClaim] | None = None) -> list[Finding]:
    """Every distinct finding of ``circuit``'s layout under schedule ``sch`` (empty: the invariant holds)."""
    return Layout(circuit, sch, claims).findings()


def check(circuit: Circuit, sch, claims: list[LayoutClaim] | None = None) -> None:
    """Fail closed: raise :class:`UnsupportedModelError` naming the block of the most severe finding
    (a violation before a setup-trust finding before a completeness one)."""
    found = Layout(circuit, sch, claims).findings()
    if found:
        f = min(found, key=lambda x: (VIOLATION, SETUP_TRUST, COMPLETENESS).index(x.kind))
        raise UnsupportedModelError(
            f"{f.node!r}: the zero-knowledge layout does not hold ({f}); a prover could "
            + ("move this relation" if f.kind == VIOLATION else "move it under a malicious setup"
               if f.kind == SETUP_TRUST else "not prove it honestly")
            + ". Refusing the circuit (docs/protocol.md §7.9)")


def selection_lin(atoms: tuple[Atom, ...], sel, what: str) -> Lin:
    """A :class:`~zkchain.compiler.circuit.Selection` read as a :class:`Lin` family: input entry ``e(m)`` meets
    ``ρ^(r(m))``."""
    e, r = sel.pairs()
    return Lin(atoms, e, r, what)


def positions_lin(atoms: tuple[Atom, ...], idx, rows=None, what: str = "") -> Lin:
    idx = np.asarray(idx, dtype=np.int64)
    return Lin(atoms, idx, idx.copy() if rows is None else np.asarray(rows, dtype=np.int64), what)

