"""Helpers shared by the EVM tests (imported by name: conftest puts this folder on sys.path).

- py_ecc point <-> EVM word conversions,
- a few-line reference of the Keccak transcript (docs/protocol.md section 2), independent of zkchain.crypto, used
  to generate vectors for the Solidity transcript until tests/vectors/transcript.json exists,
- the gas report printed at the end of the run.
"""

from __future__ import annotations

from Crypto.Hash import keccak as _keccak
from py_ecc.optimized_bn128 import curve_order as R
from py_ecc.optimized_bn128 import is_inf, normalize

#: gas measurements collected by the tests: name -> (gas, note)
GAS_REPORT: dict[str, tuple[int, str]] = {}


def record_gas(name: str, gas: int, note: str = "") -> None:
    GAS_REPORT[name] = (int(gas), note)


def g1_words(pt) -> list[int]:
    """EVM words [x, y] of a py_ecc optimized_bn128 G1 point (identity -> [0, 0])."""
    if is_inf(pt):
        return [0, 0]
    x, y = normalize(pt)
    return [int(x), int(y)]


def g2_words(pt) -> list[int]:
    """EIP-197 words [x_im, x_re, y_im, y_re] of a py_ecc optimized_bn128 G2 point."""
    x, y = normalize(pt)
    return [int(x.coeffs[1]), int(x.coeffs[0]), int(y.coeffs[1]), int(y.coeffs[0])]


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


class RefTranscript:
    def __init__(self, domain: bytes):
        self.state = keccak256(domain)
        self.buffer = b""

    def absorb_fr(self, x: int) -> None:
        if not 0 <= x < R:
            raise ValueError("absorb_fr: value >= r")
        self.buffer += x.to_bytes(32, "big")

    def absorb_g1(self, encoded: bytes) -> None:
        assert len(encoded) == 64
        self.buffer += encoded

    def absorb_bytes(self, data: bytes) -> None:
        self.buffer += data

    def challenge(self, label: bytes) -> int:
        assert len(label) <= 32
        h = keccak256(self.state + self.buffer + label.ljust(32, b"\0"))
        self.state, self.buffer = h, b""
        return int.from_bytes(h, "big") % R
