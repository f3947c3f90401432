"""Shared fixtures: one dev SRS per backend (fast: degree 2^12; reference: degree 64 — py_ecc is slow)."""

from __future__ import annotations

import functools
import random

import pytest

from zkchain.crypto.backend import get_backend
from zkchain.crypto.srs import SRS

BACKENDS = ["fast", "reference"]
SRS_DEGREE = {"fast": 1 << 12, "reference": 64}


@functools.lru_cache(maxsize=None)
def dev_srs(name: str) -> SRS:
    return SRS.dev(SRS_DEGREE[name], seed=b"zkchain-tests", backend=name)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return get_backend(request.param)


@pytest.fixture
def srs(backend):
    return dev_srs(backend.name)


@pytest.fixture(scope="session")
def fast_srs():
    return dev_srs("fast")


@pytest.fixture(scope="session")
def srs_for():
    """``srs_for(name)``: the shared dev SRS of backend ``name``."""
    return dev_srs


@pytest.fixture
def rng():
    return random.Random(0xC0FFEE)
