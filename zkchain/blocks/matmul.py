"""MatMul block: ``out = x · W + bias`` with private weights ``W`` committed in the verifying key.

Relation. For a row ``x ∈ Fr^k``, fixed ``W ∈ Fr^{k×n}`` and ``bias ∈ Fr^n``: ``out_j = Σ_l x_l W[l,j] + bias_j``.
The weights are held column-major, one row of stride ``s = 1 + k + G`` per output (``G`` =
:data:`~zkchain.blocks.common.RESERVED_SPAN`): the bias first, then the column, then a gap of ``G`` zeros
(``docs/protocol.md`` §7.3)::

    W'[j·s] = bias_j,   W'[j·s + 1 + l] = W[l, j],   W'[j·s + 1 + k + i] = 0  (i < G)

Protocol (coefficient-basis matmul of ``docs/protocol.md`` §5.1; idea from the DESIGN brief's worked route
and zkCNN's use of polynomial products, Liu–Xie–Zhang CCS'21). After ``x`` and ``out`` are committed, draw
``ρ``. With ``u(Y) = (1 + Y·x(Y))·Σ_{j<n} ρ^j Y^{j·s}`` (entry ``j·s + 1 + l`` of ``u`` is ``ρ^j x_l``, entry
``j·s`` is ``ρ^j``), ``⟨W', u⟩ = Σ_j ρ^j out_j``. ``x``'s zero-knowledge tail (entries ``k ..< k+G`` of ``x``)
lands in the row gaps, where ``W'`` is zero. Two claims of the Laurent argument (``inner_product.py``):

    ⟨W', u⟩ = ⟨out, q_n⟩                    (the product; the output read through its data only)
    ⟨W', Z_ρ⟩ = 0,  Z_ρ(Y) = (ρY)^(1+k)·ones_G(ρY)·ones_n((ρY)^s)      (the gaps of W' are zero)

The second claim pins the gaps: the model owner runs setup, and a non-zero in a gap would let every proof add
``tail·W'_gap`` to an output (ZK-DESIGN §10.1). Verifier terms: ``W'(ζ)·(1 + ζ^{−1}·x(1/ζ))·ones_n(ρ·ζ^{−s})``
against ``out``'s ``⟨out, q_n⟩`` value, and ``W'(ζ)·(ρ/ζ)^(1+k)·ones_G(ρ/ζ)·ones_n((ρ/ζ)^s)`` against 0.
Openings: ``W'`` at ``ζ``; the vectors of ``x`` at ``1/ζ``; the vectors of ``out`` at ``ζ``.

Packing. Several matmuls may share one hidden fixed vector (``zkchain.compiler.lower._pack_weights``): each reads
its rows from ``offset`` on, so both right sides gain a factor ``Y^offset`` (verifier: ``ζ^{−offset}``). A claim's
reach ends inside its own segment — row ``n−1`` reads up to ``offset + (n−1)·s + 1 + (k + G) − 1 = offset + n·s − 1``,
``x``'s degree bound included — so no claim reads another matmul's weights; each segment's gaps have their own pin.
One mask commitment and one evaluation serve them all (about 6,350 gas less per vector packed).

Rows (``docs/protocol.md`` §5.1, "several rows"). ``Y[T×n] = X[T×k]·W + bias`` with ``X`` one committed vector
(row ``t`` at ``t·k``) and ``out`` row-major (row ``t`` at ``t·n``); the weights are opened once whatever ``T`` is.
After the witness round the verifier draws ``σ`` (:class:`RowFold`); the prover commits, in the helpers round, the
folded row ``x̄ = Σ_t σ^t·x_t`` (``k`` entries and a tail). Three claims replace the first one:

    ⟨W', ū⟩ = Σ_{t,j} σ^t ρ^j out[t·n + j],   ū(Y) = (ones_T(σ) + Y·x̄(Y))·Σ_j ρ^j Y^(j·s)      (the product)
    ⟨X, v⟩ = ⟨x̄, q_k⟩,   v(Y) = ones_k(ρY)·ones_T(σY^k),  q_k(Y) = ones_k(ρY)                  (the fold)
    ⟨W', Z_ρ⟩ = 0                                                                           (the gaps, as above)

Verifier terms: ``W'(ζ)·(ones_T(σ) + ζ^{−1}·x̄(1/ζ))·ones_n(ρ·ζ^{−s})`` against ``out(ζ)·ones_n(ρ/ζ)·ones_T(σ·ζ^{−n})``
(each committed term of ``out``; a constant ``c`` adds ``c·ones_n(ρ)·ones_T(σ)``), and
``ones_k(ρ/ζ)·(X(ζ)·ones_T(σ·ζ^{−k}) − x̄(ζ))`` against 0. ``x̄``'s tail lands in ``W'``'s gaps (as ``x``'s does for
one row) and past ``q_k``; ``X``'s and ``out``'s tails lie past their data, where ``v`` and the output weights are 0.
Soundness: ``X`` and ``out`` are committed before ``σ``, ``x̄`` before ``ρ``: a wrong ``x̄`` passes the fold claim
with probability ≤ k/r over ρ; then a wrong output row survives with probability ≤ (T + n)/r over σ and ρ.

Soundness error. If ``out ≠ xW + bias``, then ``⟨W', u⟩ ≠ ⟨out, q_n⟩`` except with probability ``n/r`` over ``ρ``
(two distinct polynomials of degree < n in ρ, both fixed before ρ: ``W'`` at setup, ``x`` and ``out`` before ρ);
a non-zero gap entry survives the second claim with probability ``≤ n·s/r``; the Laurent check adds its own
error (see there). ``x``'s degree bound (< k + G, from the degree block) keeps its tail inside the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks.common import RESERVED_SPAN, ZETA, ZETA_INV, Argument, ones_eval
from zkchain.blocks.layout import Atom, Diag, LayoutClaim, Lin, Rows, positions_lin
from zkchain.compiler.circuit import Block, Circuit, Expr
from zkchain.crypto.field import R
from zkchain.errors import InputError

GAP = RESERVED_SPAN


def row_stride(k: int) -> int:
    """``s = 1 + k + G``: one output's row of ``W'`` (bias, column, gap)."""
    return 1 + k + GAP


def weight_vector(W: list[list[int]], bias: list[int]) -> list[int]:
    """Lay out ``W`` (k×n, nested lists of ints) and ``bias`` (n) as the fixed vector ``W'`` (n·s entries)."""
    k, n = len(W), len(bias)
    s = row_stride(k)
    out = [0] * (s * n)
    for j in range(n):
        base = j * s
        out[base] = bias[j] % R
        for l in range(k):
            out[base + 1 + l] = W[l][j] % R
    return out


@dataclass(frozen=True)
class MatMul(Block):
    """``out[t·n + j] = Σ_l x[t·k + l]·W[l, j] + bias[j]`` for ``rows`` rows of ``k`` entries and ``n`` outputs.

    ``weight`` names a fixed vector of ``n·s`` entries (``s`` = :func:`row_stride`): entry ``j·s`` is ``bias[j]``,
    entry ``j·s + 1 + l`` is ``W[l, j]``, the last ``G`` entries of each row are zero. With ``rows > 1``, ``x`` is
    one committed vector (row-major, ``rows·k`` entries) and ``out``'s terms are committed vectors or a constant;
    :class:`RowFold` commits the folded row."""

    kind = "matmul"
    omitted_at_default = ("rows",)
    x: Expr
    weight: str
    k: int
    n: int
    out: Expr
    name: str = ""
    offset: int = 0  # where this matmul's rows start in ``weight`` (several matmuls share one packed vector)
    rows: int = 1    # T: rows of x and out, all multiplied by the one weight matrix

    @property
    def fold(self) -> str | None:
        """The name of the folded row ``x̄`` (:class:`RowFold`), or None for one row."""
        return fold_name(self.x.terms[0].vector) if self.rows > 1 else None

    @property
    def stride(self) -> int:
        return row_stride(self.k)

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        w = circuit.vectors.get(self.weight)
        if w is None or w.kind != "fixed" or self.offset < 0 or w.length < self.offset + self.stride * self.n:
            raise ValueError(f"{where}: {self.weight!r} must be a fixed vector holding {self.stride * self.n} entries "
                             f"from offset {self.offset}")
        T = self.rows
        if T < 1 or self.x.length != T * self.k or self.out.length != T * self.n:
            raise ValueError(f"{where}: x has {self.x.length} entries, out {self.out.length}; expected {T}×{self.k} "
                             f"and {T}×{self.n}")
        if T > 1:
            committed = {v.name for v in circuit.vectors.values() if v.kind == "witness"}
            data = {v.name for v in circuit.public_data()}  # a committed test set is read as it is (§5.11)
            x = self.x
            if (len(x.terms) != 1 or x.const % R or x.terms[0].shift or x.terms[0].coef % R != 1
                    or x.terms[0].vector not in committed | data
                    or circuit.vectors[x.terms[0].vector].length != x.length):
                raise ValueError(f"{where}: a matmul of {T} rows reads one whole committed vector as x")
            if any(t.vector not in committed or t.shift for t in self.out.terms):
                raise ValueError(f"{where}: a matmul of {T} rows needs its output's terms committed and unshifted")

    def openings(self, circuit) -> list[tuple[str, str]]:
        if self.rows > 1:  # x and out are read through their data at ζ; x̄ at ζ (fold) and 1/ζ (product)
            return ([(self.weight, ZETA), (self.fold, ZETA), (self.fold, ZETA_INV)]
                    + [(v, ZETA) for v in self.x.vectors()] + [(v, ZETA) for v in self.out.vectors()])
        return ([(self.weight, ZETA)] + [(v, ZETA_INV) for v in self.x.vectors()]
                + [(v, ZETA) for v in self.out.vectors()])

    def right_side(self, x_coeffs: list[int], rho: int, lead: int = 1) -> list[int]:
        """The coefficients of ``u(Y) = (lead + Y·x(Y))·Σ_j ρ^j Y^(j·s)`` for whatever ``x`` polynomial was committed
        (its tail lands in the gaps; a cheating prover's longer ``x`` spills into the next row, exactly as the
        verifier's ``u(1/ζ)`` sees it). ``lead`` is ``ones_T(σ)`` for a folded row (the bias, once per row)."""
        s, n = self.stride, self.n
        xp = [lead % R] + list(x_coeffs)
        out = [0] * (self.offset + (n - 1) * s + len(xp))
        rj = 1
        for j in range(n):
            base = self.offset + j * s
            for l, a in enumerate(xp):
                out[base + l] = (out[base + l] + rj * a) % R
            rj = rj * rho % R
        return out

    def gap_pin(self, rho: int) -> list[int]:
        """The coefficients of ``Z_ρ``: ``ρ^p`` at every gap position ``p`` of ``W'``."""
        s, k = self.stride, self.k
        z = [0] * (self.offset + s * self.n)
        for j in range(self.n):
            for i in range(GAP):
                p = j * s + 1 + k + i
                z[self.offset + p] = pow(rho, p, R)
        return z

    def prover_claims(self, pc) -> list:
        w = pc.committed(self.weight)
        name = self.name or "matmul"
        gaps = pc.claim([(w, self.gap_pin(pc.rho))], None, f"{name} weight gaps")
        if self.rows == 1:
            return [pc.claim([(w, self.right_side(pc.poly(self.x), pc.rho))], self.out, name), gaps]
        from zkchain.blocks.inner_product import LaurentClaim

        T, rho, sigma = self.rows, pc.rho, pc.challenges[SIGMA]
        xbar = pc.committed(self.fold)
        u = self.right_side(xbar, rho, ones_eval(T, sigma))
        terms = [(w, u)] + [(pc.committed(t.vector), grid_weights(T, self.n, sigma, rho, -t.coef))
                            for t in self.out.terms]
        value = self.out.const * ones_eval(self.n, rho) * ones_eval(T, sigma)
        fold = LaurentClaim([(pc.committed(self.x.terms[0].vector), grid_weights(T, self.k, sigma, rho)),
                             (xbar, grid_weights(1, self.k, sigma, rho, -1))], 0, f"{name} row fold")
        return [LaurentClaim(terms, value % R, name), gaps, fold]

    def gap_positions(self):
        """Positions of ``W'`` (from ``offset``) the gap pin forces to zero."""
        s, k = self.stride, self.k
        return np.asarray([self.offset + j * s + 1 + k + i for j in range(self.n) for i in range(GAP)], dtype=np.int64)

    def layout(self, lay) -> list:
        """Row ``j``: ``W'[offset + j·s]`` meets the bias's 1 and ``W'[offset + j·s + 1 + l]`` meets ``x[l]`` (every
        ``l``, tails included, which land in the pinned gap); the output read; the gap pin. With rows: ``x̄`` in
        place of ``x``, ``out[t·n + j]`` read in row ``j``, and the fold claim reading ``X[t·k + l]`` and
        ``x̄[l]`` in row ``l``."""
        s, n, W = self.stride, self.n, (Atom(self.weight),)
        j = np.arange(n, dtype=np.int64)
        bias = Lin(W, self.offset + j * s, j, "bias slot")
        x = lay.atoms(self.x) if self.rows == 1 else (Atom(self.fold),)
        prod = Diag(W, x, tuple((self.offset + int(i) * s + 1, "const", int(i)) for i in j), "W'[j·s+1+l]·x[l]")
        gp = self.gap_positions()
        pin = LayoutClaim(f"matmul gaps {self.name}", self.name, (positions_lin(W, gp, gp - self.offset, "gap pin"),),
                          pin=True)
        if self.rows == 1:
            return [LayoutClaim(f"matmul {self.name}", self.name, (bias, prod, *lay.reads(self.out)), Rows([(0, n)])), pin]
        T, k = self.rows, self.k
        idx = np.arange(T * n, dtype=np.int64)
        outs = [Lin((Atom(t.vector),), idx, idx % n, f"read of {t.vector} rows") for t in self.out.terms if t.coef % R]
        xi, ki = np.arange(T * k, dtype=np.int64), np.arange(k, dtype=np.int64)
        fold = (Lin((Atom(self.x.terms[0].vector),), xi, xi % k, "rows of X"), Lin((Atom(self.fold),), ki, ki, "x̄"))
        return [LayoutClaim(f"matmul {self.name}", self.name, (bias, prod, *outs), Rows([(0, n)])), pin,
                LayoutClaim(f"matmul row fold {self.name}", self.name, fold, Rows([(0, k)]))]

    def verifier_claims(self, vc) -> list:
        L, s = vc.L, self.stride
        w = vc.vec(self.weight, ZETA)
        T = self.rows
        if T == 1:
            lead, xz = L.const(1), vc.at(self.x, ZETA_INV)
        else:
            lead, xz = L.ones(T, L.point(0, 0, 1)), L.opened(ZETA_INV, self.fold)
        u = (lead + vc.zeta_inv * xz) * L.ones(self.n, L.point(1, s))
        y = vc.rho_zeta_inv
        z = L.prod([L.pow(y, 1 + self.k), L.ones(GAP, y), L.ones(self.n, L.point(s, s))])
        if self.offset:  # the rows start at X^offset of the packed vector: Y^offset on both right sides
            u, z = L.pow(vc.zeta_inv, self.offset) * u, L.pow(vc.zeta_inv, self.offset) * z
        gaps = (L.named(w * z, f"matmul gaps {self.name}"), L.const(0))
        if T == 1:
            return [(L.named(w * u, f"matmul {self.name}"), vc.at_rho(self.out)), gaps]
        # Σ_{t,j} σ^t ρ^j out[t·n + j]: each committed term V(ζ)·ones_n(ρ/ζ)·ones_T(σ·ζ^−n), a constant in closed form
        grid = L.ones(self.n, y) * L.ones(T, L.point(0, self.n, 1))
        parts = [(t.coef % R, L.opened(ZETA, t.vector) * grid) for t in self.out.terms]
        if self.out.const % R:
            parts.append((self.out.const % R, L.ones(self.n, vc.rho) * L.ones(T, L.point(0, 0, 1))))
        xv = L.opened(ZETA, self.x.terms[0].vector) * L.ones(T, L.point(0, self.k, 1)) - L.opened(ZETA, self.fold)
        return [(L.named(w * u, f"matmul {self.name}"), L.lincomb(parts, f"matmul rows {self.name}")), gaps,
                (L.named(L.ones(self.k, y) * xv, f"matmul row fold {self.name}"), L.const(0))]


# -- several rows: the folded row ------------------------------------------------------------------------------

SIGMA = "sigma"  # the row-folding challenge, drawn after the witness round


def fold_name(x_vector: str) -> str:
    """The folded row of committed vector ``x_vector`` (one per distinct multi-row matmul input)."""
    return f"{x_vector}.fold"


def grid_weights(rows: int, cols: int, sigma: int, rho: int, coef: int = 1) -> list[int]:
    """``coef·σ^t·ρ^j`` at ``t·cols + j``: the coefficients of ``coef·ones_cols(ρY)·ones_rows(σY^cols)``."""
    out, st = [], coef % R
    for _ in range(rows):
        p = st
        for _ in range(cols):
            out.append(p)
            p = p * rho % R
        st = st * sigma % R
    return out


class RowFold(Argument):
    """The argument behind multi-row matmuls (see the module doc): challenge ``σ`` after the witness round, and
    in the helpers round one folded row ``x̄ = Σ_t σ^t·x_t`` per distinct input vector. The claims are the
    matmuls' own (:meth:`MatMul.prover_claims`); this only commits what they read."""

    name = "rowfold"

    @staticmethod
    def _inputs(circuit: Circuit) -> dict[str, MatMul]:
        out: dict[str, MatMul] = {}
        for m in circuit.of_block(MatMul):
            if m.rows > 1:
                prev = out.setdefault(m.fold, m)
                if (prev.rows, prev.k) != (m.rows, m.k):
                    raise InputError(f"matmuls {prev.name!r} and {m.name!r} read one vector as different row shapes")
        return out

    @classmethod
    def active(cls, circuit: Circuit) -> bool:
        return any(m.rows > 1 for m in circuit.of_block(MatMul))

    @staticmethod
    def challenges(circuit: Circuit) -> dict[str, tuple[str, ...]]:
        """Labels drawn after each round (in addition to the protocol's own)."""
        return {"witness": (SIGMA,)}

    @classmethod
    def polynomials(cls, circuit: Circuit) -> list[tuple[str, int, str]]:
        out = []
        for name, m in cls._inputs(circuit).items():
            if name in circuit.vectors:
                raise InputError(f"circuit vector {name!r} collides with a folded row's name")
            out.append((name, m.k, "helpers"))
        return out

    @classmethod
    def prover_round(cls, round_name: str, pc, strict: bool) -> dict[str, list[int]]:
        if round_name != "helpers":
            return {}
        sigma, out = pc.challenges[SIGMA], {}
        for name, m in cls._inputs(pc.circuit).items():
            x, k = pc.values[m.x.terms[0].vector], m.k
            acc = [0] * k
            for t in range(m.rows - 1, -1, -1):  # Horner over the rows
                row = x[t * k:(t + 1) * k]
                acc = [(a * sigma + b) % R for a, b in zip(acc, row)]
            out[name] = acc
        return out

