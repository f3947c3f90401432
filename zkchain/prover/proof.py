"""The final proof: JSON (hex) for people and files, and the exact EVM calldata bytes for contracts.

Byte layout of ``proof_bytes`` (what ``verifyProof(bytes proof, uint256[] publicInputs)`` receives)::

    commitments      64 bytes each (G1, x‖y), in ``protocol.commitment_names`` order
    evaluations      32 bytes each (Fr), in ``protocol.opening_schedule`` order, point by point
    opening proofs   64 bytes each (G1), one per point in ρ, ζ, 1/ζ, ρ/ζ order

``publicInputs`` is every public vector's entries (inputs then outputs) as field elements (negative values
as ``r − |v|``). Lengths are fixed by the verifying key, so a wrong length is rejected before any arithmetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from zkchain.blocks import protocol
from zkchain.blocks.common import POINTS
from zkchain.compiler.circuit import Circuit
from zkchain.crypto.field import R
from zkchain.errors import InputError

PROOF_FORMAT = "zkchain.proof.v1"


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
    meta: dict = field(default_factory=dict)

    # -- EVM ----------------------------------------------------------------------------------------
    def proof_bytes(self, circuit: Circuit) -> bytes:
        sched = protocol.opening_schedule(circuit)
        out = b"".join(self.commitments[n] for n in protocol.commitment_names(circuit))
        for p in POINTS:
            out += b"".join(v.to_bytes(32, "big") for v in self.evaluations[p][: len(sched[p])])
        return out + b"".join(self.openings[p] for p in POINTS)

    def public_inputs(self, circuit: Circuit) -> list[int]:
        return [v % R for n in protocol.public_names(circuit) for v in self.public[n]]

    @classmethod
    def from_bytes(cls, circuit: Circuit, vk_digest: bytes, data: bytes, public_inputs: list[int]) -> "Proof":
        """Parse calldata-form proof bytes. Raises :class:`InputError` on a wrong length."""
        names = protocol.commitment_names(circuit)
        sched = protocol.opening_schedule(circuit)
        n_eval = sum(len(v) for v in sched.values())
        want = 64 * len(names) + 32 * n_eval + 64 * len(POINTS)
        if len(data) != want:
            raise InputError(f"proof has {len(data)} bytes, this verifying key expects {want}")
        pos = 0
        comms = {}
        for n in names:
            comms[n] = data[pos: pos + 64]
            pos += 64
        evals = {}
        for p in POINTS:
            evals[p] = [int.from_bytes(data[pos + 32 * i: pos + 32 * i + 32], "big") for i in range(len(sched[p]))]
            pos += 32 * len(sched[p])
        opens = {}
        for p in POINTS:
            opens[p] = data[pos: pos + 64]
            pos += 64
        pub_names = protocol.public_names(circuit)
        lens = [circuit.vectors[n].length for n in pub_names]
        if len(public_inputs) != sum(lens):
            raise InputError(f"{len(public_inputs)} public inputs, this verifying key expects {sum(lens)}")
        public, pos = {}, 0
        for n, ln in zip(pub_names, lens):
            # values ≥ r stay as they are (non-canonical): the verifier rejects them, as the contract does
            public[n] = [v - R if R // 2 < v < R else v for v in public_inputs[pos: pos + ln]]
            pos += ln
        return cls(vk_digest, public, comms, evals, opens)

    # -- JSON ---------------------------------------------------------------------------------------
    def to_json(self, circuit: Circuit) -> dict:
        return {
            "format": PROOF_FORMAT,
            "vk_digest": "0x" + self.vk_digest.hex(),
            "zero_knowledge": False,
            "public": {k: [int(v) for v in vals] for k, vals in self.public.items()},
            "commitments": {k: "0x" + v.hex() for k, v in self.commitments.items()},
            "evaluations": {p: ["0x%064x" % v for v in vals] for p, vals in self.evaluations.items()},
            "openings": {p: "0x" + v.hex() for p, v in self.openings.items()},
            "proof_bytes": "0x" + self.proof_bytes(circuit).hex(),
            "public_inputs": ["0x%064x" % v for v in self.public_inputs(circuit)],
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, d: dict) -> "Proof":
        """Parse the JSON form. Structural problems raise :class:`InputError`; values are checked by the verifier."""
        try:
            if d.get("format") != PROOF_FORMAT:
                raise InputError(f"not a {PROOF_FORMAT} proof (format={d.get('format')!r})")

            def hx(s: str) -> bytes:
                if not isinstance(s, str) or not s.startswith("0x"):
                    raise ValueError(f"expected 0x-hex, got {s!r}")
                return bytes.fromhex(s[2:])

            return cls(
                vk_digest=hx(d["vk_digest"]),
                public={k: [int(v) for v in vals] for k, vals in d["public"].items()},
                commitments={k: hx(v) for k, v in d["commitments"].items()},
                evaluations={p: [int(v, 16) for v in vals] for p, vals in d["evaluations"].items()},
                openings={p: hx(v) for p, v in d["openings"].items()},
                meta=d.get("meta", {}),
            )
        except InputError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"proof file is malformed: {exc!r}") from None

    def save(self, path: Path, circuit: Circuit) -> None:
        Path(path).write_text(json.dumps(self.to_json(circuit), indent=1))

    @classmethod
    def load(cls, path: Path) -> "Proof":
        try:
            return cls.from_json(json.loads(Path(path).read_text()))
        except FileNotFoundError:
            raise InputError(f"proof file not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not a JSON proof file: {exc}") from None
