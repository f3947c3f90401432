"""The compiled circuit: vectors, linear expressions over them, lookup tables, and basic-block constraints.

This is the intermediate representation at the bottom of the proof system: the compiler
(``zkchain.compiler.lower``) writes it, setup, the prover and both verifiers read it. It holds *structure*
only; the private fixed values (weights, table outputs) travel in the proving key, never in the verifying key.

Vectors. Every tensor the proof talks about is flattened row-major into a vector ``v ∈ Fr^N`` held as the
polynomial ``v(X) = Σ_{i<N} v_i X^i`` (coefficient basis, ``docs/protocol.md`` §1). A vector is one of

- ``witness``: committed by the prover (private input, rescale quotients and remainders, table outputs);
- ``public``: its values travel in the proof as public inputs/outputs; the verifier evaluates it itself;
- ``fixed``: committed once at setup; its commitment is in the verifying key (weights, table columns).

Expressions. ``Expr`` is ``Σ_t coef_t · X^{shift_t} · v_t(X) + const · ones_N(X)``, a linear combination of
vectors. Tensors that are linear functions of others (a matmul accumulator, a sum of two tensors) are never
committed: their evaluations follow from their parts.

Constraints are instances of :class:`Block` subclasses, one per basic block, each defined with its prover and
verifier side in its own module of ``zkchain/blocks/`` and listed once in ``zkchain.blocks.BLOCKS``. This module
knows none of them: it checks, serialises and parses constraints through the :class:`Block` interface.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import astuple, dataclass, field
from typing import Any, ClassVar

from zkchain.crypto.field import R
from zkchain.errors import InputError

CIRCUIT_FORMAT = "zkchain.circuit.v3"  # v3: zero-knowledge layouts (matmul row gaps, conv tail slot)
VECTOR_KINDS = ("witness", "public", "fixed")
RESERVED_NAMES = ("m", "h", "g", "s", "a", "b", "w")  # the prover's own polynomials (zkchain/protocol/schedule.py)


@dataclass(frozen=True)
class Vector:
    """A named vector of ``length`` field elements. ``kind`` is one of :data:`VECTOR_KINDS`.

    ``role`` says where a public vector's values come from: ``"input"`` or ``"output"``; for a fixed vector,
    :data:`PARAMETER_FREE` marks one whose values follow from the circuit alone (a sum-pool kernel, a ReLU table),
    committed without a mask (``docs/protocol.md`` §7.6); :data:`PUBLIC_DATA` one whose values are public and
    committed plainly in the verifying key (a committed test set, ``docs/protocol.md`` §5.11); every other fixed
    vector is hidden. ``bound`` is the
    largest absolute signed value a public vector may carry (the verifiers reject larger ones)."""

    name: str
    length: int
    kind: str
    role: str = ""
    bound: int = 0


PARAMETER_FREE = "parameter-free"  # role of a fixed vector that is not hidden (never weights)
#: role of a fixed vector whose values are public data (a committed test set and its labels): committed in the VK
#: without a mask, so anyone holding the data and the SRS recomputes the commitment; opened like a witness vector
PUBLIC_DATA = "public-data"


@dataclass(frozen=True)
class Term:
    """``coef · X^shift · vector(X)``; ``coef`` is an integer taken mod r."""

    vector: str
    coef: int = 1
    shift: int = 0


@dataclass(frozen=True)
class Expr:
    """A linear expression of ``length`` entries: ``Σ terms + const · ones_length(X)``."""

    length: int
    terms: tuple[Term, ...]
    const: int = 0

    @staticmethod
    def of(name: str, length: int) -> "Expr":
        return Expr(length, (Term(name),))

    def vectors(self) -> list[str]:
        return [t.vector for t in self.terms]

    def to_json(self) -> dict:
        return {"length": self.length, "const": str(self.const),
                "terms": [[t.vector, str(t.coef), t.shift] for t in self.terms]}

    @staticmethod
    def from_json(e: dict) -> "Expr":
        return Expr(int(e["length"]), tuple(Term(str(t[0]), int(t[1]), int(t[2])) for t in e["terms"]),
                    int(e["const"]))


@dataclass(frozen=True)
class Grid:
    """Where a (C, H, W) tensor's entries sit in its vector: channel-major ``(C, Hp, Wp)`` grid with the
    entry ``(c, i, j)`` at ``c·Hp·Wp + (i + top)·Wp + (j + left)``; the other grid cells are padding (zero,
    or the value the elementwise chain maps zero to). ``Hp = H``, ``Wp = W``, ``top = left = 0`` is the plain
    row-major layout that Flatten and MatMul read."""

    C: int
    H: int
    W: int
    Hp: int
    Wp: int
    top: int = 0
    left: int = 0

    @property
    def size(self) -> int:
        return self.C * self.Hp * self.Wp

    @property
    def padded(self) -> bool:
        return (self.Hp, self.Wp) != (self.H, self.W)

    def index(self, c: int, i: int, j: int) -> int:
        """Vector position of entry ``(c, i, j)``."""
        return c * self.Hp * self.Wp + (i + self.top) * self.Wp + (j + self.left)

    def flat_index(self, flat: int) -> int:
        """Vector position of the tensor's row-major entry ``flat`` (of ``C·H·W``)."""
        c, rest = divmod(flat, self.H * self.W)
        return self.index(c, *divmod(rest, self.W))

    def copy_to(self, other: "Grid") -> "Selection":
        """The selection placing this grid's ``C·H·W`` entries at the same ``(c, i, j)`` of ``other`` (same
        ``C, H, W``; other's padding cells receive nothing, so a Gather leaves them 0). Raises ``ValueError`` for
        grids of different tensors."""
        if (self.C, self.H, self.W) != (other.C, other.H, other.W):
            raise ValueError(f"grids of different tensors: {self} and {other}")
        return Selection(other.top * other.Wp + other.left, self.top * self.Wp + self.left,
                         tuple(st for st in ((self.C, other.Hp * other.Wp, self.Hp * self.Wp), (self.H, other.Wp, self.Wp),
                                             (self.W, 1, 1)) if st[0] > 1))

    def embed(self, values, fill: int = 0):
        """The ``C·H·W`` entries of ``values`` (any shape, row-major) placed on the grid, ``fill`` in the padding
        cells: an object array of ``size`` Python ints."""
        import numpy as np

        full = np.full((self.C, self.Hp, self.Wp), fill, dtype=object)
        full[:, self.top:self.top + self.H, self.left:self.left + self.W] = np.asarray(values).reshape(self.C, self.H, self.W)
        return full.reshape(-1)


def row_major_strides(shape) -> list[int]:
    """Strides (in entries) of a row-major tensor of ``shape``."""
    out, acc = [], 1
    for d in reversed(list(shape)):
        out.append(acc)
        acc *= int(d)
    return out[::-1]


@dataclass(frozen=True)
class Selection:
    """An affine index map from an input vector to a block's output (``zkchain/blocks/gather.py``): for every
    multi-index ``(m_1, …, m_K)`` with ``m_k < n_k``, input entry ``e0 + Σ m_k·e_k`` adds into output entry
    ``r0 + Σ m_k·r_k``. ``steps`` holds ``(n_k, r_k, e_k)``. A step with ``r_k = 0`` sums, one with ``e_k = 0``
    broadcasts. The prover's coefficients (:meth:`coefficients`) and the verifier's closed form
    (:meth:`closed_form`) both come from this one description. Raises ``ValueError`` for a negative stride, an
    empty range, or a step that moves neither index."""

    r0: int
    e0: int
    steps: tuple[tuple[int, int, int], ...]

    def __post_init__(self):
        if self.r0 < 0 or self.e0 < 0 or any(n < 1 or r < 0 or e < 0 or (n > 1 and r == e == 0)
                                             for n, r, e in self.steps):
            raise ValueError(f"invalid selection {self}")

    # -- common maps ------------------------------------------------------------------------------------
    @classmethod
    def transpose(cls, shape, perm) -> "Selection":
        """``out = x.transpose(perm)`` for a row-major ``x`` of ``shape``."""
        si = row_major_strides(shape)
        oshape = [int(shape[p]) for p in perm]
        so = row_major_strides(oshape)
        return cls(0, 0, tuple((oshape[k], so[k], si[perm[k]]) for k in range(len(perm)) if oshape[k] > 1))

    @classmethod
    def reduce(cls, shape, axes) -> "Selection":
        """``out = x.sum(axes, keepdims=True)``."""
        si = row_major_strides(shape)
        so = row_major_strides([1 if a in axes else d for a, d in enumerate(shape)])
        return cls(0, 0, tuple((int(d), 0 if a in axes else so[a], si[a]) for a, d in enumerate(shape) if d > 1))

    @classmethod
    def slice(cls, shape, out_shape, starts, steps) -> "Selection":
        """``out = x[starts[a] :: steps[a]]`` on every axis, ``out_shape`` entries."""
        si, so = row_major_strides(shape), row_major_strides(out_shape)
        return cls(0, sum(int(s) * si[a] for a, s in enumerate(starts)),
                   tuple((int(o), so[a], int(steps[a]) * si[a]) for a, o in enumerate(out_shape) if o > 1))

    @classmethod
    def identity(cls, n: int) -> "Selection":
        """``out = x`` for ``n`` entries."""
        return cls(0, 0, ((int(n), 1, 1),))

    @classmethod
    def take(cls, shape, axis: int, j: int, at: int = 0, count: int = 1) -> "Selection":
        """Entry ``j`` along ``axis`` of ``x`` written at position ``at`` of that axis of an output with ``count``
        positions there (``out[..., at, ...] = x[..., j, ...]``; the default is ``x.take([j], axis)``)."""
        si = row_major_strides(shape)
        so = row_major_strides([count if a == axis else d for a, d in enumerate(shape)])
        return cls(at * so[axis], j * si[axis],
                   tuple((int(d), so[a], si[a]) for a, d in enumerate(shape) if a != axis and d > 1))

    @classmethod
    def broadcast(cls, shape, out_shape) -> "Selection":
        """``out = np.broadcast_to(x, out_shape)`` for ``x`` of ``shape`` (same rank; size-1 axes repeat)."""
        if len(shape) != len(out_shape) or any(d not in (1, o) for d, o in zip(shape, out_shape)):
            raise ValueError(f"cannot broadcast {list(shape)} to {list(out_shape)}")
        si, so = row_major_strides(shape), row_major_strides(out_shape)
        return cls(0, 0, tuple((int(o), so[a], si[a] if shape[a] == o else 0)
                               for a, o in enumerate(out_shape) if o > 1))

    @classmethod
    def place(cls, shape, out_shape, axis: int, offset: int) -> "Selection":
        """``x`` (``shape``) written into ``out`` (``out_shape``) from index ``offset`` of ``axis`` (one part of
        a concatenation)."""
        si, so = row_major_strides(shape), row_major_strides(out_shape)
        return cls(offset * so[axis], 0, tuple((int(d), so[a], si[a]) for a, d in enumerate(shape) if d > 1))

    @classmethod
    def tile(cls, shape, reps) -> "Selection":
        """``out = np.tile(x, reps)`` (``reps`` one count per axis of ``x``): output index ``t·d + j`` of an axis
        of length ``d`` reads ``j``."""
        out = [int(d) * int(r) for d, r in zip(shape, reps)]
        si, so = row_major_strides(shape), row_major_strides(out)
        steps = []
        for a, (d, r) in enumerate(zip(shape, reps)):
            steps += [(int(r), int(d) * so[a], 0)] if r > 1 else []
            steps += [(int(d), so[a], si[a])] if d > 1 else []
        return cls(0, 0, tuple(steps))

    @classmethod
    def upsample(cls, shape, factors) -> "Selection":
        """``out[.., i, ..] = x[.., i // f, ..]`` on every axis (nearest-neighbour upsampling by ``factors``)."""
        out = [int(d) * int(f) for d, f in zip(shape, factors)]
        si, so = row_major_strides(shape), row_major_strides(out)
        steps = []
        for a, (d, f) in enumerate(zip(shape, factors)):
            steps += [(int(d), int(f) * so[a], si[a])] if d > 1 else []
            steps += [(int(f), so[a], 0)] if f > 1 else []
        return cls(0, 0, tuple(steps))

    @classmethod
    def pad(cls, shape, pads, strides=None) -> "Selection":
        """``x`` placed inside a zero-padded output (ONNX ``pads``: every axis's begin, then every axis's end;
        each ≥ 0), its neighbours ``strides`` apart on each axis (default 1; ``s − 1`` zeros between, a transposed
        convolution's dilated input); the entries in between receive nothing."""
        rank = len(shape)
        st = [1] * rank if strides is None else [int(s) for s in strides]
        out = [(int(d) - 1) * st[a] + 1 + int(pads[a]) + int(pads[a + rank]) for a, d in enumerate(shape)]
        si, so = row_major_strides(shape), row_major_strides(out)
        return cls(sum(int(pads[a]) * so[a] for a in range(rank)), 0,
                   tuple((int(d), st[a] * so[a], si[a]) for a, d in enumerate(shape) if d > 1))

    @classmethod
    def triangle(cls, shape, upper: bool, k: int) -> tuple["Selection", ...]:
        """``out = np.triu(x, k)`` (``upper``) or ``np.tril(x, k)`` over the last two axes: one selection per row
        of the matrix that keeps an entry (a contiguous run of columns, every leading axis a step), the other
        entries receiving nothing."""
        H, W = int(shape[-2]), int(shape[-1])
        s = row_major_strides(shape)
        outer = tuple((int(d), s[a], s[a]) for a, d in enumerate(shape[:-2]) if d > 1)
        sels = []
        for i in range(H):
            lo, hi = (max(0, i + k), W) if upper else (0, min(W, i + k + 1))
            if hi > lo:
                sels.append(cls(i * W + lo, i * W + lo, outer + (((hi - lo), 1, 1),) if hi - lo > 1 else outer))
        return tuple(sels)

    # -- the two sides --------------------------------------------------------------------------------
    def reach(self) -> tuple[int, int]:
        """``(1 + largest input index, 1 + largest output index)``."""
        return (self.e0 + sum((n - 1) * e for n, _, e in self.steps) + 1,
                self.r0 + sum((n - 1) * r for n, r, _ in self.steps) + 1)

    def pairs(self):
        """``(input index, output index)`` arrays (numpy int64) of every term of the map, in multi-index order."""
        import numpy as np

        e, r = np.array([self.e0], dtype=np.int64), np.array([self.r0], dtype=np.int64)
        for n, rs, es in self.steps:
            m = np.arange(n, dtype=np.int64)
            e = (e[:, None] + m[None, :] * es).reshape(-1)
            r = (r[:, None] + m[None, :] * rs).reshape(-1)
        return e, r

    def coefficients(self, rho: int, length: int) -> list[int]:
        """``G`` with ``G[e(m)] += ρ^(r(m))`` (``length`` entries): the right side of the gather claim."""
        e, r = self.pairs()
        powers, p = [], 1
        for _ in range(self.reach()[1]):
            powers.append(p)
            p = p * rho % R
        g = [0] * length
        for a, b in zip(e.tolist(), r.tolist()):
            g[a] = (g[a] + powers[b]) % R
        return g

    def closed_form(self, vc, extra=(), at_one: bool = False):
        """``(Π extra)·G(y)`` in closed form through the verifier context's loader, at ``y = 1/ζ`` (or ``y = 1``
        with ``at_one``): ``ρ^(r0)·y^(e0)·Π_k ones_(n_k)(ρ^(r_k)·y^(e_k))``. The one formula behind every
        selection-shaped right side (gather, pick, convolution, padding, kernel pattern)."""
        L = vc.L
        b = 0 if at_one else 1
        factors = list(extra) + [L.pow(vc.rho, self.r0)]
        if b:
            factors.append(L.pow(vc.zeta_inv, self.e0))
        for n, r, e in self.steps:
            if n > 1:
                factors.append(L.const(n) if r == 0 and e * b == 0 else L.ones(n, L.point(r, e * b)))
        return L.prod(factors)

    def to_json(self) -> list:
        return [self.r0, self.e0, [list(s) for s in self.steps]]

    @staticmethod
    def from_json(v) -> "Selection":
        return Selection(int(v[0]), int(v[1]), tuple(tuple(int(a) for a in s) for s in v[2]))


def complement_coefficients(rho: int, length: int, diagonal: tuple[Selection, ...]) -> list[int]:
    """``ρ^p`` at every position ``p < length`` no diagonal selection (``r = e``, disjoint) covers, 0 elsewhere: the
    coefficients of ``ones_length(ρY) − Σ_s G_s(Y)`` (a pin of the slots a layout leaves empty)."""
    covered = [s.coefficients(rho, length) for s in diagonal]
    out, p = [], 1
    for i in range(length):
        out.append((p - sum(c[i] for c in covered)) % R)
        p = p * rho % R
    return out


def complement_closed_form(vc, length: int, diagonal: tuple[Selection, ...], at_one: bool = False):
    """:func:`complement_coefficients` evaluated at ``y = 1/ζ`` (or ``y = 1``) through the verifier's loader."""
    L = vc.L
    out = L.ones(length, L.point(1, 0 if at_one else 1))
    for s in diagonal:
        out = out - s.closed_form(vc, at_one=at_one)
    return out


@dataclass(frozen=True)
class Table:
    """A lookup table: rows ``(tag, lo + i, out_i)`` for ``i < size``.

    ``kind == "range"`` has no output column (``out_i = 0``): it proves ``lo ≤ v < lo + size``.
    ``kind == "map"`` has outputs (stored in the proving key, committed in the verifying key).
    The tag column and the input column are structured, so the verifier evaluates them in closed form."""

    name: str
    tag: int
    kind: str
    lo: int
    size: int


# -- constraints ------------------------------------------------------------------------------------------

def encode_field(v: Any) -> Any:
    if isinstance(v, Expr):
        return v.to_json()
    if isinstance(v, Grid):
        return list(astuple(v))
    if isinstance(v, Selection):
        return v.to_json()
    if isinstance(v, tuple):
        return [encode_field(x) for x in v]
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return str(v) if abs(v) >= 2**53 else v  # field constants stay exact through any JSON reader
    raise TypeError(f"cannot encode {type(v).__name__} in a circuit")


def decode_field(tp: Any):
    if tp is Expr:
        return Expr.from_json
    if tp is Grid:
        return lambda v: Grid(*map(int, v))
    if tp is int:
        return int
    if tp is str:
        return str
    if tp is Selection:
        return Selection.from_json
    if typing.get_origin(tp) is tuple:  # tuple[X, ...]
        inner = decode_field(typing.get_args(tp)[0])
        return lambda v: tuple(inner(x) for x in v)
    args = typing.get_args(tp)
    if args and type(None) in args:  # X | None
        inner = decode_field(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else inner(v)
    raise TypeError(f"cannot decode {tp!r} in a circuit")


class Block:
    """Base class of every constraint (one subclass per basic block, a frozen dataclass).

    A subclass sets ``kind`` (its JSON tag) and overrides what applies to it:

    - :meth:`check` — structural checks against the circuit (raise ``ValueError``);
    - :meth:`openings` — the ``(vector, point)`` evaluations its verifier equation reads;
    - :meth:`prover_claims` / :meth:`verifier_claims` — its claims of the Laurent inner-product argument,
      computed from witness coefficients (prover) or from evaluations through a loader (verifier);
    - :meth:`structured_expressions` — the operands its right sides lay out (everything but ``out``), whose
      zero-knowledge tails the layout must leave unread (``docs/protocol.md`` §7);
    - :attr:`hidden_operands` — the fields among those that may be exactly one hidden fixed vector, because the
      schedule places that vector's mask past every partner (``docs/protocol.md`` §7.8); a hidden vector
      anywhere else in a structured operand is refused;
    - :meth:`extra_degree` — the longest polynomial it makes the prover commit (conv products), if longer than
      its vectors;
    - :meth:`closed_forms` — the evaluation of each parameter-free fixed vector it lays out (a sum-pool kernel);
    - :meth:`layout` — its claims as meeting families, for the layout check (``zkchain/blocks/layout.py``).

    JSON: every dataclass field, encoded by its annotated type (``Expr``, ``Grid``, ``Selection``, ``int``, ``str``,
    ``X | None``, ``tuple[X, ...]``);
    a field named in :attr:`omitted_at_default` is left out at its default (added after the format was fixed, it
    must not change the VK digest of circuits that do not use it).
    """

    kind: ClassVar[str] = ""
    hidden_operands: ClassVar[tuple[str, ...]] = ()
    omitted_at_default: ClassVar[tuple[str, ...]] = ()  # fields left out of the JSON at their default

    # -- structure --------------------------------------------------------------------------------------
    def _named_expressions(self) -> list[tuple[str, Expr]]:
        """``(field, expression)`` of every ``Expr`` field, a tuple field's items as ``field[i]``."""
        out = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Expr):
                out.append((f.name, v))
            elif isinstance(v, tuple):
                out += [(f"{f.name}[{i}]", x) for i, x in enumerate(v) if isinstance(x, Expr)]
        return out

    def check(self, circuit: "Circuit", where: str) -> None:
        for _, e in self._named_expressions():
            circuit.check_expr(e, where)

    def expressions(self) -> list[Expr]:
        return [e for _, e in self._named_expressions()]

    def structured_expressions(self) -> list[tuple[str, Expr]]:
        """``(field, expression)`` of the operands a structured right side reads (the output is read as
        ``⟨out, q_N⟩``, which any tail passes)."""
        return [(n, e) for n, e in self._named_expressions() if n != "out"]

    def openings(self, circuit: "Circuit") -> list[tuple[str, str]]:
        return []

    def extra_degree(self) -> int:
        return 0

    def closed_forms(self, circuit: "Circuit") -> dict:
        """``{name: f(vc, point)}`` for the parameter-free fixed vectors whose layout this block defines: the
        verifier evaluates them itself (``docs/protocol.md`` §7.6), so they are neither committed nor opened."""
        return {}

    # -- protocol (defaults: no claims) -------------------------------------------------------------------
    def prover_claims(self, pc) -> list:
        return []

    def verifier_claims(self, vc) -> list:
        return []

    def layout(self, lay) -> list | None:
        """The block's claims as meeting families, in :meth:`prover_claims` order
        (:class:`zkchain.blocks.layout.LayoutClaim`): which coefficients of which operands meet, in which
        rows, and which rows carry the relation. The schedule checks the zero-knowledge invariant over them
        (``docs/protocol.md`` §7.9); None (the default) makes every circuit with this block fail closed."""
        return None

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        out = {"block": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in self.omitted_at_default and v == f.default:
                continue  # a field added later: circuits that do not use it keep their JSON, so their VK digest
            out[f.name] = encode_field(v)
        return out

    @classmethod
    def from_json(cls, d: dict) -> "Block":
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                if f.default is not dataclasses.MISSING:
                    continue
                raise InputError(f"{cls.kind} constraint lacks {f.name!r}")
            kwargs[f.name] = decode_field(hints[f.name])(d[f.name])
        return cls(**kwargs)


@dataclass
class Circuit:
    """Structure of a compiled model. ``fixed_values`` (private) are kept apart by :meth:`to_json`."""

    vectors: dict[str, Vector] = field(default_factory=dict)
    constraints: list[Block] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------------------
    def add_vector(self, name: str, length: int, kind: str, role: str = "", bound: int = 0) -> Expr:
        if kind not in VECTOR_KINDS:
            raise ValueError(f"vector kind {kind!r} not in {VECTOR_KINDS}")
        if name in self.vectors:
            raise ValueError(f"vector {name!r} defined twice")
        if name in RESERVED_NAMES:
            raise ValueError(f"vector name {name!r} is reserved for the protocol's own polynomials")
        if length < 1:
            raise ValueError(f"vector {name!r} has length {length}")
        self.vectors[name] = Vector(name, length, kind, role, bound)
        return Expr.of(name, length)

    def add_table(self, name: str, kind: str, lo: int, size: int) -> Table:
        if name not in self.tables:
            self.tables[name] = Table(name, len(self.tables) + 1, kind, lo, size)
        return self.tables[name]

    # -- queries ------------------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[Vector]:
        return [v for v in self.vectors.values() if v.kind == kind]

    def public(self, role: str) -> list[Vector]:
        return [v for v in self.vectors.values() if v.kind == "public" and v.role == role]

    def is_hidden(self, name: str) -> bool:
        """Whether vector ``name`` is a hidden fixed vector (weights, kernels, constants, a non-ReLU table column:
        masked in the VK and re-randomised per proof, ``docs/protocol.md`` §7.6)."""
        v = self.vectors[name]
        return v.kind == "fixed" and v.role not in (PARAMETER_FREE, PUBLIC_DATA)

    def public_data(self) -> list[Vector]:
        """The fixed vectors of public data (:data:`PUBLIC_DATA`: a committed test set), in circuit order."""
        return [v for v in self.vectors.values() if v.kind == "fixed" and v.role == PUBLIC_DATA]

    def of_block(self, cls: type) -> list:
        return [c for c in self.constraints if isinstance(c, cls)]

    def check_expr(self, e: Expr, where: str) -> None:
        for t in e.terms:
            v = self.vectors.get(t.vector)
            if v is None:
                raise ValueError(f"{where}: unknown vector {t.vector!r}")
            if v.length + t.shift > e.length:
                raise ValueError(f"{where}: {t.vector} (len {v.length}) shifted by {t.shift} exceeds {e.length}")

    def fixed_vector(self, name: str, length: int, where: str) -> None:
        """Raise ``ValueError`` unless ``name`` is a fixed vector of ``length`` entries."""
        w = self.vectors.get(name)
        if w is None or w.kind != "fixed" or w.length != length:
            raise ValueError(f"{where}: {name!r} must be a fixed vector with {length} entries")

    def check(self) -> None:
        """Structural checks: every referenced vector exists and lengths agree. Raises ``ValueError``."""
        for i, c in enumerate(self.constraints):
            c.check(self, f"constraint {i} ({type(c).__name__} {getattr(c, 'name', '')})")

    # -- serialization ------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "format": CIRCUIT_FORMAT,
            "vectors": [[v.name, v.length, v.kind, v.role, str(v.bound)] for v in self.vectors.values()],
            "tables": [[t.name, t.tag, t.kind, t.lo, t.size] for t in self.tables.values()],
            "constraints": [c.to_json() for c in self.constraints],
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, d: dict, kinds: dict[str, type[Block]]) -> "Circuit":
        """Parse :meth:`to_json` output; ``kinds`` maps block tags to classes (``zkchain.blocks.KINDS``).
        Raises :class:`InputError` for another format, an unknown block or a structurally invalid circuit."""
        if not isinstance(d, dict) or d.get("format") != CIRCUIT_FORMAT:
            raise InputError(f"not a {CIRCUIT_FORMAT} circuit (format={d.get('format') if isinstance(d, dict) else None!r}); "
                             "keys made by another zkchain version: rerun `zkchain setup`")
        c = cls(meta=d.get("meta", {}))
        try:
            for name, length, kind, role, bound in d["vectors"]:
                if name in RESERVED_NAMES:
                    raise InputError(f"circuit uses the reserved vector name {name!r}")
                c.vectors[name] = Vector(name, int(length), kind, role, int(bound))
            for name, tag, kind, lo, size in d["tables"]:
                c.tables[name] = Table(name, int(tag), kind, int(lo), int(size))
            for k in d["constraints"]:
                block = kinds.get(k.get("block"))
                if block is None:
                    raise InputError(f"unknown block {k.get('block')!r} in circuit")
                c.constraints.append(block.from_json(k))
            c.check()
        except InputError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"circuit is malformed: {exc}") from None
        return c

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))


def fr(v: int) -> int:
    """Embed a (signed) Python integer into Fr."""
    return v % R
