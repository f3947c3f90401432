"""Fiat–Shamir transcript (docs/protocol.md §2) and its shared vectors tests/vectors/transcript.json."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from zkchain.crypto.field import R
from zkchain.crypto.transcript import Transcript, keccak256
from zkchain.errors import InputError

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parents[0] / "vectors" / "transcript.json"
JS_SHA3 = HERE.parents[1] / "tools" / "node_modules" / "js-sha3"


def _load_generator():
    spec = importlib.util.spec_from_file_location("transcript_vectors", HERE / "transcript_vectors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_vectors_are_current():
    assert VECTORS.read_text() == _load_generator().render(), \
        "tests/vectors/transcript.json is stale: run python tests/crypto/transcript_vectors.py"


def test_vector_format():
    doc = json.loads(VECTORS.read_text())
    assert set(doc) == {"cases"} and len(doc["cases"]) >= 5
    sizes = {"absorb_fr": 66, "absorb_g1": 130}
    for case in doc["cases"]:
        assert set(case) == {"domain", "ops"}
        case["domain"].encode("ascii")
        for op in case["ops"]:
            if op["op"] == "challenge":
                assert set(op) == {"op", "label", "expected"} and len(op["expected"]) == 66
                assert int(op["expected"], 16) < R
            else:
                assert set(op) == {"op", "value"} and op["value"].startswith("0x")
                assert len(op["value"]) == sizes.get(op["op"], len(op["value"]))


def _spec_replay(case, keccak) -> list[str]:
    """docs/protocol.md §2 written out again from scratch, with an injectable keccak."""
    state = keccak(case["domain"].encode())
    buf = b""
    out = []
    for op in case["ops"]:
        if op["op"] == "challenge":
            h = keccak(state + buf + op["label"].encode().ljust(32, b"\0"))
            state, buf = h, b""
            out.append("0x" + (int.from_bytes(h, "big") % R).to_bytes(32, "big").hex())
        else:
            buf += bytes.fromhex(op["value"][2:])
    return out


def _expected(case):
    return [op["expected"] for op in case["ops"] if op["op"] == "challenge"]


def test_vectors_replay_against_spec():
    for case in json.loads(VECTORS.read_text())["cases"]:
        assert _spec_replay(case, keccak256) == _expected(case), case["domain"]


@pytest.mark.skipif(shutil.which("node") is None or not JS_SHA3.exists(), reason="needs node + npm js-sha3")
def test_vectors_replay_with_independent_keccak_from_node():
    """A second Keccak implementation (js-sha3, which solc-js tooling uses) gives the same challenges."""
    script = ("const {keccak256}=require(process.argv[1]);let d='';process.stdin.on('data',c=>d+=c);"
              "process.stdin.on('end',()=>{const out=JSON.parse(d).map(h=>keccak256(Buffer.from(h,'hex')));"
              "process.stdout.write(JSON.stringify(out));});")
    for case in json.loads(VECTORS.read_text())["cases"]:
        inputs = []

        def record(data: bytes) -> bytes:
            inputs.append(data.hex())
            return keccak256(data)

        _spec_replay(case, record)
        res = subprocess.run(["node", "-e", script, str(JS_SHA3)], input=json.dumps(inputs), capture_output=True,
                             text=True, check=True, timeout=60)
        digests = iter(bytes.fromhex(h) for h in json.loads(res.stdout))
        assert _spec_replay(case, lambda _data: next(digests)) == _expected(case), case["domain"]


def test_transcript_api(backend):
    t1, t2 = Transcript("zkchain.t"), Transcript(b"zkchain.t")
    t1.absorb_g1(backend.g1(), backend if backend.name == "fast" else None)
    t2.absorb_g1_bytes(backend.g1_to_bytes(backend.g1()))
    t1.absorb_fr(R - 1)
    t2.absorb_fr(R - 1)
    assert t1.challenge("a") == t2.challenge("a")
    assert t1.challenge("a") != Transcript("zkchain.t").challenge("a")  # state advanced


def test_transcript_rejects_bad_items():
    t = Transcript("zkchain.t")
    with pytest.raises(InputError, match="out of range"):
        t.absorb_fr(R)
    with pytest.raises(InputError, match="out of range"):
        t.absorb_fr(-1)
    with pytest.raises(InputError, match="64 bytes"):
        t.absorb_g1_bytes(bytes(63))
    with pytest.raises(InputError, match="longer than 32"):
        t.challenge("x" * 33)
    with pytest.raises(InputError, match="ASCII"):
        t.challenge("é")
    with pytest.raises(InputError, match="ASCII"):
        Transcript("domaine é")
