"""Setup: proving key and verifying key (``zkchain.protocol.vk``) for a compiled circuit.

The proving key is the verifying key plus the fixed vectors' values (private) and a description of the SRS to
load (``dev:<seed>`` or a ``.ptau`` path), never the SRS points themselves.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zkchain.blocks import hiding
from zkchain.compiler.circuit import PUBLIC_DATA, Circuit
from zkchain.compiler.witness import WitnessPlan
from zkchain.crypto import kzg
from zkchain.crypto.backend import get_backend
from zkchain.crypto.field import R
from zkchain.crypto.srs import SRS
from zkchain.protocol.schedule import required_degree, schedule  # noqa: F401  (required_degree: re-exported)
from zkchain.protocol.vk import VerifyingKey, read_json
from zkchain.errors import SetupError

PK_FORMAT = "zkchain.pk.v3"  # v3: the fixed vectors' VK masks r⁰_f (protocol v2, docs/protocol.md §7.6)


@dataclass
class ProvingKey:
    """Verifying key + private fixed values (ints mod r, by vector name) and their VK masks ``r⁰_f`` (the VK
    commits to ``F_f + r⁰_f·X^(M_f)``, ``docs/protocol.md`` §7.6) + how to load the SRS."""

    vk: VerifyingKey
    fixed_values: dict[str, list[int]]
    srs_spec: str
    fixed_masks: dict[str, int] = field(default_factory=dict)
    # how to compute the vectors from an executed model, and the digest of the compiled model it reads
    # (``zkchain.compiler.witness``); None for a key made from a bare circuit (tests)
    witness: WitnessPlan | None = None
    model_digest: str = ""
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
                "fixed": sorted(self.fixed_values), "model_digest": self.model_digest,
                "fixed_masks": {k: "0x%064x" % v for k, v in sorted(self.fixed_masks.items())},
                "witness": self.witness.to_json() if self.witness is not None else None}
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
        meta = read_json(directory / "pk.json", "proving key")
        vk = VerifyingKey.load(directory / "vk.json")
        if meta.get("format") != PK_FORMAT or meta.get("vk_digest") != "0x" + vk.digest.hex():
            raise SetupError(f"{directory}: proving key does not belong to this verifying key; rerun `zkchain setup`")
        try:
            with np.load(directory / "pk_fixed.npz", allow_pickle=False) as z:
                fixed = {k: [int(v) % R for v in z[k].tolist()] for k in meta["fixed"]}
        except (OSError, KeyError, ValueError) as exc:
            raise SetupError(f"{directory / 'pk_fixed.npz'} is missing or corrupt: {exc}") from None
        try:
            masks = {k: int(v, 16) % R for k, v in meta["fixed_masks"].items()}
        except (KeyError, AttributeError, TypeError, ValueError):
            raise SetupError(f"{directory / 'pk.json'}: fixed_masks missing or corrupt; rerun `zkchain setup`") from None
        if set(masks) != set(schedule(vk.circuit).masks):
            raise SetupError(f"{directory / 'pk.json'}: fixed_masks do not match the circuit; rerun `zkchain setup`")
        plan = meta.get("witness")
        data = [v.name for v in vk.circuit.public_data()]  # the plan may read them (zkchain.compiler.accuracy)
        return cls(vk, fixed, meta["srs"], masks, WitnessPlan.from_json(plan, data) if plan is not None else None,
                   str(meta.get("model_digest", "")))


def load_srs(spec: str, degree: int) -> SRS:
    """``dev:<seed>`` → insecure deterministic SRS; anything else is a ``.ptau`` path."""
    if spec.startswith("dev:"):
        return SRS.dev(degree, seed=spec[4:])
    srs = SRS.from_ptau(spec, degree)
    return srs


def load_srs_shard(spec: str, degree: int, k: int, w: int):
    """Worker ``k`` of ``w``'s shard of :func:`load_srs`: the points ``[τ^i]₁``, ``i ≡ k (mod w)``, ``i ≤ degree``
    (:mod:`zkchain.prover.parallel`). A dev SRS derives only those; a ``.ptau`` decodes only those."""
    if spec.startswith("dev:"):
        return SRS.dev_powers(degree, seed=spec[4:], start=k, step=w)
    powers_ = SRS.from_ptau(spec, degree).g1_powers
    return powers_.every(k, w) if hasattr(powers_, "every") else list(powers_[k::w])


def setup(circuit: Circuit, fixed_values: dict[str, list[int]], srs: SRS, srs_spec: str,
          meta: dict | None = None, rng=None) -> ProvingKey:
    """Commit every fixed vector, hidden (public data plainly), and assemble the keys (``meta``: JSON-able facts for people and tools,
    covered by the digest). The VK commitment of fixed vector ``f`` is ``[F_f + r⁰_f·X^(M_f)]`` with ``r⁰_f``
    uniform (``docs/protocol.md`` §7.6; ZK-DESIGN §3.9), so two setups of one model give unrelated keys and no
    dictionary test ("is this model X?") works on a VK. ``rng`` (``randrange``) draws the ``r⁰_f``: the OS
    CSPRNG by default; tests pass a seeded one.

    Raises :class:`SetupError` if a fixed vector is missing or the SRS is smaller than the circuit needs."""
    circuit.check()
    need = required_degree(circuit)
    if srs.degree < need:
        raise SetupError(f"the SRS has degree {srs.degree} but this model needs {need} (2^{need.bit_length()})")
    be = get_backend()
    rng = rng if rng is not None else secrets.SystemRandom()
    masks = schedule(circuit).masks
    commitments, r0, values = {}, {}, {}
    for v in circuit.of_kind("fixed"):
        if v.name not in fixed_values:
            raise SetupError(f"fixed vector {v.name!r} has no values")
        vals = [x % R for x in fixed_values[v.name]]
        if len(vals) != v.length:
            raise SetupError(f"fixed vector {v.name!r} has {len(vals)} entries, circuit says {v.length}")
        values[v.name] = vals
        if v.role == PUBLIC_DATA:  # a committed test set: plain, so anyone holding the data recomputes it
            commitments[v.name] = be.g1_to_bytes(kzg.commit(srs, vals))
            continue
        if v.name not in masks:  # parameter-free (sum-pool kernel, ReLU table): the verifier's closed form, no commitment
            continue
        r0[v.name] = rng.randrange(R)
        commitments[v.name] = be.g1_to_bytes(kzg.commit(srs, hiding.masked(vals, r0[v.name], [], masks[v.name][0])))
    vk = VerifyingKey(
        circuit=circuit, srs_degree=srs.degree, fixed_commitments=commitments,
        g2_one=be.g2_to_bytes(srs.g2_one), g2_tau=be.g2_to_bytes(srs.g2_tau), srs_source=srs.source,
        meta=dict(meta or {}),
    )
    pk = ProvingKey(vk, values, srs_spec, r0)
    pk._srs = srs
    return pk
