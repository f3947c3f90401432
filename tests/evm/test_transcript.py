"""Transcript.sol replays the Keccak transcript of docs/protocol.md §2 bit for bit.

Two sources of vectors: cases generated here with a few lines of pycryptodome Keccak (evm_helpers.RefTranscript),
and, when present, the shared file tests/vectors/transcript.json written from zkchain.crypto.transcript.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from evm_helpers import RefTranscript, g1_words, keccak256, record_gas
from py_ecc.optimized_bn128 import G1, curve_order, multiply

from zkchain.evm.chain import CallReverted

R = curve_order
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "transcript.json"
OPCODES = {"absorb_fr": 0, "absorb_g1": 1, "absorb_bytes": 2, "challenge": 3}


@pytest.fixture(scope="module")
def harness(chain, compiled):
    address, _ = chain.deploy(compiled["TranscriptHarness"], gas=3_000_000)
    return address, compiled["TranscriptHarness"]


def encode_ops(ops: list[dict]) -> tuple[list[int], list[bytes]]:
    """Vector-file ops -> the harness's (opcodes, payloads)."""
    codes, payloads = [], []
    for op in ops:
        kind = op["op"]
        codes.append(OPCODES[kind])
        if kind == "absorb_fr":
            payloads.append(int(op["value"], 16).to_bytes(32, "big"))
        elif kind in ("absorb_g1", "absorb_bytes"):
            payloads.append(bytes.fromhex(op["value"].removeprefix("0x")))
        else:
            payloads.append(op["label"].encode("ascii"))
    return codes, payloads


def replay(chain, harness, domain: str, ops: list[dict], *, capacity: int = 1024, from_calldata: bool = True):
    codes, payloads = encode_ops(ops)
    challenges, _state = chain.call(
        harness[0], harness[1], "replay", domain.encode("ascii"), codes, payloads, capacity, from_calldata
    )
    return challenges


def reference_case(seed: int) -> dict:
    """A random case with expected challenges from the reference transcript."""
    rnd = random.Random(seed)
    domain = f"zkchain.test.v{seed}"
    ref = RefTranscript(domain.encode())
    ops: list[dict] = []
    for _ in range(rnd.randrange(3, 14)):
        kind = rnd.choice(["absorb_fr", "absorb_fr", "absorb_g1", "absorb_g1", "absorb_bytes", "challenge"])
        if kind == "absorb_fr":
            value = rnd.choice([0, 1, R - 1, rnd.randrange(R)])
            ref.absorb_fr(value)
            ops.append({"op": kind, "value": hex(value)})
        elif kind == "absorb_g1":
            pt = rnd.choice([[0, 0], g1_words(multiply(G1, rnd.randrange(1, R)))])
            encoded = pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")
            ref.absorb_g1(encoded)
            ops.append({"op": kind, "value": "0x" + encoded.hex()})
        elif kind == "absorb_bytes":
            data = rnd.randbytes(rnd.choice([0, 1, 5, 31, 32, 33, 100]))
            ref.absorb_bytes(data)
            ops.append({"op": kind, "value": "0x" + data.hex()})
        else:
            label = rnd.choice(["alpha", "beta", "", "x" * 32, "zkchain/opening-point"])
            ops.append({"op": kind, "label": label, "expected": "0x%064x" % ref.challenge(label.encode())})
    label = "final"
    ops.append({"op": "challenge", "label": label, "expected": "0x%064x" % ref.challenge(label.encode())})
    return {"domain": domain, "ops": ops}


def expected_of(ops: list[dict]) -> list[int]:
    return [int(op["expected"], 16) for op in ops if op["op"] == "challenge"]


def test_reference_matches_hand_computed_spec():
    # state = keccak(domain); one Fr; challenge = keccak(state || be32(7) || pad32("alpha")) mod r
    ref = RefTranscript(b"zkchain.plonkish.v1")
    ref.absorb_fr(7)
    state = keccak256(b"zkchain.plonkish.v1")
    h = keccak256(state + (7).to_bytes(32, "big") + b"alpha" + b"\0" * 27)
    assert ref.challenge(b"alpha") == int.from_bytes(h, "big") % R
    assert ref.state == h and ref.buffer == b""


@pytest.mark.parametrize("seed", range(8))
def test_generated_vectors(chain, harness, seed):
    case = reference_case(seed)
    want = expected_of(case["ops"])
    assert replay(chain, harness, case["domain"], case["ops"]) == want
    # growth path (buffer starts at 32 bytes and doubles) and the memory-copy absorb_bytes path agree
    assert replay(chain, harness, case["domain"], case["ops"], capacity=0, from_calldata=False) == want


def test_large_buffer_grows(chain, harness):
    ref = RefTranscript(b"zkchain.big")
    ops = []
    for i in range(80):  # 80 G1 points = 5,120 bytes before one challenge
        pt = g1_words(multiply(G1, i + 1))
        encoded = pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")
        ref.absorb_g1(encoded)
        ops.append({"op": "absorb_g1", "value": "0x" + encoded.hex()})
    ops.append({"op": "challenge", "label": "big", "expected": "0x%064x" % ref.challenge(b"big")})
    for capacity in (0, 64, 1024, 8192):
        assert replay(chain, harness, "zkchain.big", ops, capacity=capacity) == expected_of(ops)


def test_absorb_fr_rejects_out_of_range(chain, harness):
    for bad in (R, 2**256 - 1):
        ops = [{"op": "absorb_fr", "value": hex(bad)}, {"op": "challenge", "label": "a", "expected": "0x0"}]
        with pytest.raises(CallReverted, match="FrOutOfRange"):
            replay(chain, harness, "zkchain.test", ops)


def test_domain_and_label_separate(chain, harness):
    def challenge(domain, label):
        return replay(chain, harness, domain, [{"op": "challenge", "label": label, "expected": "0x0"}])[0]

    assert challenge("a", "x") != challenge("b", "x")
    assert challenge("a", "x") != challenge("a", "y")
    ref = RefTranscript(b"a")
    assert challenge("a", "x") == ref.challenge(b"x")


def replay_vector_file(chain, harness, path: Path) -> int:
    """Replays every case of a vector file; returns the number of challenges checked."""
    cases = json.loads(path.read_text())["cases"]
    assert cases, f"no cases in {path}"
    checked = 0
    for i, case in enumerate(cases):
        want = expected_of(case["ops"])
        got = replay(chain, harness, case["domain"], case["ops"])
        assert got == want, f"{path.name} case {i} (domain {case['domain']!r}) differs"
        checked += len(want)
    return checked


def test_vector_file_format_roundtrip(chain, harness, tmp_path):
    path = tmp_path / "transcript.json"
    path.write_text(json.dumps({"cases": [reference_case(100 + i) for i in range(3)]}))
    assert replay_vector_file(chain, harness, path) >= 3


@pytest.mark.skipif(not VECTORS.is_file(), reason=f"{VECTORS} not written yet (crypto engineer)")
def test_shared_vector_file(chain, harness):
    assert replay_vector_file(chain, harness, VECTORS) > 0


def test_measured_gas(chain, harness):
    init_gas, g1_gas, fr_gas, challenge320_gas, challenge_empty_gas = chain.call(harness[0], harness[1], "measureGas")
    record_gas("Transcript.init", init_gas, "in-contract, 14-byte domain")
    record_gas("Transcript.absorbG1", g1_gas, "in-contract")
    record_gas("Transcript.absorbFr", fr_gas, "in-contract, incl. range check")
    record_gas("Transcript.challenge, 320-byte buffer", challenge320_gas, "in-contract")
    record_gas("Transcript.challenge, empty buffer", challenge_empty_gas, "in-contract")
    assert challenge320_gas < 500 and challenge_empty_gas < 400 and g1_gas < 300 and fr_gas < 300
