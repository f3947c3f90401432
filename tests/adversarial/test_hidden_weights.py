"""Hidden fixed vectors (protocol v2, ``docs/protocol.md`` §7.6): attacks on the VK mask and the per-proof mask.

The VK commits to ``F + r⁰·X^M`` and every proof reads ``F̃ = F^vk + Δ`` with ``Δ = X^M·R`` committed by the
prover. A cheating prover who puts anything into ``Δ`` *below* ``M`` changes the weights every relation reads:
with ``Δ`` carrying ``W₂ − W`` it proves ``z = x·W₂ + b`` against the VK of ``W``. The link
``D = Σ λ^i ζ^(M_i) Δ_i − R_λ``, ``D(1/ζ) = 0`` is the only thing in the way: each forgery below is rejected by the
Python and the Solidity verifier, and accepted by the Python verifier once the link is switched off on both sides
(the control that makes the test able to fail).
"""

from __future__ import annotations

import pytest
from harness import SolidityJudge, ZeroCoins, execute_tampered, judge, matmul_circuit, solve_mod_r

from zkchain.blocks import hiding
from zkchain.blocks.matmul import GAP, weight_vector
from zkchain.compiler.circuit import Circuit
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.protocol.schedule import schedule
from zkchain.verifier.verify import verify

K, N = 4, 3
W = [[(5 * l + 3 * j) % 7 - 3 for j in range(N)] for l in range(K)]
BIAS = [2, -3, 5]
X = [1, -2, 3, 2]


def _circuit() -> Circuit:
    """``z = x·W + b``: a committed x, a hidden weight vector, a public output."""
    return matmul_circuit(K, N)


@pytest.fixture(scope="module")
def srs():
    return SRS.dev(required_degree(_circuit()) + 2 * GAP, seed="hidden-weights")


def _outputs(Wm):
    return [sum(X[l] * Wm[l][j] for l in range(K)) + BIAS[j] for j in range(N)]


def _with_low_mask(monkeypatch, low: dict[str, list[int]]):
    """Make the prover add ``low[f]`` (a vector below ``M_f``) to its per-proof mask ``Δ_f``."""
    real = hiding.draw_masks

    def doctored(sch, rng):
        out = real(sch, rng)
        for f, add in low.items():
            out[f] = [(a + b) % R for a, b in zip(out[f], add + [0] * (len(out[f]) - len(add)))]
        return out

    monkeypatch.setattr(hiding, "draw_masks", doctored)


def _without_link(monkeypatch):
    """Switch the link off on both sides (the control): no ``D`` in the prover's batch, no terms in the fold."""
    monkeypatch.setattr(hiding, "link_polynomial", lambda *a, **k: None)
    monkeypatch.setattr(hiding, "link_terms", lambda *a, **k: {})


def test_two_setups_give_unrelated_keys_and_no_dictionary_test(srs):
    """Two setups of one model: different fixed commitments, neither the plain KZG commitment of the weights
    (an attacker holding a candidate model cannot recompute and compare), and both keys prove and verify."""
    c, vals = _circuit(), {"W": weight_vector(W, BIAS)}
    a, b = setup(c, vals, srs, "dev:hidden-weights"), setup(c, vals, srs, "dev:hidden-weights")
    plain = get_backend().g1_to_bytes(kzg.commit(srs, vals["W"]))
    assert a.vk.fixed_commitments["W"] != b.vk.fixed_commitments["W"]
    assert plain not in (a.vk.fixed_commitments["W"], b.vk.fixed_commitments["W"])
    assert a.vk.digest != b.vk.digest
    for pk in (a, b):
        assert verify(pk.vk, prove(pk, {"x": X, "z": _outputs(W)}))


def test_weight_evaluations_are_fresh_in_every_proof(srs):
    """The same witness proved twice: W̃'s evaluations differ (v1 opened W' itself, the same value at a ζ an
    attacker could not pick, but enough equations over a few dozen proofs to solve for the weights)."""
    pk = setup(_circuit(), {"W": weight_vector(W, BIAS)}, srs, "dev:hidden-weights")
    p1, p2 = (prove(pk, {"x": X, "z": _outputs(W)}) for _ in range(2))
    sch = schedule(pk.circuit)
    at = {p: names.index("W") for p, names in sch.opened.items() if "W" in names}
    assert at, "W is opened somewhere"
    for p, i in at.items():
        assert p1.evaluations[p][i] != p2.evaluations[p][i]


@pytest.fixture(scope="module")
def forged_setting(srs, adv_chain):
    pk = setup(_circuit(), {"W": weight_vector(W, BIAS)}, srs, "dev:hidden-weights")
    return pk, SolidityJudge(adv_chain, pk.vk, "AdvHiddenWeights")


def _swap_weights():
    """Other weights ``W₂`` (one entry moved by 5) and ``W₂' − W'`` in the layout: a change below ``M``."""
    W2 = [row[:] for row in W]
    W2[1][0] += 5
    diff = [(a - b) % R for a, b in zip(weight_vector(W2, BIAS), weight_vector(W, BIAS))]
    return W2, diff


def test_a_weight_mask_below_M_cannot_swap_the_weights(forged_setting, monkeypatch):
    pk, sol = forged_setting
    W2, diff = _swap_weights()
    forged = {"x": X, "z": _outputs(W2)}
    assert _outputs(W2) != _outputs(W)
    assert sol.accepts(prove(pk, {"x": X, "z": _outputs(W)}))
    _with_low_mask(monkeypatch, {"W": diff})
    proof = prove(pk, forged, check_witness=False)
    assert not verify(pk.vk, proof)
    assert not sol.accepts(proof)


def test_control_without_the_link_the_weight_swap_is_accepted(forged_setting, monkeypatch):
    pk, _ = forged_setting
    W2, diff = _swap_weights()
    _with_low_mask(monkeypatch, {"W": diff})
    _without_link(monkeypatch)
    assert verify(pk.vk, prove(pk, {"x": X, "z": _outputs(W2)}, check_witness=False)), \
        "without the link a mask below M swaps the weights: this control must be accepted"


def test_a_weight_mask_below_M_cannot_move_a_bias_of_a_real_model(unit_built, solidity, monkeypatch):
    """On a compiled model (gemm_relu): the first layer's bias of output 0 moved by 40 through ``Δ`` (its slot
    is coefficient 0 of that layer's weight vector), the accumulator moved by 40 and everything downstream
    recomputed. Every relation holds over the weights the proof reads; only the link catches the swap."""
    b = unit_built("gemm_relu")
    sol = solidity(b)
    from zkchain.blocks import MatMul

    mm = next(k for k in b.pk.circuit.of_block(MatMul) if k.name == "fc1")  # its bias_0 sits at its row offset
    assert mm.weight in schedule(b.pk.circuit).hidden
    vals = b.compiled.vector_values(execute_tampered(b.model, b.x_int, "h:acc", 0, lambda v: v + 40))
    _with_low_mask(monkeypatch, {mm.weight: [0] * mm.offset + [40]})
    assert judge(b, prove(b.pk, vals, check_witness=False), sol) == (False, False if sol else None)
    _without_link(monkeypatch)
    assert verify(b.pk.vk, prove(b.pk, vals, check_witness=False)), "control: accepted without the link"


@pytest.mark.parametrize("name,expect_public", [("digits_mlp", {"table_out"}), ("digits_cnn", {"table_out"}),
                                                ("lenet5", {"K.1._2_AveragePool_output_0:sum",
                                                            "K.3._5_AveragePool_output_0:sum", "table_out"})])
def test_every_weight_and_kernel_is_hidden(name, expect_public):
    """Only vectors that follow from the circuit alone (sum-pool kernels, a ReLU-only table column) go unmasked;
    every matmul weight and conv kernel (``W.*``, ``K.*:acc``) of the bundled models is hidden."""
    from harness import compile_model, lower

    from zkchain.compiler.circuit import PARAMETER_FREE
    from zkchain.models import bundled_model_dir

    d = bundled_model_dir(name)
    c = lower(compile_model(d / "model.onnx", calibration=d / "calibration.npy")).circuit
    fixed, hidden = {v.name: v for v in c.of_kind("fixed")}, set(schedule(c).hidden)
    public = {n for n, v in fixed.items() if v.role == PARAMETER_FREE}
    assert public == expect_public and hidden == set(fixed) - public
    assert all(n in hidden for n in fixed if n.startswith("W.") or n.endswith(":acc"))


def _interpolate(points: list[tuple[int, int]]) -> list[int]:
    """The coefficients of the polynomial of degree < len(points) through ``points`` (a Vandermonde solve)."""
    coeffs = solve_mod_r([[pow(x, j, R) for j in range(len(points))] for x, _ in points], [y for _, y in points])
    assert coeffs is not None, "distinct points"
    return coeffs


def _weight_openings(pk, count: int, rng_factory) -> list[tuple[int, int]]:
    """``(ζ, value of the weight polynomial at ζ)`` from ``count`` proofs of different inputs (the users' queries;
    the transcript replayed to get ζ)."""
    import random

    from zkchain.verifier.loader import NativeLoader
    from zkchain.verifier.verify import run

    sch = schedule(pk.circuit)
    i = sch.opened["zeta"].index("W")
    out, queries = [], random.Random(5)
    for _ in range(count):
        x = [queries.randrange(-8, 8) for _ in range(K)]
        z = [sum(x[l] * W[l][j] for l in range(K)) + BIAS[j] for j in range(N)]
        proof = prove(pk, {"x": x, "z": z}, rng=rng_factory())
        ch = run(NativeLoader(pk.vk, proof, sch, get_backend()), pk.vk)
        out.append((int(ch["zeta"]), proof.evaluations["zeta"][i]))
    return out


def test_weight_recovery_attack_succeeds_without_coins_and_fails_on_v2(srs):
    """v1 opened the weight polynomial W' at a fresh ζ in every proof: ``len(W')`` proofs determine it (34 proofs
    gave the digits MLP's last layer). The attack interpolates the observed ``(ζ, W'(ζ))``; it returns the weights
    exactly from coin-free keys and proofs, and from v2 keys and proofs something else (each proof adds ``t_f``
    unknown mask coefficients to its one equation, and the VK mask one more)."""
    import random

    c, vals = _circuit(), {"W": weight_vector(W, BIAS)}
    n = len(vals["W"])
    assert schedule(c).opened["zeta"].count("W") == 1 and schedule(c).masks["W"][0] == n

    v1 = setup(c, vals, srs, "dev:hidden-weights", rng=ZeroCoins())
    assert _interpolate(_weight_openings(v1, n, ZeroCoins)) == vals["W"]

    seeds = iter(range(1000))
    v2 = setup(c, vals, srs, "dev:hidden-weights")
    got = _interpolate(_weight_openings(v2, n, lambda: random.Random(next(seeds))))
    assert got != vals["W"] and sum(a == b for a, b in zip(got, vals["W"])) <= 2
