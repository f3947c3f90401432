"""The npm toolchain (solc-js, anvil, snarkjs) for users who installed zkchain from a wheel.

A clone gets it with ``bash scripts/dev.sh setup`` (``tools/node_modules``). A wheel ships the same pins
(``zkchain/evm/npm/package.json`` and ``package-lock.json``, links to ``tools/``), and ``zkchain toolchain install``
runs ``npm ci`` with them in ``toolchain/`` of zkchain's cache (:func:`zkchain.crypto.srs.cache_dir`), so the
versions are exactly the clone's (the lock file pins every package and its integrity hash). Lookup order, in
:func:`zkchain.evm.solc.find_node_modules`: ``$ZKCHAIN_NODE_MODULES``, ``tools/node_modules`` above the package or
the working directory, then this cache; anvil also falls back to a native ``anvil`` on ``PATH``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from zkchain.errors import SetupError

PINS = Path(__file__).with_name("npm")
FILES = ("package.json", "package-lock.json")


def install_dir() -> Path:
    from zkchain.crypto.srs import cache_dir

    return cache_dir() / "toolchain"


def installed() -> Path | None:
    """``node_modules`` of the cached toolchain when it holds solc-js of the pinned version, else None."""
    nm = install_dir() / "node_modules"
    try:
        want = json.loads((PINS / "package.json").read_text())["dependencies"]["solc"]
        have = json.loads((nm / "solc" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return nm if have == want else None


def install(offline: bool = False, timeout: float = 600) -> Path:
    """``npm ci`` of the pinned toolchain into :func:`install_dir`; returns its ``node_modules``. ``offline``
    installs from npm's own cache only (no network). Raises :class:`SetupError` without npm or when npm fails."""
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm (Node.js >= 18) is needed to install solc-js and anvil; install Node.js, then rerun "
                         "`zkchain toolchain install`")
    target = install_dir()
    target.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        if not (PINS / f).is_file():
            raise SetupError(f"this zkchain installation lacks its toolchain pins ({PINS / f}); reinstall zkchain")
        shutil.copyfile(PINS / f, target / f)
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"] + (["--offline"] if offline else [])
    try:
        out = subprocess.run(cmd, cwd=target, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"npm ci failed to run in {target}: {exc}") from None
    if out.returncode != 0 or installed() is None:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        raise SetupError(f"npm ci failed in {target} (exit {out.returncode}): {' | '.join(tail)}")
    return target / "node_modules"


def status() -> list[tuple[str, str]]:
    """``(tool, what would be used)`` for node, solc-js, anvil (never raises)."""
    from zkchain.evm import anvil, solc

    rows = []
    for name, find in (("node", solc.find_node), ("solc-js", solc.find_solcjs), ("anvil", anvil.find_anvil)):
        try:
            rows.append((name, str(find())))
        except SetupError as exc:
            rows.append((name, f"missing: {exc}"))
    return rows
