"""The verifying key: everything a verifier needs besides the proof and its public values.

It holds the circuit's structure, the SRS degree ``D``, the G2 points ``[1]₂, [τ]₂``, the SRS source, and one
KZG commitment per fixed vector (the model's weights with folded biases, and the map tables' output column, each
masked; a committed test set's vectors plain, so anyone can recompute them from the data).
It never holds weights. Its digest (Keccak-256 over a canonical encoding) is the first thing every proof's
transcript absorbs, so a proof is bound to one model and one SRS. File format: ``docs/proof-format.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from zkchain.blocks import load_circuit
from zkchain.compiler.circuit import Circuit
from zkchain.crypto.srs import describe_srs, dev_g2_tau, dev_seed, insecure_srs
from zkchain.crypto.transcript import keccak256
from zkchain.errors import InputError, SetupError
from zkchain.protocol.proof import HIDES, ZERO_KNOWLEDGE

VK_FORMAT = "zkchain.vk.v2"


@dataclass
class VerifyingKey:
    """Everything a verifier needs besides the proof and its public values.

    ``fixed_commitments`` maps fixed-vector names to 64-byte EVM-encoded G1 points; ``g2_one``/``g2_tau`` are
    128-byte EIP-197 encodings; ``srs_degree`` is D (the largest power of τ); ``srs_source`` is ``dev:<seed>``
    or ``ptau:<file> (...)``. Whether the SRS is insecure is derived (:attr:`srs_insecure`), never stored, and
    the digest covers the source and ``meta``: a dev key cannot be relabelled."""

    circuit: Circuit
    srs_degree: int
    fixed_commitments: dict[str, bytes]
    g2_one: bytes
    g2_tau: bytes
    srs_source: str
    meta: dict = field(default_factory=dict)

    @property
    def srs_insecure(self) -> bool:
        """True for a dev SRS, recognised by its source or by its ``[τ]₂`` (``zkchain.crypto.srs.insecure_srs``)."""
        return insecure_srs(self.srs_source, self.g2_tau)

    @property
    def srs_description(self) -> str:
        """One line for people (says INSECURE for a dev SRS, even a relabelled one)."""
        if self.srs_insecure and dev_seed(self.srs_source) is None:
            return (f"INSECURE: the public dev SRS (its [tau]_2 is the dev seed's) although labelled "
                    f"{self.srs_source!r}; anyone can forge proofs")
        return describe_srs(self.srs_source)

    @property
    def dataset_digest(self) -> bytes | None:
        """Keccak-256 of the public-data commitments (a committed test set, ``zkchain.compiler.accuracy``) in circuit
        order, 64 bytes each (EVM encoding): the name of the test set an accuracy proof is about, recomputable by
        anyone holding the data and the SRS. None for a key without one."""
        names = [v.name for v in self.circuit.public_data()]
        return keccak256(b"".join(self.fixed_commitments[n] for n in names)) if names else None

    def encode(self) -> bytes:
        """Canonical bytes hashed into :attr:`digest`: format, circuit, SRS degree and source, fixed
        commitments by name, G2 points, meta (canonical JSON)."""
        parts = [VK_FORMAT.encode(), self.circuit.dumps().encode(), self.srs_degree.to_bytes(32, "big"),
                 self.srs_source.encode()]
        for name in sorted(self.fixed_commitments):
            parts += [name.encode(), self.fixed_commitments[name]]
        parts += [self.g2_one, self.g2_tau, json.dumps(self.meta, sort_keys=True, separators=(",", ":")).encode()]
        return b"\x00".join(parts)

    @property
    def digest(self) -> bytes:
        """32-byte Keccak-256 of :meth:`encode`; reduced mod r when absorbed as a field element."""
        return keccak256(self.encode())

    def to_json(self) -> dict:
        return {
            "format": VK_FORMAT,
            "digest": "0x" + self.digest.hex(),
            "zero_knowledge": ZERO_KNOWLEDGE,
            "hides": list(HIDES),
            "srs": {"degree": self.srs_degree, "insecure": self.srs_insecure, "source": self.srs_source},
            "g2_one": "0x" + self.g2_one.hex(),
            "g2_tau": "0x" + self.g2_tau.hex(),
            "fixed_commitments": {k: "0x" + v.hex() for k, v in self.fixed_commitments.items()},
            "circuit": self.circuit.to_json(),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, d: dict) -> "VerifyingKey":
        """Parse ``vk.json``. Raises :class:`InputError` for another format, a malformed file, a digest that does
        not match the contents, or SRS labels that contradict its ``[τ]₂`` (a relabelled dev key)."""
        if not isinstance(d, dict) or d.get("format") != VK_FORMAT:
            found = d.get("format") if isinstance(d, dict) else None
            raise InputError(f"not a {VK_FORMAT} verifying key (format={found!r}); rerun `zkchain setup`")
        try:
            vk = cls(
                circuit=load_circuit(d["circuit"]),
                srs_degree=int(d["srs"]["degree"]),
                fixed_commitments={k: bytes.fromhex(v[2:]) for k, v in d["fixed_commitments"].items()},
                g2_one=bytes.fromhex(d["g2_one"][2:]),
                g2_tau=bytes.fromhex(d["g2_tau"][2:]),
                srs_source=str(d["srs"]["source"]),
                meta=d.get("meta", {}),
            )
            claimed_insecure = d["srs"]["insecure"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"verifying key is malformed: {exc!r}") from None
        if d.get("zero_knowledge") is not ZERO_KNOWLEDGE or d.get("hides") != list(HIDES):
            raise InputError("verifying key's zero_knowledge / hides fields do not match this protocol (file edited, or "
                             "made by another zkchain version); rerun `zkchain setup`")
        from zkchain.protocol.schedule import schedule

        committed = set(schedule(vk.circuit).hidden) | {v.name for v in vk.circuit.public_data()}
        if set(vk.fixed_commitments) != committed:
            raise InputError("verifying key's fixed commitments are not exactly its hidden fixed vectors and public data "
                             "(a parameter-free vector is the verifier's closed form; made by another zkchain version?): "
                             "rerun `zkchain setup`")
        if d.get("digest") != "0x" + vk.digest.hex():
            raise InputError("verifying key digest does not match its contents (file edited or corrupt)")
        seed = dev_seed(vk.srs_source)
        if seed is not None and vk.g2_tau != dev_g2_tau(seed):
            raise InputError(f"verifying key says its SRS is {vk.srs_source!r} but its [tau]_2 is not that seed's")
        if claimed_insecure is not vk.srs_insecure:
            raise InputError(f"verifying key says srs.insecure={claimed_insecure!r} but its SRS is "
                             f"{'a public dev SRS' if vk.srs_insecure else 'not a known dev SRS'} (file edited?)")
        return vk

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: Path) -> "VerifyingKey":
        return cls.from_json(read_json(path, "verifying key"))


def read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SetupError(f"{what} not found at {path}; run `zkchain setup` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({what}): {exc}") from None
