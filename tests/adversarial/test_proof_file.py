"""proof.json is one source of truth: no edit of any leaf of a valid file is accepted.

The campaign mutates every leaf of a real proof file (numbers ±1, ×2, to floats, strings and booleans; hex
digits flipped, case changed, lengths changed; keys dropped, added, lists shortened, extended and swapped) and
runs what ``zkchain verify`` runs on each: parse against the verifying key, then the verifier. A mutation may
be refused as an input error or rejected as a proof, never accepted. A sample goes through the real CLI for
the exit codes (2 for an edited file, 1 for a consistent edit the verifier rejects).
"""

from __future__ import annotations

import copy
import json
import random

import pytest

from zkchain.errors import InputError
from zkchain.protocol.proof import Proof
from zkchain.verifier.verify import verify


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))
    else:
        yield path, node


def _set(doc, path, value):
    d = copy.deepcopy(doc)
    node = d
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return d


def _hex_variants(s: str, rnd: random.Random, flips: int):
    body = s[2:]
    for _ in range(flips):
        i = rnd.randrange(len(body))
        c = "0123456789abcdef"[(int(body[i], 16) + rnd.randrange(1, 16)) % 16]
        yield f"flip digit {i}", "0x" + body[:i] + c + body[i + 1:]
    yield "upper case", "0x" + body.upper()
    yield "0X prefix", "0X" + body
    yield "no prefix", body
    yield "one digit short", "0x" + body[1:]
    yield "one digit long", "0x0" + body
    if len(body) <= 128:
        yield "as int", int(s, 16)


def mutations(doc: dict, seed: int = 11):
    """``(label, mutated document)`` pairs, every one different from ``doc``."""
    rnd = random.Random(seed)
    base = json.dumps(doc, sort_keys=True)
    out = []

    def add(label, d):
        if json.dumps(d, sort_keys=True) != base:
            out.append((label, d))

    for path, v in _leaves(doc):
        where = "/".join(map(str, path))
        if isinstance(v, bool):
            for w in (not v, int(v), str(v).lower(), None):
                add(f"{where} := {w!r}", _set(doc, path, w))
        elif isinstance(v, int):
            for w in (v + 1, v - 1, 2 * v + 1, -v - 1, v + 0.5, float(v), str(v), True, None, v + 2**256):
                add(f"{where} := {w!r}", _set(doc, path, w))
        elif isinstance(v, float):
            for w in (v * (1 + 1e-12) + 1e-300, v + 1, 0.0 if v else 1.0, str(v), int(v)):
                add(f"{where} := {w!r}", _set(doc, path, w))
        elif isinstance(v, str) and v.startswith("0x"):
            flips = 96 if where == "proof_bytes" else 10
            for lbl, w in _hex_variants(v, rnd, flips):
                add(f"{where}: {lbl}", _set(doc, path, w))
        elif isinstance(v, str):
            for w in (v + " ", v.upper(), "", v[:-1]):
                add(f"{where} := {w!r}", _set(doc, path, w))
    for key in list(doc):  # structure
        d = copy.deepcopy(doc)
        del d[key]
        add(f"drop {key}", d)
    add("extra key", dict(doc, note="hello"))
    for path, _v in _leaves(doc):
        if isinstance(path[-1], int):  # list entries: drop, duplicate, swap with the next
            parent_path = path[:-1]
            node = doc
            for k in parent_path:
                node = node[k]
            i = path[-1]
            lst = list(node)
            add(f"{parent_path} drop [{i}]", _set(doc, parent_path, lst[:i] + lst[i + 1:]))
            add(f"{parent_path} duplicate [{i}]", _set(doc, parent_path, lst[:i + 1] + lst[i:]))
            if i + 1 < len(lst):
                add(f"{parent_path} swap [{i}]", _set(doc, parent_path, lst[:i] + [lst[i + 1], lst[i]] + lst[i + 2:]))
    return out


def _accepted(vk, d) -> bool:
    try:
        proof = Proof.from_json(d, vk)
    except InputError:
        return False
    return bool(verify(vk, proof))


@pytest.fixture(scope="module")
def proof_doc(unit_built):
    b = unit_built("gemm_relu")
    return b, b.honest.to_json(b.pk.vk)


def test_valid_file_is_accepted(proof_doc):
    b, doc = proof_doc
    assert _accepted(b.pk.vk, json.loads(json.dumps(doc)))


def test_no_mutation_of_any_leaf_is_accepted(proof_doc):
    b, doc = proof_doc
    doc = json.loads(json.dumps(doc))  # exactly what a file holds
    muts = mutations(doc)
    assert len(muts) >= 1000, len(muts)
    leaves = {"/".join(map(str, p)) for p, _ in _leaves(doc)}
    touched = {lbl.split(" ")[0].rstrip(":") for lbl, _ in muts}
    assert leaves <= touched, f"leaves never mutated: {sorted(leaves - touched)[:5]}"
    accepted = [lbl for lbl, d in muts if _accepted(b.pk.vk, d)]
    assert not accepted, f"{len(accepted)} of {len(muts)} mutated proof files accepted: {accepted[:10]}"


def test_no_consistent_edit_is_accepted(proof_doc):
    """Edits that keep the file consistent (the derived fields re-derived) reach the verifier: each public
    value, commitment, evaluation and opening changed to another valid value is rejected."""
    from zkchain.crypto.backend import get_backend
    from zkchain.crypto.field import R

    b, doc = proof_doc
    vk, be = b.pk.vk, get_backend()
    base = Proof.from_json(json.loads(json.dumps(doc)), vk)

    def plus_g(pt: bytes) -> bytes:
        return be.g1_to_bytes(be.g1_add(be.g1_from_bytes(pt), be.g1()))

    edits = []
    for n, vals in base.public.items():
        for i in range(len(vals)):
            edits.append((f"public {n}[{i}] + 1", lambda p, n=n, i=i: p.public[n].__setitem__(i, p.public[n][i] + 1)))
    for n in base.commitments:
        edits.append((f"commitment {n} + G", lambda p, n=n: p.commitments.__setitem__(n, plus_g(p.commitments[n]))))
    for pt, vals in base.evaluations.items():
        for i in range(len(vals)):
            edits.append((f"evaluation {pt}[{i}] + 1",
                          lambda p, pt=pt, i=i: p.evaluations[pt].__setitem__(i, (p.evaluations[pt][i] + 1) % R)))
    for pt in base.openings:
        edits.append((f"opening {pt} + G", lambda p, pt=pt: p.openings.__setitem__(pt, plus_g(p.openings[pt]))))
    accepted = []
    for label, edit in edits:
        p = Proof.from_json(json.loads(json.dumps(doc)), vk)
        edit(p)
        again = Proof.from_json(json.loads(json.dumps(p.to_json(vk))), vk)  # a consistent file
        if verify(vk, again):
            accepted.append(label)
    assert len(edits) > 40 and not accepted, accepted


def test_cli_exit_codes_for_edited_files(proof_doc, tmp_path, capsys):
    """The CLI entry point itself: an inconsistent edit is an input error (exit 2), a consistent edit of the
    output a rejected proof (exit 1), the untouched file accepted (exit 0)."""
    from zkchain.cli import main
    from zkchain.protocol.proof import outputs_float

    b, doc = proof_doc
    build = tmp_path / "build"
    build.mkdir()
    b.pk.vk.save(build / "vk.json")

    def run(d) -> tuple[int, str]:
        (tmp_path / "p.json").write_text(json.dumps(d))
        with pytest.raises(SystemExit) as exc:
            main(["verify", str(build), str(tmp_path / "p.json")])
        out = capsys.readouterr()
        return exc.value.code, out.out + out.err

    code, out = run(doc)
    assert code == 0 and "accepted" in out and "INSECURE" in out
    name = next(iter(doc["public"]))
    edited = copy.deepcopy(doc)
    edited["public"][name][0] += 1
    code, out = run(edited)
    assert code == 2 and "public_inputs" in out and "Traceback" not in out
    p = Proof.from_json(doc, b.pk.vk)  # a consistent edit: public value, calldata and outputs_float together
    p.public[name][0] += 1
    assert outputs_float(b.pk.vk.circuit, p.public) != doc["outputs_float"]
    code, out = run(p.to_json(b.pk.vk))
    assert code == 1 and "rejected" in out
    for old in ("zkchain.proof.v2", "zkchain.proof.v3"):  # protocol v1 and v2 stage 1: not zero-knowledge
        code, out = run({**doc, "format": old})
        assert code == 2 and "earlier proof format" in out and "not zero-knowledge" in out and "Traceback" not in out
