"""STOPGAP, delete when ``zkchain.api.Prover`` is on main: a warm prover with the same interface.

``zkchain serve`` is written against ``zkchain.api.Prover(build_dir, workers=1, pool=None)`` and
``zkchain.prover.parallel.ProverPool(spec, degree, workers=1, srs=None)`` (with ``check_serves`` and ``close``),
which were still uncommitted work on main when the ``serve`` branch was cut from c6b6544. This module gives the
same interface on that base so the service runs and is tested; :mod:`zkchain.app.serve` uses it only when
``zkchain.api`` has no ``Prover``. It holds the proving key, the integer model and the SRS in memory (the base's
``prove`` reads the SRS from ``ProvingKey.srs()``, which returns the pool's). ``workers > 1`` is accepted but the
base's prover then starts its worker processes per proof (cold). The proof code is the base's ``api.prove``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from zkchain.errors import InputError


class ProverPool:
    """The SRS ``spec`` up to ``degree``, loaded once, for every key made with it (``workers`` is passed on)."""

    def __init__(self, spec: str, degree: int, workers: int = 1, srs=None):
        from zkchain.prover.keys import load_srs

        self.spec, self.degree, self.workers = spec, degree, max(1, int(workers))
        self.srs = srs if srs is not None else load_srs(spec, degree)

    def check_serves(self, spec: str, degree: int) -> None:
        if spec != self.spec or degree > self.degree:
            raise InputError(f"this prover pool holds SRS {self.spec!r} of degree {self.degree}; the key needs "
                             f"{spec!r} of degree {degree}")

    def close(self) -> None:
        pass

    def __enter__(self) -> "ProverPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Prover:
    """``zkchain.api.Prover``'s interface: ``prove(x) -> (Proof, info)``, ``prove_accuracy()``, ``close()``,
    ``pk``, ``model``, ``accuracy``, ``load_s``."""

    def __init__(self, build_dir, workers: int = 1, pool: ProverPool | None = None):
        from zkchain import api

        t = time.perf_counter()
        self.build_dir = Path(build_dir)
        self.pk, self.model = api.load_proving_key(self.build_dir)
        self.accuracy = api.is_accuracy(self.pk.vk)
        self._own_pool = pool is None
        pool = pool if pool is not None else ProverPool(self.pk.srs_spec, self.pk.vk.srs_degree, workers)
        pool.check_serves(self.pk.srs_spec, self.pk.vk.srs_degree)
        self.pool = pool
        self.pk._srs = pool.srs  # the base's prove() takes the SRS from here: loaded once, not per proof
        self.load_s = time.perf_counter() - t

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> "Prover":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _prove(self, values, progress):
        from zkchain.prover.prove import Timings, prove

        tm = Timings()
        t0 = time.perf_counter()
        proof = prove(self.pk, values, workers=self.pool.workers, progress=progress, timings=tm)
        return proof, tm, time.perf_counter() - t0

    def prove(self, x_float: np.ndarray, progress=None):
        if self.accuracy:
            raise InputError(f"{self.build_dir} proves accuracy on its committed test set: run `zkchain "
                             "prove-accuracy` (or set it up again without --dataset to prove inferences)")
        model = self.model
        witness = model.execute(model.quantize_input(np.asarray(x_float)))
        proof, tm, elapsed = self._prove(self.pk.witness.vector_values(witness), progress)
        outputs = [model.dequantize_output(witness[o], o).reshape(-1).tolist() for o in model.output_names]
        return proof, {"prove_s": elapsed, "timings": dict(tm), "block_timings": [list(b) for b in tm.blocks],
                       "outputs": outputs, "proof_bytes": len(proof.proof_bytes(self.pk.circuit))}

    def prove_accuracy(self, progress=None):
        from zkchain.compiler.accuracy import COUNT, DATASET
        from zkchain.crypto.field import R

        pk, model = self.pk, self.model
        if not self.accuracy:
            raise InputError(f"{self.build_dir} commits no test set: run `zkchain setup {self.build_dir} --dataset "
                             "X.npy --labels y.npy --force` first")
        x_int = np.array([v - R if v > R // 2 else v for v in pk.fixed_values[DATASET]], dtype=np.int64)
        witness = model.execute(x_int.reshape(model.input_shape))
        data = {v.name: pk.fixed_values[v.name] for v in pk.circuit.public_data()}
        proof, tm, elapsed = self._prove(pk.witness.vector_values(witness, data), progress)
        k, n = int(proof.public[COUNT][0]), int(pk.circuit.meta["accuracy"]["samples"])
        return proof, {"correct": k, "total": n, "accuracy": k / n, "dataset_digest": "0x" + pk.vk.dataset_digest.hex(),
                       "prove_s": elapsed, "timings": dict(tm), "block_timings": [list(b) for b in tm.blocks],
                       "proof_bytes": len(proof.proof_bytes(pk.circuit))}
