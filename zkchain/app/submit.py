"""Which verifier a proof goes to (``zkchain submit-proof``): resolve the chain, the address and the ABI from
the build directory's ``deployment.json``, an explicit ``--address``, or a fresh deployment on the embedded
chain, and check that the contract there verifies this proof's key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from zkchain.errors import InputError
from zkchain.evm import deploy
from zkchain.evm.chain import Chain
from zkchain.protocol.proof import Proof
from zkchain.protocol.vk import VerifyingKey


@dataclass
class Target:
    """A connected chain and the verifier to send to; ``notes`` are lines for the user (stderr)."""

    chain: Chain
    address: str
    abi: list
    notes: list[str] = field(default_factory=list)
    model_id: bytes | None = None  # reusable mode: the model's id at the shared verifier


def resolve_verifier(build_dir: Path, vk: VerifyingKey, proof: Proof, rpc_url: str, address: str | None,
                     private_key: str | None, announce_key: bool = True, mode: str = "auto",
                     model_id: bytes | None = None) -> Target:
    """Connect to ``rpc_url`` (or ``embedded``) and find the verifier for ``proof``: a specialised verifier, or
    the shared reusable verifier and the model's id there (``deployment.json``'s mode; with ``--address``, the
    code found there; on the embedded chain, ``mode`` as ``gen-verifier`` chooses it).

    Raises :class:`InputError` when ``deployment.json`` is missing (and no ``address``), is for another key or
    chain, or ``address`` is given with the embedded chain; :class:`zkchain.errors.ChainError` when the node is
    unreachable or the contract at the address does not verify this key."""
    embedded = rpc_url == deploy.EMBEDDED
    dep_path = Path(build_dir) / deploy.DEPLOYMENT_FILE
    dep = None
    if embedded:
        if address:
            raise InputError("--address cannot be used with the embedded chain (it starts empty; a fresh verifier "
                             "is deployed there)")
    elif address is None:
        if not dep_path.is_file():
            raise InputError(f"no --address and no {dep_path}: run `zkchain deploy-verifier {build_dir} "
                             "--rpc-url URL` first")
        dep = deploy.Deployment.load(dep_path)
        if dep.vk_digest.lower() != "0x" + proof.vk_digest.hex():
            raise InputError(f"{dep_path} is a verifier for key {dep.vk_digest}, the proof is for "
                             f"0x{proof.vk_digest.hex()} (rerun deploy-verifier after setup)")
    chain = deploy.connect(rpc_url, private_key)
    notes = []
    key_note = deploy.key_note(chain)
    if key_note and announce_key:
        notes.append(f"note: {key_note}")
    from zkchain.evm import reusable

    if embedded:
        _source, compiled = deploy.build_verifier(vk)
        chosen, why = reusable.choose_mode(vk, mode, compiled)
        if chosen == "reusable":
            dep = deploy.deploy_reusable(chain, vk)
            notes.append(f"note: embedded chain ({why}): deployed a fresh {dep.contract} at {dep.address} and "
                         f"registered model {dep.model_id} ({dep.deploy_gas + dep.register_gas:,} gas) for this "
                         "check only")
            model_id = model_id or reusable.parse_model_id(dep.model_id)
            reusable.check_model_at(chain, dep.address, model_id, proof.vk_digest)
            return Target(chain, dep.address, dep.abi, notes, model_id)
        dep = deploy.deploy_verifier(chain, vk, compiled)
        notes.append(f"note: embedded chain: deployed a fresh {dep.contract} at {dep.address} "
                     f"({dep.deploy_gas:,} gas) for this check only")
        address, abi = dep.address, compiled.abi
    elif address is None and dep.mode == "reusable":
        if dep.chain_id != chain.chain_id:
            raise InputError(f"{dep_path} is for chain id {dep.chain_id} ({dep.rpc_url}), {rpc_url} serves "
                             f"chain id {chain.chain_id}")
        model_id = model_id or reusable.parse_model_id(dep.model_id)
        reusable.check_shared_at(chain, dep.address)
        reusable.check_model_at(chain, dep.address, model_id, proof.vk_digest)
        return Target(chain, dep.address, dep.abi, notes, model_id)
    elif address is not None and (mode == "reusable" or model_id is not None or _holds_shared(chain, address)):
        reusable.check_shared_at(chain, address)
        model_id = model_id or reusable.record_tape(vk).model_id
        reusable.check_model_at(chain, address, model_id, proof.vk_digest)
        return Target(chain, address, reusable.compile_reusable().abi, notes, model_id)
    elif address is None:
        if dep.chain_id != chain.chain_id:
            raise InputError(f"{dep_path} is for chain id {dep.chain_id} ({dep.rpc_url}), {rpc_url} serves "
                             f"chain id {chain.chain_id}")
        address, abi = dep.address, dep.abi
    else:
        abi = dep.abi if dep is not None else deploy.build_verifier(vk)[1].abi
    deploy.check_verifier_at(chain, address, abi, proof.vk_digest)
    return Target(chain, address, abi, notes)


def _holds_shared(chain: Chain, address: str) -> bool:
    """True when ``address`` holds the reusable verifier (so ``--address`` needs no ``--mode``)."""
    from zkchain.errors import ZkchainError
    from zkchain.evm import reusable

    try:
        reusable.check_shared_at(chain, address)
        return True
    except ZkchainError:
        return False
