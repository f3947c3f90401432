"""Solidity verifier generator: one self-contained contract per verifying key.

``generate_verifier(vk)`` writes a Solidity source (template ``contracts/templates/Verifier.sol.tmpl``) whose
``verifyProof(bytes proof, uint256[] publicInputs)`` replays ``zkchain/verifier/verify.py`` equation by
equation. Everything the verifying key fixes is turned into constants and straight-line code here, in Python:
fixed commitments and G2 points, the digest, every length, table offset and tag, matmul shapes, expression
coefficients, the opening schedule (hence every calldata offset). The contract interprets nothing at run time.

What the generated contract does, in order (``docs/protocol.md`` sections in brackets):

1. shapes and ranges [§1, §4, §6]: ``proof.length`` and ``publicInputs.length`` equal the key's; every
   evaluation and public value ``< r``; public values within ``±bound`` (``v ≤ bound`` or ``v ≥ r − bound``);
   every commitment and opening proof has coordinates ``< p`` and is on ``y² = x³ + 3`` (or is the identity).
   Any failure returns ``false`` before any precompile is called, so garbage costs little gas.
2. the Keccak transcript [§2, §4] straight from calldata: domain ``zkchain.proof.v1`` (its hash is a constant),
   VK digest, public values, round-1/2/3 commitments, evaluations, opening proofs, challenges
   γ, β | ρ, α, ε | ζ | ν | u with their labels; ``ζ = 0`` is rejected.
3. one field inversion [§5]: ``ζ`` and every ``x − 1`` the closed forms ``ones_n(x)`` and ``Σ i·x^i`` need
   (``x`` = ρ, 1/ζ, ρ/ζ, each matmul's ``ρ·ζ^−(k+1)``, the conv selection points: all ``ρ^a·ζ^−b``, and ζ),
   written over ζ so that one Montgomery batch and one modexp call (precompile 0x05, EIP-198) cover them all;
   ``x = 1`` takes the closed form's limit as in ``zkchain/blocks/common.py``. Powers ``x^e`` with constant ``e`` come from a table of squarings.
4. block equations: linear relations at ρ [§5.5], the degree reversal [§5.4], the aggregated Laurent
   inner product carrying, in circuit order, every matmul [§5.1], convolution and padding claim (§5.6,
   ``zkchain/blocks/conv.py``), Hadamard product [§5.7] and Pick gather (``zkchain/blocks/pick.py``), then
   the three logUp claims [§5.2, §5.3]. Fixed vectors may appear in any expression at any point: they are opened
   like committed vectors, against their VK commitments.
5. KZG [§3]: the four batched claims (powers of ν per point) folded with weights ``u^k``; scalars are merged
   per commitment so each commitment is one ecMul (EIP-196) however many points open it; ``L`` and ``R``
   are decided by one two-pair ecPairing call (EIP-197): ``e(L, [1]₂)·e(−R, [τ]₂) = 1``.

Gas (execution, measured on the embedded py-evm chain; ``docs/evm-verifier.md`` §4): about 6,350 per
ecMul + ecAdd — one per opened commitment, 4 + 3 for the opening proofs in ``L`` and ``R`` and 1 for ``[y]₁`` —
plus 113,100 for the pairing and ~25,000 for everything else: 291,972 gas for the bundled digits MLP, whose
verifier is 7,949 bytes of runtime code (LeNet-5: 512,254 gas, 17,007 bytes). Long runs of per-item code (range
and curve checks, ν powers, Horner sums, the proof's commitments in the MSM) are loops, unrolled where cheap. Code size is linear in the circuit (~1 kB per MLP layer); the EIP-170
limit is 24,576 bytes, and :func:`compile_verifier` logs a warning above it (an ``extcodecopy`` data contract
holding the key's constants is the planned remedy).

Errors: generation raises :class:`~zkchain.errors.InputError` for a bad contract name or an invalid key and
:class:`~zkchain.errors.UnsupportedModelError` for a constraint kind it has no code for (it never skips one);
compilation :class:`~zkchain.evm.solc.CompileError` / :class:`~zkchain.errors.SetupError`. The generated
``verifyProof`` never reverts on proof data (it returns ``false``); ``submitProof`` reverts with
``ProofRejected(bytes32 vkDigest)``.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

from zkchain.blocks import conv, protocol
from zkchain.blocks.common import POINTS, RHO, RHO_ZETA_INV, ZETA, ZETA_INV
from zkchain.blocks.lookup import TABLE_OUT
from zkchain.compiler.circuit import Conv, Expr, Hadamard, Lookup, MatMul, PadZero, Pick, Zero
from zkchain.crypto.field import P, R
from zkchain.crypto.transcript import keccak256
from zkchain.errors import InputError, UnsupportedModelError
from zkchain.prover.keys import VerifyingKey
from zkchain.prover.proof import Proof

log = logging.getLogger(__name__)

TEMPLATE_NAME = "Verifier.sol.tmpl"
EIP170_LIMIT = 24_576  # bytes of deployed code (EIP-170)
CHALLENGES = ("gamma", "beta", "rho", "alpha", "epsilon", "zeta", "nu", "u")
_SYM = {RHO: "rho", ZETA: "zeta", ZETA_INV: "zi", RHO_ZETA_INV: "rzi"}
_UNROLL = 4  # items per iteration of those loops
_LOOP_MIN = 16  # longer runs of identical per-item code become loops over contiguous calldata / memory
_MEM_BASE = 0x80  # 0x00-0x3f scratch, 0x40 free-memory pointer, 0x60 zero slot: never written


def _psym(a: int, b: int) -> str:
    """Name of the evaluation point ``ρ^a·ζ^(−b)`` (``a, b ≥ 0``); the four opening points keep their names."""
    if a < 0 or b < 0 or (a, b) == (0, 0):
        raise AssertionError(f"point rho^{a} zeta^-{b}")  # pragma: no cover - generator bug
    return {(1, 0): "rho", (0, 1): "zi", (1, 1): "rzi"}.get((a, b), f"q{a}_{b}")


def _pab(sym: str) -> tuple[int, int]:
    """Inverse of :func:`_psym` (not for ``zeta``)."""
    fixed = {"rho": (1, 0), "zi": (0, 1), "rzi": (1, 1)}
    if sym in fixed:
        return fixed[sym]
    a, b = sym[1:].split("_")
    return int(a), int(b)


def _lit(v: int) -> str:
    v = int(v)
    return str(v) if v < 1024 else hex(v)


def _label_word(label: str) -> str:
    b = label.encode("ascii")
    if len(b) > 32:
        raise ValueError(f"transcript label longer than 32 bytes: {label!r}")
    return hex(int.from_bytes(b.ljust(32, b"\0"), "big"))


class _Gen:
    """Emits the Yul body for one verifying key.

    Generation runs twice: the first pass only records which powers ``x^e`` and which inverses ``1/(x − 1)``
    the equations use; the second pass emits the power tables and the batch inversion for exactly those."""

    def __init__(self, vk: VerifyingKey, plan: dict | None = None):
        self.vk = vk
        self.c = vk.circuit
        self.plan = plan
        self.pow_need: dict[str, set[int]] = defaultdict(set)
        self.inv_need: set[str] = set()
        self.pub_need: dict[str, set[str]] = defaultdict(set)
        self.addr: dict[tuple, int] = {}
        self.next = _MEM_BASE
        self.lines: list[str] = []
        self.memo: dict[tuple, str] = {}
        self._layout()
        if plan is not None:  # x^(2^i) lives in its squaring slot
            for sym, exps in sorted(plan["pow"].items()):
                for e in sorted(exps):
                    if e >= 2 and e & (e - 1) == 0:
                        self.addr[("pow", sym, e)] = self.alloc(("sq", sym, e.bit_length() - 1))

    # -- memory ----------------------------------------------------------------------------------------
    def alloc(self, key: tuple, words: int = 1) -> int:
        if key not in self.addr:
            self.addr[key] = self.next
            self.next += 32 * words
        return self.addr[key]

    def ld(self, key: tuple) -> str:
        return f"mload({hex(self.alloc(key))})"

    def st(self, key: tuple, expr: str, comment: str = "") -> str:
        self.emit(f"mstore({hex(self.alloc(key))}, {expr})" + (f"  // {comment}" if comment else ""))
        return self.ld(key)

    def emit(self, line: str) -> None:
        self.lines.append(line)

    # -- calldata layout (zkchain/prover/proof.py) -----------------------------------------------------------
    def _layout(self) -> None:
        c = self.c
        self.sched = protocol.opening_schedule(c)
        self.names = protocol.commitment_names(c)
        self.n1 = len(protocol.round1_names(c))
        self.n2 = len(protocol.round2_names(c))
        self.n3 = len(protocol.ROUND3_NAMES)
        self.comm_off = {n: 64 * i for i, n in enumerate(self.names)}
        self.eval_base = 64 * len(self.names)
        self.eval_off: dict[tuple[str, str], int] = {}
        pos = self.eval_base
        for p in POINTS:
            for n in self.sched[p]:
                self.eval_off[(p, n)] = pos
                pos += 32
        self.n_evals = (pos - self.eval_base) // 32
        self.open_base = pos
        self.proof_len = pos + 64 * len(POINTS)
        self.pub_names = protocol.public_names(c)
        self.pub_off: dict[str, int] = {}
        off = 0
        for n in self.pub_names:
            self.pub_off[n] = off
            off += 32 * c.vectors[n].length
        self.n_pub = off // 32
        known = (MatMul, Lookup, Zero, Conv, PadZero, Hadamard, Pick)
        unknown = sorted({type(k).__name__ for k in c.constraints if not isinstance(k, known)})
        if unknown:  # never emit a contract that silently skips a block the Python verifier checks
            raise UnsupportedModelError(f"the Solidity verifier generator has no code for {', '.join(unknown)} "
                                        "constraints yet; this verifying key cannot be exported to the EVM")
        reserved = {protocol.M, protocol.H, protocol.G, protocol.A, protocol.B, protocol.W} & set(c.vectors)
        if reserved:
            raise InputError(f"circuit vectors {sorted(reserved)} collide with the protocol's own polynomials "
                             "(m, h, g, a, b, w)")
        missing = [n for p in POINTS for n in self.sched[p]
                   if n not in self.comm_off and n not in self.vk.fixed_commitments]
        if missing:
            raise InputError(f"verifying key has no commitment for {sorted(set(missing))}")

    # -- field expressions ---------------------------------------------------------------------------------
    @staticmethod
    def mul(a: str, b: str) -> str:
        if a == "0" or b == "0":
            return "0"
        if a == "1":
            return b
        if b == "1":
            return a
        return f"mulmod({a}, {b}, r)"

    @staticmethod
    def add(a: str, b: str) -> str:
        if a == "0":
            return b
        if b == "0":
            return a
        return f"addmod({a}, {b}, r)"

    @staticmethod
    def sub(a: str, b: str) -> str:
        if b == "0":
            return a
        return f"addmod({a}, sub(r, {b}), r)"

    def sum_into(self, key: tuple, terms: list[str], comment: str = "") -> str:
        """Store ``Σ terms`` (a block with one local accumulator: keeps the Yul stack shallow)."""
        terms = [t for t in terms if t != "0"]
        if not terms:
            return "0"
        if len(terms) == 1:
            if re.fullmatch(r"(calldataload\(add\(pf, \w+\)\)|mload\(\w+\))", terms[0]):
                return terms[0]  # already a single load: no copy
            return self.st(key, terms[0], comment)
        self.emit("{" + (f"  // {comment}" if comment else ""))
        self.emit(f"    let acc := {terms[0]}")
        for t in terms[1:]:
            if t.startswith("-"):
                self.emit(f"    acc := addmod(acc, sub(r, {t[1:]}), r)")
            else:
                self.emit(f"    acc := addmod(acc, {t}, r)")
        self.emit(f"    mstore({hex(self.alloc(key))}, acc)")
        self.emit("}")
        return self.ld(key)

    def prod_into(self, key: tuple, factors: list[str], comment: str = "") -> str:
        """Store ``Π factors`` (one local accumulator, like :meth:`sum_into`)."""
        factors = [f for f in factors if f != "1"]
        if "0" in factors:
            return "0"
        if not factors:
            return "1"
        if len(factors) <= 2:
            return self.st(key, self.mul(*factors) if len(factors) == 2 else factors[0], comment)
        self.emit("{" + (f"  // {comment}" if comment else ""))
        self.emit(f"    let t := {factors[0]}")
        for f in factors[1:]:
            self.emit(f"    t := mulmod(t, {f}, r)")
        self.emit(f"    mstore({hex(self.alloc(key))}, t)")
        self.emit("}")
        return self.ld(key)

    def xval(self, sym: str) -> str:
        if sym in ("rho", "zeta"):
            return self.ld(("ch", sym))
        return self.ld(("x", sym))

    def pw(self, sym: str, e: int) -> str:
        """``x_sym^e`` for a constant ``e`` (table of squarings, see :meth:`emit_powers`)."""
        e = int(e)
        if e == 0:
            return "1"
        if e == 1:
            return self.xval(sym)
        self.pow_need[sym].add(e)
        return self.ld(("pow", sym, e))

    def inv_xm1(self, sym: str) -> str:
        self.inv_need.add(sym)
        return self.ld(("invxm1", sym))

    def ones(self, n: int, sym: str) -> str:
        """``ones_n(x) = Σ_{i<n} x^i`` (``n`` at ``x = 1``), as ``zkchain.blocks.common.ones_eval``."""
        key = ("ones", sym, n)
        if key not in self.memo:
            xn, iv, flag = self.pw(sym, n), self.inv_xm1(sym), self.ld(("isone", sym))
            self.memo[key] = self.st(key, f"zkOnes({xn}, {iv}, {flag}, {_lit(n % R)})", f"ones_{n}({sym})")
        return self.memo[key]

    def iota(self, n: int, sym: str) -> str:
        """``Σ_{i<n} i·x^i`` (``n(n−1)/2`` at ``x = 1``), as ``zkchain.blocks.common.iota_eval``."""
        key = ("iota", sym, n)
        if key not in self.memo:
            x, xn, iv, flag = self.xval(sym), self.pw(sym, n), self.inv_xm1(sym), self.ld(("isone", sym))
            half = n * (n - 1) // 2 % R
            self.memo[key] = self.st(key, f"zkIota({x}, {xn}, {iv}, {flag}, {_lit(n % R)}, {_lit(half)})",
                                     f"iota_{n}({sym})")
        return self.memo[key]

    def vec(self, point: str):
        """``name -> expression`` of a vector's evaluation at ``point`` (opened, or a public vector by Horner)."""
        sym = _SYM[point]

        def f(name: str) -> str:
            if name in self.pub_off:
                key = ("pub", name, sym)
                if key not in self.memo:
                    ln = self.c.vectors[name].length
                    base = self.pub_off[name]
                    self.pub_need[name].add(sym)
                    if ln > 32:  # one loop over the calldata for every point this vector is needed at
                        syms = sorted(self.plan["pub"][name]) if self.plan else [sym]
                        keys = [("pub", name, s) for s in syms]
                        self.emit(f"{{  // public {name} at {', '.join(syms)} (Horner, one pass)")
                        for i in range(len(syms)):
                            self.emit(f"    let a{i} := 0")
                        self.emit(f"    for {{ let i := add(pi, {_lit(base + 32 * ln)}) "
                                  f"let e := add(pi, {_lit(base)}) }} gt(i, e) {{}} {{")
                        self.emit("        i := sub(i, 0x20)")
                        self.emit("        let v := calldataload(i)")
                        for i, s in enumerate(syms):
                            self.emit(f"        a{i} := addmod(mulmod(a{i}, {self.xval(s)}, r), v, r)")
                        self.emit("    }")
                        for i, k in enumerate(keys):
                            self.emit(f"    mstore({hex(self.alloc(k))}, a{i})")
                        self.emit("}")
                        for k in keys:
                            self.memo[k] = self.ld(k)
                        if key not in self.memo:  # pragma: no cover - plan mismatch
                            raise AssertionError(key)
                    else:  # straight-line Horner
                        self.emit(f"{{  // public {name}({sym})")
                        self.emit(f"    let x := {self.xval(sym)}")
                        self.emit(f"    let acc := calldataload(add(pi, {_lit(base + 32 * (ln - 1))}))")
                        for i in range(ln - 2, -1, -1):
                            word = f"calldataload(add(pi, {_lit(base + 32 * i)}))"
                            self.emit(f"    acc := addmod(mulmod(acc, x, r), {word}, r)")
                        self.emit(f"    mstore({hex(self.alloc(key))}, acc)")
                        self.emit("}")
                        self.memo[key] = self.ld(key)
                return self.memo[key]
            off = self.eval_off.get((point, name))
            if off is None:
                raise InputError(f"{name} is not opened at {point} in this verifying key's schedule")
            return f"calldataload(add(pf, {_lit(off)}))"

        return f

    def expr(self, e: Expr, point: str, tag: str) -> str:
        """``expr_eval(e, x, vec)`` into a slot."""
        sym = _SYM[point]
        vec = self.vec(point)
        terms = []
        if e.const % R:
            terms.append(self.mul(_lit(e.const % R), self.ones(e.length, sym)))
        for t in e.terms:
            coef = t.coef % R
            if coef == 0:
                continue
            v = self.mul(self.pw(sym, t.shift), vec(t.vector))
            if coef == R - 1:
                terms.append("-" + v)
            else:
                terms.append(self.mul(_lit(coef), v))
        if terms and terms[0].startswith("-"):
            terms[0] = f"sub(r, {terms[0][1:]})"
            terms[0] = f"mod({terms[0]}, r)"
        return self.sum_into(("expr", tag), terms, f"{tag} at {sym}")

    def _pad_mask(self, gr, b: int, tag: str) -> str:
        """``conv.pad_mask_eval(grid, ρ, y)`` at ``y = 1/ζ`` (``b = 1``) or ``y = 1`` (``b = 0``): ``t = ρ·ζ^−b``."""
        def t(k: int) -> str:
            return _psym(k, k * b)

        inner = self.prod_into(("pmask", tag), [self.pw(t(1), gr.top * gr.Wp + gr.left),
                                                self.ones(gr.C, t(gr.Hp * gr.Wp)), self.ones(gr.H, t(gr.Wp)),
                                                self.ones(gr.W, t(1))])
        return self.sub(self.ones(gr.size, t(1)), inner)

    def _loop(self, start: str, count: int, stride: int, body, indent: str = "    ", pre: str = "") -> None:
        """Run ``body(ptr)`` (a Yul statement) for ``count`` items at ``start + k·stride`` (``stride < 0``: downwards
        from the item at ``start``) in a loop unrolled ``_UNROLL`` times (legacy codegen pays ~45 gas per loop
        iteration); the ``count mod _UNROLL`` last items are straight-line after the loop."""
        n_iter, rest = divmod(count, _UNROLL)
        self.emit(f"{indent}{{ {pre}let i := {start}")
        if n_iter:
            step = stride * _UNROLL
            bump = f"i := add(i, {_lit(step)})" if step > 0 else f"i := sub(i, {_lit(-step)})"
            stmts = " ".join(body(self._off("i", k * stride)) for k in range(_UNROLL))
            self.emit(f"{indent}    for {{ let e := {self._off('i', n_iter * step)} }} "
                      f"{'lt' if step > 0 else 'gt'}(i, e) {{ {bump} }} {{ {stmts} }}")
        for k in range(rest):
            self.emit(f"{indent}    {body(self._off('i', k * stride))}")

    @staticmethod
    def _off(base: str, d: int) -> str:
        return base if d == 0 else (f"add({base}, {_lit(d)})" if d > 0 else f"sub({base}, {_lit(-d)})")

    # -- sections ------------------------------------------------------------------------------------------
    def checks(self) -> None:
        """Straight-line range checks OR-ed into one flag (legacy-codegen loops cost ~100 gas per item,
        these ~25 per Fr element and ~120 per G1 point); long public vectors use a loop to bound code size."""
        c = self.c
        self.emit("// 1. shapes and ranges (docs/protocol.md sections 1, 4, 6)")
        self.emit(f"if iszero(eq(plen, {_lit(self.proof_len)})) {{ leave }}")
        self.emit(f"if iszero(eq(npub, {_lit(self.n_pub)})) {{ leave }}")
        self.emit("{")
        self.emit("    let bad := 0")
        self.emit("    // evaluations < r")
        if self.n_evals > _LOOP_MIN:  # one loop over the contiguous evaluations (code size)
            self._loop(f"add(pf, {_lit(self.eval_base)})", self.n_evals, 32,
                       lambda a: f"bad := or(bad, iszero(lt(calldataload({a}), r)))")
            self.emit("    }")
        else:
            for i in range(self.n_evals):
                self.emit(f"    bad := or(bad, iszero(lt(calldataload(add(pf, {_lit(self.eval_base + 32 * i)})), r)))")
        for n in self.pub_names:
            v = c.vectors[n]
            b = v.bound
            bounded = 0 < b < (R - 1) // 2
            # |signed v| <= b  <=>  v <= b or v >= r - b  <=>  (v + b) mod r <= 2b   (for v < r, b < r/2)
            chk = "iszero(lt(v, r))" + (f", gt(addmod(v, {_lit(b)}, r), {_lit(2 * b)})" if bounded else "")
            chk = f"or({chk})" if bounded else chk
            self.emit(f"    // public {n}: {v.length} values < r" + (f", within +-{b}" if bounded else ""))
            if v.length <= 32:
                for i in range(v.length):
                    word = f"calldataload(add(pi, {_lit(self.pub_off[n] + 32 * i)}))"
                    self.emit(f"    {{ let v := {word} bad := or(bad, {chk}) }}")
            else:
                self.emit(f"    for {{ let i := add(pi, {_lit(self.pub_off[n])}) "
                          f"let e := add(i, {_lit(32 * v.length)}) }} "
                          f"lt(i, e) {{ i := add(i, 0x20) }} {{ let v := calldataload(i) bad := or(bad, {chk}) }}")
        self.emit("    // commitments and opening proofs: coordinates < p, on y^2 = x^3 + 3 or the identity (0, 0)")
        offs = [64 * i for i in range(len(self.names))] + [self.open_base + 64 * k for k in range(len(POINTS))]
        if len(self.names) > _LOOP_MIN // 2:  # the commitments are contiguous from offset 0: one loop
            self._loop("pf", len(self.names), 64,
                       lambda a: f"bad := or(bad, zkBadG1(calldataload({a}), calldataload({self._off(a, 32) if a != 'i' else 'add(i, 32)'})))")
            self.emit("    }")
            offs = offs[len(self.names):]
        for off in offs:
            x, y = f"calldataload(add(pf, {_lit(off)}))", f"calldataload(add(pf, {_lit(off + 32)}))"
            self.emit(f"    bad := or(bad, zkBadG1({x}, {y}))")
        self.emit("    if bad { leave }")
        self.emit("}")

    def transcript(self) -> None:
        self.emit("// 2. Fiat-Shamir transcript (docs/protocol.md sections 2 and 4)")
        sizes = [32 + 32 * self.n_pub + 64 * self.n1, 64 * self.n2, 64 * self.n3, 32 * self.n_evals, 64 * len(POINTS)]
        T = self.alloc(("transcript",), 2 + (max(sizes) + 31) // 32)
        buf = T + 32
        self.emit(f"mstore({hex(T)}, {hex(int.from_bytes(keccak256(protocol.PROOF_DOMAIN), 'big'))})  "
                  f"// keccak256(\"{protocol.PROOF_DOMAIN.decode()}\")")
        self.emit(f"mstore({hex(buf)}, {hex(int.from_bytes(self.vk.digest, 'big'))})  // VK digest (absorb_bytes)")
        pos = 32
        if self.n_pub:
            self.emit(f"calldatacopy({hex(buf + pos)}, pi, {_lit(32 * self.n_pub)})  // public values (absorb_fr)")
            pos += 32 * self.n_pub
        if self.n1:
            self.emit(f"calldatacopy({hex(buf + pos)}, pf, {_lit(64 * self.n1)})  // round 1 commitments")
            pos += 64 * self.n1
        self._challenge(T, pos, "gamma")
        self._challenge(T, 0, "beta")
        if self.n2:
            self.emit(f"calldatacopy({hex(buf)}, add(pf, {_lit(64 * self.n1)}), {_lit(64 * self.n2)})"
                      "  // round 2 commitments")
        self._challenge(T, 64 * self.n2, "rho")
        self._challenge(T, 0, "alpha")
        self._challenge(T, 0, "epsilon")
        self.emit(f"calldatacopy({hex(buf)}, add(pf, {_lit(64 * (self.n1 + self.n2))}), {_lit(64 * self.n3)})  "
                  "// round 3 commitments")
        self._challenge(T, 64 * self.n3, "zeta")
        self.emit(f"if iszero({self.ld(('ch', 'zeta'))}) {{ leave }}  // zeta = 0 is rejected")
        if self.n_evals:
            self.emit(f"calldatacopy({hex(buf)}, add(pf, {_lit(self.eval_base)}), {_lit(32 * self.n_evals)})"
                      "  // evaluations")
        self._challenge(T, 32 * self.n_evals, "nu")
        self.emit(f"calldatacopy({hex(buf)}, add(pf, {_lit(self.open_base)}), 0x100)  // opening proofs")
        self._challenge(T, 64 * len(POINTS), protocol.ACCUMULATION_LABEL)
        assert (protocol.ROUND1_LABELS + protocol.ROUND2_LABELS + protocol.ROUND3_LABELS + protocol.ROUND4_LABELS
                + (protocol.ACCUMULATION_LABEL,)) == CHALLENGES

    def _challenge(self, T: int, buflen: int, label: str) -> None:
        self.emit(f"mstore({hex(T + 32 + buflen)}, {_label_word(label)})  // label \"{label}\"")
        self.emit("{")
        self.emit(f"    let h := keccak256({hex(T)}, {_lit(buflen + 64)})")
        self.emit(f"    mstore({hex(T)}, h)")
        self.emit(f"    mstore({hex(self.alloc(('ch', label)))}, mod(h, r))")
        self.emit("}")

    def emit_powers(self, syms: list[str]) -> None:
        """Squaring tables: ``x^(2^i)`` kept for the bits used, then one product per needed exponent."""
        if self.plan is None:
            return
        for sym in syms:
            exps = sorted(self.plan["pow"].get(sym, ()))
            if not exps:
                continue
            recipes = _power_recipes(exps)
            bits_used = {f.bit_length() - 1 for fs in recipes.values() for f in fs if f & (f - 1) == 0}
            bits_used |= {e.bit_length() - 1 for e in exps if e & (e - 1) == 0}
            top = max(exps).bit_length() - 1
            self.emit(f"{{  // powers of {sym}: {', '.join(map(str, exps))}")
            self.emit(f"    let t := {self.xval(sym)}")
            for i in range(1, top + 1):
                self.emit("    t := mulmod(t, t, r)")
                if i in bits_used:
                    self.emit(f"    mstore({hex(self.alloc(('sq', sym, i)))}, t)")
            self.emit("}")
            for e in exps:
                if e not in recipes:
                    continue  # aliased to the squaring slot in __init__
                srcs = [self.xval(sym) if f == 1 else self.ld(("sq", sym, f.bit_length() - 1)) if f & (f - 1) == 0
                        else self.ld(("pow", sym, f)) for f in recipes[e]]
                if len(srcs) == 2:
                    self.emit(f"mstore({hex(self.alloc(('pow', sym, e)))}, mulmod({srcs[0]}, {srcs[1]}, r))  "
                              f"// {sym}^{e} = {sym}^{recipes[e][0]} * {sym}^{recipes[e][1]}")
                    continue
                self.emit("{")
                self.emit(f"    let t := {srcs[0]}")
                for src in srcs[1:]:
                    self.emit(f"    t := mulmod(t, {src}, r)")
                self.emit(f"    mstore({hex(self.alloc(('pow', sym, e)))}, t)  // {sym}^{e}")
                self.emit("}")

    def inversion(self) -> None:
        """One modexp (EIP-198) for ζ and every ``x − 1`` the closed forms need. Every point is ``x = ρ^a·ζ^−b``
        (ρ, 1/ζ, ρ/ζ, each matmul's ρ·ζ^−(k+1), the conv selection points) or ζ itself, so
        ``1/(x − 1) = ζ^b / (ρ^a − ζ^b)`` and all denominators are known before ``1/ζ`` is.
        A zero denominator (``x = 1``) is replaced by 1 and flagged; the closed forms add their limit."""
        self.emit("// 3. one batched field inversion (Montgomery's trick + modexp precompile 0x05, EIP-198)")
        zeta = self.ld(("ch", "zeta"))
        syms = sorted(self.plan["inv"]) if self.plan else sorted(self.inv_need)
        items = [("1/zeta", zeta)]
        for sym in syms:
            if sym == "zeta":  # x = ζ: x − 1 directly
                den = self.sub(zeta, "1")
            else:  # x = ρ^a ζ^−b: x − 1 = (ρ^a − ζ^b) / ζ^b
                a, b = _pab(sym)
                den = self.sub(self.pw("rho", a), self.pw("zeta", b))
            self.emit(f"mstore({hex(self.alloc(('den', sym)))}, {den})")
            d = self.ld(("den", sym))
            self.st(("isone", sym), f"iszero({d})", f"{sym} == 1")
            self.emit(f"mstore({hex(self.alloc(('den', sym)))}, add({d}, {self.ld(('isone', sym))}))")
            items.append((sym, d))
        # prefix products
        pre = []
        for i, (sym, d) in enumerate(items):
            if i == 0:
                pre.append(d)
            else:
                pre.append(self.st(("pre", i), self.mul(pre[-1], d)))
        M = self.alloc(("modexp",), 6)
        self.emit(f"mstore({hex(M)}, 0x20) mstore({hex(M + 32)}, 0x20) mstore({hex(M + 64)}, 0x20)")
        self.emit(f"mstore({hex(M + 96)}, {pre[-1]}) mstore({hex(M + 128)}, {hex(R - 2)}) mstore({hex(M + 160)}, r)")
        self.emit(f"if iszero(staticcall(gas(), 0x05, {hex(M)}, 0xc0, {hex(M)}, 0x20)) {{ leave }}")
        self.emit("{")
        self.emit(f"    let v := mload({hex(M)})  // 1 / (product of all denominators)")
        for i in range(len(items) - 1, 0, -1):
            sym, d = items[i]
            self.emit(f"    mstore({hex(self.alloc(('inv', sym)))}, mulmod(v, {pre[i - 1]}, r))")
            self.emit(f"    v := mulmod(v, {d}, r)")
        self.emit(f"    mstore({hex(self.alloc(('x', 'zi')))}, v)  // 1/zeta")
        self.emit("}")
        # points and 1/(x - 1)
        self.emit_powers(["zi"])
        # every other point ρ^a·ζ^−b the equations use (ρ/ζ, matmul and conv points)
        known = set(syms) | set(self.plan["pow"] if self.plan else ()) | {"rzi"}
        others = sorted(x for x in known if x not in ("rho", "zeta", "zi"))
        for sym in others:
            a, b = _pab(sym)
            self.st(("x", sym), self.mul(self.pw("rho", a), self.pw("zi", b)), f"rho^{a} * zeta^-{b}")
        self.emit_powers(others)
        for sym in syms:
            mult = "1" if sym == "zeta" else self.pw("zeta", _pab(sym)[1])
            self.st(("invxm1", sym), self.mul(self.ld(("inv", sym)), mult), f"1/({sym} - 1)")

    def equations(self) -> None:
        c = self.c
        self.emit("// 4a. linear relations at rho (docs/protocol.md section 5.5)")
        for i, con in enumerate(c.constraints):
            if isinstance(con, Zero):
                v = self.expr(con.expr, RHO, f"zero{i}")
                if v != "0":
                    self.emit(f"if {v} {{ leave }}  // {con.name}")
        self.emit("// 4b. degree reversal (docs/protocol.md section 5.4)")
        lens = protocol.lengths(c)
        deg = [(n, lens[n]) for n in protocol.degree_checked(c)]
        n_star = max(n for _, n in deg)
        at_zeta = self.vec(ZETA)
        eps = self.ld(("ch", "epsilon"))
        self.emit("{")
        self.emit("    let w := 1")
        self.emit("    let acc := 0")
        for i, (name, n) in enumerate(deg):
            self.emit(f"    acc := addmod(acc, mulmod(w, {self.mul(self.pw('zeta', n_star - n), at_zeta(name))}, r), r)"
                      f"  // {name}, N = {n}")
            if i + 1 < len(deg):
                self.emit(f"    w := mulmod(w, {eps}, r)")
        w_zi = self.vec(ZETA_INV)(protocol.W)
        self.emit(f"    if iszero(eq(acc, {self.mul(self.pw('zeta', n_star - 1), w_zi)})) {{ leave }}")
        self.emit("}")

        self.emit("// 4c. matmul, conv, pad, hadamard, pick and lookup claims: one Laurent inner-product check (section 5)")
        zi = self.ld(("x", "zi"))
        terms: list[tuple[str, str]] = []
        for i, con in enumerate(c.constraints):
            if isinstance(con, MatMul):
                xz = self.expr(con.x, ZETA_INV, f"mm{i}_x")
                u = self.mul(self.add(xz, self.pw("zi", con.k)), self.ones(con.n, _psym(1, con.k + 1)))
                lhs = self.st(("mmlhs", i), self.mul(at_zeta(con.weight), u), f"matmul {con.name}")
                out = self.expr(con.out, RHO, f"mm{i}_out")
                terms.append((lhs, out))
            elif isinstance(con, Conv):  # zkchain/blocks/conv.py verifier_term, selection_eval
                inp, oo = con.inp, con.outp
                g = inp.Hp * inp.Wp
                xz = self.expr(con.x, ZETA, f"cv{i}_x")
                xp = self.add(xz, self.mul(self.pw("zeta", inp.C * g), self.ones(g, "zeta")))
                base = self.mul(self.pw("rho", oo.top * oo.Wp + oo.left),
                                self.pw("zi", inp.C * g + (con.kh - 1) * inp.Wp + con.kw - 1))
                f_o = self.ones(con.OC, _psym(oo.Hp * oo.Wp, conv.block_length(con)))
                f_i = self.ones(oo.H, _psym(oo.Wp, con.sh * inp.Wp))
                f_j = self.ones(oo.W, _psym(1, con.sw))
                lhs = self.prod_into(("cvlhs", i), [xp, at_zeta(con.weight), base, f_o, f_i, f_j],
                                     f"conv {con.name}")
                terms.append((lhs, self.expr(con.out, RHO, f"cv{i}_out")))
            elif isinstance(con, Hadamard):  # zkchain/blocks/hadamard.py: a(ζ)·b(ρ/ζ) vs out(ρ)
                az = self.expr(con.a, ZETA, f"hd{i}_a")
                brz = self.expr(con.b, RHO_ZETA_INV, f"hd{i}_b")
                lhs = self.st(("hdlhs", i), self.mul(az, brz), f"hadamard {con.name}")
                terms.append((lhs, self.expr(con.out, RHO, f"hd{i}_out")))
            elif isinstance(con, Pick):  # zkchain/blocks/pick.py: x(ζ)·G(1/ζ) vs out(ρ)
                gi, go = con.inp, con.outp
                xz = self.expr(con.x, ZETA, f"pk{i}_x")
                base = self.mul(self.pw("rho", go.top * go.Wp + go.left), self.pw("zi", con.u * gi.Wp + con.v))
                f_c = self.ones(go.C, _psym(go.Hp * go.Wp, gi.Hp * gi.Wp))
                f_i = self.ones(go.H, _psym(go.Wp, con.sh * gi.Wp))
                f_j = self.ones(go.W, _psym(1, con.sw))
                lhs = self.prod_into(("pklhs", i), [xz, base, f_c, f_i, f_j], f"pick {con.name}")
                terms.append((lhs, self.expr(con.out, RHO, f"pk{i}_out")))
            elif isinstance(con, PadZero):  # x(ζ)·mask_ρ(1/ζ) vs value·mask_ρ(1), conv.pad_mask_eval
                xz = self.expr(con.x, ZETA, f"pz{i}_x")
                lhs = self.st(("pzterm", i), self.mul(xz, self._pad_mask(con.grid, 1, f"pzin{i}")), f"pad {con.name}")
                value = "0"
                if con.value % R:
                    value = self.st(("pzval", i), self.mul(_lit(con.value % R), self._pad_mask(con.grid, 0, f"pzv{i}")),
                                    f"pad value {con.name}")
                terms.append((lhs, value))
        if protocol.has_lookups(c):
            nf, nt = c.query_length(), c.table_length()
            gamma, beta = self.ld(("ch", "gamma")), self.ld(("ch", "beta"))
            g2 = self.st(("gamma2",), self.mul(gamma, gamma))
            # F(rho/zeta): the concatenated query vector
            vrz = RHO_ZETA_INV
            parts = []
            for j, (lk, off) in enumerate(c.lookup_layout()):
                tag = c.tables[lk.table].tag
                items = []
                if tag % R:
                    items.append(self.mul(_lit(tag % R), self.ones(lk.inp.length, "rzi")))
                items.append(self.mul(gamma, self.expr(lk.inp, vrz, f"lk{j}_in")))
                if lk.out is not None:
                    items.append(self.mul(g2, self.expr(lk.out, vrz, f"lk{j}_out")))
                part = self.sum_into(("lkpart", j), items, f"lookup {lk.name}")
                parts.append(self.mul(self.pw("rzi", off), part))
            f_x = self.sum_into(("F",), parts, "F(rho/zeta)")
            # T(rho/zeta): structured tag and input columns, committed output column
            tparts = []
            for j, (t, off) in enumerate(c.table_layout()):
                o = self.ones(t.size, "rzi")
                inner = self.sum_into(("tin", j), [self.mul(_lit(t.lo % R), o), self.iota(t.size, "rzi")])
                part = self.sum_into(("tpart", j), [self.mul(_lit(t.tag % R), o), self.mul(gamma, inner)],
                                     f"table {t.name}")
                tparts.append(self.mul(self.pw("rzi", off), part))
            if (RHO_ZETA_INV, TABLE_OUT) in self.eval_off:
                tparts.append(self.mul(g2, self.vec(vrz)(TABLE_OUT)))
            t_x = self.sum_into(("T",), tparts, "T(rho/zeta)")
            h_z, g_z = at_zeta(protocol.H), at_zeta(protocol.G)
            la = self.st(("lka",), self.mul(h_z, self.sub(self.mul(beta, self.ones(nf, "rzi")), f_x)), "logUp (a)")
            terms.append((la, self.ones(nf, "rho")))
            lb = self.st(("lkb",), self.mul(g_z, self.sub(self.mul(beta, self.ones(nt, "rzi")), t_x)), "logUp (b)")
            terms.append((lb, self.vec(RHO)(protocol.M)))
            lc = self.st(("lkc",), self.sub(self.mul(h_z, self.ones(nf, "zi")), self.mul(g_z, self.ones(nt, "zi"))),
                         "logUp (c)")
            terms.append((lc, "0"))
        alpha = self.ld(("ch", "alpha"))
        zeta = self.ld(("ch", "zeta"))
        self.emit("{")
        self.emit("    let w := 1")
        self.emit("    let acc := 0")
        for i, (lhs, v) in enumerate(terms):
            self.emit(f"    acc := addmod(acc, mulmod(w, {self.sub(lhs, v)}, r), r)")
            if i + 1 < len(terms):
                self.emit(f"    w := mulmod(w, {alpha}, r)")
        rhs = self.add(self.mul(zeta, at_zeta(protocol.A)), self.mul(zi, self.vec(ZETA_INV)(protocol.B)))
        self.emit(f"    if iszero(eq(acc, {rhs})) {{ leave }}")
        self.emit("}")

    def kzg(self) -> None:
        vk = self.vk
        self.emit("// 5. KZG: four batched claims folded with u^k, one ecMul per commitment, one pairing (section 3)")
        u = self.ld(("ch", "u"))
        nu = self.ld(("ch", "nu"))
        upow = ["1", u, self.st(("u", 2), self.mul(u, u)), None]
        upow[3] = self.st(("u", 3), self.mul(upow[2], u))
        maxlen = max(len(self.sched[p]) for p in POINTS)
        nupow = ["1", nu]
        if maxlen - 2 > _LOOP_MIN // 2:  # nu^2 .. nu^(maxlen-1) in consecutive slots, one loop
            base = self.alloc(("nu", "table"), maxlen - 2)
            for j in range(2, maxlen):
                self.addr[("nu", j)] = base + 32 * (j - 2)
                nupow.append(self.ld(("nu", j)))
            self._loop(hex(base), maxlen - 2, 32, lambda a: f"t := mulmod(t, {nu}, r) mstore({a}, t)", "",
                       f"let t := {nu} ")
            self.emit("}  // nu^j")
        else:
            for j in range(2, maxlen):
                nupow.append(self.st(("nu", j), self.mul(nupow[-1], nu)))
        # sum_k u^k y_k, y_k = sum_j nu^j eval_kj (Horner in nu)
        self.emit("{")
        self.emit("    let ys := 0")
        for k, p in enumerate(POINTS):
            names = self.sched[p]
            if not names:
                continue
            self.emit("    {")
            if len(names) > _LOOP_MIN // 2:  # this point's evaluations are contiguous: Horner in one loop
                first, last = self.eval_off[(p, names[0])], self.eval_off[(p, names[-1])]
                assert last - first == 32 * (len(names) - 1)
                self.emit("        let y := 0")
                self._loop(f"add(pf, {_lit(last)})", len(names), -32,
                           lambda a: f"y := addmod(mulmod(y, {nu}, r), calldataload({a}), r)", "        ")
                self.emit("        }")
            else:
                self.emit(f"        let y := calldataload(add(pf, {_lit(self.eval_off[(p, names[-1])])}))")
                for n in reversed(names[:-1]):
                    word = f"calldataload(add(pf, {_lit(self.eval_off[(p, n)])}))"
                    self.emit(f"        y := addmod(mulmod(y, {nu}, r), {word}, r)")
            self.emit(f"        ys := addmod(ys, {self.mul(upow[k], 'y')}, r)  // {p}")
            self.emit("    }")
        self.emit(f"    mstore({hex(self.alloc(('ysum',)))}, ys)")
        self.emit("}")
        # merged scalar per commitment
        order = [n for n in self.names] + sorted(n for n in vk.fixed_commitments if n not in self.comm_off)
        lterms: list[tuple[str, str, str]] = []  # (point loader, scalar expr, comment)
        scalars = {}
        for n in order:
            parts = []
            for k, p in enumerate(POINTS):
                if n in self.sched[p]:
                    parts.append(self.mul(upow[k], nupow[self.sched[p].index(n)]))
            if parts:
                scalars[n] = parts
        # the proof's commitments are contiguous in calldata: with their merged scalars in a memory table, one
        # loop does their ecMul + ecAdd (code size; ~60 gas per commitment more than straight-line code)
        table = len(self.names) > _LOOP_MIN // 2 and all(n in scalars for n in self.names)
        if table:
            base = self.alloc(("scalar", "table"), len(self.names))
            for j, n in enumerate(self.names):
                self.addr[("scalar", n)] = base + 32 * j
                parts = scalars[n]
                if len(parts) == 1:
                    self.st(("scalar", n), parts[0], f"scalar of {n}")
                else:
                    self.sum_into(("scalar", n), parts, f"scalar of {n}")
        for n in order:
            if n not in scalars or (table and n in self.comm_off):
                continue
            parts = scalars[n]
            s = parts[0] if len(parts) == 1 else self.sum_into(("scalar", n), parts, f"scalar of {n}")
            lterms.append((self._point(n), s, n))
        xs = [self.ld(("ch", "rho")), self.ld(("ch", "zeta")), self.ld(("x", "zi")), self.ld(("x", "rzi"))]
        for k, p in enumerate(POINTS):
            off = self.open_base + 64 * k
            load = f"calldatacopy(ACC_P, add(pf, {_lit(off)}), 0x40)"
            lterms.append((load, self.mul(upow[k], xs[k]), f"opening {p}"))
        lterms.append(("mstore(ACC_P, 1) mstore(add(ACC_P, 0x20), 2)", f"sub(r, {self.ld(('ysum',))})", "-[y]_1"))
        L = self.alloc(("accL",), 5)
        Rr = self.alloc(("accR",), 5)
        self.emit("let good := 1")
        if table:
            pt = hex(L + 64)
            self.emit(f"mstore({hex(L)}, 0) mstore({hex(L + 32)}, 0)  // L = identity, then the proof's commitments")
            self.emit(f"for {{ let i := pf let q := {hex(base)} let e := add(pf, {_lit(64 * len(self.names))}) }} "
                      "lt(i, e) { i := add(i, 0x40) q := add(q, 0x20) } {")
            self.emit(f"    calldatacopy({pt}, i, 0x40) mstore({hex(L + 128)}, mload(q))")
            self.emit(f"    good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {pt}, 0x40))")
            self.emit(f"    good := and(good, staticcall(gas(), 0x06, {hex(L)}, 0x80, {hex(L)}, 0x40))")
            self.emit("}")
        self._msm(L, lterms, first=not table)
        rterms = [(f"calldatacopy(ACC_P, add(pf, {_lit(self.open_base + 64 * k)}), 0x40)", upow[k], f"opening {p}")
                  for k, p in enumerate(POINTS)]
        self._msm(Rr, rterms)
        # pairing e(L, [1]_2) * e(-R, [tau]_2) = 1
        PR = self.alloc(("pairing",), 12)
        g2one = [int.from_bytes(vk.g2_one[i:i + 32], "big") for i in range(0, 128, 32)]
        g2tau = [int.from_bytes(vk.g2_tau[i:i + 32], "big") for i in range(0, 128, 32)]
        self.emit(f"mstore({hex(PR)}, mload({hex(L)})) mstore({hex(PR + 32)}, mload({hex(L + 32)}))")
        for i, w in enumerate(g2one):
            self.emit(f"mstore({hex(PR + 64 + 32 * i)}, {hex(w)})  // [1]_2")
        self.emit(f"mstore({hex(PR + 192)}, mload({hex(Rr)}))")
        self.emit(f"mstore({hex(PR + 224)}, mod(sub({hex(P)}, mload({hex(Rr + 32)})), {hex(P)}))  // -R")
        for i, w in enumerate(g2tau):
            self.emit(f"mstore({hex(PR + 256 + 32 * i)}, {hex(w)})  // [tau]_2")
        self.emit(f"good := and(good, staticcall(gas(), 0x08, {hex(PR)}, 0x180, {hex(PR)}, 0x20))")
        self.emit(f"ok := and(good, eq(mload({hex(PR)}), 1))")

    def _point(self, name: str) -> str:
        if name in self.comm_off:
            return f"calldatacopy(ACC_P, add(pf, {_lit(self.comm_off[name])}), 0x40)"
        b = self.vk.fixed_commitments[name]
        x, y = int.from_bytes(b[:32], "big"), int.from_bytes(b[32:], "big")
        return f"mstore(ACC_P, {_lit(x)}) mstore(add(ACC_P, 0x20), {_lit(y)})"

    def _msm(self, acc: int, terms: list[tuple[str, str, str]], first: bool = True) -> None:
        """acc = Σ s_i·P_i: [acc.x, acc.y, P.x, P.y, s] at acc; ecMul (0x07) into P, ecAdd (0x06) into acc.
        A scalar ``1`` skips the ecMul; the first term writes acc directly (``first=False``: acc already holds
        a partial sum)."""
        pt = hex(acc + 64)
        for i, (load, s, comment) in enumerate(terms):
            self.emit(f"// {comment}")
            if i == 0 and first:
                if s == "1":
                    self.emit(load.replace("ACC_P", hex(acc)))
                else:
                    self.emit(load.replace("ACC_P", pt))
                    self.emit(f"mstore({hex(acc + 128)}, {s})")
                    self.emit(f"good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {hex(acc)}, 0x40))")
                continue
            self.emit(load.replace("ACC_P", pt))
            if s != "1":
                self.emit(f"mstore({hex(acc + 128)}, {s})")
                self.emit(f"good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {pt}, 0x40))")
            self.emit(f"good := and(good, staticcall(gas(), 0x06, {hex(acc)}, 0x80, {hex(acc)}, 0x40))")

    # -- driver ----------------------------------------------------------------------------------------
    def body(self) -> list[str]:
        """The Yul statements of ``zkVerify`` in execution order. The equations and the KZG fold are generated
        first (they decide which powers and inverses exist); the tables and the inversion go before them."""
        self.checks()
        self.transcript()
        head = self.lines
        self.lines = []
        self.equations()
        eq = self.lines
        self.lines = []
        self.kzg()
        kz = self.lines
        self.lines = []
        self.emit("// powers of zeta and rho with constant exponents")
        self.emit_powers(["zeta", "rho"])
        self.inversion()
        self.lines = head + self.lines + eq + kz
        return self.lines


def _power_recipes(exps: list[int]) -> dict[int, list[int]]:
    """For each exponent that is not a power of two, the exponents whose powers multiply to it: two earlier
    results (or an earlier result and a power of two, or ``1``) when the ascending list allows it — one mulmod —
    else its binary digits. Every factor is ``1``, a power of two (a squaring slot) or an earlier exponent."""
    done: set[int] = set()
    out: dict[int, list[int]] = {}
    for e in sorted(exps):
        if e & (e - 1) == 0:
            continue
        pick = None
        for a in sorted(done, reverse=True):
            d = e - a
            if d == 1 or d & (d - 1) == 0 or d in done:
                pick = [a, d]
                break
        out[e] = pick or [1 << i for i in range(e.bit_length()) if e >> i & 1]
        done.add(e)
    return out


def _plan(vk: VerifyingKey) -> dict:
    """First pass: which powers ``x^e`` and inverses ``1/(x − 1)`` the verifier uses."""
    g = _Gen(vk)
    g.body()
    plan = {"pow": {k: set(v) for k, v in g.pow_need.items()}, "inv": set(g.inv_need),
            "pub": {k: set(v) for k, v in g.pub_need.items()}}
    return plan


_HELPERS = f"""\
function zkBadG1(x, y) -> b {{
    // 1 unless (x, y) is a canonical G1 encoding: coordinates < p and y^2 = x^3 + 3, or the identity (0, 0)
    let q := {hex(P)}
    let onCurve := eq(mulmod(y, y, q), addmod(mulmod(mulmod(x, x, q), x, q), 3, q))
    b := iszero(and(and(lt(x, q), lt(y, q)), or(onCurve, iszero(or(x, y)))))
}}
function zkOnes(xn, iv, one, n) -> o {{
    // (x^n - 1) / (x - 1), or n when x = 1 (then x^n - 1 = 0 and one = 1)
    let r := {hex(R)}
    o := addmod(mulmod(addmod(xn, sub(r, 1), r), iv, r), mul(one, n), r)
}}
function zkIota(x, xn, iv, one, n, half) -> o {{
    // sum_(i<n) i x^i = (x - n x^n + (n - 1) x^(n+1)) / (x - 1)^2, or n(n-1)/2 when x = 1
    let r := {hex(R)}
    let num := addmod(x, sub(r, mulmod(n, xn, r)), r)
    num := addmod(num, mulmod(sub(n, 1), mulmod(xn, x, r), r), r)
    o := addmod(mulmod(num, mulmod(iv, iv, r), r), mul(one, half), r)
}}
"""


def _header(vk: VerifyingKey, contract_name: str) -> str:
    c = vk.circuit
    model = vk.meta.get("model") or c.meta.get("model") or c.meta.get("name") or "(unnamed)"
    lines = [
        f"contract:        {contract_name}",
        f"model:           {model}",
        f"vk digest:       0x{vk.digest.hex()}",
        "zero_knowledge:  false (version 1 proofs reveal evaluations of committed vectors; docs/protocol.md s.7)",
        f"srs:             degree {vk.srs_degree}, {vk.srs_description}",
    ]
    if vk.srs_insecure:
        lines.append("WARNING:         INSECURE dev SRS (tau is derivable from a public seed): proofs can be forged;"
                     " never deploy this contract where it protects value")
    lines.append(f"circuit:         {len(c.vectors)} vectors, {len(c.constraints)} constraints, "
                 f"{len(c.tables)} tables, query length {c.query_length()}, table length {c.table_length()}")
    return "\n".join("// " + ln for ln in lines)


def _template() -> str:
    from zkchain.evm.contracts import contracts_dir

    path = Path(contracts_dir()) / "templates" / TEMPLATE_NAME
    try:
        return path.read_text(encoding="utf8")
    except FileNotFoundError:
        raise InputError(f"verifier template not found at {path}") from None


def _validate(vk: VerifyingKey) -> None:
    from zkchain.crypto.backend import get_backend

    be = get_backend("reference")
    try:
        for name, b in vk.fixed_commitments.items():
            be.g1_from_bytes(b)
        be.g2_from_bytes(vk.g2_one)
        be.g2_from_bytes(vk.g2_tau)
    except InputError as exc:
        raise InputError(f"verifying key holds an invalid curve point: {exc}") from None


def generate_verifier(vk: VerifyingKey, contract_name: str = "ZkchainVerifier", *, debug: bool = False) -> str:
    """One self-contained Solidity source (``pragma ^0.8.24``, Apache-2.0) verifying proofs for ``vk``.

    ``debug=True`` adds ``debugState(proof, publicInputs) -> (bool ok, uint256[8] challenges, uint256[4] LR)``
    (challenges in the order :data:`CHALLENGES`; ``LR`` = the accumulator ``L.x, L.y, R.x, R.y``) for tests;
    production contracts leave it out. Raises :class:`~zkchain.errors.InputError` for an invalid contract name
    or a verifying key with an invalid point, a schedule/commitment mismatch or a vector named like a protocol
    polynomial, and :class:`~zkchain.errors.UnsupportedModelError` for a constraint kind without generator code.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", contract_name):
        raise InputError(f"contract name must be a Solidity identifier, got {contract_name!r}")
    _validate(vk)
    plan = _plan(vk)
    g = _Gen(vk, plan)
    body = g.body()
    if {k: v for k, v in g.pow_need.items() if v} != plan["pow"] or g.inv_need != plan["inv"]:
        raise AssertionError("verifier generator: the two passes disagree")  # pragma: no cover
    yul = ["function zkVerify(pf, plen, pi, npub) -> ok {",
           f"    let r := {hex(R)}"]
    yul += ["    " + ln for ln in body]
    yul.append("}")
    yul += _HELPERS.splitlines()
    indent = " " * 12
    debug_src = ""
    if debug:
        ch = [g.addr[("ch", c)] for c in CHALLENGES]
        L, Rr = g.addr[("accL",)], g.addr[("accR",)]
        srcs = ch + [L, L + 32, Rr, Rr + 32]
        stores = "\n".join(f"            mstore(add(m, {hex(32 * (i + 1))}), mload({hex(a)}))"
                           for i, a in enumerate(srcs))
        debug_src = f"""
    /// @notice TEST ONLY (generated with debug=True): the verdict, the transcript challenges
    ///         (gamma, beta, rho, alpha, epsilon, zeta, nu, u) and the accumulator (L.x, L.y, R.x, R.y).
    function debugState(bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (bool, uint256[8] memory, uint256[4] memory)
    {{
        bool ok = _verify(proof, publicInputs);
        assembly {{
            let m := mload(0x40)
            mstore(m, ok)
{stores}
            return(m, {hex(32 * (1 + len(srcs)))})
        }}
    }}
"""
    n_ecmul = _count_ecmul(g)
    src = (_template()
           .replace("{{HEADER}}", _header(vk, contract_name))
           .replace("{{CONTRACT_NAME}}", contract_name)
           .replace("{{VK_DIGEST}}", "0x" + vk.digest.hex())
           .replace("{{INSECURE_DEV_SRS}}", "true" if vk.srs_insecure else "false")
           .replace("{{PROOF_LENGTH}}", str(g.proof_len))
           .replace("{{N_PUBLIC}}", str(g.n_pub))
           .replace("{{GAS_HINT}}", f"{n_ecmul} ecMul + 1 pairing")
           .replace("{{DEBUG}}", debug_src)
           .replace("{{MEM_END}}", hex(g.next))
           .replace("{{YUL}}", "\n".join(indent + ln if ln else "" for ln in yul)))
    return src


def _count_ecmul(g: _Gen) -> int:
    return sum(1 for ln in g.lines if "staticcall(gas(), 0x07" in ln)


def proof_length(vk: VerifyingKey) -> int:
    """Length in bytes of the ``proof`` argument the verifier for ``vk`` expects."""
    return _Gen(vk).proof_len


def compile_verifier(vk: VerifyingKey, contract_name: str = "ZkchainVerifier", *, debug: bool = False):
    """Generate and compile the verifier with solc-js (optimizer on, 200 runs, evm ``cancun``).

    Returns a :class:`zkchain.evm.solc.CompiledContract` (check ``runtime_size_bytes`` against the EIP-170
    limit of 24,576 bytes before deploying to a public chain). Raises
    :class:`zkchain.evm.solc.CompileError` if solc rejects the source (a generator bug) and
    :class:`~zkchain.errors.SetupError` if solc-js is not installed."""
    from zkchain.evm.solc import compile_solidity

    src = generate_verifier(vk, contract_name, debug=debug)
    compiled = compile_solidity({f"{contract_name}.sol": src}, optimize=True, runs=200, evm_version="cancun")[
        contract_name]
    if compiled.runtime_size_bytes > EIP170_LIMIT:
        log.warning("%s: runtime bytecode is %d bytes, above the EIP-170 limit of %d: it cannot be deployed on "
                    "Ethereum mainnet or most L2s (docs/evm-verifier.md, 'Code size')", contract_name,
                    compiled.runtime_size_bytes, EIP170_LIMIT)
    return compiled


def calldata(proof: Proof, vk: VerifyingKey) -> tuple[bytes, list[int]]:
    """The two arguments of ``verifyProof``/``submitProof``: the proof bytes (``Proof.proof_bytes``) and the
    public values as Fr ints (inputs then outputs; negative values as ``r − |v|``)."""
    return proof.proof_bytes(vk.circuit), proof.public_inputs(vk.circuit)
