"""Setup: proving key and verifying key for a compiled circuit.

The verifying key holds the circuit's structure, the SRS degree ``D``, the G2 points ``[1]₂, [τ]₂``, and one
KZG commitment per fixed vector (the model's weights with folded biases, and the map tables' output column).
It never holds weights. Its digest (Keccak-256 over a canonical encoding) is the first thing every proof's
transcript absorbs, so a proof is bound to one model and one SRS.

The proving key is the verifying key plus the fixed vectors' values (private) and a description of the SRS to
load (``dev:<seed>`` or a ``.ptau`` path), never the SRS points themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from Crypto.Hash import keccak

from zkchain.compiler.circuit import Circuit, Conv
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS, describe_srs, dev_g2_tau, dev_seed, insecure_srs
from zkchain.errors import InputError, SetupError

VK_FORMAT = "zkchain.vk.v2"
PK_FORMAT = "zkchain.pk.v2"


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


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
            "zero_knowledge": False,
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
                circuit=Circuit.from_json(d["circuit"]),
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
        return cls.from_json(_read_json(path, "verifying key"))


@dataclass
class ProvingKey:
    """Verifying key + private fixed values (ints mod r, by vector name) + how to load the SRS."""

    vk: VerifyingKey
    fixed_values: dict[str, list[int]]
    srs_spec: str
    _srs: SRS | None = None

    @property
    def circuit(self) -> Circuit:
        return self.vk.circuit

    def srs(self) -> SRS:
        if self._srs is None:
            self._srs = load_srs(self.srs_spec, self.vk.srs_degree)
        return self._srs

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.vk.save(directory / "vk.json")
        meta = {"format": PK_FORMAT, "srs": self.srs_spec, "vk_digest": "0x" + self.vk.digest.hex(),
                "fixed": sorted(self.fixed_values)}
        (directory / "pk.json").write_text(json.dumps(meta, indent=1))
        # Field elements as decimal strings in an object array would pickle; store signed int64 instead
        # (fixed values are quantized integers), refusing anything that does not fit.
        arrays = {}
        for name, vals in self.fixed_values.items():
            signed = [v if v <= R // 2 else v - R for v in vals]
            if any(abs(v) >= 2**62 for v in signed):
                raise SetupError(f"fixed vector {name!r} has entries beyond int64")
            arrays[name] = np.array(signed, dtype=np.int64)
        np.savez_compressed(directory / "pk_fixed.npz", **arrays)

    @classmethod
    def load(cls, directory: Path) -> "ProvingKey":
        directory = Path(directory)
        meta = _read_json(directory / "pk.json", "proving key")
        vk = VerifyingKey.load(directory / "vk.json")
        if meta.get("format") != PK_FORMAT or meta.get("vk_digest") != "0x" + vk.digest.hex():
            raise SetupError(f"{directory}: proving key does not belong to this verifying key; rerun `zkchain setup`")
        try:
            with np.load(directory / "pk_fixed.npz", allow_pickle=False) as z:
                fixed = {k: [int(v) % R for v in z[k].tolist()] for k in meta["fixed"]}
        except (OSError, KeyError, ValueError) as exc:
            raise SetupError(f"{directory / 'pk_fixed.npz'} is missing or corrupt: {exc}") from None
        return cls(vk, fixed, meta["srs"])


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SetupError(f"{what} not found at {path}; run `zkchain setup` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({what}): {exc}") from None


def load_srs(spec: str, degree: int) -> SRS:
    """``dev:<seed>`` → insecure deterministic SRS; anything else is a ``.ptau`` path."""
    if spec.startswith("dev:"):
        return SRS.dev(degree, seed=spec[4:])
    srs = SRS.from_ptau(spec, degree)
    return srs


def required_degree(circuit: Circuit) -> int:
    """Smallest SRS degree D (largest power of τ) the circuit needs: the longest committed polynomial. That is
    the longest vector, table or query vector, or a Laurent quotient: A and B have fewer coefficients than the
    two sides of their product, and a convolution's left side is the product ``x'·K``. Not rounded up: a dev SRS
    costs ~45 µs per power to build."""
    from zkchain.blocks.conv import kernel_length  # noqa: PLC0415 (blocks import the circuit module)

    lengths = [v.length for v in circuit.vectors.values()] + [circuit.table_length(), circuit.query_length(), 2]
    for c in circuit.constraints:
        if isinstance(c, Conv):
            lengths.append(c.inp.size + c.inp.Hp * c.inp.Wp + kernel_length(c) - 1)
    return max(lengths) - 1


def setup(circuit: Circuit, fixed_values: dict[str, list[int]], srs: SRS, srs_spec: str,
          meta: dict | None = None) -> ProvingKey:
    """Commit every fixed vector and assemble the keys (``meta``: JSON-able facts for people and tools, covered
    by the digest).

    Raises :class:`SetupError` if a fixed vector is missing or the SRS is smaller than the circuit needs."""
    circuit.check()
    need = required_degree(circuit)
    if srs.degree < need:
        raise SetupError(f"the SRS has degree {srs.degree} but this model needs {need} (2^{need.bit_length()})")
    be = get_backend()
    commitments = {}
    for v in circuit.of_kind("fixed"):
        if v.name not in fixed_values:
            raise SetupError(f"fixed vector {v.name!r} has no values")
        vals = [x % R for x in fixed_values[v.name]]
        if len(vals) != v.length:
            raise SetupError(f"fixed vector {v.name!r} has {len(vals)} entries, circuit says {v.length}")
        commitments[v.name] = be.g1_to_bytes(kzg.commit(srs, vals))
    vk = VerifyingKey(
        circuit=circuit, srs_degree=srs.degree, fixed_commitments=commitments,
        g2_one=be.g2_to_bytes(srs.g2_one), g2_tau=be.g2_to_bytes(srs.g2_tau), srs_source=srs.source,
        meta=dict(meta or {}),
    )
    pk = ProvingKey(vk, {k: [x % R for x in fixed_values[k]] for k in commitments}, srs_spec)
    pk._srs = srs
    return pk
