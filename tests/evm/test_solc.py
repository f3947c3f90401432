"""The solc-js driver: compiles offline through py-solc-x, caches by input hash, reports errors clearly."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from evm_helpers import record_time

from zkchain.errors import SetupError, ZkchainError
from zkchain.evm import solc
from zkchain.evm.solc import CompileError, compile_solidity

SIMPLE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
contract Simple { function f(uint256 x) external pure returns (uint256) { return x * 2; } }
"""


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKCHAIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(solc, "_output_memo", {})
    return tmp_path / "cache"


def test_compile_then_cache_hits(fresh_cache, monkeypatch):
    import solcx

    def no_downloads(*args, **kwargs):
        raise AssertionError("py-solc-x tried to install a compiler")

    monkeypatch.setattr(solcx, "install_solc", no_downloads)
    source = SIMPLE + f"// {uuid.uuid4()}\n"  # unique: a real compile
    t0 = time.perf_counter()
    out = compile_solidity({"Simple.sol": source})
    cold_s = time.perf_counter() - t0
    contract = out["Simple"]
    assert contract.bytecode.startswith("0x") and len(contract.runtime_bytecode) > 10
    assert [item["name"] for item in contract.abi] == ["f"]
    assert 0 < contract.runtime_size_bytes < 24_576

    t0 = time.perf_counter()
    assert compile_solidity({"Simple.sol": source}) == out  # memory
    warm_s = time.perf_counter() - t0
    monkeypatch.setattr(solc, "_output_memo", {})
    t0 = time.perf_counter()
    assert compile_solidity({"Simple.sol": source}) == out  # disk
    disk_s = time.perf_counter() - t0
    assert len(list((fresh_cache / "solc").glob("*.json"))) == 1
    assert warm_s < 0.05 and disk_s < 0.2, (warm_s, disk_s)
    record_time("solc-js compile, tiny contract (cold)", cold_s)
    record_time("solc-js compile, cache hit (disk)", disk_s)
    # other settings are another cache entry
    assert compile_solidity({"Simple.sol": source}, optimize=False)["Simple"].bytecode != contract.bytecode


def test_compile_error_carries_solc_message(fresh_cache):
    with pytest.raises(CompileError, match=r"Undeclared identifier[\s\S]*Bad.sol") as info:
        compile_solidity({"Bad.sol": "pragma solidity ^0.8.24; contract Bad { function f() external { y = 1; } }"})
    assert isinstance(info.value, ZkchainError)
    assert any(e["severity"] == "error" for e in info.value.errors)
    with pytest.raises(CompileError):
        compile_solidity({})


def test_duplicate_contract_names_are_qualified(fresh_cache):
    source = "pragma solidity ^0.8.24; contract X {}"
    out = compile_solidity({"A.sol": source, "B.sol": source})
    assert set(out) == {"A.sol:X", "B.sol:X"}


def test_shim_answers_version_without_node():
    shim, version = solc.solc_executable()
    assert version.startswith("0.8.28+commit.")
    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, env={"PATH": ""}, timeout=10)
    assert out.returncode == 0 and f"Version: {version}" in out.stdout


def test_missing_toolchain_is_a_setup_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKCHAIN_NODE_MODULES", str(tmp_path))  # exists, but holds no solc
    with pytest.raises(SetupError, match="dev.sh setup"):
        solc.find_solcjs()
    monkeypatch.setenv("ZKCHAIN_NODE_MODULES", str(tmp_path / "missing"))
    with pytest.raises(SetupError, match="dev.sh setup"):
        compile_solidity({"Simple.sol": SIMPLE + "// setup error\n"})
