"""``zkchain serve``: a warm prover behind HTTP.

Proving keys, integer models and the SRS are loaded once (one :class:`zkchain.api.Prover` per build; builds made
with the same SRS share one prover pool, opened at the largest degree they need), then every request only computes
a witness and a proof. Endpoints (``docs/serve.md``)::

    GET  /health                 status, models loaded (name, vk digest), queue length, proofs in flight and done
    GET  /models                 each model: input shape, whether it proves accuracy, whether its SRS is INSECURE
    POST /prove/{model}          {"input": [...]} or {"input_data": [[...]]} → the proof.json document + outputs
    POST /prove-accuracy/{model} (no body) → the accuracy proof of a build set up with --dataset

Proofs are CPU-bound native code: they run on a thread pool of ``concurrency`` threads (default 1), off the event
loop, so health checks and rejections are answered while a proof runs. Requests that find every prover busy wait in
a queue of at most ``max_queue``; one more is answered 503 with ``Retry-After``. Every error is one JSON line
``{"error": message}``: 400 bad JSON or input (shape, NaN, outside the calibrated range), 404 unknown model or path,
405 wrong method, 413 body over ``max_body`` bytes, 503 queue full, 500 a prover failure (logged with its traceback,
never sent). One log line per request on the ``zkchain.serve`` logger.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from aiohttp import web

from zkchain.api import Prover
from zkchain.errors import InputError, SetupError
from zkchain.prover.parallel import ProverPool, default_workers

log = logging.getLogger("zkchain.serve")
_note: contextvars.ContextVar[str] = contextvars.ContextVar("note", default="")  # the handler's words for the log line

DEFAULT_MAX_BODY = 1 << 20  # bytes; a digits input is ~1.5 KB of JSON, a 28×28 image ~15 KB
DEFAULT_MAX_QUEUE = 16


def _srs_need(build_dir: Path) -> tuple[str, int]:
    """``(SRS spec, degree)`` a build's proving key needs, read from ``pk.json``/``vk.json`` before loading it.
    Raises :class:`SetupError` when the build has no keys."""
    from zkchain.protocol.vk import VerifyingKey

    pk_json, vk_json = build_dir / "pk.json", build_dir / "vk.json"
    if not (pk_json.is_file() and vk_json.is_file()):
        raise SetupError(f"{build_dir} holds no keys (pk.json, vk.json): run `zkchain setup {build_dir}` first")
    try:
        spec = json.loads(pk_json.read_text())["srs"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SetupError(f"{pk_json} is not a zkchain proving key; rerun `zkchain setup`") from None
    return spec, VerifyingKey.load(vk_json).srs_degree


def open_provers(build_dirs, workers: int | None = None) -> tuple[dict[str, Prover], list[ProverPool]]:
    """One warm :class:`~zkchain.api.Prover` per build directory, named by the directory's name, and the prover
    pools they use: one per distinct SRS, opened at the largest degree its builds need (the caller closes the
    provers, then the pools; :func:`create_app` does it at shutdown). ``workers``: prover processes per pool
    (``None``: :func:`~zkchain.prover.parallel.default_workers` of the pool's degree, as ``zkchain prove``).

    Raises :class:`InputError` for two builds with the same name, :class:`SetupError` for a build without keys or
    with keys made for another compile of its model."""
    dirs = [Path(b) for b in build_dirs]
    names = [d.resolve().name for d in dirs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two builds are named {dup[0]!r} (a model's name is its build directory's name): rename one")
    needs = {d: _srs_need(d) for d in dirs}
    degree: dict[str, int] = {}
    for spec, deg in needs.values():
        degree[spec] = max(deg, degree.get(spec, 0))
    pools: dict[str, ProverPool] = {}
    provers: dict[str, Prover] = {}
    try:
        for spec, deg in degree.items():
            pools[spec] = ProverPool(spec, deg, workers or default_workers(deg))
        for name, d in zip(names, dirs):
            provers[name] = Prover(d, pool=pools[needs[d][0]])
    except BaseException:
        for p in provers.values():
            p.close()
        for p in pools.values():
            p.close()
        raise
    return provers, list(pools.values())


@dataclass
class Service:
    """The state behind the app: the provers by model name and the queue's counters (read by ``/health``)."""

    provers: dict[str, Prover]
    concurrency: int = 1
    max_queue: int = DEFAULT_MAX_QUEUE
    max_body: int = DEFAULT_MAX_BODY
    pools: list = field(default_factory=list)
    waiting: int = 0  # admitted, not yet proving
    in_flight: int = 0
    proofs_done: int = 0
    proofs_failed: int = 0
    prove_s_total: float = 0.0
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)
        self.executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="zkchain-prove")
        # a pool with worker processes drives them over pipes, one proof at a time; an in-process pool is shared
        self.pool_locks = {id(p.pool): threading.Lock() for p in self.provers.values()
                           if getattr(p.pool, "workers", 1) > 1}

    def retry_after_s(self) -> int:
        """Seconds until a queue slot is likely free: the mean proof time times the queue's turns (at least 1)."""
        mean = self.prove_s_total / self.proofs_done if self.proofs_done else 1.0
        return max(1, math.ceil(mean * (self.waiting + self.concurrency) / self.concurrency))

    def run_locked(self, prover, fn, *args):
        lock = self.pool_locks.get(id(prover.pool))
        if lock is None:
            return fn(*args)
        with lock:
            return fn(*args)

    async def run(self, prover, fn, *args):
        """``fn(*args)`` on a prover thread once a slot is free; returns ``(result, seconds queued)``. Raises
        :class:`QueueFull` when ``max_queue`` requests already wait."""
        if self.slots.locked() and self.waiting >= self.max_queue:
            raise QueueFull(self.retry_after_s())
        t = time.perf_counter()
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            queued_s = time.perf_counter() - t
            self.in_flight += 1
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, self.run_locked, prover, fn, *args), queued_s
        finally:
            self.in_flight -= 1
            self.slots.release()

    def close(self) -> None:
        """Wait for proofs in flight, then close the provers and their pools."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        for p in self.provers.values():
            p.close()
        for pool in self.pools:
            pool.close()


class QueueFull(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"queue full; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


SERVICE = web.AppKey("service", Service)
ENDPOINTS = "GET /health, GET /models, POST /prove/{model}, POST /prove-accuracy/{model}"


def _error(status: int, message: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def _errors_and_log(request: web.Request, handler) -> web.StreamResponse:
    """Every error as ``{"error": message}`` (aiohttp's own 404/405/413 too), never a traceback; one log line per
    request: method, path, status, seconds, and what the handler noted (``_note``)."""
    t = time.perf_counter()
    _note.set("")
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        if exc.status == 404:
            text = f"no such path {request.path}; endpoints: {ENDPOINTS}"
        elif exc.status == 405:
            text = f"{request.method} is not allowed on {request.path} (allowed: {allow})"
        elif exc.status == 413:
            size = f" ({request.content_length} bytes)" if request.content_length else ""
            text = f"request body too large{size}: this server takes at most {request.app[SERVICE].max_body} bytes"
        else:
            text = (exc.text or exc.reason).strip()
        resp = _error(exc.status, text, {"Allow": allow} if allow else None)
        if exc.status == 413:
            resp.force_close()  # the rest of the body is not read: close rather than linger on it
    except Exception as exc:  # noqa: BLE001 - a prover bug: logged in full, answered in one line
        log.exception("%s %s failed", request.method, request.path)
        resp = _error(500, f"internal error: {type(exc).__name__}: {exc}")
    note = _note.get()
    log.info("%s %s %d %.3fs%s", request.method, request.path_qs, resp.status, time.perf_counter() - t,
             f" {note}" if note else "")
    return resp


async def _read_json(request: web.Request, max_body: int):
    """The request's JSON document; ``None`` for an empty body. Raises :class:`InputError` for malformed JSON,
    ``HTTPRequestEntityTooLarge`` (413) for a body over ``max_body`` bytes."""
    if request.content_length is not None and request.content_length > max_body:
        raise web.HTTPRequestEntityTooLarge(max_size=max_body, actual_size=request.content_length)
    body = await request.read()  # aiohttp stops at client_max_size (= max_body) with a 413
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"request body is not JSON: {exc}") from None


def _input(doc, prover) -> np.ndarray:
    """The one float input of a prove request (shape ``prover.model.input_shape``), checked as ``prove`` will:
    shape, NaN/inf and token ids here; the calibrated range when the model runs."""
    from zkchain.quant.inputs import samples_from_json

    if doc is None:
        raise InputError('empty body: send {"input": [...]} or {"input_data": [[...]]}')
    if isinstance(doc, dict) and {"input", "input_data"} <= set(doc):
        raise InputError("send 'input' or 'input_data', not both")
    shape = tuple(prover.model.input_shape)
    x = samples_from_json(doc, shape, "request body", len(prover.model.info.get("packed_inputs", [])) or 1)
    if x.shape[0] != 1:
        raise InputError(f"request body: {x.shape[0]} inputs of shape {list(shape)}; one per request")
    prover.model.quantize_input(x[0])  # wrong size, NaN, non-integer token ids: answered before queueing
    return x[0]


async def health(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response({
        "status": "ok",
        "models": [{"name": n, "vk_digest": "0x" + p.pk.vk.digest.hex()} for n, p in svc.provers.items()],
        "queue": svc.waiting, "in_flight": svc.in_flight, "proofs_done": svc.proofs_done,
        "proofs_failed": svc.proofs_failed, "concurrency": svc.concurrency, "max_queue": svc.max_queue,
        "uptime_s": round(time.time() - svc.started, 3)})


def describe(name: str, prover) -> dict:
    """What ``GET /models`` says about one model (JSON-able)."""
    vk, model = prover.pk.vk, prover.model
    return {"name": name, "vk_digest": "0x" + vk.digest.hex(), "input_shape": list(model.input_shape),
            "batch": int(model.info.get("batch", 1)), "outputs": list(model.output_names),
            "accuracy": bool(prover.accuracy), "srs": vk.srs_description, "srs_insecure": bool(vk.srs_insecure),
            "endpoint": f"/prove-accuracy/{name}" if prover.accuracy else f"/prove/{name}"}


async def models(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response({"models": [describe(n, p) for n, p in svc.provers.items()]})


async def _prove(request: web.Request, accuracy: bool) -> web.Response:
    svc = request.app[SERVICE]
    name = request.match_info["model"]
    prover = svc.provers.get(name)
    if prover is None:
        _note.set("unknown model")
        return _error(404, f"unknown model {name!r}; loaded: {', '.join(sorted(svc.provers))}")
    try:
        doc = await _read_json(request, svc.max_body)
        if accuracy != bool(prover.accuracy):
            other = "/prove-accuracy" if prover.accuracy else "/prove"
            what = "proves accuracy on its committed test set" if prover.accuracy else "commits no test set"
            raise InputError(f"model {name!r} {what}: POST {other}/{name}")
        if accuracy:
            if doc not in (None, {}):
                raise InputError("an accuracy proof takes no input (the test set is in the proving key): send no body")
            fn, args = prover.prove_accuracy, ()
        else:
            fn, args = prover.prove, (_input(doc, prover),)
    except InputError as exc:
        _note.set(str(exc))
        return _error(400, str(exc))
    try:
        (proof, info), queued_s = await svc.run(prover, fn, *args)
    except QueueFull as exc:
        _note.set(str(exc))
        return _error(503, f"{exc} ({svc.waiting} requests wait, {svc.in_flight} proving)",
                      {"Retry-After": str(exc.retry_after_s)})
    except InputError as exc:  # outside the calibrated range: found by the integer model
        svc.proofs_failed += 1
        _note.set(str(exc))
        return _error(400, str(exc))
    except BaseException:
        svc.proofs_failed += 1
        raise
    svc.proofs_done += 1
    svc.prove_s_total += info["prove_s"]
    _note.set(f"model={name} queued={queued_s:.3f}s prove={info['prove_s']:.3f}s")
    body = {"model": name, "proof": proof.to_json(prover.pk.vk), "prove_s": info["prove_s"],
            "proof_bytes": info["proof_bytes"], "queued_s": queued_s}
    if accuracy:
        body.update({k: info[k] for k in ("correct", "total", "accuracy", "dataset_digest")})
    else:
        body["outputs"] = info["outputs"]
    return web.json_response(body)


async def prove(request: web.Request) -> web.Response:
    return await _prove(request, accuracy=False)


async def prove_accuracy(request: web.Request) -> web.Response:
    return await _prove(request, accuracy=True)


def create_app(provers: dict[str, Prover], concurrency: int = 1, max_queue: int = DEFAULT_MAX_QUEUE,
               max_body: int = DEFAULT_MAX_BODY, pools=()) -> web.Application:
    """The aiohttp application serving ``provers`` (model name → warm prover, :func:`open_provers`).

    ``concurrency``: proofs in flight at once (threads); ``max_queue``: requests that may wait for one (one more
    is answered 503); ``max_body``: request body limit in bytes (413 beyond). At cleanup (server shutdown) it waits
    for proofs in flight and closes the provers and ``pools``. Raises :class:`InputError` for no models or a limit
    below its minimum (concurrency ≥ 1, max_queue ≥ 0, max_body ≥ 1 KiB)."""
    if not provers:
        raise InputError("no models to serve")
    if concurrency < 1 or max_queue < 0 or max_body < 1024:
        raise InputError(f"bad limits: concurrency {concurrency} (≥ 1), max queue {max_queue} (≥ 0), max body "
                         f"{max_body} bytes (≥ 1024)")
    app = web.Application(middlewares=[_errors_and_log], client_max_size=max_body)
    app[SERVICE] = svc = Service(dict(provers), concurrency, max_queue, max_body, list(pools))

    async def close(_app) -> None:
        await asyncio.get_running_loop().run_in_executor(None, svc.close)
        log.info("closed %d model(s) and %d prover pool(s)", len(svc.provers), len(svc.pools))

    app.on_cleanup.append(close)
    app.router.add_get("/health", health)
    app.router.add_get("/models", models)
    app.router.add_post("/prove/{model}", prove)
    app.router.add_post("/prove-accuracy/{model}", prove_accuracy)
    return app


def serve(build_dirs, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, max_queue: int = DEFAULT_MAX_QUEUE,
          concurrency: int = 1, max_body: int = DEFAULT_MAX_BODY, echo=print) -> None:
    """``zkchain serve``: load the builds, print what is served (an ``INSECURE`` line per dev-SRS key), and answer
    requests until SIGINT/SIGTERM, then finish the proofs in flight and close the pools. Raises the errors of
    :func:`open_provers` and :func:`create_app`, and ``OSError`` when ``host:port`` cannot be bound (the provers
    and pools are closed first)."""
    t = time.perf_counter()
    provers, pools = open_provers(build_dirs, workers)
    try:
        app = create_app(provers, concurrency, max_queue, max_body, pools)
    except BaseException:
        for p in provers.values():
            p.close()
        for pool in pools:
            pool.close()
        raise
    for name, p in provers.items():
        d = describe(name, p)
        echo(f"model {name} ({p.build_dir}): vk {d['vk_digest'][:18]}…, input {d['input_shape']}, "
             f"POST {d['endpoint']}")
    echo(f"loaded {len(provers)} model(s), {len(pools)} SRS pool(s) in {time.perf_counter() - t:.1f} s; "
         f"concurrency {concurrency}, queue {max_queue}, body ≤ {max_body} bytes")
    for name, p in provers.items():
        if p.pk.vk.srs_insecure:
            echo(f"INSECURE: {name}: {p.pk.vk.srs_description}")
    web.run_app(app, host=host, port=port, access_log=None, print=echo)
