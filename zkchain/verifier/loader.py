"""Loaders: what the one verifier routine (``zkchain.verifier.verify``) runs on.

The verifier is written once, against the interface of :class:`Loader` — scalars with ``+ − ×``, evaluation
points ``ρ^a·ζ^(−b)`` with their powers and closed forms, the proof's values, the transcript, an MSM and the
pairing check. Three loaders run it (the pattern of snark-verifier's ``Loader``):

- :class:`NativeLoader` (here): Python integers mod r and BN254 points of the crypto backend — the Python
  verifier itself;
- ``zkchain.evm.yul.EvmLoader``: every operation emits Yul instead — the generated Solidity verifier;
- ``zkchain.evm.tape.TapeLoader``: every operation appends an instruction to a tape — the program the shared
  reusable verifier (``contracts/ReusableVerifier.sol``) and ``zkchain.evm.tape.run_tape`` interpret.

A rejection is :class:`Rejected` (the native loader raises it; the EVM loader emits ``leave``, so the contract
returns false).
"""

from __future__ import annotations

from typing import Any

from zkchain.blocks.common import POINTS, iota_eval, ones_eval
from zkchain.compiler.circuit import Circuit
from zkchain.crypto import kzg
from zkchain.crypto.field import R, inv
from zkchain.crypto.transcript import Transcript
from zkchain.errors import InputError


class Rejected(Exception):
    """The proof is invalid; ``str(exc)`` says which check failed."""


class Loader:
    """The interface the verifier routine and the blocks' ``verifier_claims`` use (documentation; both loaders
    implement every method).

    Scalars (``S``): ``const(v)``, ``a + b``, ``a − b``, ``a * b``, ``−a`` (with ``S`` or ``int``);
    ``named(x, comment)`` (keep a value: a memory slot in Yul), ``lincomb([(coef, S)])``, ``prod([S])``,
    ``powsum([S], x) = Σ x^i·S_i``, ``powers(x, n) = [1, x, …, x^(n−1)]``.
    Points: ``set_points(ρ, ζ, σ)``, ``point(a, b, c) = ρ^a·ζ^(−b)·σ^c``, ``pow(P, e)``, ``ones(n, P)``, ``iota(n, P)``.
    Proof values: ``opened(point, name)``, ``public_eval(name, P)``, ``commitment(name)``, ``fixed(name)``,
    ``opening(point)``, ``generator()``. Transcript: ``begin(domain, digest)``, ``absorb_public()``,
    ``absorb_round(round)``, ``absorb_evaluations()``, ``absorb_openings()``, ``challenge(label)``.
    Checks: ``check_shapes()``, ``require_eq(a, b, reason)``, ``require_zero(a, reason)``,
    ``require_nonzero(a, reason)``, ``msm([(S, G)])``, ``pairing_check(L, R, reason)``.
    """


class LoaderValue:
    """The arithmetic operators of a loader whose values are symbolic (the EVM loader's Yul expressions, the tape
    loader's slots): ``+ − ×`` and negation forward to the loader (``self.loader``: ``add``, ``sub``, ``mul``,
    ``const``), an ``int`` operand becoming a constant first. Subclasses set ``loader``."""

    __slots__ = ()
    loader: Any

    def _o(self, o):
        return o if isinstance(o, type(self)) else self.loader.const(o)

    def __add__(self, o):
        return self.loader.add(self, self._o(o))

    __radd__ = __add__

    def __sub__(self, o):
        return self.loader.sub(self, self._o(o))

    def __rsub__(self, o):
        return self.loader.sub(self._o(o), self)

    def __mul__(self, o):
        return self.loader.mul(self, self._o(o))

    __rmul__ = __mul__

    def __neg__(self):
        return self.loader.sub(self.loader.const(0), self)


class Scalar:
    """A field element of the native loader (operators mod r; ``int`` operands allowed)."""

    __slots__ = ("v",)

    def __init__(self, v: int):
        self.v = v % R

    @staticmethod
    def _of(x) -> int:
        return x.v if isinstance(x, Scalar) else int(x) % R

    def __add__(self, o):
        return Scalar(self.v + Scalar._of(o))

    __radd__ = __add__

    def __sub__(self, o):
        return Scalar(self.v - Scalar._of(o))

    def __rsub__(self, o):
        return Scalar(Scalar._of(o) - self.v)

    def __mul__(self, o):
        return Scalar(self.v * Scalar._of(o))

    __rmul__ = __mul__

    def __neg__(self):
        return Scalar(-self.v)

    def __int__(self) -> int:
        return self.v

    def __eq__(self, o) -> bool:
        return isinstance(o, (Scalar, int)) and self.v == Scalar._of(o)

    def __hash__(self) -> int:
        return hash(self.v)

    def __repr__(self) -> str:
        return f"Scalar({self.v:#x})"


class NativeLoader(Loader):
    """Runs the verifier on Python integers and backend points, for one proof against one verifying key."""

    def __init__(self, vk, proof, schedule, backend):
        self.vk, self.proof, self.sch, self.be = vk, proof, schedule, backend
        self.circuit: Circuit = vk.circuit
        self._points: dict[str, Any] = {}
        self._tr: Transcript | None = None
        self._rho = self._zeta_inv = None

    @classmethod
    def standalone(cls, rho: int, zeta: int, opened: dict | None = None, sigma: int | None = None) -> "NativeLoader":
        """A loader with the points of ``(ρ, ζ)`` and given openings (``{point: {name: value}}``) and no proof:
        for checking a block's closed forms against its coefficients (tests)."""
        ld = cls.__new__(cls)
        ld.vk = ld.proof = ld.sch = ld.be = ld.circuit = None
        ld._opened = {p: dict((opened or {}).get(p, {})) for p in POINTS}
        ld.set_points(rho, zeta, sigma)
        return ld

    # -- scalars -------------------------------------------------------------------------------------------
    @staticmethod
    def const(v: int) -> Scalar:
        return Scalar(v)

    @staticmethod
    def named(x, comment: str = "") -> Scalar:
        return x if isinstance(x, Scalar) else Scalar(x)

    @staticmethod
    def lincomb(terms, comment: str = "") -> Scalar:
        return Scalar(sum(int(c) * Scalar._of(x) for c, x in terms))

    @staticmethod
    def prod(factors, comment: str = "") -> Scalar:
        acc = 1
        for f in factors:
            acc = acc * Scalar._of(f) % R
        return Scalar(acc)

    @staticmethod
    def powsum(items, x) -> Scalar:
        acc, xv = 0, Scalar._of(x)
        for it in reversed(items):
            acc = (acc * xv + Scalar._of(it)) % R
        return Scalar(acc)

    @staticmethod
    def powers(x, n: int) -> list[Scalar]:
        out, p, xv = [], 1, Scalar._of(x)
        for _ in range(n):
            out.append(Scalar(p))
            p = p * xv % R
        return out

    @staticmethod
    def section(title: str) -> None:
        """A heading in generated code; nothing here."""

    # -- points --------------------------------------------------------------------------------------------
    def set_points(self, rho, zeta, sigma=None) -> None:
        self._rho, self._zeta_inv = Scalar._of(rho), inv(Scalar._of(zeta))
        self._sigma = Scalar._of(sigma) if sigma is not None else None

    def point(self, a: int, b: int, c: int = 0) -> Scalar:
        """``ρ^a·ζ^(−b)·σ^c`` (``b < 0``: a positive power of ζ; ``σ`` the row-folding challenge, when drawn)."""
        v = pow(self._rho, a, R) * pow(self._zeta_inv, b, R)
        return Scalar(v * pow(self._sigma, c, R) if c else v)

    @staticmethod
    def pow(p, e: int) -> Scalar:
        return Scalar(pow(Scalar._of(p), e, R))

    @staticmethod
    def ones(n: int, p) -> Scalar:
        return Scalar(ones_eval(n, Scalar._of(p)))

    @staticmethod
    def iota(n: int, p) -> Scalar:
        return Scalar(iota_eval(n, Scalar._of(p)))

    # -- proof values --------------------------------------------------------------------------------------
    def opened(self, point: str, name: str) -> Scalar:
        return Scalar(self._opened[point][name])

    def public_eval(self, name: str, p) -> Scalar:
        acc, x = 0, Scalar._of(p)
        for c in reversed(self.proof.public[name]):
            acc = (acc * x + c) % R
        return Scalar(acc)

    def commitment(self, name: str):
        return self._g1[name]

    def fixed(self, name: str):
        return self._g1[name]

    def opening(self, point: str):
        return self._g1["open:" + point]

    def generator(self):
        return self.be.g1()

    # -- transcript ----------------------------------------------------------------------------------------
    def begin(self, domain: bytes, digest: bytes) -> None:
        self._tr = Transcript(domain)
        self._tr.absorb_bytes(digest)

    def absorb_public(self) -> None:
        for n in self.sch.public:
            for v in self.proof.public[n]:
                self._tr.absorb_fr(v % R)

    def absorb_round(self, rnd) -> None:
        for n in rnd.commitments:
            self._tr.absorb_g1_bytes(self.proof.commitments[n])

    def absorb_evaluations(self) -> None:
        for p in self.sch.points:
            for v in self.proof.evaluations[p]:
                self._tr.absorb_fr(v)

    def absorb_openings(self) -> None:
        for p in self.sch.points:
            self._tr.absorb_g1_bytes(self.proof.openings[p])

    def challenge(self, label: str) -> Scalar:
        return Scalar(self._tr.challenge(label))

    # -- checks ----------------------------------------------------------------------------------------------
    @staticmethod
    def require(cond: bool, reason: str) -> None:
        if not cond:
            raise Rejected(reason)

    def require_eq(self, a, b, reason: str) -> None:
        self.require(Scalar._of(a) == Scalar._of(b), reason)

    def require_zero(self, a, reason: str) -> None:
        self.require(Scalar._of(a) == 0, reason)

    def require_nonzero(self, a, reason: str) -> None:
        self.require(Scalar._of(a) != 0, reason)

    def check_shapes(self) -> None:
        """The proof's structure against the schedule; every field element ``< r``; every public value a signed
        field element within its bound; every point a valid G1 encoding (EIP-196)."""
        proof, sch, vk, be = self.proof, self.sch, self.vk, self.be
        req = self.require
        req(proof.vk_digest == vk.digest, "proof is for another verifying key (digest mismatch)")
        req(sorted(proof.commitments) == sorted(sch.commitments), "commitment set does not match the verifying key")
        req(sorted(proof.evaluations) == sorted(POINTS) and sorted(proof.openings) == sorted(POINTS),
            "proof must open at exactly the points " + ", ".join(POINTS))
        for p in POINTS:
            req(len(proof.evaluations[p]) == len(sch.opened[p]), f"wrong number of evaluations at {p}")
            req(all(isinstance(v, int) and 0 <= v < R for v in proof.evaluations[p]), f"evaluation at {p} is not < r")
        req(sorted(proof.public) == sorted(sch.public), "public vectors do not match the verifying key")
        for n in sch.public:
            vec, vals = self.circuit.vectors[n], proof.public[n]
            req(len(vals) == vec.length, f"public vector {n} has {len(vals)} entries, expected {vec.length}")
            req(all(isinstance(v, int) and -(R // 2) <= v <= R // 2 for v in vals),
                f"public vector {n} has a non-canonical value (not a signed field element)")
            req(all(vec.bound == 0 or abs(v) <= vec.bound for v in vals),
                f"public vector {n} has a value outside ±{vec.bound}")
        self._opened = {p: dict(zip(sch.opened[p], proof.evaluations[p])) for p in POINTS}
        g1 = {}
        try:
            for n in sch.commitments:
                g1[n] = be.g1_from_bytes(proof.commitments[n])
            for p in POINTS:
                g1["open:" + p] = be.g1_from_bytes(proof.openings[p])
            for n, c in vk.fixed_commitments.items():
                g1[n] = be.g1_from_bytes(c)
            self._g2 = (be.g2_from_bytes(vk.g2_one), be.g2_from_bytes(vk.g2_tau))
        except InputError as exc:
            raise Rejected(f"invalid curve point: {exc}") from None
        self._g1 = g1

    # -- KZG -------------------------------------------------------------------------------------------------
    def msm(self, terms):
        """``Σ s_i·G_i``; a scalar may be a list of scalars to add (a merged commitment scalar)."""
        be = self.be
        scalars = [sum(Scalar._of(x) for x in s) % R if isinstance(s, list) else Scalar._of(s) for s, _ in terms]
        return be.g1_msm([g for _, g in terms], scalars)

    def pairing_check(self, lhs, rhs, reason: str) -> None:
        """``e(L, [1]₂)·e(−R, [τ]₂) = 1`` (``docs/protocol.md`` §3)."""
        acc = kzg.Accumulator(self.be, lhs, rhs)
        self.require(acc.check(*self._g2), reason)
