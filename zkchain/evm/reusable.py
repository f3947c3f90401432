"""The reusable verifier: one contract per chain, each model registered as a tape (``zkchain.evm.tape``).

    from zkchain.evm import reusable
    compiled = reusable.compile_reusable()                      # the same runtime bytes for every model
    address, gas = chain.deploy(compiled, gas=reusable.DEPLOY_GAS)
    tape = reusable.record_tape(vk)                             # tape.model_id = keccak256(tape.data)
    reg = reusable.register(chain, address, tape)               # deploys the data contract(s), then register()
    chain.call(address, compiled, "verifyProof", tape.model_id, proof_bytes, public_inputs)

``contracts/ReusableVerifier.sol`` (contract ``ZkchainReusableVerifier``) is the interpreter, written once; it is
compiled, not generated, so its runtime code does not depend on any model. A tape is stored as the code of data
contracts of at most :data:`CHUNK_BYTES` bytes each (EIP-170 caps every contract's code at 24,576 bytes; each
chunk's code is ``0x00`` (STOP) followed by its piece of the tape, so calling it does nothing), and registered
under ``model_id = keccak256(tape)``.

Units: gas in gas, sizes in bytes. Errors: :class:`~zkchain.errors.InputError` for a malformed tape,
:class:`~zkchain.errors.ChainError` (``CallReverted``) for a registration the contract refuses
(``AlreadyRegistered``, ``ModelIdMismatch``, ``MalformedTape``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zkchain.errors import InputError
from zkchain.evm.tape import Tape, decode_tape, record_tape  # noqa: F401  (re-exported)

CONTRACT_NAME = "ZkchainReusableVerifier"
SOURCE_NAME = "ReusableVerifier.sol"
CHUNK_BYTES = 24_575  # + the STOP byte = the EIP-170 limit
DEPLOY_GAS = 6_000_000
VERIFY_GAS = 5_000_000


def source() -> str:
    """The interpreter's Solidity source (``contracts/ReusableVerifier.sol``)."""
    from zkchain.evm.contracts import contracts_dir

    path = Path(contracts_dir()) / SOURCE_NAME
    try:
        return path.read_text(encoding="utf8")
    except FileNotFoundError:
        raise InputError(f"reusable verifier source not found at {path}") from None


def compile_reusable():
    """``ZkchainReusableVerifier`` compiled with solc-js (optimizer 200 runs, evm ``cancun``: it uses ``mcopy``).
    Raises ``CompileError`` / ``SetupError`` as :func:`zkchain.evm.solc.compile_solidity`."""
    from zkchain.evm.solc import compile_solidity

    return compile_solidity({SOURCE_NAME: source()}, optimize=True, runs=200, evm_version="cancun")[CONTRACT_NAME]


def chunks(tape: Tape | bytes, size: int | None = None) -> list[bytes]:
    """The tape cut into pieces of at most ``size`` bytes (default :data:`CHUNK_BYTES`; the data contracts' code
    without its STOP byte)."""
    size = size or CHUNK_BYTES
    data = tape.data if isinstance(tape, Tape) else bytes(tape)
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def initcode(piece: bytes) -> bytes:
    """Creation code of a data contract whose runtime code is ``0x00 ‖ piece`` (SSTORE2-style)."""
    runtime = b"\x00" + bytes(piece)
    if len(runtime) > 0xFFFF:
        raise InputError(f"data contract of {len(runtime)} bytes is too large")
    # PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN
    return bytes([0x61]) + len(runtime).to_bytes(2, "big") + bytes([0x80, 0x60, 12, 0x60, 0, 0x39, 0x60, 0, 0xF3]) + runtime


@dataclass(frozen=True)
class Registration:
    """A registered model: its id, the data contracts holding its tape, and the gas of the data contracts'
    deployment and of the ``register`` transaction."""

    model_id: bytes
    chunks: tuple[str, ...]
    data_gas: int
    register_gas: int

    @property
    def gas(self) -> int:
        return self.data_gas + self.register_gas


def deploy_chunks(chain, tape: Tape | bytes) -> tuple[list[str], int]:
    """Deploy the data contracts of ``tape``; returns ``(addresses, total gas)``."""
    from zkchain.evm.solc import CompiledContract

    addrs, gas = [], 0
    for i, piece in enumerate(chunks(tape)):
        code = initcode(piece)
        cc = CompiledContract(name=f"ZkchainTape{i}", abi=[], bytecode="0x" + code.hex(),
                              runtime_bytecode="0x00" + piece.hex())
        addr, g = chain.deploy(cc, gas=200 * (len(piece) + 1) + 100_000 + 16 * len(code))
        addrs.append(addr)
        gas += g
    return addrs, gas


def register(chain, verifier: str, tape: Tape, compiled=None) -> Registration:
    """Deploy ``tape``'s data contracts and register them under ``tape.model_id`` at ``verifier``.

    Raises ``CallReverted`` (a ChainError) with the contract's reason if it refuses (``AlreadyRegistered``,
    ``ModelIdMismatch``, ``MalformedTape``)."""
    from zkchain.evm.chain import CallReverted

    compiled = compiled or compile_reusable()
    addrs, data_gas = deploy_chunks(chain, tape)
    gas = 400_000 + 400 * len(tape.data)
    tx = chain.transact(verifier, compiled, "register", tape.model_id, addrs, gas=gas)
    if not tx.outcome.success:
        raise CallReverted("register", tx.outcome.revert_reason or "", tx.outcome.revert_data or b"")
    return Registration(tape.model_id, tuple(addrs), data_gas, tx.gas_used)


# -- choosing a mode, deploying, finding (what the CLI and zkchain.api call) ------------------------------------

MODES = ("auto", "specialised", "reusable")
#: ``auto`` picks the specialised verifier when its runtime code is at most this fraction of EIP-170
AUTO_MARGIN = 0.9
TAPE_FILE = "verifier.tape"


def choose_mode(vk, mode: str = "auto", specialised=None) -> tuple[str, str]:
    """``(mode, why)``: ``specialised`` or ``reusable``. ``auto`` compiles the specialised verifier (or takes
    ``specialised``, a CompiledContract) and keeps it when its runtime code fits EIP-170 with a 10 % margin
    (≤ 22,118 bytes): it is cheaper to verify (docs/evm-verifier.md §7). Raises InputError for an unknown mode."""
    from zkchain.evm.verifier_gen import EIP170_LIMIT

    if mode not in MODES:
        raise InputError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode, f"--mode {mode}"
    if specialised is None:
        from zkchain.evm.deploy import build_verifier

        specialised = build_verifier(vk)[1]
    size, cap = specialised.runtime_size_bytes, int(AUTO_MARGIN * EIP170_LIMIT)
    if size <= cap:
        return "specialised", f"auto: the specialised verifier's {size:,} B fit EIP-170 with margin (<= {cap:,} B)"
    return "reusable", (f"auto: the specialised verifier's {size:,} B exceed {cap:,} B (90% of EIP-170): a shared "
                        "verifier and this model's tape")


def write_tape(tape: Tape, path, force: bool = False) -> str:
    """Write the tape's bytes to ``path``; ``"wrote"`` or ``"unchanged"``. InputError if a different file is
    there and ``force`` is false."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name such as {path / TAPE_FILE}")
    if path.exists():
        if path.read_bytes() == tape.data:
            return "unchanged"
        if not force:
            raise InputError(f"{path} exists with different contents (another key or model?); pass --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tape.data)
    return "wrote"


def check_shared_at(chain, address: str, compiled=None) -> None:
    """Makes sure ``address`` holds this zkchain's reusable verifier (the same runtime code). Raises ChainError
    when there is no code, InputError when the code is another contract (or another version of the verifier)."""
    from eth_utils import is_address, to_checksum_address

    from zkchain.errors import ChainError

    if not is_address(address):
        raise InputError(f"not an address: {address!r}")
    code = bytes(chain.w3.eth.get_code(to_checksum_address(address)))
    if not code:
        raise ChainError(f"no contract at {address} on chain {chain.chain_id}; wrong --verifier-address, or the "
                         "node was restarted")
    compiled = compiled or compile_reusable()
    if code.hex() != compiled.runtime_bytecode[2:].lower():
        raise InputError(f"the contract at {address} is not this zkchain's {CONTRACT_NAME} (its runtime code "
                         "differs)")


def is_registered(chain, address: str, model_id: bytes, compiled=None) -> bool:
    compiled = compiled or compile_reusable()
    return bool(chain.call(address, compiled, "isRegistered", model_id, gas=200_000))


def check_model_at(chain, address: str, model_id: bytes, vk_digest: bytes, compiled=None) -> None:
    """Makes sure the shared verifier at ``address`` has ``model_id`` registered, for the key ``vk_digest``.
    Raises InputError otherwise (with the command that registers it)."""
    compiled = compiled or compile_reusable()
    if not is_registered(chain, address, model_id, compiled):
        raise InputError(f"model 0x{model_id.hex()} is not registered at {address}: run `zkchain deploy-verifier "
                         "BUILD --mode reusable --verifier-address ADDRESS --rpc-url URL` first")
    got = bytes(chain.call(address, compiled, "vkDigest", model_id, gas=200_000))
    if got != vk_digest:
        raise InputError(f"model 0x{model_id.hex()} at {address} checks VK 0x{got.hex()}, the proof is for "
                         f"0x{vk_digest.hex()}")


def parse_model_id(text: str) -> bytes:
    """A ``0x``-prefixed 32-byte hex model id; InputError otherwise."""
    t = text[2:] if text.lower().startswith("0x") else text
    try:
        b = bytes.fromhex(t)
    except ValueError:
        b = b""
    if len(b) != 32:
        raise InputError(f"model id must be 32 bytes of hex (0x + 64 digits), got {text!r}")
    return b
