"""Structured reference string (powers of tau) for KZG over BN254.

An SRS of degree D holds ``[τ^i]₁ for i = 0..D`` and ``[1]₂, [τ]₂`` (``docs/protocol.md`` §1), optionally
``[α·τ^i]₁`` for hiding (Pedersen-style) commitments later (PolyCommit_Ped, Kate–Zaverucha–Goldberg 2010 §3.3).

Two sources:

* ``SRS.from_ptau(path)`` — a snarkjs ``.ptau`` file (Perpetual Powers of Tau / Hermez ceremony), phase-1
  contributed or phase-2 prepared; both keep the monomial sections this module reads. Format (snarkjs
  ``powersoftau_new.js``, ``@iden3/binfileutils``): magic ``"ptau"``, u32 version, u32 section count, then
  sections ``(u32 id, u64 size, data)``, little-endian. Section 1 = header ``(u32 n8 = 32, q: n8 bytes LE,
  u32 power, u32 ceremonyPower)``; 2 = tauG1, ``2·2^power − 1`` points; 3 = tauG2, ``2^power`` points;
  4 = alphaTauG1, ``2^power`` points. A G1 point is ``x ‖ y``, a G2 point ``x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1``, every
  coordinate 32 bytes little-endian in Montgomery form (``a·2^256 mod p``); the identity is all zeros.
  Anything truncated, mis-sized, for another curve or off the curve is refused with ``SetupError``.
* ``SRS.dev(degree, seed)`` — τ derived from a seed by Keccak: anyone can recompute τ, so proofs made with it
  are forgeable. Marked ``insecure=True`` and its ``source`` says so; for tests and demos only.

Converted points are cached (``$ZKCHAIN_CACHE``, default ``~/.cache/zkchain``) as raw ``.npy`` byte arrays in
EVM encoding, keyed by a hash of the bytes read plus the degree — never pickled; see ``docs/crypto.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import mmap
import os
import operator
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zkchain.crypto.backend import Backend, get_backend
from zkchain.crypto.field import P, R, powers
from zkchain.crypto.transcript import keccak256
from zkchain.errors import InputError, SetupError

SRS_DIGEST_DOMAIN = b"zkchain.srs.v1"
DEV_SRS_DOMAIN = b"zkchain.dev-srs.v1"
_MONT_INV = pow(1 << 256, -1, P)  # undo ffjavascript's Montgomery form
_CACHE_VERSION = 1


DEFAULT_DEV_SEED = "zkchain-dev"  # the seed of `zkchain setup --srs dev`
DEV_SOURCE_PREFIX = "dev:"
#: dev SRS seeds recognised by their [τ]₂ alone, whatever a verifying key's labels say
KNOWN_DEV_SEEDS = (DEFAULT_DEV_SEED,)


def _seed_str(seed: bytes | str) -> str:
    try:
        return seed if isinstance(seed, str) else bytes(seed).decode("utf-8")
    except UnicodeDecodeError:
        raise SetupError(f"dev SRS seed must be UTF-8 text, got {seed!r}") from None


def dev_tau(seed: bytes | str) -> int:
    """The public τ of the dev SRS of ``seed``: ``keccak256("zkchain.dev-srs.v1" ‖ seed) mod r`` (1 if that is 0)."""
    return int.from_bytes(keccak256(DEV_SRS_DOMAIN + _seed_str(seed).encode()), "big") % R or 1


@functools.lru_cache(maxsize=32)
def dev_g2_tau(seed: str) -> bytes:
    """EIP-197 encoding of ``[τ]₂`` of the dev SRS of ``seed`` (one G2 multiplication, cached)."""
    be = get_backend()
    return be.g2_to_bytes(be.g2_mul(be.g2(), dev_tau(seed)))


def dev_seed(source: str) -> str | None:
    """The seed of a ``dev:<seed>`` source string, else None."""
    return source[len(DEV_SOURCE_PREFIX):] if source.startswith(DEV_SOURCE_PREFIX) else None


def insecure_srs(source: str, g2_tau: bytes) -> bool:
    """True for a dev SRS: by its source label, or by its ``[τ]₂`` (EIP-197 bytes) being that of a known dev
    seed — so relabelling a dev key does not hide it. (No check can detect an SRS whose maker kept τ: use a
    public ceremony.)"""
    return dev_seed(source) is not None or any(bytes(g2_tau) == dev_g2_tau(s) for s in KNOWN_DEV_SEEDS)


def describe_srs(source: str) -> str:
    """One line for people: what the SRS is and, for a dev SRS, that proofs under it are forgeable."""
    seed = dev_seed(source)
    if seed is not None:
        return f"INSECURE dev SRS from seed {seed!r} (tau is public; anyone can forge proofs)"
    return source


CACHE_ENV = "ZKCHAIN_CACHE"


def cache_dir() -> Path:
    """zkchain's cache (converted SRS points, downloaded ceremony files): ``$ZKCHAIN_CACHE``, else the platform's
    user cache directory (``platformdirs``: ``~/.cache/zkchain`` on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("zkchain"))


@dataclass
class SRS:
    """Powers of tau for KZG. ``g1_powers[i] = [τ^i]₁`` (backend-native points, ``len = degree + 1``)."""

    degree: int
    g1_powers: Sequence  # list, or a lazily decoded PointTable for .ptau files
    g2_one: object
    g2_tau: object
    insecure: bool
    source: str
    backend: Backend = field(repr=False)
    g1_alpha_powers: Sequence | None = field(default=None, repr=False)  # [α·τ^i]₁ when the file has them

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def dev(cls, degree: int, seed: bytes | str = DEFAULT_DEV_SEED, backend=None) -> "SRS":
        """INSECURE deterministic SRS: ``τ = keccak256("zkchain.dev-srs.v1" ‖ seed) mod r`` (:func:`dev_tau`).
        Powers ``[τ^i]₁`` by one parallel fixed-base batch multiplication (degree 2^16 ≈ 3 s on the fast
        backend). ``source`` is ``dev:<seed>``. Raises ``SetupError`` for a degree < 1 or a non-UTF-8 seed."""
        if degree < 1:
            raise SetupError(f"SRS degree must be ≥ 1, got {degree}")
        be = get_backend(backend)
        seed_s = _seed_str(seed)
        tau = dev_tau(seed_s)
        g1s = be.g1_batch_mul(be.g1(), powers(tau, degree + 1))
        return cls(degree=degree, g1_powers=g1s, g2_one=be.g2(), g2_tau=be.g2_mul(be.g2(), tau), insecure=True,
                   source=DEV_SOURCE_PREFIX + seed_s, backend=be)

    @classmethod
    def from_ptau(cls, path, degree: int | None = None, backend=None, *, alpha: bool = False,
                  cache: bool = True) -> "SRS":
        """Load a snarkjs ``.ptau`` (phase 1 or phase-2 prepared). ``degree`` defaults to ``2^power`` and may go
        up to ``2·2^power − 2`` (all of tauG1). ``alpha=True`` also loads ``[α·τ^i]₁`` (up to ``2^power − 1``
        of them). Raises ``SetupError`` for a missing, truncated, corrupt or too-small file."""
        be = get_backend(backend)
        path = Path(path)
        try:
            with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return cls._from_ptau_buffer(mm, path, degree, be, alpha, cache)
        except FileNotFoundError:
            raise SetupError(f"{path}: no such .ptau file") from None
        except ValueError as exc:  # mmap of an empty file
            raise SetupError(f"{path}: not a .ptau file ({exc})") from None

    @classmethod
    def _from_ptau_buffer(cls, buf, path: Path, degree, be: Backend, alpha: bool, use_cache: bool) -> "SRS":
        sections, power = _ptau_layout(buf, path)
        n_g1 = 2 * (1 << power) - 1
        degree = (1 << power) if degree is None else degree
        if not 1 <= degree <= n_g1 - 1:
            raise SetupError(f"{path}: requested SRS degree {degree} but this power-{power} file supports "
                             f"degrees 1..{n_g1 - 1}")
        g1_off = sections[2][0]
        g2_off = sections[3][0]
        g1_raw = bytes(buf[g1_off:g1_off + 64 * (degree + 1)])
        g2_raw = bytes(buf[g2_off:g2_off + 128 * 2])
        alpha_raw = b""
        if alpha:
            if 4 not in sections:
                raise SetupError(f"{path}: alpha powers requested but the file has no alphaTauG1 section")
            n_alpha = min(degree + 1, 1 << power)
            alpha_raw = bytes(buf[sections[4][0]:sections[4][0] + 64 * n_alpha])
        header = bytes(buf[sections[1][0]:sections[1][0] + sections[1][1]])
        key = hashlib.sha256(b"".join([b"zkchain-ptau-cache", struct.pack("<II", _CACHE_VERSION, degree),
                                       header, g1_raw, g2_raw, alpha_raw])).hexdigest()
        entry = cache_dir() / "srs" / key
        evm = _read_cache(entry) if use_cache else None
        trusted = evm is not None  # our own, hash-checked entry: its points were validated when written
        if evm is None:
            evm = {"g1": _convert_g1(g1_raw, path, "tauG1"), "g2": _convert_g2(g2_raw, path)}
            if alpha:
                evm["alpha"] = _convert_g1(alpha_raw, path, "alphaTauG1")
        try:
            decode_g2 = _trusted_g2 if trusted else (lambda _be, b: _be.g2_from_bytes(b))
            g2_one = decode_g2(be, evm["g2"][0].tobytes())
            g2_tau = decode_g2(be, evm["g2"][1].tobytes())
        except InputError as exc:
            raise SetupError(f"{path}: corrupt tauG2: {exc}") from None
        if use_cache and not entry.exists():
            _write_cache(entry, evm, {"file": str(path), "power": power, "degree": degree})
        g1s = _points_from_evm_g1(be, evm["g1"])
        alphas = _points_from_evm_g1(be, evm["alpha"]) if "alpha" in evm else None
        srs = cls(degree=degree, g1_powers=g1s, g2_one=g2_one, g2_tau=g2_tau, insecure=False,
                  source=f"ptau:{path.name} (power {power}, degree {degree})", backend=be,
                  g1_alpha_powers=alphas)
        generator = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
        if evm["g1"][0].tobytes() != generator or not be.g2_eq(g2_one, be.g2()):
            raise SetupError(f"{path}: tauG1[0] / tauG2[0] are not the BN254 generators; corrupt file")
        return srs

    @classmethod
    def dev_powers(cls, degree: int, seed: bytes | str = DEFAULT_DEV_SEED, start: int = 0, step: int = 1,
                   backend=None) -> list:
        """The dev SRS's ``[τ^i]₁`` for ``i = start, start + step, ... ≤ degree`` alone (a worker's shard of
        :meth:`dev`: ``1/step`` of its cost)."""
        be = get_backend(backend)
        tau = dev_tau(_seed_str(seed))
        n = len(range(start, degree + 1, step))
        first, ratio = pow(tau, start, R), pow(tau, step, R)
        return be.g1_batch_mul(be.g1(), [first * t % R for t in powers(ratio, n)])

    def normalize(self) -> "SRS":
        """Rebuild the G1 powers from affine coordinates, in place. On the fast backend points made by arithmetic
        (the dev SRS) are projective and every MSM pays one field inversion per point to normalise them; this
        one-off pass (~70 µs/point) makes later MSMs ~1.7× faster at 2^16. Worth it when a prover commits more
        than a dozen full-size polynomials. No effect on the values (or the digest)."""
        be = self.backend
        self.g1_powers = [be._g1_from_xy(*be.g1_to_xy(p)) if not be.g1_is_zero(p) else p for p in self.g1_powers]
        return self

    # -- what verifiers need ------------------------------------------------------------------------------------
    def digest(self) -> bytes:
        """32-byte Keccak-256 of ``"zkchain.srs.v1" ‖ be32(degree) ‖ evm64([1]₁) ‖ evm64([τ]₁) ‖
        eip197([1]₂) ‖ eip197([τ]₂)`` — identifies the SRS in verifying keys and transcripts."""
        be = self.backend
        return keccak256(SRS_DIGEST_DOMAIN + self.degree.to_bytes(32, "big") + be.g1_to_bytes(self.g1_powers[0])
                         + be.g1_to_bytes(self.g1_powers[1]) + be.g2_to_bytes(self.g2_one)
                         + be.g2_to_bytes(self.g2_tau))

    def verifier_key(self) -> tuple:
        """``([1]₁, [1]₂, [τ]₂)`` — all a KZG verifier (and the accumulator check) uses."""
        return (self.g1_powers[0], self.g2_one, self.g2_tau)

    def check_powers(self, indices=(0, 1)) -> bool:
        """Spot check ``e([τ^(i+1)]₁, [1]₂) = e([τ^i]₁, [τ]₂)`` for the given i (one pairing check each)."""
        be = self.backend
        return all(be.pairing_check([(self.g1_powers[i + 1], self.g2_one),
                                     (be.g1_neg(self.g1_powers[i]), self.g2_tau)]) for i in indices)


# -- .ptau parsing -------------------------------------------------------------------------------------------


def _ptau_layout(buf, path: Path) -> tuple[dict[int, tuple[int, int]], int]:
    """Section table ``{id: (offset, size)}`` and the power, after checking magic, sizes and the curve."""
    size = len(buf)
    if size < 12 or bytes(buf[:4]) != b"ptau":
        raise SetupError(f"{path}: not a snarkjs .ptau file (bad magic {bytes(buf[:4])!r})")
    version, n_sections = struct.unpack_from("<II", buf, 4)
    if version != 1:
        raise SetupError(f"{path}: unsupported .ptau version {version} (expected 1)")
    sections: dict[int, tuple[int, int]] = {}
    pos = 12
    for _ in range(n_sections):
        if pos + 12 > size:
            raise SetupError(f"{path}: truncated .ptau (section table ends at byte {size})")
        sec_id, sec_size = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if pos + sec_size > size:
            raise SetupError(f"{path}: truncated .ptau: section {sec_id} needs {sec_size} bytes at offset {pos}, "
                             f"file has {size} bytes")
        if sec_id in sections:
            raise SetupError(f"{path}: corrupt .ptau: section {sec_id} appears twice")
        sections[sec_id] = (pos, sec_size)
        pos += sec_size
    for needed in (1, 2, 3):
        if needed not in sections:
            raise SetupError(f"{path}: corrupt .ptau: section {needed} missing")
    off, hsize = sections[1]
    if hsize != 4 + 32 + 8:
        raise SetupError(f"{path}: corrupt .ptau header ({hsize} bytes)")
    (n8,) = struct.unpack_from("<I", buf, off)
    q = int.from_bytes(bytes(buf[off + 4:off + 4 + n8]), "little")
    if n8 != 32 or q != P:
        raise SetupError(f"{path}: .ptau is not for bn128/BN254 (field modulus {q:#x})")
    power, _ceremony_power = struct.unpack_from("<II", buf, off + 36)
    if not 1 <= power <= 28:
        raise SetupError(f"{path}: corrupt .ptau header: power {power}")
    expect = {2: (2 * (1 << power) - 1) * 64, 3: (1 << power) * 128, 4: (1 << power) * 64}
    for sec, nbytes in expect.items():
        if sec in sections and sections[sec][1] != nbytes:
            raise SetupError(f"{path}: corrupt .ptau: section {sec} has {sections[sec][1]} bytes, a power-{power} "
                             f"file has {nbytes}")
    return sections, power


def _trusted_g2(be: Backend, b: bytes):
    """Decode an EIP-197 G2 encoding already validated (skips py_ecc's ~60 ms subgroup check)."""
    x_im, x_re, y_im, y_re = (int.from_bytes(b[i:i + 32], "big") for i in range(0, 128, 32))
    return be.g2_zero() if not any(b) else be._g2_from_xy((x_re, x_im), (y_re, y_im))


def _fq_from_mont(b: bytes, path: Path, what: str) -> int:
    v = int.from_bytes(b, "little")
    if v >= P:
        raise SetupError(f"{path}: corrupt {what}: coordinate ≥ p")
    return v * _MONT_INV % P


def _convert_g1(raw: bytes, path: Path, what: str) -> np.ndarray:
    """Montgomery-LE G1 points → ``uint8[n, 64]`` EVM encoding, each checked on the curve."""
    n = len(raw) // 64
    out = bytearray(64 * n)
    for i in range(n):
        o = 64 * i
        x = _fq_from_mont(raw[o:o + 32], path, what)
        y = _fq_from_mont(raw[o + 32:o + 64], path, what)
        if (x or y) and (y * y - x * x * x - 3) % P:
            raise SetupError(f"{path}: corrupt {what}: point {i} is not on the BN254 curve")
        out[o:o + 32] = x.to_bytes(32, "big")
        out[o + 32:o + 64] = y.to_bytes(32, "big")
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(n, 64)


def _convert_g2(raw: bytes, path: Path) -> np.ndarray:
    """Montgomery-LE G2 points ``(x.c0, x.c1, y.c0, y.c1)`` → ``uint8[n, 128]`` EIP-197 order
    ``(x_im, x_re, y_im, y_re)``. Curve/subgroup checks happen when decoding (``g2_from_bytes``)."""
    n = len(raw) // 128
    out = bytearray(128 * n)
    for i in range(n):
        o = 128 * i
        x_re, x_im, y_re, y_im = (_fq_from_mont(raw[o + k:o + k + 32], path, "tauG2") for k in range(0, 128, 32))
        out[o:o + 128] = b"".join(c.to_bytes(32, "big") for c in (x_im, x_re, y_im, y_re))
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(n, 128)


class PointTable(Sequence):
    """Read-only list of G1 points decoded on first use from an EVM-encoded ``uint8[n, 64]`` array.

    Why: building a zksnake point costs ~55–70 µs (arkworks re-checks every point it is handed), so a 2^20 SRS
    would take a minute to materialise. The table builds points in chunks of ``CHUNK``, only up to the highest
    index asked for; ``srs.g1_powers[:n]`` (what :func:`zkchain.crypto.kzg.commit` takes) builds the first n.
    Points in the array were validated when first converted (or come from our own cache)."""

    CHUNK = 4096

    def __init__(self, backend: Backend, arr: np.ndarray):
        self._be = backend
        self._raw = arr.tobytes()
        self._n = len(self._raw) // 64
        self._pts: list = []

    def __len__(self) -> int:
        return self._n

    def _build(self, upto: int) -> None:
        upto = min(self._n, upto)
        if len(self._pts) >= upto:
            return
        upto = min(self._n, -(-upto // self.CHUNK) * self.CHUNK)
        raw, zero, make = self._raw, self._be.g1_zero(), self._be._g1_from_xy
        for o in range(64 * len(self._pts), 64 * upto, 64):
            x = int.from_bytes(raw[o:o + 32], "big")
            y = int.from_bytes(raw[o + 32:o + 64], "big")
            self._pts.append(zero if x == 0 and y == 0 else make(x, y))

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            self._build(stop if step > 0 else start + 1)
            return self._pts[i]
        i = operator.index(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"SRS point index {i} out of range 0..{self._n - 1}")
        self._build(i + 1)
        return self._pts[i]

    def every(self, start: int, step: int) -> "PointTable":
        """The points ``start, start + step, ...`` as a new lazily decoded table (an SRS shard)."""
        arr = np.frombuffer(self._raw, dtype=np.uint8).reshape(-1, 64)[start::step]
        return PointTable(self._be, np.ascontiguousarray(arr))

    def materialize(self) -> list:
        """Build every point now; returns them as a plain list."""
        self._build(self._n)
        return self._pts

    @property
    def built(self) -> int:
        """How many points have been decoded so far."""
        return len(self._pts)


def _points_from_evm_g1(be: Backend, arr: np.ndarray) -> PointTable:
    return PointTable(be, arr)


# -- cache -----------------------------------------------------------------------------------------------------


def _arrays_hash(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode() + np.ascontiguousarray(arrays[name], dtype=np.uint8).tobytes())
    return h.hexdigest()


def _read_cache(entry: Path) -> dict[str, np.ndarray] | None:
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if meta.get("version") != _CACHE_VERSION:
            return None
        arrays = {name: np.load(entry / f"{name}.npy", allow_pickle=False) for name in meta["arrays"]}
        if meta.get("sha256") != _arrays_hash(arrays):
            return None  # damaged or edited entry: never feed unchecked points to the backend
        return arrays
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged cache entry: reconvert


def _write_cache(entry: Path, arrays: dict[str, np.ndarray], info: dict) -> None:
    try:
        tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
        (tmp / "meta.json").write_text(json.dumps({"version": _CACHE_VERSION, "arrays": sorted(arrays),
                                                   "sha256": _arrays_hash(arrays), **info}))
        try:
            tmp.rename(entry)
        except OSError:  # another process won the race; theirs is identical
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
    except OSError:
        pass  # a read-only home must not stop proving
