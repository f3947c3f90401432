"""The layout check (``zkchain/blocks/layout.py``, ``docs/protocol.md`` §7.9).

1. The blocks' declarations are their prover claims: on every unit model, single coefficients of the committed
   polynomials (data, spans, tails, gaps, pins, masks, the unbounded Δ) are perturbed, and every change of every
   claim's constant term must be a combination of ``ρ^row`` over the rows the declarations say that coefficient
   meets in (checked at ``k + 2`` values of ρ for ``k`` declared rows). A meeting a block forgot to declare — the
   way a composition hole hides — fails this test.
2. Every circuit the compiler makes passes the check (the schedule runs it on every circuit).
3. Weakened layouts are refused, naming the block: a hidden constant inside a matmul operand (the audit's
   forgery, with the older refusal switched off), matmul row gaps too short for the tail, unstaggered Hadamard
   tails, lookup segments without gaps, a convolution kernel without its pattern pin, a block that declares
   nothing.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from free_coefficients import _base, _context
from harness import solve_mod_r
from unit_models import COMPOSITIONS, UNIT_MODELS

from zkchain.blocks import ARGUMENTS
from zkchain.blocks.common import ProverContext
from zkchain.blocks.lookup import GAMMA, LogUp, query_column
from zkchain.crypto.field import R
from zkchain.errors import UnsupportedModelError
from zkchain.blocks import layout
from zkchain.protocol.schedule import schedule


def _probes(lay, rng, per_run: int = 1) -> list[tuple[str, int]]:
    """Coefficients to perturb: both ends and a few inside of every run of every committed polynomial (four past
    an unbounded Δ's start); verifiable zeros past a degree bound are left out (the degree check owns them)."""
    c = lay.circuit
    out = []
    for name, reg in lay.regions.items():
        v = c.vectors.get(name)
        if v is not None and (v.kind == "public" or (v.kind == "fixed" and name not in lay.sch.masks)):
            continue  # not committed: the verifier computes them
        for lo, hi, cls in reg.runs:
            if cls == layout.ZERO:
                continue
            hi = lo + 4 if hi >= layout.INF else hi
            pos = {lo, hi - 1} | {rng.randrange(lo, hi) for _ in range(per_run)}
            out += [(name, p) for p in sorted(pos)]
    return out


def _context_at(b, vals, coeffs, ch):
    """The prover's context after the argument rounds, at challenges ``ch``."""
    return _context(b.pk, vals, coeffs, ch, [a for a in ARGUMENTS if a.active(b.pk.circuit)])


def _claim_values(b, pc, probe=None, near=None) -> list[int | None]:
    """``Σ_t ⟨p_t, q_t⟩`` of every claim (constraints, then arguments) with coefficient ``probe`` raised by one;
    only the sources in ``near`` (those that open the probed polynomial, and the arguments) are recomputed, the
    others are None."""
    c = b.pk.circuit
    args = [a for a in ARGUMENTS if a.active(c)]
    if probe is not None:
        name, j = probe
        poly = list(pc.coeffs.get(name) or pc.values[name])
        poly += [0] * max(0, j + 1 - len(poly))
        poly[j] = (poly[j] + 1) % R
        pc = ProverContext(c, pc.values, {**pc.coeffs, name: poly}, pc.challenges,
                           {k: dict(v) if isinstance(v, dict) else v for k, v in pc.state.items()})
        if LogUp in args:  # the query column reads the committed operands
            pc.state["logup"]["F"] = query_column(c, pc.committed, pc.challenges[GAMMA])
    out = []
    counts = b.__dict__.setdefault("_claim_counts", {})
    for src in list(c.constraints) + args:
        if id(src) not in counts:
            counts[id(src)] = len(src.layout(layout.Declarer(c)))
        n = counts[id(src)]
        if near is None or src in near:
            out += [sum(x * y for p, q in cl.terms for x, y in zip(p, q)) % R for cl in src.prover_claims(pc)]
        else:
            out += [None] * n
    return out


def _in_span(deltas: list[int], rhos: list[int], rows: list[int]) -> bool:
    if not rows:
        return not any(deltas)
    return solve_mod_r([[pow(r, e, R) for e in rows] for r in rhos], deltas) is not None


#: the slowest declarations checks (many rows per coefficient): their blocks are covered by faster models too
SLOW = {"conv_pad1_maxpool", "layer_norm", "movement", "batch_norm", "conv_patches", "conv_patches_public",
        "batch_cnn", "batch_cnn_public", "shared_grid", "conv_transpose", "lstm"}


#: a Gather summing more than 64 entries into one output (a 6×6 global average over 32 channels, ~1,000 rows per
#: coefficient): past this test's solver; its
#: blocks (conv, gather) are checked here on smaller windows
TOO_WIDE = {"wide_global_avg"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.sweep) if n in SLOW else n
                                  for n in sorted(UNIT_MODELS) if n not in TOO_WIDE])
def test_declarations_are_the_claims(unit_built, name):
    b = unit_built(name)
    c = b.pk.circuit
    lay = layout.Layout(c, schedule(c))
    args = [a for a in ARGUMENTS if a.active(c)]
    d = layout.Declarer(c)
    n_claims = sum(len(k.layout(d)) for k in c.constraints) + sum(len(a.layout(d)) for a in args)
    assert len(lay.claims) == n_claims
    rng = random.Random(7)
    probes = _probes(lay, rng)
    predicted = {p: lay.rows_meeting(*p) for p in probes}
    k = max((len(r) for pr in predicted.values() for r in pr.values()), default=0)
    assert k <= 64, f"a unit model with {k} rows per coefficient is too large for this test"
    vals, coeffs = _base(b.pk, b.compiled.vector_values(b.model.execute(b.x_int)))
    fixed = {kk: rng.randrange(1, R) for kk in ("gamma", "beta", "lambda", "sigma")} | {"alpha": 1, "epsilon": 1}
    rhos = [rng.randrange(2, R) for _ in range(k + 2)]
    contexts = [_context_at(b, vals, coeffs, dict(fixed, rho=r)) for r in rhos]
    base = [_claim_values(b, pc) for pc in contexts]
    assert len(base[0]) == len(lay.claims), "prover claims and declared claims differ in number"
    opens = {src: {n for n, _ in src.openings(c)} for src in c.constraints}
    checked = 0
    for p in probes:
        rows_by_claim = predicted[p]
        m = max((len(r) for r in rows_by_claim.values()), default=0) + 2
        near = {src for src, names in opens.items() if p[0] in names} | set(args)
        moved = [_claim_values(b, pc, p, near) for pc in contexts[:m]]
        for ci in range(len(lay.claims)):
            rows = sorted(rows_by_claim.get(ci, ()))
            if moved[0][ci] is None:  # a block that does not open the polynomial cannot read it
                assert not rows, f"{lay.claims[ci].name!r} declares a meeting with {p[0]!r} but never opens it"
                continue
            deltas = [(moved[i][ci] - base[i][ci]) % R for i in range(m)]
            assert _in_span(deltas, rhos[:m], rows), (
                f"{name}: coefficient {p[1]} of {p[0]!r} meets something the declarations of "
                f"{lay.claims[ci].name!r} do not list (declared rows {rows[:8]})")
            checked += bool(rows)
    assert checked, "no probe met anything: the test checked nothing"


@pytest.mark.parametrize("name", sorted(UNIT_MODELS) + sorted(COMPOSITIONS))
def test_compiled_circuits_hold_the_invariant(tmp_path, name):
    from unit_models import save_unit_model

    from harness import SMALL
    from zkchain.compiler.lower import lower
    from zkchain.quant.compile import compile_model

    path, _, public = save_unit_model(name, tmp_path)
    try:
        circuit = lower(compile_model(path, calibration=tmp_path / "calibration.npy", config=SMALL),
                        public_input=public).circuit
    except UnsupportedModelError as e:
        assert "layout" not in str(e), e  # refused for another reason, by another rule
        return
    assert layout.findings(circuit, schedule(circuit)) == []


# -- weakened layouts: each must be found -----------------------------------------------------------------------

def _centred_matmul():
    """``z = (x + C)·W`` with ``C`` a hidden constant inside the matmul operand (the audit's forgery shape)."""
    from zkchain.blocks import MatMul
    from zkchain.blocks.matmul import row_stride
    from zkchain.compiler.circuit import Circuit, Expr, Term

    k, n = 4, 3
    c = Circuit()
    c.add_vector("x", k, "witness")
    c.add_vector("C", k, "fixed")
    c.add_vector("W", row_stride(k) * n, "fixed")
    c.add_vector("z", n, "public", "output")
    c.constraints.append(MatMul(Expr(k, (Term("x"), Term("C")), 0), "W", k, n, Expr.of("z", n), "/0/Gemm"))
    c.check()
    return c


def test_hidden_constant_in_a_matmul_operand_is_found(monkeypatch):
    import zkchain.protocol.schedule as sched

    monkeypatch.setattr(sched, "_hidden_reads", lambda circuit: None)  # the older, narrower refusal off
    monkeypatch.setattr(sched, "check_layout", lambda *a: None)
    c = _centred_matmul()
    found = layout.findings(c, schedule(c))
    assert any(f.kind == layout.VIOLATION and f.node == "/0/Gemm" and "C" in (f.p, f.q) for f in found), found
    monkeypatch.undo()
    monkeypatch.setattr(sched, "_hidden_reads", lambda circuit: None)
    with pytest.raises(UnsupportedModelError, match="'/0/Gemm'.*zero-knowledge layout"):
        schedule(_centred_matmul())


def _unit_circuit(tmp_path, name):
    from unit_models import save_unit_model

    from harness import SMALL
    from zkchain.compiler.lower import lower
    from zkchain.quant.compile import compile_model

    path, _, public = save_unit_model(name, tmp_path)
    return lower(compile_model(path, calibration=tmp_path / "calibration.npy", config=SMALL),
                 public_input=public).circuit


def _weakened(monkeypatch, tmp_path, name, kind, node_kind):
    import zkchain.protocol.schedule as sched

    monkeypatch.setattr(sched, "check_layout", lambda *a: None)
    c = _unit_circuit(tmp_path, name)
    found = layout.findings(c, schedule(c))
    assert any(f.kind == kind for f in found), [str(f) for f in found]
    kinds = {k.name: k.kind for k in c.constraints}
    assert any(kinds.get(f.node, "logUp" if f.node == "logUp" else None) == node_kind for f in found if f.kind == kind)
    return found


def test_short_matmul_gaps_are_found(monkeypatch, tmp_path):
    import zkchain.blocks.matmul as mm

    monkeypatch.setattr(mm, "GAP", 2)  # rows of W' too close: x's tail reaches the next row's bias and weights
    _weakened(monkeypatch, tmp_path, "gemm_relu", layout.VIOLATION, "matmul")


def test_unstaggered_hadamard_tails_are_found(monkeypatch, tmp_path):
    import zkchain.protocol.schedule as sched

    monkeypatch.setattr(sched, "STAGGER", 0)  # both sides' random tails on the same positions
    _weakened(monkeypatch, tmp_path, "square_residual", layout.COMPLETENESS, "hadamard")


def test_lookup_segments_without_gaps_are_found(monkeypatch, tmp_path):
    import zkchain.blocks.lookup as lk

    monkeypatch.setattr(lk, "_gap", lambda circuit, c: 0)  # an operand's tail lands on the next segment's queries
    _weakened(monkeypatch, tmp_path, "gemm_relu", layout.VIOLATION, "logUp")


def test_unpinned_kernel_slots_are_found(monkeypatch, tmp_path):
    from zkchain.blocks.conv import Conv

    monkeypatch.setattr(Conv, "off_pattern", lambda self: np.zeros(0, dtype=np.int64))
    name = next(n for n in sorted(UNIT_MODELS) if n.startswith("conv"))
    _weakened(monkeypatch, tmp_path, name, layout.VIOLATION, "conv")


def test_a_block_without_a_declaration_is_refused():
    from dataclasses import dataclass

    from zkchain.blocks import registered
    from zkchain.compiler.circuit import Block, Circuit, Expr

    @dataclass(frozen=True)
    class Silent(Block):
        kind = "silent_test_block"
        x: Expr
        name: str = ""

    with registered(Silent):
        c = Circuit()
        c.add_vector("x", 4, "witness")
        c.add_vector("z", 4, "public", "output")
        c.constraints.append(Silent(Expr.of("x", 4), "quiet"))
        with pytest.raises(UnsupportedModelError, match="'quiet'.*declares no layout"):
            schedule(c)
