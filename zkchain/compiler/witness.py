"""Witness plan: how each committed or public vector's entries are computed from an executed integer model.

Lowering (``zkchain.compiler.lower``) writes one *recipe* per vector; the plan is data (stored in the proving
key, ``pk.json``), so proving reads it back instead of re-running the lowering, and nothing in it is code.

=============  ===========================================================================================
recipe         entries
=============  ===========================================================================================
``tensor``     a tensor of the executor's witness, laid out on its grid (padding cells hold ``fill``);
               with ``bits > 0`` the limb ``(v >> shift) & (2^bits − 1)`` of each entry (remainder limbs)
``limb``       the limb ``((v − lo) >> shift) & (2^bits − 1)`` of another vector's entries (range checks
               through limbs, ``lower.check_range``)
``tap_diff``   ``y − x_tap`` of a max pooling window tap (``zkchain.blocks.pick``), 0 off the gathered cells
``product``    the entrywise product of two expressions (a max pooling's Hadamard chain)
``selected``   ``Σ_i S_i·x_i`` for selections ``S_i`` of expressions ``x_i`` (a broadcast operand, ``blocks.gather``)
``permuted``   a tensor of the executor's witness with its axes permuted, row-major (a convolution's accumulator
               pixel-major, as the matmul of its patches computes it)
``row_max``    the largest entry of each row of an expression (``cols`` entries a row; the accuracy count)
``argmax``     per row of an expression (``cols`` entries a row): 1 at the largest entry, the lowest index on
               ties, 0 elsewhere (the accuracy count's predicted class)
=============  ===========================================================================================

Entries are signed Python ints (the prover reduces them mod r). A recipe may read only vectors listed before
it; :meth:`WitnessPlan.from_json` checks that, and every name it reads.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from zkchain.blocks.common import expr_values
from zkchain.blocks.pick import Pick
from zkchain.compiler.circuit import Expr, Grid, Selection, decode_field, encode_field
from zkchain.crypto.field import R
from zkchain.errors import InputError


class Recipe:
    """Base of the recipes: a frozen dataclass with a JSON tag ``kind`` and :meth:`values`."""

    kind: ClassVar[str] = ""

    def reads(self) -> list[str]:
        """Vectors (not tensors) this recipe reads."""
        return []

    def values(self, witness: dict, vectors: dict[str, list[int]]) -> list[int]:
        raise NotImplementedError

    def to_json(self) -> dict:
        return {"recipe": self.kind, **{f.name: encode_field(getattr(self, f.name)) for f in dataclasses.fields(self)}}


@dataclass(frozen=True)
class FromTensor(Recipe):
    """A witness tensor on its grid, or one limb of each entry (``bits > 0``)."""

    kind = "tensor"
    tensor: str
    shift: int = 0
    bits: int = 0
    grid: Grid | None = None
    fill: int = 0

    def values(self, witness, vectors):
        arr = np.asarray(witness[self.tensor])
        if self.grid is not None:
            arr = self.grid.embed(arr, self.fill)
        vals = [int(a) for a in arr.reshape(-1).tolist()]
        return vals if self.bits == 0 else [(a >> self.shift) & ((1 << self.bits) - 1) for a in vals]

    def index(self, flat: int) -> int:
        """Vector position of the tensor's row-major entry ``flat``."""
        return flat if self.grid is None else self.grid.flat_index(flat)


@dataclass(frozen=True)
class Limb(Recipe):
    """Limb ``((v − lo) >> shift) & (2^bits − 1)`` of vector ``base``."""

    kind = "limb"
    base: str
    shift: int
    bits: int
    lo: int

    def reads(self):
        return [self.base]

    def values(self, witness, vectors):
        return [((a - self.lo) >> self.shift) & ((1 << self.bits) - 1) for a in vectors[self.base]]


@dataclass(frozen=True)
class TapDiff(Recipe):
    """``d = y − pick(x)`` on the cells the Pick ``(inp, outp, u, v, sh, sw)`` gathers, 0 elsewhere."""

    kind = "tap_diff"
    y: Expr
    x: Expr
    inp: Grid
    outp: Grid
    u: int
    v: int
    sh: int
    sw: int

    def reads(self):
        return self.y.vectors() + self.x.vectors()

    def values(self, witness, vectors):
        yv, xv = expr_values(self.y, vectors.__getitem__), expr_values(self.x, vectors.__getitem__)
        d = [0] * self.outp.size
        for src, dst in Pick(self.x, self.inp, self.outp, self.u, self.v, self.sh, self.sw, self.y).pairs():
            d[dst] = (yv[dst] - xv[src]) % R
        return [a if a <= R // 2 else a - R for a in d]


@dataclass(frozen=True)
class Product(Recipe):
    """Entrywise ``a ∘ b``."""

    kind = "product"
    a: Expr
    b: Expr

    def reads(self):
        return self.a.vectors() + self.b.vectors()

    def values(self, witness, vectors):
        av, bv = expr_values(self.a, vectors.__getitem__), expr_values(self.b, vectors.__getitem__)
        return [x * y for x, y in zip(av, bv)]


@dataclass(frozen=True)
class Selected(Recipe):
    """``out[r] = Σ_i Σ_{m: r_i(m) = r} x_i[e_i(m)]``: what a Gather with these selections proves (``length``
    entries)."""

    kind = "selected"
    x: tuple[Expr, ...]
    sel: tuple[Selection, ...]
    length: int

    def reads(self):
        return [v for e in self.x for v in e.vectors()]

    def values(self, witness, vectors):
        out = [0] * self.length
        for e, s in zip(self.x, self.sel):
            xv = [a if a <= R // 2 else a - R for a in expr_values(e, vectors.__getitem__)]
            src, dst = s.pairs()
            for i, j in zip(src.tolist(), dst.tolist()):
                out[j] += xv[i]
        return out


@dataclass(frozen=True)
class Permuted(Recipe):
    """``witness[tensor].transpose(perm)``, row-major."""

    kind = "permuted"
    tensor: str
    perm: tuple[int, ...]

    def values(self, witness, vectors):
        return [int(a) for a in np.asarray(witness[self.tensor]).transpose(self.perm).reshape(-1).tolist()]


def _signed(a: int) -> int:
    return a if a <= R // 2 else a - R


@dataclass(frozen=True)
class RowMax(Recipe):
    """``out[i] = max_j x[i·cols + j]`` (signed entries)."""

    kind = "row_max"
    x: Expr
    cols: int

    def reads(self):
        return self.x.vectors()

    def values(self, witness, vectors):
        xv = [_signed(a) for a in expr_values(self.x, vectors.__getitem__)]
        return [max(xv[i:i + self.cols]) for i in range(0, len(xv), self.cols)]


@dataclass(frozen=True)
class Argmax(Recipe):
    """``out[i·cols + j] = 1`` for ``j`` the first largest entry of row ``i`` of ``x``, else 0."""

    kind = "argmax"
    x: Expr
    cols: int

    def reads(self):
        return self.x.vectors()

    def values(self, witness, vectors):
        xv = [_signed(a) for a in expr_values(self.x, vectors.__getitem__)]
        out = []
        for i in range(0, len(xv), self.cols):
            row = xv[i:i + self.cols]
            top = row.index(max(row))
            out += [int(j == top) for j in range(self.cols)]
        return out


RECIPES: dict[str, type[Recipe]] = {r.kind: r for r in (FromTensor, Limb, TapDiff, Product, Selected, Permuted, RowMax,
                                                         Argmax)}


@dataclass
class WitnessPlan:
    """Vector name → recipe, in dependency order (a recipe reads only vectors before it)."""

    recipes: dict[str, Recipe] = dataclasses.field(default_factory=dict)

    def vector_values(self, witness: dict, given: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
        """Every vector's entries (signed ints, on their grids) from an executor witness (tensor → array).
        ``given``: the entries of vectors the plan reads but does not compute (the public-data fixed vectors of an
        accuracy circuit, ``zkchain.compiler.accuracy``); they are not returned."""
        out: dict[str, list[int]] = dict(given or {})
        for name, r in self.recipes.items():
            out[name] = r.values(witness, out)
        return {n: v for n, v in out.items() if n in self.recipes}

    def tensor_of(self, vector: str) -> FromTensor | None:
        """The tensor recipe of ``vector`` (None for a derived vector)."""
        r = self.recipes.get(vector)
        return r if isinstance(r, FromTensor) else None

    def to_json(self) -> list:
        return [{"vector": n, **r.to_json()} for n, r in self.recipes.items()]

    @classmethod
    def from_json(cls, items: list, given=()) -> "WitnessPlan":
        """Raises :class:`InputError` for an unknown recipe, a missing field, or a recipe reading a vector that
        is neither defined before it nor ``given`` (see :meth:`vector_values`)."""
        plan = cls()
        try:
            for d in items:
                rc = RECIPES.get(d.get("recipe"))
                if rc is None:
                    raise InputError(f"witness plan: unknown recipe {d.get('recipe')!r}")
                hints = typing.get_type_hints(rc)
                kwargs = {f.name: decode_field(hints[f.name])(d[f.name])
                          for f in dataclasses.fields(rc) if f.name in d}
                r = rc(**kwargs)
                missing = [v for v in r.reads() if v not in plan.recipes and v not in given]
                if missing:
                    raise InputError(f"witness plan: {d['vector']!r} reads {missing} before they are defined")
                plan.recipes[str(d["vector"])] = r
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"witness plan is corrupt: {exc!r}") from None
        return plan
