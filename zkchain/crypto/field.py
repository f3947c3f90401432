"""The two prime fields of BN254 (alt_bn128, EIP-196/197) as plain Python ints.

Field elements are Python ``int`` values in ``[0, R)`` (scalar field Fr) or ``[0, P)`` (base field Fq).
Everything here is pure Python: it is the arithmetic the Solidity verifier must reproduce, so it stays
obvious. Polynomials over Fr live in :mod:`zkchain.crypto.poly`.

Constants follow py_ecc's ``optimized_bn128`` (``curve_order``, ``field_modulus``).
"""

from __future__ import annotations

from collections.abc import Iterable

#: BN254 scalar-field modulus r (the order of G1 and G2); ``Fr = Z/rZ``.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: BN254 base-field modulus p; G1 coordinates live in ``Fq = Z/pZ``.
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583

#: ``r − 1 = 2^TWO_ADICITY · t`` with t odd: power-of-two evaluation domains exist up to ``2^28``.
TWO_ADICITY = 28
#: A multiplicative generator of Fr* (the one arkworks and snarkjs use).
GENERATOR = 5
#: A primitive ``2^28``-th root of unity, ``GENERATOR^((r−1)/2^28)``.
ROOT_OF_UNITY_2_28 = pow(GENERATOR, (R - 1) >> TWO_ADICITY, R)


def fr(a: int) -> int:
    """Reduce any Python int (negative included) into ``[0, R)``."""
    return a % R


def inv(a: int) -> int:
    """Multiplicative inverse in Fr. Raises ``ZeroDivisionError`` for ``a ≡ 0 (mod r)``."""
    a %= R
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in Fr")
    return pow(a, -1, R)


def batch_inverse(xs: Iterable[int]) -> list[int]:
    """Inverses of many Fr elements with one field inversion (Montgomery's trick).

    ``xs``: ints (reduced mod r inside). Returns a list of the same length, entries in ``[0, R)``.
    Raises ``ZeroDivisionError`` naming the first index whose element is ``0 mod r``.
    """
    xs = [x % R for x in xs]
    prefix = [1] * (len(xs) + 1)
    acc = 1
    for i, x in enumerate(xs):
        if x == 0:
            raise ZeroDivisionError(f"element {i} of the batch is 0 mod r and has no inverse")
        prefix[i] = acc
        acc = acc * x % R
    acc_inv = pow(acc, -1, R)
    out = [0] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        out[i] = acc_inv * prefix[i] % R
        acc_inv = acc_inv * xs[i] % R
    return out


def to_signed(a: int) -> int:
    """Map an Fr element to the signed integer it embeds: ``a`` if ``a ≤ (r−1)/2`` else ``a − r``."""
    a %= R
    return a - R if a > R // 2 else a


def root_of_unity(n: int) -> int:
    """A primitive n-th root of unity in Fr, for n a power of two ≤ 2^28 (``ValueError`` otherwise)."""
    if n < 1 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"evaluation domain size must be a power of two ≤ 2^{TWO_ADICITY}, got {n}")
    return pow(ROOT_OF_UNITY_2_28, (1 << TWO_ADICITY) // n, R)


def powers(x: int, n: int, start: int = 1) -> list[int]:
    """``[start·x^0, start·x^1, …, start·x^(n−1)]`` mod r (the weights of a random linear combination)."""
    out = [0] * n
    acc = start % R
    x %= R
    for i in range(n):
        out[i] = acc
        acc = acc * x % R
    return out
