"""Fiat–Shamir transcript over Keccak-256, exactly as specified in ``docs/protocol.md`` §2.

The Solidity verifier re-implements the same byte stream; ``tests/vectors/transcript.json`` pins both.

    state  ← keccak256(domain)
    absorb: buffer ← buffer ‖ item        (be32 Fr element, 64-byte EVM G1 point, or fixed-length bytes)
    challenge(label): h ← keccak256(state ‖ buffer ‖ pad32(label)); state ← h; buffer ← ε; return h mod r

Every absorbed item has a fixed length, so given the protocol's fixed order the stream parses uniquely.
The ``mod r`` reduction of a 256-bit digest is at most 6-to-1, so a set of d bad challenges is hit with
probability < 1.2·d/r (``docs/protocol.md`` §2).
"""

from __future__ import annotations

from Crypto.Hash import keccak

from zkchain.crypto.backend import G1_BYTES, get_backend
from zkchain.crypto.field import R
from zkchain.errors import InputError


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (the EVM's ``keccak256``, not NIST SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def _ascii(s: bytes | str, what: str) -> bytes:
    try:
        return s.encode("ascii") if isinstance(s, str) else bytes(s).decode("ascii").encode("ascii")
    except UnicodeError:
        raise InputError(f"transcript {what} must be ASCII, got {s!r}") from None


class Transcript:
    """One transcript per proof. ``domain``: ASCII protocol tag, e.g. ``"zkchain.plonkish.v1"``."""

    def __init__(self, domain: bytes | str):
        self.domain = _ascii(domain, "domain")
        self.state = keccak256(self.domain)
        self.buffer = bytearray()

    def absorb_fr(self, x: int) -> None:
        """Append ``be32(x)``; ``x`` must already be reduced, ``0 ≤ x < r`` (InputError otherwise)."""
        if not 0 <= x < R:
            raise InputError(f"transcript: Fr element out of range [0, r): {x}")
        self.buffer += x.to_bytes(32, "big")

    def absorb_g1_bytes(self, b: bytes) -> None:
        """Append a 64-byte EVM-encoded G1 point (not re-validated here)."""
        if len(b) != G1_BYTES:
            raise InputError(f"transcript: a G1 point is {G1_BYTES} bytes, got {len(b)}")
        self.buffer += b

    def absorb_g1(self, point, backend=None) -> None:
        """Append the EVM encoding ``x ‖ y`` of a backend point (or of 64 bytes given directly). Without
        ``backend``, py_ecc tuples are read by the reference backend, anything else by the default one."""
        if isinstance(point, (bytes, bytearray, memoryview)):
            self.absorb_g1_bytes(bytes(point))
            return
        if backend is None and isinstance(point, tuple):
            backend = "reference"
        self.absorb_g1_bytes(get_backend(backend).g1_to_bytes(point))

    def absorb_bytes(self, b: bytes) -> None:
        """Append raw bytes. Fixed-length items only (e.g. the 32-byte VK digest): the spec relies on it."""
        self.buffer += bytes(b)

    def challenge_bytes(self, label: bytes | str) -> bytes:
        """The 32-byte digest behind :meth:`challenge` (advances the state the same way)."""
        lab = _ascii(label, "label")
        if len(lab) > 32:
            raise InputError(f"transcript label longer than 32 bytes: {lab!r}")
        h = keccak256(self.state + bytes(self.buffer) + lab.ljust(32, b"\0"))
        self.state = h
        self.buffer = bytearray()
        return h

    def challenge(self, label: bytes | str) -> int:
        """Squeeze a challenge in ``[0, r)``: ``int(keccak256(state ‖ buffer ‖ pad32(label))) mod r``."""
        return int.from_bytes(self.challenge_bytes(label), "big") % R
