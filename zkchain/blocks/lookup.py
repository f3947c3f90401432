"""Lookup block (logUp): every queried tuple lies in a fixed table. Covers ReLU and every table
non-linearity (input, output pairs), rescale remainders and input ranges (single values).

Relation. All lookups of a model share one concatenated table with rows ``(tag, a_j, b_j)`` (one segment per
:class:`~zkchain.compiler.circuit.Table`) and one concatenated query vector with entries
``(tag_ℓ, inp_ℓ[i], out_ℓ[i])`` (``out = 0`` for range tables). Claim: every query row is a table row.

Protocol. logUp (Haböck, *Multivariate lookups based on logarithmic derivatives*, ePrint 2022/1530, §2),
carried out in the coefficient basis (``docs/protocol.md`` §5.2). It is a whole-circuit *argument* with its own
rounds (:class:`LogUp`); each :class:`Lookup` constraint only adds a segment of queries:

1. Prover commits the multiplicities ``m`` (how often each table row is queried) with the witness.
2. Challenges ``γ`` (row compression) and ``β``. ``f_i = tag + γ·inp_i + γ²·out_i``, ``t_j = tag + γ·a_j + γ²·b_j``.
3. Prover commits ``h_i = 1/(β − f_i)`` and ``g_j = m_j/(β − t_j)``.
4. Three claims of the Laurent inner-product argument (challenge ``ρ`` weights the Hadamard products):

   (a) ``Σ_i ρ^i h_i (β·ind_i − F_i) = ind(ρ)``  left ``H``, right ``Q̂_a(Y) = β·ind(ρY) − F(ρY)``
   (b) ``Σ_j ρ^j g_j (β − t_j) = ⟨m, q_NT⟩``    left ``G``, right ``Q̂_b(Y) = β·ones(ρY) − T(ρY)``; ``m``'s data
   (c) ``⟨h, ind⟩ − Σ_j g_j = 0``               left ``H, G``, right ``ind(Y), −ones_NT(Y)``, value 0

Query layout with gaps (v2, ``docs/protocol.md`` §7.3): segment ℓ starts at ``off_ℓ`` and is followed by a gap of
``G`` = :data:`~zkchain.blocks.common.RESERVED_SPAN` positions when it has committed operands, where their
zero-knowledge tails land; ``ind(y) = Σ_ℓ y^(off_ℓ)·ones_(n_ℓ)(y)`` marks the data positions. The honest ``h`` is
zero on the gaps. Claim (c) sums over ``ind`` only: in a gap, (a) only forces ``h_i·F_i = 0``, so a prover that
zeroes its operand tails there could otherwise choose ``h_i`` freely to balance the sums.

Verifier equations (parts of the aggregated Laurent check): (a) ``H(ζ)·(β·ind(ρ/ζ) − F(ρ/ζ))`` against
``ind(ρ)``, (b) ``G(ζ)·(β·ones_NT(ρ/ζ) − T(ρ/ζ))`` against ``M(ζ)·ones_NT(ρ/ζ)``,
(c) ``H(ζ)·ind(1/ζ) − G(ζ)·ones_NT(1/ζ)``; ``F(ρ/ζ)`` from the query vectors opened at ``ρ/ζ``; ``T(ρ/ζ)`` in
closed form for the tag and input columns plus the committed output column ``table_out`` opened at ``ρ/ζ``.
``m``, ``h``, ``g`` are opened at ζ only.

Soundness error. (a), (b) fail to catch a wrong ``h``/``g`` with probability ≤ N̄/r over ρ; the logUp identity
``Σ 1/(β − f_i) = Σ m_j/(β − t_j)`` with some ``f_i`` outside the table holds with probability
≤ (N_F + N_T)/r over β (Haböck Lemma 5, p > N_F); row compression collides with probability ≤ 2/r per pair over γ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks.common import (POINT_MONOMIALS, RESERVED_SPAN, RHO, RHO_ZETA_INV, ZETA, ZETA_INV, Argument,
                                   expr_values, weighted)
from zkchain.blocks.inner_product import LaurentClaim
from zkchain.blocks.layout import Atom, Diag, LayoutClaim, Lin, Rows, positions_lin
from zkchain.compiler.circuit import Block, Circuit, Expr
from zkchain.crypto.field import R, batch_inverse
from zkchain.errors import InputError

TABLE_OUT = "table_out"  # fixed vector: concatenated outputs of the map tables (zero on range segments)
M, H, G = "m", "h", "g"  # the argument's own polynomials: multiplicities, query and table helpers
GAMMA, BETA = "gamma", "beta"  # its challenges, drawn after the witness round: row compression, logUp point


@dataclass(frozen=True)
class Lookup(Block):
    """Every ``(inp_i, out_i)`` (or ``inp_i`` alone when ``out`` is None) is a row of table ``table``."""

    kind = "lookup"
    table: str
    inp: Expr
    out: Expr | None
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if self.table not in circuit.tables:
            raise ValueError(f"{where}: unknown table {self.table!r}")
        if self.out is not None and self.out.length != self.inp.length:
            raise ValueError(f"{where}: input and output lengths differ")
        if (self.out is None) != (circuit.tables[self.table].kind == "range"):
            raise ValueError(f"{where}: range tables take no output, map tables need one")

    def openings(self, circuit) -> list[tuple[str, str]]:
        return [(v, RHO_ZETA_INV) for e in (self.inp, self.out) if e is not None for v in e.vectors()]

    def structured_expressions(self) -> list[tuple[str, Expr]]:
        """Both columns: the output sits in the query column ``F`` at the segment's offset, like the input."""
        return [(n, e) for n, e in (("inp", self.inp), ("out", self.out)) if e is not None]

    def layout(self, lay) -> list:
        return []  # its segment is part of the logUp argument's claims (LogUp.layout)


# -- layout ---------------------------------------------------------------------------------------------------

def table_layout(circuit: Circuit) -> list[tuple]:
    """Tables in tag order with the offset of each in the concatenated table column."""
    out, off = [], 0
    for t in sorted(circuit.tables.values(), key=lambda t: t.tag):
        out.append((t, off))
        off += t.size
    return out


def table_length(circuit: Circuit) -> int:
    return sum(t.size for t in circuit.tables.values())


def _gap(circuit: Circuit, c: Lookup) -> int:
    """The gap after lookup ``c``'s segment: room for its committed operands' tails (0 when it has none)."""
    committed = {v.name for v in circuit.vectors.values() if v.kind != "public"}
    ops = [v for e in (c.inp, c.out) if e is not None for v in e.vectors()]
    return RESERVED_SPAN if any(v in committed for v in ops) else 0


def lookup_layout(circuit: Circuit) -> list[tuple[Lookup, int]]:
    """Lookups in order with the offset of each in the concatenated query vector (segments and gaps)."""
    out, off = [], 0
    for c in circuit.of_block(Lookup):
        out.append((c, off))
        off += c.inp.length + _gap(circuit, c)
    return out


def query_length(circuit: Circuit) -> int:
    """``N_F``: every segment and its gap."""
    return sum(c.inp.length + _gap(circuit, c) for c in circuit.of_block(Lookup))


def indicator(circuit: Circuit) -> list[int]:
    """``ind``: 1 at the data positions of the query layout, 0 in the gaps."""
    ind = [0] * query_length(circuit)
    for c, off in lookup_layout(circuit):
        ind[off: off + c.inp.length] = [1] * c.inp.length
    return ind


# -- prover ---------------------------------------------------------------------------------------------

def table_rows(circuit: Circuit, table_out: list[int] | None) -> list[tuple[int, int, int]]:
    """All rows ``(tag, a, b)`` of the concatenated table (b as a field element; 0 for range tables)."""
    rows = []
    for t, off in table_layout(circuit):
        for i in range(t.size):
            b = table_out[off + i] if (t.kind == "map" and table_out is not None) else 0
            rows.append((t.tag, (t.lo + i) % R, b % R))
    return rows


def query_rows(circuit: Circuit, values) -> list[tuple[int, int, int]]:
    """All query rows ``(tag, inp_i, out_i)`` in segment order, gaps left out; ``values(name)`` gives a vector's
    entries."""
    rows = []
    for c, _ in lookup_layout(circuit):
        tag = circuit.tables[c.table].tag
        inp = expr_values(c.inp, values)[: c.inp.length]
        out = expr_values(c.out, values)[: c.inp.length] if c.out is not None else [0] * len(inp)
        rows += [(tag, a, b) for a, b in zip(inp, out)]
    return rows


def query_column(circuit: Circuit, coeffs, gamma: int) -> list[int]:
    """``F``: the compressed query polynomial over the whole layout, from the committed operand polynomials
    (``coeffs(name)``), so the operands' tails sit in the gaps exactly as the verifier's ``F(ρ/ζ)`` sees them."""
    g2 = gamma * gamma % R
    f = [0] * query_length(circuit)
    for c, off in lookup_layout(circuit):
        tag = circuit.tables[c.table].tag % R
        for i in range(c.inp.length):
            f[off + i] = tag
        for e, w in ((c.inp, gamma), (c.out, g2)):
            if e is None:
                continue
            for i, a in enumerate(expr_values(e, coeffs)):
                if off + i >= len(f):
                    f.extend([0] * (off + i + 1 - len(f)))  # only a cheating prover's over-long operand
                f[off + i] = (f[off + i] + w * a) % R
    return f


def multiplicities(circuit: Circuit, queries: list[tuple[int, int, int]], table: list[tuple[int, int, int]],
                   strict: bool = True) -> list[int]:
    """``m_j`` = number of query rows (:func:`query_rows`) equal to table row ``j`` (:func:`table_rows`).

    Raises :class:`InputError` naming the lookup whose value is outside its table (a value out of the
    calibrated range); ``strict=False`` skips such values instead (cheating provers in soundness tests)."""
    index: dict[tuple[int, int, int], int] = {}
    for j, row in enumerate(table):
        index.setdefault(row, j)
    m = [0] * len(table)
    for pos, row in enumerate(queries):
        j = index.get(row)
        if j is None:
            if not strict:
                continue
            seg, start = None, 0
            for seg in circuit.of_block(Lookup):
                if pos < start + seg.inp.length:
                    break
                start += seg.inp.length
            c, off = seg, start
            t = circuit.tables[c.table]
            a = row[1] if row[1] <= R // 2 else row[1] - R
            raise InputError(
                f"value out of the calibrated range: {c.name or c.table} entry {pos - off} is {a}, "
                f"table {t.name!r} covers [{t.lo}, {t.lo + t.size - 1}]"
                + ("" if c.out is None else " (or its output does not match the table)"))
        m[j] += 1
    return m


def compress(rows: list[tuple[int, int, int]], gamma: int) -> list[int]:
    g2 = gamma * gamma % R
    return [(tag + gamma * a + g2 * b) % R for tag, a, b in rows]


def helper_vectors(f: list[int], t: list[int], m: list[int], beta: int) -> tuple[list[int], list[int]]:
    """``h_i = 1/(β − f_i)`` and ``g_j = m_j/(β − t_j)`` (one batch inversion). Raises ``ZeroDivisionError``
    if β hits a row (probability ≤ (N_F + N_T)/r)."""
    inv_all = batch_inverse([(beta - x) % R for x in f + t])
    h = inv_all[: len(f)]
    g = [mj * x % R for mj, x in zip(m, inv_all[len(f):])]
    return h, g


def hadamard_right(values: list[int], beta: int, rho: int) -> list[int]:
    """Coefficients of ``Q̂(Y) = β·ones(ρY) − V(ρY)``: entry ``i`` is ``(β − v_i)·ρ^i``."""
    out, p = [], 1
    for v in values:
        out.append((beta - v) * p % R)
        p = p * rho % R
    return out


# -- the argument ---------------------------------------------------------------------------------------------

class LogUp(Argument):
    """The whole-circuit logUp argument: its polynomials, rounds, challenges, openings and claims (see the module
    doc). Active when the circuit has at least one :class:`Lookup`."""

    name = "logup"
    names = (M, H, G)

    @staticmethod
    def active(circuit: Circuit) -> bool:
        return bool(circuit.of_block(Lookup))

    @staticmethod
    def challenges(circuit: Circuit) -> dict[str, tuple[str, ...]]:
        return {"witness": (GAMMA, BETA)}

    @staticmethod
    def partners(circuit: Circuit) -> set[str]:
        """``table_out`` and every vector a lookup reads: the claims pair them with ``m``, ``h`` and ``g``."""
        out = {TABLE_OUT} & set(circuit.vectors)
        for lk in circuit.of_block(Lookup):
            out |= {n for n, _ in lk.openings(circuit)}
        return out

    @staticmethod
    def polynomials(circuit: Circuit) -> list[tuple[str, int, str]]:
        """``(name, length, round)`` of the committed polynomials (all degree-checked)."""
        nt, nf = table_length(circuit), query_length(circuit)
        return [(M, nt, "witness"), (H, nf, "helpers"), (G, nt, "helpers")]

    @staticmethod
    def openings(circuit: Circuit) -> list[tuple[str, str]]:
        out = [(M, ZETA), (H, ZETA), (G, ZETA)]
        if TABLE_OUT in circuit.vectors:
            out.append((TABLE_OUT, RHO_ZETA_INV))
        return out

    @staticmethod
    def closed_forms(circuit: Circuit) -> dict:
        """A parameter-free ``table_out`` is the ReLU column: ``max(v, 0)`` on every map table's rows ``v = lo + i``
        and 0 on range tables, so ``T_out(x) = Σ_map x^(off + i0)·((lo + i0)·ones_n(x) + iota_n(x))`` with
        ``i0 = max(0, −lo)``, ``n = size − i0`` (the verifier evaluates it: a VK cannot swap in another function)."""
        from zkchain.compiler.circuit import PARAMETER_FREE

        if TABLE_OUT not in circuit.vectors or circuit.vectors[TABLE_OUT].role != PARAMETER_FREE:
            return {}

        def column(vc, point):
            L, x = vc.L, vc.points[point]
            parts = []
            for t, off in table_layout(circuit):
                i0 = max(0, -t.lo)
                n = t.size - i0
                if t.kind != "map" or n <= 0:
                    continue
                inner = L.lincomb([((t.lo + i0) % R, L.ones(n, x)), (1, L.iota(n, x))])
                parts.append((1, L.pow(x, off + i0) * inner if off + i0 else inner))
            return L.lincomb(parts, "ReLU table column")

        return {TABLE_OUT: column}

    @staticmethod
    def prover_round(round_name: str, pc, strict: bool) -> dict[str, list[int]]:
        """The argument's polynomials of round ``round_name`` (entries), from the challenges drawn so far."""
        c, st = pc.circuit, pc.state.setdefault("logup", {})
        if round_name == "witness":
            st["queries"] = query_rows(c, pc.values.__getitem__)
            st["table"] = table_rows(c, pc.values.get(TABLE_OUT))
            return {M: multiplicities(c, st["queries"], st["table"], strict=strict)}
        if round_name == "helpers":
            gamma, beta = pc.challenges[GAMMA], pc.challenges[BETA]
            st["t"] = compress(st["table"], gamma)
            st["F"] = query_column(c, pc.committed, gamma)
            try:
                hq, g = helper_vectors(compress(st["queries"], gamma), st["t"], pc.values[M], beta)
            except ZeroDivisionError:  # β hit a row: probability ≤ (N_F + N_T)/r
                raise ValueError("challenge β equals a lookup row; retry with another transcript") from None
            h = [0] * query_length(c)  # zero on the gaps
            k = 0
            for lk, off in lookup_layout(c):
                h[off: off + lk.inp.length] = hq[k: k + lk.inp.length]
                k += lk.inp.length
            return {H: h, G: g}
        return {}

    @staticmethod
    def prover_claims(pc) -> list[LaurentClaim]:
        c, st = pc.circuit, pc.state["logup"]
        beta, rho = pc.challenges[BETA], pc.rho
        nt = table_length(c)
        ind = indicator(c)
        F = st["F"] + [0] * max(0, len(ind) - len(st["F"]))
        right_a = weighted([(beta * i - f) % R for i, f in zip(ind + [0] * (len(F) - len(ind)), F)], rho)
        poly = pc.coeffs.get
        right_b = hadamard_right(st["t"], beta, rho)
        if TABLE_OUT in c.vectors:  # T̃ reads table_out's mask (past every coefficient of g, docs/protocol.md §7.6)
            g2, out = pc.challenges[GAMMA] ** 2 % R, pc.committed(TABLE_OUT)
            for i in range(nt, len(out)):
                if out[i]:
                    right_b += [0] * (i + 1 - len(right_b))
                    right_b[i] = -g2 * out[i] * pow(rho, i, R) % R
        return [
            LaurentClaim([(poly(H), right_a)], sum(weighted(ind, rho)) % R, "logUp queries"),
            LaurentClaim([(poly(G), right_b), pc.rho_read(M, nt, -1)], 0, "logUp table"),
            LaurentClaim([(poly(H), ind), (poly(G), [R - 1] * nt)], 0, "logUp sums"),
        ]

    @staticmethod
    def layout(lay) -> list:
        """(a) ``h[i]`` meets ``β·ind_i`` and the query column ``F[i]`` (each segment's tag, ``γ·inp``, ``γ²·out``
        at its offset) in row ``i``, relation rows the segments' data; (b) ``g[j]`` meets ``β − tag − γ·a_j`` and
        ``T̃_out[j]`` in row ``j``, and ``m``'s data is read, relation rows ``[0, N_T)``; (c) ``h`` over ``ind``
        and ``g`` over ``[0, N_T)`` in one row."""
        c = lay.circuit
        nt = table_length(c)
        segs = lookup_layout(c)
        ind = np.concatenate([np.arange(off, off + lk.inp.length, dtype=np.int64) for lk, off in segs])
        Hs, Gs, Ms = (Atom(H),), (Atom(G),), (Atom(M),)
        F = sum((lay.constant(lk.inp.length, off) + lay.atoms(lk.inp, off)
                 + (lay.atoms(lk.out, off) if lk.out is not None else ()) for lk, off in segs), ())
        a = LayoutClaim("logUp queries", "logUp", (positions_lin(Hs, ind, what="β·ind"),
                                                   Diag(Hs, F, ((0, "pos", 0),), "h[i]·F[i]")), Rows.positions(ind))
        tj = np.arange(nt, dtype=np.int64)
        fb = [positions_lin(Gs, tj, what="β − t_j"), positions_lin(Ms, tj, what="read of m")]
        if TABLE_OUT in c.vectors:
            fb.append(Diag(Gs, (Atom(TABLE_OUT),), ((0, "pos", 0),), "g[j]·T̃_out[j]"))
        b = LayoutClaim("logUp table", "logUp", tuple(fb), Rows([(0, nt)]))
        sums = (Lin(Hs, ind, np.zeros(len(ind), dtype=np.int64), "⟨h, ind⟩"),
                Lin(Gs, tj, np.zeros(nt, dtype=np.int64), "Σ g"))
        return [a, b, LayoutClaim("logUp sums", "logUp", sums, Rows([(0, 1)]))]

    @staticmethod
    def verifier_claims(vc) -> list:
        L, c = vc.L, vc.circuit
        gamma, beta = vc.ch[GAMMA], vc.ch[BETA]
        nt = table_length(c)
        x = vc.rho_zeta_inv
        g2 = L.named(gamma * gamma)
        # F(ρ/ζ): the concatenated query vector, segment by segment
        parts = []
        for j, (lk, off) in enumerate(lookup_layout(c)):
            tag = c.tables[lk.table].tag
            items = [(tag % R, L.ones(lk.inp.length, x))] if tag % R else []
            items.append((1, gamma * vc.at(lk.inp, RHO_ZETA_INV)))
            if lk.out is not None:
                items.append((1, g2 * vc.at(lk.out, RHO_ZETA_INV)))
            parts.append((1, L.pow(x, off) * L.lincomb(items, f"lookup {lk.name}")))
        f_x = L.lincomb(parts, "F(rho/zeta)")
        # T(ρ/ζ): structured tag and input columns, the committed output column
        tparts = []
        for t, off in table_layout(c):
            o = L.ones(t.size, x)
            inner = L.lincomb([(t.lo % R, o), (1, L.iota(t.size, x))])
            tparts.append((1, L.pow(x, off) * L.lincomb([(t.tag % R, o), (1, gamma * inner)], f"table {t.name}")))
        if TABLE_OUT in c.vectors:
            tparts.append((1, g2 * vc.vec(TABLE_OUT, RHO_ZETA_INV)))
        t_x = L.lincomb(tparts, "T(rho/zeta)")
        h_z, g_z = L.opened(ZETA, H), L.opened(ZETA, G)
        la = L.named(h_z * (beta * indicator_eval(vc, RHO_ZETA_INV) - f_x), "logUp (a)")
        lb = L.named(g_z * (beta * L.ones(nt, x) - t_x), "logUp (b)")
        lc = L.named(h_z * indicator_eval(vc, ZETA_INV) - g_z * L.ones(nt, vc.zeta_inv), "logUp (c)")
        return [(la, indicator_eval(vc, RHO)), (lb, vc.rho_read(M, nt)), (lc, L.const(0))]


def indicator_eval(vc, point: str):
    """``ind(y) = Σ_ℓ y^(off_ℓ)·ones_(n_ℓ)(y)`` at ``y`` = the named point, through the loader (runs of
    equal-length segments at a constant stride collapse to ``y^o·ones_n(y)·ones_k(y^stride)``)."""
    L, c = vc.L, vc.circuit
    a, b = POINT_MONOMIALS[point]
    y = vc.points[point]
    runs: list[list[int]] = []  # [n, first offset, stride, count]
    for lk, off in lookup_layout(c):
        n = lk.inp.length
        if runs and runs[-1][0] == n and (runs[-1][3] == 1 or off - runs[-1][1] == runs[-1][2] * runs[-1][3]):
            r = runs[-1]
            if r[3] == 1:
                r[2] = off - r[1]
            r[3] += 1
        else:
            runs.append([n, off, 0, 1])
    parts = []
    for n, o, stride, k in runs:
        f = [L.pow(y, o), L.ones(n, y)] if o else [L.ones(n, y)]
        if k > 1:
            f.append(L.ones(k, L.point(a * stride, b * stride)))
        parts.append((1, L.prod(f)))
    return L.lincomb(parts, "ind")
