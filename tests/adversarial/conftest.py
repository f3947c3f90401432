"""Fixtures of the adversarial harness: unit models built once per session, one embedded chain."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import harness`, `import unit_models` under importlib mode

from harness import SMALL, SolidityJudge, build  # noqa: E402
from unit_models import UNIT_MODELS, save_unit_model  # noqa: E402

from zkchain.errors import SetupError  # noqa: E402


@pytest.fixture(scope="session")
def adv_chain():
    from zkchain.evm.chain import Chain

    return Chain.embedded()


@pytest.fixture(scope="session")
def unit_built(tmp_path_factory):
    """``unit_built(name)`` → :class:`harness.Built` for a unit model (cached for the session)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            d = tmp_path_factory.mktemp(name)
            path, _shape, public = save_unit_model(name, d)
            cache[name] = build(name, path, d / "calibration.npy", public_input=public, config=SMALL)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def solidity(adv_chain):
    """``solidity(built)`` → a deployed :class:`harness.SolidityJudge` (one per key), or None without solc."""
    cache = {}

    def get(b):
        if b.name not in cache:
            try:
                cache[b.name] = SolidityJudge(adv_chain, b.pk.vk, "Adv" + "".join(
                    p.capitalize() for p in b.name.replace("-", "_").split("_")))
            except SetupError:
                cache[b.name] = None
        return cache[b.name]

    return get


UNIT_NAMES = list(UNIT_MODELS)
