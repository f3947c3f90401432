"""Lookup block (logUp): every queried tuple lies in a fixed table. Covers ReLU and every table
non-linearity (input, output pairs), rescale remainders and input ranges (single values).

Relation. All lookups of a model share one concatenated table with rows ``(tag, a_j, b_j)`` (one segment per
:class:`~zkchain.compiler.circuit.Table`) and one concatenated query vector with entries
``(tag_ℓ, inp_ℓ[i], out_ℓ[i])`` (``out = 0`` for range tables). Claim: every query row is a table row.

Protocol. logUp (Haböck, *Multivariate lookups based on logarithmic derivatives*, ePrint 2022/1530, §2),
carried out in the coefficient basis (``docs/protocol.md`` §5.2):

1. Prover commits the multiplicities ``m`` (how often each table row is queried) with the witness.
2. Challenges ``γ`` (row compression) and ``β``. ``f_i = tag + γ·inp_i + γ²·out_i``, ``t_j = tag + γ·a_j + γ²·b_j``.
3. Prover commits ``h_i = 1/(β − f_i)`` and ``g_j = m_j/(β − t_j)``.
4. Three claims of the Laurent inner-product argument (challenge ``ρ`` weights the Hadamard products):

   (a) ``Σ_i ρ^i h_i (β − f_i) = Σ_i ρ^i``   left ``H``, right ``Q̂_a(Y) = β·ones(ρY) − F(ρY)``, value ``ones_NF(ρ)``
   (b) ``Σ_j ρ^j g_j (β − t_j) = m(ρ)``     left ``G``, right ``Q̂_b(Y) = β·ones(ρY) − T(ρY)``, value ``m(ρ)``
   (c) ``Σ_i h_i − Σ_j g_j = 0``            left ``H, G``, right ``ones_NF(Y), −ones_NT(Y)``, value 0

Verifier equations (parts of the aggregated Laurent check): (a) ``H(ζ)·(β·ones_NF(ρ/ζ) − F(ρ/ζ))``,
(b) ``G(ζ)·(β·ones_NT(ρ/ζ) − T(ρ/ζ))``, (c) ``H(ζ)·ones_NF(1/ζ) − G(ζ)·ones_NT(1/ζ)``; ``F(ρ/ζ)`` from the
query vectors opened at ``ρ/ζ``; ``T(ρ/ζ)`` in closed form for the tag and input columns plus the committed
output column ``table_out`` opened at ``ρ/ζ``.

Soundness error. (a), (b) fail to catch a wrong ``h``/``g`` with probability ≤ N/r over ρ; the logUp identity
``Σ 1/(β − f_i) = Σ m_j/(β − t_j)`` with some ``f_i`` outside the table holds with probability
≤ (N_F + N_T)/r over β (Haböck Lemma 5, p > N_F); row compression collides with probability ≤ 2/r per pair over γ.
"""

from __future__ import annotations

from zkchain.blocks.common import RHO_ZETA_INV, expr_eval, expr_values, iota_eval, ones_eval
from zkchain.compiler.circuit import Circuit
from zkchain.crypto.field import R, batch_inverse
from zkchain.errors import InputError

TABLE_OUT = "table_out"  # fixed vector: concatenated outputs of the map tables (zero on range segments)


def openings(circuit: Circuit) -> list[tuple[str, str]]:
    """(vector, point) pairs the lookup block reads (besides its own ``m``, ``H``, ``G``)."""
    out = []
    for c, _ in circuit.lookup_layout():
        out += [(v, RHO_ZETA_INV) for v in c.inp.vectors()]
        if c.out is not None:
            out += [(v, RHO_ZETA_INV) for v in c.out.vectors()]
    if TABLE_OUT in circuit.vectors:
        out.append((TABLE_OUT, RHO_ZETA_INV))
    return out


# -- prover ---------------------------------------------------------------------------------------------

def table_rows(circuit: Circuit, table_out: list[int] | None) -> list[tuple[int, int, int]]:
    """All rows ``(tag, a, b)`` of the concatenated table (b as a field element; 0 for range tables)."""
    rows = []
    for t, off in circuit.table_layout():
        for i in range(t.size):
            b = table_out[off + i] if (t.kind == "map" and table_out is not None) else 0
            rows.append((t.tag, (t.lo + i) % R, b % R))
    return rows


def query_rows(circuit: Circuit, values) -> list[tuple[int, int, int]]:
    """All query rows ``(tag, inp_i, out_i)`` in layout order; ``values(name)`` gives a vector's entries."""
    rows = []
    for c, _ in circuit.lookup_layout():
        tag = circuit.tables[c.table].tag
        inp = expr_values(c.inp, values)
        out = expr_values(c.out, values) if c.out is not None else [0] * len(inp)
        rows += [(tag, a, b) for a, b in zip(inp, out)]
    return rows


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
            c, off = next((c, off) for c, off in reversed(circuit.lookup_layout()) if off <= pos)
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
    """``h_i = 1/(β − f_i)`` and ``g_j = m_j/(β − t_j)`` (one batch inversion). Raises ``ValueError`` if β
    hits a row (probability ≤ (N_F + N_T)/r)."""
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


# -- verifier -------------------------------------------------------------------------------------------

def query_eval(circuit: Circuit, x: int, gamma: int, vec) -> int:
    """``F(x)`` for the concatenated query vector; ``vec(name)`` is a vector's evaluation at ``x``."""
    g2 = gamma * gamma % R
    acc = 0
    for c, off in circuit.lookup_layout():
        tag = circuit.tables[c.table].tag
        part = tag * ones_eval(c.inp.length, x) + gamma * expr_eval(c.inp, x, vec)
        if c.out is not None:
            part += g2 * expr_eval(c.out, x, vec)
        acc += pow(x, off, R) * part
    return acc % R


def table_eval(circuit: Circuit, x: int, gamma: int, table_out_at_x: int) -> int:
    """``T(x)``: tag and input columns in closed form, output column from its opening."""
    acc = 0
    for t, off in circuit.table_layout():
        o = ones_eval(t.size, x)
        part = t.tag * o + gamma * (t.lo * o + iota_eval(t.size, x))
        acc += pow(x, off, R) * part
    return (acc + gamma * gamma % R * table_out_at_x) % R

