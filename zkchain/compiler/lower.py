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
``conv2d``      Conv with the kernel (bias on a ones channel) as a fixed vector; accumulator as for ``linear``
``sumpool``     Conv with a fixed 0/1 depthwise kernel (average pooling = sumpool + rescale)
``sum``         over the spatial axes of (1, C, H, W): a sumpool with an H×W window (global average pooling); over
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

Movement ops (transpose, concat, a non-spatial sum) read and write plain row-major vectors: a tensor a
convolution reads on a padded grid cannot be moved yet, and the compiler says so.
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

import numpy as np

from zkchain.blocks import Conv, Gather, Hadamard, Lookup, MatMul, PadZero, Pick, Zero
from zkchain.blocks.common import RESERVED_SPAN
from zkchain.blocks.lookup import TABLE_OUT, table_layout
from zkchain.blocks.matmul import row_stride, weight_vector
from zkchain.compiler.circuit import PARAMETER_FREE, RESERVED_NAMES, Circuit, Expr, Grid, Selection, Term
from zkchain.compiler.witness import FromTensor, Limb, Product, Recipe, Selected, TapDiff, WitnessPlan
from zkchain.crypto.field import R, inv
from zkchain.errors import UnsupportedModelError

PROVABLE = ("linear", "conv2d", "sumpool", "sum", "maxpool", "rescale", "table", "add", "sub", "add_const", "mul_const",
            "mul", "reshape", "transpose", "concat", "max", "slice", "take")
MOVEMENT = ("transpose", "concat", "slice", "take")  # with a non-spatial sum: Gather blocks over plain row-major vectors
ELEMENTWISE = ("rescale", "table", "add", "sub", "add_const", "mul_const", "mul")
LIMB_BITS = 8  # remainders are committed as 8-bit limbs so every range table stays ≤ 256 rows
MAX_DIRECT_RANGE = 1 << 12  # a value range this small is checked with one table; larger ones through limbs


def _spatial_sum(op, model) -> bool:
    """A sum over the spatial axes of a (1, C, H, W) tensor (global average pooling), proved as a sum pooling."""
    shape = model.tensors[op.inputs[0]].shape
    return (op.kind == "sum" and len(shape) == 4 and shape[0] == 1
            and sorted(int(a) % 4 for a in op.params.get("axes", [])) == [2, 3])


def _row_major_reader(op, model) -> bool:
    """Does ``op`` read its inputs in plain row-major order (so no padded grid)?"""
    return (op.kind in ("linear", "reshape", "max") + MOVEMENT or op.kind not in PROVABLE
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
        return self.witness.vector_values(witness)


def _vec_name(tensor: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", tensor)
    return name + "_" if name in RESERVED_NAMES else name


def _pow2_at_least(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


def _plan_grids(model) -> dict[str, Grid]:
    """The grid of every (1, C, H, W) tensor: plain, or the padded grid a convolution reading it needs."""
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
    need: dict[str, tuple[Grid, str]] = {}
    for op in model.ops:
        if op.kind not in ("conv2d", "sumpool", "maxpool") and not _spatial_sum(op, model):
            continue
        x = op.inputs[0]
        shape = model.tensors[x].shape
        if len(shape) != 4 or shape[0] != 1:
            raise UnsupportedModelError(f"{op.kind} {op.source}: input must be (1, C, H, W), got {list(shape)}")
        _, C, H, W = shape
        t, l, b, r = (int(v) for v in op.params.get("pads", [0, 0, 0, 0]))
        g = Grid(C, H, W, H + t + b, W + l + r, t, l)
        root = find(x)
        if root in need and need[root][0] != g:
            raise UnsupportedModelError(f"{op.source}: tensor {x} is read with two different paddings "
                                        f"({need[root][1]} and {op.source})")
        need[root] = (g, op.source)
    grids = {}
    for name, t in model.tensors.items():
        if len(t.shape) == 4 and t.shape[0] == 1:
            _, C, H, W = t.shape
            grids[name] = need.get(find(name), (Grid(C, H, W, H, W), ""))[0]
    for op in model.ops:  # consumers that read the plain row-major order
        if _row_major_reader(op, model):
            for x in op.inputs:
                if x in grids and grids[x].padded:
                    raise UnsupportedModelError(f"{op.kind} {op.source}: reads {x}, which a convolution also reads "
                                                "padded; not provable yet")
    return grids


def lower(model, public_input: bool = False) -> Compiled:
    """Lower a :class:`zkchain.quant.model.QuantizedModel` to a circuit.

    The input is private (a committed witness vector) unless ``public_input``; outputs are public.
    Raises :class:`UnsupportedModelError` listing every op that has no block yet (with its ONNX node)."""
    bad = [f"{op.kind} (node {op.source or '?'})" for op in model.ops if op.kind not in PROVABLE]
    if bad:
        raise UnsupportedModelError("these operations have no proof block yet: " + ", ".join(bad))

    c = Circuit(meta={"model": model.info.get("model", ""), "input": model.input_name,
                      "outputs": list(model.output_names), "output_scales": {}})
    fixed: dict[str, list[int]] = {}
    sources: dict[str, Recipe] = {}
    exprs: dict[str, Expr] = {}
    grids = _plan_grids(model)
    fill: dict[str, int] = {model.input_name: 0}  # value of each tensor's padding cells
    pending: dict[str, _Pending] = {}
    consumers: dict[str, list] = {}
    for op in model.ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    outputs = set(model.output_names)
    looked_up: set[str] = set()  # tensors whose range a lookup already proves
    table_values: dict[str, np.ndarray] = {}

    def size(t: str) -> int:
        g = grids.get(t)
        return g.size if g is not None else int(np.prod(model.tensors[t].shape))

    def source(t: str, shift: int = 0, bits: int = 0) -> FromTensor:
        return FromTensor(t, shift, bits, grids.get(t), fill.get(t, 0))

    def new_vector(t: str, kind_hint: str = "witness") -> Expr:
        name = _vec_name(t)
        n = size(t)
        if t in outputs:
            e = c.add_vector(name, n, "public", "output", bound=2**62)
        else:
            e = c.add_vector(name, n, kind_hint)
        sources[name] = source(t)
        exprs[t] = e
        return e

    def range_check(t: str, e: Expr, lo: int, size_: int) -> None:
        tab = c.add_table(f"range[{lo},{lo + size_})", "range", lo, size_)
        c.constraints.append(Lookup(tab.name, e, None, f"range {t}"))

    def check_range(vname: str, length: int, lo: int, size_: int) -> None:
        """``lo ≤ v < lo + size`` for committed vector ``vname``: one table when small, else 8-bit limbs of
        ``v − lo`` (committed, each range-checked) tied to ``v`` by a Zero constraint."""
        e = Expr.of(vname, length)
        if size_ <= MAX_DIRECT_RANGE:
            range_check(vname, e, lo, size_)
            return
        bits = (size_ - 1).bit_length()
        terms = []
        for i, lo_bit in enumerate(range(0, bits, LIMB_BITS)):
            lb = min(LIMB_BITS, bits - lo_bit)
            name = f"{vname}.limb{i}"
            le = c.add_vector(name, length, "witness")
            sources[name] = Limb(vname, lo_bit, lb, lo)
            range_check(name, le, 0, 1 << lb)
            terms.append(Term(name, 1 << lo_bit))
        # v − lo − Σ 2^(8i)·limb_i = 0
        c.constraints.append(Zero(Expr(length, (Term(vname),) + tuple(Term(tm.vector, -tm.coef % R) for tm in terms),
                                       -lo % R), f"range {vname}"))

    def remainder(t: str, s: int) -> Expr:
        """Commit ``rem ∈ [0, 2^s)`` as limbs of LIMB_BITS bits, each range-checked; return ``Σ 2^(8i)·limb_i``."""
        n, terms = size(t), []
        for i, lo_bit in enumerate(range(0, s, LIMB_BITS)):
            bits = min(LIMB_BITS, s - lo_bit)
            name = f"{_vec_name(t)}.{i}"
            e = c.add_vector(name, n, "witness")
            sources[name] = source(t, lo_bit, bits)
            range_check(name, e, 0, 1 << bits)
            terms.append(Term(name, 1 << lo_bit))
        looked_up.add(t)
        return Expr(n, tuple(terms))

    def expr(t: str) -> Expr:
        if t in pending:  # an accumulator read by something other than a rescale: commit it
            p = pending.pop(t)
            if p.rows > 1 and t in outputs:  # not as the public vector: the rows claim reads committed terms
                name = _vec_name(t) + ".acc"
                e = c.add_vector(name, size(t), "witness")
                sources[name] = source(t)
                exprs[t] = e
            else:
                e = new_vector(t)
            c.constraints.append(p.make(e))
            return e
        return exprs[t]

    def operand(t: str) -> Expr:
        """``expr(t)`` for an operand a block lays out (conv input, lookup query, Hadamard side, pick source).
        An expression holding a hidden fixed vector (a per-entry constant added on the way) is committed as a
        witness vector of its own, tied to the expression by a Zero relation, which reads data only: a hidden
        vector's free mask coefficients must never meet another operand's coefficients (``docs/protocol.md``
        §7.8; the schedule refuses any circuit where they would)."""
        e = expr(t)
        if not hidden_terms(c, e):
            return e
        v = new_vector(t)
        c.constraints.append(Zero(Expr(e.length, v.terms + tuple(Term(tm.vector, -tm.coef % R, tm.shift)
                                                                 for tm in e.terms), -e.const % R),
                                  f"materialise {t}"))
        looked_up.add(t)  # bounded terms plus a constant: bounded, so no range check of its own
        return v

    def committed(t: str) -> Expr:
        """``expr(t)`` as one whole committed witness vector: itself, or a copy tied to the expression by a Zero
        relation (a matmul over several rows folds the rows of one committed vector, ``docs/protocol.md`` §5.1)."""
        e = expr(t)
        if (len(e.terms) == 1 and not e.const % R and not e.terms[0].shift and e.terms[0].coef % R == 1
                and c.vectors[e.terms[0].vector].kind == "witness" and c.vectors[e.terms[0].vector].length == e.length):
            return e
        name = _vec_name(t) + (".copy" if _vec_name(t) in c.vectors else "")
        v = c.add_vector(name, e.length, "witness")
        sources[name] = source(t)
        c.constraints.append(Zero(Expr(e.length, v.terms + tuple(Term(tm.vector, -tm.coef % R, tm.shift)
                                                                 for tm in e.terms), -e.const % R), f"materialise {t}"))
        exprs[t] = v
        looked_up.add(t)  # equal to bounded terms
        return v

    def broadcast(t: str, out: str, where: str, laid_out: bool = False) -> Expr:
        """``expr(t)`` (``operand(t)`` if ``laid_out``) when ``t`` has ``out``'s shape; else ``t`` broadcast to it
        (numpy rules): a committed vector tied to ``t`` by a Gather whose selection repeats the size-1 axes
        (``Selection.broadcast``)."""
        shape, oshape = tuple(model.tensors[t].shape), tuple(model.tensors[out].shape)
        full = (1,) * (len(oshape) - len(shape)) + shape
        if full == oshape:
            return operand(t) if laid_out else expr(t)
        if any(g in grids and grids[g].padded for g in (t, out)):
            raise UnsupportedModelError(f"{where}: broadcasting onto a convolution's padded grid is not provable yet")
        try:
            sel = Selection.broadcast(full, oshape)
        except ValueError as exc:
            raise UnsupportedModelError(f"{where}: {exc}") from None
        x = operand(t)
        name = f"{_vec_name(t)}.bcast{len(c.vectors)}"
        v = c.add_vector(name, size(out), "witness")
        sources[name] = Selected((x,), (sel,), size(out))
        c.constraints.append(Gather((x,), (sel,), v, f"{where} broadcast {t}"))
        return v

    def zero_product(ds: list[Expr], yt: str, length: int, name: str) -> None:
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
                out = c.add_vector(ename, length, "witness")
                sources[ename] = Product(acc, d)
            c.constraints.append(Hadamard(acc, d, out, name))
            acc = out

    # The input.
    xin = model.input_name
    bound = max(1, model.tensors[xin].bound)
    half = _pow2_at_least(bound + 1)
    if public_input:
        # the verifier bounds a public input to |x| ≤ half: every real entry is ≥ −half, the padding value a
        # max pooling relies on, and its values are as small as a range-checked private input's
        e = c.add_vector(_vec_name(xin), size(xin), "public", "input", bound=half)
        sources[_vec_name(xin)] = source(xin)
        exprs[xin] = e
    else:
        e = new_vector(xin)
        range_check(xin, e, -half, 2 * half)
        looked_up.add(xin)
    if xin in grids and grids[xin].padded:
        # a max pooling reads padding as "never wins": fill it with the smallest value the range check allows
        if any(op.kind == "maxpool" and op.inputs[0] == xin for op in model.ops):
            fill[xin] = -half
            sources[_vec_name(xin)] = source(xin)
        c.constraints.append(PadZero(e, grids[xin], "input padding", fill[xin] % R))

    for op in model.ops:
        k = op.kind
        if k == "linear":
            W = np.asarray(op.params["W"]).astype(object)
            kk, n = W.shape
            shape = list(model.tensors[op.inputs[0]].shape)
            rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            if rows > 1:  # Y[T×n] = X[T×k]·W + b: the weights once, the rows folded (docs/protocol.md §5.1)
                x = committed(op.inputs[0])
                wname = f"W.{len(fixed)}.{_vec_name(op.outputs[0])}"
                c.add_vector(wname, row_stride(kk) * n, "fixed")
                fixed[wname] = weight_vector(W.tolist(), [int(v) for v in np.asarray(op.params["bias"]).reshape(-1)])
                pending[op.outputs[0]] = _Pending(
                    lambda out, x=x, wname=wname, kk=kk, n=n, rows=rows, nm=op.source or op.outputs[0]:
                    MatMul(x, wname, kk, n, out, nm, rows=rows), rows * n, rows)
                continue
            # (x + C)·W + b = x·W + (C·W + b): a hidden constant in the input goes into the bias (exact over the
            # integers), so the matmul's x holds no hidden vector (docs/protocol.md §7.8)
            x, bias = fold_into_bias(c, expr(op.inputs[0]), fixed, W, np.asarray(op.params["bias"]).reshape(-1))
            wname = f"W.{len(fixed)}.{_vec_name(op.outputs[0])}"
            c.add_vector(wname, row_stride(kk) * n, "fixed")
            fixed[wname] = weight_vector(W.tolist(), bias)
            pending[op.outputs[0]] = _Pending(
                lambda out, x=x, wname=wname, kk=kk, n=n, nm=op.source or op.outputs[0]: MatMul(x, wname, kk, n, out, nm),
                n)
        elif k in ("conv2d", "sumpool") or _spatial_sum(op, model):
            xt, yt = op.inputs[0], op.outputs[0]
            gin, gout = grids[xt], grids[yt]
            if fill.get(xt, 0) != 0 and gin.padded:
                raise UnsupportedModelError(f"{k} {op.source}: its input's padding would not be zero")
            x = operand(xt)
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
            kname = f"K.{len(fixed)}.{_vec_name(yt)}"
            proto = Conv(x, kname, gin, gout, int(OC), int(kh), int(kw), sh, sw, Expr.of(kname, 1), op.source or yt)
            # a sum-pool kernel (ones on the diagonal) follows from the shapes: not hidden (docs/protocol.md §7.6)
            c.add_vector(kname, proto.kernel_length, "fixed", role="" if k == "conv2d" else PARAMETER_FREE)
            fixed[kname] = proto.kernel_vector(w.tolist(), bias) if k == "conv2d" else proto.sumpool_kernel()
            fill[yt] = 0  # the Conv claim forces the output's padding cells to 0
            pending[yt] = _Pending(
                lambda out, x=x, kname=kname, gin=gin, gout=gout, OC=int(OC), kh=int(kh), kw=int(kw), sh=sh, sw=sw,
                nm=op.source or yt: Conv(x, kname, gin, gout, OC, kh, kw, sh, sw, out, nm),
                gout.size)
        elif k in MOVEMENT or k == "sum":
            # out = Σ_i S_i·x_i with one selection per input (docs/protocol.md §5.9)
            yt = op.outputs[0]
            for t in op.inputs + [yt]:
                if t in grids and grids[t].padded:
                    raise UnsupportedModelError(f"{k} {op.source}: {t} is laid out on a convolution's padded grid; "
                                                "moving padded data is not provable yet")
            shapes = [tuple(int(d) for d in model.tensors[t].shape) for t in op.inputs]
            reads = op.inputs  # the operand of each selection
            if k == "transpose":
                sels = (Selection.transpose(shapes[0], [int(a) for a in op.params["perm"]]),)
            elif k == "take":  # one selection per index, all reading the same x
                axis, idx = int(op.params["axis"]), [int(i) for i in op.params["indices"]]
                sels = tuple(Selection.take(shapes[0], axis, j, at=p, count=len(idx)) for p, j in enumerate(idx))
                reads = op.inputs * len(idx)
            elif k == "slice":
                sels = (Selection.slice(shapes[0], model.tensors[yt].shape, op.params["starts"], op.params["steps"]),)
            elif k == "sum":
                sels = (Selection.reduce(shapes[0], {int(a) % len(shapes[0]) for a in op.params.get("axes", [])}),)
            else:
                out_shape, axis = model.tensors[yt].shape, int(op.params["axis"]) % len(shapes[0])
                offsets = np.cumsum([0] + [s[axis] for s in shapes[:-1]])
                sels = tuple(Selection.place(s, out_shape, axis, int(o)) for s, o in zip(shapes, offsets))
            xs = tuple(operand(t) for t in reads)
            fill[yt] = 0
            make = lambda out, xs=xs, sels=sels, nm=op.source or yt: Gather(xs, sels, out, nm)  # noqa: E731
            looked_up.add(yt)  # entries (or short sums) of bounded operands: bounded, no range check of its own
            if k == "sum":  # like a matmul accumulator: a rescale consuming it reads it as an expression
                pending[yt] = _Pending(make, size(yt))
            else:
                c.constraints.append(make(new_vector(yt)))
        elif k == "maxpool":
            xt, yt = op.inputs[0], op.outputs[0]
            gin, gout = grids[xt], grids[yt]
            kh, kw = (int(v) for v in op.params["kernel"])
            sh, sw = (int(v) for v in op.params["strides"])
            xe = operand(xt)
            if gin.padded:
                producer = next((o for o in model.ops if xt in o.outputs), None)
                floor_ok = (xt == model.input_name or (producer is not None and producer.kind == "table"
                            and fill.get(xt, 0) <= int(np.min(model.tables[producer.params["table"]].values))))
                if not floor_ok:
                    raise UnsupportedModelError(f"maxpool {op.source}: its padding cells could win the maximum")
            ye = new_vector(yt)
            fill[yt] = 0
            if kh * kw == 1:
                # one tap: the window maximum *is* the tap, so y is the strided gather itself (no d, no chain:
                # with one factor "Π d = 0" would be an empty chain that constrains nothing)
                c.constraints.append(Pick(xe, gin, gout, 0, 0, sh, sw, ye, f"{op.source} tap 0,0"))
                looked_up.add(yt)  # y = a tap of x: bounded like x
                continue
            xbound = _pow2_at_least(max(1, model.tensors[xt].bound) + 1)
            ds = []
            for u in range(kh):
                for v in range(kw):
                    dname = f"{_vec_name(yt)}.d{u}_{v}"
                    de = c.add_vector(dname, gout.size, "witness")
                    sources[dname] = TapDiff(ye, xe, gin, gout, u, v, sh, sw)
                    diff = Expr(gout.size, ye.terms + (Term(dname, R - 1),), ye.const)
                    c.constraints.append(Pick(xe, gin, gout, u, v, sh, sw, diff, f"{op.source} tap {u},{v}"))
                    check_range(dname, gout.size, 0, 4 * xbound)  # y − x ≤ 2·max|x| (padding included)
                    ds.append(de)
            zero_product(ds, yt, gout.size, f"{op.source} max")
            looked_up.add(yt)  # y = some tap of x: bounded like x
        elif k == "max":
            # y = the largest entry along one axis: per position j along it a Gather takes x[..., j, ...] and a
            # committed d_j = y − x_j is range-checked ≥ 0; Π_j d_j = 0 makes y one of them (as a max pooling)
            xt, yt = op.inputs[0], op.outputs[0]
            for t in (xt, yt):
                if t in grids and grids[t].padded:
                    raise UnsupportedModelError(f"max {op.source}: {t} is laid out on a convolution's padded grid; "
                                                "not provable yet")
            shape = tuple(int(d) for d in model.tensors[xt].shape)
            axis = int(op.params["axis"]) % len(shape)
            xe = operand(xt)
            if shape[axis] == 1:
                exprs[yt] = xe
                continue
            ye = new_vector(yt)
            n_out = size(yt)
            xbound = _pow2_at_least(max(1, model.tensors[xt].bound) + 1)
            neg_x = Expr(xe.length, tuple(Term(t.vector, -t.coef % R, t.shift) for t in xe.terms), -xe.const % R)
            ds = []
            for j in range(shape[axis]):
                tap = Selection.take(shape, axis, j)
                dname = f"{_vec_name(yt)}.d{j}"
                de = c.add_vector(dname, n_out, "witness")
                sources[dname] = Selected((ye, neg_x), (Selection.identity(n_out), tap), n_out)
                diff = Expr(n_out, ye.terms + (Term(dname, R - 1),), ye.const)
                c.constraints.append(Gather((xe,), (tap,), diff, f"{op.source} entry {j}"))
                check_range(dname, n_out, 0, 4 * xbound)  # y − x_j ≤ 2·max|x|
                ds.append(de)
            zero_product(ds, yt, n_out, f"{op.source} max")
            looked_up.add(yt)  # y = some entry of x: bounded like x
        elif k == "rescale":
            src, (q, rem) = op.inputs[0], op.outputs
            M, s = int(op.params["M"]), int(op.params["s"])
            t0 = M * fill.get(src, 0) + (1 << (s - 1))
            fill[q], fill[rem] = t0 >> s, t0 - ((t0 >> s) << s)
            qe, re_ = new_vector(q), remainder(rem, s)
            # M·x + 2^(s−1) = 2^s·q + rem
            if src in pending:
                p = pending.pop(src)
                if p.rows > 1 and any(c.vectors[t.vector].kind == "public" for t in qe.terms):
                    qe = committed(q)  # a public output: the matmul reads a committed copy
                mi = inv(M)
                acc = Expr(p.length, tuple(Term(t.vector, t.coef * (1 << s) * mi % R, t.shift) for t in qe.terms)
                           + tuple(Term(t.vector, t.coef * mi % R, t.shift) for t in re_.terms),
                           -(1 << (s - 1)) * mi % R)
                c.constraints.append(p.make(acc))
            else:
                xe = expr(src)
                terms = tuple(Term(t.vector, t.coef * M % R, t.shift) for t in xe.terms)
                terms += tuple(Term(t.vector, -(1 << s) % R, t.shift) for t in qe.terms)
                terms += tuple(Term(t.vector, -t.coef % R, t.shift) for t in re_.terms)
                c.constraints.append(Zero(Expr(xe.length, terms, (xe.const * M + (1 << (s - 1))) % R), f"rescale {q}"))
        elif k == "table":
            x, (y, idx) = op.inputs[0], op.outputs
            tab = model.tables[op.params["table"]]
            fi = fill.get(x, 0) - int(tab.lo)
            if x in grids and grids[x].padded and not 0 <= fi < tab.size:
                raise UnsupportedModelError(f"table {op.source}: padding value {fill.get(x, 0)} outside the table")
            fill[y] = int(np.asarray(tab.values)[fi]) if 0 <= fi < tab.size else 0
            t = c.add_table(tab.name, "map", int(tab.lo), int(tab.size))
            table_values[t.name] = np.asarray(tab.values)
            ye = new_vector(y)
            c.constraints.append(Lookup(t.name, operand(x), ye, f"{tab.fn} {y}"))
            looked_up.add(x)
            looked_up.add(y)  # outputs are table values: bounded by the table
            exprs[idx] = None  # the index is implicit in the lookup
        elif k in ("add", "sub"):
            a, b = (broadcast(t, op.outputs[0], f"{k} {op.source}") for t in op.inputs)
            sign = 1 if k == "add" else R - 1
            fill[op.outputs[0]] = fill.get(op.inputs[0], 0) + (1 if k == "add" else -1) * fill.get(op.inputs[1], 0)
            exprs[op.outputs[0]] = Expr(a.length, a.terms + tuple(Term(t.vector, t.coef * sign % R, t.shift) for t in b.terms),
                                        (a.const + sign * b.const) % R)
        elif k in ("add_const", "mul_const"):
            cst = np.asarray(op.params["c"])
            xt, yt = op.inputs[0], op.outputs[0]
            a = operand(xt) if k == "mul_const" and cst.size != 1 else expr(xt)  # a Hadamard side, or an expression
            f0 = fill.get(xt, 0)
            if cst.size == 1:
                v = int(cst.reshape(-1)[0])
                fill[yt] = f0 + v if k == "add_const" else f0 * v
                if k == "add_const":
                    exprs[yt] = Expr(a.length, a.terms, (a.const + v) % R)
                else:
                    exprs[yt] = Expr(a.length, tuple(Term(t.vector, t.coef * v % R, t.shift) for t in a.terms),
                                     a.const * v % R)
                continue
            # a per-entry constant: a fixed vector on the tensor's grid, 0 on padding cells
            full = np.broadcast_to(cst, model.tensors[xt].shape)
            g = grids.get(xt)
            if g is not None:
                full = g.embed(full)
            cname = f"C.{len(fixed)}.{_vec_name(yt)}"
            ce = c.add_vector(cname, a.length, "fixed")
            fixed[cname] = [int(v) % R for v in full.reshape(-1).tolist()]
            if k == "add_const":
                fill[yt] = f0
                exprs[yt] = Expr(a.length, a.terms + ce.terms, a.const)
            else:
                fill[yt] = 0
                if g is not None and g.padded and f0 != 0:
                    raise UnsupportedModelError(f"mul_const {op.source}: padding value would not stay 0")
                pending[yt] = _Pending(lambda out, a=a, ce=ce, nm=op.source or yt: Hadamard(a, ce, out, nm), a.length)
        elif k == "mul":
            at, bt = op.inputs
            a, b = (broadcast(t, op.outputs[0], f"mul {op.source}", laid_out=True) for t in (at, bt))
            fill[op.outputs[0]] = fill.get(at, 0) * fill.get(bt, 0)
            if set(a.vectors()) & set(b.vectors()):
                # x∘x: the two sides' zero-knowledge tails must sit in different windows (docs/protocol.md §7.3),
                # so one side becomes a committed copy bound by a Zero relation (reads data only)
                cname = f"{_vec_name(bt)}.copy{len(c.vectors)}"
                ce = c.add_vector(cname, b.length, "witness")
                sources[cname] = source(bt)
                c.constraints.append(Zero(Expr(b.length, ce.terms + tuple(Term(t.vector, -t.coef % R, t.shift)
                                                                           for t in b.terms), -b.const % R),
                                          f"copy {bt}"))
                b = ce
            pending[op.outputs[0]] = _Pending(
                lambda out, a=a, b=b, nm=op.source or op.outputs[0]: Hadamard(a, b, out, nm), a.length)
        elif k == "reshape":
            exprs[op.outputs[0]] = expr(op.inputs[0])
            fill[op.outputs[0]] = fill.get(op.inputs[0], 0)

    # Outputs that are expressions (not committed): bind them to a public vector with a Zero constraint.
    for o in model.output_names:
        if o in pending:
            expr(o)
        e = exprs[o]
        if not (len(e.terms) == 1 and e.terms[0].vector == _vec_name(o) and e.const == 0):
            pub = c.add_vector(_vec_name(o) + ".out", size(o), "public", "output", bound=2**62)
            sources[_vec_name(o) + ".out"] = source(o)
            c.constraints.append(Zero(Expr(e.length, e.terms + (Term(pub.terms[0].vector, R - 1),), e.const), f"output {o}"))

    # Public outputs dequantize with their tensor's scale (proof.json's outputs_float is derived from these).
    for v in c.public("output"):
        t = sources[v.name].tensor
        c.meta["output_scales"][v.name] = float(model.tensors[t].scale)

    # Committed values no lookup reads (quotients feeding another rescale, accumulators): range-check them over
    # their calibrated bound.
    for v in list(c.vectors.values()):
        src = sources.get(v.name)
        if v.kind != "witness" or not isinstance(src, FromTensor) or src.tensor in looked_up:
            continue
        t = src.tensor
        half = _pow2_at_least(max(1, model.tensors[t].bound) + 1)
        check_range(v.name, v.length, -half, 2 * half)

    _drop_unread_fixed(c, fixed)  # a constant folded into every bias that read it
    _pack_weights(c, fixed)

    # The map tables' output column.
    if any(t.kind == "map" for t in c.tables.values()):
        col = []
        for t, _ in table_layout(c):
            col += [int(v) for v in table_values[t.name]] if t.kind == "map" else [0] * t.size
        # ReLU tables are max(v, 0) over their rows: with nothing else in the column it is not hidden
        relu_only = all(t.kind != "map" or _is_relu(t, table_values[t.name]) for t in c.tables.values())
        c.add_vector(TABLE_OUT, len(col), "fixed", role=PARAMETER_FREE if relu_only else "")
        fixed[TABLE_OUT] = [v % R for v in col]
    c.check()
    return Compiled(c, fixed, WitnessPlan(sources))


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
