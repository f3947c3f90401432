#!/usr/bin/env python3
"""Submit a zkchain proof to its deployed Solidity verifier — a standalone script integrators can copy.

    python scripts/submit_proof.py --proof proof.json --deployment deployment.json \\
        --rpc-url http://127.0.0.1:8545 [--private-key HEX] [--gas 1000000] [--call]

Inputs (both written by zkchain, plain JSON):
  proof.json       `zkchain prove`: uses "proof_bytes" (0x-hex, the `bytes proof` argument), "public_inputs"
                   (0x-hex Fr elements, the `uint256[] publicInputs` argument) and "vk_digest"
  deployment.json  `zkchain deploy-verifier`: uses "address", "chain_id", "vk_digest", "abi" (and "rpc_url"
                   when --rpc-url is omitted); for a shared reusable verifier ("mode": "reusable") also
                   "model_id", sent first: `submitProof(modelId, proof, publicInputs)`

It sends `submitProof(proof, publicInputs)` as a signed transaction with an explicit gas limit and prints the
verdict, gas used, transaction hash and the `ProofVerified` event. A proof the verifier rejects is a mined,
reverted transaction (`ProofRejected(bytes32 vkDigest)`; its gas is paid): use --call for a free `eth_call` of
`verifyProof` instead.

Key: --private-key or $ZKCHAIN_PRIVATE_KEY. Without one, only a local chain with id 31337 (anvil/hardhat) is
accepted, sending from its first dev account, whose key is public.

Exit codes: 0 accepted, 1 rejected by the verifier, 2 any other problem (bad files, digest or chain mismatch, no
contract at the address, node unreachable, transaction failed for another reason such as gas).

Dependencies: web3 (>= 6) and eth-account only; no zkchain import.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3

ANVIL_CHAIN_ID = 31337
# Anvil's/Hardhat's first dev account, from the public "test test ... junk" mnemonic: local chains only.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
PROOF_REJECTED = keccak(text="ProofRejected(bytes32)")[:4]


class Fail(Exception):
    """Anything that is not the verifier's verdict: exit code 2."""


def load_json(path: str, what: str) -> dict:
    try:
        with open(path, encoding="utf8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise Fail(f"{what} file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise Fail(f"{path} is not a JSON {what} file: {exc}") from None
    if not isinstance(data, dict):
        raise Fail(f"{path} is not a JSON object")
    return data


def hex_bytes(value, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise Fail(f"{what} must be a 0x-hex string")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise Fail(f"{what} is not valid hex") from None


def call_arguments(proof: dict) -> tuple[bytes, list[int]]:
    """The two arguments of verifyProof/submitProof from a proof.json."""
    if "proof_bytes" not in proof or "public_inputs" not in proof:
        raise Fail("proof file has no proof_bytes/public_inputs (is it a zkchain proof.json?)")
    try:
        public_inputs = [int(v, 16) if isinstance(v, str) else int(v) for v in proof["public_inputs"]]
    except (TypeError, ValueError):
        raise Fail("proof public_inputs must be a list of 0x-hex numbers") from None
    return hex_bytes(proof["proof_bytes"], "proof_bytes"), public_inputs


def revert_data(exc: Exception) -> bytes:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = next(iter(data.values()), None)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Submit a zkchain proof to its deployed verifier contract.",
                                 epilog="Exit codes: 0 accepted, 1 rejected by the verifier, 2 error.")
    ap.add_argument("--proof", required=True, help="proof.json written by `zkchain prove`")
    ap.add_argument("--deployment", required=True, help="deployment.json written by `zkchain deploy-verifier`")
    ap.add_argument("--rpc-url", default=None, help="JSON-RPC URL (default: the deployment's rpc_url)")
    ap.add_argument("--private-key", default=os.environ.get("ZKCHAIN_PRIVATE_KEY"),
                    help="hex private key of the sender (default: $ZKCHAIN_PRIVATE_KEY; without one only chain id "
                         "31337 works, from anvil's public dev account)")
    ap.add_argument("--address", default=None, help="verifier address (default: the deployment's address)")
    ap.add_argument("--gas", type=int, default=1_000_000, help="gas limit (default: 1,000,000)")
    ap.add_argument("--call", action="store_true", help="free eth_call of verifyProof instead of a transaction")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per RPC request (default: 30)")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    proof = load_json(args.proof, "proof")
    dep = load_json(args.deployment, "deployment")
    for key in ("address", "chain_id", "vk_digest", "abi"):
        if key not in dep:
            raise Fail(f"{args.deployment} has no {key!r} (is it a zkchain deployment.json?)")
    proof_bytes, public_inputs = call_arguments(proof)
    if str(proof.get("vk_digest", "")).lower() != str(dep["vk_digest"]).lower():
        raise Fail(f"the proof is for verifying key {proof.get('vk_digest')}, the deployed verifier checks "
                   f"{dep['vk_digest']}")

    url = args.rpc_url or dep.get("rpc_url")
    if not url or not str(url).startswith(("http://", "https://")):
        raise Fail("no usable RPC URL: pass --rpc-url http(s)://host:port")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": args.timeout}))
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception as exc:  # connection refused, timeout, not JSON-RPC
        raise Fail(f"no JSON-RPC node answers at {url} ({type(exc).__name__})") from None
    if args.address is None and chain_id != int(dep["chain_id"]):
        raise Fail(f"the deployment is on chain id {dep['chain_id']}, {url} serves chain id {chain_id}")
    try:
        address = to_checksum_address(args.address or dep["address"])
    except ValueError:
        raise Fail(f"not an address: {args.address or dep['address']!r}") from None
    if len(w3.eth.get_code(address)) == 0:
        raise Fail(f"no contract at {address} on chain id {chain_id}")
    contract = w3.eth.contract(address=address, abi=dep["abi"])
    # a reusable verifier (deploy-verifier --mode reusable) is shared: the model's id comes first
    lead = (hex_bytes(dep["model_id"], "model_id"),) if dep.get("mode") == "reusable" else ()
    fn = contract.functions.submitProof(*lead, proof_bytes, public_inputs)

    if args.call:
        try:
            ok = contract.functions.verifyProof(*lead, proof_bytes, public_inputs).call({"gas": args.gas})
        except Exception as exc:
            raise Fail(f"verifyProof call failed: {exc}") from None
        print(f"{'accepted' if ok else 'rejected'}: verifyProof returned {str(bool(ok)).lower()} at {address} "
              f"on chain {chain_id} (eth_call)")
        return 0 if ok else 1

    key = args.private_key
    if not key:
        if chain_id != ANVIL_CHAIN_ID:
            raise Fail(f"chain id {chain_id} needs a private key (--private-key or ZKCHAIN_PRIVATE_KEY)")
        key = ANVIL_DEV_KEY
        print("note: no private key: sending from anvil's first dev account (public key; chain id 31337 only)",
              file=sys.stderr)
    try:
        account = Account.from_key(key)
    except Exception:
        raise Fail("private key must be 32 bytes of hex") from None

    try:
        tx = fn.build_transaction({
            "from": account.address, "gas": args.gas, "chainId": chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        })
        data = hex_bytes(tx["data"], "calldata") if isinstance(tx["data"], str) else bytes(tx["data"])
        zero = data.count(0)
        floor = 21_000 + max(4 * zero + 16 * (len(data) - zero), 10 * (zero + 4 * (len(data) - zero)))
        if args.gas < floor:  # a node may keep such a transaction pending forever, blocking later nonces
            raise Fail(f"--gas {args.gas:,} is below this transaction's intrinsic cost {floor:,} "
                       "(21,000 + calldata, EIP-7623 floor)")
        signed = account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=180)
    except Fail:
        raise
    except Exception as exc:
        raise Fail(f"transaction not sent or not mined: {exc}") from None
    line = (f"tx 0x{bytes(receipt['transactionHash']).hex()}  block {receipt['blockNumber']}  "
            f"gas used {receipt['gasUsed']:,}")

    if receipt["status"] == 1:
        print(f"accepted: submitProof succeeded at {address} on chain {chain_id}")
        print(line)
        for ev in contract.events.ProofVerified().process_receipt(receipt):
            a = ev["args"]
            print(f"event ProofVerified(vkDigest=0x{bytes(a['vkDigest']).hex()}, "
                  f"outputHash=0x{bytes(a['outputHash']).hex()}, submitter={a['submitter']})")
        return 0

    # Reverted: replay it on the parent block to read the reason (ProofRejected = the verifier's verdict).
    data = b""
    try:
        fn.call({"from": account.address, "gas": args.gas}, block_identifier=receipt["blockNumber"] - 1)
    except Exception as exc:
        data = revert_data(exc)
    if data[:4] == PROOF_REJECTED:
        print(f"rejected: ProofRejected(vkDigest 0x{data[4:36].hex()}) at {address} on chain {chain_id}",
              file=sys.stderr)
        print(line)
        return 1
    if receipt["gasUsed"] >= args.gas:
        raise Fail(f"the transaction ran out of gas at {args.gas:,} (raise --gas); {line}")
    raise Fail(f"the transaction reverted (revert data 0x{data.hex()}), not a verifier verdict; {line}")


if __name__ == "__main__":
    sys.exit(main())
