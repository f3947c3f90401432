"""Lowering: integer model (``zkchain.quant``) → circuit of basic blocks (``zkchain.compiler.circuit``).

One table says how each integer primitive becomes blocks (tinygrad style: find an op with one grep):

==============  ==========================================================================================
primitive       blocks
==============  ==========================================================================================
``linear``      MatMul with the weights (bias folded) as a fixed vector; its accumulator is *not* committed
                when a ``rescale`` consumes it: it becomes the expression ``(2^s·q + rem − 2^(s−1))/M``
``rescale``     quotient ``q`` and the remainder's 8-bit limbs committed; Lookups ``limb ∈ [0, 2^8)``; a Zero
                constraint only when the input is not a pending matmul accumulator
``table``       output committed; Lookup ``(x, y)`` in the map table (also range-checks ``x``)
``add/sub``     expression (no commitment, no constraint)
``add_const``   expression (scalar constants)
``mul_const``   expression (scalar constants)
``reshape``     alias (row-major order is unchanged)
==============  ==========================================================================================

Every other primitive is reported (with its ONNX node) as not yet provable. Quotients that no lookup reads
get a range check over their calibrated bound, the private input a range check over its quantized range, so
every committed value is a small integer and the field relations are the integer relations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from zkchain.blocks.lookup import TABLE_OUT
from zkchain.blocks.matmul import weight_vector
from zkchain.compiler.circuit import Circuit, Expr, Lookup, MatMul, Term, Zero
from zkchain.crypto.field import R, inv
from zkchain.errors import UnsupportedModelError

PROVABLE = ("linear", "rescale", "table", "add", "sub", "add_const", "mul_const", "reshape")
LIMB_BITS = 8  # remainders are committed as 8-bit limbs so every range table stays ≤ 256 rows


@dataclass
class _Pending:
    """A matmul whose accumulator has not been given an expression yet."""

    x: Expr
    weight: str
    k: int
    n: int
    name: str


@dataclass
class Compiled:
    """The circuit, the private fixed values, and how to read the vectors' values from a witness."""

    circuit: Circuit
    fixed_values: dict[str, list[int]]
    # vector name -> (integer tensor name in the witness, limb shift, limb bits); bits 0 = the whole value
    sources: dict[str, tuple[str, int, int]]

    def vector_values(self, witness) -> dict[str, list[int]]:
        """Witness/public vector entries (flattened row-major signed ints) from an executor witness."""
        out = {}
        for v, (t, shift, bits) in self.sources.items():
            vals = [int(a) for a in np.asarray(witness[t]).reshape(-1).tolist()]
            out[v] = vals if bits == 0 else [(a >> shift) & ((1 << bits) - 1) for a in vals]
        return out


def _vec_name(tensor: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", tensor)


def _pow2_at_least(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


def lower(model, public_input: bool = False) -> Compiled:
    """Lower a :class:`zkchain.quant.model.QuantizedModel` to a circuit.

    The input is private (a committed witness vector) unless ``public_input``; outputs are public.
    Raises :class:`UnsupportedModelError` listing every op that has no block yet (with its ONNX node)."""
    bad = [f"{op.kind} (node {op.source or '?'})" for op in model.ops if op.kind not in PROVABLE]
    if bad:
        raise UnsupportedModelError("these operations have no proof block yet: " + ", ".join(bad))
    for op in model.ops:
        if op.kind == "linear" and int(np.prod(model.tensors[op.inputs[0]].shape[:-1])) != 1:
            raise UnsupportedModelError(f"linear {op.source}: only batch 1 is provable so far")

    c = Circuit(meta={"model": model.info.get("model", ""), "input": model.input_name,
                      "outputs": list(model.output_names)})
    fixed: dict[str, list[int]] = {}
    sources: dict[str, tuple[str, int, int]] = {}
    exprs: dict[str, Expr] = {}
    pending: dict[str, _Pending] = {}
    consumers: dict[str, list] = {}
    for op in model.ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    outputs = set(model.output_names)
    looked_up: set[str] = set()  # tensors whose range a lookup already proves
    table_values: dict[str, np.ndarray] = {}

    def size(t: str) -> int:
        return int(np.prod(model.tensors[t].shape))

    def new_vector(t: str, kind_hint: str = "witness") -> Expr:
        name = _vec_name(t)
        n = size(t)
        if t in outputs:
            e = c.add_vector(name, n, "public", "output", bound=2**62)
        else:
            e = c.add_vector(name, n, kind_hint)
        sources[name] = (t, 0, 0)
        exprs[t] = e
        return e

    def range_check(t: str, e: Expr, lo: int, size_: int) -> None:
        tab = c.add_table(f"range[{lo},{lo + size_})", "range", lo, size_)
        c.constraints.append(Lookup(tab.name, e, None, f"range {t}"))

    def remainder(t: str, s: int) -> Expr:
        """Commit ``rem ∈ [0, 2^s)`` as limbs of LIMB_BITS bits, each range-checked; return ``Σ 2^(8i)·limb_i``."""
        n, terms = size(t), []
        for i, lo_bit in enumerate(range(0, s, LIMB_BITS)):
            bits = min(LIMB_BITS, s - lo_bit)
            name = f"{_vec_name(t)}.{i}"
            e = c.add_vector(name, n, "witness")
            sources[name] = (t, lo_bit, bits)
            range_check(name, e, 0, 1 << bits)
            terms.append(Term(name, 1 << lo_bit))
        looked_up.add(t)
        return Expr(n, tuple(terms))

    def expr(t: str) -> Expr:
        if t in pending:  # an accumulator read by something other than a rescale: commit it
            p = pending.pop(t)
            e = new_vector(t)
            c.constraints.append(MatMul(p.x, p.weight, p.k, p.n, e, p.name))
            return e
        return exprs[t]

    # The input.
    xin = model.input_name
    bound = max(1, model.tensors[xin].bound)
    half = _pow2_at_least(bound + 1)
    if public_input:
        e = c.add_vector(_vec_name(xin), size(xin), "public", "input", bound=2**62)
        sources[_vec_name(xin)] = (xin, 0, 0)
        exprs[xin] = e
    else:
        e = new_vector(xin)
        range_check(xin, e, -half, 2 * half)
        looked_up.add(xin)

    for op in model.ops:
        k = op.kind
        if k == "linear":
            x = expr(op.inputs[0])
            W = np.asarray(op.params["W"])
            b = np.asarray(op.params["bias"]).reshape(-1)
            kk, n = W.shape
            wname = f"W.{len(fixed)}.{_vec_name(op.outputs[0])}"
            c.add_vector(wname, (kk + 1) * n, "fixed")
            fixed[wname] = weight_vector(W.astype(object).tolist(), [int(v) for v in b])
            pending[op.outputs[0]] = _Pending(x, wname, kk, n, op.source or op.outputs[0])
        elif k == "rescale":
            src, (q, rem) = op.inputs[0], op.outputs
            M, s = int(op.params["M"]), int(op.params["s"])
            qe, re_ = new_vector(q), remainder(rem, s)
            # M·x + 2^(s−1) = 2^s·q + rem
            if src in pending:
                p = pending.pop(src)
                mi = inv(M)
                acc = Expr(p.n, tuple(Term(t.vector, t.coef * (1 << s) * mi % R, t.shift) for t in qe.terms)
                           + tuple(Term(t.vector, t.coef * mi % R, t.shift) for t in re_.terms),
                           -(1 << (s - 1)) * mi % R)
                c.constraints.append(MatMul(p.x, p.weight, p.k, p.n, acc, p.name))
            else:
                xe = expr(src)
                terms = tuple(Term(t.vector, t.coef * M % R, t.shift) for t in xe.terms)
                terms += tuple(Term(t.vector, -(1 << s) % R, t.shift) for t in qe.terms)
                terms += tuple(Term(t.vector, -t.coef % R, t.shift) for t in re_.terms)
                c.constraints.append(Zero(Expr(xe.length, terms, (xe.const * M + (1 << (s - 1))) % R), f"rescale {q}"))
        elif k == "table":
            x, (y, idx) = op.inputs[0], op.outputs
            tab = model.tables[op.params["table"]]
            t = c.add_table(tab.name, "map", int(tab.lo), int(tab.size))
            table_values[t.name] = np.asarray(tab.values)
            ye = new_vector(y)
            c.constraints.append(Lookup(t.name, expr(x), ye, f"{tab.fn} {y}"))
            looked_up.add(x)
            looked_up.add(y)  # outputs are table values: bounded by the table
            exprs[idx] = None  # the index is implicit in the lookup
        elif k in ("add", "sub"):
            a, b = expr(op.inputs[0]), expr(op.inputs[1])
            if a.length != b.length:
                raise UnsupportedModelError(f"{k} {op.source}: broadcasting is not provable yet")
            sign = 1 if k == "add" else R - 1
            exprs[op.outputs[0]] = Expr(a.length, a.terms + tuple(Term(t.vector, t.coef * sign % R, t.shift) for t in b.terms),
                                        (a.const + sign * b.const) % R)
        elif k in ("add_const", "mul_const"):
            cst = np.asarray(op.params["c"])
            if cst.size != 1:
                raise UnsupportedModelError(f"{k} {op.source}: only scalar constants are provable yet")
            v = int(cst.reshape(-1)[0])
            a = expr(op.inputs[0])
            if k == "add_const":
                exprs[op.outputs[0]] = Expr(a.length, a.terms, (a.const + v) % R)
            else:
                exprs[op.outputs[0]] = Expr(a.length, tuple(Term(t.vector, t.coef * v % R, t.shift) for t in a.terms),
                                            a.const * v % R)
        elif k == "reshape":
            exprs[op.outputs[0]] = expr(op.inputs[0])

    # Outputs that are expressions (not committed): bind them to a public vector with a Zero constraint.
    for o in model.output_names:
        if o in pending:
            expr(o)
        e = exprs[o]
        if not (len(e.terms) == 1 and e.terms[0].vector == _vec_name(o) and e.const == 0):
            pub = c.add_vector(_vec_name(o) + ".out", size(o), "public", "output", bound=2**62)
            sources[_vec_name(o) + ".out"] = (o, 0, 0)
            c.constraints.append(Zero(Expr(e.length, e.terms + (Term(pub.terms[0].vector, R - 1),), e.const), f"output {o}"))

    # Committed quotients no lookup reads: range-check over their calibrated bound.
    for v in list(c.vectors.values()):
        t = sources.get(v.name, ("", 0, 0))[0]
        if v.kind == "witness" and t and t not in looked_up:
            half = _pow2_at_least(max(1, model.tensors[t].bound) + 1)
            range_check(t, Expr.of(v.name, v.length), -half, 2 * half)

    # The map tables' output column.
    if any(t.kind == "map" for t in c.tables.values()):
        col = []
        for t, _ in c.table_layout():
            col += [int(v) for v in table_values[t.name]] if t.kind == "map" else [0] * t.size
        c.add_vector(TABLE_OUT, len(col), "fixed")
        fixed[TABLE_OUT] = [v % R for v in col]
    c.check()
    return Compiled(c, fixed, sources)
