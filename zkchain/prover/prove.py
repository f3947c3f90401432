"""The prover: witness → commitments → block claims → one batched KZG opening per point.

Follows the round structure of ``zkchain.blocks.protocol`` (``docs/protocol.md`` §4). Every block turns its
relation into evaluations at the four global points and, where it needs an inner product or a Hadamard
product, into claims of the Laurent inner-product argument; all those claims share two commitments (A, B),
and all evaluations at one point share one opening proof. The verifier folds the four resulting KZG claims
into one pairing check (the accumulator, ``zkchain/crypto/kzg.py``).

Independent work (MSMs of a round, the Laurent products of the blocks, the four opening proofs) is spread
over a process pool (``workers``); results are combined in a fixed order, so the proof is bit-identical
for any number of workers.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable

from zkchain.blocks import conv, degree, hadamard, lookup, matmul, pick, protocol
from zkchain.blocks.common import POINTS, expr_values, ones_eval, point_values
from zkchain.blocks.inner_product import LaurentClaim
from zkchain.compiler.circuit import Conv, Hadamard, MatMul, PadZero, Pick
from zkchain.crypto import poly as fpoly
from zkchain.crypto.field import R
from zkchain.crypto.transcript import Transcript
from zkchain.errors import InputError
from zkchain.prover.parallel import ProverPool
from zkchain.prover.keys import ProvingKey
from zkchain.prover.proof import Proof


class Timings(dict):
    """Seconds per prover stage, for ``--profile`` and the benchmark."""

    @contextmanager
    def stage(self, name: str):
        t = time.perf_counter()
        yield
        self[name] = self.get(name, 0.0) + time.perf_counter() - t


def prove(pk: ProvingKey, values: dict[str, list[int]], workers: int = 1,
          progress: Callable[[str], None] | None = None, timings: Timings | None = None,
          check_witness: bool = True) -> Proof:
    """Prove that the witness ``values`` satisfies ``pk``'s circuit.

    ``values`` maps every witness and public vector name to its entries (signed Python ints, length as
    declared). Raises :class:`InputError` when a vector is missing or has the wrong length, or a lookup value
    is outside its table (out of the calibrated range); raises ``ValueError`` if the witness does not satisfy
    a block (a compiler or executor bug, never a user error). ``check_witness=False`` skips those checks and
    proves whatever it is given: only soundness tests (cheating provers) use it."""
    timings = timings if timings is not None else Timings()
    with timings.stage("SRS load"):
        srs = pk.srs()  # a dev SRS is re-derived per process: the largest single cost for small models
    with ProverPool(srs, pk.srs_spec, pk.vk.srs_degree, workers) as pool:
        return _prove(pk, values, pool, progress, timings, check_witness)


def _prove(pk: ProvingKey, values: dict[str, list[int]], pool: ProverPool,
           progress: Callable[[str], None] | None, tm: Timings, check_witness: bool) -> Proof:
    circuit = pk.circuit
    step = progress or (lambda s: None)

    vals: dict[str, list[int]] = {}
    for v in circuit.vectors.values():
        src = pk.fixed_values if v.kind == "fixed" else values
        if v.name not in src:
            raise InputError(f"no values for vector {v.name!r}")
        entries = [int(x) % R for x in src[v.name]]
        if len(entries) != v.length and (check_witness or len(entries) < v.length):
            raise InputError(f"vector {v.name!r} has {len(entries)} entries, the circuit expects {v.length}")
        vals[v.name] = entries
    get = vals.__getitem__
    lookups = protocol.has_lookups(circuit)

    tr = Transcript(protocol.PROOF_DOMAIN)
    tr.absorb_bytes(pk.vk.digest)
    public = {n: [x if x <= R // 2 else x - R for x in vals[n]] for n in protocol.public_names(circuit)}
    for n, entries in public.items():
        bound = circuit.vectors[n].bound
        bad = next((i for i, x in enumerate(entries) if bound and abs(x) > bound), None)
        if check_witness and bad is not None:  # the verifier would reject it: say why instead
            raise InputError(f"value out of the calibrated range: public {circuit.vectors[n].role} {n!r} entry "
                             f"{bad} is {entries[bad]}, the verifying key allows |v| ≤ {bound}")
    for n in protocol.public_names(circuit):
        for x in vals[n]:
            tr.absorb_fr(x)

    commitments: dict[str, bytes] = {}

    def commit_round(names: list[str], label: str) -> None:
        with tm.stage(f"commit {label}"):
            step(f"committing {label}")
            points = pool.commit_many([vals[n] for n in names])
        for n, pt in zip(names, points):
            commitments[n] = pt
            tr.absorb_g1_bytes(pt)

    # Round 1: witness vectors and multiplicities.
    if lookups:
        with tm.stage("witness: multiplicities"):
            queries = lookup.query_rows(circuit, get)
            table = lookup.table_rows(circuit, pk.fixed_values.get(lookup.TABLE_OUT))
            vals[protocol.M] = lookup.multiplicities(circuit, queries, table, strict=check_witness)
    commit_round(protocol.round1_names(circuit), "witness")
    gamma, beta = (tr.challenge(lbl) for lbl in protocol.ROUND1_LABELS)

    # Round 2: logUp helpers.
    if lookups:
        with tm.stage("witness: logUp helpers"):
            f = lookup.compress(queries, gamma)
            t = lookup.compress(table, gamma)
            try:
                vals[protocol.H], vals[protocol.G] = lookup.helper_vectors(f, t, vals[protocol.M], beta)
            except ZeroDivisionError:  # β hit a row: probability ≤ (N_F + N_T)/r
                raise ValueError("challenge β equals a lookup row; retry with another transcript") from None
        commit_round(protocol.round2_names(circuit), "logUp helpers")
    rho, alpha, epsilon = (tr.challenge(lbl) for lbl in protocol.ROUND2_LABELS)

    # Round 3: Laurent quotients of all inner-product claims, degree reversal.
    def at_rho(e) -> int:
        return fpoly.evaluate(fpoly.poly(expr_values(e, get)), rho)

    with tm.stage("claims: build"):
        claims = []
        for c in circuit.constraints:
            if isinstance(c, MatMul):
                x_entries = expr_values(c.x, get)
                out_at_rho = at_rho(c.out)
                claims.append(LaurentClaim([(vals[c.weight], matmul.prover_terms(c, x_entries, rho))],
                                           out_at_rho, c.name or "matmul"))
            elif isinstance(c, Conv):
                xk = fpoly.poly(conv.input_with_ones(c, expr_values(c.x, get))) * fpoly.poly(vals[c.weight])
                out_at_rho = at_rho(c.out)
                claims.append(LaurentClaim([(fpoly.coeffs(xk), conv.selection(c, rho))], out_at_rho, c.name or "conv"))
            elif isinstance(c, Hadamard):
                out_at_rho = at_rho(c.out)
                claims.append(LaurentClaim([(expr_values(c.a, get), hadamard.prover_right(expr_values(c.b, get), rho))],
                                           out_at_rho, c.name or "hadamard"))
            elif isinstance(c, Pick):
                out_at_rho = at_rho(c.out)
                claims.append(LaurentClaim([(expr_values(c.x, get), pick.prover_right(c, rho))], out_at_rho,
                                           c.name or "pick"))
            elif isinstance(c, PadZero):
                claims.append(LaurentClaim([(expr_values(c.x, get), conv.pad_mask(c.grid, rho))],
                                           c.value * conv.pad_mask_eval(c.grid, rho, 1) % R, c.name or "padding"))
        if lookups:
            nf, nt = circuit.query_length(), circuit.table_length()
            claims.append(LaurentClaim([(vals[protocol.H], lookup.hadamard_right(f, beta, rho))],
                                       ones_eval(nf, rho), "logUp queries"))
            claims.append(LaurentClaim([(vals[protocol.G], lookup.hadamard_right(t, beta, rho))],
                                       fpoly.evaluate(fpoly.poly(vals[protocol.M]), rho), "logUp table"))
            claims.append(LaurentClaim([(vals[protocol.H], [1] * nf), (vals[protocol.G], [R - 1] * nt)],
                                       0, "logUp sums"))
    with tm.stage("claims: Laurent products"):
        step("inner-product argument")
        A, B = pool.aggregate(claims, alpha, check=check_witness)
    vals[protocol.A] = fpoly.coeffs(A)
    vals[protocol.B] = fpoly.coeffs(B)
    lens = protocol.lengths(circuit)
    vals[protocol.W] = degree.reversed_sum([(vals[n], lens[n]) for n in protocol.degree_checked(circuit)], epsilon)
    commit_round(protocol.ROUND3_NAMES, "quotients")
    (zeta,) = (tr.challenge(lbl) for lbl in protocol.ROUND3_LABELS)
    if zeta == 0:
        raise ValueError("challenge ζ is zero; retry")

    # Round 4: evaluations and one batched opening proof per point.
    pts = point_values(rho, zeta)
    sched = protocol.opening_schedule(circuit)
    with tm.stage("openings: evaluate"):
        polys = {n: fpoly.poly(vals[n]) for p in POINTS for n in sched[p]}
        evaluations = {p: [fpoly.evaluate(polys[n], pts[p]) for n in sched[p]] for p in POINTS}
    for p in POINTS:
        for y in evaluations[p]:
            tr.absorb_fr(y)
    (nu,) = (tr.challenge(lbl) for lbl in protocol.ROUND4_LABELS)
    with tm.stage("openings: proofs"):
        step("opening proofs")
        proofs = pool.open_many([([polys[n] for n in sched[p]], pts[p]) for p in POINTS], nu)
    openings = {p: pr for p, pr in zip(POINTS, proofs)}

    return Proof(pk.vk.digest, public, commitments, evaluations, openings)
