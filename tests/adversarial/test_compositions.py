"""A hidden constant composed with the next block (``docs/protocol.md`` §7.8).

``x − mean → Gemm`` used to lower to a matmul whose operand was the expression ``x + C``, with ``C`` a hidden
fixed vector: the per-proof masks of ``C`` and of the weights are free at and above their offsets ``M`` and meet
on the matmul's output rows, so a prover could prove any output (the audit's centring forgery), and the honest
prover failed its own claim. Now the lowering folds a constant before a matmul into the bias, commits it before
any other block, and the schedule refuses any hidden vector in a structured operand.

Tests: every composition proves and verifies (Python and Solidity) and no committed entry is free; the
forgery — a cheating prover that solves for the weight mask's free coefficients on a moved output — finds no
solution on the shipped lowering, while on the old lowering (fold off, schedule check off) it is accepted by both
verifiers (so the attack works and the test can fail); the schedule refuses the old circuit by name.
"""

from __future__ import annotations

import numpy as np
import pytest
from harness import SMALL, ZeroCoins, judge, solve_mod_r, sweep
from unit_models import COMPOSITIONS, save_unit_model

import zkchain.blocks.hiding as hiding
import zkchain.compiler.lower as lower_mod
import zkchain.protocol.schedule as schedule_mod
from zkchain.blocks import MatMul
from zkchain.blocks.common import expr_values
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.errors import UnsupportedModelError
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.quant.compile import compile_model


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_composition_proves_and_no_entry_is_free(name, unit_built, solidity):
    """Honest proofs verify in Python and on chain; four perturbations per committed vector are rejected by both."""
    b = unit_built(name)
    sweep(b, solidity(b), per_vector=4)


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_no_hidden_vector_in_a_structured_operand(name, unit_built):
    """What the schedule enforces, checked on the compiled circuits: a hidden vector in a layout operand is only
    ever a whole Hadamard side; the constants before a Gemm are gone (folded into its bias)."""
    c = unit_built(name).compiled.circuit
    for k in c.constraints:
        for field, e in k.structured_expressions():
            hid = [t.vector for t in e.terms if c.is_hidden(t.vector)]
            assert not hid or (field in k.hidden_operands and len(e.terms) == 1), (k.name, field, hid)
    for k in c.of_block(MatMul):
        assert not [t for t in k.x.terms if c.vectors[t.vector].kind == "fixed"], k.name


# -- the centring forgery --------------------------------------------------------------------------------------

def _old_lowering(monkeypatch, refuse: bool):
    """The lowering before the fold: ``x + C`` stays the matmul's operand (and, unless ``refuse``, the schedule's
    hidden-operand check and its layout check are off)."""
    monkeypatch.setattr(lower_mod, "fold_into_bias", lambda c, x, fixed, W, bias: (x, [int(v) for v in bias]))
    if not refuse:
        monkeypatch.setattr(schedule_mod, "_hidden_reads", lambda circuit: None)
        monkeypatch.setattr(schedule_mod, "check_layout", lambda *a: None)


def _keys(tmp_path, name):
    """Compile ``name`` and set up with a dev SRS three times the needed size (a real ``.ptau`` is a power of two
    and usually far larger than a model needs: the forgery's long mask must fit)."""
    path, _, _ = save_unit_model(name, tmp_path)
    model = compile_model(path, calibration=tmp_path / "calibration.npy", config=SMALL)
    compiled = lower_mod.lower(model)
    srs = SRS.dev(3 * required_degree(compiled.circuit), seed="forge")
    pk = setup(compiled.circuit, compiled.fixed_values, srs, "dev:forge")
    x_int = model.quantize_input(np.load(tmp_path / "calibration.npy")[0])
    return model, compiled, pk, x_int


def _forge(monkeypatch, model, compiled, pk, x_int):
    """The public output's entry 0 moved by one; the weight mask ``Δ_W`` solved so that every output row of the
    matmul claim balances (all other coins zero). Returns the forged proof, or None when no ``Δ_W`` does it."""
    c = compiled.circuit
    sch = schedule_mod.schedule(c)
    (mm,) = c.of_block(MatMul)
    s, n, (M_W, _) = mm.stride, mm.n, sch.masks[mm.weight]
    vals = compiled.vector_values(model.execute(x_int))
    out_name = next(v.name for v in c.public("output"))
    lie = {k: list(v) for k, v in vals.items()}
    lie[out_name][0] += 1

    # the polynomials the prover commits with every coin zero: x̃ (data, C̃ = C + r⁰·X^M), W̃ without Δ
    fixed = {f: hiding.masked([v % R for v in pk.fixed_values[f]], pk.fixed_masks[f], [], sch.masks[f][0])
             for f in sch.hidden}
    coeff = lambda name: fixed.get(name) or [v % R for v in lie[name]]  # noqa: E731
    x = expr_values(mm.x, coeff)
    w = fixed[mm.weight]
    out = expr_values(mm.out, lambda nm: [v % R for v in lie[nm]])
    xp = [1] + x  # u's row j: ρ^j·(1, x̃_0, x̃_1, …) from position offset + j·s
    rows, rhs = [], []
    o = mm.offset
    horizon = M_W + o + n * s + len(xp)
    for j in range(n):
        base = sum(w[o + j * s + i] * a for i, a in enumerate(xp) if o + j * s + i < len(w)) % R
        rhs.append((out[j] - base) % R)
        rows.append([xp[p - o - j * s] if 0 <= p - o - j * s < len(xp) else 0 for p in range(M_W, horizon)])
    sol = solve_mod_r(rows, rhs)
    if sol is None:
        return None
    monkeypatch.setattr(hiding, "draw_masks", lambda sch_, rng: {
        f: ([0] * M_W + sol if f == mm.weight else [0] * (sch_.masks[f][0] + sch_.masks[f][1])) for f in sch_.hidden})
    return prove(pk, lie, check_witness=False, rng=ZeroCoins())


class _Built:  # what harness.judge reads
    def __init__(self, pk):
        self.pk = pk


def test_schedule_refuses_a_hidden_constant_in_a_matmul_operand(monkeypatch, tmp_path):
    _old_lowering(monkeypatch, refuse=True)
    with pytest.raises(UnsupportedModelError, match=r"matmul 'fc': operand x holds the hidden fixed vector 'C\.0"):
        _keys(tmp_path, "centre_gemm")


def test_layout_check_alone_refuses_the_old_lowering(monkeypatch, tmp_path):
    """Independently of the role allow-list: the layout check finds the forgery's meeting (a free coefficient of
    the weight mask against the centring constant in the matmul's output rows) and names the Gemm."""
    _old_lowering(monkeypatch, refuse=True)
    monkeypatch.setattr(schedule_mod, "_hidden_reads", lambda circuit: None)
    with pytest.raises(UnsupportedModelError, match=r"'fc': the zero-knowledge layout does not hold \(VIOLATION: matmul fc"):
        _keys(tmp_path, "centre_gemm")


def test_centring_forgery_finds_no_mask_on_the_shipped_lowering(monkeypatch, tmp_path, solidity):
    model, compiled, pk, x_int = _keys(tmp_path, "centre_gemm")
    assert not [v for v in compiled.circuit.of_kind("fixed") if v.name.startswith("C.")], "the mean is in the bias"
    assert _forge(monkeypatch, model, compiled, pk, x_int) is None


def test_control_centring_forgery_is_accepted_on_the_old_lowering(monkeypatch, tmp_path, adv_chain):
    """The attack works: with the old lowering (and the schedule check off) the moved output verifies in Python
    and in the generated Solidity verifier."""
    from harness import SolidityJudge

    _old_lowering(monkeypatch, refuse=False)
    model, compiled, pk, x_int = _keys(tmp_path, "centre_gemm")
    forged = _forge(monkeypatch, model, compiled, pk, x_int)
    assert forged is not None, "the old lowering leaves Δ_W free against C̃'s mask"
    honest = np.asarray(model.execute(x_int)[model.output_names[0]]).reshape(-1)
    assert forged.public[next(iter(forged.public))][0] == int(honest[0]) + 1
    assert judge(_Built(pk), forged, SolidityJudge(adv_chain, pk.vk, "AdvOldCentreGemm")) == (True, True)


# -- as a user runs them ------------------------------------------------------------------------------------------

def _cli(capsys, *argv):
    from zkchain.cli import main

    with pytest.raises(SystemExit) as ei:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ei.value.code, out, err


@pytest.mark.parametrize("name", ["centre_gemm", "sub_div_gemm", "add_maxpool"])
def test_composition_through_the_cli(name, tmp_path, capsys):
    """compile (which reports the layout check), setup, prove, verify: exit 0 and the proof accepted."""
    import json

    path, shape, _ = save_unit_model(name, tmp_path)
    build = tmp_path / "build"
    code, out, err = _cli(capsys, "compile", path, "-o", build, "--calibration", tmp_path / "calibration.npy",
                          "--act-bits", 6, "--weight-bits", 6)
    assert code == 0, err
    assert "zero-knowledge layout checked" in err
    assert _cli(capsys, "setup", build)[0] == 0
    x = np.load(tmp_path / "calibration.npy")[3].reshape(-1).tolist()
    (tmp_path / "in.json").write_text(json.dumps({"input_data": [x]}))
    code, out, err = _cli(capsys, "prove", build, "--input", tmp_path / "in.json", "-o", tmp_path / "proof.json")
    assert code == 0, err
    code, out, err = _cli(capsys, "verify", build, tmp_path / "proof.json")
    assert code == 0 and "accepted" in out, err


def test_control_the_fuzzers_generic_attacker_finds_the_centring_forgery(monkeypatch, tmp_path):
    """The composition fuzzer's attacker (``free_coefficients.py``) knows nothing of matmuls: on the old lowering it
    finds the weight mask that balances the moved output, and the Python verifier accepts the proof — so its
    "no solution" on every fuzzed graph means something."""
    from free_coefficients import families, forged_proof, solve

    from zkchain.verifier.verify import verify

    _old_lowering(monkeypatch, refuse=False)
    model, compiled, pk, x_int = _keys(tmp_path, "centre_gemm")
    lie = compiled.vector_values(model.execute(x_int))
    lie[next(v.name for v in compiled.circuit.public("output"))][0] += 1
    found = [(f, s) for f in families(pk, lie) if f.kind == "mask" and (s := solve(pk, lie, f)) is not None]
    assert [f.vector for f, _ in found] == [next(k.weight for k in compiled.circuit.of_block(MatMul))]
    assert verify(pk.vk, forged_proof(pk, lie, *found[0], monkeypatch))


@pytest.mark.anvil
def test_compositions_on_anvil(unit_built):
    """Every composition's honest proof is accepted by its generated verifier on a real node, a moved output
    rejected."""
    from harness import SolidityJudge, with_public

    from zkchain.errors import SetupError
    from zkchain.evm.anvil import Anvil, find_anvil
    from zkchain.evm.chain import Chain

    try:
        find_anvil()
    except SetupError:
        pytest.skip("anvil not installed (bash scripts/dev.sh setup)")
    with Anvil() as node:
        chain = Chain.rpc(node.url)
        for name in COMPOSITIONS:
            b = unit_built(name)
            sol = SolidityJudge(chain, b.pk.vk, "Anvil" + "".join(p.capitalize() for p in name.split("_")))
            out = next(iter(b.honest.public))
            moved = dict(b.honest.public, **{out: [b.honest.public[out][0] + 1] + b.honest.public[out][1:]})
            assert (sol.accepts(b.honest), sol.accepts(with_public(b.honest, public=moved))) == (True, False), name
