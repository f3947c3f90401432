"""The prover: witness → commitments → block claims → one batched KZG opening per point.

Follows the round structure of ``zkchain.protocol.schedule`` (``docs/protocol.md`` §4). Every block turns its
relation into claims of the Laurent inner-product argument; all those claims share two commitments (A, B),
and all evaluations at one point share one opening proof. The verifier folds the three resulting KZG claims
into one pairing check (the accumulator, ``zkchain/crypto/kzg.py``).

Zero knowledge (protocol v2, ``docs/protocol.md`` §7): every committed witness polynomial gets a tail of fresh
uniform coefficients past its data (``Schedule.tails``), a mask ``S`` hides the Laurent quotients, and every
fixed vector is read as ``F̃ = F^vk + X^(M_f)·R_f`` with fresh ``R_f`` (``Schedule.masks``, §7.6). The coins
come from ``rng`` — the OS CSPRNG (``secrets.SystemRandom``) unless a test passes a seeded ``random.Random`` —
and are all drawn here, in the main process, in schedule order.

Independent work (MSMs of a round, the Laurent products of the blocks, the opening proofs) is spread over a
process pool (``workers``); results are combined in a fixed order, so with a seeded ``rng`` the proof is
bit-identical for any number of workers.
"""

from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from typing import Callable

from zkchain.blocks import ARGUMENTS, degree, hiding, inner_product
from zkchain.blocks.common import ProverContext, point_values
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R
from zkchain.crypto.transcript import Transcript
from zkchain.errors import InputError
from zkchain.prover.keys import ProvingKey
from zkchain.prover.parallel import ProverPool
from zkchain.protocol.proof import Proof
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.protocol.schedule import (EVALUATION_CHALLENGE, LINK_CHALLENGE, LINK_POINT, PROOF_DOMAIN, R_LAMBDA,
                                       delta_name, schedule)


class Timings(dict):
    """Seconds per prover stage, for ``--profile`` and the benchmark; ``blocks`` holds ``(label, seconds)`` per
    block of the circuit (and the lookup argument, the mask claim), in circuit order: the time of building its
    claims plus their Laurent products (the part of ``claims: build`` and ``claims: Laurent products`` it caused;
    commitments and openings are shared by all blocks and are not split)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str):
        t = time.perf_counter()
        yield
        self[name] = self.get(name, 0.0) + time.perf_counter() - t


def prove(pk: ProvingKey, values: dict[str, list[int]], workers: int = 1,
          progress: Callable[[str], None] | None = None, timings: Timings | None = None,
          check_witness: bool = True, rng=None, pool: ProverPool | None = None) -> Proof:
    """Prove that the witness ``values`` satisfies ``pk``'s circuit.

    ``values`` maps every witness and public vector name to its entries (signed Python ints, length as
    declared). Raises :class:`InputError` when a vector is missing or has the wrong length, or a lookup value
    is outside its table (out of the calibrated range); raises ``ValueError`` if the witness does not satisfy
    a block (a compiler or executor bug, never a user error). ``check_witness=False`` skips those checks and
    proves whatever it is given: only soundness tests (cheating provers) use it. ``rng`` (anything with
    ``randrange``) supplies the zero-knowledge coins; the default, the OS CSPRNG, is the only safe choice
    outside tests.

    ``pool``: a warm :class:`ProverPool` (its SRS, and its workers' SRS, already loaded: a prover service keeps
    one per SRS); ``None`` makes one with ``workers`` processes for this proof alone. Raises ``InputError`` when
    the pool's SRS is not this key's."""
    timings = timings if timings is not None else Timings()
    rng = rng or secrets.SystemRandom()
    if pool is not None:
        pool.check_serves(pk.srs_spec, pk.vk.srs_degree)
        return _prove(pk, values, pool, progress, timings, check_witness, rng)
    with timings.stage("SRS load"):  # a dev SRS is re-derived per process: the largest single cost for small models
        pool = ProverPool(pk.srs_spec, pk.vk.srs_degree, workers, srs=pk.srs() if workers <= 1 else None)
    with pool:
        return _prove(pk, values, pool, progress, timings, check_witness, rng)


def _prove(pk: ProvingKey, values: dict[str, list[int]], pool: ProverPool,
           progress: Callable[[str], None] | None, tm: Timings, check_witness: bool, rng) -> Proof:
    circuit = pk.circuit
    sch = schedule(circuit)
    step = progress or (lambda s: None)
    with tm.stage("SRS load"):
        pool.wait_ready()  # spawned workers load their SRS shards while the keys and witness are read

    vals: dict[str, list[int]] = {}
    for v in circuit.vectors.values():
        src = pk.fixed_values if v.kind == "fixed" else values
        if v.name not in src:
            raise InputError(f"no values for vector {v.name!r}")
        entries = [int(x) % R for x in src[v.name]]
        if len(entries) != v.length and (check_witness or len(entries) < v.length):
            raise InputError(f"vector {v.name!r} has {len(entries)} entries, the circuit expects {v.length}")
        vals[v.name] = entries
    public = {n: [x if x <= R // 2 else x - R for x in vals[n]] for n in sch.public}
    for n, entries in public.items():
        bound = circuit.vectors[n].bound
        bad = next((i for i, x in enumerate(entries) if bound and abs(x) > bound), None)
        if check_witness and bad is not None:  # the verifier would reject it: say why instead
            raise InputError(f"value out of the calibrated range: public {circuit.vectors[n].role} {n!r} entry "
                             f"{bad} is {entries[bad]}, the verifying key allows |v| ≤ {bound}")

    pc = ProverContext(circuit, vals)
    coeffs = pc.coeffs  # committed polynomials: data, then the zero-knowledge tail

    def with_tail(name: str, entries: list[int]) -> list[int]:
        sigma, t = sch.tails[name]
        return list(entries) + [0] * max(0, sigma - len(entries)) + [rng.randrange(R) for _ in range(t)]

    for v in circuit.of_kind("witness"):
        coeffs[v.name] = with_tail(v.name, vals[v.name])
    fixed_masks = hiding.draw_masks(sch, rng)  # Δ_f = X^(M_f)·R_f; F̃_f = F_f + r⁰_f·X^(M_f) + Δ_f
    shifted = []
    for f, d in fixed_masks.items():
        coeffs[f] = hiding.masked(vals[f], pk.fixed_masks[f], d, sch.masks[f][0])
        lo = next((i for i, c in enumerate(d) if c), len(d))
        shifted.append((d[lo:], lo))  # a t-point MSM each
    deltas = dict(zip(map(delta_name, fixed_masks), pool.commit_shifted_many(shifted)))
    args = [a for a in ARGUMENTS if a.active(circuit)]
    tr = Transcript(PROOF_DOMAIN)
    tr.absorb_bytes(pk.vk.digest)
    for n in sch.public:
        for x in vals[n]:
            tr.absorb_fr(x)

    commitments: dict[str, bytes] = {}
    for rnd in sch.rounds:
        if rnd.name == "quotients":  # the Laurent quotients of every claim, and the degree reversal
            with tm.stage("claims: build"):
                groups = [(f"{con.kind} {getattr(con, 'name', '')}".rstrip(), *_timed(con.prover_claims, pc))
                          for con in circuit.constraints]
                groups += [(getattr(a, "__name__", type(a).__name__), *_timed(a.prover_claims, pc)) for a in args]
                groups.append(("mask S", *_timed(lambda _pc: [inner_product.mask_claim(coeffs[inner_product.S])], pc)))
            with tm.stage("claims: Laurent products"):
                step("inner-product argument")
                A, B = _aggregate_by_block(pool, groups, pc.challenges["alpha"], check_witness, tm)
            coeffs[inner_product.A], coeffs[inner_product.B] = fpoly.coeffs(A), fpoly.coeffs(B)
            bounds = sch.bounds
            coeffs[degree.W] = degree.reversed_sum([(coeffs[n], bounds[n]) for n in sch.degree_checked],
                                                   pc.challenges["epsilon"])
        else:
            with tm.stage(f"witness: {rnd.name}"):
                for a in args:
                    for n, entries in a.prover_round(rnd.name, pc, strict=check_witness).items():
                        vals[n] = entries
                        coeffs[n] = with_tail(n, entries)
                if rnd.name == "witness":
                    coeffs[inner_product.S] = inner_product.mask_coefficients(rng)
        with tm.stage(f"commit {rnd.name}"):
            step(f"committing {rnd.name}")
            todo = [n for n in rnd.commitments if n not in deltas]
            made = dict(zip(todo, pool.commit_many([coeffs[n] for n in todo])))
            points = [deltas[n] if n in deltas else made[n] for n in rnd.commitments]
        for n, pt in zip(rnd.commitments, points):
            commitments[n] = pt
            tr.absorb_g1_bytes(pt)
        for label in rnd.challenges:
            pc.challenges[label] = tr.challenge(label)
        if LINK_CHALLENGE in rnd.challenges and sch.hidden:  # R_λ, committed next round
            coeffs[R_LAMBDA] = hiding.r_lambda(sch, fixed_masks, pc.challenges[LINK_CHALLENGE])
    zeta = pc.challenges["zeta"]
    if zeta == 0:
        raise ValueError("challenge ζ is zero; retry")

    # Evaluations and one batched opening proof per point.
    pts = point_values(pc.rho, zeta)
    with tm.stage("openings: evaluate"):
        polys = {n: fpoly.poly(coeffs.get(n) or vals[n]) for p in sch.points for n in sch.opened[p]}
        evaluations = {p: [fpoly.evaluate(polys[n], pts[p]) for n in sch.opened[p]] for p in sch.points}
    for p in sch.points:
        for y in evaluations[p]:
            tr.absorb_fr(y)
    nu = tr.challenge(EVALUATION_CHALLENGE)
    with tm.stage("openings: proofs"):
        step("opening proofs")
        d = hiding.link_polynomial(sch, fixed_masks, coeffs.get(R_LAMBDA, []), pc.challenges[LINK_CHALLENGE], zeta)
        link = [fpoly.poly(d)] if d is not None else []  # D, value 0 at LINK_POINT (docs/protocol.md §7.6)
        proofs = pool.open_many([([polys[n] for n in sch.opened[p]] + (link if p == LINK_POINT else []), pts[p])
                                 for p in sch.points], nu)
    openings = dict(zip(sch.points, proofs))
    return Proof(pk.vk.digest, public, commitments, evaluations, openings)


def _timed(fn, arg):
    t = time.perf_counter()
    out = fn(arg)
    return out, time.perf_counter() - t


def _aggregate_by_block(pool: ProverPool, groups, alpha: int, check: bool, tm: Timings):
    """``A``, ``B`` of all claims (claim ``c`` weighted ``α^c`` in overall order), each block's time recorded in
    ``tm.blocks``: building its claims plus its Laurent products (on workers: their seconds). ``groups``:
    ``(label, claims, seconds to build them)``."""
    A, B, secs = pool.aggregate_blocks([claims for _, claims, _ in groups], alpha, check)
    tm.blocks.extend((label, build_s + s) for (label, _, build_s), s in zip(groups, secs))
    return A, B
