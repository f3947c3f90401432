"""The Python verifier: the specification the Solidity verifier is checked against.

Given a verifying key and a proof (with its public inputs/outputs) it

1. checks the proof's shape against the verifying key (digest, commitment names, evaluation counts) and that
   every field element is ``< r``, every point is on the curve, every public value within its bound;
2. replays the Fiat–Shamir transcript (``docs/protocol.md`` §2, §4) to get γ, β, ρ, α, ε, ζ, ν, u;
3. checks each block's verifier equation over the claimed evaluations (``docs/protocol.md`` §5):
   linear relations at ρ, the degree reversal at ζ/1/ζ, and one aggregated Laurent inner-product equation
   that carries every matmul and lookup claim;
4. folds the four batched KZG opening claims (one per point) into the accumulator ``(L, R)`` and decides
   ``e(L, [1]₂)·e(−R, [τ]₂) = 1`` with one two-pair pairing (``docs/protocol.md`` §3).

Returns a :class:`Verdict`; a proof that fails any check is rejected, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from zkchain.blocks import conv, degree, hadamard, inner_product, linear, lookup, matmul, pick, protocol
from zkchain.blocks.common import POINTS, RHO, RHO_ZETA_INV, ZETA, ZETA_INV, expr_eval, ones_eval, point_values
from zkchain.compiler.circuit import Conv, Hadamard, MatMul, PadZero, Pick, Zero
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.transcript import Transcript
from zkchain.errors import InputError
from zkchain.prover.keys import VerifyingKey
from zkchain.prover.proof import Proof


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
        v = _verify(vk, proof)
    except _Reject as r:
        v = Verdict(False, str(r))
    v.warning = warning
    return v


class _Reject(Exception):
    pass


def _require(cond: bool, reason: str) -> None:
    if not cond:
        raise _Reject(reason)


def _verify(vk: VerifyingKey, proof: Proof) -> Verdict:
    be = get_backend()
    circuit = vk.circuit
    sched = protocol.opening_schedule(circuit)
    names = protocol.commitment_names(circuit)

    # 1. Shape and ranges.
    _require(proof.vk_digest == vk.digest, "proof is for another verifying key (digest mismatch)")
    _require(sorted(proof.commitments) == sorted(names), "commitment set does not match the verifying key")
    _require(sorted(proof.evaluations) == sorted(POINTS) and sorted(proof.openings) == sorted(POINTS),
             "proof must open at exactly the points rho, zeta, zeta_inv, rho_zeta_inv")
    for p in POINTS:
        _require(len(proof.evaluations[p]) == len(sched[p]), f"wrong number of evaluations at {p}")
        _require(all(isinstance(v, int) and 0 <= v < R for v in proof.evaluations[p]), f"evaluation at {p} is not < r")
    pub_names = protocol.public_names(circuit)
    _require(sorted(proof.public) == sorted(pub_names), "public vectors do not match the verifying key")
    for n in pub_names:
        vec = circuit.vectors[n]
        vals = proof.public[n]
        _require(len(vals) == vec.length, f"public vector {n} has {len(vals)} entries, expected {vec.length}")
        _require(all(isinstance(v, int) and -(R // 2) <= v <= R // 2 for v in vals),
                 f"public vector {n} has a non-canonical value (not a signed field element)")
        _require(all(vec.bound == 0 or abs(v) <= vec.bound for v in vals),
                 f"public vector {n} has a value outside ±{vec.bound}")
    points = {}
    try:
        for n in names:
            points[n] = be.g1_from_bytes(proof.commitments[n])
        for p in POINTS:
            points["open:" + p] = be.g1_from_bytes(proof.openings[p])
        for n, c in vk.fixed_commitments.items():
            points[n] = be.g1_from_bytes(c)
        g2_one, g2_tau = be.g2_from_bytes(vk.g2_one), be.g2_from_bytes(vk.g2_tau)
    except InputError as exc:
        raise _Reject(f"invalid curve point: {exc}") from None

    # 2. Transcript.
    tr = Transcript(protocol.PROOF_DOMAIN)
    tr.absorb_bytes(vk.digest)
    for n in pub_names:
        for v in proof.public[n]:
            tr.absorb_fr(v % R)
    for n in protocol.round1_names(circuit):
        tr.absorb_g1_bytes(proof.commitments[n])
    gamma, beta = (tr.challenge(lbl) for lbl in protocol.ROUND1_LABELS)
    for n in protocol.round2_names(circuit):
        tr.absorb_g1_bytes(proof.commitments[n])
    rho, alpha, epsilon = (tr.challenge(lbl) for lbl in protocol.ROUND2_LABELS)
    for n in protocol.ROUND3_NAMES:
        tr.absorb_g1_bytes(proof.commitments[n])
    (zeta,) = (tr.challenge(lbl) for lbl in protocol.ROUND3_LABELS)
    _require(zeta != 0, "challenge zeta is zero")
    for p in POINTS:
        for v in proof.evaluations[p]:
            tr.absorb_fr(v)
    (nu,) = (tr.challenge(lbl) for lbl in protocol.ROUND4_LABELS)
    for p in POINTS:
        tr.absorb_g1_bytes(proof.openings[p])
    u = tr.challenge(protocol.ACCUMULATION_LABEL)

    pts = point_values(rho, zeta)
    opened = {p: dict(zip(sched[p], proof.evaluations[p])) for p in POINTS}
    public_polys = {n: [v % R for v in proof.public[n]] for n in pub_names}

    def ev(point: str):
        x = pts[point]

        def vec(name: str) -> int:
            if name in public_polys:
                acc = 0
                for c in reversed(public_polys[name]):
                    acc = (acc * x + c) % R
                return acc
            return opened[point][name]

        return vec

    # 3. Block equations.
    for c in circuit.constraints:
        if isinstance(c, Zero):
            _require(linear.verify(c, rho, ev(RHO)), f"linear relation {c.name!r} does not hold")

    lens = protocol.lengths(circuit)
    at_zeta = ev(ZETA)
    _require(degree.verifier_check([(at_zeta(n), lens[n]) for n in protocol.degree_checked(circuit)],
                                   opened[ZETA_INV][protocol.W], epsilon, zeta),
             "degree check failed (a committed vector is longer than declared)")

    zi = pts[ZETA_INV]
    terms = []
    for c in circuit.constraints:
        if isinstance(c, MatMul):
            lhs = matmul.verifier_term(c, at_zeta(c.weight), expr_eval(c.x, zi, ev(ZETA_INV)), zi, rho)
            terms.append((lhs, expr_eval(c.out, rho, ev(RHO))))
        elif isinstance(c, Conv):
            lhs = conv.verifier_term(c, expr_eval(c.x, zeta, at_zeta), at_zeta(c.weight), zeta, zi, rho)
            terms.append((lhs, expr_eval(c.out, rho, ev(RHO))))
        elif isinstance(c, Hadamard):
            lhs = hadamard.verifier_term(expr_eval(c.a, zeta, at_zeta), expr_eval(c.b, pts[RHO_ZETA_INV], ev(RHO_ZETA_INV)))
            terms.append((lhs, expr_eval(c.out, rho, ev(RHO))))
        elif isinstance(c, Pick):
            terms.append((pick.verifier_term(c, expr_eval(c.x, zeta, at_zeta), zi, rho), expr_eval(c.out, rho, ev(RHO))))
        elif isinstance(c, PadZero):
            terms.append((expr_eval(c.x, zeta, at_zeta) * conv.pad_mask_eval(c.grid, rho, zi) % R,
                          c.value * conv.pad_mask_eval(c.grid, rho, 1) % R))
    if protocol.has_lookups(circuit):
        nf, nt = circuit.query_length(), circuit.table_length()
        x = pts[RHO_ZETA_INV]
        f_x = lookup.query_eval(circuit, x, gamma, ev(RHO_ZETA_INV))
        t_out = opened[RHO_ZETA_INV].get(lookup.TABLE_OUT, 0)
        t_x = lookup.table_eval(circuit, x, gamma, t_out)
        h_z, g_z = at_zeta(protocol.H), at_zeta(protocol.G)
        terms.append((h_z * (beta * ones_eval(nf, x) - f_x), ones_eval(nf, rho)))
        terms.append((g_z * (beta * ones_eval(nt, x) - t_x), opened[RHO][protocol.M]))
        terms.append((h_z * ones_eval(nf, zi) - g_z * ones_eval(nt, zi), 0))
    lhs = inner_product.verifier_lhs(terms, alpha)
    rhs = inner_product.verifier_rhs(at_zeta(protocol.A), opened[ZETA_INV][protocol.B], zeta, zi)
    _require(lhs == rhs, "inner-product (matmul / lookup) check failed")

    # 4. KZG: one batched claim per point, folded into one pairing check.
    claims = []
    for p in POINTS:
        comms = [points[n] for n in sched[p]]
        claims.append(kzg.combine_claims_at_point(be, comms, proof.evaluations[p], pts[p], nu, points["open:" + p]))
    acc = kzg.accumulate(claims, u, backend=be)
    _require(acc.check(g2_one, g2_tau), "pairing check failed (an opening is wrong)")
    return Verdict(True)
