"""Process-pool execution of the prover's independent work: MSMs, Laurent products, opening proofs.

The MSM (arkworks via zksnake) and the polynomial products (FLINT) each run on one core, so independent
items of one round are spread over ``workers`` processes. Each worker loads the SRS once (from the on-disk
cache) in its initializer. Results come back in submission order and are combined by the parent in a fixed
order, so the proof does not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from zkchain.blocks import inner_product
from zkchain.crypto import kzg
from zkchain.crypto import poly as fpoly
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R

_WORKER_SRS = None


def default_workers(srs_degree: int | None = None) -> int:
    """One process, unless the user asks for more.

    Measured on 2 cores: each worker must rebuild the SRS (zksnake points cannot be shared or pickled; a 2^16
    dev SRS costs 5.6 s, a cached .ptau ~60 µs per point), and the coefficient lists cost more to pickle than
    the polynomial products they parallelise. Digits MLP: 0.9 s with one process, 1.7 s with two; LeNet-5:
    10.9 s with one, 23.8 s with two. The pool stays available (``--workers N``) and gives bit-identical
    proofs; it pays once the SRS can be shared between processes."""
    return 1


def _init_worker(spec: str, degree: int) -> None:
    global _WORKER_SRS
    from zkchain.prover.keys import load_srs

    _WORKER_SRS = load_srs(spec, degree)


def _commit(srs, coeffs: list[int]) -> bytes:
    return get_backend().g1_to_bytes(kzg.commit(srs, coeffs))


def _w_commit(coeffs: list[int]) -> bytes:
    return _commit(_WORKER_SRS, coeffs)


def _w_laurent(p: list[int], q: list[int]):
    const, a, b = inner_product.laurent_product(p, q)
    return const, fpoly.coeffs(a), fpoly.coeffs(b)


def _open(srs, polys, x: int, nu: int) -> bytes:
    _, proof = kzg.batch_open(srs, polys, x, nu)
    return get_backend().g1_to_bytes(proof)


def _w_open(coeff_lists: list[list[int]], x: int, nu: int) -> bytes:
    return _open(_WORKER_SRS, [fpoly.poly(c) for c in coeff_lists], x, nu)


class ProverPool:
    """``workers`` processes sharing one SRS description; ``workers <= 1`` runs everything in-process."""

    def __init__(self, srs, spec: str, degree: int, workers: int):
        self.srs = srs
        self.workers = workers
        self._ex = None
        if workers > 1:
            # "spawn": the native libraries start threads, and forking a threaded process can deadlock.
            ctx = multiprocessing.get_context("spawn")
            self._ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                           initargs=(spec, degree))

    def __enter__(self) -> "ProverPool":
        return self

    def __exit__(self, *exc) -> None:
        if self._ex is not None:
            self._ex.shutdown(cancel_futures=True)

    def commit_many(self, vectors: list[list[int]]) -> list[bytes]:
        """KZG commitments (64-byte EVM G1) of coefficient vectors, in order."""
        if self._ex is None or len(vectors) < 2:
            return [_commit(self.srs, v) for v in vectors]
        # Largest first keeps both cores busy; results are put back in order.
        order = sorted(range(len(vectors)), key=lambda i: -len(vectors[i]))
        futs = {i: self._ex.submit(_w_commit, vectors[i]) for i in order}
        return [futs[i].result() for i in range(len(vectors))]

    def aggregate(self, claims: list[inner_product.LaurentClaim], alpha: int, check: bool = True):
        """``A``, ``B`` of the Laurent inner-product argument (see :func:`inner_product.aggregate`)."""
        if self._ex is None:
            return inner_product.aggregate(claims, alpha, check)
        jobs = [[self._ex.submit(_w_laurent, p, q) for p, q in c.terms] for c in claims]
        A, B, w = fpoly.poly([]), fpoly.poly([]), 1
        for c, js in zip(claims, jobs):
            total = 0
            for j in js:
                const, a, b = j.result()
                total += const
                A = A + fpoly.poly(a) * w
                B = B + fpoly.poly(b) * w
            if check and (total - c.value) % R:
                raise ValueError(f"inner-product claim {c.name!r} does not hold")
            w = w * alpha % R
        return A, B

    def open_many(self, batches: list[tuple[list, int]], nu: int) -> list[bytes]:
        """One batched opening proof per ``(polynomials, point)`` batch, in order."""
        if self._ex is None:
            return [_open(self.srs, polys, x, nu) for polys, x in batches]
        futs = [self._ex.submit(_w_open, [fpoly.coeffs(p) for p in polys], x, nu) for polys, x in batches]
        return [f.result() for f in futs]
