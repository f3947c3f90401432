"""The EVM loader: runs the one verifier routine (``zkchain.verifier.verify.run``) and emits Yul.

Every loader operation (``zkchain.verifier.loader.Loader``) becomes straight-line Yul over fixed memory slots;
everything the verifying key fixes (lengths, offsets, coefficients, commitments, G2 points, the opening
schedule) is a constant, so the contract interprets nothing at run time. The generator's optimisations live
here, in one place, not in the blocks:

- calldata is read at constant offsets (``zkchain.protocol.schedule``); the transcript hashes calldata regions
  with ``calldatacopy``; long runs of per-item code (range and curve checks, Horner sums over contiguous
  evaluations, ν powers, the proof's commitments in the MSM) are loops, unrolled ``_UNROLL`` times;
- every evaluation point is a monomial ``ρ^a·ζ^(−b)`` (or ζ): powers ``x^e`` with constant ``e`` come from one
  table of squarings per point and addition chains, and every ``1/(x − 1)`` the closed forms need, with ``1/ζ``,
  comes from **one** Montgomery batch inversion and one modexp call (precompile 0x05, EIP-198), written over ζ
  (``1/(x − 1) = ζ^b/(ρ^a − ζ^b)``) so that no denominator needs ``1/ζ``;
- the KZG fold merges the scalars of each commitment (one ecMul per commitment, EIP-196) and ends in one
  two-pair ecPairing call (EIP-197).

Generation runs the routine twice: the first pass (no plan) records which powers, inverses and public
evaluations exist; the second emits the tables for exactly those before the equations that read them.
"""

from __future__ import annotations

import re
from collections import defaultdict

from zkchain.crypto.field import P, R
from zkchain.crypto.transcript import keccak256
from zkchain.errors import InputError
from zkchain.verifier.loader import LoaderValue

_UNROLL = 4  # items per iteration of unrolled loops
_LOOP_MIN = 16  # longer runs of identical per-item code become loops over contiguous calldata / memory
_ONES_HORNER = 8  # ones_n for n up to this by Horner: n − 1 mulmods beat an inverse and a squaring chain
_MEM_BASE = 0x80  # 0x00-0x3f scratch, 0x40 free-memory pointer, 0x60 zero slot: never written
_CHALLENGE_POINTS = ("rho", "zeta", "sigma")  # points that are challenges themselves (kept with the transcript's)
_NAMED_POINTS = {(1, 0, 0): "rho", (0, -1, 0): "zeta", (0, 1, 0): "zi", (1, 1, 0): "rzi", (0, 0, 1): "sigma"}


def lit(v: int) -> str:
    v = int(v)
    return str(v) if v < 1024 else hex(v)


def label_word(label: str) -> str:
    b = label.encode("ascii")
    if len(b) > 32:
        raise ValueError(f"transcript label longer than 32 bytes: {label!r}")
    return hex(int.from_bytes(b.ljust(32, b"\0"), "big"))


def _psym(a: int, b: int, c: int = 0) -> str:
    """The symbol of point ``ρ^a·ζ^(−b)·σ^c`` (``σ``: the row-folding challenge)."""
    if (a, b, c) in _NAMED_POINTS:
        return _NAMED_POINTS[(a, b, c)]
    if a < 0 or b < 0 or c < 0 or (a, b, c) == (0, 0, 0):
        raise AssertionError(f"point rho^{a} zeta^-{b} sigma^{c}")  # pragma: no cover - verifier bug
    return f"q{a}_{b}" + (f"_{c}" if c else "")


def _pab(sym: str) -> tuple[int, int, int]:
    """``(a, b, c)`` of a point symbol (:func:`_psym`)."""
    inv = {v: k for k, v in _NAMED_POINTS.items()}
    if sym in inv:
        return inv[sym]
    parts = [int(v) for v in sym[1:].split("_")]
    return parts[0], parts[1], parts[2] if len(parts) > 2 else 0


class Y(LoaderValue):
    """A field value in the generated code: a Yul expression ``text`` (``kind``: ``const``, ``cd`` calldata word
    at ``off``, ``mem`` slot, ``expr``), ``reduced`` when it is known to be ``< r``."""

    __slots__ = ("g", "text", "kind", "off", "reduced", "value", "sym")

    def __init__(self, g, text: str, kind: str = "expr", off: int | None = None, reduced: bool = True,
                 value: int | None = None, sym: str | None = None):
        self.g, self.text, self.kind, self.off, self.reduced, self.value, self.sym = g, text, kind, off, reduced, value, sym

    @property
    def loader(self):
        return self.g

    def __repr__(self) -> str:
        return f"Y({self.text})"


class G:
    """A G1 point in the generated code: a calldata commitment/opening at ``off``, or a constant ``(x, y)``."""

    __slots__ = ("off", "xy")

    def __init__(self, off: int | None = None, xy: tuple[int, int] | None = None):
        self.off, self.xy = off, xy


class EvmLoader:
    """Loader that emits the Yul body of ``zkVerify(pf, plen, pi, npub) -> ok`` for one verifying key.
    ``plan`` is the first pass's record (:meth:`plan`), or None during that pass."""

    def __init__(self, vk, schedule, plan: dict | None = None):
        self.vk, self.sch, self.c = vk, schedule, vk.circuit
        self._plan = plan
        self.pow_need: dict[str, set[int]] = defaultdict(set)
        self.inv_need: set[str] = set()
        self.val_need: set[str] = set()  # points whose value is used directly (not only through pow/ones)
        self.pub_need: dict[str, set[str]] = defaultdict(set)
        self.addr: dict[tuple, int] = {}
        self.next = _MEM_BASE
        self.head: list[str] = []
        self.body: list[str] = []
        self.lines = self.head
        self.memo: dict[tuple, Y] = {}
        self.n_msm = 0
        self._validate()
        if plan is not None:  # x^(2^i) lives in its squaring slot
            for sym, exps in sorted(plan["pow"].items()):
                for e in sorted(exps):
                    if e >= 2 and e & (e - 1) == 0:
                        self.addr[("pow", sym, e)] = self.alloc(("sq", sym, e.bit_length() - 1))

    def _validate(self) -> None:
        missing = [n for p in self.sch.points for n in self.sch.opened[p]
                   if n not in self.sch.commitments and n not in self.vk.fixed_commitments]
        if missing:
            raise InputError(f"verifying key has no commitment for {sorted(set(missing))}")

    def plan(self) -> dict:
        return {"pow": {k: set(v) for k, v in self.pow_need.items() if v}, "inv": set(self.inv_need),
                "pub": {k: set(v) for k, v in self.pub_need.items()}, "val": set(self.val_need)}

    # -- memory and emission ------------------------------------------------------------------------------
    def alloc(self, key: tuple, words: int = 1) -> int:
        if key not in self.addr:
            self.addr[key] = self.next
            self.next += 32 * words
        return self.addr[key]

    def mem(self, key: tuple) -> Y:
        return Y(self, f"mload({hex(self.alloc(key))})", "mem")

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def store(self, key: tuple, y: Y, comment: str = "") -> Y:
        text = y.text if y.reduced else f"mod({y.text}, r)"
        self.emit(f"mstore({hex(self.alloc(key))}, {text})" + (f"  // {comment}" if comment else ""))
        return self.mem(key)

    def section(self, title: str) -> None:
        self.emit(f"// {title}")

    # -- scalars ------------------------------------------------------------------------------------------
    def const(self, v: int) -> Y:
        v = int(v) % R
        return Y(self, lit(v), "const", value=v)

    def add(self, a: Y, b: Y) -> Y:
        if a.value == 0:
            return b
        if b.value == 0:
            return a
        return Y(self, f"addmod({a.text}, {b.text}, r)")

    def sub(self, a: Y, b: Y) -> Y:
        if b.value == 0:
            return a
        if a.value == 0:
            return Y(self, f"sub(r, {b.text})", reduced=False)  # in (0, r]: reduced where it is kept
        return Y(self, f"addmod({a.text}, sub(r, {b.text}), r)")

    def mul(self, a: Y, b: Y) -> Y:
        if a.value == 0 or b.value == 0:
            return self.const(0)
        if a.value == 1:
            return b
        if b.value == 1:
            return a
        return Y(self, f"mulmod({a.text}, {b.text}, r)")

    def named(self, x: Y, comment: str = "") -> Y:
        if x.kind in ("const", "cd", "mem"):
            return x
        key = ("named", x.text)
        if key not in self.memo:
            self.memo[key] = self.store(key, x, comment)
        return self.memo[key]

    def lincomb(self, terms, comment: str = "") -> Y:
        """``Σ coef·x`` in one block with one accumulator (keeps the Yul stack shallow); coefficient 1 adds,
        r − 1 subtracts, anything else is one mulmod by a constant."""
        parts: list[tuple[bool, str]] = []  # (negated, text)
        for coef, x in terms:
            coef %= R
            x = x if isinstance(x, Y) else self.const(x)
            if coef == 0 or x.value == 0:
                continue
            if coef == 1:
                parts.append((False, x.text))
            elif coef == R - 1:
                parts.append((True, x.text))
            else:
                parts.append((False, self.mul(self.const(coef), x).text))
        if not parts:
            return self.const(0)
        if len(parts) == 1 and not parts[0][0]:
            (_, t), = parts
            if re.fullmatch(r"(calldataload\(add\(pf, \w+\)\)|mload\(\w+\)|\w+)", t):
                return Y(self, t, "mem")
        key = ("lincomb", tuple(parts))
        if key in self.memo:
            return self.memo[key]
        addr = self.alloc(key)
        if len(parts) == 1:
            neg, t = parts[0]
            self.emit(f"mstore({hex(addr)}, {f'mod(sub(r, {t}), r)' if neg else f'mod({t}, r)'})"
                      + (f"  // {comment}" if comment else ""))
        else:
            self.emit("{" + (f"  // {comment}" if comment else ""))
            neg, t = parts[0]
            self.emit(f"    let acc := {f'mod(sub(r, {t}), r)' if neg else t}")
            for neg, t in parts[1:]:
                self.emit(f"    acc := addmod(acc, sub(r, {t}), r)" if neg else f"    acc := addmod(acc, {t}, r)")
            self.emit(f"    mstore({hex(addr)}, acc)")
            self.emit("}")
        self.memo[key] = self.mem(key)
        return self.memo[key]

    def prod(self, factors, comment: str = "") -> Y:
        factors = [f for f in factors if f.value != 1]
        if any(f.value == 0 for f in factors):
            return self.const(0)
        if not factors:
            return self.const(1)
        if len(factors) <= 2:
            return self.named(factors[0] if len(factors) == 1 else self.mul(*factors), comment)
        key = ("prod", tuple(f.text for f in factors))
        if key in self.memo:
            return self.memo[key]
        self.emit("{" + (f"  // {comment}" if comment else ""))
        self.emit(f"    let t := {factors[0].text}")
        for f in factors[1:]:
            self.emit(f"    t := mulmod(t, {f.text}, r)")
        self.emit(f"    mstore({hex(self.alloc(key))}, t)")
        self.emit("}")
        self.memo[key] = self.mem(key)
        return self.memo[key]

    def powsum(self, items, x: Y) -> Y:
        """``Σ_i x^i·items_i`` by Horner (a loop over contiguous calldata evaluations when long)."""
        items = [i if isinstance(i, Y) else self.const(i) for i in items]
        if not items:
            return self.const(0)
        key = ("powsum", tuple(i.text for i in items), x.text)
        addr = self.alloc(key)
        contiguous = (len(items) > _LOOP_MIN // 2 and all(i.kind == "cd" for i in items)
                      and all(b.off - a.off == 32 for a, b in zip(items, items[1:])))
        self.emit("{")
        if contiguous:
            self.emit("    let y := 0")
            self._loop(f"add(pf, {lit(items[-1].off)})", len(items), -32,
                       lambda a: f"y := addmod(mulmod(y, {x.text}, r), calldataload({a}), r)", "    ")
            self.emit("    }")
        else:
            self.emit(f"    let y := {items[-1].text}")
            for it in reversed(items[:-1]):
                self.emit(f"    y := addmod(mulmod(y, {x.text}, r), {it.text}, r)")
        self.emit(f"    mstore({hex(addr)}, {'y' if items[-1].reduced or len(items) > 1 else 'mod(y, r)'})")
        self.emit("}")
        return self.mem(key)

    def powers(self, x: Y, n: int) -> list[Y]:
        """``[1, x, x², …, x^(n−1)]`` in consecutive slots (one loop when long)."""
        out = [self.const(1), x][:n]
        if n <= 2:
            return out
        if n - 2 > _LOOP_MIN // 2:
            base = self.alloc(("powers", x.text), n - 2)
            for j in range(2, n):
                self.addr[("powers", x.text, j)] = base + 32 * (j - 2)
                out.append(self.mem(("powers", x.text, j)))
            self._loop(hex(base), n - 2, 32, lambda a: f"t := mulmod(t, {x.text}, r) mstore({a}, t)", "",
                       f"let t := {x.text} ")
            self.emit("}  // powers")
            return out
        for j in range(2, n):
            out.append(self.store(("powers", x.text, j), self.mul(out[-1], x)))
        return out

    # -- points ---------------------------------------------------------------------------------------------
    def set_points(self, rho: Y, zeta: Y, sigma: Y | None = None) -> None:
        """From here on the equations are emitted after the power tables and the inversion (:meth:`assemble`)."""
        self.lines = self.body

    def point(self, a: int, b: int, c: int = 0) -> Y:
        sym = _psym(a, b, c)
        self.val_need.add(sym)
        return Y(self, self._xval(sym).text, "mem", sym=sym)

    def _xval(self, sym: str) -> Y:
        if sym in _CHALLENGE_POINTS:
            return self.mem(("ch", sym))
        return self.mem(("x", sym))

    def pow(self, p: Y, e: int) -> Y:
        e = int(e)
        if e == 0:
            return self.const(1)
        if e == 1:
            return p
        self.pow_need[p.sym].add(e)
        return self.mem(("pow", p.sym, e))

    def _inv_xm1(self, sym: str) -> Y:
        self.inv_need.add(sym)
        return self.mem(("invxm1", sym))

    def ones(self, n: int, p: Y) -> Y:
        """``ones_n(x) = Σ_{i<n} x^i`` (``n`` at ``x = 1``), as ``zkchain.blocks.common.ones_eval``: by Horner when
        ``n ≤ _ONES_HORNER`` (exact at ``x = 1`` too, and the point needs no inverse), else ``(x^n − 1)/(x − 1)``."""
        key = ("ones", p.sym, n)
        if n <= 1:
            return self.const(n)
        if key not in self.memo and n <= _ONES_HORNER:
            if p.sym not in _CHALLENGE_POINTS:
                self.val_need.add(p.sym)
            x = self._xval(p.sym).text
            self.emit(f"{{  // ones_{n}({p.sym}) by Horner")
            self.emit(f"    let t := addmod({x}, 1, r)")
            for _ in range(n - 2):
                self.emit(f"    t := addmod(mulmod(t, {x}, r), 1, r)")
            self.emit(f"    mstore({hex(self.alloc(key))}, t)")
            self.emit("}")
            self.memo[key] = self.mem(key)
        if key not in self.memo:
            xn, iv, flag = self.pow(p, n), self._inv_xm1(p.sym), self.mem(("isone", p.sym))
            self.memo[key] = self.store(key, Y(self, f"zkOnes({xn.text}, {iv.text}, {flag.text}, {lit(n % R)})"),
                                        f"ones_{n}({p.sym})")
        return self.memo[key]

    def iota(self, n: int, p: Y) -> Y:
        """``Σ_{i<n} i·x^i`` (``n(n−1)/2`` at ``x = 1``), as ``zkchain.blocks.common.iota_eval``."""
        key = ("iota", p.sym, n)
        if key not in self.memo:
            x, xn, iv, flag = self._xval(p.sym), self.pow(p, n), self._inv_xm1(p.sym), self.mem(("isone", p.sym))
            half = n * (n - 1) // 2 % R
            self.memo[key] = self.store(
                key, Y(self, f"zkIota({x.text}, {xn.text}, {iv.text}, {flag.text}, {lit(n % R)}, {lit(half)})"),
                f"iota_{n}({p.sym})")
        return self.memo[key]

    # -- proof values ---------------------------------------------------------------------------------------
    def opened(self, point: str, name: str) -> Y:
        try:
            off = self.sch.evaluation_offset(point, name)
        except (ValueError, KeyError):
            raise InputError(f"{name} is not opened at {point} in this verifying key's schedule") from None
        return Y(self, f"calldataload(add(pf, {lit(off)}))", "cd", off=off)

    def public_eval(self, name: str, p: Y) -> Y:
        """A public vector at point ``p`` by Horner over its calldata words (one loop for all its points when long)."""
        sym = p.sym
        key = ("pub", name, sym)
        if key in self.memo:
            return self.memo[key]
        ln = self.c.vectors[name].length
        base = self.sch.public_offset(name)
        self.pub_need[name].add(sym)
        if ln > 32:
            syms = sorted(self._plan["pub"][name]) if self._plan else [sym]
            keys = [("pub", name, s) for s in syms]
            self.emit(f"{{  // public {name} at {', '.join(syms)} (Horner, one pass)")
            for i in range(len(syms)):
                self.emit(f"    let a{i} := 0")
            self.emit(f"    for {{ let i := add(pi, {lit(base + 32 * ln)}) let e := add(pi, {lit(base)}) }} gt(i, e) {{}} {{")
            self.emit("        i := sub(i, 0x20)")
            self.emit("        let v := calldataload(i)")
            for i, s in enumerate(syms):
                self.emit(f"        a{i} := addmod(mulmod(a{i}, {self._xval(s).text}, r), v, r)")
            self.emit("    }")
            for i, k in enumerate(keys):
                self.emit(f"    mstore({hex(self.alloc(k))}, a{i})")
            self.emit("}")
            for k in keys:
                self.memo[k] = self.mem(k)
        else:
            self.emit(f"{{  // public {name}({sym})")
            self.emit(f"    let x := {self._xval(sym).text}")
            self.emit(f"    let acc := calldataload(add(pi, {lit(base + 32 * (ln - 1))}))")
            for i in range(ln - 2, -1, -1):
                self.emit(f"    acc := addmod(mulmod(acc, x, r), calldataload(add(pi, {lit(base + 32 * i)})), r)")
            self.emit(f"    mstore({hex(self.alloc(key))}, {'acc' if ln > 1 else 'mod(acc, r)'})")
            self.emit("}")
            self.memo[key] = self.mem(key)
        return self.memo[key]

    def commitment(self, name: str) -> G:
        return G(off=self.sch.commitment_offset(name))

    def fixed(self, name: str) -> G:
        b = self.vk.fixed_commitments[name]
        return G(xy=(int.from_bytes(b[:32], "big"), int.from_bytes(b[32:], "big")))

    def opening(self, point: str) -> G:
        return G(off=self.sch.opening_offset(point))

    @staticmethod
    def generator() -> G:
        return G(xy=(1, 2))

    # -- loops -------------------------------------------------------------------------------------------------
    def _loop(self, start: str, count: int, stride: int, body, indent: str = "    ", pre: str = "") -> None:
        """``body(ptr)`` for ``count`` items at ``start + k·stride`` (``stride < 0``: downwards) in a loop unrolled
        ``_UNROLL`` times (legacy codegen pays ~45 gas per iteration); the remainder is straight-line. Leaves
        its block open (the caller closes it)."""
        n_iter, rest = divmod(count, _UNROLL)
        self.emit(f"{indent}{{ {pre}let i := {start}")
        if n_iter:
            step = stride * _UNROLL
            bump = f"i := add(i, {lit(step)})" if step > 0 else f"i := sub(i, {lit(-step)})"
            stmts = " ".join(body(self._off("i", k * stride)) for k in range(_UNROLL))
            self.emit(f"{indent}    for {{ let e := {self._off('i', n_iter * step)} }} "
                      f"{'lt' if step > 0 else 'gt'}(i, e) {{ {bump} }} {{ {stmts} }}")
        for k in range(rest):
            self.emit(f"{indent}    {body(self._off('i', k * stride))}")

    @staticmethod
    def _off(base: str, d: int) -> str:
        return base if d == 0 else (f"add({base}, {lit(d)})" if d > 0 else f"sub({base}, {lit(-d)})")

    # -- shapes and ranges ----------------------------------------------------------------------------------
    def check_shapes(self) -> None:
        """Range checks OR-ed into one flag (loops for long runs): lengths, every evaluation and public value
        ``< r``, public values within ``±bound``, every G1 point canonical and on the curve (or the identity)."""
        sch, c = self.sch, self.c
        self.section("1. shapes and ranges (docs/protocol.md sections 1, 4, 6)")
        self.emit(f"if iszero(eq(plen, {lit(sch.proof_length)})) {{ leave }}")
        self.emit(f"if iszero(eq(npub, {lit(sch.n_public)})) {{ leave }}")
        self.emit("{")
        self.emit("    let bad := 0")
        self.emit("    // evaluations < r")
        base, n = sch.evaluations_offset, sch.n_evaluations
        if n > _LOOP_MIN:
            self._loop(f"add(pf, {lit(base)})", n, 32, lambda a: f"bad := or(bad, iszero(lt(calldataload({a}), r)))")
            self.emit("    }")
        else:
            for i in range(n):
                self.emit(f"    bad := or(bad, iszero(lt(calldataload(add(pf, {lit(base + 32 * i)})), r)))")
        for name in sch.public:
            v = c.vectors[name]
            b = v.bound
            bounded = 0 < b < (R - 1) // 2
            # |signed v| <= b  <=>  v <= b or v >= r - b  <=>  (v + b) mod r <= 2b   (for v < r, b < r/2)
            chk = "iszero(lt(v, r))" + (f", gt(addmod(v, {lit(b)}, r), {lit(2 * b)})" if bounded else "")
            chk = f"or({chk})" if bounded else chk
            off = sch.public_offset(name)
            self.emit(f"    // public {name}: {v.length} values < r" + (f", within +-{b}" if bounded else ""))
            if v.length <= 32:
                for i in range(v.length):
                    self.emit(f"    {{ let v := calldataload(add(pi, {lit(off + 32 * i)})) bad := or(bad, {chk}) }}")
            else:
                self.emit(f"    for {{ let i := add(pi, {lit(off)}) let e := add(i, {lit(32 * v.length)}) }} "
                          f"lt(i, e) {{ i := add(i, 0x20) }} {{ let v := calldataload(i) bad := or(bad, {chk}) }}")
        self.emit("    // commitments and opening proofs: coordinates < p, on y^2 = x^3 + 3 or the identity (0, 0)")
        n_comm = len(sch.commitments)
        offs = [64 * i for i in range(n_comm)] + [sch.opening_offset(p) for p in sch.points]
        if n_comm > _LOOP_MIN // 2:  # the commitments are contiguous from offset 0: one loop
            self._loop("pf", n_comm, 64, lambda a: f"bad := or(bad, zkBadG1(calldataload({a}), "
                                                   f"calldataload({self._off(a, 32) if a != 'i' else 'add(i, 32)'})))")
            self.emit("    }")
            offs = offs[n_comm:]
        for off in offs:
            self.emit(f"    bad := or(bad, zkBadG1(calldataload(add(pf, {lit(off)})), calldataload(add(pf, {lit(off + 32)}))))")
        self.emit("    if bad { leave }")
        self.emit("}")

    # -- transcript -------------------------------------------------------------------------------------------
    def begin(self, domain: bytes, digest: bytes) -> None:
        sch = self.sch
        self.section("2. Fiat-Shamir transcript (docs/protocol.md sections 2 and 4)")
        sizes = [32 + 32 * sch.n_public + 64 * len(sch.rounds[0].commitments)]
        sizes += [64 * len(r.commitments) for r in sch.rounds[1:]] + [32 * sch.n_evaluations, 64 * len(sch.points)]
        self._T = self.alloc(("transcript",), 2 + (max(sizes) + 31) // 32)
        self._buf = 32  # bytes already in the buffer (the digest)
        self._cd_pos = 0  # next commitment offset in calldata
        self.emit(f"mstore({hex(self._T)}, {hex(int.from_bytes(keccak256(domain), 'big'))})  "
                  f"// keccak256(\"{domain.decode()}\")")
        self.emit(f"mstore({hex(self._T + 32)}, {hex(int.from_bytes(digest, 'big'))})  // VK digest (absorb_bytes)")

    def _copy(self, src: str, n: int, comment: str) -> None:
        if n:
            self.emit(f"calldatacopy({hex(self._T + 32 + self._buf)}, {src}, {lit(n)})  // {comment}")
            self._buf += n

    def absorb_public(self) -> None:
        self._copy("pi", 32 * self.sch.n_public, "public values (absorb_fr)")

    def absorb_round(self, rnd) -> None:
        n = 64 * len(rnd.commitments)
        self._copy("pf" if self._cd_pos == 0 else f"add(pf, {lit(self._cd_pos)})", n, f"round {rnd.name} commitments")
        self._cd_pos += n

    def absorb_evaluations(self) -> None:
        self._copy(f"add(pf, {lit(self.sch.evaluations_offset)})", 32 * self.sch.n_evaluations, "evaluations")

    def absorb_openings(self) -> None:
        self._copy(f"add(pf, {lit(self.sch.openings_offset)})", 64 * len(self.sch.points), "opening proofs")

    def challenge(self, label: str) -> Y:
        T = self._T
        self.emit(f"mstore({hex(T + 32 + self._buf)}, {label_word(label)})  // label \"{label}\"")
        self.emit("{")
        self.emit(f"    let h := keccak256({hex(T)}, {lit(self._buf + 64)})")
        self.emit(f"    mstore({hex(T)}, h)")
        self.emit(f"    mstore({hex(self.alloc(('ch', label)))}, mod(h, r))")
        self.emit("}")
        self._buf = 0
        return self.mem(("ch", label))

    # -- checks -----------------------------------------------------------------------------------------------
    def require_eq(self, a: Y, b: Y, reason: str) -> None:
        at = a.text if a.reduced else f"mod({a.text}, r)"
        bt = b.text if b.reduced else f"mod({b.text}, r)"
        self.emit(f"if iszero(eq({at}, {bt})) {{ leave }}  // {reason}")

    def require_zero(self, a: Y, reason: str) -> None:
        if a.value == 0:
            return
        self.emit(f"if {a.text if a.reduced else f'mod({a.text}, r)'} {{ leave }}  // {reason}")

    def require_nonzero(self, a: Y, reason: str) -> None:
        self.emit(f"if iszero({a.text}) {{ leave }}  // {reason}")

    # -- KZG --------------------------------------------------------------------------------------------------
    def _load(self, g: G, dst: str) -> str:
        if g.off is not None:
            return f"calldatacopy({dst}, add(pf, {lit(g.off)}), 0x40)"
        x, y = g.xy
        return f"mstore({dst}, {lit(x)}) mstore(add({dst}, 0x20), {lit(y)})"

    def msm(self, terms) -> int:
        """``Σ s_i·P_i`` into a fresh accumulator ``[acc.x, acc.y, P.x, P.y, s]``: ecMul (0x07) into P, ecAdd
        (0x06) into acc; a scalar 1 skips the ecMul. The proof's commitments, contiguous from calldata offset 0,
        go through one loop over a memory table of their merged scalars when there are many."""
        idx = self.n_msm
        self.n_msm += 1
        acc = self.alloc(("acc", idx), 5)
        pt = hex(acc + 64)
        if idx == 0:
            self.section("5. KZG: batched claims folded with u^k, one ecMul per commitment, one pairing (section 3)")
            self.emit("let good := 1")
        n_lead = 0
        while n_lead < len(terms) and terms[n_lead][1].off == 64 * n_lead and n_lead < len(self.sch.commitments):
            n_lead += 1
        first = True
        if n_lead == len(self.sch.commitments) and n_lead > _LOOP_MIN // 2:
            base = self.alloc(("scalar", "table", idx), n_lead)
            for j in range(n_lead):
                self._scalar_into(base + 32 * j, terms[j][0], f"scalar of {self.sch.commitments[j]}")
            self.emit(f"mstore({hex(acc)}, 0) mstore({hex(acc + 32)}, 0)  // identity, then the proof's commitments")
            self.emit(f"for {{ let i := pf let q := {hex(base)} let e := add(pf, {lit(64 * n_lead)}) }} "
                      "lt(i, e) { i := add(i, 0x40) q := add(q, 0x20) } {")
            self.emit(f"    calldatacopy({pt}, i, 0x40) mstore({hex(acc + 128)}, mload(q))")
            self.emit(f"    good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {pt}, 0x40))")
            self.emit(f"    good := and(good, staticcall(gas(), 0x06, {hex(acc)}, 0x80, {hex(acc)}, 0x40))")
            self.emit("}")
            terms = terms[n_lead:]
            first = False
        for i, (s, g) in enumerate(terms):
            if isinstance(s, list):  # a merged scalar: summed once into its own slot
                key = ("scalar", idx, i)
                self._scalar_into(self.alloc(key), s, "merged scalar")
                s = self.mem(key)
            one = s.value == 1
            if first and i == 0:
                if one:
                    self.emit(self._load(g, hex(acc)))
                else:
                    self.emit(self._load(g, pt))
                    self.emit(f"mstore({hex(acc + 128)}, {s.text})")
                    self.emit(f"good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {hex(acc)}, 0x40))")
                continue
            self.emit(self._load(g, pt))
            if not one:
                self.emit(f"mstore({hex(acc + 128)}, {s.text})")
                self.emit(f"good := and(good, staticcall(gas(), 0x07, {pt}, 0x60, {pt}, 0x40))")
            self.emit(f"good := and(good, staticcall(gas(), 0x06, {hex(acc)}, 0x80, {hex(acc)}, 0x40))")
        return acc

    def _scalar_into(self, addr: int, s, comment: str) -> None:
        """Store a scalar (a ``Y`` or a list of ``Y`` to add) at ``addr``."""
        parts = s if isinstance(s, list) else [s]
        if len(parts) == 1:
            t = parts[0]
            self.emit(f"mstore({hex(addr)}, {t.text if t.reduced else f'mod({t.text}, r)'})  // {comment}")
            return
        self.emit("{" + f"  // {comment}")
        self.emit(f"    let acc := {parts[0].text}")
        for t in parts[1:]:
            self.emit(f"    acc := addmod(acc, {t.text}, r)")
        self.emit(f"    mstore({hex(addr)}, acc)")
        self.emit("}")

    def pairing_check(self, lhs: int, rhs: int, reason: str) -> None:
        """``e(L, [1]₂)·e(−R, [τ]₂) = 1``: one ecPairing call (0x08) with two pairs; sets ``ok``."""
        vk = self.vk
        PR = self.alloc(("pairing",), 12)
        g2one = [int.from_bytes(vk.g2_one[i:i + 32], "big") for i in range(0, 128, 32)]
        g2tau = [int.from_bytes(vk.g2_tau[i:i + 32], "big") for i in range(0, 128, 32)]
        self.emit(f"mstore({hex(PR)}, mload({hex(lhs)})) mstore({hex(PR + 32)}, mload({hex(lhs + 32)}))")
        for i, w in enumerate(g2one):
            self.emit(f"mstore({hex(PR + 64 + 32 * i)}, {hex(w)})  // [1]_2")
        self.emit(f"mstore({hex(PR + 192)}, mload({hex(rhs)}))")
        self.emit(f"mstore({hex(PR + 224)}, mod(sub({hex(P)}, mload({hex(rhs + 32)})), {hex(P)}))  // -R")
        for i, w in enumerate(g2tau):
            self.emit(f"mstore({hex(PR + 256 + 32 * i)}, {hex(w)})  // [tau]_2")
        self.emit(f"good := and(good, staticcall(gas(), 0x08, {hex(PR)}, 0x180, {hex(PR)}, 0x20))")
        self.emit(f"ok := and(good, eq(mload({hex(PR)}), 1))  // {reason}")
        self.acc_addresses = (lhs, rhs)

    # -- tables: powers and the batched inversion -------------------------------------------------------------
    def _emit_powers(self, syms: list[str]) -> None:
        """Squaring tables: ``x^(2^i)`` kept for the bits used, then one product per needed exponent."""
        if self._plan is None:
            return
        for sym in syms:
            exps = sorted(self._plan["pow"].get(sym, ()))
            if not exps:
                continue
            recipes = _power_recipes(exps)
            bits_used = {f.bit_length() - 1 for fs in recipes.values() for f in fs if f & (f - 1) == 0}
            bits_used |= {e.bit_length() - 1 for e in exps if e & (e - 1) == 0}
            top = max(exps).bit_length() - 1
            self.emit(f"{{  // powers of {sym}: {', '.join(map(str, exps))}")
            self.emit(f"    let t := {self._xval(sym).text}")
            for i in range(1, top + 1):
                self.emit("    t := mulmod(t, t, r)")
                if i in bits_used:
                    self.emit(f"    mstore({hex(self.alloc(('sq', sym, i)))}, t)")
            self.emit("}")
            for e in exps:
                if e not in recipes:
                    continue  # aliased to the squaring slot
                srcs = [self._xval(sym).text if f == 1 else self.mem(("sq", sym, f.bit_length() - 1)).text
                        if f & (f - 1) == 0 else self.mem(("pow", sym, f)).text for f in recipes[e]]
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

    def _emit_tables(self) -> None:
        """Powers of ζ and ρ, then one modexp (EIP-198) for ζ and every ``x − 1`` the closed forms need: every
        point is ``x = ρ^a·ζ^−b`` or ζ, so ``1/(x − 1) = ζ^b / (ρ^a − ζ^b)`` and all denominators are known before
        ``1/ζ`` is. A zero denominator (``x = 1``) is replaced by 1 and flagged; the closed forms add their limit."""
        self.section("powers of zeta and rho with constant exponents")
        self._emit_powers(["zeta", "rho", "sigma"])
        self.section("3. one batched field inversion (Montgomery's trick + modexp precompile 0x05, EIP-198)")
        zeta = self.mem(("ch", "zeta")).text
        syms = sorted(self._plan["inv"]) if self._plan else sorted(self.inv_need)
        items = [("1/zeta", zeta)]
        for sym in syms:
            if sym == "zeta":
                den = self.sub(self.mem(("ch", "zeta")), self.const(1)).text
            else:  # ρ^a·σ^c − ζ^b
                a, b, c = _pab(sym)
                num = self.mul(self.pow(self.point(1, 0), a), self.pow(self.point(0, 0, 1), c)) if a and c else (
                    self.pow(self.point(1, 0), a) if a else self.pow(self.point(0, 0, 1), c) if c else self.const(1))
                den = self.sub(num, self.pow(self.point(0, -1), b)).text
            self.emit(f"mstore({hex(self.alloc(('den', sym)))}, {den})")
            d = self.mem(("den", sym)).text
            self.emit(f"mstore({hex(self.alloc(('isone', sym)))}, iszero({d}))  // {sym} == 1")
            self.emit(f"mstore({hex(self.alloc(('den', sym)))}, add({d}, {self.mem(('isone', sym)).text}))")
            items.append((sym, d))
        pre = []
        for i, (sym, d) in enumerate(items):
            if i == 0:
                pre.append(d)
            else:
                self.emit(f"mstore({hex(self.alloc(('pre', i)))}, mulmod({pre[-1]}, {d}, r))")
                pre.append(self.mem(("pre", i)).text)
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
        self._emit_powers(["zi"])
        known = (set(syms) | set(self._plan["pow"] if self._plan else self.pow_need) | {"rzi"}
                 | (self._plan["val"] if self._plan else self.val_need))
        others = sorted(x for x in known if x not in ("rho", "zeta", "zi", "rzi", "sigma"))
        self.emit(f"mstore({hex(self.alloc(('x', 'rzi')))}, {self.mul(self.point(1, 0), self.point(0, 1)).text})"
                  "  // rho/zeta")
        self._emit_powers(["rzi"])
        for sym in others:
            a, b, c = _pab(sym)
            m = min(a, b) if a > 0 and b > 0 else 0  # ρ^a·ζ^−b = (ρ/ζ)^m · (ρ^(a−m) or ζ^−(b−m))
            v = self.mul(self.pow(self.point(1, 1), m), self.mul(self.pow(self.point(1, 0), a - m),
                                                                self.pow(self.point(0, 1), b - m)))
            if c:
                v = self.mul(v, self.pow(self.point(0, 0, 1), c))
            self.emit(f"mstore({hex(self.alloc(('x', sym)))}, {v.text})  // rho^{a} * zeta^-{b}" + (f" * sigma^{c}" if c else ""))
        self._emit_powers(others)
        for sym in syms:
            mult = self.const(1) if sym == "zeta" else self.pow(self.point(0, -1), _pab(sym)[1])
            v = self.mul(self.mem(("inv", sym)), mult)
            self.emit(f"mstore({hex(self.alloc(('invxm1', sym)))}, {v.text})  // 1/({sym} - 1)")

    def assemble(self) -> list[str]:
        """The Yul statements in execution order: checks and transcript, then the power tables and the
        inversion (which the equations decided), then the equations and the KZG fold."""
        self.lines = []
        self._emit_tables()
        tables, self.lines = self.lines, self.head
        return self.head + tables + self.body


def _power_recipes(exps: list[int]) -> dict[int, list[int]]:
    """For each exponent that is not a power of two, the exponents whose powers multiply to it: two earlier
    results (or an earlier result and a power of two, or ``1``) when the ascending list allows it — one mulmod —
    else the earlier result whose difference has the fewest binary digits, times those digits. Every factor is ``1``, a power of two (a squaring slot) or an earlier exponent."""
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
        if pick is None:  # an earlier result plus the fewest binary digits
            a = min(sorted(done, reverse=True) + [0], key=lambda a: bin(e - a).count("1"))
            d = e - a
            pick = ([a] if a else []) + [1 << i for i in range(d.bit_length()) if d >> i & 1]
        out[e] = pick
        done.add(e)
    return out
