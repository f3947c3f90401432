"""The compiled circuit: vectors, linear expressions over them, and the basic-block constraints.

This is what the compiler (``zkchain.compiler.lower``) produces from an integer model and what setup, the
prover and the verifier read. It holds *structure* only; the private fixed values (weights, table outputs)
travel in the proving key, never in the verifying key.

Vectors. Every tensor the proof talks about is flattened row-major into a vector ``v ∈ Fr^N`` held as the
polynomial ``v(X) = Σ_{i<N} v_i X^i`` (coefficient basis, ``docs/protocol.md`` §1). A vector is one of

- ``witness``: committed by the prover (private input, rescale quotients and remainders, table outputs);
- ``public``: its values travel in the proof as public inputs/outputs; the verifier evaluates it itself;
- ``fixed``: committed once at setup; its commitment is in the verifying key (weights, table columns).

Expressions. ``Expr`` is ``Σ_t coef_t · X^{shift_t} · v_t(X) + const · ones_N(X)``, a linear combination of
vectors. Tensors that are linear functions of others (a matmul accumulator, a sum of two tensors, a
concatenation) are never committed: their evaluations follow from their parts.

Constraints (one class per basic block; the protocol of each is in ``zkchain/blocks/``):

- :class:`MatMul`  ``out = x · W`` with ``W`` fixed (``zkchain/blocks/matmul.py``);
- :class:`Lookup`  every ``(in_i, out_i)`` is a row of a table (``zkchain/blocks/lookup.py``);
- :class:`Zero`    a linear expression is the zero vector (``zkchain/blocks/linear.py``);
- :class:`Conv`    2-D convolution / sum pooling with a fixed kernel (``zkchain/blocks/conv.py``);
- :class:`PadZero` the padding cells of a laid-out tensor are zero (``zkchain/blocks/conv.py``);
- :class:`Hadamard` an elementwise product ``out = a ∘ b`` (``zkchain/blocks/hadamard.py``);
- :class:`Pick`    a strided gather of one window tap, for max pooling (``zkchain/blocks/pick.py``).
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, field
from typing import Any

from zkchain.crypto.field import R
from zkchain.errors import InputError

CIRCUIT_FORMAT = "zkchain.circuit.v1"
VECTOR_KINDS = ("witness", "public", "fixed")
RESERVED_NAMES = ("m", "h", "g", "a", "b", "w")  # the prover's own polynomials (zkchain/blocks/protocol.py)


@dataclass(frozen=True)
class Vector:
    """A named vector of ``length`` field elements. ``kind`` is one of :data:`VECTOR_KINDS`.

    ``role`` says where a public vector's values come from: ``"input"`` or ``"output"``; ``bound`` is the
    largest absolute signed value a public vector may carry (the verifier rejects larger ones).
    """

    name: str
    length: int
    kind: str
    role: str = ""
    bound: int = 0


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


@dataclass(frozen=True)
class MatMul:
    """``out[j] = Σ_l x[l]·W[l, j] + bias[j]`` for one row ``x`` of ``k`` entries and ``n`` outputs.

    ``weight`` names a fixed vector of ``(k+1)·n`` entries holding ``W`` column-major with the bias folded in as
    row ``k``: entry ``j·(k+1) + l`` is ``W[l, j]`` for ``l < k`` and ``bias[j]`` for ``l = k``.
    """

    x: Expr
    weight: str
    k: int
    n: int
    out: Expr
    name: str = ""


@dataclass(frozen=True)
class Lookup:
    """Every ``(inp_i, out_i)`` (or ``inp_i`` alone when ``out`` is None) is a row of table ``table``."""

    table: str
    inp: Expr
    out: Expr | None
    name: str = ""


@dataclass(frozen=True)
class Zero:
    """The linear expression ``expr`` is the zero vector (rescale, addition, copy)."""

    expr: Expr
    name: str = ""


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


@dataclass(frozen=True)
class Conv:
    """2-D convolution with fixed kernel: ``out[o,i,j] = bias_o + Σ_{c,u,v} w[o,c,u,v]·x[c, i·sh+u, j·sw+v]``.

    ``x`` lives on ``inp`` (its padding is the convolution's zero padding), ``out`` on ``outp``.
    ``weight`` names the fixed kernel polynomial (``zkchain/blocks/conv.py`` gives its layout). Sum pooling is a
    convolution with a fixed 0/1 kernel."""

    x: Expr
    weight: str
    inp: Grid
    outp: Grid
    OC: int
    kh: int
    kw: int
    sh: int
    sw: int
    out: Expr
    name: str = ""


@dataclass(frozen=True)
class Hadamard:
    """Elementwise product ``out = a ∘ b`` (``zkchain/blocks/hadamard.py``); ``b`` may be a fixed vector."""

    a: Expr
    b: Expr
    out: Expr
    name: str = ""


@dataclass(frozen=True)
class PadZero:
    """The padding cells of ``x`` (laid out on ``grid``) hold ``value`` (0 for a convolution's input, a value
    below every real entry for a max pooling's input)."""

    x: Expr
    grid: Grid
    name: str = ""
    value: int = 0


@dataclass(frozen=True)
class Pick:
    """Strided gather of one window tap: ``out[c,i,j] = x[c, i·sh + u, j·sw + v]`` (``zkchain/blocks/pick.py``)."""

    x: Expr
    inp: Grid
    outp: Grid
    u: int
    v: int
    sh: int
    sw: int
    out: Expr
    name: str = ""


@dataclass(frozen=True)
class Table:
    """A lookup table: rows ``(tag, lo + i, out_i)`` for ``i < size``.

    ``kind == "range"`` has no output column (``out_i = 0``): it proves ``lo ≤ v < lo + size``.
    ``kind == "map"`` has outputs ``values`` (stored in the proving key, committed in the verifying key).
    The tag column and the input column are structured, so the verifier evaluates them in closed form.
    """

    name: str
    tag: int
    kind: str
    lo: int
    size: int


Constraint = MatMul | Lookup | Zero | Conv | PadZero | Hadamard | Pick


@dataclass
class Circuit:
    """Structure of a compiled model. ``fixed_values`` (private) are kept apart by :meth:`to_json`."""

    vectors: dict[str, Vector] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
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

    def lookups(self) -> list[Lookup]:
        return [c for c in self.constraints if isinstance(c, Lookup)]

    def table_layout(self) -> list[tuple[Table, int]]:
        """Tables in tag order with the offset of each in the concatenated table column."""
        out, off = [], 0
        for t in sorted(self.tables.values(), key=lambda t: t.tag):
            out.append((t, off))
            off += t.size
        return out

    def table_length(self) -> int:
        return sum(t.size for t in self.tables.values())

    def lookup_layout(self) -> list[tuple[Lookup, int]]:
        """Lookups in order with the offset of each in the concatenated query vector."""
        out, off = [], 0
        for c in self.lookups():
            out.append((c, off))
            off += c.inp.length
        return out

    def query_length(self) -> int:
        return sum(c.inp.length for c in self.lookups())

    def check(self) -> None:
        """Structural checks: every referenced vector exists and lengths agree. Raises ``ValueError``."""

        def chk(e: Expr, where: str) -> None:
            for t in e.terms:
                v = self.vectors.get(t.vector)
                if v is None:
                    raise ValueError(f"{where}: unknown vector {t.vector!r}")
                if v.length + t.shift > e.length:
                    raise ValueError(f"{where}: {t.vector} (len {v.length}) shifted by {t.shift} exceeds {e.length}")

        for i, c in enumerate(self.constraints):
            where = f"constraint {i} ({type(c).__name__} {c.name})"
            if isinstance(c, MatMul):
                chk(c.x, where)
                chk(c.out, where)
                w = self.vectors.get(c.weight)
                if w is None or w.kind != "fixed" or w.length != (c.k + 1) * c.n:
                    raise ValueError(f"{where}: weight vector must be fixed with (k+1)*n entries")
                if c.x.length != c.k or c.out.length != c.n:
                    raise ValueError(f"{where}: x has {c.x.length} entries (k={c.k}), out {c.out.length} (n={c.n})")
            elif isinstance(c, Lookup):
                chk(c.inp, where)
                if c.table not in self.tables:
                    raise ValueError(f"{where}: unknown table {c.table!r}")
                if c.out is not None:
                    chk(c.out, where)
                    if c.out.length != c.inp.length:
                        raise ValueError(f"{where}: input and output lengths differ")
                if (c.out is None) != (self.tables[c.table].kind == "range"):
                    raise ValueError(f"{where}: range tables take no output, map tables need one")
            elif isinstance(c, Zero):
                chk(c.expr, where)
            elif isinstance(c, Conv):
                chk(c.x, where)
                chk(c.out, where)
                w = self.vectors.get(c.weight)
                from zkchain.blocks.conv import kernel_length

                if w is None or w.kind != "fixed" or w.length != kernel_length(c):
                    raise ValueError(f"{where}: kernel vector must be fixed with {kernel_length(c)} entries")
                if c.x.length != c.inp.size or c.out.length != c.outp.size or c.outp.C != c.OC:
                    raise ValueError(f"{where}: input/output lengths do not match their grids")
                if (c.inp.Hp - c.kh) // c.sh + 1 != c.outp.H or (c.inp.Wp - c.kw) // c.sw + 1 != c.outp.W:
                    raise ValueError(f"{where}: output grid does not match kernel and strides")
            elif isinstance(c, Pick):
                chk(c.x, where)
                chk(c.out, where)
                if c.x.length != c.inp.size or c.out.length != c.outp.size or c.inp.C != c.outp.C:
                    raise ValueError(f"{where}: input/output lengths do not match their grids")
                if (c.outp.H - 1) * c.sh + c.u >= c.inp.Hp or (c.outp.W - 1) * c.sw + c.v >= c.inp.Wp:
                    raise ValueError(f"{where}: tap outside the input grid")
            elif isinstance(c, Hadamard):
                for e in (c.a, c.b, c.out):
                    chk(e, where)
                if not c.a.length == c.b.length == c.out.length:
                    raise ValueError(f"{where}: operand lengths differ")
            elif isinstance(c, PadZero):
                chk(c.x, where)
                if c.x.length != c.grid.size:
                    raise ValueError(f"{where}: vector length does not match its grid")

    # -- serialization ------------------------------------------------------------------------------
    def to_json(self) -> dict:
        def ex(e: Expr | None):
            if e is None:
                return None
            return {"length": e.length, "const": str(e.const),
                    "terms": [[t.vector, str(t.coef), t.shift] for t in e.terms]}

        cons = []
        for c in self.constraints:
            if isinstance(c, MatMul):
                cons.append({"block": "matmul", "name": c.name, "x": ex(c.x), "weight": c.weight,
                             "k": c.k, "n": c.n, "out": ex(c.out)})
            elif isinstance(c, Lookup):
                cons.append({"block": "lookup", "name": c.name, "table": c.table, "inp": ex(c.inp), "out": ex(c.out)})
            elif isinstance(c, Zero):
                cons.append({"block": "zero", "name": c.name, "expr": ex(c.expr)})
            elif isinstance(c, Conv):
                cons.append({"block": "conv", "name": c.name, "x": ex(c.x), "weight": c.weight,
                             "inp": list(astuple(c.inp)), "outp": list(astuple(c.outp)),
                             "kernel": [c.OC, c.kh, c.kw, c.sh, c.sw], "out": ex(c.out)})
            elif isinstance(c, Pick):
                cons.append({"block": "pick", "name": c.name, "x": ex(c.x), "inp": list(astuple(c.inp)),
                             "outp": list(astuple(c.outp)), "tap": [c.u, c.v, c.sh, c.sw], "out": ex(c.out)})
            elif isinstance(c, Hadamard):
                cons.append({"block": "hadamard", "name": c.name, "a": ex(c.a), "b": ex(c.b), "out": ex(c.out)})
            else:
                cons.append({"block": "padzero", "name": c.name, "x": ex(c.x), "grid": list(astuple(c.grid)),
                             "value": str(c.value)})
        return {
            "format": CIRCUIT_FORMAT,
            "vectors": [[v.name, v.length, v.kind, v.role, str(v.bound)] for v in self.vectors.values()],
            "tables": [[t.name, t.tag, t.kind, t.lo, t.size] for t in self.tables.values()],
            "constraints": cons,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, d: dict) -> "Circuit":
        if not isinstance(d, dict) or d.get("format") != CIRCUIT_FORMAT:
            raise InputError(f"not a {CIRCUIT_FORMAT} circuit (format={d.get('format') if isinstance(d, dict) else None!r})")

        def ex(e):
            if e is None:
                return None
            return Expr(int(e["length"]), tuple(Term(t[0], int(t[1]), int(t[2])) for t in e["terms"]), int(e["const"]))

        c = cls(meta=d.get("meta", {}))
        for name, length, kind, role, bound in d["vectors"]:
            if name in RESERVED_NAMES:
                raise InputError(f"circuit uses the reserved vector name {name!r}")
            c.vectors[name] = Vector(name, int(length), kind, role, int(bound))
        for name, tag, kind, lo, size in d["tables"]:
            c.tables[name] = Table(name, int(tag), kind, int(lo), int(size))
        for k in d["constraints"]:
            if k["block"] == "matmul":
                c.constraints.append(MatMul(ex(k["x"]), k["weight"], int(k["k"]), int(k["n"]), ex(k["out"]), k["name"]))
            elif k["block"] == "lookup":
                c.constraints.append(Lookup(k["table"], ex(k["inp"]), ex(k["out"]), k["name"]))
            elif k["block"] == "zero":
                c.constraints.append(Zero(ex(k["expr"]), k["name"]))
            elif k["block"] == "conv":
                oc, kh, kw, sh, sw = (int(v) for v in k["kernel"])
                c.constraints.append(Conv(ex(k["x"]), k["weight"], Grid(*map(int, k["inp"])),
                                          Grid(*map(int, k["outp"])), oc, kh, kw, sh, sw, ex(k["out"]), k["name"]))
            elif k["block"] == "hadamard":
                c.constraints.append(Hadamard(ex(k["a"]), ex(k["b"]), ex(k["out"]), k["name"]))
            elif k["block"] == "padzero":
                c.constraints.append(PadZero(ex(k["x"]), Grid(*map(int, k["grid"])), k["name"], int(k.get("value", 0))))
            elif k["block"] == "pick":
                u, v, sh, sw = (int(t) for t in k["tap"])
                c.constraints.append(Pick(ex(k["x"]), Grid(*map(int, k["inp"])), Grid(*map(int, k["outp"])),
                                          u, v, sh, sw, ex(k["out"]), k["name"]))
            else:
                raise InputError(f"unknown block {k['block']!r} in circuit")
        c.check()
        return c

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))


def fr(v: int) -> int:
    """Embed a (signed) Python integer into Fr."""
    return v % R
