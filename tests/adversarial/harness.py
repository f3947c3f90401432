"""Cheating provers built on our own prover, and a judge that asks both verifiers.

A *tamper* changes one entry of one committed vector of an honest witness and, where the entry comes from a
tensor of the integer model, recomputes everything downstream with the integer semantics (a cheater who
wants a consistent story after the one lie). The cheating witness is then proved with witness checking off.
Each tampered proof must be rejected by the Python verifier **and** by the generated Solidity verifier.

Legitimate freedom is excluded: a private input entry moved *within* its range is an honest proof for a
different input (it must be accepted); everything else a tamper produces is a lie.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from zkchain.compiler.lower import Compiled, lower
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import ProvingKey, required_degree, setup
from zkchain.protocol.proof import Proof
from zkchain.prover.prove import prove
from zkchain.quant.compile import compile_model
from zkchain.quant.model import QuantizedModel
from zkchain.quant.primitives import RUN, run_op
from zkchain.verifier.verify import verify


@dataclass
class Built:
    name: str
    model: QuantizedModel
    compiled: Compiled
    pk: ProvingKey
    x_int: np.ndarray
    honest: Proof


class ZeroCoins:
    """Every zero-knowledge coin 0 (an ``rng`` for ``setup`` and ``prove``): the keys and proofs a v1 prover made,
    and a cheating prover's "randomness" when it needs to control every coefficient."""

    @staticmethod
    def randrange(n):
        return 0


class Recorder:
    """A seeded rng (``random.Random(seed)``) that records the coins it hands out, in order."""

    def __init__(self, seed):
        import random

        self._rng, self.coins = random.Random(seed), []

    def randrange(self, n):
        v = self._rng.randrange(n)
        self.coins.append(v)
        return v


def solve_mod_r(rows: list[list[int]], rhs: list[int]) -> list[int] | None:
    """A solution ``d`` of ``rows·d = rhs`` over Fr (python-flint's reduced row echelon form of the augmented
    matrix; free unknowns 0), or None if the system is inconsistent."""
    import flint

    n = len(rows[0])
    aug = flint.fmpz_mod_mat([list(r) + [b] for r, b in zip(rows, rhs)], flint.fmpz_mod_ctx(R))
    red, rank = aug.rref()
    d = [0] * n
    for i in range(rank):
        col = next(j for j in range(n + 1) if int(red[i, j]))
        if col == n:
            return None  # a row 0 = non-zero
        d[col] = int(red[i, n])
    return d


def matmul_circuit(k: int, n: int):
    """``z = x·W + b``: a committed x (length ``k``), a hidden weight vector ``W`` (``n`` outputs), a public
    output ``z`` (unbounded)."""
    from zkchain.blocks import MatMul
    from zkchain.blocks.matmul import row_stride
    from zkchain.compiler.circuit import Circuit, Expr

    c = Circuit()
    c.add_vector("x", k, "witness")
    c.add_vector("W", row_stride(k) * n, "fixed")
    c.add_vector("z", n, "public", "output")
    c.constraints.append(MatMul(Expr.of("x", k), "W", k, n, Expr.of("z", n), "fc"))
    c.check()
    return c


#: unit models use narrow widths: 2^7-row tables keep each proof near 0.1 s (ranges, not values, matter here)
SMALL = {"act_bits": 6, "weight_bits": 6, "table_bits": 7}


def build(name: str, onnx_path, calibration, public_input: bool = False, sample: int = 0, seed: str = "adv",
          config: dict | None = None) -> Built:
    """compile → lower → setup (dev SRS ``seed``) → honest proof of calibration sample ``sample``."""
    model = compile_model(onnx_path, calibration=calibration, config=config)
    compiled = lower(model, public_input=public_input)
    srs = SRS.dev(required_degree(compiled.circuit), seed=seed)
    pk = setup(compiled.circuit, compiled.fixed_values, srs, f"dev:{seed}")
    cal = np.load(calibration) if str(calibration).endswith(".npy") else None
    x = cal[sample] if cal is not None else None
    x_int = model.quantize_input(x)
    honest = prove(pk, compiled.vector_values(model.execute(x_int)))
    return Built(name, model, compiled, pk, x_int, honest)


# -- cheating executions ---------------------------------------------------------------------------------

def execute_tampered(model: QuantizedModel, x_int: np.ndarray, tensor: str, index: int,
                     change: Callable[[int], int]) -> dict:
    """Run the integer model with ``tensor.flat[index] := change(old)`` right after it is produced, everything
    downstream recomputed. A table whose input left its domain answers with its nearest row (the cheater's
    choice: any answer is a lie)."""
    env = {model.input_name: np.asarray(x_int).astype(object).reshape(model.input_shape)}

    def tamper(name):
        if name == tensor:
            a = np.asarray(env[name]).astype(object).copy()
            a.flat[index] = change(int(a.flat[index]))
            env[name] = a

    tamper(model.input_name)
    for op in model.ops:
        ins = [np.asarray(env[i]) for i in op.inputs]
        if op.kind == "table":
            lo, vals = op.params["lo"], op.params["values"]
            idx = np.clip(ins[0].astype(object) - lo, 0, len(vals) - 1).astype(np.int64)
            outs = [vals[idx].astype(object), ins[0].astype(object) - lo]
        else:
            outs = RUN[op.kind](op, [a.astype(object) for a in ins])
        for n, v in zip(op.outputs, outs):
            env[n] = v
            tamper(n)
    return env


@dataclass(frozen=True)
class Tamper:
    """One lie: ``vector[index]`` changed by ``label``; ``tensor`` set when downstream values follow it."""

    vector: str
    index: int
    label: str
    tensor: str | None = None
    tensor_index: int | None = None


def input_half(b: Built) -> int:
    """The input's range is ``[−half, half)`` (``zkchain.compiler.lower``: the smallest power of two above its bound)."""
    half = 1
    while half < max(1, b.model.tensors[b.model.input_name].bound) + 1:
        half *= 2
    return half


def changes(b: Built) -> list[tuple[str, Callable[[int], int]]]:
    """The perturbations of the issue: ±1, ±2^k, just below the input range, r − 1."""
    half = input_half(b)
    return [("+1", lambda v: v + 1), ("-1", lambda v: v - 1), ("+2^8", lambda v: v + (1 << 8)),
            ("-2^16", lambda v: v - (1 << 16)), (f"-half-1={-half - 1}", lambda v: -half - 1),
            ("r-1", lambda v: R - 1)]


def tampers(b: Built, per_vector: int | None = None, rng: np.random.Generator | None = None) -> list[Tamper]:
    """Every (committed vector, perturbation) pair, on a real cell with downstream recomputation where the
    vector comes from a tensor, and on a padding cell (no recomputation) where it has one. ``per_vector``
    keeps that many perturbations per vector (rotating through the list) to bound the run time."""
    rng = rng or np.random.default_rng(0)
    c = b.compiled.circuit
    plan = b.compiled.witness
    labels = [lbl for lbl, _ in changes(b)]
    out = []
    for k, v in enumerate(c.of_kind("witness")):
        src = plan.tensor_of(v.name)  # None for a derived vector (limbs, tap differences, products)
        picks = labels if per_vector is None else [labels[(k + j) % len(labels)] for j in range(per_vector)]
        for lbl in picks:
            if src is not None:
                size = int(np.prod(b.model.tensors[src.tensor].shape))
                flat = int(rng.integers(size))
                out.append(Tamper(v.name, src.index(flat), lbl, src.tensor, flat))
            else:
                out.append(Tamper(v.name, int(rng.integers(v.length)), lbl))
        grid = src.grid if src is not None else None
        if grid is not None and grid.padded:
            pad = next(i for i in range(grid.size) if i not in
                       {src.index(f) for f in range(grid.C * grid.H * grid.W)})
            out.append(Tamper(v.name, pad, "+1 (padding cell)"))
    return out


def public_tampers(b: Built) -> list[Tamper]:
    """Out-of-range values of a public input (the verifier's bound check must catch them)."""
    out = []
    for v in b.compiled.circuit.public("input"):
        src = b.compiled.witness.tensor_of(v.name)
        flat = 0
        for lbl in ("-half-1", "-2^16", "r-1"):
            out.append(Tamper(v.name, src.index(flat), lbl, src.tensor, flat))
    return out


def cheating_values(b: Built, t: Tamper) -> dict[str, list[int]] | None:
    """The cheater's vector values, or None when the tamper is no lie: it changes no committed entry (e.g. a
    remainder moved by 2^16 whose 8-bit limbs mask it away), or it moves the model input within its range
    (an honest proof of another input)."""
    key = t.label.split(" ")[0].split("=")[0]
    change_fn = next(f for lbl, f in changes(b) if lbl.split("=")[0] == key)
    honest = b.compiled.vector_values(b.model.execute(b.x_int))
    if t.tensor is not None:
        if t.tensor == b.model.input_name:
            new = change_fn(int(np.asarray(b.x_int).flat[t.tensor_index]))
            if -input_half(b) <= (new if new <= R // 2 else new - R) < input_half(b):
                return None
        vals = b.compiled.vector_values(execute_tampered(b.model, b.x_int, t.tensor, t.tensor_index, change_fn))
    else:
        vals = {k: list(v) for k, v in honest.items()}
        vals[t.vector][t.index] = change_fn(int(vals[t.vector][t.index]))
    same = all([x % R for x in vals[v.name]] == [x % R for x in honest[v.name]]
               for v in b.compiled.circuit.of_kind("witness"))
    return None if same else vals


def cheating_proof(b: Built, t: Tamper) -> Proof | None:
    vals = cheating_values(b, t)
    return None if vals is None else prove(b.pk, vals, check_witness=False)


def with_public(proof: Proof, **changed) -> Proof:
    return dataclasses.replace(proof, **changed)


# -- the Solidity side -----------------------------------------------------------------------------------

class SolidityJudge:
    """The generated verifier for one key, deployed once on a shared chain: the specialised contract, or — when its
    code is past EIP-170 — the shared reusable verifier (deployed once per chain) with this key's tape registered."""

    _shared: dict = {}  # chain id -> (address, compiled) of the reusable verifier

    def __init__(self, chain, vk, name: str):
        from zkchain.evm import reusable
        from zkchain.evm.tape import record_tape
        from zkchain.evm.verifier_gen import EIP170_LIMIT, compile_verifier

        self.chain, self.vk = chain, vk
        specialised = compile_verifier(vk, name)
        self.mode = "specialised" if specialised.runtime_size_bytes <= EIP170_LIMIT else "reusable"
        if self.mode == "specialised":
            self.compiled, self.args = specialised, ()
            self.address, _ = chain.deploy(self.compiled, gas=15_000_000)
            return
        if id(chain) not in self._shared:
            compiled = reusable.compile_reusable()
            self._shared[id(chain)] = (chain.deploy(compiled, gas=reusable.DEPLOY_GAS)[0], compiled)
        self.address, self.compiled = self._shared[id(chain)]
        tape = record_tape(vk)
        reusable.register(chain, self.address, tape, self.compiled)
        self.args = (tape.model_id,)

    def accepts(self, proof: Proof) -> bool:
        from zkchain.evm import reusable
        from zkchain.evm.verifier_gen import calldata

        pb, pub = calldata(proof, self.vk)
        gas = 3_000_000 if self.mode == "specialised" else reusable.VERIFY_GAS
        out = self.chain.try_call(self.address, self.compiled, "verifyProof", *self.args, pb, pub, gas=gas)
        return bool(out.success and out.value)


def judge(b: Built, proof: Proof, sol: SolidityJudge | None) -> tuple[bool, bool | None]:
    """(Python accepts, Solidity accepts or None without a chain)."""
    return bool(verify(b.pk.vk, proof)), (sol.accepts(proof) if sol is not None else None)


def sweep(b: Built, sol: "SolidityJudge | None", per_vector: int | None, min_lies: int | None = None) -> int:
    """Every tamper of :func:`tampers` (``per_vector`` per committed vector) and :func:`public_tampers`, proved with
    witness checks off: the honest proof must be accepted and every lie rejected by Python and Solidity; at least
    ``min_lies`` of them must be lies (default: all but two of ``min(3, per_vector)`` per vector). Returns the number
    of lies tried."""
    assert judge(b, b.honest, sol) == (True, True if sol else None), "the honest proof must be accepted"
    accepted, lies = [], 0
    for t in tampers(b, per_vector=per_vector, rng=np.random.default_rng(1)) + public_tampers(b):
        proof = cheating_proof(b, t)
        if proof is None:
            continue  # not a lie (see harness.cheating_values)
        lies += 1
        py, so = judge(b, proof, sol)
        if py or so:
            accepted.append((t, py, so))
    if min_lies is None:
        min_lies = min(3, per_vector or 3) * len(b.compiled.circuit.of_kind("witness")) - 2
    assert lies >= min_lies, "too few lies tried"
    assert not accepted, f"{len(accepted)} of {lies} forged proofs accepted: {accepted[:5]}"
    return lies


def model_path(folder: Path) -> tuple[Path, Path]:
    return folder / "model.onnx", folder / "calibration.npy"
