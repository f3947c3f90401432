"""Helpers of the generated-verifier tests: the protocol tests' small circuit, the Python side of every
comparison (challenges, accumulator, verdict on raw calldata) and a catalogue of calldata mutations.

Everything Python-side goes through the same code as ``zkchain/verifier/verify.py`` (transcript order of
``docs/protocol.md`` §2/§4, ``kzg.combine_claims_at_point`` and ``kzg.accumulate`` of §3), so a disagreement
with the contract points at the generator.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

from zkchain.blocks.common import POINTS, point_values
from zkchain.protocol.schedule import (ACCUMULATION_CHALLENGE, EVALUATION_CHALLENGE, LINK_CHALLENGE, LINK_POINT,
                                       PROOF_DOMAIN, R_LAMBDA, delta_name, schedule)
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import P, R
from zkchain.crypto.transcript import Transcript
from zkchain.errors import InputError
from zkchain.protocol.vk import VerifyingKey
from zkchain.protocol.proof import Proof
from zkchain.verifier.verify import verify

_PROTOCOL_CONFTEST = Path(__file__).resolve().parents[1] / "protocol" / "conftest.py"


def protocol_instance_module():
    """``tests/protocol/conftest.py`` loaded as a plain module (for ``Instance`` and ``SRS_SPEC``)."""
    spec = importlib.util.spec_from_file_location("_zkchain_protocol_instances", _PROTOCOL_CONFTEST)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def python_verdict(vk: VerifyingKey, proof_bytes: bytes, public_inputs: list[int]) -> bool:
    """The Python verifier on the exact calldata the contract sees (a wrong length is a rejection)."""
    try:
        proof = Proof.from_bytes(vk.circuit, vk.digest, bytes(proof_bytes), list(public_inputs))
    except InputError:
        return False
    return bool(verify(vk, proof))


def python_state(vk: VerifyingKey, proof: Proof) -> tuple[list[int], list[int]]:
    """The challenges (``Schedule.challenges`` order) and the accumulator words (L.x, L.y, R.x, R.y), computed
    from the schedule with the crypto module's claim folding (``kzg.combine_claims_at_point``, ``accumulate``):
    a path independent of the verifier routine's merged MSM."""
    c = vk.circuit
    sch = schedule(c)
    tr = Transcript(PROOF_DOMAIN)
    tr.absorb_bytes(vk.digest)
    for v in proof.public_inputs(c):
        tr.absorb_fr(v)
    ch = []
    for rnd in sch.rounds:
        for n in rnd.commitments:
            tr.absorb_g1_bytes(proof.commitments[n])
        ch += [tr.challenge(lbl) for lbl in rnd.challenges]
    for p in sch.points:
        for v in proof.evaluations[p]:
            tr.absorb_fr(v)
    ch.append(tr.challenge(EVALUATION_CHALLENGE))
    for p in sch.points:
        tr.absorb_g1_bytes(proof.openings[p])
    ch.append(tr.challenge(ACCUMULATION_CHALLENGE))
    labels = dict(zip(sch.challenges, ch))

    be = get_backend()
    pts = point_values(labels["rho"], labels["zeta"])
    comms = {n: be.g1_from_bytes(b) for n, b in {**proof.commitments, **vk.fixed_commitments}.items()}
    for f in sch.hidden:  # F̃_f = F^vk_f + Δ_f
        comms[f] = be.g1_add(comms[f], comms[delta_name(f)])
    extra = {p: ([], []) for p in sch.points}
    if sch.hidden:  # the link D = Σ_i λ^i ζ^(M_i) Δ_i − R_λ, value 0 at LINK_POINT
        d = be.g1_neg(comms[R_LAMBDA])
        for i, f in enumerate(sch.hidden):
            s = pow(labels[LINK_CHALLENGE], i, R) * pow(labels["zeta"], sch.masks[f][0], R) % R
            d = be.g1_add(d, be.g1_mul(comms[delta_name(f)], s))
        extra[LINK_POINT] = ([d], [0])
    claims = [kzg.combine_claims_at_point(be, [comms[n] for n in sch.opened[p]] + extra[p][0],
                                          list(proof.evaluations[p]) + extra[p][1], pts[p],
                                          labels["nu"], be.g1_from_bytes(proof.openings[p])) for p in sch.points]
    acc = kzg.accumulate(claims, labels["u"], backend=be)
    lr = acc.to_bytes()
    return ch, [int.from_bytes(lr[i:i + 32], "big") for i in range(0, 128, 32)]


# -- mutations ------------------------------------------------------------------------------------------------


def _g1_add_generator(b: bytes) -> bytes:
    be = get_backend()
    return be.g1_to_bytes(be.g1_add(be.g1_from_bytes(b), be.g1()))


def _word(v: int) -> bytes:
    return (v % 2**256).to_bytes(32, "big")


def mutations(vk: VerifyingKey, proof_bytes: bytes, public_inputs: list[int], seed: int = 7):
    """Yield ``(label, proof_bytes, public_inputs)`` variants of a valid proof, each of which must be rejected:
    every commitment, evaluation and opening proof changed to another valid encoding (point + G, value + 1),
    non-canonical and off-curve encodings, swapped fields, public values + 1 (all of them, or 12 of a long
    list), out-of-bound and
    non-canonical public values, truncated and extended proofs, missing and extra public values."""
    rnd = random.Random(seed)
    c = vk.circuit
    sch = schedule(c)
    names, sched = list(sch.commitments), sch.opened
    eval_base, open_base = sch.evaluations_offset, sch.openings_offset
    pb = bytes(proof_bytes)

    def put(data: bytes, off: int, chunk: bytes) -> bytes:
        return data[:off] + chunk + data[off + len(chunk):]

    for i, n in enumerate(names):
        yield f"commitment {n} + G", put(pb, 64 * i, _g1_add_generator(pb[64 * i: 64 * i + 64])), public_inputs
    pos = eval_base
    for p in POINTS:
        for n in sched[p]:
            v = int.from_bytes(pb[pos: pos + 32], "big")
            yield f"evaluation {n}@{p} + 1", put(pb, pos, _word((v + 1) % R)), public_inputs
            pos += 32
    for k, p in enumerate(POINTS):
        off = open_base + 64 * k
        yield f"opening {p} + G", put(pb, off, _g1_add_generator(pb[off: off + 64])), public_inputs
    n_pub = len(public_inputs)
    idx = range(n_pub) if n_pub <= 12 else sorted({0, n_pub - 1, *rnd.sample(range(n_pub), 10)})
    for i in idx:
        pub = list(public_inputs)
        pub[i] = (pub[i] + 1) % R
        yield f"public[{i}] + 1", pb, pub

    # non-canonical and invalid encodings
    pos = eval_base + 32 * rnd.randrange(sch.n_evaluations)
    v = int.from_bytes(pb[pos: pos + 32], "big")
    if v + R < 2**256:
        yield "evaluation + r (non-canonical)", put(pb, pos, _word(v + R)), public_inputs
    yield "evaluation = r", put(pb, eval_base, _word(R)), public_inputs
    yield "evaluation = 2^256 - 1", put(pb, eval_base + 32, b"\xff" * 32), public_inputs
    x = int.from_bytes(pb[0:32], "big")
    y = int.from_bytes(pb[32:64], "big")
    yield "commitment y + 1 (off curve)", put(pb, 32, _word(y + 1)), public_inputs
    yield "commitment x + p (non-canonical)", put(pb, 0, _word(x + P)), public_inputs
    yield "commitment (1, 2) -> (1, 3)", put(pb, 64, _word(1) + _word(3)), public_inputs
    oy = int.from_bytes(pb[open_base + 32: open_base + 64], "big")
    yield "opening -pi (negated)", put(pb, open_base + 32, _word(P - oy)), public_inputs
    yield "opening y + p (non-canonical)", put(pb, open_base + 32, _word(oy + P)), public_inputs
    yield "opening = identity", put(pb, open_base + 64, b"\0" * 64), public_inputs
    yield "commitment = identity", put(pb, 64 * (len(names) - 1), b"\0" * 64), public_inputs
    yield "commitments 0 and 1 swapped", put(put(pb, 0, pb[64:128]), 64, pb[0:64]), public_inputs
    yield ("openings rho and zeta swapped",
           put(put(pb, open_base, pb[open_base + 64: open_base + 128]), open_base + 64, pb[open_base: open_base + 64]),
           public_inputs)
    # public values
    if public_inputs:
        bound = max(v.bound for v in c.vectors.values() if v.kind == "public")
        pub = list(public_inputs)
        pub[0] = bound + 1
        yield "public[0] = bound + 1", pb, pub
        pub = list(public_inputs)
        pub[-1] = R - bound - 1
        yield "public[-1] = -(bound + 1)", pb, pub
        nonzero = [i for i, v in enumerate(public_inputs) if v]
        if nonzero:  # r ≡ 0: at a zero entry this is the same field element (tested on chain separately)
            pub = list(public_inputs)
            pub[nonzero[0]] = R
            yield f"public[{nonzero[0]}] = r", pb, pub
        if public_inputs != public_inputs[::-1]:
            yield "public values reversed", pb, public_inputs[::-1]
        yield "one public value missing", pb, public_inputs[:-1]
    yield "one extra public value", pb, list(public_inputs) + [0]
    # lengths
    yield "proof truncated by 1 byte", pb[:-1], public_inputs
    yield "proof truncated by 32 bytes", pb[:-32], public_inputs
    yield "proof extended by 1 byte", pb + b"\0", public_inputs
    yield "proof extended by 32 bytes", pb + b"\0" * 32, public_inputs
    yield "empty proof", b"", public_inputs
    yield "random bytes of the right length", bytes(rnd.randrange(256) for _ in range(len(pb))), public_inputs
    yield "all-zero proof", b"\0" * len(pb), public_inputs


def no_lookup_instance():
    """A circuit without lookups (round 2 empty) with a public input and a public output:
    ``xin`` (public input) is copied into the witness ``x2`` (a Zero constraint, coefficient −1), and
    ``z = x2·W + b`` is the public output of one matmul. Returns ``(circuit, fixed values, witness values)``."""
    from zkchain.blocks.matmul import row_stride, weight_vector
    from zkchain.compiler.circuit import Circuit, Expr, Term
    from zkchain.blocks import MatMul, Zero

    k, n = 5, 3
    W = [[3 * l - j for j in range(n)] for l in range(k)]
    b = [1, -2, 3]
    x = [1, -2, 3, 4, -5]
    z = [sum(x[l] * W[l][j] for l in range(k)) + b[j] for j in range(n)]
    c = Circuit()
    c.add_vector("xin", k, "public", "input", bound=100)
    c.add_vector("x2", k, "witness")
    c.add_vector("W", row_stride(k) * n, "fixed")
    c.add_vector("z", n, "public", "output", bound=2**20)
    c.constraints += [MatMul(Expr.of("x2", k), "W", k, n, Expr.of("z", n), "fc"),
                      Zero(Expr(k, (Term("x2"), Term("xin", -1))), "copy")]
    c.check()
    return c, {"W": weight_vector(W, b)}, {"xin": x, "x2": x, "z": z}


def shifted_instance():
    """Expressions with shifts and constants: ``vc = va ‖ vb`` (a Zero constraint with a shifted term: the only
    place v2 allows a shift, since ``⟨v, q_N⟩`` reads each vector's own data), a matmul on ``x = vc + 2`` (a
    constant, evaluated at 1/ζ), a range lookup on ``vc`` and a map lookup ``vb ↦ vb + 3`` with a constant in the
    output expression (both at ρ/ζ), and a public output ``z``. Returns ``(circuit, fixed values, witness
    values)``."""
    from zkchain.blocks.lookup import TABLE_OUT, table_layout, table_length
    from zkchain.blocks.matmul import row_stride, weight_vector
    from zkchain.compiler.circuit import Circuit, Expr, Term
    from zkchain.blocks import Lookup, MatMul, Zero

    n, m = 3, 2
    a, b = [1, -4, 7], [-2, 5, 0]
    cat = a + b
    x = [v + 2 for v in cat]
    W = [[(3 * i + 2 * j) % 7 - 3 for j in range(m)] for i in range(2 * n)]
    bias = [5, -6]
    z = [sum(x[i] * W[i][j] for i in range(2 * n)) + bias[j] for j in range(m)]
    c = Circuit()
    c.add_vector("va", n, "witness")
    c.add_vector("vb", n, "witness")
    c.add_vector("vc", 2 * n, "witness")
    c.add_vector("bq", n, "witness")  # = b; the map lookup's output expression is bq + 3
    c.add_vector("W", row_stride(2 * n) * m, "fixed")
    c.add_vector("z", m, "public", "output", bound=10**6)
    rng = c.add_table("r16", "range", -8, 16)
    plus = c.add_table("plus3", "map", -8, 16)
    c.constraints += [
        Zero(Expr(2 * n, (Term("vc"), Term("va", -1), Term("vb", -1, n))), "concat"),
        MatMul(Expr(2 * n, (Term("vc"),), 2), "W", 2 * n, m, Expr.of("z", m), "fc"),
        Lookup(rng.name, Expr.of("vc", 2 * n), None, "range a|b"),
        Lookup(plus.name, Expr.of("vb", n), Expr(n, (Term("bq"),), 3), "b -> b + 3"),
    ]
    c.add_vector(TABLE_OUT, table_length(c), "fixed")
    col = []
    for t, _ in table_layout(c):
        col += [t.lo + i + 3 for i in range(t.size)] if t.kind == "map" else [0] * t.size
    c.check()
    values = {"va": a, "vb": b, "vc": cat, "bq": list(b), "z": z}
    return c, {"W": weight_vector(W, bias), TABLE_OUT: col}, values


CONV_CASES = [(2, 5, 5, 3, 3, 1, 1), (1, 6, 6, 2, 3, 0, 2), (3, 4, 4, 2, 2, 1, 2)]  # C H W OC k pad stride


def conv_instance(case, public_output: bool = False):
    """The protocol tests' convolution (``tests/protocol/test_conv.py``: channels, zero padding with a PadZero
    constraint, stride, an output grid padded for its consumer); ``public_output`` makes ``out`` public.
    Returns ``(circuit, fixed values, witness values)``."""
    from zkchain.compiler.circuit import Circuit, Grid
    from zkchain.blocks import Conv, PadZero

    path = _PROTOCOL_CONFTEST.with_name("test_conv.py")
    spec = importlib.util.spec_from_file_location("_zkchain_protocol_conv", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    C, H, W, OC, k, pad, stride = case
    rnd = random.Random(sum(case))
    x = [[[rnd.randrange(-9, 10) for _ in range(W)] for _ in range(H)] for _ in range(C)]
    w = [[[[rnd.randrange(-5, 6) for _ in range(k)] for _ in range(k)] for _ in range(C)] for _ in range(OC)]
    b = [rnd.randrange(-30, 31) for _ in range(OC)]
    xp, out = ref.reference(x, w, b, pad, stride)
    inp = Grid(C, H, W, H + 2 * pad, W + 2 * pad, pad, pad)
    outp = Grid(OC, len(out[0]), len(out[0][0]), len(out[0]) + 2, len(out[0][0]) + 1, 1, 0)
    circ = Circuit()
    xe = circ.add_vector("x", inp.size, "witness")
    if public_output:
        oe = circ.add_vector("out", outp.size, "public", "output", bound=10**6)
    else:
        oe = circ.add_vector("out", outp.size, "witness")
    cv = Conv(xe, "K", inp, outp, OC, k, k, stride, stride, oe, "conv")
    circ.add_vector("K", cv.kernel_length, "fixed")
    circ.constraints += [cv] + ([PadZero(xe, inp, "pad")] if pad else [])
    circ.check()
    values = {"x": [v for ch in xp for row in ch for v in row], "out": ref.lay_out(out, outp)}
    return circ, {"K": cv.kernel_vector(w, b)}, values


def hadamard_instance():
    """The circuit of ``tests/protocol/test_hadamard.py``: ``sq = x ∘ x2`` (``x2`` a proven copy of ``x``) and
    ``out = (x + 1) ∘ k`` with ``k`` a fixed vector (opened at ρ/ζ against its VK commitment) and an expression with a constant on the left (at ζ);
    ``out`` public. Returns ``(circuit, fixed values, witness values)``."""
    from zkchain.compiler.circuit import Circuit, Expr, Term
    from zkchain.blocks import Hadamard, Zero

    n = 11
    c = Circuit()
    x = c.add_vector("x", n, "witness")
    x2 = c.add_vector("x2", n, "witness")
    sq = c.add_vector("sq", n, "witness")
    k = c.add_vector("k", n, "fixed")
    out = c.add_vector("out", n, "public", "output", bound=2**40)
    c.constraints += [Zero(Expr(n, (Term("x2"), Term("x", -1))), "copy"), Hadamard(x, x2, sq, "square"),
                      Hadamard(Expr(n, (Term("x"),), 1), k, out, "scale")]
    c.check()
    rnd = random.Random(3)
    kv = [rnd.randrange(-50, 50) for _ in range(n)]
    a = [random.Random(9).randrange(-100, 100) for _ in range(n)]
    return c, {"k": kv}, {"x": a, "x2": list(a), "sq": [v * v for v in a],
                          "out": [(v + 1) * w for v, w in zip(a, kv)]}


def maxpool_instance(tmp: Path):
    """A 2×2/2 max pooling with padding 1 (``tests/protocol/test_maxpool.py``), compiled and lowered: Pick blocks,
    a PadZero with a non-zero padding value, a Hadamard product chain and range lookups.
    Returns ``(circuit, fixed values, witness values)``."""
    import numpy as np

    from zkchain.compiler.lower import lower
    from zkchain.quant.compile import compile_model

    path = _PROTOCOL_CONFTEST.with_name("test_maxpool.py")
    spec = importlib.util.spec_from_file_location("_zkchain_protocol_maxpool", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    ref.maxpool_model(tmp / "m.onnx", [1, 1, 1, 1])
    cal = np.random.default_rng(1).normal(size=(16, 2, 4, 4)).astype(np.float32)
    np.save(tmp / "cal.npy", cal)
    model = compile_model(tmp / "m.onnx", calibration=tmp / "cal.npy")
    model = model[0] if isinstance(model, tuple) else model
    lowered = lower(model)
    values = lowered.vector_values(model.execute(model.quantize_input(cal[0])))
    return lowered.circuit, lowered.fixed_values, values
