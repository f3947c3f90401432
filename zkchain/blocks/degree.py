"""Degree block: every committed witness vector has the length the circuit says (batched degree bounds).

Relation. For committed polynomials ``V_c`` with declared lengths ``N_c``: ``deg V_c < N_c``.

Protocol (``docs/protocol.md`` §5.4). Let ``N* = max N_c``. After challenge ``ε`` the prover commits the
*reversal* ``W(Y) = Y^(N*−1) · S(1/Y)`` of ``S(X) = Σ_c ε^c · X^(N* − N_c) · V_c(X)`` (so ``deg W < N*``).
Verifier equation, at the points ``ζ`` and ``1/ζ`` every proof opens anyway:

    Σ_c ε^c · ζ^(N* − N_c) · V_c(ζ) = ζ^(N*−1) · W(1/ζ)

Openings: every ``V_c`` at ``ζ``, ``W`` at ``1/ζ``.

Why a reversal and not the usual shifted commitment ``X^(D−N)·V``: a shift bound is only sound if the SRS
stops at ``D``, but public ceremonies (Perpetual Powers of Tau) publish far more powers of the same τ than any
file we load, so a prover could always find them. ``X^(N*−1)·W(1/X)`` has no power above ``N*−1`` whatever
``W`` is, so this check holds for any SRS size.

Soundness error. If the Laurent identity ``S(X) = X^(N*−1)·W(1/X)`` holds then ``deg S ≤ N*−1``, and a
``V_c`` longer than ``N_c`` survives in ``S``'s top coefficients except with probability ≤ C/r over ε.
If the identity does not hold, the check passes with probability ≤ 2·D_max/r over ζ (Schwartz–Zippel on
``X^(deg W)`` times the difference; ``D_max`` the largest power of τ anyone knows, ≤ 2^29 for public ceremonies).
Why it matters: without it a prover could hide entries beyond a vector's length, where the matmul row pattern
and the lookup query layout would read them.

Zero knowledge (``docs/protocol.md`` §7.4). The declared length ``N_c`` is the degree bound ``σ_c + t_c`` of the
vector with its random tail: the check keeps every tail inside the span its layouts reserve. ``[W]`` reads every
vector at ``1/τ``, one linear functional more than the tails' ``t`` coins cover; the first degree-checked
polynomial carries one extra coefficient for it (``zkchain.protocol.schedule._tails``), and ``W(1/ζ)`` is fixed by
the equation.
"""

from __future__ import annotations

from zkchain.crypto.field import R

W = "w"  # the degree reversal (committed in the quotients round)


def reversed_sum(vectors: list[tuple[list[int], int]], epsilon: int) -> list[int]:
    """The prover's ``W`` (``N*`` coefficients) from ``(entries, declared length)`` pairs, ε-power order."""
    n_star = max(n for _, n in vectors)
    s = [0] * n_star
    w = 1
    for entries, n in vectors:
        shift = n_star - n
        for i, v in enumerate(entries[: n_star - shift]):  # longer entries only from a cheating prover
            s[shift + i] = (s[shift + i] + w * v) % R
        w = w * epsilon % R
    return s[::-1]


def verifier_check(vc, names_and_lengths: list[tuple[str, int]]) -> None:
    """``Σ_c ε^c ζ^(N*−N_c) V_c(ζ) == ζ^(N*−1) W(1/ζ)`` over ``(name, N_c)`` pairs in ε-power order, through the
    verifier context's loader."""
    from zkchain.blocks.common import ZETA, ZETA_INV

    L = vc.L
    n_star = max(n for _, n in names_and_lengths)
    items = [L.pow(vc.zeta, n_star - n) * L.opened(ZETA, name) for name, n in names_and_lengths]
    lhs = L.powsum(items, vc.ch["epsilon"])
    L.require_eq(lhs, L.pow(vc.zeta, n_star - 1) * L.opened(ZETA_INV, W),
                 "degree check failed (a committed vector is longer than declared)")
