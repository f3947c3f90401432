"""Shared helpers of the end-to-end tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `from clirun import zk` under importlib mode

from zkchain import api
from zkchain.quant.compile import compile_model, write_compiled



def build(tmp: Path, onnx: Path, calibration: Path) -> Path:
    """compile (with ``calibration``) + setup (dev SRS) into ``tmp/b``; returns the build directory."""
    m = compile_model(onnx, calibration=calibration)
    write_compiled(m[0] if isinstance(m, tuple) else m, tmp / "b")
    api.setup(tmp / "b")
    return tmp / "b"


def prove_and_verify_corpus_model(folder: Path, tmp: Path):
    """Build, prove its ``input.json`` and verify one EZKL corpus model; returns the verdict."""
    b = build(tmp, folder / "network.onnx", folder / "input.json")
    proof, _ = api.prove(b, api.read_input(folder / "input.json"))
    return api.verify(b, proof)


@pytest.fixture
def corpus_model():
    """``corpus_model(name)`` → the EZKL corpus folder of ``name``, or a skip when the corpus is absent."""

    def get(name: str) -> Path:
        from zkchain.models import corpus_missing_reason, ezkl_corpus_dir

        corpus = ezkl_corpus_dir()
        if corpus is None or not (corpus / name).is_dir():
            pytest.skip(corpus_missing_reason() if corpus is None else f"{name} not in the EZKL corpus at {corpus}")
        return corpus / name

    return get


@pytest.fixture(scope="session")
def build_model():
    return build


@pytest.fixture
def prove_corpus():
    return prove_and_verify_corpus_model
