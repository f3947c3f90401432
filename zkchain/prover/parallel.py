"""Where the prover's heavy work runs: this process and ``W − 1`` worker processes, each holding a *shard* of the SRS.

The prover's cost is MSMs (commitments and opening proofs; arkworks via zksnake, one core each) and polynomial
products (the Laurent products of the inner-product argument; FLINT, one core each). With ``workers = W``:

* **SRS shards.** Process ``k`` (this one is ``k = 0``) loads only the powers ``[τ^i]₁`` with ``i ≡ k (mod W)``.
  A commitment ``Σ_i c_i·[τ^i]₁`` splits into W partial MSMs, process ``k`` taking the coefficients at its
  indices; this process adds the W partial points. So W processes load the SRS in the time one loads ``1/W`` of
  it (zksnake points cannot be shared between processes or pickled, and building one costs ~70–100 µs, so no
  point is ever built twice), every MSM — even a single large one — is spread evenly, and each worker receives
  only its ``1/W`` of the coefficients.
* **Laurent products** of the claims are dealt out (largest first, to the least loaded); each process returns
  its share of ``A`` and ``B`` already weighted by ``α^c``, and each claim's constant term for the witness check.
* **Opening proofs**: this process forms each batch's quotient ``(Σ ν^j f_j − y)/(X − x)`` (FLINT, linear time)
  and commits it through the shards.

Point addition and field arithmetic are exact, so the proof does not depend on W (bit-identical for a seeded
``rng``: tested). Requests go out before this process starts its own share, then the results are collected.
Workers are long-lived: a pool made once (``zkchain serve``, :class:`zkchain.api.Prover`) loads its shards once
and proves many times; a fresh pool's workers load theirs while this process reads the keys and the witness.
What a worker holds and does is :class:`ShardServer`; how it is reached is the transport: a pipe to a spawned
process (:class:`_ShardWorker`), or a Ray actor on a cluster (``ProverPool(..., ray=ADDRESS)``,
:mod:`zkchain.prover.ray_pool`).
"""

from __future__ import annotations

import multiprocessing
import os
import time

from zkchain.blocks import inner_product
from zkchain.crypto import field, kzg
from zkchain.crypto import poly as fpoly
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.errors import InputError


#: Below this SRS degree a second process costs more (spawn + import, ~1 s) than it saves (measured on 2 cores:
#: digits MLP, degree ~5k: 1.5 s alone, 1.6 s with two; LeNet-5, degree ~32k: 9.2 s alone, 6.5 s with two).
MIN_DEGREE_PER_WORKER = 1 << 14
MAX_DEFAULT_WORKERS = 8


def default_workers(srs_degree: int | None = None) -> int:
    """Prover processes when the user does not say (``--workers``): one per ``MIN_DEGREE_PER_WORKER`` powers of
    the SRS, at most one per CPU core and ``MAX_DEFAULT_WORKERS``; 1 for small keys. See ``docs/scale.md``."""
    if not srs_degree:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, round(srs_degree / MIN_DEGREE_PER_WORKER), MAX_DEFAULT_WORKERS))


# -- worker side ---------------------------------------------------------------------------------------------


class ShardServer:
    """What a worker holds and does: SRS shard ``k`` of ``w`` (the points ``[τ^(k + jW)]₁``, j = 0, 1, ...) and
    the two requests a pool sends, :meth:`run` ``("msm", items)`` and ``("laurent", jobs)``. Results are plain
    data (64-byte EVM G1 points, coefficient lists), so any transport carries them: a pipe to a spawned process
    (:class:`_ShardWorker`), or a Ray actor."""

    def __init__(self, spec: str, degree: int, k: int, w: int):
        from zkchain.prover.keys import load_srs_shard

        self.k, self.w = k, w
        self.shard = load_srs_shard(spec, degree, k, w)

    def size(self) -> int:
        return len(self.shard)

    def run(self, name: str, args: tuple):
        if name == "msm":
            be = get_backend()
            return [be.g1_to_bytes(p) for p in _msm(self.shard, *args)]
        if name == "laurent":
            A, B, consts, secs = _laurent(*args)
            return fpoly.coeffs(A), fpoly.coeffs(B), consts, secs
        raise ValueError(f"unknown prover request {name!r}")


def _worker_main(conn, spec: str, degree: int, k: int, w: int) -> None:
    """A shard worker process: load shard ``k`` of ``w``, send how many points it holds, then answer ``(name,
    args)`` requests with ``("ok", result)`` or ``("error", text)`` until the pipe closes."""
    def answer(result) -> bool:  # False when the parent has gone (it stopped or failed): then leave quietly
        try:
            conn.send(result)
            return True
        except OSError:
            return False

    try:
        server = ShardServer(spec, degree, k, w)
        ready = ("ok", server.size())
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        answer(("error", f"{type(exc).__name__}: {exc}"))
        return
    if not answer(ready):
        return
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = ("ok", server.run(name, args))
        except Exception as exc:  # noqa: BLE001
            result = ("error", f"{type(exc).__name__}: {exc}")
        if not answer(result):
            return


class _ShardWorker:
    """One spawned process holding one SRS shard, driven over a pipe. Requests are sent from the calling thread
    (a thread-fed queue would wait for the GIL while this process runs its own share in native code), one at a
    time: :meth:`call` then :meth:`result`."""

    def __init__(self, ctx, spec: str, degree: int, k: int, w: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, spec, degree, k, w), daemon=True,
                                name=f"zkchain-shard-{k}-of-{w}")
        self.proc.start()
        child.close()
        self.size: int | None = None

    def call(self, name: str, *args) -> "_ShardWorker":
        self.conn.send((name, args))
        return self

    def result(self):
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError):
            raise RuntimeError(f"prover worker {self.proc.name} died (exit code {self.proc.exitcode}); "
                               "out of memory?") from None
        if status != "ok":
            raise RuntimeError(f"prover worker {self.proc.name} failed: {value}")
        return value

    def ready(self) -> None:
        if self.size is None:
            self.size = self.result()

    def close(self) -> None:
        self.conn.close()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()


def _msm(shard, items: list[tuple[int, list[int]]]) -> list:
    """Partial commitments: for each ``(local start j0, coefficients)``, ``Σ_t c_t·shard[j0 + t]``."""
    be = get_backend()
    out = []
    for j0, cs in items:
        if j0 + len(cs) > len(shard):
            raise kzg.SRSTooSmall(j0 + len(cs), len(shard))
        out.append(be.g1_msm(shard[j0:j0 + len(cs)], cs) if cs else be.g1_zero())
    return out


_laurent = inner_product.weighted_sums  # this process's share of the Laurent products


# -- parent side ---------------------------------------------------------------------------------------------


class ProverPool:
    """The prover's execution backend: ``workers`` processes, this one and ``workers − 1`` spawned ones, each
    holding one SRS shard (``workers = 1``: this process, the whole SRS, or ``srs`` when given). Use as a context
    manager, or :meth:`close`.

    ``spec``: the SRS (``dev:<seed>`` or a ``.ptau`` path, :func:`zkchain.prover.keys.load_srs`); ``degree``: its
    largest power of τ — keys made with this SRS at any degree up to it can prove here (:meth:`check_serves`).

    ``ray``: ``None`` (shards ``1 … W−1`` in spawned processes), or the address of a Ray cluster (``HOST:PORT`` of
    its head, or ``"auto"`` to start a local one on 127.0.0.1): shards ``1 … W−1`` are then Ray actors on it
    (:mod:`zkchain.prover.ray_pool`; ``W ≥ 2``), and :meth:`close` kills them. Raises :class:`InputError` for a
    malformed address or ``W < 2`` with Ray, :class:`~zkchain.errors.SetupError` when ``ray`` is not installed or
    the cluster cannot be reached."""

    def __init__(self, spec: str, degree: int, workers: int = 1, srs=None, ray: str | None = None):
        from zkchain.prover.keys import load_srs, load_srs_shard

        self.spec, self.degree = spec, degree
        self.workers = max(1, int(workers))
        self._remote: list = []  # shards 1 … W−1: _ShardWorker or ray_pool.RayShard (call, result, ready, close)
        self._ray_session = None
        if ray is not None:
            from zkchain.prover import ray_pool

            if self.workers < 2:
                raise InputError("proving on Ray needs at least 2 SRS shards (--workers 2 or more): this process "
                                 "holds one, each Ray actor another")
            self._ray_session, self._remote = ray_pool.start_shards(ray, spec, degree, self.workers)
        elif self.workers > 1:
            # "spawn": the native libraries start threads, and forking a threaded process can deadlock. They
            # start now and load their shards while this process loads its own, then the keys and the witness.
            ctx = multiprocessing.get_context("spawn")
            self._remote = [_ShardWorker(ctx, spec, degree, k, self.workers) for k in range(1, self.workers)]
        try:
            if self.workers > 1:
                self._shard = load_srs_shard(spec, degree, 0, self.workers)
            else:
                self._shard = (srs if srs is not None else load_srs(spec, degree)).g1_powers
        except BaseException:
            self.close()
            raise

    def wait_ready(self) -> float:
        """Block until every worker holds its shard; returns the seconds waited (0 once ready)."""
        t = time.perf_counter()
        for r in self._remote:
            r.ready()
        return time.perf_counter() - t

    def check_serves(self, spec: str, degree: int) -> None:
        """Raise ``InputError`` unless this pool's SRS is ``spec`` with at least ``degree`` (a key made with a
        smaller SRS of the same source proves with a prefix of its powers; the prover reads nothing else)."""
        if spec != self.spec or degree > self.degree:
            raise InputError(f"this prover pool holds SRS {self.spec!r} of degree {self.degree}; the key needs "
                             f"{spec!r} of degree {degree}")

    def __enter__(self) -> "ProverPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (kill the Ray actors; the last pool on a Ray connection it opened shuts it down)."""
        for r in self._remote:
            r.close()
        self._remote = []
        if self._ray_session is not None:
            from zkchain.prover import ray_pool

            session, self._ray_session = self._ray_session, None
            ray_pool.leave(session)

    # -- MSMs ---------------------------------------------------------------------------------------------------
    def commit_shifted_many(self, items: list[tuple[list[int], int]]) -> list[bytes]:
        """``[τ^shift·f(τ)]₁`` (64-byte EVM G1) for each ``(coefficients, shift)``, in order. Raises
        :class:`~zkchain.crypto.kzg.SRSTooSmall` past the SRS."""
        be = get_backend()
        for c, s in items:
            if s < 0 or s + len(c) > self.degree + 1:
                raise kzg.SRSTooSmall(s + len(c), self.degree + 1)
        w = self.workers

        def share(k: int) -> list[tuple[int, list[int]]]:
            out = []
            for c, s in items:
                t0 = (k - s) % w  # the first coefficient whose power s + t is ≡ k (mod W)
                out.append(((s + t0) // w, c[t0::w]))
            return out

        self.wait_ready()
        futs = [r.call("msm", share(k)) for k, r in enumerate(self._remote, start=1)]
        acc = _msm(self._shard, share(0))
        for f in futs:
            acc = [be.g1_add(a, _trusted_g1(be, b)) for a, b in zip(acc, f.result())]
        return [be.g1_to_bytes(a) for a in acc]

    def commit_many(self, vectors: list[list[int]]) -> list[bytes]:
        """KZG commitments (64-byte EVM G1) of coefficient vectors, in order."""
        return self.commit_shifted_many([(v, 0) for v in vectors])

    # -- Laurent products ---------------------------------------------------------------------------------------
    def aggregate(self, claims: list[inner_product.LaurentClaim], alpha: int, check: bool = True):
        """``A``, ``B`` of the Laurent inner-product argument (see :func:`inner_product.aggregate`)."""
        A, B, _ = self.aggregate_blocks([claims], alpha, check)
        return A, B

    def aggregate_blocks(self, groups: list[list[inner_product.LaurentClaim]], alpha: int, check: bool = True):
        """``A``, ``B`` of all claims of all groups (claim ``c`` in overall order weighted ``α^c``), and the seconds
        each group's Laurent products took. With ``check``, raises ``ValueError`` naming the first claim whose
        inner product differs from its value (a witness bug, never a user error)."""
        flat = [c for g in groups for c in g]
        weights = field.powers(alpha, len(flat))
        owner = [gi for gi, g in enumerate(groups) for _ in g]
        # largest first, each to the least-loaded process (cost ~ sizes of the products); in-process: in order
        cost = [sum(len(p) + len(q) for p, q in claim.terms) for claim in flat]
        load, jobs = [0] * self.workers, [[] for _ in range(self.workers)]
        order = sorted(range(len(flat)), key=lambda i: -cost[i]) if self._remote else range(len(flat))
        for c in order:
            k = min(range(self.workers), key=load.__getitem__)
            load[k] += cost[c]
            jobs[k].append((c, weights[c], flat[c].terms))
        self.wait_ready()
        futs = [r.call("laurent", jobs[k]) for k, r in enumerate(self._remote, start=1)]
        A, B, consts, ss = _laurent(jobs[0])
        secs = [0.0] * len(groups)
        for c, s in ss.items():
            secs[owner[c]] += s
        for f in futs:
            a, b, cs, ss = f.result()
            A, B = A + fpoly.poly(a), B + fpoly.poly(b)
            consts.update(cs)
            for c, s in ss.items():
                secs[owner[c]] += s
        if check:
            for c, claim in enumerate(flat):
                if (consts[c] - claim.value) % R:
                    raise ValueError(f"inner-product claim {claim.name!r} does not hold")
        return A, B, secs

    # -- opening proofs -----------------------------------------------------------------------------------------
    def open_many(self, batches: list[tuple[list, int]], nu: int) -> list[bytes]:
        """One batched opening proof per ``(polynomials, point)`` batch, in order (:func:`kzg.batch_open`: the
        commitment to ``(Σ ν^j f_j − y)/(X − x)``, Boneh–Drake–Fisch–Gabizon 2020 §3)."""
        return self.commit_shifted_many([(fpoly.coeffs(kzg.batch_quotient(polys, x, nu)), 0) for polys, x in batches])


def _trusted_g1(be, b: bytes):
    """A G1 point from a worker of this pool (already a valid point: skip the subgroup check)."""
    x, y = int.from_bytes(b[:32], "big"), int.from_bytes(b[32:], "big")
    return be.g1_zero() if x == 0 and y == 0 else be._g1_from_xy(x, y)
