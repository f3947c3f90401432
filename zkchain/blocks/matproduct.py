"""MatProduct block: the product of two committed activations, ``C = A·B`` (attention's ``Q·Kᵀ`` and
``softmax(S)·V``), with prover work linear in the operands.

Relation. ``A ∈ Fr^(T×k)``, ``B ∈ Fr^(k×n)`` (each one whole committed vector, row-major) and ``C ∈ Fr^(T×n)`` (an
expression of committed vectors, row-major): ``C[t, j] = Σ_l A[t, l]·B[l, j]``.

Protocol (``docs/protocol.md`` §5.10; the fold of rows is §5.1's, the column fold is its transpose). After the
witness round the verifier draws ``σ`` (shared with :class:`~zkchain.blocks.matmul.RowFold`); in the helpers round
the prover commits, each with ``k`` entries and a random tail,

    ā = Σ_t σ^t·A[t, :],    b̄ = Σ_j σ^(T·j)·B[:, j],    p = ā ∘ b̄

so that ``Σ_l p_l = Σ_(t,j) σ^(t + T·j)·(A·B)[t, j]`` (every ``t + T·j`` distinct). After ``ρ``, four claims of the
Laurent argument (§5.3):

    (i)   ⟨A, v_A⟩ = ⟨ā, q_k⟩          v_A(Y) = ones_k(ρY)·ones_T(σY^k)          (the row fold, rows [0, k))
    (ii)  ⟨B, v_B⟩ = ⟨b̄, q_k⟩          v_B(Y) = ones_k(ρY^n)·ones_n(σ^T·Y)       (the column fold, rows [0, k))
    (iii) Σ_l ρ^l·ā_l·b̄_l = ⟨p, q_k⟩                                              (a Hadamard product, §5.7)
    (iv)  ⟨p, ones_k⟩ = ⟨C, w⟩          w(Y) = ones_T(σY^n)·ones_n(σ^T·Y)         (one row: ρ-free)

``(iii)`` and ``(iv)`` are not merged into one unweighted ``⟨ā, b̄⟩``: that single-row claim would let the free
coefficients past ``ā``'s data meet ``b̄``'s (the layout check refuses it, ``docs/protocol.md`` §7.9).

Verifier equations: (i) ``ones_k(ρ/ζ)·(A(ζ)·ones_T(σζ^−k) − ā(ζ))``, (ii) ``B(ζ)·ones_k(ρζ^−n)·ones_n(σ^T/ζ) −
b̄(ζ)·ones_k(ρ/ζ)``, both against 0; (iii) ``ā(ζ)·b̄(ρ/ζ)`` against ``p(ζ)·ones_k(ρ/ζ)``; (iv) ``p(ζ)·ones_k(1/ζ) −
Σ_t coef_t·V_t(ζ)·ones_T(σζ^−n)·ones_n(σ^T/ζ)`` against ``const·ones_T(σ)·ones_n(σ^T)``. Openings: ``A``, ``B``,
``C``'s vectors, ``ā`` and ``p`` at ζ; ``b̄`` at ζ and ρ/ζ.

Soundness error. ``A, B, C`` are committed before ``σ``; ``ā, b̄, p`` before ``ρ``. A wrong fold passes (i) or
(ii), a wrong ``p`` passes (iii), with probability ≤ ``k/r`` each over ρ; with correct ``ā, b̄, p``, (iv) is
``Σ σ^(t+T·j)·(C − A·B)[t, j] = 0``, a non-zero polynomial of degree ``< T·n`` in σ when ``C ≠ A·B``: probability
≤ ``T·n/r``. Plus §5.3's. Prover work: ``O(T·k + k·n + T·n)`` field operations and three commitments of ``k``
entries (no per-product commitment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkchain.blocks.common import RHO_ZETA_INV, ZETA, Argument, ones_eval, weighted
from zkchain.blocks.inner_product import LaurentClaim
from zkchain.blocks.layout import Atom, Diag, LayoutClaim, Lin, Rows
from zkchain.blocks.matmul import SIGMA, grid_weights
from zkchain.compiler.circuit import Block, Circuit, Expr
from zkchain.crypto.field import R


def fold_names(index: int) -> tuple[str, str, str]:
    """The helper polynomials ``ā, b̄, p`` of the ``index``-th MatProduct of a circuit."""
    return f"mp{index}.a", f"mp{index}.b", f"mp{index}.p"


def column_weights(k: int, n: int, T: int, sigma: int, rho: int) -> list[int]:
    """``ρ^l·σ^(T·j)`` at ``l·n + j``: the coefficients of ``v_B(Y) = ones_k(ρY^n)·ones_n(σ^T·Y)``."""
    return grid_weights(k, n, rho, pow(sigma, T, R))


def product_weights(T: int, n: int, sigma: int) -> list[int]:
    """``σ^(t + T·j)`` at ``t·n + j``: the coefficients of ``w(Y) = ones_T(σY^n)·ones_n(σ^T·Y)``."""
    return grid_weights(T, n, sigma, pow(sigma, T, R))


@dataclass(frozen=True)
class MatProduct(Block):
    """``out[t·n + j] = Σ_l a[t·k + l]·b[l·n + j]`` for committed ``a`` (T×k) and ``b`` (k×n)."""

    kind = "matproduct"
    a: Expr
    b: Expr
    T: int
    k: int
    n: int
    out: Expr
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        committed = {v.name for v in circuit.vectors.values() if v.kind == "witness"}
        for f, e, ln in (("a", self.a, self.T * self.k), ("b", self.b, self.k * self.n)):
            t = e.terms[0] if len(e.terms) == 1 else None
            if (t is None or e.const % R or t.shift or t.coef % R != 1 or t.vector not in committed
                    or circuit.vectors[t.vector].length != ln or e.length != ln):
                raise ValueError(f"{where}: {f} must be one whole committed vector of {ln} entries")
        if self.out.length != self.T * self.n or any(t.vector not in committed or t.shift for t in self.out.terms):
            raise ValueError(f"{where}: out must have {self.T}×{self.n} entries over committed, unshifted vectors")

    def index(self, circuit: Circuit) -> int:
        return next(i for i, c in enumerate(circuit.of_block(MatProduct)) if c is self)

    def openings(self, circuit) -> list[tuple[str, str]]:
        fa, fb, p = fold_names(self.index(circuit))
        return ([(v, ZETA) for v in self.a.vectors() + self.b.vectors() + self.out.vectors()]
                + [(fa, ZETA), (fb, ZETA), (fb, RHO_ZETA_INV), (p, ZETA)])

    def folds(self, a: list[int], b: list[int], sigma: int) -> tuple[list[int], list[int], list[int]]:
        """``ā, b̄, p`` from the entries of ``a`` and ``b``."""
        T, k, n = self.T, self.k, self.n
        fa = [0] * k
        for t in range(T - 1, -1, -1):  # Horner over the rows
            fa = [(x * sigma + y) % R for x, y in zip(fa, a[t * k:(t + 1) * k])]
        st = pow(sigma, T, R)
        fb = []
        for l in range(k):
            acc = 0
            for j in range(n - 1, -1, -1):
                acc = (acc * st + b[l * n + j]) % R
            fb.append(acc)
        return fa, fb, [x * y % R for x, y in zip(fa, fb)]

    def prover_claims(self, pc) -> list:
        fa, fb, p = fold_names(self.index(pc.circuit))
        T, k, n = self.T, self.k, self.n
        rho, sigma = pc.rho, pc.challenges[SIGMA]
        qk = grid_weights(1, k, sigma, rho)
        A, B = self.a.terms[0].vector, self.b.terms[0].vector
        name = self.name or "matproduct"
        w = product_weights(T, n, sigma)
        value = self.out.const * ones_eval(T, sigma) * ones_eval(n, pow(sigma, T, R))
        return [
            LaurentClaim([(pc.committed(A), grid_weights(T, k, sigma, rho)), (pc.committed(fa), [-x % R for x in qk])],
                         0, f"{name} row fold"),
            LaurentClaim([(pc.committed(B), column_weights(k, n, T, sigma, rho)),
                          (pc.committed(fb), [-x % R for x in qk])], 0, f"{name} column fold"),
            LaurentClaim([(pc.committed(fa), weighted(pc.committed(fb), rho)), pc.rho_read(p, k, -1)], 0,
                         f"{name} fold product"),
            LaurentClaim([(pc.committed(p), [1] * k)]
                         + [(pc.committed(t.vector), [-t.coef * x % R for x in w]) for t in self.out.terms],
                         value % R, name),
        ]

    def verifier_claims(self, vc) -> list:
        L = vc.L
        fa, fb, p = fold_names(self.index(vc.circuit))
        T, k, n = self.T, self.k, self.n
        qk = L.ones(k, vc.rho_zeta_inv)
        za = L.opened(ZETA, self.a.terms[0].vector) * L.ones(T, L.point(0, k, 1)) - L.opened(ZETA, fa)
        zb = (L.opened(ZETA, self.b.terms[0].vector) * L.ones(k, L.point(1, n)) * L.ones(n, L.point(0, 1, T))
              - L.opened(ZETA, fb) * qk)
        w = L.named(L.ones(T, L.point(0, n, 1)) * L.ones(n, L.point(0, 1, T)), f"matproduct weights {self.name}")
        lhs = L.lincomb([(1, L.opened(ZETA, p) * L.ones(k, vc.zeta_inv))]
                        + [((-t.coef) % R, L.opened(ZETA, t.vector) * w) for t in self.out.terms])
        value = (L.named(L.const(self.out.const % R) * L.ones(T, L.point(0, 0, 1)) * L.ones(n, L.point(0, 0, T)))
                 if self.out.const % R else L.const(0))
        return [(L.named(qk * za, f"matproduct row fold {self.name}"), L.const(0)),
                (L.named(zb, f"matproduct column fold {self.name}"), L.const(0)),
                (L.named(L.opened(ZETA, fa) * L.opened(RHO_ZETA_INV, fb), f"matproduct fold product {self.name}"),
                 L.opened(ZETA, p) * qk),
                (L.named(lhs, f"matproduct {self.name}"), value)]

    def layout(self, lay) -> list:
        """(i) ``A[t·k + l]`` and ``ā[l]`` in row ``l``; (ii) ``B[l·n + j]`` and ``b̄[l]`` in row ``l``; (iii) ``ā[i]``
        meets ``b̄[i]`` in row ``i`` and ``p`` is read; (iv) ``p``'s and ``C``'s data in the one row."""
        fa, fb, p = fold_names(self.index(lay.circuit))
        T, k, n = self.T, self.k, self.n
        nm = self.name
        ia, ib, ik, ic = (np.arange(m, dtype=np.int64) for m in (T * k, k * n, k, T * n))
        A, B = (Atom(self.a.terms[0].vector),), (Atom(self.b.terms[0].vector),)
        return [
            LayoutClaim(f"matproduct row fold {nm}", nm, (Lin(A, ia, ia % k, "rows of A"), Lin((Atom(fa),), ik, ik, "ā")),
                        Rows([(0, k)])),
            LayoutClaim(f"matproduct column fold {nm}", nm,
                        (Lin(B, ib, ib // n, "columns of B"), Lin((Atom(fb),), ik, ik, "b̄")), Rows([(0, k)])),
            LayoutClaim(f"matproduct fold product {nm}", nm,
                        (Diag((Atom(fa),), (Atom(fb),), ((0, "pos", 0),), "ā[i]·b̄[i]"), Lin((Atom(p),), ik, ik, "p")),
                        Rows([(0, k)])),
            LayoutClaim(f"matproduct {nm}", nm,
                        (Lin((Atom(p),), ik, np.zeros(k, dtype=np.int64), "Σ p"),
                         *[Lin((Atom(t.vector),), ic, np.zeros(T * n, dtype=np.int64), f"read of {t.vector}")
                           for t in self.out.terms if t.coef % R]), Rows([(0, 1)])),
        ]


class ProductFold(Argument):
    """The argument behind :class:`MatProduct` (see the module doc): challenge ``σ`` after the witness round, and
    in the helpers round ``ā``, ``b̄`` and ``p`` per product. The claims are the blocks' own."""

    name = "productfold"

    @staticmethod
    def active(circuit: Circuit) -> bool:
        return bool(circuit.of_block(MatProduct))

    @staticmethod
    def challenges(circuit: Circuit) -> dict[str, tuple[str, ...]]:
        return {"witness": (SIGMA,)}

    @staticmethod
    def polynomials(circuit: Circuit) -> list[tuple[str, int, str]]:
        out = []
        for i, m in enumerate(circuit.of_block(MatProduct)):
            out += [(name, m.k, "helpers") for name in fold_names(i)]
        return out

    @staticmethod
    def prover_round(round_name: str, pc, strict: bool) -> dict[str, list[int]]:
        if round_name != "helpers":
            return {}
        out = {}
        for i, m in enumerate(pc.circuit.of_block(MatProduct)):
            folds = m.folds(pc.values[m.a.terms[0].vector], pc.values[m.b.terms[0].vector], pc.challenges[SIGMA])
            out.update(zip(fold_names(i), folds))
        return out
