"""Chain: deploy / call / transact on the embedded chain, revert decoding, events, RPC error handling."""

from __future__ import annotations

import re
import time

import pytest

from zkchain.errors import ChainError, InputError
from zkchain.evm.chain import CallReverted, Chain, decode_revert
from zkchain.evm.solc import compile_solidity

SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
error Bad(uint256 value, address who);
contract Probe {
    event Stored(uint256 indexed key, uint256 value);
    uint256 public stored;
    constructor(uint256 initial) { require(initial != 13, "unlucky"); stored = initial; }
    function store(uint256 v) external returns (uint256 previous) {
        if (v == 1) revert("one is not allowed");
        if (v == 2) revert Bad(v, msg.sender);
        if (v == 3) { uint256 zero = 0; v = v / zero; }
        if (v == 4) { while (true) {} }
        previous = stored;
        stored = v;
        emit Stored(7, v);
    }
    function pair() external view returns (uint256, bool) { return (stored, stored > 10); }
}
"""


@pytest.fixture(scope="module")
def probe(chain):
    compiled = compile_solidity({"Probe.sol": SOURCE})["Probe"]
    address, gas_used = chain.deploy(compiled, 42, gas=1_000_000)
    assert 50_000 < gas_used < 1_000_000
    return address, compiled


def test_call_and_transact(chain, probe):
    address, compiled = probe
    assert chain.call(address, compiled, "stored") == 42
    assert chain.call(address, compiled.abi, "pair") == (42, True)  # several outputs: a tuple; plain ABI list
    result = chain.transact(address, compiled, "store", 99, gas=200_000)
    receipt, gas_used, outcome, events = result  # unpacks as a 4-tuple
    assert receipt["status"] == 1 and 21_000 < gas_used < 200_000
    assert outcome.success and outcome.value == 42  # return value replayed on the parent block
    assert events == [{"event": "Stored", "address": address, "args": {"key": 7, "value": 99}, "log_index": 0}]
    assert chain.call(address, compiled, "stored") == 99
    assert chain.code_size(address) == compiled.runtime_size_bytes
    assert chain.balance() > 10**18


@pytest.mark.parametrize(
    "value, reason",
    [
        (1, "one is not allowed"),
        (2, r"Bad\(2, 0x"),
        (3, r"Panic\(0x12\)"),
        (4, "(?i)out of gas"),
    ],
)
def test_reverts_are_decoded(chain, probe, value, reason):
    address, compiled = probe
    outcome = chain.try_call(address, compiled, "store", value, gas=300_000)
    assert not outcome.success
    assert re.search(reason, outcome.revert_reason)
    with pytest.raises(CallReverted, match=reason):
        chain.call(address, compiled, "store", value, gas=300_000)
    result = chain.transact(address, compiled, "store", value, gas=300_000)
    assert result.receipt["status"] == 0 and not result.outcome.success and result.events == []
    assert re.search(reason, result.outcome.revert_reason)


def test_decode_revert_plain():
    assert decode_revert(b"").startswith("no revert data")
    assert decode_revert(bytes.fromhex("deadbeef")) == "revert data 0xdeadbeef"


def test_failed_deployment_is_a_chain_error(chain, probe):
    with pytest.raises((ChainError,), match="unlucky|reverted"):
        chain.deploy(probe[1], 13, gas=1_000_000)
    with pytest.raises(ChainError):
        chain.deploy(probe[1], 5, gas=60_000)  # out of gas


def test_unknown_function_is_an_input_error(chain, probe):
    with pytest.raises(InputError):
        chain.call(probe[0], probe[1], "nope")


def test_unreachable_rpc_fails_fast():
    t0 = time.perf_counter()
    with pytest.raises(ChainError, match="no JSON-RPC node answers"):
        Chain.rpc("http://127.0.0.1:9", timeout=2)
    assert time.perf_counter() - t0 < 5
    with pytest.raises(InputError):
        Chain.rpc("ws://127.0.0.1:8545")


def test_embedded_fork_is_pinned(probe):
    cancun = Chain.embedded(fork="cancun")
    address, _ = cancun.deploy(probe[1], 5, gas=1_000_000)  # compiled for cancun: runs on both forks
    assert cancun.call(address, probe[1], "stored") == 5
    assert type(cancun.w3.provider.ethereum_tester.backend.chain.get_vm()).__name__ == "CancunVM"
    with pytest.raises(InputError):
        Chain.embedded(fork="frontier")
