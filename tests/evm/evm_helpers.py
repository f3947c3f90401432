"""Helpers shared by the EVM tests (imported by name: conftest puts this folder on sys.path).

- py_ecc point <-> EVM word conversions,
- a few-line reference of the Keccak transcript (docs/protocol.md section 2), independent of zkchain.crypto, used
  to generate vectors for the Solidity transcript until tests/vectors/transcript.json exists,
- the gas report printed at the end of the run.
"""

from __future__ import annotations

from Crypto.Hash import keccak as _keccak
from py_ecc.optimized_bn128 import curve_order as R
from py_ecc.optimized_bn128 import FQ, G1, Z1, add, is_inf, multiply, neg, normalize

#: gas measurements collected by the tests: name -> (gas, note)
GAS_REPORT: dict[str, tuple[int, str]] = {}


def record_gas(name: str, gas: int, note: str = "") -> None:
    GAS_REPORT[name] = (int(gas), note)


#: wall times collected by the tests: name -> seconds
TIME_REPORT: dict[str, float] = {}


def record_time(name: str, seconds: float) -> None:
    TIME_REPORT[name] = float(seconds)


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


def poly_eval(coeffs: list[int], x: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    return acc


def kzg_claim(coeffs: list[int], x: int, tau: int) -> list[int]:
    """EVM words [Cx, Cy, x, y, pi_x, pi_y] of the KZG opening of f = coeffs at x, for an SRS with known tau
    (so [f(tau)]_1 is one scalar multiplication): C = [f(tau)]_1, pi = [(f(tau) - y)/(tau - x)]_1."""
    y = poly_eval(coeffs, x)
    f_tau = poly_eval(coeffs, tau)
    q_tau = (f_tau - y) * pow(tau - x, -1, R) % R
    return [*g1_words(multiply(G1, f_tau)), x, y, *g1_words(multiply(G1, q_tau))]


def point(x: int, y: int):
    """py_ecc point from EVM words."""
    return Z1 if (x, y) == (0, 0) else (FQ(x), FQ(y), FQ(1))


def fold(claims: list[list[int]], u: int):
    """(L, R) of docs/protocol.md section 3 with weights w_k = u^k, as py_ecc points."""
    lhs, rhs, w = Z1, Z1, 1
    for cx, cy, x, y, px, py in claims:
        c, proof = point(cx, cy), point(px, py)
        term = add(add(c, neg(multiply(G1, y))), multiply(proof, x))
        lhs, rhs = add(lhs, multiply(term, w)), add(rhs, multiply(proof, w))
        w = w * u % R
    return lhs, rhs


def random_claims(rng, tau: int, degrees=(7, 3, 12)) -> list[list[int]]:
    return [kzg_claim([rng.randrange(R) for _ in range(d + 1)], rng.randrange(R), tau) for d in degrees]
