"""Adding a basic block is one file (``docs/architecture.md``, "How to add a block").

This module *is* that file for a block the library does not have: row sums, ``out_j = Σ_i x[j·n + i]`` (what a
softmax or a LayerNorm needs per row). It declares the constraint once — its JSON form, its openings, the
prover's claim, the verifier equation and the layout of its claim (which coefficients meet in which rows, for
the zero-knowledge check) — and registers it; the schedule, the prover, the Python verifier and
the generated Solidity verifier then handle it with no other change. An honest proof is accepted by both
verifiers; a cheating prover's wrong row sum, and the mutation catalogue of the proof, are rejected by both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest
from _vectors import mutations, python_verdict

from zkchain.blocks import load_circuit, registered
from zkchain.blocks.common import ZETA
from zkchain.blocks.layout import LayoutClaim, Lin, Rows
from zkchain.compiler.circuit import Block, Circuit, Expr
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.errors import SetupError, UnsupportedModelError
from zkchain.evm.verifier_gen import calldata, compile_verifier
from zkchain.prover.keys import required_degree, setup
from zkchain.prover.prove import prove
from zkchain.verifier.verify import verify

GAS = 3_000_000


@dataclass(frozen=True)
class RowSum(Block):
    """``out_j = Σ_{i<n} x[j·n + i]`` for ``j < rows``.

    One Laurent claim (``docs/protocol.md`` §5.3): ``⟨x, q⟩ = out(ρ)`` with ``q_(j·n+i) = ρ^j``, whose
    polynomial is ``Q̂(Y) = ones_rows(ρ·Y^n)·ones_n(Y)``; the verifier evaluates it at ``1/ζ`` in closed form.
    Soundness error ``rows/r`` (ρ) plus the Laurent argument's."""

    kind = "test_rowsum"
    x: Expr
    out: Expr
    rows: int
    n: int
    name: str = ""

    def check(self, circuit, where: str) -> None:
        super().check(circuit, where)
        if self.x.length != self.rows * self.n or self.out.length != self.rows:
            raise ValueError(f"{where}: lengths do not match rows × n")

    def openings(self, circuit):
        return [(v, ZETA) for v in self.x.vectors()] + [(v, ZETA) for v in self.out.vectors()]

    def prover_claims(self, pc):
        q = [pow(pc.rho, j, R) for j in range(self.rows) for _ in range(self.n)]
        return [pc.claim([(pc.poly(self.x), q)], self.out, self.name or "rowsum")]

    def verifier_claims(self, vc):
        L = vc.L
        q = L.prod([L.ones(self.rows, L.point(1, self.n)), L.ones(self.n, vc.zeta_inv)])
        return [(L.named(vc.at(self.x, ZETA) * q, f"rowsum {self.name}"), vc.at_rho(self.out))]

    def layout(self, lay):
        """Entry ``j·n + i`` of ``x`` meets ``ρ^j`` (row ``j``); the sums are read in their rows."""
        idx = np.arange(self.rows * self.n, dtype=np.int64)
        fams = (Lin(lay.atoms(self.x), idx, idx // self.n, "row sums"), *lay.reads(self.out))
        return [LayoutClaim(f"rowsum {self.name}", self.name, fams, Rows([(0, self.rows)]))]


ROWS, N = 5, 7


def _circuit() -> Circuit:
    c = Circuit()
    x = c.add_vector("x", ROWS * N, "witness")
    out = c.add_vector("sums", ROWS, "public", "output", bound=2**40)
    c.constraints.append(RowSum(x, out, ROWS, N, "rows"))
    c.check()
    return c


def _values(x):
    return {"x": x, "sums": [sum(x[j * N:(j + 1) * N]) for j in range(ROWS)]}


@pytest.fixture(scope="module")
def rowsum(chain):
    with registered(RowSum):
        c = _circuit()
        pk = setup(c, {}, SRS.dev(required_degree(c), seed="rowsum"), "dev:rowsum")
        x = [random.Random(5).randrange(-1000, 1000) for _ in range(ROWS * N)]
        proof = prove(pk, _values(x))
        try:
            compiled = compile_verifier(pk.vk, "RowSumVerifier")
        except SetupError as exc:
            pytest.skip(f"solc-js not available: {exc}")
    address, _ = chain.deploy(compiled, gas=15_000_000)
    return pk, x, proof, compiled, address


def _on_chain(chain, compiled, address, pb, pub) -> bool:
    out = chain.try_call(address, compiled, "verifyProof", pb, pub, gas=GAS)
    return bool(out.success and out.value)


def test_a_block_defined_in_one_file_is_proven_and_verified_by_both(chain, rowsum):
    pk, x, proof, compiled, address = rowsum
    with registered(RowSum):
        assert verify(pk.vk, proof).accepted
        pb, pub = calldata(proof, pk.vk)
        assert _on_chain(chain, compiled, address, pb, pub)
        assert load_circuit(pk.circuit.to_json()).dumps() == pk.circuit.dumps()  # its JSON form round-trips


def test_wrong_row_sum_and_mutated_proofs_are_rejected_by_both(chain, rowsum):
    pk, x, proof, compiled, address = rowsum
    with registered(RowSum):
        vals = _values(x)
        vals["sums"][2] += 1  # a cheating prover: one row sum off by one, claims checks off
        bad = prove(pk, vals, check_witness=False)
        assert not verify(pk.vk, bad).accepted
        assert not _on_chain(chain, compiled, address, *calldata(bad, pk.vk))
        pb, pub = calldata(proof, pk.vk)
        count = 0
        for label, mpb, mpub in mutations(pk.vk, pb, pub):
            assert not python_verdict(pk.vk, mpb, mpub), label
            assert not _on_chain(chain, compiled, address, mpb, mpub), label
            count += 1
        assert count >= 15


def test_an_unregistered_block_is_refused():
    """Nobody proves or verifies a constraint that no registered block checks."""
    with registered(RowSum):
        c = _circuit()
    with pytest.raises(UnsupportedModelError, match="RowSum"):
        setup(c, {}, SRS.dev(required_degree(c), seed="rowsum"), "dev:rowsum")
