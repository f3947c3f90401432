"""A proved greedy generation (``zkchain compile --generate K``, ``zkchain/onnx/generate.py``): the public output is
the K generated token ids, each the argmax of the last position's logits, fed back through the embedding.

Attack: a cheating prover replaces one generated token by another id (everything downstream recomputed: the next
step's window, its embedding lookup, logits and tokens) and proves with witness checks off — Python and Solidity
must both reject. Control: the same lie is accepted once the argmax's gap constraint (``d ∘ A = 0``) is dropped
from both sides, so the test can fail."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from harness import SMALL, build, judge
from onnx import TensorProto, helper, numpy_helper

from zkchain.crypto.field import R
from zkchain.onnx.generate import unroll

T, V, D, K = 4, 6, 3, 2


def _next_token_model(path, rng):
    """ids(4) → Embedding(6×3) + positions → MatMul(3×6) → logits(4×6)."""
    nodes = [helper.make_node("Gather", ["E", "ids"], ["e"], axis=0, name="embed"),
             helper.make_node("Add", ["e", "P"], ["h"], name="position"),
             helper.make_node("MatMul", ["h", "W"], ["logits"], name="head")]
    inits = [numpy_helper.from_array(rng.normal(size=(V, D)).astype(np.float32), "E"),
             numpy_helper.from_array((0.2 * rng.normal(size=(T, D))).astype(np.float32), "P"),
             numpy_helper.from_array(rng.normal(size=(D, V)).astype(np.float32), "W")]
    g = helper.make_graph(nodes, "next_token", [helper.make_tensor_value_info("ids", TensorProto.INT64, [T])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [T, V])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(unroll(m, K), str(path))
    return m


@pytest.fixture(scope="module")
def generation(tmp_path_factory, solidity):
    d = tmp_path_factory.mktemp("generate")
    rng = np.random.default_rng(8)  # honest tokens [2, 4] (float greedy): both above 0
    base = _next_token_model(d / "gen.onnx", rng)
    np.save(d / "cal.npy", rng.integers(0, V, size=(32, T)))
    b = build("generate", d / "gen.onnx", d / "cal.npy", config=SMALL)
    return b, base, solidity(b)


def _greedy(base, ids):
    import onnxruntime as ort

    s = ort.InferenceSession(base.SerializeToString(), providers=["CPUExecutionProvider"])
    out = []
    for _ in range(K):
        t = int(s.run(None, {"ids": np.asarray(ids, dtype=np.int64)})[0][-1].argmax())
        out.append(t)
        ids = list(ids[1:]) + [t]
    return out


def _argmax_tensors(b) -> list[str]:
    out = [op.outputs[0] for op in b.model.ops if op.kind == "argmax"]
    assert len(out) == K
    return out


def _consistent_lie(b, step: int, token: int) -> dict[str, list[int]]:
    """The cheater's vectors for "step ``step`` generated ``token``": everything downstream recomputed, and the
    argmax gadget made consistent with the lie — the one-hot ``A`` at ``token`` and the gaps ``d = m − z − T`` it
    implies — so only the gadget's own constraints can catch it."""
    from harness import execute_tampered

    from zkchain.blocks.common import expr_values
    from zkchain.compiler.lower import _vec_name

    t = _argmax_tensors(b)[step]
    vals = b.compiled.vector_values(execute_tampered(b.model, b.x_int, t, 0, lambda v: token))
    p = _vec_name(t)
    z = expr_values(b.compiled.witness.recipes[f"{p}.argmax"].x, lambda n: vals[n])
    z = [v if v <= (1 << 200) else v - R for v in z]
    m = vals[f"{p}.max"][0]
    vals[f"{p}.argmax"] = [int(j == token) for j in range(V)]
    vals[f"{p}.gap"] = [m - z[j] - int(j < token) for j in range(V)]
    return vals


def _honest_token(b, step: int) -> int:
    (out,) = b.honest.public.values()
    return int(out[step])


def _lower_token(b) -> tuple[int, int]:
    """A step whose honest token is above 0, and the token below it (a lie that keeps every gap ≥ 0)."""
    step = next(k for k in range(K) if _honest_token(b, k) > 0)
    return step, _honest_token(b, step) - 1


def test_the_public_output_is_the_greedy_generation(generation):
    b, base, sol = generation
    (out,) = b.honest.public.values()
    assert [int(v) for v in out] == _greedy(base, b.x_int.tolist())
    assert judge(b, b.honest, sol) == (True, True if sol else None)


@pytest.mark.parametrize("which", ["lower", "higher"])
def test_a_moved_token_is_rejected_by_both(generation, which):
    from zkchain.prover.prove import prove

    b, _, sol = generation
    if which == "lower":
        step, token = _lower_token(b)
    else:
        step = K - 1
        token = (_honest_token(b, step) + 1) % V
    proof = prove(b.pk, _consistent_lie(b, step, token), check_witness=False)
    assert judge(b, proof, sol) == (False, False if sol else None)


def test_control_without_the_gap_constraint_a_moved_token_is_accepted(generation, monkeypatch):
    from zkchain.blocks import Hadamard
    from zkchain.prover.prove import prove

    b, _, _ = generation
    prove_claims, verify_claims = Hadamard.prover_claims, Hadamard.verifier_claims
    gap = lambda self: self.name.endswith("has no gap")  # noqa: E731
    monkeypatch.setattr(Hadamard, "prover_claims", lambda self, pc: [] if gap(self) else prove_claims(self, pc))
    monkeypatch.setattr(Hadamard, "verifier_claims", lambda self, vc: [] if gap(self) else verify_claims(self, vc))
    step, token = _lower_token(b)
    proof = prove(b.pk, _consistent_lie(b, step, token), check_witness=False)
    assert judge(b, proof, None)[0], "with d ∘ A unchecked the lower token must verify"
