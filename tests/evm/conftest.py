"""Shared fixtures of the EVM tests: one compile of the libraries + harnesses and one embedded chain per
session, and the measured gas table printed in the terminal summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `import evm_helpers` under --import-mode=importlib

from evm_helpers import GAS_REPORT, TIME_REPORT, g2_words  # noqa: E402

from zkchain.errors import SetupError  # noqa: E402

HARNESS_DIR = Path(__file__).with_name("contracts")


@pytest.fixture(scope="session")
def compiled():
    """Every test contract, compiled once (and cached on disk by source hash across runs)."""
    from zkchain.evm.contracts import library_sources
    from zkchain.evm.solc import compile_solidity

    try:
        sources = library_sources()
        sources.update({p.name: p.read_text() for p in sorted(HARNESS_DIR.glob("*.sol"))})
        return compile_solidity(sources)
    except SetupError as exc:
        pytest.skip(f"solc-js not available: {exc}")


@pytest.fixture(scope="session")
def chain():
    from zkchain.evm.chain import Chain

    return Chain.embedded()


@pytest.fixture(scope="session")
def g2_generator_words() -> list[int]:
    from py_ecc.optimized_bn128 import G2

    return g2_words(G2)


def pytest_terminal_summary(terminalreporter):
    if GAS_REPORT:
        terminalreporter.section("zkchain EVM gas (measured)")
        for name, (gas, note) in GAS_REPORT.items():
            terminalreporter.write_line(f"{name:<48} {gas:>10,} gas  {note}")
    if TIME_REPORT:
        terminalreporter.section("zkchain EVM wall times (measured)")
        for name, seconds in TIME_REPORT.items():
            terminalreporter.write_line(f"{name:<48} {seconds * 1000:>10,.1f} ms")


@pytest.fixture(scope="module")
def node():
    """A local anvil node for the module (skips when the npm toolchain has no anvil)."""
    from zkchain.evm.anvil import Anvil

    try:
        anvil = Anvil()
    except SetupError as exc:
        pytest.skip(f"anvil not available: {exc}")
    with anvil:
        yield anvil
