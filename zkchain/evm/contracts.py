"""The Solidity building blocks of the generated verifier (``contracts/``), as compiler sources.

``BN254.sol``      ecAdd/ecMul/ecPairing wrappers (EIP-196/197), G1 and Fr validation, MSM, KZG claim folding and
                   the accumulator decision e(L,[1]_2) e(-R,[tau]_2) = 1 (docs/protocol.md section 3)

The generated verifier is self-contained (its Yul comes from ``zkchain.evm.yul``) and imports none of them; they
are for contracts that fold KZG claims themselves, and the tests cross-check them against py_ecc. They are
libraries of ``internal`` functions: a contract that imports them gets them inlined, so nothing is linked
or deployed separately. Sources are keyed by file name, so ``import {BN254} from "./BN254.sol";`` resolves for any
source compiled next to them with :func:`zkchain.evm.solc.compile_solidity`.
"""

from __future__ import annotations

import os
from pathlib import Path

from zkchain.errors import SetupError

LIBRARY_FILES = ("BN254.sol",)


def contracts_dir() -> Path:
    """Directory holding the library sources: ``$ZKCHAIN_CONTRACTS_DIR``, else the nearest ``contracts/``
    with ``BN254.sol`` above this package or the working directory. Raises SetupError if none is found."""
    env = os.environ.get("ZKCHAIN_CONTRACTS_DIR")
    candidates = [Path(env).expanduser()] if env else []
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        candidates += [root / "contracts" for root in (start, *start.parents)]
    for candidate in candidates:
        if (candidate / LIBRARY_FILES[0]).is_file():
            return candidate
    raise SetupError("the Solidity libraries (contracts/BN254.sol) were not found; set ZKCHAIN_CONTRACTS_DIR")


def library_sources() -> dict[str, str]:
    """``{"BN254.sol": text}``, ready to merge into compile_solidity's sources."""
    root = contracts_dir()
    return {name: (root / name).read_text(encoding="utf8") for name in LIBRARY_FILES}
