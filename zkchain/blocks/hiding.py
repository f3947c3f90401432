"""Hidden fixed vectors: the VK mask, the per-proof mask Δ_f and the link that pins it (``docs/protocol.md`` §7.6).

Setup commits every fixed vector ``F_f`` (weights, kernels, table outputs, constants) as ``F^vk_f = F_f + r⁰_f·X^(M_f)``
with ``r⁰_f`` uniform (``zkchain.prover.keys.setup``), so the VK says nothing about the weights. Each proof draws
``R_f`` (``t_f`` uniform coefficients), commits ``Δ_f = X^(M_f)·R_f`` in round 1 and every relation reads
``F̃_f = F^vk_f + Δ_f`` (commitment ``[F^vk_f] + [Δ_f]``), so the evaluations of ``F̃_f`` are fresh in every proof.
After the challenge λ the prover commits ``R_λ = Σ_i λ^i R_i`` (i over :attr:`Schedule.hidden`); the link

    ``D = Σ_i λ^i·ζ^(M_i)·Δ_i − R_λ``,  ``D(1/ζ) = 0``

joins the KZG batch at ``LINK_POINT`` with value 0 (no evaluation is sent, the VK polynomial is never opened).
Soundness (ZK-DESIGN §3.9): ``D(1/ζ) = L(1/ζ)`` for the Laurent polynomial ``L = Σ_i λ^i X^(−M_i)Δ_i − R_λ``
fixed before ζ, so ``L ≡ 0`` except with probability ``(deg + M_max)/r``; then its negative powers vanish,
``Σ_i λ^i δ_(i, M_i − e) = 0`` for every ``e > 0``, and as the ``Δ_i`` are fixed before λ, each ``Δ_i`` is zero below
``M_i`` except with probability ``|hidden|/r``: a proof cannot change a coefficient any relation reads
(``M_f`` is past all of them, ``zkchain.protocol.schedule._masks``).
"""

from __future__ import annotations

from zkchain.blocks.common import Argument
from zkchain.crypto.field import R

LINK_CHALLENGE = "lambda"  # drawn after round "witness"
R_LAMBDA = "r_lambda"      # Σ_i λ^i R_i, committed in round "helpers"


class Link(Argument):
    """The link's challenge λ, drawn after the witness round in every proof (between logUp's challenges and the
    row folds' in ``blocks.ARGUMENTS`` order). The masks ``Δ_f`` and ``R_λ`` are the protocol's zero-knowledge layer
    (the schedule commits them with the hidden vectors), not polynomials of this argument."""

    name = "link"

    @staticmethod
    def active(circuit) -> bool:
        return True

    @staticmethod
    def challenges(circuit) -> dict[str, tuple[str, ...]]:
        return {"witness": (LINK_CHALLENGE,)}

    @staticmethod
    def polynomials(circuit) -> list:
        return []

    @staticmethod
    def prover_round(round_name: str, pc, strict: bool) -> dict:
        return {}


def delta_name(fixed: str) -> str:
    """The commitment name of fixed vector ``fixed``'s per-proof mask ``Δ_f``."""
    return f"delta({fixed})"


def draw_masks(sch, rng) -> dict[str, list[int]]:
    """``Δ_f`` for every hidden fixed vector: ``M_f`` zeros, then ``t_f`` coins from ``rng.randrange``."""
    out = {}
    for f in sch.hidden:
        m, t = sch.masks[f]
        out[f] = [0] * m + [rng.randrange(R) for _ in range(t)]
    return out


def masked(values: list[int], vk_mask: int, delta: list[int], m: int) -> list[int]:
    """``F̃ = F + r⁰·X^m + Δ``: the coefficients every relation and evaluation of this proof reads."""
    out = list(values) + [0] * max(0, len(delta) - len(values), m + 1 - len(values))
    out[m] = (out[m] + vk_mask) % R
    for i, c in enumerate(delta):
        out[i] = (out[i] + c) % R
    return out


def r_lambda(sch, deltas: dict[str, list[int]], lam: int) -> list[int]:
    """``R_λ = Σ_i λ^i·X^(−M_i)·Δ_i`` (the part at and past ``M_i``; an honest ``Δ_i`` has nothing below)."""
    acc: list[int] = []
    for i, f in enumerate(sch.hidden):
        li, tail = pow(lam, i, R), deltas[f][sch.masks[f][0]:]
        acc += [0] * max(0, len(tail) - len(acc))
        for j, c in enumerate(tail):
            acc[j] = (acc[j] + li * c) % R
    return acc


def link_polynomial(sch, deltas: dict[str, list[int]], r_lam: list[int], lam: int, zeta: int) -> list[int] | None:
    """``D = Σ_i λ^i ζ^(M_i)·Δ_i − R_λ`` (coefficients), or None without hidden vectors."""
    if not sch.hidden:
        return None
    d = [(-c) % R for c in r_lam]
    for i, f in enumerate(sch.hidden):
        s = pow(lam, i, R) * pow(zeta, sch.masks[f][0], R) % R
        d += [0] * max(0, len(deltas[f]) - len(d))
        for j, c in enumerate(deltas[f]):
            if c:
                d[j] = (d[j] + s * c) % R
    return d


def link_terms(vc, sch, weight) -> dict[str, object]:
    """The verifier's side of ``D`` in the fold: commitment name → scalar part (``weight`` = ``u^k·ν^J``, the
    weight of the link's slot in the batch at ``LINK_POINT``)."""
    from zkchain.blocks.common import ZETA

    if not sch.hidden:
        return {}
    L = vc.L
    lam = L.powers(vc.ch[LINK_CHALLENGE], len(sch.hidden))
    out = {delta_name(f): weight * lam[i] * L.pow(vc.points[ZETA], sch.masks[f][0]) for i, f in enumerate(sch.hidden)}
    out[R_LAMBDA] = L.const(0) - weight
    return out
