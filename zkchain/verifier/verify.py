"""The verifier, written once: the specification the Solidity verifier is generated from.

:func:`run` is the whole verifier over a loader (``zkchain.verifier.loader``). With :class:`NativeLoader` it is
the Python verifier (:func:`verify`); with ``zkchain.evm.yul.EvmLoader`` the same code emits the contract's
Yul. Given a verifying key and a proof (with its public inputs/outputs) it

1. checks the proof's shape against the schedule: lengths, every field element ``< r``, every point on the
   curve, every public value within its bound;
2. replays the Fiat–Shamir transcript in schedule order (``docs/protocol.md`` §2, §4);
3. checks every block's verifier equation (``docs/protocol.md`` §5), each written once in its block module:
   the degree reversal at ζ/1/ζ, and one aggregated Laurent inner-product equation over every block's and
   argument's claims and the mask ``S`` (linear relations included: no polynomial is opened at ρ, §7);
4. folds the batched KZG opening claims (one per point) into the accumulator ``(L, R)`` — one scalar per
   commitment — and decides ``e(L, [1]₂)·e(−R, [τ]₂) = 1`` with one two-pair pairing (``docs/protocol.md`` §3).

:func:`verify` returns a :class:`Verdict`; a proof that fails any check is rejected, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks import ARGUMENTS, degree, hiding, inner_product
from zkchain.blocks.common import VerifierContext
from zkchain.blocks.matmul import SIGMA
from zkchain.crypto.backend import get_backend
from zkchain.protocol.proof import Proof
from zkchain.protocol.schedule import (ACCUMULATION_CHALLENGE, EVALUATION_CHALLENGE, LINK_POINT, PROOF_DOMAIN,
                                       delta_name, schedule)
from zkchain.protocol.vk import VerifyingKey
from zkchain.verifier.loader import NativeLoader, Rejected


@dataclass
class Verdict:
    """``accepted``; ``reason`` of a rejection; ``warning`` (contains ``INSECURE``) when the key's SRS is a
    public dev SRS, for which an accepted proof proves nothing."""

    accepted: bool
    reason: str = "accepted"
    warning: str = ""

    def __bool__(self) -> bool:
        return self.accepted


def verify(vk: VerifyingKey, proof: Proof) -> Verdict:
    """Check ``proof`` against ``vk``. Accepts only if every block equation and the pairing check hold."""
    warning = vk.srs_description if vk.srs_insecure else ""
    try:
        run(NativeLoader(vk, proof, schedule(vk.circuit), get_backend()), vk)
        return Verdict(True, warning=warning)
    except Rejected as r:
        return Verdict(False, str(r), warning)


def run(L, vk: VerifyingKey) -> dict:
    """The verifier over loader ``L``; returns the challenges by label (the EVM loader's debug view uses them).
    A failed check is the loader's rejection (an exception natively, ``leave`` in Yul)."""
    c = vk.circuit
    sch = schedule(c)

    # 1. Shapes and ranges.
    L.check_shapes()

    # 2. Transcript.
    ch = {}
    L.begin(PROOF_DOMAIN, vk.digest)
    L.absorb_public()
    for rnd in sch.rounds:
        L.absorb_round(rnd)
        for label in rnd.challenges:
            ch[label] = L.challenge(label)
    L.require_nonzero(ch["zeta"], "challenge zeta is zero")
    L.absorb_evaluations()
    ch[EVALUATION_CHALLENGE] = L.challenge(EVALUATION_CHALLENGE)
    L.absorb_openings()
    ch[ACCUMULATION_CHALLENGE] = L.challenge(ACCUMULATION_CHALLENGE)
    L.set_points(ch["rho"], ch["zeta"], ch.get(SIGMA))
    vc = VerifierContext(L, c, ch)

    # 3. Block equations: the degree check, the aggregated inner-product check.
    L.section("4a. degree reversal (docs/protocol.md section 5.4)")
    bounds = sch.bounds
    degree.verifier_check(vc, [(n, bounds[n]) for n in sch.degree_checked])
    L.section("4b. every block's and argument's claims: one Laurent inner-product check (section 5)")
    terms = [t for con in c.constraints for t in con.verifier_claims(vc)]
    terms += [t for arg in ARGUMENTS if arg.active(c) for t in arg.verifier_claims(vc)]
    terms.append(inner_product.mask_verifier_claim(vc))
    inner_product.verifier_check(vc, terms)

    # 4. KZG: one batched claim per point (powers of ν), folded with weights u^k into (L, R).
    kzg_check(vc, sch, vk)
    return ch


def kzg_check(vc: VerifierContext, sch, vk: VerifyingKey) -> None:
    """``L = Σ_k u^k (Σ_j ν^j C_kj − [y_k]₁ + x_k·π_k)``, ``R = Σ_k u^k π_k`` with ``y_k = Σ_j ν^j v_kj``, each
    commitment's scalars merged (one ecMul per commitment however many points open it).

    A hidden fixed vector ``f`` is read as ``F̃_f = F^vk_f + Δ_f``: its scalar goes on the VK point and on the
    proof's ``[Δ_f]``. The link ``D = Σ_i λ^i ζ^(M_i)·[Δ_i] − [R_λ]`` is the last item of the batch at
    ``LINK_POINT`` with value 0 (``docs/protocol.md`` §7.6), so it adds scalars to ``[Δ_i]`` and ``[R_λ]`` only."""
    L, ch = vc.L, vc.ch
    nu, u = ch[EVALUATION_CHALLENGE], ch[ACCUMULATION_CHALLENGE]
    upow = L.powers(u, len(sch.points))
    nupow = L.powers(nu, max(len(sch.opened[p]) for p in sch.points) + 1)
    link = hiding.link_terms(vc, sch, upow[sch.points.index(LINK_POINT)] * nupow[len(sch.opened[LINK_POINT])])
    ys = L.lincomb([(1, upow[k] * L.powsum([L.opened(p, n) for n in sch.opened[p]], nu))
                    for k, p in enumerate(sch.points) if sch.opened[p]], "sum_k u^k y_k")
    order = list(sch.commitments) + sorted(n for n in vk.fixed_commitments if n not in sch.commitments)
    terms = []
    source = {delta_name(f): f for f in sch.hidden}
    for n in order:
        src = source.get(n, n)  # [Δ_f] carries f's scalars, and its link part
        parts = [upow[k] * nupow[sch.opened[p].index(src)] for k, p in enumerate(sch.points) if src in sch.opened[p]]
        if n in link:
            parts.append(link[n])
        if parts:  # the loader adds a merged scalar's parts once
            terms.append((parts[0] if len(parts) == 1 else parts, L.commitment(n) if n in sch.commitments else L.fixed(n)))
    terms += [(upow[k] * vc.points[p], L.opening(p)) for k, p in enumerate(sch.points)]
    terms.append((L.const(0) - ys, L.generator()))
    lhs = L.msm(terms)
    rhs = L.msm([(upow[k], L.opening(p)) for k, p in enumerate(sch.points)])
    L.pairing_check(lhs, rhs, "pairing check failed (an opening is wrong)")
