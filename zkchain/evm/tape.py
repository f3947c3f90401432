"""The verifier as data: a *tape* recorded from the one verifier routine, run by an interpreter written once.

``record_tape(vk)`` runs ``zkchain.verifier.verify.run`` on :class:`TapeLoader`, a third loader (beside the
native one and ``zkchain.evm.yul.EvmLoader``): every loader operation appends an instruction to a compact
program over memory *slots* (32-byte words) instead of computing (native) or emitting Yul (specialised). The
tape holds everything the verifying key fixes — the VK digest, fixed commitments, the G2 points, coefficients,
the calldata layout — so one interpreter, whose code does not depend on the model, verifies any model's proofs:

- :func:`run_tape` here, in Python (the differential test against :func:`zkchain.verifier.verify.verify`);
- ``contracts/templates/ReusableVerifier.sol``, in Yul (``zkchain.evm.reusable``), reading the tape from a data
  contract with ``EXTCODECOPY`` (SSTORE2-style; the tape's first byte is ``STOP``, so the data contract does
  nothing when called).

A model is identified on chain by ``model_id(tape) = keccak256(tape)``, which is the ``EXTCODEHASH`` of the data
contract: content-addressed, so nobody can register a different program under a model's id.

Tape format (version 1; all integers big-endian)::

    header  word 0: magic 00 7a 6b 54 ("\\0zkT") | version u8 | flags u8 (bit 0: insecure dev SRS)
                    | n_const u16 | n_public u16 | proof_words u16 | n_temp u16 | buf_words u16 | code_len u32
                    | 12 zero bytes
            word 1: the VK digest (absorbed first by the transcript)
    consts  n_const words (field constants, G1 points as x‖y, G2 points as 4 words, transcript words)
    code    code_len bytes of instructions: opcode u8, operands u16 (slot indices, counts)

Memory (slot ``i`` = bytes ``[32i, 32i + 32)``): the whole tape is copied to byte ``0x3c0``, so the header is
in slots 30–31, the constants start at slot :data:`CONST_BASE` = 32 and the code follows them (padded to a word);
then the public inputs (copied from calldata), the proof bytes (copied whole: commitments, evaluations, opening
proofs), then ``n_temp`` temporaries, then the transcript (state word + ``buf_words``). Slots 4–29 are the
interpreter's scratch. Every operand is a slot index below ``temp_base + n_temp``; the whole layout stays below
2^16 slots. The contract hashes the tape where it lies and checks it against the model id.

Instructions (``d`` destination slot; ``n`` a count; ``x``, ``a``, ``b``, ``s`` source slots; ``c`` a constant
slot; all arithmetic mod r)::

    ADD d a b | SUB d a b | LINCOMB d n (c s)×n: Σ c·s | PROD d n s×n | MULS n (d a b)×n: n products, in order
    HORNER d x base n: Σ_{i<n} x^i·slot[base+i] | POWSUM d x n s×n: Σ x^i·s_i
    ONES n (d xn iv flag c_n)×n: (x^n − 1)·iv + flag·n | IOTA d x xn iv flag c_n c_half (blocks/common.py closed forms,
        iv = 1/(x − 1), flag = [x = 1])
    INV n (d s)×n: d = 1/s (one modexp for all; every s ≠ 0 by construction)
    SQUARES n (d x k)×n: slots d … d+k−1 = x^2, x^4, …, x^(2^k)
    INVXM1 n (f d x)×n: f = [x = 1], d = 1/(x − 1) (1 when x = 1), all in one modexp
    HONES n (d x k)×n: 1 + x + … + x^(k−1) by Horner (k ≥ 2 an immediate; small k: no power, no inverse)
    (ONES and HONES depend on the points only: the recorder places them all after the tables, one of each)
    REQEQ a b | REQNZ a: reject unless a = b / a ≠ 0
    CHKFR base n: every word < r | CHKBOUND base n c_b: every word < r and |signed| ≤ b (b = 0: unbounded)
    CHKG1 base n: n points (x‖y) with coordinates < p on y² = x³ + 3, or (0, 0)
    BEGIN c_state | ABSORB base n: append n words | SQUEEZE d c_label: h = keccak(state‖buffer‖label), d = h mod r
    MSM d n (s p)×n: slots d, d+1 = Σ s·P (s = 0: scalar 1, no ecMul; P at slots p, p+1)
    PAIRING l r c_g2one c_g2tau: accept iff e(L, [1]₂)·e(−R, [τ]₂) = 1 — the last instruction

Errors: :func:`decode_tape` raises :class:`~zkchain.errors.InputError` naming the first malformed field (the
contract's ``register`` checks the same rules and reverts with ``MalformedTape(code)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zkchain.crypto.field import P, R
from zkchain.crypto.transcript import keccak256
from zkchain.errors import InputError
from zkchain.verifier.loader import LoaderValue

MAGIC = b"\x00zkT"
VERSION = 1
HEADER_BYTES = 64
CONST_BASE = 32  # slots 0..31: interpreter scratch (0x000-0x3ff)
MAX_SLOTS = 1 << 16

# opcodes, and the byte length of each fixed-size instruction (variable ones: see _length)
(MUL, ADD, SUB, LINCOMB, PROD, HORNER, POWSUM, ONES, IOTA, ISZERO, INV, REQEQ, REQNZ, CHKFR, CHKBOUND, CHKG1,
 BEGIN, ABSORB, SQUEEZE, MSM, PAIRING, DEN, SQUARES, MULS, INVXM1, HONES) = range(1, 27)
NAMES = {v: k for k, v in dict(MUL=MUL, ADD=ADD, SUB=SUB, LINCOMB=LINCOMB, PROD=PROD, HORNER=HORNER,
                                POWSUM=POWSUM, ONES=ONES, IOTA=IOTA, ISZERO=ISZERO, INV=INV, REQEQ=REQEQ,
                                REQNZ=REQNZ, CHKFR=CHKFR, CHKBOUND=CHKBOUND, CHKG1=CHKG1, BEGIN=BEGIN,
                                ABSORB=ABSORB, SQUEEZE=SQUEEZE, MSM=MSM, PAIRING=PAIRING, DEN=DEN,
                                SQUARES=SQUARES, MULS=MULS, INVXM1=INVXM1, HONES=HONES).items()}
_FIXED = {ADD: 3, SUB: 3, HORNER: 4, IOTA: 7, REQEQ: 2, REQNZ: 1, CHKFR: 2, CHKBOUND: 3, CHKG1: 2, BEGIN: 1,
          ABSORB: 2, SQUEEZE: 2, PAIRING: 4}  # operands
#: opcodes with no encoding (refused as unknown): MUL only exists inside the recorder (every run of MULs, a lone
#: one included, is encoded as one MULS); ISZERO and DEN are retired.
_VAR = {LINCOMB: (2, 2), PROD: (2, 1), POWSUM: (3, 1), INV: (1, 2), MSM: (2, 2), MULS: (1, 3), SQUARES: (1, 3),
        INVXM1: (1, 3), ONES: (1, 5), HONES: (1, 3)}  # (fixed operands, operands per item)


def _label_word(label: str) -> int:
    b = label.encode("ascii")
    if len(b) > 32:
        raise InputError(f"transcript label longer than 32 bytes: {label!r}")
    return int.from_bytes(b.ljust(32, b"\0"), "big")


def model_id(tape: bytes) -> bytes:
    """The on-chain id of a model: ``keccak256(tape)`` (= ``EXTCODEHASH`` of its data contract), 32 bytes."""
    return keccak256(bytes(tape))


# -- the recorder ------------------------------------------------------------------------------------------

class Ref:
    """A slot operand before layout: ``kind`` ``c`` (constant), ``p`` (public input), ``f`` (proof word),
    ``t`` (temporary) and its index in that region."""

    __slots__ = ("kind", "i")

    def __init__(self, kind: str, i: int):
        self.kind, self.i = kind, i

    def __repr__(self) -> str:
        return f"{self.kind}{self.i}"


class TV(LoaderValue):
    """A field value on the tape: a slot ``ref``, and ``value`` when it is a known constant; ``sym`` names an
    evaluation point ``ρ^a·ζ^(−b)·σ^c`` (``zkchain.evm.yul._psym``)."""

    __slots__ = ("t", "ref", "value", "sym")

    def __init__(self, t: "TapeLoader", ref: Ref | None, value: int | None = None, sym: str | None = None):
        self.t, self.ref, self.value, self.sym = t, ref, value, sym

    @property
    def loader(self) -> "TapeLoader":
        return self.t

    def __repr__(self) -> str:
        return f"TV({self.ref}{'' if self.value is None else '=' + hex(self.value)})"


class GP:
    """A G1 point on the tape: two consecutive slots (x, y) starting at ``ref``."""

    __slots__ = ("ref",)

    def __init__(self, ref: Ref):
        self.ref = ref


class TapeLoader:
    """Loader that records the verifier routine as a tape for one verifying key (``zkchain.verifier.loader``).

    Like the EVM loader it computes every ``1/(x − 1)`` the closed forms need, and ``1/ζ``, with one batched
    inversion over denominators ``ρ^a·σ^c − ζ^b`` (so no denominator needs ``1/ζ``), and every constant power
    ``x^e`` from one squaring chain per point: those tables are recorded after the run and placed between the
    transcript and the equations (:meth:`assemble`)."""

    def __init__(self, vk, schedule):
        from zkchain.evm.yul import _CHALLENGE_POINTS

        self.vk, self.sch, self.c = vk, schedule, vk.circuit
        self._challenge_points = _CHALLENGE_POINTS
        self.consts: list[int] = []
        self._const_ix: dict[int, int] = {}
        self.n_temp = 0
        self.head: list[tuple] = []
        self.body: list[tuple] = []
        self.code = self.head
        self.memo: dict[tuple, TV] = {}
        self.pow_need: dict[str, set[int]] = {}
        self.inv_need: set[str] = set()
        self.val_need: set[str] = set()
        self.slots: dict[tuple, Ref] = {}
        self.closed_items: dict[int, list[tuple]] = {}
        self.buf_words = 0
        self._buf = 0
        self._cd_pos = 0
        missing = [n for p in self.sch.points for n in self.sch.opened[p]
                   if n not in self.sch.commitments and n not in self.vk.fixed_commitments]
        if missing:
            raise InputError(f"verifying key has no commitment for {sorted(set(missing))}")

    # -- slots and emission -----------------------------------------------------------------------------
    def _cref(self, v: int) -> Ref:
        v = int(v) % (1 << 256)
        if v not in self._const_ix:
            self._const_ix[v] = len(self.consts)
            self.consts.append(v)
        return Ref("c", self._const_ix[v])

    def _cblock(self, words: list[int]) -> Ref:
        """Constants that must be consecutive (a point): appended as a block, deduplicated as a block."""
        key = ("block",) + tuple(words)
        if key not in self.slots:
            self.slots[key] = Ref("c", len(self.consts))
            self.consts.extend(words)
        return self.slots[key]

    def _temp(self, words: int = 1) -> Ref:
        ref = Ref("t", self.n_temp)
        self.n_temp += words
        return ref

    def _slot(self, key: tuple) -> Ref:
        if key not in self.slots:
            self.slots[key] = self._temp()
        return self.slots[key]

    def emit(self, op: int, *args) -> None:
        self.code.append((op,) + args)

    def _new(self, op: int, *args) -> TV:
        d = self._temp()
        self.emit(op, d, *args)
        return TV(self, d)

    def _deferred(self, op: int, *args) -> TV:
        """A closed form of the points only (ONES, HONES): one item of the instruction :meth:`assemble` places
        after the tables."""
        d = self._temp()
        self.closed_items.setdefault(op, []).append((d,) + args)
        return TV(self, d)

    def section(self, title: str) -> None:
        """Nothing: the tape has no comments (``disassemble`` names the instructions)."""

    # -- scalars ------------------------------------------------------------------------------------------
    def const(self, v: int) -> TV:
        v = int(v) % R
        return TV(self, None, v)

    def _r(self, x: TV) -> Ref:
        return x.ref if x.ref is not None else self._cref(x.value)

    def add(self, a: TV, b: TV) -> TV:
        if a.value is not None and b.value is not None:
            return self.const(a.value + b.value)
        if a.value == 0:
            return b
        if b.value == 0:
            return a
        return self._new(ADD, self._r(a), self._r(b))

    def sub(self, a: TV, b: TV) -> TV:
        if a.value is not None and b.value is not None:
            return self.const(a.value - b.value)
        if b.value == 0:
            return a
        return self._new(SUB, self._r(a), self._r(b))

    def mul(self, a: TV, b: TV) -> TV:
        if a.value is not None and b.value is not None:
            return self.const(a.value * b.value)
        if a.value == 0 or b.value == 0:
            return self.const(0)
        if a.value == 1:
            return b
        if b.value == 1:
            return a
        return self._new(MUL, self._r(a), self._r(b))

    @staticmethod
    def named(x: TV, comment: str = "") -> TV:
        return x

    def lincomb(self, terms, comment: str = "") -> TV:
        """``Σ coef·x``: constants folded into one term, a lone ``1·x`` is ``x`` itself."""
        items: list[tuple[int, TV]] = []
        k = 0
        for coef, x in terms:
            coef = int(coef) % R
            x = x if isinstance(x, TV) else self.const(x)
            if coef == 0 or x.value == 0:
                continue
            if x.value is not None:
                k = (k + coef * x.value) % R
            else:
                items.append((coef, x))
        if not items:
            return self.const(k)
        if k:
            items.append((k, self.const(1)))
        if len(items) == 1 and items[0][0] == 1:
            return items[0][1]
        if len(items) == 2 and items[0][0] == items[1][0] == 1:
            return self.add(items[0][1], items[1][1])
        key = ("lincomb",) + tuple((c, repr(self._r(x))) for c, x in items)
        if key not in self.memo:
            self.memo[key] = self._new(LINCOMB, len(items), *[r for c, x in items for r in (self._cref(c), self._r(x))])
        return self.memo[key]

    def prod(self, factors, comment: str = "") -> TV:
        factors = [f if isinstance(f, TV) else self.const(f) for f in factors]
        k = 1
        rest = []
        for f in factors:
            if f.value is not None:
                k = k * f.value % R
            else:
                rest.append(f)
        if k == 0 or not rest:
            return self.const(k)
        if k != 1:
            rest.append(self.const(k))
        if len(rest) == 1:
            return rest[0]
        if len(rest) == 2:
            return self.mul(*rest)
        return self._new(PROD, len(rest), *[self._r(f) for f in rest])

    def powsum(self, items, x: TV) -> TV:
        """``Σ_i x^i·items_i``: one HORNER over consecutive slots (the evaluations at one point), else POWSUM."""
        items = [i if isinstance(i, TV) else self.const(i) for i in items]
        if not items:
            return self.const(0)
        if len(items) == 1:
            return items[0]
        refs = [self._r(i) for i in items]
        if all(r.kind == refs[0].kind for r in refs) and refs[0].kind in "pf" and \
                all(b.i - a.i == 1 for a, b in zip(refs, refs[1:])):
            return self._new(HORNER, self._r(x), refs[0], len(refs))
        return self._new(POWSUM, self._r(x), len(refs), *refs)

    def powers(self, x: TV, n: int) -> list[TV]:
        out = [self.const(1), x][:n]
        while len(out) < n:
            out.append(self.mul(out[-1], x))
        return out

    # -- points ---------------------------------------------------------------------------------------------
    def set_points(self, rho: TV, zeta: TV, sigma: TV | None = None) -> None:
        """The challenges ρ, ζ (σ) are slots already; from here on, instructions go to the body (the power and
        inversion tables go before it, :meth:`assemble`)."""
        self.slots[("x", "rho")] = rho.ref
        self.slots[("x", "zeta")] = zeta.ref
        if sigma is not None:
            self.slots[("x", "sigma")] = sigma.ref
        self.code = self.body

    def _xval(self, sym: str) -> TV:
        return TV(self, self._slot(("x", sym)), sym=sym)

    def point(self, a: int, b: int, c: int = 0) -> TV:
        from zkchain.evm.yul import _psym

        sym = _psym(a, b, c)
        self.val_need.add(sym)
        return self._xval(sym)

    def pow(self, p: TV, e: int) -> TV:
        e = int(e)
        if e == 0:
            return self.const(1)
        if e == 1:
            return p
        if p.value is not None:
            return self.const(pow(p.value, e, R))
        if p.sym is None:  # not a point: square and multiply here
            acc, base = None, p
            while e:
                if e & 1:
                    acc = base if acc is None else self.mul(acc, base)
                e >>= 1
                if e:
                    base = self.mul(base, base)
            return acc
        self.pow_need.setdefault(p.sym, set()).add(e)
        return TV(self, self._slot(("pow", p.sym, e)))

    def _closed(self, p: TV, n: int):
        if p.sym is None:
            raise AssertionError("ones/iota of a value that is not an evaluation point")  # pragma: no cover
        self.inv_need.add(p.sym)
        return self.pow(p, n), self._slot(("invxm1", p.sym)), self._slot(("isone", p.sym))

    def ones(self, n: int, p: TV) -> TV:
        """``ones_n(x)`` (``n`` at ``x = 1``), as ``zkchain.blocks.common.ones_eval``: by Horner up to
        ``n = 8`` (exact at ``x = 1`` too; the point then needs no power and no inverse, as in the EVM loader),
        else the closed form ``(x^n − 1)/(x − 1)``."""
        from zkchain.evm.yul import _ONES_HORNER

        if n <= 1:
            return self.const(n)
        key = ("ones", p.sym, n)
        if key not in self.memo and n <= _ONES_HORNER:
            if p.sym is not None:
                self.val_need.add(p.sym)
            self.memo[key] = self._deferred(HONES, self._r(p), n)
        if key not in self.memo:
            xn, iv, flag = self._closed(p, n)
            self.memo[key] = self._deferred(ONES, self._r(xn), iv, flag, self._cref(n % R))
        return self.memo[key]

    def iota(self, n: int, p: TV) -> TV:
        """``Σ_{i<n} i·x^i`` (``n(n−1)/2`` at ``x = 1``), as ``zkchain.blocks.common.iota_eval``."""
        key = ("iota", p.sym, n)
        if key not in self.memo:
            xn, iv, flag = self._closed(p, n)
            self.memo[key] = self._new(IOTA, self._r(p), self._r(xn), iv, flag, self._cref(n % R),
                                       self._cref(n * (n - 1) // 2 % R))
        return self.memo[key]

    # -- proof values ---------------------------------------------------------------------------------------
    def opened(self, point: str, name: str) -> TV:
        try:
            off = self.sch.evaluation_offset(point, name)
        except (ValueError, KeyError):
            raise InputError(f"{name} is not opened at {point} in this verifying key's schedule") from None
        return TV(self, Ref("f", off // 32))

    def public_eval(self, name: str, p: TV) -> TV:
        key = ("pub", name, p.sym or repr(p.ref))
        if key not in self.memo:
            n = self.c.vectors[name].length
            base = Ref("p", self.sch.public_offset(name) // 32)
            self.memo[key] = (TV(self, base) if n == 1 else self._new(HORNER, self._r(p), base, n))
        return self.memo[key]

    def commitment(self, name: str) -> GP:
        return GP(Ref("f", self.sch.commitment_offset(name) // 32))

    def fixed(self, name: str) -> GP:
        b = self.vk.fixed_commitments[name]
        return GP(self._cblock([int.from_bytes(b[:32], "big"), int.from_bytes(b[32:], "big")]))

    def opening(self, point: str) -> GP:
        return GP(Ref("f", self.sch.opening_offset(point) // 32))

    def generator(self) -> GP:
        return GP(self._cblock([1, 2]))

    # -- transcript -----------------------------------------------------------------------------------------
    def _absorb(self, base: Ref, words: int) -> None:
        if words:
            self.emit(ABSORB, base, words)
            self._buf += words
            self.buf_words = max(self.buf_words, self._buf + 1)  # + the label word

    def begin(self, domain: bytes, digest: bytes) -> None:
        self.digest = bytes(digest)
        self.emit(BEGIN, self._cref(int.from_bytes(keccak256(domain), "big")))
        self._buf = 0
        self._absorb(self._cref(int.from_bytes(digest, "big")), 1)

    def absorb_public(self) -> None:
        self._absorb(Ref("p", 0), self.sch.n_public)

    def absorb_round(self, rnd) -> None:
        self._absorb(Ref("f", self._cd_pos // 32), 2 * len(rnd.commitments))
        self._cd_pos += 64 * len(rnd.commitments)

    def absorb_evaluations(self) -> None:
        self._absorb(Ref("f", self.sch.evaluations_offset // 32), self.sch.n_evaluations)

    def absorb_openings(self) -> None:
        self._absorb(Ref("f", self.sch.openings_offset // 32), 2 * len(self.sch.points))

    def challenge(self, label: str) -> TV:
        self.buf_words = max(self.buf_words, self._buf + 1)
        self._buf = 0
        return self._new(SQUEEZE, self._cref(_label_word(label)))

    # -- checks -----------------------------------------------------------------------------------------------
    def require_eq(self, a: TV, b: TV, reason: str) -> None:
        self.emit(REQEQ, self._r(a), self._r(b))

    def require_zero(self, a: TV, reason: str) -> None:
        if a.value != 0:
            self.emit(REQEQ, self._r(a), self._cref(0))

    def require_nonzero(self, a: TV, reason: str) -> None:
        self.emit(REQNZ, self._r(a))

    def check_shapes(self) -> None:
        """Every evaluation ``< r``; every public value ``< r`` and within its vector's bound; every commitment
        and opening proof a canonical G1 encoding. (Lengths are the interpreter's, from the header.)"""
        sch = self.sch
        if sch.n_evaluations:
            self.emit(CHKFR, Ref("f", sch.evaluations_offset // 32), sch.n_evaluations)
        for name in sch.public:
            v = self.c.vectors[name]
            bound = v.bound if 0 < v.bound < (R - 1) // 2 else 0
            self.emit(CHKBOUND, Ref("p", sch.public_offset(name) // 32), v.length, self._cref(bound))
        if sch.commitments:
            self.emit(CHKG1, Ref("f", 0), len(sch.commitments))
        self.emit(CHKG1, Ref("f", sch.openings_offset // 32), len(sch.points))

    # -- KZG --------------------------------------------------------------------------------------------------
    def msm(self, terms) -> Ref:
        """``Σ s·P`` into two fresh slots; a merged scalar (a list) is summed first; scalar 1 skips the ecMul."""
        ops = []
        for s, g in terms:
            if isinstance(s, list):
                s = self.lincomb([(1, x) for x in s])
            if s.value == 0:
                continue
            ops += [Ref("one", 0) if s.value == 1 else self._r(s), g.ref]
        d = self._temp(2)
        self.emit(MSM, d, len(ops) // 2, *ops)
        return d

    def pairing_check(self, lhs: Ref, rhs: Ref, reason: str) -> None:
        vk = self.vk
        g2 = [self._cblock([int.from_bytes(b[i:i + 32], "big") for i in range(0, 128, 32)])
              for b in (vk.g2_one, vk.g2_tau)]
        self.emit(PAIRING, lhs, rhs, *g2)

    # -- tables -----------------------------------------------------------------------------------------------
    def _powers_of(self, *syms: str) -> None:
        """``x^e`` for every needed ``e`` of each point: one squaring chain per point (all chains in one SQUARES
        instruction), then one product per exponent (``zkchain.evm.yul._power_recipes``)."""
        from zkchain.evm.yul import _power_recipes

        chains, later = [], []
        for sym in syms:
            exps = sorted(self.pow_need.get(sym, ()))
            if not exps:
                continue
            x = self._xval(sym)
            sq = {0: x}
            top = max(exps).bit_length() - 1
            if top:
                block = self._temp(top)
                chains += [block, x.ref, top]
            for i in range(1, top + 1):  # x^(2^i) in the block; a needed power of two is that slot
                sq[i] = TV(self, Ref("t", block.i + i - 1))
                if (1 << i) in self.pow_need[sym]:
                    ref = self._slot(("pow", sym, 1 << i))
                    ref.kind, ref.i = "t", block.i + i - 1
            later.append((sym, exps, sq))
        if chains:
            self.emit(SQUARES, len(chains) // 3, *chains)
        for sym, exps, sq in later:
            recipes = _power_recipes(exps)

            def src(f: int) -> Ref:
                if f & (f - 1) == 0:
                    return sq[f.bit_length() - 1].ref
                return self.slots[("pow", sym, f)]

            for e in exps:
                if e not in recipes:
                    continue
                fs = [src(f) for f in recipes[e]]
                d = self._slot(("pow", sym, e))
                if len(fs) == 2:
                    self.emit(MUL, d, *fs)
                else:
                    self.emit(PROD, d, len(fs), *fs)

    def assemble(self) -> list[tuple]:
        """The instructions in execution order: checks and transcript, the tables, then the equations and the
        KZG fold. Tables: ``1/ζ`` (one modexp), the powers of ρ, σ, 1/ζ, ρ/ζ, every other point
        ``ρ^a·ζ^(−b)·σ^c`` as a product of those, their powers, then every ``1/(x − 1)`` the closed forms need in
        one batched inversion (a second modexp: cheaper on a tape than the EVM loader's ``ζ^b/(ρ^a − ζ^b)``,
        which needs more powers)."""
        from zkchain.evm.yul import _pab

        self.code = tables = []
        inv_syms = sorted(self.inv_need)
        point_syms = sorted((self.inv_need | set(self.pow_need) | self.val_need | {"rzi"})
                            - {"rho", "zeta", "sigma", "zi", "rzi"})
        mins = {}
        for sym in point_syms:  # what the point values need, before the tables are laid out
            a, b, c = _pab(sym)
            m = min(a, b) if a > 0 and b > 0 else 0
            mins[sym] = m
            for base, e in (("rzi", m), ("rho", a - m), ("zi", b - m), ("sigma", c)):
                if e > 1:
                    self.pow_need.setdefault(base, set()).add(e)
        zeta = self._xval("zeta")
        self.emit(INV, 1, self._slot(("x", "zi")), zeta.ref)  # ζ ≠ 0: checked after the transcript
        self._powers_of("zeta", "rho", "sigma", "zi")
        self.emit(MUL, self._slot(("x", "rzi")), self._slot(("x", "rho")), self._slot(("x", "zi")))
        self._powers_of("rzi")
        for sym in point_syms:
            a, b, c = _pab(sym)
            m = mins[sym]
            fs = [self.pow(self._xval(base), e) for base, e in (("rzi", m), ("rho", a - m), ("zi", b - m),
                                                                 ("sigma", c)) if e]
            d = self._slot(("x", sym))
            if len(fs) == 1:  # the point is a power already: the same slot
                d.kind, d.i = fs[0].ref.kind, fs[0].ref.i
            elif len(fs) == 2:
                self.emit(MUL, d, self._r(fs[0]), self._r(fs[1]))
            else:
                self.emit(PROD, d, len(fs), *[self._r(f) for f in fs])
        self._powers_of(*point_syms)
        items = []  # 1/(x − 1), or 1 with the flag [x = 1] (the closed forms add their limit)
        for sym in inv_syms:
            items += [self._slot(("isone", sym)), self._slot(("invxm1", sym)), self._slot(("x", sym))]
        if items:
            self.emit(INVXM1, len(items) // 3, *items)
        for op in (HONES, ONES):  # every ones_n the equations read, in two instructions
            its = self.closed_items.get(op, [])
            if its:
                self.emit(op, len(its), *[x for it in its for x in it])
        self.code = self.body
        return self.head + tables + self.body


# -- encoding ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """The tape's header fields (see the module docstring); derived slot bases as properties."""

    flags: int
    n_const: int
    n_public: int
    proof_words: int
    n_temp: int
    buf_words: int
    code_len: int
    vk_digest: bytes

    @property
    def code_start(self) -> int:
        """Byte address of the code in memory (right after the constants)."""
        return 32 * (CONST_BASE + self.n_const)

    @property
    def pub_base(self) -> int:
        return CONST_BASE + self.n_const + (self.code_len + 31) // 32

    @property
    def proof_base(self) -> int:
        return self.pub_base + self.n_public

    @property
    def temp_base(self) -> int:
        return self.proof_base + self.proof_words

    @property
    def mem_slots(self) -> int:
        return self.temp_base + self.n_temp

    @property
    def proof_length(self) -> int:
        return 32 * self.proof_words

    @property
    def insecure(self) -> bool:
        return bool(self.flags & 1)


@dataclass(frozen=True)
class Tape:
    """A recorded verifier: ``data`` (the bytes a data contract holds), its ``header``, ``model_id``
    (keccak256 of ``data``) and the decoded instructions (for ``disassemble`` and the interpreters)."""

    data: bytes
    header: Header
    consts: tuple[int, ...]
    code: tuple[tuple, ...] = field(repr=False)

    @property
    def model_id(self) -> bytes:
        return model_id(self.data)


def _roles(op: int, a: tuple) -> list:
    """The role of each operand of one instruction: ``("d", k)`` a destination of ``k`` consecutive slots,
    ``("r", k)`` a read of ``k`` consecutive slots, ``"n"`` a count, ``"s"`` an MSM scalar (0: the scalar 1)."""
    d1, r1, n = ("d", 1), ("r", 1), "n"
    if op in (MUL, ADD, SUB):
        return [d1, r1, r1]
    if op == LINCOMB:
        return [d1, n] + [r1, r1] * a[1]
    if op == PROD:
        return [d1, n] + [r1] * a[1]
    if op == HORNER:
        return [d1, r1, ("r", a[3]), n]
    if op == POWSUM:
        return [d1, r1, n] + [r1] * a[2]
    if op == ONES:
        return [n] + [d1, r1, r1, r1, r1] * a[0]
    if op == IOTA:
        return [d1] + [r1] * 6
    if op == HONES:
        return [n] + [d1, r1, n] * a[0]
    if op == INV:
        return [n] + [d1, r1] * a[0]
    if op == REQEQ:
        return [r1, r1]
    if op == REQNZ or op == BEGIN:
        return [r1]
    if op in (CHKFR, ABSORB):
        return [("r", a[1]), n]
    if op == CHKBOUND:
        return [("r", a[1]), n, r1]
    if op == CHKG1:
        return [("r", 2 * a[1]), n]
    if op == SQUEEZE:
        return [d1, r1]
    if op == MSM:
        return [("d", 2), n] + ["s", ("r", 2)] * a[1]
    if op == PAIRING:
        return [("r", 2), ("r", 2), ("r", 4), ("r", 4)]
    if op == SQUARES:
        return [n] + [r for k in a[3::3] for r in (("d", k), r1, n)]
    if op == INVXM1:
        return [n] + [d1, d1, r1] * a[0]
    if op == MULS:
        return [n] + [d1, r1, r1] * a[0]
    raise AssertionError(f"opcode {op}")  # pragma: no cover


def _allocate(code: list[tuple]) -> tuple[list[tuple], int]:
    """Reuse temporaries (linear scan over the instructions, every temporary written once): a group of
    consecutive slots written by one operand (an MSM result, a SQUARES block) keeps its slots until the last read
    of any of them; an instruction's destinations never share a slot with what it reads. Returns the code with
    temporaries renumbered and their count: smaller memory, cheaper memory expansion on chain."""
    group_of: dict[int, tuple[int, int]] = {}  # temp -> (group start, size)
    last: dict[int, int] = {}  # group start -> index of the last instruction reading it
    for k, ins in enumerate(code):
        for role, x in zip(_roles(ins[0], ins[1:]), ins[1:]):
            if not isinstance(x, Ref) or x.kind != "t":
                continue
            if role[0] == "d":
                for j in range(role[1]):
                    if x.i + j in group_of:
                        raise AssertionError(f"temporary t{x.i + j} written twice")  # pragma: no cover
                    group_of[x.i + j] = (x.i, role[1])
            else:
                for j in range(role[1] if isinstance(role, tuple) else 1):
                    g = group_of.get(x.i + j)
                    if g is None:
                        raise AssertionError(f"temporary t{x.i + j} read before it is written")  # pragma: no cover
                    last[g[0]] = k
    free: list[int] = []  # sorted free slots
    top = 0
    where: dict[int, int] = {}  # group start -> new start
    out = []
    for k, ins in enumerate(code):
        roles = _roles(ins[0], ins[1:])
        for role, x in zip(roles, ins[1:]):
            if role[0] == "d" and isinstance(x, Ref) and x.kind == "t" and x.i not in where:
                size = role[1]
                start = None
                for j, f in enumerate(free):  # first fit of `size` consecutive free slots
                    if free[j:j + size] == list(range(f, f + size)):
                        start = f
                        del free[j:j + size]
                        break
                if start is None:
                    start, top = top, top + size
                where[x.i] = start
        new = [ins[0]]
        for role, x in zip(roles, ins[1:]):
            if isinstance(x, Ref) and x.kind == "t":
                g = group_of[x.i]
                new.append(Ref("t", where[g[0]] + x.i - g[0]))
            else:
                new.append(x)
        out.append(tuple(new))
        for g0, lk in list(last.items()):
            if lk == k:
                size = next(sz for t0, sz in group_of.values() if t0 == g0)
                free.extend(range(where[g0], where[g0] + size))
                free.sort()
                del last[g0]
    return out, top


def _batch_muls(code: list[tuple]) -> list[tuple]:
    """Every run of consecutive MULs (a single one included) as one MULS (one dispatch for the run)."""
    out: list[tuple] = []
    run: list[tuple] = []
    for ins in code + [(0,)]:
        if ins[0] == MUL:
            run.append(ins)
            continue
        if run:  # a lone MUL too: one opcode fewer in the interpreter's hot dispatch
            out.append((MULS, len(run)) + tuple(x for m in run for x in m[1:]))
        run = []
        if ins[0]:
            out.append(ins)
    return out


def record_tape(vk) -> Tape:
    """Run the verifier routine on :class:`TapeLoader` and encode the tape for ``vk``.

    Raises :class:`~zkchain.errors.InputError` for a key the layout cannot hold (more than 65,536 slots) or with
    a schedule/commitment mismatch; ``UnsupportedModelError`` as the verifier routine does."""
    from zkchain.protocol.schedule import schedule
    from zkchain.verifier.verify import run

    sch = schedule(vk.circuit)
    t = TapeLoader(vk, sch)
    run(t, vk)
    code = [(ins[0],) + tuple(Ref(a.kind, a.i) if isinstance(a, Ref) else a for a in ins[1:])
            for ins in t.assemble()]  # aliases resolved: every operand its own Ref
    code, n_temp = _allocate(code)
    code = _batch_muls(code)
    n_const = len(t.consts)
    code_len = sum(1 + 2 * (len(ins) - 1) for ins in code)  # operands are u16 whatever their value
    hdr = Header(flags=1 if vk.srs_insecure else 0, n_const=n_const, n_public=sch.n_public,
                 proof_words=sch.proof_length // 32, n_temp=n_temp, buf_words=t.buf_words, code_len=code_len,
                 vk_digest=vk.digest)
    if hdr.mem_slots + 1 + hdr.buf_words >= MAX_SLOTS:
        raise InputError(f"verifying key too large for tape format v{VERSION}: {hdr.mem_slots} slots (max "
                         f"{MAX_SLOTS})")
    base = {"c": CONST_BASE, "p": hdr.pub_base, "f": hdr.proof_base, "t": hdr.temp_base}

    def word(x) -> int:
        if isinstance(x, Ref):
            return 0 if x.kind == "one" else base[x.kind] + x.i
        return int(x)

    out = bytearray()
    resolved = []
    for ins in code:
        args = [word(a) for a in ins[1:]]
        resolved.append((ins[0],) + tuple(args))
        out.append(ins[0])
        for a in args:
            out += a.to_bytes(2, "big")
    assert len(out) == code_len
    data = _encode_header(hdr) + b"".join(v.to_bytes(32, "big") for v in t.consts) + bytes(out)
    tape = decode_tape(data)
    if tape.code != tuple(resolved):  # pragma: no cover - encoder bug
        raise AssertionError("tape encoder and decoder disagree")
    return tape


def _encode_header(h: Header) -> bytes:
    w0 = (MAGIC + bytes([VERSION, h.flags]) + h.n_const.to_bytes(2, "big") + h.n_public.to_bytes(2, "big")
          + h.proof_words.to_bytes(2, "big") + h.n_temp.to_bytes(2, "big") + h.buf_words.to_bytes(2, "big")
          + h.code_len.to_bytes(4, "big"))
    return w0.ljust(32, b"\0") + h.vk_digest


# reasons of decode_tape, numbered as the contract's MalformedTape(uint256 code)
MALFORMED = {1: "shorter than its header", 2: "bad magic or version", 3: "length does not match the header",
             4: "unknown opcode", 5: "instruction runs past the end of the code", 6: "operand outside memory",
             7: "transcript buffer overflow", 8: "does not end with PAIRING", 9: "layout too large"}


def _bad(code: int, where: str = "") -> InputError:
    return InputError(f"malformed tape: {MALFORMED[code]}{where} (MalformedTape({code}))")


def decode_tape(data: bytes) -> Tape:
    """Parse and check a tape: header, lengths, every instruction's opcode and operands (each slot operand
    inside memory, above the scratch area; destinations among the temporaries), the transcript buffer, and
    PAIRING last. The same rules as the contract's ``register``. Raises :class:`InputError` (``MalformedTape``
    reason codes in :data:`MALFORMED`)."""
    data = bytes(data)
    if len(data) < HEADER_BYTES:
        raise _bad(1)
    if data[:4] != MAGIC or data[4] != VERSION:
        raise _bad(2)
    f = lambda a, b: int.from_bytes(data[a:b], "big")  # noqa: E731
    h = Header(flags=data[5], n_const=f(6, 8), n_public=f(8, 10), proof_words=f(10, 12), n_temp=f(12, 14),
               buf_words=f(14, 16), code_len=f(16, 20), vk_digest=data[32:64])
    if len(data) != HEADER_BYTES + 32 * h.n_const + h.code_len:
        raise _bad(3)
    if h.mem_slots + 1 + h.buf_words >= MAX_SLOTS:
        raise _bad(9)
    consts = tuple(f(HEADER_BYTES + 32 * i, HEADER_BYTES + 32 * i + 32) for i in range(h.n_const))
    code = data[HEADER_BYTES + 32 * h.n_const:]
    out = []
    pc, buf, ended = 0, 0, False
    lo, hi, dlo = CONST_BASE, h.mem_slots, h.temp_base

    def rd(n: int, at: int) -> bool:  # n consecutive readable slots from at
        return lo <= at and at + n <= hi

    while pc < len(code):
        if ended:
            raise _bad(8, f" (code after PAIRING at byte {pc})")
        op = code[pc]
        if op in _FIXED:
            n_ops = _FIXED[op]
        elif op in _VAR:
            if pc + 1 + 2 * _VAR[op][0] > len(code):
                raise _bad(5, f" (byte {pc})")
            cnt = int.from_bytes(code[pc + 1 + 2 * (_VAR[op][0] - 1): pc + 1 + 2 * _VAR[op][0]], "big")
            n_ops = _VAR[op][0] + _VAR[op][1] * cnt
        else:
            raise _bad(4, f" ({op} at byte {pc})")
        end = pc + 1 + 2 * n_ops
        if end > len(code):
            raise _bad(5, f" (byte {pc})")
        a = tuple(int.from_bytes(code[i:i + 2], "big") for i in range(pc + 1, end, 2))
        ok = True
        if op in (ADD, SUB, IOTA, HORNER, SQUEEZE):
            ok = dlo <= a[0] < hi and all(rd(1, x) for x in a[1:]) if op != HORNER else (
                dlo <= a[0] < hi and rd(1, a[1]) and rd(a[3], a[2]))
        elif op == LINCOMB or op == PROD or op == POWSUM:
            k = {LINCOMB: 2, PROD: 2, POWSUM: 3}[op]
            ok = dlo <= a[0] < hi and all(rd(1, x) for x in a[k:]) and (op != POWSUM or rd(1, a[1]))
        elif op == INV:
            ok = all(dlo <= d < hi and rd(1, s) for d, s in zip(a[1::2], a[2::2]))
        elif op == HONES:
            ok = all(dlo <= d < hi and rd(1, x) for d, x in zip(a[1::3], a[2::3]))
        elif op == ONES:
            ok = all(dlo <= a[k] < hi and all(rd(1, x) for x in a[k + 1:k + 5]) for k in range(1, len(a), 5))
        elif op == SQUARES:
            ok = all(dlo <= d and d + k <= hi and rd(1, x) for d, x, k in zip(a[1::3], a[2::3], a[3::3]))
        elif op == INVXM1:
            ok = all(dlo <= f < hi and dlo <= d < hi and rd(1, x) for f, d, x in zip(a[1::3], a[2::3], a[3::3]))
        elif op == MULS:
            ok = all(dlo <= d < hi and rd(1, x) and rd(1, y) for d, x, y in zip(a[1::3], a[2::3], a[3::3]))
        elif op in (REQEQ, REQNZ):
            ok = all(rd(1, x) for x in a)
        elif op in (CHKFR, CHKBOUND, CHKG1):
            ok = rd(a[1] * (2 if op == CHKG1 else 1), a[0]) and (op != CHKBOUND or rd(1, a[2]))
        elif op == BEGIN:
            ok = rd(1, a[0])
            buf = 0
        elif op == ABSORB:
            ok = rd(a[1], a[0])
            buf += a[1]
            if buf + 1 > h.buf_words:
                raise _bad(7, f" (byte {pc})")
        elif op == MSM:
            ok = dlo <= a[0] and a[0] + 2 <= hi and all((s == 0 or rd(1, s)) and rd(2, p)
                                                        for s, p in zip(a[2::2], a[3::2]))
        elif op == PAIRING:
            ok = rd(2, a[0]) and rd(2, a[1]) and rd(4, a[2]) and rd(4, a[3])
            ended = True
        if op == SQUEEZE:
            if buf + 1 > h.buf_words:
                raise _bad(7, f" (byte {pc})")
            buf = 0
        if not ok:
            raise _bad(6, f" ({NAMES[op]} at byte {pc})")
        out.append((op,) + a)
        pc = end
    if not ended:
        raise _bad(8)
    return Tape(data, h, consts, tuple(out))


def disassemble(tape: Tape) -> str:
    """One line per instruction (for reading and debugging)."""
    return "\n".join(f"{NAMES[ins[0]]:<9} " + " ".join(map(str, ins[1:])) for ins in tape.code)


# -- the Python interpreter -----------------------------------------------------------------------------------

class _Reject(Exception):
    pass


def run_tape(tape: Tape | bytes, proof: bytes, public_inputs: list[int], backend=None) -> tuple[bool, str]:
    """Interpret ``tape`` on raw calldata (``proof`` bytes, ``public_inputs`` as uint256 words), exactly as the
    contract does; returns ``(accepted, reason)``. Never raises on proof data."""
    from zkchain.crypto.backend import get_backend
    from zkchain.crypto import kzg

    if not isinstance(tape, Tape):
        tape = decode_tape(tape)
    h = tape.header
    proof = bytes(proof)
    if len(proof) != h.proof_length or len(public_inputs) != h.n_public:
        return False, "wrong proof or public input length"
    if any(not 0 <= int(v) < 1 << 256 for v in public_inputs):
        return False, "public input is not a uint256"
    be = get_backend(backend)
    m = [0] * (h.mem_slots)
    m[CONST_BASE:CONST_BASE + h.n_const] = tape.consts
    m[h.pub_base:h.pub_base + h.n_public] = [int(v) for v in public_inputs]
    m[h.proof_base:h.proof_base + h.proof_words] = [int.from_bytes(proof[i:i + 32], "big")
                                                      for i in range(0, len(proof), 32)]
    state, buf = b"", bytearray()

    def g1(at: int):
        return be.g1_from_bytes(m[at].to_bytes(32, "big") + m[at + 1].to_bytes(32, "big"))

    try:
        for ins in tape.code:
            op, a = ins[0], ins[1:]
            if op == ADD:
                m[a[0]] = (m[a[1]] + m[a[2]]) % R
            elif op == SUB:
                m[a[0]] = (m[a[1]] - m[a[2]]) % R
            elif op == LINCOMB:
                m[a[0]] = sum(m[c] * m[s] for c, s in zip(a[2::2], a[3::2])) % R
            elif op == PROD:
                acc = 1
                for s in a[2:]:
                    acc = acc * m[s] % R
                m[a[0]] = acc
            elif op == HORNER:
                acc, x = 0, m[a[1]]
                for i in range(a[3] - 1, -1, -1):
                    acc = (acc * x + m[a[2] + i]) % R
                m[a[0]] = acc
            elif op == POWSUM:
                acc, x = 0, m[a[1]]
                for s in reversed(a[3:]):
                    acc = (acc * x + m[s]) % R
                m[a[0]] = acc
            elif op == ONES:
                for k in range(1, len(a), 5):
                    d, xn, iv, flag, n = a[k:k + 5]
                    m[d] = ((m[xn] - 1) * m[iv] + m[flag] * m[n]) % R
            elif op == IOTA:
                d, x, xn, iv, flag, n, half = a
                num = (m[x] - m[n] * m[xn] + (m[n] - 1) * m[xn] * m[x]) % R
                m[d] = (num * m[iv] * m[iv] + m[flag] * m[half]) % R
            elif op == MULS:
                for d, x, y in zip(a[1::3], a[2::3], a[3::3]):
                    m[d] = m[x] * m[y] % R
            elif op == SQUARES:
                for d, x, k in zip(a[1::3], a[2::3], a[3::3]):
                    v = m[x]
                    for i in range(k):
                        v = v * v % R
                        m[d + i] = v
            elif op == INVXM1:
                for f, d, x in zip(a[1::3], a[2::3], a[3::3]):
                    v = (m[x] - 1) % R
                    m[f] = int(v == 0)
                    m[d] = pow(v + m[f], R - 2, R)
            elif op == HONES:
                for d, xs, k in zip(a[1::3], a[2::3], a[3::3]):
                    x = m[xs]
                    v = (x + 1) % R
                    for _ in range(k - 2):
                        v = (v * x + 1) % R
                    m[d] = v
            elif op == INV:
                prod = 1
                for s in a[2::2]:
                    prod = prod * m[s] % R
                if prod == 0:
                    raise _Reject("inversion of zero")
                for d, s in zip(a[1::2], a[2::2]):
                    m[d] = pow(m[s], R - 2, R)
            elif op == REQEQ:
                if m[a[0]] != m[a[1]]:
                    raise _Reject("a verifier equation failed")
            elif op == REQNZ:
                if m[a[0]] == 0:
                    raise _Reject("challenge zeta is zero")
            elif op == CHKFR:
                if any(m[a[0] + i] >= R for i in range(a[1])):
                    raise _Reject("evaluation is not < r")
            elif op == CHKBOUND:
                b = m[a[2]]
                for i in range(a[1]):
                    v = m[a[0] + i]
                    if v >= R or (b and (v + b) % R > 2 * b):
                        raise _Reject("public value out of range")
            elif op == CHKG1:
                for i in range(a[1]):
                    x, y = m[a[0] + 2 * i], m[a[0] + 2 * i + 1]
                    if not (x < P and y < P and ((x, y) == (0, 0) or (y * y - x * x * x - 3) % P == 0)):
                        raise _Reject("invalid curve point")
            elif op == BEGIN:
                state, buf = m[a[0]].to_bytes(32, "big"), bytearray()
            elif op == ABSORB:
                for i in range(a[1]):
                    buf += m[a[0] + i].to_bytes(32, "big")
            elif op == SQUEEZE:
                hsh = keccak256(state + bytes(buf) + m[a[1]].to_bytes(32, "big"))
                state, buf = hsh, bytearray()
                m[a[0]] = int.from_bytes(hsh, "big") % R
            elif op == MSM:
                d, n = a[0], a[1]
                pts = [g1(p) for p in a[3::2]]
                scal = [1 if s == 0 else m[s] for s in a[2::2]]
                acc = be.g1_msm(pts, scal) if pts else be.g1_zero()
                b64 = be.g1_to_bytes(acc)
                m[d], m[d + 1] = int.from_bytes(b64[:32], "big"), int.from_bytes(b64[32:], "big")
            elif op == PAIRING:
                g2 = [be.g2_from_bytes(b"".join(m[c + i].to_bytes(32, "big") for i in range(4))) for c in a[2:]]
                ok = kzg.Accumulator(be, g1(a[0]), g1(a[1])).check(*g2)
                return (True, "accepted") if ok else (False, "pairing check failed (an opening is wrong)")
    except _Reject as r:
        return False, str(r)
    except InputError as exc:  # an invalid point of the tape itself (the precompile fails on chain)
        return False, f"invalid curve point: {exc}"
    return False, "tape ended without PAIRING"  # pragma: no cover - decode_tape refuses such a tape
