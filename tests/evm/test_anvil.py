"""The same libraries on a real node: anvil started and stopped by zkchain.evm.anvil (marker ``anvil``)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
from evm_helpers import R, g2_words, random_claims, record_gas, record_time
from py_ecc.optimized_bn128 import G2, multiply

from zkchain.errors import ChainError, SetupError
from zkchain.evm.chain import ANVIL_DEV_ADDRESS, ANVIL_DEV_PRIVATE_KEY, Chain

pytestmark = pytest.mark.anvil


def _anvil_or_skip():
    from zkchain.evm.anvil import find_anvil

    try:
        return find_anvil()
    except SetupError as exc:
        pytest.skip(f"anvil binary missing ({exc})")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def node():
    from zkchain.evm.anvil import Anvil

    _anvil_or_skip()
    with Anvil() as anvil:
        yield anvil


def test_kzg_fold_on_anvil(node, compiled):
    chain = Chain.rpc(node.url)
    assert chain.chain_id == 31337 and chain.account == ANVIL_DEV_ADDRESS
    assert "anvil dev account" in chain.key_source
    rng = random.Random(7)
    tau = rng.randrange(2, R)
    address, _ = chain.deploy(compiled["BN254Harness"], g2_words(G2), g2_words(multiply(G2, tau)), gas=5_000_000)
    contract = compiled["BN254Harness"]
    claims, u = random_claims(rng, tau), rng.randrange(1, R)

    t0 = time.perf_counter()
    assert chain.call(address, contract, "verifyClaims", claims, u, gas=1_000_000)
    record_time("verifyClaims, 3 claims, anvil eth_call", time.perf_counter() - t0)
    bad = [list(c) for c in claims]
    bad[2][3] = (bad[2][3] + 1) % R  # wrong value y
    assert not chain.call(address, contract, "verifyClaims", bad, u, gas=1_000_000)

    result = chain.transact(address, contract, "submitClaims", claims, u, gas=1_000_000)
    assert result.receipt["status"] == 1 and result.outcome.value is True
    assert result.events[0]["args"] == {"ok": True, "claims": 3}
    record_gas("submitClaims: 3 KZG claims (anvil)", result.gas_used, "whole transaction")
    gas = dict(zip(["ecAdd", "ecMul", "pairing2"], chain.call(address, contract, "measureGas")[:3]))
    record_gas("BN254.pairing2 (anvil)", gas["pairing2"], "in-contract")
    inv_gas, _ = chain.call(address, contract, "measureInvGas")
    record_gas("BN254.invFr (modexp 0x05), anvil default fork", inv_gas, "in-contract, Osaka EIP-7883: 4,048")
    assert 113_000 <= gas["pairing2"] < 116_000 and 6_000 <= gas["ecMul"] < 7_000


def test_anvil_starts_and_stops_by_pid():
    from zkchain.evm.anvil import Anvil, rpc_chain_id

    _anvil_or_skip()
    with Anvil(chain_id=1337) as anvil:
        pid, url = anvil.pid, anvil.url
        assert rpc_chain_id(url) == 1337 and _alive(pid)
        with pytest.raises(ChainError, match="needs a private key"):
            Chain.rpc(url)  # not 31337: the public dev key is never used implicitly
        chain = Chain.rpc(url, private_key=ANVIL_DEV_PRIVATE_KEY)
        assert chain.account == ANVIL_DEV_ADDRESS and chain.key_source == "private key"
    assert not _alive(pid) and rpc_chain_id(url, timeout=0.3) is None


def _start_node_command(*args: str) -> subprocess.Popen:
    """``zkchain node ARGS`` started as a script's background job is (SIGINT inherited ignored): `kill -INT` must
    stop it all the same."""
    return subprocess.Popen(
        [sys.executable, "-c", "from zkchain.cli import main; main()", "node", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_zkchain_node_command_runs_in_foreground_and_stops(stop_signal):
    from zkchain.evm.anvil import rpc_chain_id

    _anvil_or_skip()
    proc = _start_node_command("--port", "0")
    try:
        first = proc.stdout.readline()
        match = re.match(r"anvil (http://127\.0\.0\.1:(\d+))  chain id 31337  pid (\d+)", first)
        assert match, first + proc.stderr.read()
        url, port, pid = match.group(1), match.group(2), int(match.group(3))
        assert ANVIL_DEV_ADDRESS in proc.stdout.readline()
        assert rpc_chain_id(url) == 31337

        # a second node on the same port is refused with a clear message (exit 2), the first keeps running
        second = _start_node_command("--port", port)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2 and "in use" in err, err
        assert rpc_chain_id(url) == 31337

        proc.send_signal(stop_signal)
        assert proc.wait(timeout=15) == 0
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
