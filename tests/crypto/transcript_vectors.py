"""Build ``tests/vectors/transcript.json`` — the Fiat–Shamir vectors the Solidity transcript replays.

Run ``python tests/crypto/transcript_vectors.py`` to rewrite the file; ``test_transcript.py`` checks the
committed file is exactly what this produces and replays it against an independent implementation of
``docs/protocol.md`` §2. Format: ``{"cases": [{"domain", "ops": [{"op", "value" | "label"+"expected"}]}]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.transcript import Transcript

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "transcript.json"


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _fr(x: int) -> dict:
    return {"op": "absorb_fr", "value": _h(x.to_bytes(32, "big"))}


def _g1(b: bytes) -> dict:
    return {"op": "absorb_g1", "value": _h(b)}


def _raw(b: bytes) -> dict:
    return {"op": "absorb_bytes", "value": _h(b)}


def _chal(label: str) -> dict:
    return {"op": "challenge", "label": label}


def case_ops() -> list[tuple[str, list[dict]]]:
    be = get_backend("reference")  # encodings are backend-independent; reference needs no wheel
    gen = be.g1_to_bytes(be.g1())
    two_g = be.g1_to_bytes(be.g1_add(be.g1(), be.g1()))
    neg_g = be.g1_to_bytes(be.g1_neg(be.g1()))
    digest = bytes(range(32))
    return [
        ("zkchain.test.empty", [_chal("c")]),
        ("zkchain.plonkish.v1", [_raw(digest), _g1(gen), _fr(1), _chal("beta"), _chal("gamma"), _chal("alpha"),
                                 _fr(2), _chal("zeta")]),
        ("zkchain.test.identity", [_g1(bytes(64)), _chal("x"), _g1(bytes(64)), _g1(gen), _chal("x")]),
        ("zkchain.test.near-r", [_fr(R - 1), _fr(0), _fr(R - 2), _fr((1 << 253) + 1),
                                 _chal("abcdefghijklmnopqrstuvwxyz012345"), _fr(R - 1), _chal("")]),
        ("zkchain.test.mixed", [_g1(two_g), _g1(neg_g), _raw(b"\x01\x02\x03\x04\x05"), _fr(R // 2), _chal("u"),
                                _chal("u"), _chal("nu"), _raw(bytes(32)), _chal("final")]),
        ("", [_fr(42), _chal("empty-domain")]),
    ]


def build() -> dict:
    cases = []
    for domain, ops in case_ops():
        tr = Transcript(domain)
        out = []
        for op in ops:
            op = dict(op)
            if op["op"] == "challenge":
                op["expected"] = _h(tr.challenge(op["label"]).to_bytes(32, "big"))
            elif op["op"] == "absorb_fr":
                tr.absorb_fr(int(op["value"], 16))
            elif op["op"] == "absorb_g1":
                tr.absorb_g1_bytes(bytes.fromhex(op["value"][2:]))
            else:
                tr.absorb_bytes(bytes.fromhex(op["value"][2:]))
            out.append(op)
        cases.append({"domain": domain, "ops": out})
    return {"cases": cases}


def render() -> str:
    return json.dumps(build(), indent=1) + "\n"


if __name__ == "__main__":
    VECTORS.parent.mkdir(parents=True, exist_ok=True)
    VECTORS.write_text(render())
    print(f"wrote {VECTORS}", file=sys.stderr)
