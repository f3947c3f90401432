"""Chains to deploy and check verifiers on: an in-process EVM (eth-tester + py-evm) or any JSON-RPC node.

``Chain.embedded()`` needs nothing but Python and is what the tests use; ``Chain.rpc(url)`` talks to anvil
(``zkchain node``), a testnet or mainnet. Both expose the same four operations: :meth:`Chain.deploy`,
:meth:`Chain.call`, :meth:`Chain.transact` and the account they send from.

Gas is always given explicitly (``DEFAULT_GAS`` when the caller does not say): letting web3 estimate it makes
eth-tester re-execute the call about ten times, which for a pairing check costs seconds. The default stays under
the EIP-7825 per-transaction cap of 2^24 gas (Osaka), so the same call works on every current fork.

Units: gas in gas, value and balances in wei, code sizes in bytes, addresses as checksummed ``0x`` strings.
"""

from __future__ import annotations

import ast
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlparse

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from zkchain.errors import ChainError, InputError
from zkchain.evm.solc import CompiledContract

log = logging.getLogger(__name__)

ANVIL_CHAIN_ID = 31337
#: Anvil's (and Hardhat's) first dev account, derived from the public "test test ... junk" mnemonic. Anyone can
#: spend from it: zkchain uses it only on chain id 31337, and says so.
ANVIL_DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#: Gas given to calls and transactions when the caller does not say (below the EIP-7825 cap 16,777,216).
DEFAULT_GAS = 16_000_000
#: Block gas limit of the embedded chain (eth-tester's default is ~30M; raised so one block never limits a test).
EMBEDDED_BLOCK_GAS_LIMIT = 100_000_000

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

Abi = Sequence[dict[str, Any]]


class CallReverted(ChainError):
    """An ``eth_call`` reverted. ``reason`` is the decoded reason, ``data`` the raw revert bytes."""

    def __init__(self, fn: str, reason: str, data: bytes):
        super().__init__(f"{fn} reverted: {reason}")
        self.reason = reason
        self.data = data


@dataclass(frozen=True)
class Outcome:
    """What a call or transaction returned.

    ``success`` False means it reverted; then ``revert_reason`` is a readable decoding (``Error(string)``,
    ``Panic(0x..)``, a custom error from the ABI, or a note that there was no revert data, e.g. out of gas) and
    ``revert_data`` the raw bytes. ``value`` is the decoded return value (one output: the value; several: a
    tuple) or ``None`` when unknown (not replayed) or reverted.
    """

    success: bool
    value: Any = None
    revert_reason: str | None = None
    revert_data: bytes = b""


class TxResult(NamedTuple):
    """A mined transaction: ``receipt`` (web3 receipt dict), ``gas_used`` (gas, whole transaction including
    the 21,000 base and calldata cost), ``outcome`` (:class:`Outcome`) and ``events`` (decoded logs, in order:
    ``{"event": name, "address": ..., "args": {...}, "log_index": n}``)."""

    receipt: dict[str, Any]
    gas_used: int
    outcome: Outcome
    events: list[dict[str, Any]]


def _abi_of(abi: Abi | CompiledContract) -> list[dict[str, Any]]:
    return list(abi.abi if isinstance(abi, CompiledContract) else abi)


def decode_revert(data: bytes, abi: Abi | CompiledContract | None = None) -> str:
    """Readable form of revert data: ``Error(string)`` gives the string, ``Panic(uint256)`` ``"Panic(0x11)"``,
    a custom error of ``abi`` ``"Name(arg, ...)"``; anything else its hex; empty data a hint (out of gas,
    invalid opcode, or a bare ``revert()``)."""
    if not data:
        return "no revert data (bare revert, out of gas or invalid opcode)"
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_SELECTOR:
            return abi_decode(["string"], body)[0]
        if selector == _PANIC_SELECTOR:
            return f"Panic(0x{abi_decode(['uint256'], body)[0]:02x})"
        for item in _abi_of(abi) if abi is not None else []:
            if item.get("type") != "error":
                continue
            types = [i["type"] for i in item.get("inputs", [])]
            if keccak(text=f"{item['name']}({','.join(types)})")[:4] == selector:
                args = abi_decode(types, body)
                return f"{item['name']}({', '.join(str(a) for a in args)})"
    except Exception:  # malformed payload: fall through to hex
        pass
    return "revert data 0x" + data.hex()


# py-evm failures that are not REVERT (eth-tester reports them as text, like an Error(string) reason).
_VM_ERROR = re.compile(
    r"^(Out of gas|Invalid opcode|Invalid Jump|Jump resulted|Insufficient stack|Stack limit|Invalid EC|"
    r"Cannot modify state|Return data length|Contract code|Sub-group check|coordinate|Length of data)"
)

_RPC_VM_ERROR = re.compile(r"EVM error|out of gas|invalid opcode|execution reverted|stack (underflow|overflow)", re.I)


def _revert_from_exception(exc: Exception) -> tuple[bytes, str | None] | None:
    """``(revert data, reason override)`` from a web3 or eth-tester exception, or None if exc is not a revert.

    eth-tester hands reverts over as text: an ``Error(string)`` reason already decoded (re-encoded here), other
    revert data as the ``repr`` of bytes, and EVM faults (out of gas, invalid opcode, failed precompile) as their
    message, which becomes the reason with empty data.
    """
    from web3.exceptions import ContractLogicError, Web3RPCError

    if isinstance(exc, Web3RPCError) and not isinstance(exc, ContractLogicError):
        # anvil/geth report faults without revert data (out of gas, invalid opcode) as an RPC error
        error = (exc.rpc_response or {}).get("error") or {}
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        if _RPC_VM_ERROR.search(message):
            return b"", message if message.startswith("EVM error") else f"EVM error: {message}"
        return None
    if isinstance(exc, ContractLogicError):  # JSON-RPC nodes, and eth-tester panics
        data = exc.data
        if isinstance(data, dict):
            data = next(iter(data.values()), None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:]), None
        return b"", (str(exc.message) if getattr(exc, "message", None) else None)
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:  # pragma: no cover - eth-tester is a dependency
        return None
    if not isinstance(exc, TransactionFailed):
        return None
    arg = exc.args[0] if exc.args else b""
    if isinstance(arg, (bytes, bytearray)):
        return bytes(arg), None
    text = str(arg).removeprefix("execution reverted").removeprefix(": ")
    if text[:2] in ("b'", 'b"'):
        try:
            raw = ast.literal_eval(text)
            if isinstance(raw, bytes):
                return raw, None
        except (ValueError, SyntaxError):
            pass
    if not text or _VM_ERROR.match(text):
        return b"", (f"EVM error: {text}" if text else None)
    return _ERROR_SELECTOR + abi_encode(["string"], [text]), None


class Chain:
    """A web3 connection plus the account it sends from. Build with :meth:`embedded` or :meth:`rpc`."""

    def __init__(self, w3: Any, *, account: str, kind: str, url: str | None = None, key_source: str = "node"):
        self.w3 = w3
        self.account = to_checksum_address(account)
        self.kind = kind  # "embedded" or "rpc"
        self.url = url
        self.key_source = key_source  # "eth-tester", "private key", "anvil dev account (public key!)"

    def __repr__(self) -> str:
        where = self.url or "in-process py-evm"
        return f"Chain({self.kind}, {where}, chain_id={self.chain_id}, account={self.account})"

    # ------------------------------------------------------------------------------------------ constructors

    @classmethod
    def embedded(cls, *, block_gas_limit: int = EMBEDDED_BLOCK_GAS_LIMIT, fork: str = "prague") -> Chain:
        """An in-process chain: eth-tester on py-evm, ten funded unlocked accounts, automine.

        ``fork`` pins the EVM rules (``"prague"`` default, or ``"cancun"``) instead of following eth-tester's
        default; ``block_gas_limit`` is in gas. Pairings are slow here (~0.3 s for a 2-pair check); use anvil
        for many of them. Raises InputError for an unknown fork.
        """
        from eth.vm.forks import CancunVM, PragueVM
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider, Web3

        forks = {"cancun": CancunVM, "prague": PragueVM}
        if fork not in forks:
            raise InputError(f"embedded chain fork must be one of {sorted(forks)}, got {fork!r}")
        params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": block_gas_limit})
        backend = PyEVMBackend(genesis_parameters=params, vm_configuration=((0, forks[fork]),))
        tester = EthereumTester(backend)
        w3 = Web3(EthereumTesterProvider(tester))
        return cls(w3, account=w3.eth.accounts[0], kind="embedded", key_source="eth-tester")

    @classmethod
    def rpc(cls, url: str, *, private_key: str | None = None, timeout: float = 10.0) -> Chain:
        """A JSON-RPC node at ``url`` (http or https).

        Transactions are signed locally with ``private_key`` (hex; default ``$ZKCHAIN_PRIVATE_KEY``). Without
        one, on chain id 31337 (anvil, hardhat) the well-known first dev account is used and a warning is logged;
        on any other chain a :class:`~zkchain.errors.ChainError` asks for a key. ``timeout`` (seconds) bounds
        every request.
        Raises ChainError if the node does not answer, InputError for a malformed URL or key.
        """
        from eth_account import Account
        from web3 import Web3
        from web3.middleware import SignAndSendRawMiddlewareBuilder

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InputError(f"RPC URL must be http(s)://host:port, got {url!r}")
        provider = Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        w3 = Web3(provider)
        try:
            chain_id = w3.eth.chain_id
        except Exception as exc:  # requests' ConnectionError, timeouts, bad JSON...
            raise ChainError(f"no JSON-RPC node answers at {url} ({type(exc).__name__}); is it running? "
                             "(`zkchain node` starts a local one)") from None
        if private_key is None:
            private_key = os.environ.get("ZKCHAIN_PRIVATE_KEY") or None
        if private_key is None:
            if chain_id != ANVIL_CHAIN_ID:
                raise ChainError(f"chain id {chain_id} at {url} needs a private key to send transactions "
                                 "(--private-key or ZKCHAIN_PRIVATE_KEY)")
            private_key, key_source = ANVIL_DEV_PRIVATE_KEY, "anvil dev account (public key!)"
            log.warning("chain id 31337: sending from anvil's first dev account %s, whose key is public",
                        ANVIL_DEV_ADDRESS)
        else:
            key_source = "private key"
        try:
            signer = Account.from_key(private_key)
        except Exception:
            raise InputError("private key must be 32 bytes of hex") from None
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signer), layer=0)
        w3.eth.default_account = signer.address
        return cls(w3, account=signer.address, kind="rpc", url=url, key_source=key_source)

    # ------------------------------------------------------------------------------------------ queries

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def balance(self, address: str | None = None) -> int:
        """Balance in wei of ``address`` (default: the sending account)."""
        return int(self.w3.eth.get_balance(to_checksum_address(address or self.account)))

    def code_size(self, address: str) -> int:
        """Deployed code size in bytes at ``address`` (0 for an account without code)."""
        return len(self.w3.eth.get_code(to_checksum_address(address)))

    # ------------------------------------------------------------------------------------------ transactions

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        try:
            tx_hash = self.w3.eth.send_transaction(tx)
            return dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120))
        except Exception as exc:
            revert = _revert_from_exception(exc)
            if revert is not None:  # some nodes refuse to send a transaction whose pre-check reverts
                data, reason = revert
                raise CallReverted("transaction", reason or decode_revert(data), data) from None
            raise ChainError(f"transaction failed to send: {exc}") from None

    def deploy(self, compiled: CompiledContract, *args: Any, gas: int = DEFAULT_GAS, value: int = 0) -> tuple[str, int]:
        """Deploys ``compiled`` with constructor ``args``; returns ``(address, gas_used)`` (gas of the whole
        creation transaction). Raises ChainError if the creation reverts (including code larger than the
        EIP-170 limit of 24,576 bytes, or running out of ``gas``)."""
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        tx = factory.constructor(*args).build_transaction({"from": self.account, "gas": gas, "value": value})
        receipt = self._send(tx)
        if receipt["status"] != 1 or not receipt.get("contractAddress"):
            raise ChainError(
                f"deploying {compiled.name} reverted after {receipt['gasUsed']} gas (constructor revert, out of "
                f"gas, or runtime code {compiled.runtime_size_bytes} bytes > 24,576-byte EIP-170 limit)"
            )
        return to_checksum_address(receipt["contractAddress"]), int(receipt["gasUsed"])

    def _function(self, address: str, abi: Abi | CompiledContract, fn: str, args: tuple[Any, ...]) -> Any:
        contract = self.w3.eth.contract(address=to_checksum_address(address), abi=_abi_of(abi))
        try:
            return contract.get_function_by_name(fn)(*args)
        except ValueError as exc:
            raise InputError(f"{fn}: {exc}") from None

    def try_call(
        self, address: str, abi: Abi | CompiledContract, fn: str, *args: Any, gas: int = DEFAULT_GAS,
        block: int | str = "latest",
    ) -> Outcome:
        """``eth_call`` of ``fn(*args)`` with ``gas`` at ``block``; reverts come back as an :class:`Outcome`."""
        function = self._function(address, abi, fn, args)
        try:
            value = function.call({"from": self.account, "gas": gas}, block_identifier=block)
        except Exception as exc:
            revert = _revert_from_exception(exc)
            if revert is None:
                raise ChainError(f"eth_call {fn} failed: {exc}") from None
            data, reason = revert
            return Outcome(False, None, reason or decode_revert(data, abi), data)
        if len(function.abi.get("outputs", [])) > 1:  # web3 returns a list; several outputs read as a tuple
            value = tuple(value)
        return Outcome(True, value)

    def call(self, address: str, abi: Abi | CompiledContract, fn: str, *args: Any, gas: int = DEFAULT_GAS) -> Any:
        """Returns the decoded result of ``eth_call`` ``fn(*args)`` (one output: its value, several: a tuple).
        Raises :class:`CallReverted` (a ChainError) with the decoded reason if the call reverts."""
        outcome = self.try_call(address, abi, fn, *args, gas=gas)
        if not outcome.success:
            raise CallReverted(fn, outcome.revert_reason or "", outcome.revert_data)
        return outcome.value

    def transact(
        self, address: str, abi: Abi | CompiledContract, fn: str, *args: Any, gas: int = DEFAULT_GAS,
        value: int = 0, replay: bool = True,
    ) -> TxResult:
        """Sends ``fn(*args)`` with ``gas`` (gas limit) and ``value`` (wei) and waits for the receipt.

        Returns :class:`TxResult` ``(receipt, gas_used, outcome, events)``. A reverted transaction is mined
        with status 0 and is not an exception. With ``replay`` (default), the call is re-run with ``eth_call``
        on the parent block to recover the return value or the revert reason (one extra execution; pass
        ``replay=False`` to skip it, then ``outcome.value`` is None).
        """
        function = self._function(address, abi, fn, args)
        tx = function.build_transaction({"from": self.account, "gas": gas, "value": value})
        receipt = self._send(tx)
        success = receipt["status"] == 1
        outcome = Outcome(success)
        if replay:
            replayed = self.try_call(address, abi, fn, *args, gas=gas, block=int(receipt["blockNumber"]) - 1)
            if replayed.success == success:
                outcome = replayed
            elif not success:  # e.g. out of gas only at this gas limit
                outcome = Outcome(False, None, decode_revert(b""), b"")
        events = self._decode_events(address, abi, receipt)
        return TxResult(receipt, int(receipt["gasUsed"]), outcome, events)

    def call_raw(self, address: str, data: bytes, *, gas: int = DEFAULT_GAS, block: int | str = "latest") -> Outcome:
        """``eth_call`` with raw calldata ``data``; ``outcome.value`` is the raw return bytes."""
        tx = {"from": self.account, "to": to_checksum_address(address), "data": bytes(data), "gas": gas}
        try:
            return Outcome(True, bytes(self.w3.eth.call(tx, block_identifier=block)))
        except Exception as exc:
            revert = _revert_from_exception(exc)
            if revert is None:
                raise ChainError(f"eth_call failed: {exc}") from None
            return Outcome(False, None, revert[1] or decode_revert(revert[0]), revert[0])

    def transact_raw(self, address: str, data: bytes, *, gas: int = DEFAULT_GAS, value: int = 0) -> TxResult:
        """Sends a transaction with raw calldata ``data`` (no ABI, no replay); events are not decoded."""
        receipt = self._send(
            {"from": self.account, "to": to_checksum_address(address), "data": bytes(data), "gas": gas, "value": value}
        )
        return TxResult(receipt, int(receipt["gasUsed"]), Outcome(receipt["status"] == 1), [])

    def _decode_events(self, address: str, abi: Abi | CompiledContract, receipt: dict[str, Any]) -> list[dict]:
        from web3.logs import DISCARD

        contract = self.w3.eth.contract(address=to_checksum_address(address), abi=_abi_of(abi))
        decoded = []
        for item in _abi_of(abi):
            if item.get("type") == "event":
                for ev in contract.events[item["name"]]().process_receipt(receipt, errors=DISCARD):
                    decoded.append(
                        {"event": ev["event"], "address": ev["address"], "args": dict(ev["args"]),
                         "log_index": int(ev["logIndex"])}
                    )
        return sorted(decoded, key=lambda e: e["log_index"])
