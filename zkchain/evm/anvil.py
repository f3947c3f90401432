"""A local anvil node (Foundry) for tests, benchmarks and ``zkchain node``.

The binary comes from the npm package ``@foundry-rs/anvil-linux-amd64`` installed into ``tools/node_modules`` by
``bash scripts/dev.sh setup`` (override with ``$ZKCHAIN_ANVIL``). :class:`Anvil` starts it on a free
127.0.0.1 port, waits until it answers JSON-RPC and stops it by PID when the ``with`` block ends (also at
interpreter exit, so no node is ever left running). Anvil executes pairings ~60x faster than py-evm.

Chain id 31337; ten dev accounts with 10,000 ETH each, the first of which is
:data:`zkchain.evm.chain.ANVIL_DEV_ADDRESS` (its key is public: local use only).
"""

from __future__ import annotations

import atexit
import json
import shutil
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO

from zkchain.errors import ChainError, SetupError
from zkchain.evm.solc import find_node_modules

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"


def find_anvil() -> Path:
    """Path of the anvil executable: ``$ZKCHAIN_ANVIL``, else the npm toolchain's
    ``@foundry-rs/anvil-linux-amd64/bin/anvil`` (:func:`zkchain.evm.solc.find_node_modules`), else ``anvil`` on
    ``PATH``. Raises :class:`~zkchain.errors.SetupError` if it is missing."""
    env = os.environ.get("ZKCHAIN_ANVIL")
    if env:
        path = Path(env).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SetupError(f"ZKCHAIN_ANVIL={env} is not an executable file")
        return path
    try:
        package = find_node_modules() / ANVIL_PACKAGE
    except SetupError:
        package = None
    if package is not None:
        for candidate in (package / "bin" / "anvil", package / "anvil"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    native = shutil.which("anvil")  # Foundry's own install
    if native:
        return Path(native)
    raise SetupError(f"anvil was not found (npm package {ANVIL_PACKAGE}, or `anvil` on PATH); run `zkchain toolchain "
                     "install`, or `bash scripts/dev.sh setup` in a clone")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT of a stopped node is fine
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def rpc_chain_id(url: str, timeout: float = 1.0) -> int | None:
    """``eth_chainId`` of the node at ``url``, or None if nothing answers within ``timeout`` seconds."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(json.loads(response.read())["result"], 16)
    except (OSError, ValueError, KeyError):
        return None


class Anvil:
    """An anvil process. Use as a context manager::

        with Anvil() as node:
            chain = Chain.rpc(node.url)

    ``port`` None picks a free one; ``chain_id`` defaults to 31337; ``block_gas_limit`` (gas) None keeps
    anvil's default (30M); ``hardfork`` None keeps anvil's default. ``log`` receives anvil's stdout and stderr
    (None discards them). Raises :class:`SetupError` if the binary is missing and :class:`ChainError` if the node
    does not answer within ``startup_timeout`` seconds.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        chain_id: int = 31337,
        block_gas_limit: int | None = None,
        hardfork: str | None = None,
        startup_timeout: float = 20.0,
        log: IO[bytes] | int | None = None,
        foreground: bool = False,
    ):
        self.binary = find_anvil()
        self.host = host
        self.port = port
        self.chain_id = chain_id
        self.block_gas_limit = block_gas_limit
        self.hardfork = hardfork
        self.startup_timeout = startup_timeout
        self.log = log
        self.foreground = foreground
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        cmd = [str(self.binary), "--host", self.host, "--port", str(self.port), "--chain-id", str(self.chain_id)]
        if self.block_gas_limit is not None:
            cmd += ["--gas-limit", str(self.block_gas_limit)]
        if self.hardfork is not None:
            cmd += ["--hardfork", self.hardfork]
        return cmd

    def start(self) -> Anvil:
        """Starts anvil and waits until ``eth_chainId`` answers; returns self."""
        if self.process is not None:
            return self
        fixed_port = self.port is not None
        if fixed_port and not port_is_free(self.port, self.host):
            # checked first: otherwise the node already listening there would answer our readiness probe
            raise ChainError(f"port {self.port} on {self.host} is in use (another node?); pick another --port")
        for _attempt in range(1 if fixed_port else 3):  # a picked port can be taken before anvil binds it
            if not fixed_port:
                self.port = free_port(self.host)
            out = subprocess.DEVNULL if self.log is None else self.log
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if self.log is not None else subprocess.DEVNULL,
                # own session: a Ctrl-C meant for pytest does not kill the node under a running test
                start_new_session=not self.foreground,
            )
            atexit.register(self.stop)
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if rpc_chain_id(self.url, timeout=0.5) == self.chain_id:
                    return self
                time.sleep(0.05)
            code = self.process.poll()
            self.stop()
            if code is None:
                raise ChainError(f"anvil did not answer at {self.url} within {self.startup_timeout:.0f} s")
        raise ChainError(f"anvil exited at start-up (port {self.port} in use?): {' '.join(self.command())}")

    def stop(self) -> None:
        """Stops anvil by PID (SIGTERM, then SIGKILL after 5 s). Safe to call twice."""
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass

    def wait(self) -> int:
        """Blocks until anvil exits; returns its exit code."""
        if self.process is None:
            return 0
        return self.process.wait()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_node(port: int = 8545, *, host: str = "127.0.0.1", chain_id: int = 31337, verbose: bool = False,
             echo=print) -> int:
    """``zkchain node``: runs anvil in the foreground until Ctrl-C (or until it exits); returns an exit code.

    ``port`` 0 picks a free port. Prints the URL, the chain id and the first dev account (its key is public).
    Raises SetupError if anvil is missing, ChainError if it cannot start (e.g. the port is taken).
    """
    log = None
    if verbose:
        import sys

        log = sys.stdout.fileno()
    node = Anvil(port or None, host=host, chain_id=chain_id, log=log, foreground=True)

    def on_signal(signum, frame):  # `kill <pid>` stops the node too, not only Ctrl-C
        raise KeyboardInterrupt

    # SIGINT explicitly as well: a process started in the background of a script inherits SIGINT ignored, and
    # `kill -INT` must still stop the node
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _serve(node, chain_id, echo)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _serve(node: Anvil, chain_id: int, echo) -> int:
    from zkchain.evm.chain import ANVIL_DEV_ADDRESS, ANVIL_DEV_PRIVATE_KEY

    with node:
        echo(f"anvil {node.url}  chain id {chain_id}  pid {node.pid}")
        echo(f"first dev account {ANVIL_DEV_ADDRESS}")
        echo(f"  private key {ANVIL_DEV_PRIVATE_KEY} (public, from the test mnemonic: local use only)")
        echo("Ctrl-C stops the node")
        try:
            code = node.wait()
        except KeyboardInterrupt:
            echo("stopping anvil")
            return 0
    if code not in (0, -signal.SIGINT, -signal.SIGTERM, 130):
        raise ChainError(f"anvil exited with code {code}")
    return 0
