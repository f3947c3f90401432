"""Lowering: integer model (``zkchain.quant``) → circuit of basic blocks (``zkchain.compiler.circuit``).

One table says how each integer primitive becomes blocks (tinygrad style: find an op with one grep):

==============  ==========================================================================================
primitive       blocks
==============  ==========================================================================================
``linear``      MatMul with the weights (bias folded) as a fixed vector; its accumulator is *not* committed
                when a ``rescale`` consumes it: it becomes the expression ``(2^s·q + rem − 2^(s−1))/M``.
                Every axis but the last is a row: over several rows the input is one committed vector (a copy
                and a Zero when it is an expression or public) and a public output is read through a copy
``rescale``     quotient ``q`` and the remainder's 8-bit limbs committed; Lookups ``limb ∈ [0, 2^8)``; a Zero
                constraint only when the input is not a pending matmul accumulator
``table``       output committed; Lookup ``(x, y)`` in the map table (also range-checks ``x``)
``add/sub``     expression (no commitment, no constraint); an operand of another shape is broadcast first
                (numpy rules): a committed copy tied to it by a Gather (``Selection.broadcast``)
``add_const``   expression; a per-entry constant is a hidden fixed vector term, folded into the bias of a
                matmul that reads it, and committed (a witness and a Zero) before any other block that lays the
                expression out (``docs/protocol.md`` §7.8)
``mul_const``   expression for a scalar; Hadamard with a fixed vector for a per-entry constant
``mul``         Hadamard of the two operands (broadcast as for ``add``); its product is not committed when a
                rescale consumes it
``conv2d``      Conv with the kernel (bias on a ones channel) as a fixed vector; accumulator as for ``linear``;
                patches × weights (a Gather and a multi-row MatMul) for many channels or a batch of images
``sumpool``     Conv with a fixed 0/1 depthwise kernel (average pooling = sumpool + rescale); over a batch of
                images a Gather whose selection sums each window
``sum``         over the spatial axes of (N, C, H, W): a sumpool with an H×W window (global average pooling); over
                any other axes: a Gather whose selection sums (``Selection.reduce``), not committed when a
                rescale consumes it (ReduceMean is one Gather claim and a rescale)
``transpose``   Gather with a permuting selection (``Selection.transpose``); output committed
``concat``      Gather with one placing selection per input (``Selection.place``); output committed
``take``        Gather with one selection per constant index (``Selection.take``, all reading ``x``); output
                committed (ONNX Gather with constant indices)
``slice``       Gather with a strided selection (``Selection.slice``; Split is one slice per output); output
                committed
``maxpool``     output ``y`` committed; per window tap a Pick of ``x`` and a committed ``d = y − x_tap`` range-checked
                ``≥ 0``; a Hadamard chain proves ``Π d = 0`` (``y`` equals one tap); padding holds a value below
                every real entry (the input's is set by PadZero, after a ReLU table it is 0)
``max``         along one axis (ReduceMax, a softmax's row maximum): output committed; per position ``j`` along
                the axis a Gather takes ``x_j`` into ``y − d_j`` with ``d_j`` committed and range-checked ``≥ 0``,
                and a Hadamard chain proves ``Π d_j = 0``, as for ``maxpool``
``reshape``     alias (row-major order is unchanged)

Each row is one rule: a small function registered with ``@rule("kind")`` in :data:`RULES` and written with the
methods of :class:`Lowering` (``expr``, ``operand``, ``committed``, ``broadcast``, ``new_vector``, ``check_range``,
``remainder``, ``zero_product``); :func:`lower` lowers the input, runs the rules in the model's order and
``finish``-es (outputs, range checks, weight packing). :data:`PROVABLE` is the registry's keys.

Movement ops (transpose, concat, a non-spatial sum) read and write plain row-major vectors: a tensor a
convolution reads on a padded grid cannot be moved yet, and the compiler says so.

With a committed test set (``lower(model, test_set=...)``, ``zkchain setup --dataset``) the input is the test set as
public data, the logits stay committed, and ``zkchain.compiler.accuracy.lower_accuracy`` appends the count of
correct samples (the predicted class as a one-hot with no gap to the row maximum, met with the one-hot labels;
``docs/protocol.md`` §5.11) as the one public output.
==============  ==========================================================================================

Grids. A convolution reads its input on a padded grid (``zkchain.compiler.circuit.Grid``). Elementwise ops
(rescale, table, add, ...) keep their operands on one grid, so the grid a convolution needs is pushed back
through the elementwise chain to whoever produced it: a previous convolution writes its output straight onto
it, and a padded model input gets a PadZero constraint. Padding cells hold the value the chain maps 0 to
(0 after a convolution, ``2^(s−1)`` for a rescale remainder, ``T(0)`` after a table), which every
relation accepts; a convolution refuses to read padding that is not 0.

Every other primitive is reported (with its ONNX node) as not yet provable. Quotients that no lookup reads
get a range check over their calibrated bound, the private input a range check over its quantized range, so
every committed value is a small integer and the field relations are the integer relations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from zkchain.blocks import Conv, Gather, Hadamard, Lookup, MatMul, MatProduct, PadZero, Pick, Zero
from zkchain.blocks.common import RESERVED_SPAN
from zkchain.blocks.lookup import TABLE_OUT, table_layout
from zkchain.blocks.matmul import row_stride, weight_vector
from zkchain.compiler.circuit import (PARAMETER_FREE, PUBLIC_DATA, RESERVED_NAMES, Circuit, Expr, Grid, Selection,
                                      Term)
from zkchain.compiler.witness import FromTensor, Limb, Permuted, Product, Recipe, Selected, TapDiff, WitnessPlan
from zkchain.crypto.field import R, inv
from zkchain.errors import UnsupportedModelError
from zkchain.quant.primitives import IntOp

MOVEMENT = ("transpose", "concat", "slice", "take", "expand", "tile", "pad", "upsample", "trilu")  # with a non-spatial sum: Gather blocks over plain row-major vectors
ELEMENTWISE = ("rescale", "table", "add", "sub", "add_const", "mul_const", "mul")
RANGE_HEADROOM = 2  # range checks of values no lookup bounds cover twice the calibrated bound
LIMB_BITS = 8  # remainders are committed as 8-bit limbs so every range table stays ≤ 256 rows
MAX_DIRECT_RANGE = 1 << 12  # a value range this small is checked with one table; larger ones through limbs


def _spatial_sum(op, model) -> bool:
    """A sum over the spatial axes of an (N, C, H, W) tensor (global average pooling), proved as a sum pooling."""
    shape = model.tensors[op.inputs[0]].shape
    return (op.kind == "sum" and len(shape) == 4
            and sorted(int(a) % 4 for a in op.params.get("axes", [])) == [2, 3])


def _row_major_reader(op, model) -> bool:
    """Does ``op`` read its inputs in plain row-major order (so no padded grid)?"""
    return (op.kind in ("linear", "matmul", "reshape", "max") + MOVEMENT or op.kind not in PROVABLE
            or (op.kind == "sum" and not _spatial_sum(op, model)))


@dataclass
class _Pending:
    """A matmul or convolution whose accumulator has not been given an expression yet: ``make(out)`` builds
    its constraint once the accumulator's expression is known."""

    make: object
    length: int
    rows: int = 1  # a matmul over several rows reads its accumulator's terms as committed vectors


@dataclass
class Compiled:
    """The circuit, the private fixed values, and the witness plan (how each vector is read from a witness)."""

    circuit: Circuit
    fixed_values: dict[str, list[int]]
    witness: WitnessPlan

    def vector_values(self, witness) -> dict[str, list[int]]:
        """Witness/public vector entries (signed ints, laid out on their grids) from an executor witness."""
        data = {v.name: self.fixed_values[v.name] for v in self.circuit.public_data()}
        return self.witness.vector_values(witness, data)


def _vec_name(tensor: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", tensor)
    return name + "_" if name in RESERVED_NAMES else name


def _pow2_at_least(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


def _plan_grids(model) -> tuple[dict[str, Grid], dict[str, Grid]]:
    """The grid of every (N, C, H, W) tensor, and the grid each convolution, pooling or spatial sum reads its input
    on (by the op's output tensor). The N images of a batch (the row axis) lie one after another: ``N·C`` planes, so
    elementwise blocks, padding pins and max-pooling taps, which act plane by plane, need nothing new; a convolution
    over ``N > 1`` images is lowered as patches × weights (its rows are the N images' output pixels) and a pooling
    sum as a Gather.

    A tensor and the elementwise chain it belongs to lie on the padded grid their convolution reads, so the padding
    costs nothing; when the chain is also read in row-major order (a Flatten, a matmul), written by a movement
    Gather (a Concat, a Pad, an Upsample) or a reshape, or read by two convolutions with different paddings, it
    stays plain and each padded reader gets a copy (a Gather, §5.9; ``Lowering.on_grid``).
    A max pooling reads padding as "never wins", which a zero-padded copy cannot promise: such a conflict is
    refused, naming the node."""
    parent: dict[str, str] = {}

    def find(t: str) -> str:
        while parent.get(t, t) != t:
            t = parent[t]
        return t

    for op in model.ops:
        if op.kind in ELEMENTWISE:
            members = op.inputs + (op.outputs if op.kind == "rescale" else op.outputs[:1])  # not a table's idx
            # a broadcast operand (another shape) is read through a Gather, not laid out on the result's grid
            members = [t for t in members if tuple(model.tensors[t].shape) == tuple(model.tensors[op.outputs[0]].shape)]
            for t in members[1:]:
                a, b = find(members[0]), find(t)
                if a != b:
                    parent[b] = a
    reads: dict[str, Grid] = {}
    wants: dict[str, list[tuple[Grid, object]]] = {}
    for op in model.ops:
        if op.kind not in ("conv2d", "sumpool", "maxpool") and not _spatial_sum(op, model):
            continue
        x = op.inputs[0]
        shape = model.tensors[x].shape
        if len(shape) != 4:
            raise UnsupportedModelError(f"{op.kind} {op.source}: input must be (N, C, H, W), got {list(shape)}")
        N, C, H, W = shape
        t, l, b, r = (int(v) for v in op.params.get("pads", [0, 0, 0, 0]))
        g = Grid(N * C, H, W, H + t + b, W + l + r, t, l)
        reads[op.outputs[0]] = g
        wants.setdefault(find(x), []).append((g, op))
    row_major = {find(x) for op in model.ops if _row_major_reader(op, model) for x in op.inputs}
    # a Gather writes row-major, and a reshape is its input relabelled (plain too)
    row_major |= {find(y) for op in model.ops if op.kind in MOVEMENT + ("reshape",) for y in op.outputs}
    need: dict[str, Grid] = {}
    for root, gs in wants.items():
        padded = {g for g, _ in gs if g.padded}
        if len(padded) == 1 and root not in row_major:
            need[root] = padded.pop()  # the chain lies on its one padded grid
            continue
        for g, op in gs:  # plain; a padded reader gets a zero-padded copy, which a max pooling cannot use
            if g.padded and op.kind == "maxpool":
                why = ("read in row-major order too" if root in row_major else "read with two different paddings")
                raise UnsupportedModelError(f"maxpool {op.source}: its input {op.inputs[0]} is {why}; a max pooling "
                                            "over a padded copy is not provable yet")
    grids = {}
    for name, t in model.tensors.items():
        if len(t.shape) == 4:  # N images (the batch, the row axis) of C channels: N·C planes, image-major
            N, C, H, W = t.shape
            grids[name] = need.get(find(name), Grid(N * C, H, W, H, W))
    return grids, reads


class Lowering:
    """The state one lowering shares between its rules (:data:`RULES`): the circuit being built, the private
    fixed values, the witness recipes, each tensor's expression, grid and padding value, the accumulators
    not yet given an expression (``pending``) and the tensors whose range a lookup already proves. The
    methods are the vocabulary the rules are written in."""

    def __init__(self, model, test_set=None) -> None:
        self.model = model
        self.test_set = test_set  # a committed test set (zkchain.compiler.accuracy.LabelledSet): prove the accuracy
        self.c = Circuit(meta={"model": model.info.get("model", ""), "input": model.input_name,
                               "outputs": list(model.output_names), "output_scales": {}})
        if int(model.info.get("batch", 1)) > 1:  # samples per proof (compile --batch): outputs are per-sample rows
            self.c.meta["batch"] = int(model.info["batch"])
        self.fixed: dict[str, list[int]] = {}
        self.sources: dict[str, Recipe] = {}
        self.exprs: dict[str, Expr] = {}
        self.grids, self.reads = _plan_grids(model)  # each tensor's layout; the grid each spatial op reads
        self.fill: dict[str, int] = {model.input_name: 0}  # value of each tensor's padding cells
        self.pending: dict[str, _Pending] = {}
        self.outputs = set(model.output_names) if test_set is None else set()  # the logits stay private then
        self.looked_up: set[str] = set()  # tensors whose range a lookup already proves
        self.table_values: dict[str, np.ndarray] = {}

    def size(self, t: str) -> int:
        g = self.grids.get(t)
        return g.size if g is not None else int(np.prod(self.model.tensors[t].shape))

    def source(self, t: str, shift: int = 0, bits: int = 0) -> FromTensor:
        return FromTensor(t, shift, bits, self.grids.get(t), self.fill.get(t, 0))

    def new_vector(self, t: str, kind_hint: str = "witness") -> Expr:
        name = _vec_name(t)
        n = self.size(t)
        if t in self.outputs:
            e = self.c.add_vector(name, n, "public", "output", bound=2**62)
        else:
            e = self.c.add_vector(name, n, kind_hint)
        self.sources[name] = self.source(t)
        self.exprs[t] = e
        return e

    def range_check(self, t: str, e: Expr, lo: int, size_: int) -> None:
        tab = self.c.add_table(f"range[{lo},{lo + size_})", "range", lo, size_)
        self.c.constraints.append(Lookup(tab.name, e, None, f"range {t}"))

    def check_range(self, vname: str, length: int, lo: int, size_: int) -> None:
        """``lo ≤ v < lo + size`` for committed vector ``vname``: one table when small, else 8-bit limbs of
        ``v − lo`` (committed, each range-checked) tied to ``v`` by a Zero constraint."""
        e = Expr.of(vname, length)
        if size_ <= MAX_DIRECT_RANGE:
            self.range_check(vname, e, lo, size_)
            return
        bits = (size_ - 1).bit_length()
        terms = []
        for i, lo_bit in enumerate(range(0, bits, LIMB_BITS)):
            lb = min(LIMB_BITS, bits - lo_bit)
            name = f"{vname}.limb{i}"
            le = self.c.add_vector(name, length, "witness")
            self.sources[name] = Limb(vname, lo_bit, lb, lo)
            self.range_check(name, le, 0, 1 << lb)
            terms.append(Term(name, 1 << lo_bit))
        # v − lo − Σ 2^(8i)·limb_i = 0
        self.c.constraints.append(Zero(Expr(length, (Term(vname),) + tuple(Term(tm.vector, -tm.coef % R) for tm in terms),
                                       -lo % R), f"range {vname}"))

    def remainder(self, t: str, s: int) -> Expr:
        """Commit ``rem ∈ [0, 2^s)`` as limbs of LIMB_BITS bits, each range-checked; return ``Σ 2^(8i)·limb_i``."""
        n, terms = self.size(t), []
        for i, lo_bit in enumerate(range(0, s, LIMB_BITS)):
            bits = min(LIMB_BITS, s - lo_bit)
            name = f"{_vec_name(t)}.{i}"
            e = self.c.add_vector(name, n, "witness")
            self.sources[name] = self.source(t, lo_bit, bits)
            self.range_check(name, e, 0, 1 << bits)
            terms.append(Term(name, 1 << lo_bit))
        self.looked_up.add(t)
        return Expr(n, tuple(terms))

    def expr(self, t: str) -> Expr:
        if t in self.pending:  # an accumulator read by something other than a rescale: commit it
            p = self.pending.pop(t)
            if p.rows > 1 and t in self.outputs:  # not as the public vector: the rows claim reads committed terms
                name = _vec_name(t) + ".acc"
                e = self.c.add_vector(name, self.size(t), "witness")
                self.sources[name] = self.source(t)
                self.exprs[t] = e
            else:
                e = self.new_vector(t)
            self.c.constraints.append(p.make(e))
            return e
        return self.exprs[t]

    def operand(self, t: str) -> Expr:
        """``expr(t)`` for an operand a block lays out (conv input, lookup query, Hadamard side, pick source).
        An expression holding a hidden fixed vector (a per-entry constant added on the way) is committed as a
        witness vector of its own, tied to the expression by a Zero relation, which reads data only: a hidden
        vector's free mask coefficients must never meet another operand's coefficients (``docs/protocol.md``
        §7.8; the schedule refuses any circuit where they would)."""
        e = self.expr(t)
        if not hidden_terms(self.c, e):
            return e
        v = self.new_vector(t)
        self.c.constraints.append(Zero(Expr(e.length, v.terms + tuple(Term(tm.vector, -tm.coef % R, tm.shift)
                                                                 for tm in e.terms), -e.const % R),
                                  f"materialise {t}"))
        self.looked_up.add(t)  # bounded terms plus a constant: bounded, so no range check of its own
        return v

    def on_grid(self, t: str, g: Grid) -> Expr:
        """:meth:`operand` ``t`` laid out on grid ``g``: itself when that is its layout, else a committed copy placed
        by a Gather (``Grid.copy_to``, §5.9), zero on ``g``'s padding cells — for a convolution reading a tensor that
        is also read in row-major order or with another padding (``_plan_grids``). One copy per tensor and grid."""
        if self.grids[t] == g:
            return self.operand(t)
        name = f"{_vec_name(t)}.grid{g.Hp}x{g.Wp}+{g.top}+{g.left}"
        if name not in self.c.vectors:
            src, sel = self.operand(t), self.grids[t].copy_to(g)
            e = self.c.add_vector(name, g.size, "witness")
            self.sources[name] = Selected((src,), (sel,), g.size)
            self.c.constraints.append(Gather((src,), (sel,), e, f"{t}: onto a {g.Hp}x{g.Wp} grid"))
        return Expr.of(name, g.size)

    def committed(self, t: str, data_ok: bool = False) -> Expr:
        """``expr(t)`` as one whole committed witness vector: itself, or a copy tied to the expression by a Zero
        relation (a matmul over several rows folds the rows of one committed vector, ``docs/protocol.md`` §5.1).
        ``data_ok``: a public-data vector (a committed test set, in the VK) is taken as it is (a block that reads
        it whole, as the row-fold matmul does; ``docs/protocol.md`` §5.11)."""
        e = self.expr(t)
        v0 = self.c.vectors[e.terms[0].vector] if len(e.terms) == 1 else None
        if (v0 is not None and not e.const % R and not e.terms[0].shift and e.terms[0].coef % R == 1
                and (v0.kind == "witness" or (data_ok and v0.role == PUBLIC_DATA)) and v0.length == e.length):
            return e
        name = _vec_name(t) + (".copy" if _vec_name(t) in self.c.vectors else "")
        v = self.c.add_vector(name, e.length, "witness")
        self.sources[name] = self.source(t)
        self.c.constraints.append(Zero(Expr(e.length, v.terms + tuple(Term(tm.vector, -tm.coef % R, tm.shift)
                                                                 for tm in e.terms), -e.const % R), f"materialise {t}"))
        self.exprs[t] = v
        self.looked_up.add(t)  # equal to bounded terms
        return v

    def checked_half(self, t: str) -> int:
        """``h`` of the range check ``[−h, h)`` that :meth:`finish` gives a committed tensor no lookup bounds:
        the smallest power of two above :data:`RANGE_HEADROOM` times its calibrated bound."""
        return _pow2_at_least(RANGE_HEADROOM * max(1, self.model.tensors[t].bound) + 1)

    def refuse_padded(self, where: str, *tensors: str) -> None:
        """Movement (a Gather) reads and writes plain row-major vectors: refuse a tensor laid out on a
        convolution's padded grid, naming the node."""
        for t in tensors:
            if t in self.grids and self.grids[t].padded:
                raise UnsupportedModelError(f"{where}: {t} is laid out on a convolution's padded grid; moving padded "
                                            "data is not provable yet")

    def broadcast(self, t: str, out: str, where: str, laid_out: bool = False) -> Expr:
        """``expr(t)`` (``operand(t)`` if ``laid_out``) when ``t`` has ``out``'s shape; else ``t`` broadcast to it
        (numpy rules): a committed vector tied to ``t`` by a Gather whose selection repeats the size-1 axes
        (``Selection.broadcast``)."""
        shape, oshape = tuple(self.model.tensors[t].shape), tuple(self.model.tensors[out].shape)
        full = (1,) * (len(oshape) - len(shape)) + shape
        if full == oshape:
            return self.operand(t) if laid_out else self.expr(t)
        self.refuse_padded(where, t, out)
        try:
            sel = Selection.broadcast(full, oshape)
        except ValueError as exc:
            raise UnsupportedModelError(f"{where}: {exc}") from None
        x = self.operand(t)
        name = f"{_vec_name(t)}.bcast{len(self.c.vectors)}"
        v = self.c.add_vector(name, self.size(out), "witness")
        self.sources[name] = Selected((x,), (sel,), self.size(out))
        self.c.constraints.append(Gather((x,), (sel,), v, f"{where} broadcast {t}"))
        return v

    def zero_product(self, ds: list[Expr], yt: str, length: int, name: str) -> None:
        """``Π_w d_w = 0`` with at least two factors: ``e_1 = d_0·d_1``, ``e_k = e_(k−1)·d_(k+1)``, the last product
        the zero vector. Each ``d_w`` is range-checked to ``[0, 4·xbound)``, so ``d_w = 0`` in Fr means ``d_w = 0``,
        and a product of field elements is 0 iff a factor is (no bound on the products is needed)."""
        assert len(ds) >= 2, "a product chain needs two factors"
        acc = ds[0]
        for i, d in enumerate(ds[1:]):
            if i == len(ds) - 2:
                out = Expr(length, ())
            else:
                ename = f"{_vec_name(yt)}.prod{i}"
                out = self.c.add_vector(ename, length, "witness")
                self.sources[ename] = Product(acc, d)
            self.c.constraints.append(Hadamard(acc, d, out, name))
            acc = out

    def max_along(self, xe: Expr, shape, axis: int, ye: Expr, prefix: str, span: int, where: str) -> None:
        """``y = max(x, axis)`` for committed ``y`` (``ye``) and ``x`` (``xe``, row-major of ``shape``): per position
        ``j`` along the axis a Gather takes ``x_j`` into ``y − d_j``, the committed ``d_j`` (``prefix.d<j>``) is
        range-checked to ``[0, span)`` and a Hadamard chain proves ``Π d_j = 0`` (``docs/protocol.md`` §5.9; the
        ``max`` rule and the accuracy count's row maximum). ``span`` must exceed ``max x − min x``."""
        n_out = ye.length
        neg_x = Expr(xe.length, tuple(Term(t.vector, -t.coef % R, t.shift) for t in xe.terms), -xe.const % R)
        ds = []
        for j in range(shape[axis]):
            tap = Selection.take(shape, axis, j)
            dname = f"{prefix}.d{j}"
            de = self.c.add_vector(dname, n_out, "witness")
            self.sources[dname] = Selected((ye, neg_x), (Selection.identity(n_out), tap), n_out)
            diff = Expr(n_out, ye.terms + (Term(dname, R - 1),), ye.const)
            self.c.constraints.append(Gather((xe,), (tap,), diff, f"{where} entry {j}"))
            self.check_range(dname, n_out, 0, span)
            ds.append(de)
        self.zero_product(ds, prefix, n_out, f"{where} max")

    def lower_input(self, public_input: bool) -> None:
        """The model input: a public vector (bounded by the verifier) or a committed, range-checked witness;
        a padded grid gets PadZero."""
        xin = self.model.input_name
        bound = max(1, self.model.tensors[xin].bound)
        half = _pow2_at_least(bound + 1)
        g = self.grids.get(xin)
        if g is not None and g.padded and any(op.kind == "maxpool" and op.inputs[0] == xin for op in self.model.ops):
            self.fill[xin] = -half  # a max pooling reads padding as "never wins": the smallest value in range
        if self.test_set is not None:  # the committed test set: public data, fixed in the verifying key
            from zkchain.compiler.accuracy import DATASET, dataset_vector

            self.exprs[xin] = self.c.add_vector(DATASET, self.size(xin), "fixed", PUBLIC_DATA)
            self.fixed[DATASET] = dataset_vector(self.test_set.x_int, g if g is not None and g.padded else None,
                                                 self.fill[xin])  # padding cells as committed: no PadZero needed
            return
        if public_input:
            # the verifier bounds a public input to |x| ≤ half: every real entry is ≥ −half, the padding value a
            # max pooling relies on, and its values are as small as a range-checked private input's
            e = self.c.add_vector(_vec_name(xin), self.size(xin), "public", "input", bound=half)
            self.sources[_vec_name(xin)] = self.source(xin)
            self.exprs[xin] = e
        else:
            e = self.new_vector(xin)
            self.range_check(xin, e, -half, 2 * half)
            self.looked_up.add(xin)
        if g is not None and g.padded:
            self.sources[_vec_name(xin)] = self.source(xin)  # with the padding value set above
            self.c.constraints.append(PadZero(e, g, "input padding", self.fill[xin] % R))

    def finish(self) -> Compiled:
        """Bind the outputs, range-check what no lookup bounds, pack the weights, add the map tables' output
        column; check the circuit."""
        if self.test_set is not None:  # the public output is the count of correct samples, not the logits
            from zkchain.compiler.accuracy import lower_accuracy

            lower_accuracy(self, self.test_set)
        # Outputs that are expressions (not committed): bind them to a public vector with a Zero constraint.
        for o in (self.model.output_names if self.test_set is None else []):
            if o in self.pending:
                self.expr(o)
            e = self.exprs[o]
            if not (len(e.terms) == 1 and e.terms[0].vector == _vec_name(o) and e.const == 0):
                pub = self.c.add_vector(_vec_name(o) + ".out", self.size(o), "public", "output", bound=2**62)
                self.sources[_vec_name(o) + ".out"] = self.source(o)
                self.c.constraints.append(Zero(Expr(e.length, e.terms + (Term(pub.terms[0].vector, R - 1),), e.const), f"output {o}"))

        # Public outputs dequantize with their tensor's scale (proof.json's outputs_float is derived from these).
        for v in self.c.public("output"):
            if not isinstance(self.sources[v.name], FromTensor):
                continue  # a count (the accuracy proof's), not a tensor: no scale
            t = self.sources[v.name].tensor
            self.c.meta["output_scales"][v.name] = float(self.model.tensors[t].scale)

        # Committed values no lookup reads (quotients feeding another rescale, accumulators): range-check them over
        # RANGE_HEADROOM times their calibrated bound (a calibration set is a sample: a LayerNorm variance of a test
        # input may pass the calibration maximum; every bound stays far below the accumulator limit compile checks).
        for v in list(self.c.vectors.values()):
            src = self.sources.get(v.name)
            if v.kind != "witness" or not isinstance(src, FromTensor) or src.tensor in self.looked_up:
                continue
            t = src.tensor
            half = self.checked_half(t)
            self.check_range(v.name, v.length, -half, 2 * half)

        _drop_unread_fixed(self.c, self.fixed)  # a constant folded into every bias that read it
        _pack_weights(self.c, self.fixed)

        # The map tables' output column.
        if any(t.kind == "map" for t in self.c.tables.values()):
            col = []
            for t, _ in table_layout(self.c):
                col += [int(v) for v in self.table_values[t.name]] if t.kind == "map" else [0] * t.size
            # ReLU tables are max(v, 0) over their rows: with nothing else in the column it is not hidden
            relu_only = all(t.kind != "map" or _is_relu(t, self.table_values[t.name]) for t in self.c.tables.values())
            self.c.add_vector(TABLE_OUT, len(col), "fixed", role=PARAMETER_FREE if relu_only else "")
            self.fixed[TABLE_OUT] = [v % R for v in col]
        self.c.check()
        return Compiled(self.c, self.fixed, WitnessPlan(self.sources))


#: integer primitive -> its lowering rule (one small function each; the table at the top of this module)
RULES: dict[str, Callable[[Lowering, IntOp], None]] = {}


def rule(*kinds: str):
    """Register the decorated function as the lowering rule of ``kinds``."""

    def add(fn):
        for k in kinds:
            RULES[k] = fn
        return fn

    return add


@rule("linear")
def _linear(L: Lowering, op: IntOp) -> None:
    """MatMul with the weights (bias folded) as a fixed vector; over several rows the rows fold (§5.1)."""
    k = op.kind
    W = np.asarray(op.params["W"]).astype(object)
    kk, n = W.shape
    shape = list(L.model.tensors[op.inputs[0]].shape)
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    if rows > 1:  # Y[T×n] = X[T×k]·W + b: the weights once, the rows folded (docs/protocol.md §5.1)
        x = L.committed(op.inputs[0], data_ok=True)
        wname = f"W.{len(L.fixed)}.{_vec_name(op.outputs[0])}"
        L.c.add_vector(wname, row_stride(kk) * n, "fixed")
        L.fixed[wname] = weight_vector(W.tolist(), [int(v) for v in np.asarray(op.params["bias"]).reshape(-1)])
        L.pending[op.outputs[0]] = _Pending(
            lambda out, x=x, wname=wname, kk=kk, n=n, rows=rows, nm=op.source or op.outputs[0]:
            MatMul(x, wname, kk, n, out, nm, rows=rows), rows * n, rows)
        return
    # (x + C)·W + b = x·W + (C·W + b): a hidden constant in the input goes into the bias (exact over the
    # integers), so the matmul's x holds no hidden vector (docs/protocol.md §7.8)
    x, bias = fold_into_bias(L.c, L.expr(op.inputs[0]), L.fixed, W, np.asarray(op.params["bias"]).reshape(-1))
    wname = f"W.{len(L.fixed)}.{_vec_name(op.outputs[0])}"
    L.c.add_vector(wname, row_stride(kk) * n, "fixed")
    L.fixed[wname] = weight_vector(W.tolist(), bias)
    L.pending[op.outputs[0]] = _Pending(
        lambda out, x=x, wname=wname, kk=kk, n=n, nm=op.source or op.outputs[0]: MatMul(x, wname, kk, n, out, nm),
        n)


@rule("conv2d", "sumpool")
def _conv(L: Lowering, op: IntOp) -> None:
    """Conv with the kernel (or a sum-pool kernel) as a fixed vector; its accumulator pending (§5.6)."""
    k = op.kind
    xt, yt = op.inputs[0], op.outputs[0]
    gin, gout = L.reads[yt], L.grids[yt]
    if L.grids[xt] == gin and L.fill.get(xt, 0) != 0 and gin.padded:
        raise UnsupportedModelError(f"{k} {op.source}: its input's padding would not be zero")
    x = L.on_grid(xt, gin)
    images = int(L.model.tensors[xt].shape[0])
    if k == "conv2d":
        if int(op.params.get("group", 1)) != 1:
            raise UnsupportedModelError(f"conv2d {op.source}: grouped convolutions are not provable yet")
        w = np.asarray(op.params["W"]).astype(object)
        bias = [int(v) for v in np.asarray(op.params["bias"]).reshape(-1)]
        OC, _, kh, kw = w.shape
    else:
        if k == "sum":
            kh, kw = gin.H, gin.W
        else:
            kh, kw = (int(v) for v in op.params["kernel"])
        OC = gin.C
    sh, sw = (int(v) for v in op.params.get("strides", [1, 1]))
    if k == "conv2d" and _conv_as_patches(L, op, x, w, bias, gin, gout, sh, sw, images):
        return
    kname = f"K.{len(L.fixed)}.{_vec_name(yt)}"
    proto = Conv(x, kname, gin, gout, int(OC), int(kh), int(kw), sh, sw, Expr.of(kname, 1), op.source or yt)
    # over a batch the Conv block's kernel would mix the images' planes; a sum pool over many channels would need
    # a diagonal kernel of ~C²·Hp·Wp coefficients (fr_age's global average pooling: 4.5M): each window is summed
    # by a Gather (§5.9) instead, whose selection is no vector at all
    if images > 1 or (k != "conv2d" and proto.kernel_length >= max(PATCHES_MIN_KERNEL, PATCHES_FACTOR * gin.size)):
        window = Selection(gout.top * gout.Wp + gout.left, 0,
                           tuple(st for st in ((gout.C, gout.Hp * gout.Wp, gin.Hp * gin.Wp), (gout.H, gout.Wp, sh * gin.Wp),
                                               (gout.W, 1, sw), (kh, 0, gin.Wp), (kw, 0, 1)) if st[0] > 1))
        L.fill[yt] = 0  # the Gather leaves the output's padding cells 0
        L.pending[yt] = _Pending(lambda out, x=x, window=window, nm=op.source or yt: Gather((x,), (window,), out, nm),
                                 gout.size)
        return
    # a sum-pool kernel (ones on the diagonal) follows from the shapes: not hidden (docs/protocol.md §7.6)
    L.c.add_vector(kname, proto.kernel_length, "fixed", role="" if k == "conv2d" else PARAMETER_FREE)
    L.fixed[kname] = proto.kernel_vector(w.tolist(), bias) if k == "conv2d" else proto.sumpool_kernel()
    L.fill[yt] = 0  # the Conv claim forces the output's padding cells to 0
    L.pending[yt] = _Pending(
        lambda out, x=x, kname=kname, gin=gin, gout=gout, OC=int(OC), kh=int(kh), kw=int(kw), sh=sh, sw=sw,
        nm=op.source or yt: Conv(x, kname, gin, gout, OC, kh, kw, sh, sw, out, nm),
        gout.size)


#: A convolution is lowered as patches × weights (im2col and a multi-row matmul) when the Conv block's kernel
#: polynomial (about OC·C·Hp·Wp coefficients) would be at least PATCHES_MIN_KERNEL long and PATCHES_FACTOR times
#: longer than the largest vector of the patch form: many channels (docs/scale.md). Smaller convolutions (digits
#: CNN, LeNet-5) keep the one polynomial product: there the patch form's two extra commitments cost more proof
#: bytes and gas (digits CNN: +8 % proof, +3 % gas) than its shorter vectors save.
PATCHES_FACTOR = 4
PATCHES_MIN_KERNEL = 1 << 15


def _conv_as_patches(L: Lowering, op: IntOp, x: Expr, w: np.ndarray, bias: list[int], gin: Grid, gout: Grid,
                     sh: int, sw: int, images: int = 1) -> bool:
    """``out = im2col(x)·W + b`` when that is much smaller than the Conv block's layout, or always over a batch of
    ``images > 1`` (the Conv block's kernel would mix their planes); returns whether it lowered.

    Three relations: the patch matrix ``P[N·OH·OW × C·kh·kw]``, ``P[(n,i,j), (c,u,v)] = x[n, c, i·sh+u, j·sw+v]``
    on the padded input grid, is a Gather of ``x`` (one affine selection, §5.9); ``A = P·Wᵀ + b`` is a multi-row
    MatMul (the weights opened once, §5.1) with the accumulator ``A`` committed pixel-major; a second Gather places
    ``A`` channel-major on the output grid (padding cells 0), pending for the rescale like any accumulator."""
    yt = op.outputs[0]
    OC, C, kh, kw = (int(d) for d in w.shape)
    OH, OW = gout.H, gout.W
    P, K = OH * OW, C * kh * kw  # output pixels per image, patch length
    T = images * P
    kernel_len = OC * ((C + 1) * gin.Hp * gin.Wp + max(RESERVED_SPAN, gin.Hp * gin.Wp))
    if images == 1 and (kernel_len < PATCHES_MIN_KERNEL
                        or kernel_len <= PATCHES_FACTOR * max(T * K, T * OC, row_stride(K) * OC, gout.size)):
        return False
    base = _vec_name(yt)
    g = gin.Hp * gin.Wp
    patches = Selection(0, 0, tuple(st for st in ((images, P * K, C * g), (OH, OW * K, sh * gin.Wp), (OW, K, sw),
                                                  (C, kh * kw, g), (kh, kw, gin.Wp), (kw, 1, 1)) if st[0] > 1))
    pe = L.c.add_vector(base + ".patches", T * K, "witness")
    L.sources[base + ".patches"] = Selected((x,), (patches,), T * K)
    L.c.constraints.append(Gather((x,), (patches,), pe, f"{op.source or yt}: patches"))
    wname = f"W.{len(L.fixed)}.{base}"
    L.c.add_vector(wname, row_stride(K) * OC, "fixed")
    L.fixed[wname] = weight_vector(w.reshape(OC, K).T.tolist(), bias)
    acc = L.c.add_vector(base + ".acc", T * OC, "witness")
    L.sources[base + ".acc"] = Permuted(yt, (0, 2, 3, 1))  # (1, OC, OH, OW) -> (1, OH, OW, OC)
    L.c.constraints.append(MatMul(pe, wname, K, OC, acc, op.source or yt, rows=T))
    go = gout.Hp * gout.Wp
    place = Selection(gout.top * gout.Wp + gout.left, 0,
                      tuple(st for st in ((images, OC * go, P * OC), (OH, gout.Wp, OW * OC), (OW, 1, OC), (OC, go, 1))
                            if st[0] > 1))
    L.fill[yt] = 0  # the Gather leaves the output's padding cells 0
    L.pending[yt] = _Pending(lambda out, acc=acc, place=place, nm=f"{op.source or yt}: to grid":
                             Gather((acc,), (place,), out, nm), gout.size)
    return True


@rule(*MOVEMENT)
def _movement(L: Lowering, op: IntOp) -> None:
    """Gather with one selection per read operand (§5.9): transpose, concat, slice, take, expand, tile, pad,
    upsample, trilu, a sum."""
    k = op.kind
    # out = Σ_i S_i·x_i with one selection per input (docs/protocol.md §5.9)
    yt = op.outputs[0]
    L.refuse_padded(f"{k} {op.source}", *op.inputs, yt)
    shapes = [tuple(int(d) for d in L.model.tensors[t].shape) for t in op.inputs]
    reads = op.inputs  # the operand of each selection
    if k == "transpose":
        sels = (Selection.transpose(shapes[0], [int(a) for a in op.params["perm"]]),)
    elif k == "take":  # one selection per index, all reading the same x
        axis, idx = int(op.params["axis"]), [int(i) for i in op.params["indices"]]
        sels = tuple(Selection.take(shapes[0], axis, j, at=p, count=len(idx)) for p, j in enumerate(idx))
        reads = op.inputs * len(idx)
    elif k == "slice":
        sels = (Selection.slice(shapes[0], L.model.tensors[yt].shape, op.params["starts"], op.params["steps"]),)
    elif k == "sum":
        sels = (Selection.reduce(shapes[0], {int(a) % len(shapes[0]) for a in op.params.get("axes", [])}),)
    elif k == "expand":  # numpy broadcasting: x's shape aligned right
        out_shape = tuple(int(d) for d in op.params["shape"])
        sels = (Selection.broadcast((1,) * (len(out_shape) - len(shapes[0])) + shapes[0], out_shape),)
    elif k == "tile":
        sels = (Selection.tile(shapes[0], [int(r) for r in op.params["reps"]]),)
    elif k == "pad":
        sels = (Selection.pad(shapes[0], [int(p) for p in op.params["pads"]], op.params.get("strides")),)
    elif k == "upsample":
        sels = (Selection.upsample(shapes[0], [int(f) for f in op.params["factors"]]),)
    elif k == "trilu":
        sels = Selection.triangle(shapes[0], bool(op.params["upper"]), int(op.params["k"]))
        if not sels:
            raise UnsupportedModelError(f"trilu {op.source}: keeps no entry (its output is all zeros)")
        reads = op.inputs * len(sels)
    else:
        out_shape, axis = L.model.tensors[yt].shape, int(op.params["axis"]) % len(shapes[0])
        offsets = np.cumsum([0] + [s[axis] for s in shapes[:-1]])
        sels = tuple(Selection.place(s, out_shape, axis, int(o)) for s, o in zip(shapes, offsets))
    xs = tuple(L.operand(t) for t in reads)
    L.fill[yt] = 0
    make = lambda out, xs=xs, sels=sels, nm=op.source or yt: Gather(xs, sels, out, nm)  # noqa: E731
    L.looked_up.add(yt)  # entries (or short sums) of bounded operands: bounded, no range check of its own
    if k == "sum":  # like a matmul accumulator: a rescale consuming it reads it as an expression
        L.pending[yt] = _Pending(make, L.size(yt))
    else:
        L.c.constraints.append(make(L.new_vector(yt)))


@rule("maxpool")
def _maxpool(L: Lowering, op: IntOp) -> None:
    """A Pick per window tap, ``d = y − tap`` range-checked, and a Hadamard chain ``Π d = 0`` (§5.8)."""
    xt, yt = op.inputs[0], op.outputs[0]
    gin, gout = L.reads[yt], L.grids[yt]
    kh, kw = (int(v) for v in op.params["kernel"])
    sh, sw = (int(v) for v in op.params["strides"])
    xe = L.on_grid(xt, gin)  # a copy only onto a plain grid (planning refuses a padded copy for a max pooling)
    if gin.padded:
        producer = next((o for o in L.model.ops if xt in o.outputs), None)
        floor_ok = (xt == L.model.input_name or (producer is not None and producer.kind == "table"
                    and L.fill.get(xt, 0) <= int(np.min(L.model.tables[producer.params["table"]].values))))
        if not floor_ok:
            raise UnsupportedModelError(f"maxpool {op.source}: its padding cells could win the maximum")
    ye = L.new_vector(yt)
    L.fill[yt] = 0
    if kh * kw == 1:
        # one tap: the window maximum *is* the tap, so y is the strided gather itself (no d, no chain:
        # with one factor "Π d = 0" would be an empty chain that constrains nothing)
        L.c.constraints.append(Pick(xe, gin, gout, 0, 0, sh, sw, ye, f"{op.source} tap 0,0"))
        L.looked_up.add(yt)  # y = a tap of x: bounded like x
        return
    xbound = _pow2_at_least(max(1, L.model.tensors[xt].bound) + 1)
    ds = []
    for u in range(kh):
        for v in range(kw):
            dname = f"{_vec_name(yt)}.d{u}_{v}"
            de = L.c.add_vector(dname, gout.size, "witness")
            L.sources[dname] = TapDiff(ye, xe, gin, gout, u, v, sh, sw)
            diff = Expr(gout.size, ye.terms + (Term(dname, R - 1),), ye.const)
            L.c.constraints.append(Pick(xe, gin, gout, u, v, sh, sw, diff, f"{op.source} tap {u},{v}"))
            L.check_range(dname, gout.size, 0, 4 * xbound)  # y − x ≤ 2·max|x| (padding included)
            ds.append(de)
    L.zero_product(ds, yt, gout.size, f"{op.source} max")
    L.looked_up.add(yt)  # y = some tap of x: bounded like x


@rule("max")
def _max(L: Lowering, op: IntOp) -> None:
    """The maximum along one axis: Gather taps, ``d_j ≥ 0`` and ``Π d_j = 0`` (§5.9)."""
    # y = the largest entry along one axis: per position j along it a Gather takes x[..., j, ...] and a
    # committed d_j = y − x_j is range-checked ≥ 0; Π_j d_j = 0 makes y one of them (as a max pooling)
    xt, yt = op.inputs[0], op.outputs[0]
    L.refuse_padded(f"max {op.source}", xt, yt)
    shape = tuple(int(d) for d in L.model.tensors[xt].shape)
    axis = int(op.params["axis"]) % len(shape)
    xe = L.operand(xt)
    if shape[axis] == 1:
        L.exprs[yt] = xe
        return
    ye = L.new_vector(yt)
    xbound = _pow2_at_least(max(1, L.model.tensors[xt].bound) + 1)
    L.max_along(xe, shape, axis, ye, _vec_name(yt), 4 * xbound, op.source)  # y − x_j ≤ 2·max|x|
    L.looked_up.add(yt)  # y = some entry of x: bounded like x


@rule("argmax")
def _argmax(L: Lowering, op: IntOp) -> None:
    """The index of each row's largest entry (lowest on a tie): the one-hot of the argmax and its gaps to the row
    maximum (``compiler/accuracy.py: argmax_onehot``), then ``y = Σ_j j·A_j`` as a Gather of ``A`` through ``C − 1``
    shifted row sums (``Σ_(s≥1) Σ_(j≥s) A_j``)."""
    from zkchain.compiler.accuracy import argmax_onehot

    xt, yt = op.inputs[0], op.outputs[0]
    where = f"argmax {op.source}"
    L.refuse_padded(where, xt)
    C = int(L.model.tensors[xt].shape[-1])
    N = L.size(xt) // C
    z = L.committed(xt)
    L.looked_up.discard(xt)  # the gaps need z's own range check (finish adds it)
    h = L.checked_half(xt)  # finish's range check of z
    a = argmax_onehot(L, z, N, C, h, _vec_name(yt), where)
    y = L.new_vector(yt)
    if C == 1:
        L.c.constraints.append(Zero(y, f"{where}: index"))
    else:
        sels = tuple(Selection(0, s, ((N, 1, C), (C - s, 0, 1))) for s in range(1, C))
        L.c.constraints.append(Gather((a,) * (C - 1), sels, y, f"{where}: index"))
    L.fill[yt] = 0
    L.looked_up.add(yt)  # Σ_j j·A_j with A one-hot: in [0, C)


@rule("rescale")
def _rescale(L: Lowering, op: IntOp) -> None:
    """Quotient and remainder limbs, substituted into a pending accumulator's claim, else a Zero."""
    src, (q, rem) = op.inputs[0], op.outputs
    M, s = int(op.params["M"]), int(op.params["s"])
    t0 = M * L.fill.get(src, 0) + (1 << (s - 1))
    L.fill[q], L.fill[rem] = t0 >> s, t0 - ((t0 >> s) << s)
    qe, re_ = L.new_vector(q), L.remainder(rem, s)
    # M·x + 2^(s−1) = 2^s·q + rem
    if src in L.pending:
        p = L.pending.pop(src)
        if p.rows > 1 and any(L.c.vectors[t.vector].kind == "public" for t in qe.terms):
            public = qe
            qe = L.committed(q)  # a public output: the matmul reads a committed copy (tied to it by a Zero) ...
            L.exprs[q] = public  # ... and the output stays that public vector (no second one for the same values)
        mi = inv(M)
        acc = Expr(p.length, tuple(Term(t.vector, t.coef * (1 << s) * mi % R, t.shift) for t in qe.terms)
                   + tuple(Term(t.vector, t.coef * mi % R, t.shift) for t in re_.terms),
                   -(1 << (s - 1)) * mi % R)
        L.c.constraints.append(p.make(acc))
    else:
        xe = L.expr(src)
        terms = tuple(Term(t.vector, t.coef * M % R, t.shift) for t in xe.terms)
        terms += tuple(Term(t.vector, -(1 << s) % R, t.shift) for t in qe.terms)
        terms += tuple(Term(t.vector, -t.coef % R, t.shift) for t in re_.terms)
        L.c.constraints.append(Zero(Expr(xe.length, terms, (xe.const * M + (1 << (s - 1))) % R), f"rescale {q}"))


@rule("table")
def _table(L: Lowering, op: IntOp) -> None:
    """Output committed; a Lookup of ``(x, y)`` in the map table."""
    x, (y, idx) = op.inputs[0], op.outputs
    tab = L.model.tables[op.params["table"]]
    fi = L.fill.get(x, 0) - int(tab.lo)
    if x in L.grids and L.grids[x].padded and not 0 <= fi < tab.size:
        raise UnsupportedModelError(f"table {op.source}: padding value {L.fill.get(x, 0)} outside the table")
    L.fill[y] = int(np.asarray(tab.values)[fi]) if 0 <= fi < tab.size else 0
    t = L.c.add_table(tab.name, "map", int(tab.lo), int(tab.size))
    L.table_values[t.name] = np.asarray(tab.values)
    ye = L.new_vector(y)
    L.c.constraints.append(Lookup(t.name, L.operand(x), ye, f"{tab.fn} {y}"))
    L.looked_up.add(x)
    L.looked_up.add(y)  # outputs are table values: bounded by the table
    L.exprs[idx] = None  # the index is implicit in the lookup


@rule("add", "sub")
def _add_sub(L: Lowering, op: IntOp) -> None:
    """An expression (an operand of another shape broadcast first)."""
    k = op.kind
    a, b = (L.broadcast(t, op.outputs[0], f"{k} {op.source}") for t in op.inputs)
    sign = 1 if k == "add" else R - 1
    L.fill[op.outputs[0]] = L.fill.get(op.inputs[0], 0) + (1 if k == "add" else -1) * L.fill.get(op.inputs[1], 0)
    L.exprs[op.outputs[0]] = Expr(a.length, a.terms + tuple(Term(t.vector, t.coef * sign % R, t.shift) for t in b.terms),
                                (a.const + sign * b.const) % R)


@rule("add_const", "mul_const")
def _const(L: Lowering, op: IntOp) -> None:
    """An expression for a scalar; a hidden fixed vector term or a Hadamard for a per-entry constant."""
    k = op.kind
    cst = np.asarray(op.params["c"])
    xt, yt = op.inputs[0], op.outputs[0]
    a = L.operand(xt) if k == "mul_const" and cst.size != 1 else L.expr(xt)  # a Hadamard side, or an expression
    f0 = L.fill.get(xt, 0)
    if cst.size == 1:
        v = int(cst.reshape(-1)[0])
        L.fill[yt] = f0 + v if k == "add_const" else f0 * v
        if k == "add_const":
            L.exprs[yt] = Expr(a.length, a.terms, (a.const + v) % R)
        else:
            L.exprs[yt] = Expr(a.length, tuple(Term(t.vector, t.coef * v % R, t.shift) for t in a.terms),
                             a.const * v % R)
        return
    # a per-entry constant: a fixed vector on the tensor's grid, 0 on padding cells
    full = np.broadcast_to(cst, L.model.tensors[xt].shape)
    g = L.grids.get(xt)
    if g is not None:
        full = g.embed(full)
    cname = f"C.{len(L.fixed)}.{_vec_name(yt)}"
    ce = L.c.add_vector(cname, a.length, "fixed")
    L.fixed[cname] = [int(v) % R for v in full.reshape(-1).tolist()]
    if k == "add_const":
        L.fill[yt] = f0
        L.exprs[yt] = Expr(a.length, a.terms + ce.terms, a.const)
    else:
        L.fill[yt] = 0
        if g is not None and g.padded and f0 != 0:
            raise UnsupportedModelError(f"mul_const {op.source}: padding value would not stay 0")
        L.pending[yt] = _Pending(lambda out, a=a, ce=ce, nm=op.source or yt: Hadamard(a, ce, out, nm), a.length)


@rule("mul")
def _mul(L: Lowering, op: IntOp) -> None:
    """A Hadamard of the two operands, pending until a rescale consumes it."""
    at, bt = op.inputs
    a, b = (L.broadcast(t, op.outputs[0], f"mul {op.source}", laid_out=True) for t in (at, bt))
    L.fill[op.outputs[0]] = L.fill.get(at, 0) * L.fill.get(bt, 0)
    if set(a.vectors()) & set(b.vectors()):
        # x∘x: the two sides' zero-knowledge tails must sit in different windows (docs/protocol.md §7.3),
        # so one side becomes a committed copy bound by a Zero relation (reads data only)
        cname = f"{_vec_name(bt)}.copy{len(L.c.vectors)}"
        ce = L.c.add_vector(cname, b.length, "witness")
        L.sources[cname] = L.source(bt)
        L.c.constraints.append(Zero(Expr(b.length, ce.terms + tuple(Term(t.vector, -t.coef % R, t.shift)
                                                                   for t in b.terms), -b.const % R),
                                  f"copy {bt}"))
        b = ce
    L.pending[op.outputs[0]] = _Pending(
        lambda out, a=a, b=b, nm=op.source or op.outputs[0]: Hadamard(a, b, out, nm), a.length)


@rule("matmul")
def _matproduct(L: Lowering, op: IntOp) -> None:
    """A product of two activations: both committed whole (row-major), the product pending until a rescale
    consumes it (``docs/protocol.md`` §5.10)."""
    at, bt = op.inputs
    where = f"matmul {op.source}"
    L.refuse_padded(where, at, bt)
    (T, k), (_, n) = L.model.tensors[at].shape, L.model.tensors[bt].shape
    a, b = L.committed(at), L.committed(bt)
    L.fill[op.outputs[0]] = 0
    L.pending[op.outputs[0]] = _Pending(
        lambda out, a=a, b=b, nm=op.source or op.outputs[0]: MatProduct(a, b, int(T), int(k), int(n), out, nm),
        int(T) * int(n), 2)  # rows > 1: the product reads its accumulator's terms as committed vectors


@rule("reshape")
def _reshape(L: Lowering, op: IntOp) -> None:
    """An alias: row-major order is unchanged."""
    L.exprs[op.outputs[0]] = L.expr(op.inputs[0])
    L.fill[op.outputs[0]] = L.fill.get(op.inputs[0], 0)


@rule("sum")
def _sum(L: Lowering, op: IntOp) -> None:
    """Over the spatial axes of (N, C, H, W): a sum pooling; over any other axes: a Gather."""
    (_conv if _spatial_sum(op, L.model) else _movement)(L, op)


#: the integer primitives that have a lowering rule
PROVABLE = tuple(RULES)


def lower(model, public_input: bool = False, test_set=None) -> Compiled:
    """Lower a :class:`zkchain.quant.model.QuantizedModel` to a circuit.

    The input is private (a committed witness vector) unless ``public_input``; outputs are public. With
    ``test_set`` (:class:`zkchain.compiler.accuracy.LabelledSet`, a batch build with one sample per row) the circuit
    proves the model's accuracy instead: the input is the test set as public data fixed in the verifying key, the
    logits stay private and the one public output is the number of samples classified correctly
    (``docs/protocol.md`` §5.11).
    Raises :class:`UnsupportedModelError` listing every op that has no block yet (with its ONNX node)."""
    bad = [f"{op.kind} (node {op.source or '?'})" for op in model.ops if op.kind not in PROVABLE]
    if bad:
        raise UnsupportedModelError("these operations have no proof block yet: " + ", ".join(bad))

    L = Lowering(model, test_set)
    L.lower_input(public_input)
    for op in model.ops:
        RULES[op.kind](L, op)
    return L.finish()


def hidden_terms(c: Circuit, e: Expr) -> list[str]:
    """The hidden fixed vectors among ``e``'s terms (:meth:`Circuit.is_hidden`)."""
    return [t.vector for t in e.terms if c.is_hidden(t.vector)]


def fold_into_bias(c: Circuit, x: Expr, fixed: dict[str, list[int]], W: np.ndarray,
                   bias: np.ndarray) -> tuple[Expr, list[int]]:
    """``(x', b')`` with ``x = x' + Σ coef·X^shift·C`` over the hidden fixed terms ``C`` of ``x`` and
    ``b'_j = b_j + Σ_l (Σ coef·C[l − shift])·W[l, j]`` (in Fr; ``W`` is k×n integers, ``bias`` n integers)."""
    hid = set(hidden_terms(c, x))
    const = [0] * x.length
    for t in x.terms:
        if t.vector in hid:
            for i, v in enumerate(fixed[t.vector]):
                const[i + t.shift] += t.coef * v
    out = [int(v) for v in bias]
    if hid:
        out = [(b + sum(cl * int(W[l, j]) for l, cl in enumerate(const) if cl)) % R for j, b in enumerate(out)]
    return Expr(x.length, tuple(t for t in x.terms if t.vector not in hid), x.const), out


PACKED_WEIGHTS = "W.packed"


def _pack_weights(c: Circuit, fixed: dict[str, list[int]]) -> None:
    """Put matmul weight vectors into one hidden fixed vector, each at its own offset (``MatMul.offset``), so a
    proof carries one mask commitment and one evaluation for them and the verifier one ecMul (ZK-DESIGN §8,
    about 6,350 gas per vector saved). The smallest go first, for as long as the packed vector (with its mask's
    room) stays within the longest polynomial the rest of the circuit commits anyway — a table, the lookup
    queries, a convolution product, a vector — so the SRS does not grow (LeNet-5's big first layer stays on its
    own). Each matmul's claim reads only its own segment: its rows' reach ends inside it (``docs/protocol.md``
    §5.1)."""
    from zkchain.blocks.lookup import query_length, table_length

    mms = sorted(c.of_block(MatMul), key=lambda m: len(fixed[m.weight]))
    if len(mms) < 2:
        return
    own = {m.weight for m in mms}
    extent = max([v.length for v in c.vectors.values() if v.name not in own]
                 + [query_length(c), table_length(c)] + [k.extra_degree() for k in c.constraints])
    chosen, total = set(), 0
    for mm in mms:
        total += len(fixed[mm.weight])
        if total + 2 * RESERVED_SPAN > extent:
            break
        chosen.add(id(mm))
    if len(chosen) < 2:
        return
    import dataclasses

    offsets, values = {}, []
    for k in c.constraints:  # segments in circuit order
        if id(k) in chosen:
            offsets[id(k)] = len(values)
            values += fixed.pop(k.weight)
            del c.vectors[k.weight]
    c.constraints = [dataclasses.replace(k, weight=PACKED_WEIGHTS, offset=offsets[id(k)]) if id(k) in offsets else k
                     for k in c.constraints]
    c.add_vector(PACKED_WEIGHTS, len(values), "fixed")
    fixed[PACKED_WEIGHTS] = values


def _drop_unread_fixed(c: Circuit, fixed: dict[str, list[int]]) -> None:
    """Remove the fixed vectors no constraint reads (a constant whose every use was folded into a bias)."""
    read = {n for k in c.constraints for n, _ in k.openings(c)}
    for name in [v.name for v in c.of_kind("fixed") if v.name not in read]:
        del c.vectors[name]
        del fixed[name]


def _is_relu(t, values) -> bool:
    """Whether map table ``t``'s outputs are ``max(v, 0)`` for its rows ``v = lo … lo+size−1``: a function of the
    circuit alone, so the column may be a parameter-free (unmasked) fixed vector."""
    rows = np.arange(t.lo, t.lo + t.size)
    return len(values) == t.size and bool(np.array_equal(np.asarray(values, dtype=object), np.maximum(rows, 0)))
