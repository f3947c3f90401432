"""Distributed proving on Ray: the SRS shards of a :class:`~zkchain.prover.parallel.ProverPool` held by Ray actors.

A pool of ``W`` shards with ``ray=ADDRESS`` keeps shard 0 in the driver (this process) and places shards
``1 … W−1`` on the cluster, one Ray actor each (``num_cpus=1``, spread over the nodes). An actor is a
:class:`~zkchain.prover.parallel.ShardServer`: it loads its ``1/W`` of the SRS points once, then answers the
pool's partial MSMs and Laurent products for as many proofs as the pool lives. The transcript, the challenges, the
witness and the quotients never leave the driver; requests and results are plain data (coefficient lists, 64-byte
G1 points), so the proof is bit-identical to the one-process proof for a seeded ``rng``.

``ADDRESS`` is ``HOST:PORT`` of a running cluster's head (``ray start --head`` prints it), or ``"auto"``: start a
private single-node cluster on 127.0.0.1 with ``W − 1`` CPUs for this pool, shut down when the last pool using it
closes. (Unlike ``ray.init("auto")``, which joins a running cluster: give that cluster's address instead.) A
process that already called ``ray.init`` itself uses that connection, whatever ``ADDRESS`` says, and keeps it.

Needs the ``ray`` package (``pip install 'zkchain[ray]'``) in the driver and zkchain of the same version on every
node; an SRS file (``.ptau``) must be at the same path on every node; a cluster with token authentication needs
``RAY_AUTH_MODE=token`` and its token in the driver's environment. See ``docs/scale.md``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections import deque

from zkchain.errors import InputError, SetupError
from zkchain.prover.parallel import ShardServer
from zkchain.version import __version__

INSTALL_HINT = "pip install 'zkchain[ray]'"
LOCAL = "auto"  # the address that starts a private local cluster
CALLERS = "(this process's own ray.init)"  # the session of a caller that connected to Ray itself
LOCAL_OBJECT_STORE = 256 << 20  # bytes of shared memory for the local cluster's object store (requests, results)
CONNECT_TIMEOUT_S = 5.0  # a head that does not accept a TCP connection in this time is reported unreachable


def import_ray():
    """The ``ray`` module; raises :class:`SetupError` naming the extra to install when it is missing."""
    try:
        import ray
    except ImportError:
        raise SetupError(f"distributed proving needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def parse_address(address: str) -> tuple[str, int] | None:
    """``None`` for ``"auto"`` (a local cluster), else ``(host, port)`` of ``HOST:PORT`` (IPv6 as ``[::1]:6379``).
    Raises :class:`InputError` for anything else."""
    address = str(address).strip()
    if address == LOCAL:
        return None
    host, sep, port = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--ray {address!r}: expected HOST:PORT of a Ray cluster's head (`ray start --head` prints "
                         "it) or 'auto' for a local cluster")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.getaddrinfo(host, None)[0][4][0]).is_loopback
    except (OSError, ValueError, IndexError):
        return False


@contextlib.contextmanager
def _keep_loopback(ray):
    """While Ray starts or joins a cluster on this machine only (``auto``, or a head given as 127.0.0.1), keep its
    node address on loopback: Ray otherwise swaps 127.0.0.1 for the machine's outward address (so that other nodes
    could join), and traffic that could stay on the machine's loopback would go through its network interface."""
    from ray._private import ray_constants

    old = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = old


class _Session:
    """This process's connection to Ray: which address it was opened for, whether a pool opened it (then the last
    pool to close shuts it down), and how many pools use it."""

    def __init__(self, address: str, owned: bool):
        self.address, self.owned, self.users = address, owned, 0


_session: _Session | None = None


def join(address: str, cpus: int) -> _Session:
    """Connect this process to the Ray cluster at ``address`` (``"auto"``: start a local one with ``cpus`` CPUs),
    or reuse the connection it has. Raises :class:`SetupError` without the ``ray`` package or when the cluster
    cannot be reached, :class:`InputError` for a malformed address or one other than the cluster this process
    already joined. Pair with :func:`leave`."""
    global _session
    hostport = parse_address(address)
    ray = import_ray()
    if ray.is_initialized():
        if _session is None:  # the caller's own ray.init: use it, never shut it down
            _session = _Session(CALLERS, owned=False)
        elif _session.owned and _session.address != address:
            raise InputError(f"this process already proves on Ray cluster {_session.address!r}; one process joins "
                             f"one cluster (asked for {address!r})")
        _session.users += 1
        return _session
    quiet = dict(logging_level=logging.ERROR, log_to_driver=False)
    try:
        if hostport is None:
            with _keep_loopback(ray):
                ray.init(address="local", num_cpus=cpus, num_gpus=0, object_store_memory=LOCAL_OBJECT_STORE,
                         include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
        else:
            host, port = hostport
            try:  # a closed port or a wrong host: say so now (Ray itself retries for minutes)
                socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
            except OSError as exc:
                raise SetupError(f"no Ray cluster at {address}: {exc.strerror or exc} (start one with `ray start "
                                 "--head`, which prints its address, or use --ray auto)") from None
            with _keep_loopback(ray) if _is_loopback(host) else contextlib.nullcontext():
                ray.init(address=f"{host}:{port}", **quiet)
    except SetupError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - Ray raises many kinds (and SystemExit), all setup
        with contextlib.suppress(Exception):
            ray.shutdown()
        what = "start a local Ray cluster" if hostport is None else f"join the Ray cluster at {address}"
        hint = "" if hostport is None else (" (a cluster with token authentication needs RAY_AUTH_MODE=token and its "
                                            "token here: RAY_AUTH_TOKEN or ~/.ray/auth_token; and the same Ray and "
                                            "Python versions as its nodes)")
        raise SetupError(f"could not {what}: {type(exc).__name__}: {exc}{hint}") from None
    _session = _Session(address, owned=True)
    _session.users = 1
    return _session


def leave(session: _Session) -> None:
    """One pool fewer on ``session``; the last one shuts down a connection (and a local cluster) a pool opened."""
    global _session
    session.users -= 1
    if session.users <= 0 and session is _session:
        _session = None
        if session.owned:
            import_ray().shutdown()


class _ShardActor(ShardServer):
    """The Ray actor: a :class:`ShardServer`, plus :meth:`hello` to say it is ready and what runs it."""

    def hello(self) -> tuple[int, str, str]:
        """``(points held, zkchain version, node name)``."""
        return self.size(), __version__, socket.gethostname()


_actor_class = None


class RayShard:
    """SRS shard ``k`` of ``w`` in a Ray actor, with the interface of a spawned shard worker: :meth:`call` sends a
    request (``"msm"`` or ``"laurent"``, :meth:`ShardServer.run`) and returns this object, :meth:`result` waits
    for the oldest outstanding answer, :meth:`ready` waits until the shard is loaded, :meth:`close` kills the
    actor. Raises :class:`SetupError` when the actor cannot start (zkchain missing or of another version on its
    node, the SRS file absent there), ``RuntimeError`` when it dies or a request fails."""

    def __init__(self, ray, spec: str, degree: int, k: int, w: int):
        global _actor_class
        if _actor_class is None:
            _actor_class = ray.remote(num_cpus=1)(_ShardActor)
        self.ray, self.k, self.w = ray, k, w
        self.name = f"zkchain SRS shard {k} of {w}"
        self.actor = _actor_class.options(scheduling_strategy="SPREAD").remote(spec, degree, k, w)
        self._pending = deque([self.actor.hello.remote()])
        self.size: int | None = None
        self.node: str | None = None

    def call(self, name: str, *args) -> "RayShard":
        self._pending.append(self.actor.run.remote(name, args))
        return self

    def _get(self):
        ray = self.ray
        try:
            return ray.get(self._pending.popleft())
        except ray.exceptions.RayActorError as exc:
            cause = ((getattr(exc, "error_msg", None) or str(exc)).strip().splitlines() or ["no reason given"])[-1]
            if self.size is None:
                raise SetupError(f"{self.name} could not start on the Ray cluster (is zkchain {__version__} installed "
                                 f"on every node, and the SRS at the same path?): {cause}") from None
            raise RuntimeError(f"{self.name} (Ray actor on {self.node}) died: node lost or out of memory?") from None
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            if self.size is None:
                raise SetupError(f"{self.name} could not load its SRS shard on the Ray cluster: "
                                 f"{type(cause).__name__}: {cause}") from None
            raise RuntimeError(f"{self.name} failed: {type(cause).__name__}: {cause}") from None

    def result(self):
        return self._get()

    def ready(self) -> None:
        if self.size is None:
            size, version, node = self._get()
            if version != __version__:
                raise SetupError(f"{self.name} runs zkchain {version} on node {node}; the driver runs {__version__}: "
                                 "install one version everywhere")
            self.size, self.node = size, node

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ray.kill(self.actor)


def start_shards(address: str, spec: str, degree: int, workers: int) -> tuple[_Session, list[RayShard]]:
    """Join (or start) the cluster and place shards ``1 … workers−1`` of the SRS ``spec`` (largest power
    ``degree``) in one actor each; they load while the caller loads shard 0. Raises as :func:`join`, and
    :class:`SetupError` when the cluster has fewer free CPUs than actors (they would wait for them forever)."""
    session = join(address, cpus=workers - 1)
    try:
        ray = import_ray()
        free = ray.available_resources().get("CPU", 0)
        if free < workers - 1:
            where = {LOCAL: "the local Ray cluster", CALLERS: "this process's Ray cluster"}.get(
                session.address, f"the Ray cluster at {session.address}")
            raise SetupError(f"{where} has {free:g} free CPU{'' if free == 1 else 's'}; {workers} SRS shards need "
                             f"{workers - 1} actors of 1 CPU (add nodes, or fewer --workers)")
        return session, [RayShard(ray, spec, degree, k, workers) for k in range(1, workers)]
    except BaseException:
        leave(session)
        raise
