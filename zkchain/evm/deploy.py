"""Deploy a build's verifier and submit proofs to it: what ``zkchain gen-verifier``, ``deploy-verifier``,
``submit-proof`` and ``demo`` call.

    from zkchain.evm import deploy
    vk = deploy.load_vk("build/")
    source, compiled = deploy.build_verifier(vk)                 # Solidity source + solc-js output
    chain = deploy.connect("http://127.0.0.1:8545")               # or deploy.connect("embedded")
    dep = deploy.deploy_verifier(chain, vk, compiled)             # Deployment: address, deploy_gas, ...
    deploy.record_deployment("build/", dep)                       # build/deployment.json (never lost silently)
    result = deploy.submit_proof(chain, dep.address, compiled.abi, *calldata(proof, vk))
    result.accepted, result.gas_used, result.events

``deployment.json`` (format ``zkchain.deployment.v1``) records where a build's verifier lives: contract name,
address, chain id, RPC URL, VK digest, creation transaction, deployer, deploy gas, compiler version, runtime size
and the ABI, so that ``submit-proof`` (and the copyable ``scripts/submit_proof.py``) need nothing else.

The special RPC URL ``embedded`` is an in-process eth-tester/py-evm chain: it lives only as long as the Python
process, so it serves the demo, the tests and dry runs (deploy gas, would this proof be accepted); nothing
deployed there is recorded in ``deployment.json``.

Units: gas in gas, sizes in bytes, addresses as checksummed ``0x`` strings.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkchain.errors import ChainError, InputError, SetupError
from zkchain.evm.chain import ANVIL_CHAIN_ID, ANVIL_DEV_ADDRESS, Chain, TxResult
from zkchain.evm.solc import CompiledContract
from zkchain.protocol.proof import ZERO_KNOWLEDGE
from zkchain.protocol.vk import VerifyingKey

EMBEDDED = "embedded"
DEPLOYMENT_FILE = "deployment.json"
DEPLOYMENT_FORMAT = "zkchain.deployment.v1"
#: Gas limit of a submitProof / verifyProof call: a valid digits-MLP proof uses ~355k (docs/evm-verifier.md §4).
DEFAULT_SUBMIT_GAS = 1_000_000
EIP170_LIMIT = 24_576  # bytes of deployed code


# ---------------------------------------------------------------------------------------------- inputs


def load_vk(build_dir: str | Path) -> VerifyingKey:
    """``BUILD_DIR/vk.json``; raises :class:`SetupError` (exit 2) with the command to run when it is missing."""
    path = Path(build_dir) / "vk.json"
    if not Path(build_dir).is_dir():
        raise InputError(f"build directory {build_dir} does not exist")
    if not path.is_file():
        raise SetupError(f"{path} not found: run `zkchain setup {build_dir}` first")
    return VerifyingKey.load(path)


def contract_name_for(vk: VerifyingKey) -> str:
    """Solidity contract name from the model name: ``digits_mlp`` → ``DigitsMlpVerifier``, prefixed
    ``InsecureDevSrs`` when the key uses a dev SRS (``InsecureDevSrsDigitsMlpVerifier``)."""
    model = str(vk.meta.get("model") or "")
    words = [w for w in re.split(r"[^A-Za-z0-9]+", model) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) + "Verifier"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        name = "Zkchain" + name if name[:1].isdigit() else "ZkchainVerifier"
    return ("InsecureDevSrs" + name) if vk.srs_insecure else name


def build_verifier(vk: VerifyingKey, name: str | None = None) -> tuple[str, CompiledContract]:
    """The Solidity source and the compiled contract for ``vk`` (solc-js; cached by source hash)."""
    from zkchain.evm.verifier_gen import compile_verifier, generate_verifier

    name = name or contract_name_for(vk)
    return generate_verifier(vk, name), compile_verifier(vk, name)


def write_verifier_source(source: str, path: str | Path, force: bool = False) -> str:
    """Writes ``source`` to ``path``; returns ``"wrote"`` or ``"unchanged"`` (same text already there).
    Raises :class:`InputError` if a different file exists and ``force`` is false."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name such as {path / 'Verifier.sol'}")
    if path.exists():
        if path.read_text(errors="replace") == source:
            return "unchanged"
        if not force:
            raise InputError(f"{path} exists with different contents (another key or model?); "
                             "pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return "wrote"


def compiler_version() -> str:
    from zkchain.evm.solc import solc_executable

    return solc_executable()[1]


# ---------------------------------------------------------------------------------------------- chains


def connect(rpc_url: str | None, private_key: str | None = None, *, timeout: float = 10.0) -> Chain:
    """``"embedded"`` → a fresh in-process chain; an ``http(s)://`` URL → :meth:`Chain.rpc`.

    Without ``private_key`` (or ``$ZKCHAIN_PRIVATE_KEY``) only chain id 31337 is allowed, with anvil's first dev
    account (check :func:`key_note`). Raises :class:`ChainError` when the node does not answer or a key is needed,
    :class:`InputError` for a malformed URL or key."""
    if not rpc_url:
        raise InputError("no RPC URL: pass --rpc-url http://host:port (or `embedded` for an in-process chain)")
    if rpc_url == EMBEDDED:
        if private_key:
            raise InputError("--private-key has no meaning on the embedded chain (it sends from a funded test "
                             "account)")
        return Chain.embedded()
    # Chain.rpc logs the dev-account fallback as a warning; the CLI states it itself (key_note), once.
    chain_log = logging.getLogger("zkchain.evm.chain")
    level = chain_log.level
    chain_log.setLevel(logging.ERROR)
    try:
        return Chain.rpc(rpc_url, private_key=private_key or None, timeout=timeout)
    finally:
        chain_log.setLevel(level)


def key_note(chain: Chain) -> str | None:
    """A line to show when the sender is anvil's public dev account (None otherwise)."""
    if chain.key_source.startswith("anvil"):
        return (f"no --private-key: sending from anvil's first dev account {ANVIL_DEV_ADDRESS} (its key is public; "
                f"allowed only on chain id {ANVIL_CHAIN_ID})")
    return None


def chain_label(chain: Chain) -> str:
    return chain.url if chain.kind == "rpc" else EMBEDDED


# ---------------------------------------------------------------------------------------------- deployment


@dataclass
class Deployment:
    """One deployed verifier: what ``deployment.json`` holds."""

    contract: str
    address: str
    chain_id: int
    rpc_url: str
    vk_digest: str
    tx_hash: str
    deployer: str
    deploy_gas: int
    block_number: int
    compiler: str
    runtime_size_bytes: int
    srs_insecure: bool
    abi: list[dict[str, Any]]
    deployed_at: str = ""
    format: str = DEPLOYMENT_FORMAT
    zero_knowledge: bool = ZERO_KNOWLEDGE
    model: str = ""
    notes: list[str] = field(default_factory=list)
    # reusable mode (``zkchain.evm.reusable``): the shared verifier at ``address`` and this model's registration
    mode: str = "specialised"
    model_id: str = ""
    tape_chunks: list[str] = field(default_factory=list)
    tape_bytes: int = 0
    register_gas: int = 0

    _REUSABLE_ONLY = ("mode", "model_id", "tape_chunks", "tape_bytes", "register_gas")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        if self.mode == "specialised":  # the record of a specialised verifier is what it always was
            for k in self._REUSABLE_ONLY:
                d.pop(k)
        return {"format": d.pop("format"), **d}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Deployment:
        """Reads a deployment.json; raises :class:`InputError` if it is missing or malformed."""
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(f"deployment file not found: {path}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not a JSON deployment record: {exc}") from None
        if not isinstance(d, dict) or d.get("format") != DEPLOYMENT_FORMAT:
            raise InputError(f"{path} is not a {DEPLOYMENT_FORMAT} record")
        try:
            known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
            dep = cls(**known)
            dep.chain_id = int(dep.chain_id)
            if not re.fullmatch(r"0x[0-9a-fA-F]{40}", str(dep.address)):
                raise ValueError(f"address {dep.address!r}")
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path} is malformed: {exc}") from None
        return dep


def deploy_gas_limit(compiled: CompiledContract) -> int:
    """A gas limit that covers the creation of ``compiled``: 200 gas per runtime byte (code deposit), 16 per
    initcode byte, 32,000 creation + 21,000 base, the constructor, and 25 % headroom."""
    init_bytes = (len(compiled.bytecode) - 2) // 2
    need = 53_000 + 200 * compiled.runtime_size_bytes + 16 * init_bytes + 50_000
    return min(int(need * 1.25), 16_000_000)


def deploy_verifier(chain: Chain, vk: VerifyingKey, compiled: CompiledContract, *, gas: int | None = None,
                    compiler: str | None = None) -> Deployment:
    """Deploys ``compiled`` on ``chain`` and returns its :class:`Deployment` (not yet written anywhere).

    Raises :class:`ChainError` when the creation reverts or cannot be sent (no funds, code above EIP-170)."""
    receipt = _create(chain, compiled, gas)
    from eth_utils import to_checksum_address

    notes = []
    if vk.srs_insecure:
        notes.append("INSECURE dev SRS: anyone can forge proofs for this verifier; never let it protect value")
    return Deployment(
        contract=compiled.name, address=to_checksum_address(receipt["contractAddress"]), chain_id=chain.chain_id,
        rpc_url=chain_label(chain), vk_digest="0x" + vk.digest.hex(), tx_hash=_hex(receipt["transactionHash"]),
        deployer=chain.account, deploy_gas=int(receipt["gasUsed"]), block_number=int(receipt["blockNumber"]),
        compiler=compiler or compiler_version(), runtime_size_bytes=compiled.runtime_size_bytes,
        srs_insecure=bool(vk.srs_insecure), abi=list(compiled.abi),
        deployed_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        model=str(vk.meta.get("model") or ""), notes=notes,
    )


def _create(chain: Chain, compiled: CompiledContract, gas: int | None) -> dict[str, Any]:
    """Send the creation transaction of ``compiled``; its receipt. ChainError if it reverts."""
    gas = gas or deploy_gas_limit(compiled)
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx = factory.constructor().build_transaction({"from": chain.account, "gas": gas})
    receipt = chain._send(tx)  # noqa: SLF001 (Chain.deploy drops the receipt; we record hash and block)
    if receipt["status"] != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"deploying {compiled.name} reverted after {receipt['gasUsed']:,} gas (gas limit {gas:,}; "
                         f"runtime code {compiled.runtime_size_bytes:,} bytes, EIP-170 limit {EIP170_LIMIT:,})")
    return receipt


def deploy_reusable(chain: Chain, vk: VerifyingKey, *, verifier_address: str | None = None, gas: int | None = None,
                    compiler: str | None = None) -> Deployment:
    """Reusable mode: deploy the shared ``ZkchainReusableVerifier`` (or check the one at ``verifier_address``:
    the same runtime code), then register ``vk``'s tape there unless its model id is registered already.
    Returns the :class:`Deployment` (``mode="reusable"``, ``model_id``, the tape's data contracts; ``deploy_gas``
    0 and ``tx_hash`` "" when an existing verifier was reused). Raises ChainError / InputError as
    :func:`zkchain.evm.reusable.check_shared_at` and ``register``."""
    from eth_utils import to_checksum_address

    from zkchain.evm import reusable

    compiled = reusable.compile_reusable()
    tape = reusable.record_tape(vk)
    notes = []
    if verifier_address:
        reusable.check_shared_at(chain, verifier_address, compiled)
        address, tx_hash, deploy_gas, block = to_checksum_address(verifier_address), "", 0, 0
        notes.append(f"reused the shared verifier at {address}")
    else:
        receipt = _create(chain, compiled, gas or reusable.DEPLOY_GAS)
        address, tx_hash = to_checksum_address(receipt["contractAddress"]), _hex(receipt["transactionHash"])
        deploy_gas, block = int(receipt["gasUsed"]), int(receipt["blockNumber"])
    chunks: list[str] = []
    register_gas = 0
    if reusable.is_registered(chain, address, tape.model_id, compiled):
        chunks = list(chain.call(address, compiled, "tapeChunks", tape.model_id, gas=500_000))
        notes.append(f"model 0x{tape.model_id.hex()} was registered already")
    else:
        reg = reusable.register(chain, address, tape, compiled)
        chunks, register_gas = list(reg.chunks), reg.gas
    if vk.srs_insecure:
        notes.append("INSECURE dev SRS: anyone can forge proofs for this model; never let it protect value")
    return Deployment(
        contract=compiled.name, address=address, chain_id=chain.chain_id, rpc_url=chain_label(chain),
        vk_digest="0x" + vk.digest.hex(), tx_hash=tx_hash, deployer=chain.account, deploy_gas=deploy_gas,
        block_number=block, compiler=compiler or compiler_version(), runtime_size_bytes=compiled.runtime_size_bytes,
        srs_insecure=bool(vk.srs_insecure), abi=list(compiled.abi),
        deployed_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        model=str(vk.meta.get("model") or ""), notes=notes, mode="reusable", model_id="0x" + tape.model_id.hex(),
        tape_chunks=chunks, tape_bytes=len(tape.data), register_gas=register_gas,
    )


def existing_deployment_status(path: str | Path, chain: Chain) -> tuple[Deployment | None, str]:
    """What an existing ``deployment.json`` means for a new deployment on ``chain``.

    Returns ``(record, status)`` with status ``"none"`` (no file), ``"unreadable"`` (not a valid record),
    ``"stale"`` (same chain id, but no code at its address any more: e.g. a restarted anvil), ``"live"`` (code
    at that address on this chain) or ``"other-chain"``."""
    path = Path(path)
    if not path.exists():
        return None, "none"
    try:
        old = Deployment.load(path)
    except InputError:
        return None, "unreadable"
    if old.chain_id != chain.chain_id:
        return old, "other-chain"
    try:
        has_code = chain.code_size(old.address) > 0
    except Exception:  # noqa: BLE001 - a node hiccup must not make us drop the record
        has_code = True
    return old, ("live" if has_code else "stale")


def check_can_record(build_dir: str | Path, chain: Chain, force: bool) -> tuple[Deployment | None, str]:
    """Called before deploying: refuses (``InputError``) when ``BUILD_DIR/deployment.json`` records a verifier
    that is still live on this chain, or one on another chain (or an unreadable file), unless ``force``.
    A stale record (its contract is gone) is replaced; the old file is always kept as a backup."""
    path = Path(build_dir) / DEPLOYMENT_FILE
    old, status = existing_deployment_status(path, chain)
    if force or status in ("none", "stale"):
        return old, status
    if status == "unreadable":
        raise InputError(f"{path} exists but is not a {DEPLOYMENT_FORMAT} record; move it away or pass --force "
                         "(it is then kept as a backup)")
    where = (f"chain {old.chain_id} ({old.rpc_url})" if status == "other-chain"
             else f"this chain (id {old.chain_id}), where it still has code")
    raise InputError(f"{path} records {old.contract} at {old.address} on {where}; pass --force to deploy anyway "
                     "(the old record is then kept as a backup next to it)")


def backup_path(path: Path, old: Deployment | None) -> Path:
    stem = f"deployment.{old.chain_id}.{old.address[:10]}" if old else "deployment.old"
    candidate, n = path.with_name(stem + ".json"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{stem}.{n}.json")
    return candidate


def record_deployment(build_dir: str | Path, dep: Deployment, old: Deployment | None = None) -> tuple[Path, Path | None]:
    """Writes ``BUILD_DIR/deployment.json``; an existing file is first renamed to a backup
    (``deployment.<chain id>.<address prefix>.json``). Returns ``(path, backup or None)``.
    Call :func:`check_can_record` before deploying to apply the overwrite policy."""
    path = Path(build_dir) / DEPLOYMENT_FILE
    backup = None
    if path.exists():
        if old is None:
            with contextlib.suppress(InputError):
                old = Deployment.load(path)
        backup = backup_path(path, old)
        path.rename(backup)
    dep.save(path)
    return path, backup


# ---------------------------------------------------------------------------------------------- proofs


@dataclass
class SubmitResult:
    """Outcome of one proof sent to a verifier.

    ``accepted``: the contract accepted the proof. ``mode``: ``"transaction"`` (submitProof) or ``"call"``
    (verifyProof via ``eth_call``). ``gas_used``: the transaction's gas (including 21,000 base and calldata);
    None for a call. ``reason``: the decoded revert
    reason of a rejected/failed transaction. ``events``: decoded logs (``ProofVerified``)."""

    accepted: bool
    mode: str
    gas_used: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    reason: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    rejected_by_verifier: bool = False  # False with accepted False means: failed for another reason (e.g. gas)


def check_verifier_at(chain: Chain, address: str, abi: list[dict[str, Any]], vk_digest: bytes) -> None:
    """Makes sure ``address`` holds a zkchain verifier for ``vk_digest``: raises :class:`ChainError` if there is
    no code there, :class:`InputError` if the code is not a zkchain verifier or verifies another key."""
    from eth_utils import is_address, to_checksum_address

    if not is_address(address):
        raise InputError(f"not an address: {address!r}")
    address = to_checksum_address(address)
    if chain.code_size(address) == 0:
        raise ChainError(f"no contract at {address} on chain {chain.chain_id} ({chain_label(chain)}); wrong "
                         "--address, or the node was restarted since deploy-verifier")
    outcome = chain.try_call(address, abi, "VK_DIGEST", gas=100_000)
    if not outcome.success or not isinstance(outcome.value, (bytes, bytearray)):
        raise InputError(f"the contract at {address} is not a zkchain verifier (VK_DIGEST() failed)")
    if bytes(outcome.value) != vk_digest:
        raise InputError(f"the verifier at {address} checks VK 0x{bytes(outcome.value).hex()}, the proof is for "
                         f"0x{vk_digest.hex()}")


def submit_proof(chain: Chain, address: str, abi: list[dict[str, Any]], proof_bytes: bytes,
                 public_inputs: list[int], *, gas: int = DEFAULT_SUBMIT_GAS, call: bool = False,
                 function: str = "submitProof", model_id: bytes | None = None) -> SubmitResult:
    """Sends ``submitProof(proof_bytes, public_inputs)`` (or ``function``: ``submitAccuracy`` for an accuracy key,
    which emits ``AccuracyVerified``) as a transaction with gas limit ``gas`` (or, with
    ``call``, evaluates ``verifyProof`` by ``eth_call``: free, no event); with ``model_id``, the reusable
    verifier's ``submitProof(modelId, proof, publicInputs)``. A proof the verifier rejects is a
    reverted transaction (``ProofRejected``): mined, gas paid, ``accepted`` False, ``rejected_by_verifier`` True.
    Raises :class:`ChainError` if the transaction cannot be sent."""
    lead = () if model_id is None else (bytes(model_id),)
    if call:
        outcome = chain.try_call(address, abi, "verifyProof", *lead, proof_bytes, public_inputs, gas=gas)
        if not outcome.success:
            return SubmitResult(False, "call", reason=outcome.revert_reason)
        # No gas figure for calls: eth_estimateGas would search for the least gas at which the call *returns*,
        # and verifyProof returns false (instead of reverting) when a precompile runs out of gas.
        accepted = bool(outcome.value)
        return SubmitResult(accepted, "call", rejected_by_verifier=not accepted,
                            reason=None if accepted else "verifyProof returned false")
    floor = intrinsic_gas(submit_calldata(proof_bytes, public_inputs, model_id))
    if gas < floor:  # a node may keep such a transaction pending forever, blocking the sender's later nonces
        raise InputError(f"gas limit {gas:,} is below this transaction's intrinsic cost {floor:,} "
                         "(21,000 + calldata, EIP-7623 floor)")
    result: TxResult = chain.transact(address, abi, function, *lead, proof_bytes, public_inputs, gas=gas)
    receipt = result.receipt
    reason = result.outcome.revert_reason
    accepted = bool(result.outcome.success)
    rejected = (not accepted) and bool(reason) and reason.startswith("ProofRejected")
    if rejected and len(result.outcome.revert_data) == 36:  # ProofRejected(bytes32): show the digest as hex
        what = "vkDigest" if model_id is None else "modelId"
        reason = f"ProofRejected({what} 0x{result.outcome.revert_data[4:].hex()})"
    if not accepted and not reason:
        reason = "reverted without a reason"
    if not accepted and not rejected and result.gas_used >= gas:
        reason = f"out of gas at the {gas:,} gas limit (raise --gas): {reason}"
    events = [{**e, "args": {k: _hex(v) if isinstance(v, (bytes, bytearray)) else v for k, v in e["args"].items()}}
              for e in result.events]
    return SubmitResult(accepted, "transaction", gas_used=result.gas_used, tx_hash=_hex(receipt["transactionHash"]),
                        block_number=int(receipt["blockNumber"]), reason=None if accepted else reason,
                        events=events, rejected_by_verifier=rejected)


def submit_calldata(proof_bytes: bytes, public_inputs: list[int], model_id: bytes | None = None) -> bytes:
    """ABI calldata of ``submitProof(bytes,uint256[])`` (the same layout serves ``verifyProof``), or with
    ``model_id`` of the reusable verifier's ``submitProof(bytes32,bytes,uint256[])``."""
    from eth_abi import encode
    from eth_utils import keccak

    if model_id is not None:
        return keccak(text="submitProof(bytes32,bytes,uint256[])")[:4] + encode(
            ["bytes32", "bytes", "uint256[]"], [bytes(model_id), proof_bytes, public_inputs])
    return keccak(text="submitProof(bytes,uint256[])")[:4] + encode(["bytes", "uint256[]"],
                                                                     [proof_bytes, public_inputs])


def intrinsic_gas(data: bytes) -> int:
    """Least gas limit a transaction with calldata ``data`` needs before executing anything: 21,000 plus
    max(4/16 gas per zero/non-zero byte (EIP-2028), 10 gas per token with a non-zero byte = 4 tokens (EIP-7623))."""
    zero = data.count(0)
    nonzero = len(data) - zero
    return 21_000 + max(4 * zero + 16 * nonzero, 10 * (zero + 4 * nonzero))


def _hex(b: Any) -> str:
    if isinstance(b, str):
        return b if b.startswith("0x") else "0x" + b
    return "0x" + bytes(b).hex()
