"""Solidity compiler driver: py-solc-x on top of solc-js (npm ``solc``), offline, with an output cache.

Native solc is neither on PyPI nor in Debian, so zkchain compiles with solc-js (the same compiler built to
WebAssembly), installed into ``tools/node_modules`` by ``bash scripts/dev.sh setup``. py-solc-x expects a
native binary; :func:`solc_executable` writes a small shell shim that answers ``--version`` itself (the version
string is recorded once when the shim is written) and forwards ``--standard-json`` to
``solcjs_wrapper.js``, which runs ``solc.compile`` under node. Nothing is ever downloaded: py-solc-x is only
given an explicit ``solc_binary`` and ``install_solc`` is never called.

Compiling is slow (solc-js: ~0.5 s start-up plus the compile itself, see ``docs/evm.md``), so outputs are
cached by the SHA-256 of the exact standard-JSON input and the compiler version, in memory and on disk under
:func:`cache_dir`.

Environment:
    ``ZKCHAIN_NODE_MODULES``  a ``node_modules`` directory that contains ``solc`` (default: the nearest
                              ``tools/node_modules`` above this package or the working directory)
    ``ZKCHAIN_NODE``          the node executable (default: ``node`` on ``PATH``)
    ``ZKCHAIN_CACHE``         cache directory (default: the user cache, ``~/.cache/zkchain`` on Linux)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkchain.errors import SetupError, ZkchainError

log = logging.getLogger(__name__)

WRAPPER_JS = Path(__file__).with_name("solcjs_wrapper.js")
_SETUP_HINT = ("run `zkchain toolchain install` (pinned solc-js and anvil into zkchain's cache; needs Node.js >= 18), "
               "or `bash scripts/dev.sh setup` in a clone")
_SHIM_FORMAT = 1  # bump when the shim's text changes, so old shims are not reused


class CompileError(ZkchainError):
    """Solidity sources did not compile; the message carries solc's formatted error messages."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class CompiledContract:
    """One compiled contract.

    ``abi`` is the JSON ABI (list of dicts); ``bytecode`` is the creation code and ``runtime_bytecode`` the
    deployed code, both ``0x``-prefixed hex strings (deployed size in bytes = ``(len(runtime_bytecode)-2)//2``;
    EIP-170 limits it to 24,576 bytes). ``warnings`` are solc's formatted warning messages for this source set.
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    runtime_bytecode: str
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def runtime_size_bytes(self) -> int:
        """Deployed code size in bytes (the EIP-170 limit is 24,576)."""
        return (len(self.runtime_bytecode) - 2) // 2


# ---------------------------------------------------------------------------------------------- locating tools


def _search_roots() -> list[Path]:
    roots: list[Path] = []
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        roots.extend([start, *start.parents])
    return roots


def find_node_modules() -> Path:
    """The ``node_modules`` directory holding the npm toolchain (solc-js, anvil).

    Order: ``$ZKCHAIN_NODE_MODULES``, then ``tools/node_modules`` in the nearest ancestor of this package or of
    the working directory, then the toolchain ``zkchain toolchain install`` put in zkchain's cache
    (:mod:`zkchain.evm.toolchain`). Raises :class:`~zkchain.errors.SetupError` if none exists.
    """
    env = os.environ.get("ZKCHAIN_NODE_MODULES")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise SetupError(f"ZKCHAIN_NODE_MODULES={env} is not a directory; unset it or {_SETUP_HINT}")
        return path.resolve()
    for root in _search_roots():
        candidate = root / "tools" / "node_modules"
        if candidate.is_dir():
            return candidate
    from zkchain.evm.toolchain import installed

    cached = installed()
    if cached is not None:
        return cached
    raise SetupError(f"the npm toolchain (solc-js, anvil) was not found; {_SETUP_HINT}")


def find_solcjs() -> Path:
    """Directory of the npm ``solc`` package. Raises :class:`SetupError` if it is not installed."""
    solc_dir = find_node_modules() / "solc"
    if not (solc_dir / "package.json").is_file():
        raise SetupError(f"solc-js is not installed in {solc_dir.parent}; {_SETUP_HINT}")
    return solc_dir


def find_node() -> Path:
    """The node executable (``$ZKCHAIN_NODE`` or ``node`` on PATH). Raises :class:`SetupError` if missing."""
    node = os.environ.get("ZKCHAIN_NODE") or shutil.which("node")
    if not node or not Path(node).is_file():
        raise SetupError("node (Node.js >= 18) is needed to run solc-js but was not found on PATH")
    return Path(node).resolve()


def cache_dir() -> Path:
    """zkchain's cache (:func:`zkchain.crypto.srs.cache_dir`: ``$ZKCHAIN_CACHE`` or the user cache), created on
    first use; solc shims and compiled outputs live there."""
    from zkchain.crypto.srs import cache_dir as root

    base = root()
    base.mkdir(parents=True, exist_ok=True)
    return base


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_shim_memo: dict[tuple[str, str, str], tuple[Path, str]] = {}


def solc_executable() -> tuple[Path, str]:
    """An executable that behaves like native ``solc`` for py-solc-x, and its full version string.

    Returns ``(path, version)``, e.g. ``(~/.cache/zkchain/solc-shim/solc-1a2b..., "0.8.28+commit.7893614a...")``.
    The shim is a POSIX shell script keyed by the node, wrapper and solc-js paths and the solc-js package
    version; it is written once (atomically) and reused. Raises :class:`SetupError` when node or solc-js is
    missing or solc-js does not start.
    """
    solc_dir, node = find_solcjs(), find_node()
    package_version = json.loads((solc_dir / "package.json").read_text())["version"]
    memo_key = (str(solc_dir), str(node), package_version)
    if memo_key in _shim_memo and _shim_memo[memo_key][0].is_file():
        return _shim_memo[memo_key]
    key = hashlib.sha256(repr((_SHIM_FORMAT, *memo_key, str(WRAPPER_JS))).encode()).hexdigest()[:16]
    shim = cache_dir() / "solc-shim" / f"solc-{key}"
    version = None
    if shim.is_file():
        for line in shim.read_text().splitlines():
            if line.startswith("# version: "):
                version = line.removeprefix("# version: ").strip()
    if version is None:
        env = {**os.environ, "ZKCHAIN_SOLCJS": str(solc_dir)}
        try:
            out = subprocess.run(
                [str(node), str(WRAPPER_JS), "--version"], env=env, capture_output=True, text=True, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SetupError(f"solc-js did not start ({exc}); {_SETUP_HINT}") from exc
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("Version: ")]
        if out.returncode != 0 or not lines:
            raise SetupError(f"solc-js did not report its version: {out.stderr.strip()[-500:]}; {_SETUP_HINT}")
        version = lines[0].removeprefix("Version: ").strip()
        q = shlex.quote
        _write_atomic(
            shim,
            "#!/bin/sh\n"
            "# solc shim for py-solc-x, generated by zkchain.evm.solc: runs solc-js through node.\n"
            f"# version: {version}\n"
            'if [ "$1" = "--version" ]; then\n'
            f"    printf '%s\\n' 'solc, the solidity compiler commandline interface' {q('Version: ' + version)}\n"
            "    exit 0\n"
            "fi\n"
            f"ZKCHAIN_SOLCJS={q(str(solc_dir))} exec {q(str(node))} {q(str(WRAPPER_JS))} \"$@\"\n",
            mode=0o755,
        )
    _shim_memo[memo_key] = (shim, version)
    return shim, version


# ---------------------------------------------------------------------------------------------- compiling


def standard_json_input(
    sources: dict[str, str],
    *,
    optimize: bool = True,
    runs: int = 200,
    evm_version: str = "cancun",
    via_ir: bool = False,
) -> dict[str, Any]:
    """The solc standard-JSON input zkchain uses (sources keyed by virtual path, e.g. ``"BN254.sol"``)."""
    return {
        "language": "Solidity",
        "sources": {path: {"content": text} for path, text in sorted(sources.items())},
        "settings": {
            "optimizer": {"enabled": bool(optimize), "runs": int(runs)},
            "evmVersion": evm_version,
            "viaIR": bool(via_ir),
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"]}
            },
        },
    }


_output_memo: dict[str, dict[str, CompiledContract]] = {}


def compile_solidity(
    sources: dict[str, str],
    *,
    optimize: bool = True,
    runs: int = 200,
    evm_version: str = "cancun",
    via_ir: bool = False,
) -> dict[str, CompiledContract]:
    """Compile Solidity sources with solc-js; return every non-abstract contract by name.

    ``sources`` maps virtual paths (``"Verifier.sol"``) to source text; relative imports resolve between them
    (``import "./BN254.sol";``). Contracts are keyed by name; a name defined in two files is keyed
    ``"path:Name"`` instead. Libraries and interfaces without code are left out. Results are cached by the
    SHA-256 of the standard-JSON input plus the compiler version (memory, then ``cache_dir()/solc/``).

    Raises :class:`CompileError` with solc's messages when compilation fails or the output needs linking
    (zkchain libraries are ``internal`` only, so it never should), :class:`~zkchain.errors.SetupError` when
    node or solc-js is missing.
    """
    if not sources:
        raise CompileError("no Solidity sources given")
    std_input = standard_json_input(sources, optimize=optimize, runs=runs, evm_version=evm_version, via_ir=via_ir)
    binary, version = solc_executable()
    key = hashlib.sha256(json.dumps([version, std_input], sort_keys=True).encode()).hexdigest()
    if key in _output_memo:
        return dict(_output_memo[key])
    cache_file = cache_dir() / "solc" / f"{key}.json"
    if cache_file.is_file():
        try:
            contracts = _contracts_from_cache(json.loads(cache_file.read_text()))
            _output_memo[key] = contracts
            return dict(contracts)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring corrupt solc cache entry %s", cache_file)

    output = _run_solc(std_input, binary)
    contracts = _contracts_from_output(output)
    entries = [_to_json(key_, c) for key_, c in contracts.items()]
    _write_atomic(cache_file, json.dumps({"version": version, "contracts": entries}))
    _output_memo[key] = contracts
    return dict(contracts)


def _run_solc(std_input: dict[str, Any], binary: Path) -> dict[str, Any]:
    import solcx  # imported lazily: it is only needed when something is actually compiled
    from solcx.exceptions import SolcError

    try:
        # solc_binary is always explicit: py-solc-x must never look for, or download, a compiler.
        return solcx.compile_standard(std_input, solc_binary=binary, allow_empty=True)
    except SolcError as exc:
        errors = getattr(exc, "error_dict", None) or []
        messages = [e.get("formattedMessage") or e.get("message", "") for e in errors if e.get("severity") == "error"]
        detail = "\n".join(messages) if messages else f"{exc.message}\n{getattr(exc, 'stderr_data', '')}".strip()
        raise CompileError(f"Solidity compilation failed:\n{detail}", errors) from None
    except json.JSONDecodeError as exc:
        raise CompileError(f"solc-js returned no JSON output (node crashed or ran out of memory?): {exc}") from None


def _contracts_from_output(output: dict[str, Any]) -> dict[str, CompiledContract]:
    warnings = tuple(
        e.get("formattedMessage", e.get("message", ""))
        for e in output.get("errors", [])
        if e.get("severity") != "error"
    )
    for message in warnings:
        log.debug("solc: %s", message)
    found: list[tuple[str, CompiledContract]] = []
    for path, by_name in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(by_name.items()):
            evm = data.get("evm", {})
            creation = evm.get("bytecode", {}).get("object", "")
            if not creation:  # interfaces, abstract contracts
                continue
            if evm.get("bytecode", {}).get("linkReferences"):
                raise CompileError(f"{path}:{name} needs library linking; zkchain libraries must be internal-only")
            runtime = evm.get("deployedBytecode", {}).get("object", "")
            found.append((path, CompiledContract(name, data["abi"], "0x" + creation, "0x" + runtime, warnings)))
    names = [c.name for _, c in found]
    return {(c.name if names.count(c.name) == 1 else f"{path}:{c.name}"): c for path, c in found}


def _to_json(key: str, c: CompiledContract) -> dict[str, Any]:
    return {
        "key": key,
        "name": c.name,
        "abi": c.abi,
        "bytecode": c.bytecode,
        "runtime_bytecode": c.runtime_bytecode,
        "warnings": list(c.warnings),
    }


def _contracts_from_cache(data: dict[str, Any]) -> dict[str, CompiledContract]:
    out = {}
    for item in data["contracts"]:
        contract = CompiledContract(
            item["name"], item["abi"], item["bytecode"], item["runtime_bytecode"], tuple(item["warnings"])
        )
        out[item["key"]] = contract
    return out
