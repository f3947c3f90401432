"""BN254 group arithmetic behind one small interface, with two interchangeable implementations.

* ``reference`` — py_ecc's ``optimized_bn128``: plain Python, checkable line by line against the curve
  formulas, about 6 ms per G1 scalar multiplication and 0.25 s per pairing. For tests and cross-checks.
* ``fast`` (default) — the ``zksnake`` wheel, i.e. arkworks (``ark-bn254`` 0.4) through PyO3: Pippenger MSM
  on all cores, ~1 ms pairings. For proving.

Points are backend-native opaque objects; never mix points of two backends. Scalars are Python ints and are
reduced mod r inside. Moving between backends, files and the EVM goes through the canonical encodings of
EIP-196/197 (``docs/protocol.md`` §1):

* G1: ``x ‖ y``, each a 32-byte big-endian integer ``< p``; identity = 64 zero bytes.
* G2: ``x_im ‖ x_re ‖ y_im ‖ y_re`` (EIP-197 order), each 32-byte big-endian ``< p``; identity = 128 zero bytes.

Decoders (``*_from_bytes``, ``*_from_xy``) validate: coordinates ``< p``, point on the curve, and for G2
membership of the r-torsion subgroup (G1 has cofactor 1). A bad point raises
:class:`zkchain.errors.InputError` saying which check failed.

Select a backend with ``get_backend(name)`` or the ``ZKCHAIN_BACKEND`` environment variable.
"""

from __future__ import annotations

import functools

import os
from typing import Any

from py_ecc import optimized_bn128 as bn
from py_ecc.optimized_bn128 import optimized_pairing as bn_pairing

from zkchain.crypto.field import P, R
from zkchain.errors import InputError

G1Point = Any  # backend-native; see the implementations
G2Point = Any

G1_BYTES = 64
G2_BYTES = 128
_B1 = 3  # G1: y² = x³ + 3
_B2 = bn.b2  # G2 (the D-type twist): y² = x³ + 3/(9+u)


# --------------------------------------------------------------------------------------------------------------
# Validation on plain integers, shared by both backends (it is the EVM precompiles' check, EIP-196/197).


def _check_g1_xy(x: int, y: int) -> None:
    if not (0 <= x < P and 0 <= y < P):
        raise InputError(f"G1 point rejected: coordinate not in [0, p) (x={x:#x}, y={y:#x})")
    if (x, y) != (0, 0) and (y * y - x * x * x - _B1) % P:
        raise InputError(f"G1 point rejected: ({x:#x}, {y:#x}) is not on the curve y^2 = x^3 + 3")


def _py_ecc_g2(x: tuple[int, int], y: tuple[int, int]):
    return (bn.FQ2(list(x)), bn.FQ2(list(y)), bn.FQ2.one())


@functools.lru_cache(maxsize=64)
def _check_g2_xy(x: tuple[int, int], y: tuple[int, int]) -> None:
    # cached: the subgroup check is ~80 ms in py_ecc and a verifier sees the same two VK points every proof
    if not all(0 <= c < P for c in (*x, *y)):
        raise InputError("G2 point rejected: a coordinate is not in [0, p)")
    if (x, y) == ((0, 0), (0, 0)):
        return
    pt = _py_ecc_g2(x, y)
    if not bn.is_on_curve(pt, _B2):
        raise InputError("G2 point rejected: not on the twist curve y^2 = x^3 + 3/(9+u)")
    if not bn.is_inf(bn.multiply(pt, R)):
        raise InputError("G2 point rejected: on the curve but not in the order-r subgroup")


# --------------------------------------------------------------------------------------------------------------


class Backend:
    """Interface of a BN254 backend. Subclasses implement the group operations and the (x, y) conversions;
    the byte encodings and their validation live here, once, for both."""

    name: str = "abstract"

    # -- group constants and operations (implemented by subclasses) ---------------------------------------------
    def g1(self) -> G1Point: raise NotImplementedError
    def g2(self) -> G2Point: raise NotImplementedError
    def g1_zero(self) -> G1Point: raise NotImplementedError
    def g2_zero(self) -> G2Point: raise NotImplementedError
    def g1_add(self, a, b): raise NotImplementedError
    def g1_neg(self, a): raise NotImplementedError
    def g1_mul(self, a, s: int): raise NotImplementedError
    def g1_eq(self, a, b) -> bool: raise NotImplementedError
    def g2_add(self, a, b): raise NotImplementedError
    def g2_neg(self, a): raise NotImplementedError
    def g2_mul(self, a, s: int): raise NotImplementedError
    def g2_eq(self, a, b) -> bool: raise NotImplementedError

    def g1_msm(self, points: list, scalars: list[int]) -> G1Point:
        """``Σ scalars[i]·points[i]``; ``len(scalars) ≤ len(points)`` (extra points are ignored)."""
        raise NotImplementedError

    def g2_msm(self, points: list, scalars: list[int]) -> G2Point:
        """``Σ scalars[i]·points[i]`` in G2; same shapes as :meth:`g1_msm`."""
        raise NotImplementedError

    def g1_batch_mul(self, base, scalars: list[int]) -> list:
        """``[s·base for s in scalars]`` (fixed-base batch, e.g. powers of tau)."""
        raise NotImplementedError

    def pairing_check(self, pairs: list[tuple]) -> bool:
        """True iff ``Π e(P_i, Q_i) = 1`` in GT for ``pairs = [(P_i ∈ G1, Q_i ∈ G2), ...]`` (EIP-197 semantics:
        the empty product is 1)."""
        raise NotImplementedError

    def _g1_from_xy(self, x: int, y: int): raise NotImplementedError  # trusted: already validated
    def g1_to_xy(self, a) -> tuple[int, int]: raise NotImplementedError
    def _g2_from_xy(self, x: tuple[int, int], y: tuple[int, int]): raise NotImplementedError
    def g2_to_xy(self, a) -> tuple[tuple[int, int], tuple[int, int]]: raise NotImplementedError

    # -- conveniences -------------------------------------------------------------------------------------------
    def g1_sub(self, a, b):
        return self.g1_add(a, self.g1_neg(b))

    def g1_is_zero(self, a) -> bool:
        return self.g1_eq(a, self.g1_zero())

    # -- validated conversions ----------------------------------------------------------------------------------
    def g1_from_xy(self, x: int, y: int) -> G1Point:
        """Affine coordinates (ints) → point; ``(0, 0)`` is the identity. Raises ``InputError`` if invalid."""
        _check_g1_xy(x, y)
        return self.g1_zero() if (x, y) == (0, 0) else self._g1_from_xy(x, y)

    def g2_from_xy(self, x: tuple[int, int], y: tuple[int, int]) -> G2Point:
        """``x = (x_re, x_im)``, ``y = (y_re, y_im)`` → point; all-zero is the identity. Validates (InputError)."""
        _check_g2_xy(x, y)
        return self.g2_zero() if (x, y) == ((0, 0), (0, 0)) else self._g2_from_xy(x, y)

    def g1_to_bytes(self, a) -> bytes:
        """64-byte EVM encoding ``x ‖ y`` (big-endian); identity = 64 zero bytes."""
        x, y = self.g1_to_xy(a)
        return x.to_bytes(32, "big") + y.to_bytes(32, "big")

    def g1_from_bytes(self, b: bytes) -> G1Point:
        """Inverse of :meth:`g1_to_bytes`; rejects wrong length, coordinates ≥ p, off-curve (InputError)."""
        b = bytes(b)
        if len(b) != G1_BYTES:
            raise InputError(f"G1 point rejected: expected {G1_BYTES} bytes, got {len(b)}")
        return self.g1_from_xy(int.from_bytes(b[:32], "big"), int.from_bytes(b[32:], "big"))

    def g2_to_bytes(self, a) -> bytes:
        """128-byte EIP-197 encoding ``x_im ‖ x_re ‖ y_im ‖ y_re``; identity = 128 zero bytes."""
        (x_re, x_im), (y_re, y_im) = self.g2_to_xy(a)
        return b"".join(c.to_bytes(32, "big") for c in (x_im, x_re, y_im, y_re))

    def g2_from_bytes(self, b: bytes) -> G2Point:
        """Inverse of :meth:`g2_to_bytes`; rejects wrong length, ≥ p, off-curve, outside the subgroup."""
        b = bytes(b)
        if len(b) != G2_BYTES:
            raise InputError(f"G2 point rejected: expected {G2_BYTES} bytes, got {len(b)}")
        x_im, x_re, y_im, y_re = (int.from_bytes(b[i:i + 32], "big") for i in range(0, 128, 32))
        return self.g2_from_xy((x_re, x_im), (y_re, y_im))

    def __repr__(self) -> str:
        return f"<zkchain BN254 backend {self.name!r}>"


# --------------------------------------------------------------------------------------------------------------


class ReferenceBackend(Backend):
    """py_ecc ``optimized_bn128``: points are Jacobian triples of ``FQ`` / ``FQ2``; obviously correct, slow."""

    name = "reference"

    def g1(self): return bn.G1
    def g2(self): return bn.G2
    def g1_zero(self): return bn.Z1
    def g2_zero(self): return bn.Z2
    def g1_add(self, a, b): return bn.add(a, b)
    def g1_neg(self, a): return bn.neg(a)
    def g1_mul(self, a, s): return bn.multiply(a, s % R)
    def g1_eq(self, a, b): return bn.eq(a, b)
    g2_add, g2_neg, g2_mul, g2_eq = g1_add, g1_neg, g1_mul, g1_eq

    @staticmethod
    def _msm(points, scalars, zero):
        if len(scalars) > len(points):
            raise ValueError(f"MSM: {len(scalars)} scalars but only {len(points)} points")
        acc = zero
        for pt, s in zip(points, scalars):
            if s % R:
                acc = bn.add(acc, bn.multiply(pt, s % R))
        return acc

    def g1_msm(self, points, scalars):
        return self._msm(points, scalars, bn.Z1)

    def g2_msm(self, points, scalars):
        return self._msm(points, scalars, bn.Z2)

    def g1_batch_mul(self, base, scalars):
        return [bn.multiply(base, s % R) for s in scalars]

    def pairing_check(self, pairs):
        # Product of Miller loops, one final exponentiation (the shape of precompile 0x08).
        f = bn.FQ12.one()
        for p1, q2 in pairs:
            if bn.is_inf(p1) or bn.is_inf(q2):
                continue
            f = f * bn_pairing.pairing(q2, p1, final_exponentiate=False)
        return bn_pairing.final_exponentiate(f) == bn.FQ12.one()

    def _g1_from_xy(self, x, y):
        return (bn.FQ(x), bn.FQ(y), bn.FQ.one())

    def g1_to_xy(self, a):
        if bn.is_inf(a):
            return (0, 0)
        x, y = bn.normalize(a)
        return (int(x), int(y))

    def _g2_from_xy(self, x, y):
        return _py_ecc_g2(x, y)

    def g2_to_xy(self, a):
        if bn.is_inf(a):
            return ((0, 0), (0, 0))
        x, y = bn.normalize(a)
        return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


class FastBackend(Backend):
    """zksnake (arkworks ``ark-bn254`` via PyO3). Points are ``ec_bn254.PointG1`` / ``PointG2`` objects.

    Cost notes (2 cores): constructing a point from coordinates costs ~70 µs (arkworks re-checks it), so keep
    SRS points as native objects; MSM inputs built from coordinates are affine (z = 1) and avoid one field
    inversion per point inside ``multiscalar_mul_g1``.
    """

    name = "fast"

    def __init__(self) -> None:
        from zksnake._algebra import ec_bn254  # imported here so the reference backend works without the wheel

        self._ec = ec_bn254
        self._g1, self._g2 = ec_bn254.g1(), ec_bn254.g2()
        self._z1 = ec_bn254.PointG1.identity()
        self._z2 = self._g2 * 0
        self._gt_one = ec_bn254.pairing(self._z1, self._g2)

    def g1(self): return self._g1
    def g2(self): return self._g2
    def g1_zero(self): return self._z1
    def g2_zero(self): return self._z2
    def g1_add(self, a, b): return a + b
    def g1_neg(self, a): return -a
    def g1_mul(self, a, s): return a * (s % R)
    def g1_eq(self, a, b): return a == b
    def g1_sub(self, a, b): return a - b
    def g1_is_zero(self, a): return a.is_zero()
    g2_add, g2_neg, g2_mul, g2_eq = g1_add, g1_neg, g1_mul, g1_eq

    def g1_msm(self, points, scalars):
        n = len(scalars)
        if n > len(points):
            raise ValueError(f"MSM: {n} scalars but only {len(points)} points")
        if n == 0:
            return self._z1
        if len(points) != n or not isinstance(points, list):
            points = list(points[:n])
        return self._ec.multiscalar_mul_g1(points, [s % R for s in scalars])

    def g2_msm(self, points, scalars):
        n = len(scalars)
        if n > len(points):
            raise ValueError(f"MSM: {n} scalars but only {len(points)} points")
        if n == 0:
            return self._z2
        return self._ec.multiscalar_mul_g2(list(points[:n]), [s % R for s in scalars])

    def g1_batch_mul(self, base, scalars):
        if not scalars:
            return []
        return self._ec.batch_multi_scalar_g1([base] * len(scalars), [s % R for s in scalars])

    def pairing_check(self, pairs):
        if not pairs:
            return True
        return self._ec.multi_pairing([p for p, _ in pairs], [q for _, q in pairs]) == self._gt_one

    def _g1_from_xy(self, x, y):
        return self._ec.PointG1(x, y)

    def g1_to_xy(self, a):
        return (a.x, a.y)  # zksnake maps the identity to (0, 0)

    def _g2_from_xy(self, x, y):
        return self._ec.PointG2(x[0], x[1], y[0], y[1])  # (c0, c1) = (re, im)

    def g2_to_xy(self, a):
        if a.is_zero():
            return ((0, 0), (0, 0))
        x, y = a.x, a.y
        return ((x[0], x[1]), (y[0], y[1]))


_BACKENDS: dict[str, Backend] = {}
_CLASSES = {"fast": FastBackend, "reference": ReferenceBackend}
DEFAULT_BACKEND = "fast"


def get_backend(name: str | Backend | None = None) -> Backend:
    """The backend called ``name`` (``"fast"`` or ``"reference"``); ``None`` reads ``ZKCHAIN_BACKEND`` and
    falls back to ``"fast"``. A :class:`Backend` instance is returned unchanged. One instance per name.
    Raises ``InputError`` for an unknown name."""
    if isinstance(name, Backend):
        return name
    key = (name or os.environ.get("ZKCHAIN_BACKEND") or DEFAULT_BACKEND).strip().lower()
    if key not in _CLASSES:
        raise InputError(f"unknown BN254 backend {key!r}: choose one of {sorted(_CLASSES)} (ZKCHAIN_BACKEND)")
    if key not in _BACKENDS:
        _BACKENDS[key] = _CLASSES[key]()
    return _BACKENDS[key]
