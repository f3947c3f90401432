"""The final proof: JSON (hex) for people and files, and the exact EVM calldata bytes for contracts.

``proof_bytes`` and ``public_inputs`` are the two arguments of ``verifyProof(bytes proof, uint256[] publicInputs)``,
laid out by :class:`zkchain.protocol.schedule.Schedule` (commitments, evaluations point by point, opening
proofs; public values as Fr with negatives as ``r − |v|``). Lengths are fixed by the verifying key, so a wrong
length is rejected before any arithmetic.

``proof.json`` (format ``zkchain.proof.v4``, ``docs/proof-format.md``) holds the structured proof, which the
verifier reads, and fields derived from it for consumers — ``proof_bytes``/``public_inputs`` (the calldata),
``outputs_float`` (the dequantized public outputs), ``srs_insecure``/``warning``, ``zero_knowledge`` and ``hides``.
:meth:`Proof.from_json` parses strictly (canonical hex, integers that are integers, exactly the keys the
verifying key implies) and refuses a file whose derived fields disagree with the structured proof, so a file
that verifies cannot tell a consumer anything else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zkchain.blocks.common import POINTS
from zkchain.compiler.circuit import Circuit
from zkchain.protocol.schedule import schedule
from zkchain.crypto.field import R
from zkchain.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from zkchain.protocol.vk import VerifyingKey

PROOF_FORMAT = "zkchain.proof.v4"  # v4: protocol v2 (tails, mask S, hidden fixed vectors: Δ_f, R_λ, the link)
#: Protocol v2 hides the private input, every activation, remainder and limb, m/h/g, the Laurent quotients and
#: every fixed vector of the VK (weights, kernels, table outputs, constants; docs/protocol.md §7).
ZERO_KNOWLEDGE = True
HIDES = ("private input", "activations", "weights")
INSECURE_WARNING = "INSECURE: made with a dev SRS from a public seed; anyone can forge proofs for this key"
_FR_HEX, _G1_HEX, _DIGEST_HEX = 64, 128, 64  # hex digits of a canonical Fr, G1 point, digest


@dataclass
class Proof:
    """A proof for one verifying key.

    ``public``: public vector name → signed integer entries. ``commitments``: name → 64-byte G1.
    ``evaluations``: point → list of Fr ints (schedule order). ``openings``: point → 64-byte G1."""

    vk_digest: bytes
    public: dict[str, list[int]]
    commitments: dict[str, bytes]
    evaluations: dict[str, list[int]]
    openings: dict[str, bytes]

    # -- EVM (layout: zkchain.protocol.schedule) -------------------------------------------------------
    def proof_bytes(self, circuit: Circuit) -> bytes:
        sch = schedule(circuit)
        out = b"".join(self.commitments[n] for n in sch.commitments)
        for p in sch.points:
            out += b"".join(v.to_bytes(32, "big") for v in self.evaluations[p][: len(sch.opened[p])])
        return out + b"".join(self.openings[p] for p in sch.points)

    def public_inputs(self, circuit: Circuit) -> list[int]:
        return [v % R for n in schedule(circuit).public for v in self.public[n]]

    @classmethod
    def from_bytes(cls, circuit: Circuit, vk_digest: bytes, data: bytes, public_inputs: list[int]) -> "Proof":
        """Parse calldata-form proof bytes. Raises :class:`InputError` on a wrong length."""
        sch = schedule(circuit)
        if len(data) != sch.proof_length:
            raise InputError(f"proof has {len(data)} bytes, this verifying key expects {sch.proof_length}")
        if len(public_inputs) != sch.n_public:
            raise InputError(f"{len(public_inputs)} public inputs, this verifying key expects {sch.n_public}")

        def word(off: int) -> int:
            return int.from_bytes(data[off: off + 32], "big")

        comms = {n: data[sch.commitment_offset(n): sch.commitment_offset(n) + 64] for n in sch.commitments}
        evals = {p: [word(sch.evaluation_offset(p, n)) for n in sch.opened[p]] for p in sch.points}
        opens = {p: data[sch.opening_offset(p): sch.opening_offset(p) + 64] for p in sch.points}
        public = {}
        for n, ln in zip(sch.public, sch.public_lengths):
            pos = sch.public_offset(n) // 32
            # values ≥ r stay as they are (non-canonical): the verifier rejects them, as the contract does
            public[n] = [v - R if R // 2 < v < R else v for v in public_inputs[pos: pos + ln]]
        return cls(vk_digest, public, comms, evals, opens)

    # -- JSON ---------------------------------------------------------------------------------------
    def to_json(self, vk: "VerifyingKey") -> dict:
        """The ``zkchain.proof.v4`` document (``docs/proof-format.md``); every derived field from ``vk``."""
        c = vk.circuit
        d = {
            "format": PROOF_FORMAT,
            "vk_digest": "0x" + self.vk_digest.hex(),
            "zero_knowledge": ZERO_KNOWLEDGE,
            "hides": list(HIDES),
            "srs_insecure": vk.srs_insecure,
            "public": {k: [int(v) for v in vals] for k, vals in self.public.items()},
            "commitments": {k: "0x" + v.hex() for k, v in self.commitments.items()},
            "evaluations": {p: ["0x%064x" % v for v in vals] for p, vals in self.evaluations.items()},
            "openings": {p: "0x" + v.hex() for p, v in self.openings.items()},
            "proof_bytes": "0x" + self.proof_bytes(c).hex(),
            "public_inputs": ["0x%064x" % v for v in self.public_inputs(c)],
        }
        floats = outputs_float(c, self.public)
        if floats is not None:
            d["outputs_float"] = floats
        acc = accuracy_summary(vk, self.public)
        if acc is not None:
            d["accuracy"] = acc
        if vk.srs_insecure:
            d["warning"] = INSECURE_WARNING
        return d

    @classmethod
    def from_json(cls, d: dict, vk: "VerifyingKey") -> "Proof":
        """Parse and cross-check a ``zkchain.proof.v4`` document against ``vk``.

        Raises :class:`InputError` (exit code 2 in the CLI) for another format or version, unknown or missing
        keys, non-canonical hex, a public value that is not an integer or is outside the key's bound, or a derived
        field (calldata, ``outputs_float``, flags) that disagrees with the structured proof. Whether the proof
        itself is valid is the verifier's question."""
        c = vk.circuit
        if not isinstance(d, dict):
            raise InputError("proof file is not a JSON object")
        fmt = d.get("format")
        if isinstance(fmt, str) and fmt.startswith("zkchain.proof.v") and fmt != PROOF_FORMAT:
            raise InputError(f"{fmt} is an earlier proof format (not zero-knowledge: it reveals the input or the "
                             f"weights); this zkchain reads {PROOF_FORMAT} only: rerun `zkchain setup` and "
                             "`zkchain prove`")
        if fmt != PROOF_FORMAT:
            raise InputError(f"not a {PROOF_FORMAT} proof (format={fmt!r}); prove again with this zkchain version")
        floats_expected = c.meta.get("output_scales") is not None
        required = {"format", "vk_digest", "zero_knowledge", "hides", "srs_insecure", "public", "commitments", "evaluations",
                    "openings", "proof_bytes", "public_inputs"}
        acc_expected = "accuracy" in c.meta
        allowed = required | ({"outputs_float"} if floats_expected else set()) | (
            {"warning"} if vk.srs_insecure else set()) | ({"accuracy"} if acc_expected else set())
        keys = set(d)
        if keys - allowed or required - keys:
            raise InputError(f"proof file has unexpected keys {sorted(keys - allowed)} / lacks {sorted(required - keys)}")
        if floats_expected and "outputs_float" not in d:
            raise InputError("proof file lacks outputs_float")
        if acc_expected and "accuracy" not in d:
            raise InputError("proof file lacks its accuracy summary")
        if vk.srs_insecure and d.get("warning") != INSECURE_WARNING:
            raise InputError("proof file lacks (or altered) its INSECURE warning: its key uses a dev SRS")
        if (d["zero_knowledge"] is not ZERO_KNOWLEDGE or d["hides"] != list(HIDES)
                or d["srs_insecure"] is not vk.srs_insecure):
            raise InputError("proof file's zero_knowledge / hides / srs_insecure fields do not match this protocol "
                             "version and its verifying key")

        digest = _hex(d["vk_digest"], _DIGEST_HEX, "vk_digest")
        if digest != vk.digest:
            raise InputError(f"the proof is for verifying key 0x{digest.hex()}, this key is 0x{vk.digest.hex()}")
        pub_names = list(schedule(c).public)
        public = _keyed(d["public"], pub_names, "public")
        for n in pub_names:
            vec = c.vectors[n]
            vals = public[n]
            if not isinstance(vals, list) or len(vals) != vec.length:
                raise InputError(f"public {n}: expected a list of {vec.length} integers")
            for i, v in enumerate(vals):
                if type(v) is not int:  # noqa: E721 (bool and float are refused, never truncated)
                    raise InputError(f"public {n}[{i}] = {v!r} is not an integer")
                if vec.bound and abs(v) > vec.bound:
                    raise InputError(f"public {n}[{i}] = {v} is outside the key's bound ±{vec.bound}")
        names = list(schedule(c).commitments)
        commitments = {n: _hex(v, _G1_HEX, f"commitment {n}") for n, v in _keyed(d["commitments"], names,
                                                                                 "commitments").items()}
        sched = schedule(c).opened
        evals_raw = _keyed(d["evaluations"], list(POINTS), "evaluations")
        evaluations = {}
        for p in POINTS:
            vals = evals_raw[p]
            if not isinstance(vals, list) or len(vals) != len(sched[p]):
                raise InputError(f"evaluations at {p}: expected {len(sched[p])} values")
            evaluations[p] = [int.from_bytes(_hex(v, _FR_HEX, f"evaluation at {p}"), "big") for v in vals]
        openings = {p: _hex(v, _G1_HEX, f"opening at {p}") for p, v in _keyed(d["openings"], list(POINTS),
                                                                               "openings").items()}
        proof = cls(digest, {n: list(public[n]) for n in pub_names}, commitments, evaluations, openings)

        if d["proof_bytes"] != "0x" + proof.proof_bytes(c).hex():
            raise InputError("proof_bytes is not the encoding of this proof (the file was edited)")
        if d["public_inputs"] != ["0x%064x" % v for v in proof.public_inputs(c)]:
            raise InputError("public_inputs do not match the public values (the file was edited)")
        if floats_expected and d["outputs_float"] != outputs_float(c, proof.public):
            raise InputError("outputs_float is not the dequantized public output (the file was edited)")
        if acc_expected and d["accuracy"] != accuracy_summary(vk, proof.public):
            raise InputError("the accuracy summary is not the proof's public count (the file was edited)")
        return proof

    def save(self, path: Path, vk: "VerifyingKey") -> None:
        Path(path).write_text(json.dumps(self.to_json(vk), indent=1))

    @classmethod
    def load(cls, path: Path, vk: "VerifyingKey") -> "Proof":
        """Read and cross-check ``proof.json`` (:meth:`from_json`); :class:`InputError` for a missing,
        truncated or edited file."""
        try:
            d = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InputError(f"proof file not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not a JSON proof file: {exc}") from None
        return cls.from_json(d, vk)


def outputs_float(circuit: Circuit, public: dict[str, list[int]]) -> dict[str, list[float]] | None:
    """``public output · scale`` per public output vector (scales from the circuit's meta, which the VK digest
    covers), or None for a circuit without scales (hand-built test circuits)."""
    scales = circuit.meta.get("output_scales")
    if scales is None:
        return None
    return {n: [float(v) * float(scales[n]) for v in public[n]] for n in schedule(circuit).public
            if n in scales}


def accuracy_summary(vk: "VerifyingKey", public: dict[str, list[int]]) -> dict | None:
    """``{"correct": k, "total": N, "accuracy": k/N, "dataset_digest": hex}`` for a proof of an accuracy key (its one
    public value is ``k``, ``zkchain.compiler.accuracy``), None for any other key."""
    acc = vk.circuit.meta.get("accuracy")
    if acc is None:
        return None
    k, n = int(public[acc["count"]][0]), int(acc["samples"])
    return {"correct": k, "total": n, "accuracy": k / n, "dataset_digest": "0x" + vk.dataset_digest.hex()}


def _hex(v, digits: int, what: str) -> bytes:
    """Bytes of a canonical hex string: ``0x`` then exactly ``digits`` lowercase hex digits (one spelling per
    value, so no edit of the file leaves the proof unchanged)."""
    if not isinstance(v, str) or not re.fullmatch(f"0x[0-9a-f]{{{digits}}}", v):
        raise InputError(f"{what}: expected 0x and {digits} lowercase hex digits, got {str(v)[:80]!r}")
    return bytes.fromhex(v[2:])


def _keyed(obj, names: list[str], what: str) -> dict:
    if not isinstance(obj, dict) or sorted(obj) != sorted(names):
        got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise InputError(f"{what}: expected the keys {sorted(names)}, got {got}")
    return obj
