"""Solidity verifier generator: one self-contained contract per verifying key.

``generate_verifier(vk)`` runs the one verifier routine (``zkchain.verifier.verify.run``) on the EVM loader
(``zkchain.evm.yul.EvmLoader``), which emits its Yul, and fills the template
``contracts/templates/Verifier.sol.tmpl``. ``verifyProof(bytes proof, uint256[] publicInputs)`` therefore checks
exactly what ``zkchain/verifier/verify.py`` checks, equation by equation, with every constant of the key compiled
in: fixed commitments and G2 points, the digest, every length, table offset and tag, matmul shapes, expression
coefficients, the opening schedule (hence every calldata offset). The contract interprets nothing at run time.

What the generated contract does, in order (``docs/protocol.md`` sections in brackets): shapes and ranges
[§1, §4, §6]; the Keccak transcript [§2, §4] straight from calldata; one batched field inversion; the block
equations (linear relations at ρ, the degree reversal, the aggregated Laurent inner product over every block's
and argument's claims) [§5]; the KZG fold, one ecMul per commitment, one two-pair ecPairing call [§3].

Gas (execution, measured on the embedded py-evm chain; ``docs/evm-verifier.md`` §4): about 6,350 per
ecMul + ecAdd — one per opened commitment, 4 + 3 for the opening proofs in ``L`` and ``R`` and 1 for ``[y]₁`` —
plus 113,100 for the pairing and ~25,000 for everything else (``benchmarks/bench_verifier.py`` prints the
bundled models). The EIP-170 limit is 24,576 bytes, and :func:`compile_verifier` logs a warning above it.

Errors: generation raises :class:`~zkchain.errors.InputError` for a bad contract name or an invalid key;
compilation :class:`~zkchain.evm.solc.CompileError` / :class:`~zkchain.errors.SetupError`. The generated
``verifyProof`` never reverts on proof data (it returns ``false``); ``submitProof`` reverts with
``ProofRejected(bytes32 vkDigest)``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from zkchain.crypto.field import P, R
from zkchain.errors import InputError
from zkchain.blocks.lookup import query_length, table_length
from zkchain.evm.yul import EvmLoader
from zkchain.protocol.proof import HIDES, ZERO_KNOWLEDGE, Proof
from zkchain.protocol.schedule import schedule
from zkchain.protocol.vk import VerifyingKey
from zkchain.verifier.verify import run

log = logging.getLogger(__name__)

TEMPLATE_NAME = "Verifier.sol.tmpl"
EIP170_LIMIT = 24_576  # bytes of deployed code (EIP-170)


def _generate(vk: VerifyingKey) -> EvmLoader:
    """Two passes of the verifier routine: the first records which powers, inverses and public evaluations the
    equations use, the second emits exactly those tables before the equations."""
    sch = schedule(vk.circuit)
    first = EvmLoader(vk, sch)
    run(first, vk)
    first.assemble()
    plan = first.plan()
    g = EvmLoader(vk, sch, plan)
    run(g, vk)
    g.lines_out = g.assemble()
    if g.plan()["pow"] != plan["pow"] or g.plan()["inv"] != plan["inv"]:
        raise AssertionError("verifier generator: the two passes disagree")  # pragma: no cover
    return g


_HELPERS = f"""\
function zkBadG1(x, y) -> b {{
    // 1 unless (x, y) is a canonical G1 encoding: coordinates < p and y^2 = x^3 + 3, or the identity (0, 0)
    let q := {hex(P)}
    let onCurve := eq(mulmod(y, y, q), addmod(mulmod(mulmod(x, x, q), x, q), 3, q))
    b := iszero(and(and(lt(x, q), lt(y, q)), or(onCurve, iszero(or(x, y)))))
}}
function zkOnes(xn, iv, one, n) -> o {{
    // (x^n - 1) / (x - 1), or n when x = 1 (then x^n - 1 = 0 and one = 1)
    let r := {hex(R)}
    o := addmod(mulmod(addmod(xn, sub(r, 1), r), iv, r), mul(one, n), r)
}}
function zkIota(x, xn, iv, one, n, half) -> o {{
    // sum_(i<n) i x^i = (x - n x^n + (n - 1) x^(n+1)) / (x - 1)^2, or n(n-1)/2 when x = 1
    let r := {hex(R)}
    let num := addmod(x, sub(r, mulmod(n, xn, r)), r)
    num := addmod(num, mulmod(sub(n, 1), mulmod(xn, x, r), r), r)
    o := addmod(mulmod(num, mulmod(iv, iv, r), r), mul(one, half), r)
}}
"""


def _header(vk: VerifyingKey, contract_name: str) -> str:
    c = vk.circuit
    model = vk.meta.get("model") or c.meta.get("model") or c.meta.get("name") or "(unnamed)"
    lines = [
        f"contract:        {contract_name}",
        f"model:           {model}",
        f"vk digest:       0x{vk.digest.hex()}",
        f"zero_knowledge:  {str(ZERO_KNOWLEDGE).lower()} (protocol v2 hides the {', '.join(HIDES)}; docs/protocol.md s.7)",
        f"srs:             degree {vk.srs_degree}, {vk.srs_description}",
    ]
    if vk.srs_insecure:
        lines.append("WARNING:         INSECURE dev SRS (tau is derivable from a public seed): proofs can be forged;"
                     " never deploy this contract where it protects value")
    lines.append(f"circuit:         {len(c.vectors)} vectors, {len(c.constraints)} constraints, "
                 f"{len(c.tables)} tables, query length {query_length(c)}, table length {table_length(c)}")
    if "accuracy" in c.meta:
        lines.append(f"accuracy:        proves k of {c.meta['accuracy']['samples']} samples of test set "
                     f"0x{vk.dataset_digest.hex()} correct (verifyAccuracy, submitAccuracy)")
    return "\n".join("// " + ln for ln in lines)


def _template() -> str:
    from zkchain.evm.contracts import contracts_dir

    path = Path(contracts_dir()) / "templates" / TEMPLATE_NAME
    try:
        return path.read_text(encoding="utf8")
    except FileNotFoundError:
        raise InputError(f"verifier template not found at {path}") from None


def _validate(vk: VerifyingKey) -> None:
    from zkchain.crypto.backend import get_backend

    be = get_backend("reference")
    try:
        for name, b in vk.fixed_commitments.items():
            be.g1_from_bytes(b)
        be.g2_from_bytes(vk.g2_one)
        be.g2_from_bytes(vk.g2_tau)
    except InputError as exc:
        raise InputError(f"verifying key holds an invalid curve point: {exc}") from None


def generate_verifier(vk: VerifyingKey, contract_name: str = "ZkchainVerifier", *, debug: bool = False) -> str:
    """One self-contained Solidity source (``pragma ^0.8.24``, Apache-2.0) verifying proofs for ``vk``.

    ``debug=True`` adds ``debugState(proof, publicInputs) -> (bool ok, uint256[8] challenges, uint256[4] LR)``
    (challenges in ``Schedule.challenges`` order; ``LR`` = the accumulator ``L.x, L.y, R.x, R.y``) for tests;
    production contracts leave it out. Raises :class:`~zkchain.errors.InputError` for an invalid contract name
    or a verifying key with an invalid point or a schedule/commitment mismatch. Every block the Python verifier
    checks is in the contract: both are the same routine.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", contract_name):
        raise InputError(f"contract name must be a Solidity identifier, got {contract_name!r}")
    _validate(vk)
    g = _generate(vk)
    body = g.lines_out
    yul = ["function zkVerify(pf, plen, pi, npub) -> ok {",
           f"    let r := {hex(R)}"]
    yul += ["    " + ln for ln in body]
    yul.append("}")
    yul += _HELPERS.splitlines()
    indent = " " * 12
    debug_src = ""
    if debug:
        ch = [g.addr[("ch", c)] for c in g.sch.challenges]
        L, Rr = g.acc_addresses
        srcs = ch + [L, L + 32, Rr, Rr + 32]
        stores = "\n".join(f"            mstore(add(m, {hex(32 * (i + 1))}), mload({hex(a)}))"
                           for i, a in enumerate(srcs))
        debug_src = f"""
    /// @notice TEST ONLY (generated with debug=True): the verdict, the transcript challenges
    ///         ({", ".join(g.sch.challenges)}) and the accumulator (L.x, L.y, R.x, R.y).
    function debugState(bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (bool, uint256[{len(ch)}] memory, uint256[4] memory)
    {{
        bool ok = _verify(proof, publicInputs);
        assembly {{
            let m := mload(0x40)
            mstore(m, ok)
{stores}
            return(m, {hex(32 * (1 + len(srcs)))})
        }}
    }}
"""
    n_ecmul = _count_ecmul(g)
    accuracy_src = _accuracy_section(vk, g.sch)
    src = (_template()
           .replace("{{HEADER}}", _header(vk, contract_name))
           .replace("{{CONTRACT_NAME}}", contract_name)
           .replace("{{VK_DIGEST}}", "0x" + vk.digest.hex())
           .replace("{{INSECURE_DEV_SRS}}", "true" if vk.srs_insecure else "false")
           .replace("{{PROOF_LENGTH}}", str(g.sch.proof_length))
           .replace("{{N_PUBLIC}}", str(g.sch.n_public))
           .replace("{{GAS_HINT}}", f"{n_ecmul} ecMul + 1 pairing")
           .replace("{{ACCURACY}}", accuracy_src)
           .replace("{{DEBUG}}", debug_src)
           .replace("{{MEM_END}}", hex(g.next))
           .replace("{{YUL}}", "\n".join(indent + ln if ln else "" for ln in yul)))
    return src


def _accuracy_section(vk: VerifyingKey, sch) -> str:
    """For a key with a committed test set (``zkchain.compiler.accuracy``): the constants ``TEST_SET_SIZE`` and
    ``DATASET_DIGEST``, ``verifyAccuracy`` (view; reverts ``ProofRejected`` on an invalid proof) and
    ``submitAccuracy`` (emits ``AccuracyVerified``). The count is ``publicInputs[i]`` at its schedule position,
    read only after the proof (and so the count's bound ``≤ N``) has been checked. Empty for any other key."""
    acc = vk.circuit.meta.get("accuracy")
    if acc is None:
        return ""
    n, i = int(acc["samples"]), sch.public_offset(acc["count"]) // 32
    return f"""
    /// @notice Number N of samples in the committed test set this verifier's accuracy proofs are about.
    uint256 public constant TEST_SET_SIZE = {n};
    /// @notice Keccak-256 of the test set's plain KZG commitments (data.x, data.onehot; 64 bytes
    ///         each): `zkchain check-dataset` recomputes it from the samples and labels you expect.
    bytes32 public constant DATASET_DIGEST = 0x{vk.dataset_digest.hex()};

    /// @notice Emitted by submitAccuracy: the committed model classifies `correct` of the `total` samples of the
    ///         test set `datasetDigest` correctly (ties go to the lowest class index).
    event AccuracyVerified(bytes32 indexed vkDigest, bytes32 indexed datasetDigest, uint256 correct, uint256 total,
                           address submitter);

    /// @notice The accuracy an accuracy proof proves: the committed (private) model classifies exactly `correct`
    ///         of the `total` = TEST_SET_SIZE samples of the committed test set correctly (argmax, ties to the
    ///         lowest index). Reverts with ProofRejected(VK_DIGEST) when the proof is invalid.
    function verifyAccuracy(bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (uint256 correct, uint256 total)
    {{
        if (!_verify(proof, publicInputs)) revert ProofRejected(VK_DIGEST);
        return (publicInputs[{i}], TEST_SET_SIZE);
    }}

    /// @notice Verifies like verifyAccuracy and emits AccuracyVerified for an accepted proof.
    function submitAccuracy(bytes calldata proof, uint256[] calldata publicInputs)
        external
        returns (uint256 correct, uint256 total)
    {{
        if (!_verify(proof, publicInputs)) revert ProofRejected(VK_DIGEST);
        (correct, total) = (publicInputs[{i}], TEST_SET_SIZE);
        emit AccuracyVerified(VK_DIGEST, DATASET_DIGEST, correct, total, msg.sender);
    }}
"""


def _count_ecmul(g: EvmLoader) -> int:
    return sum(1 for ln in g.lines_out if "staticcall(gas(), 0x07" in ln)


def proof_length(vk: VerifyingKey) -> int:
    """Length in bytes of the ``proof`` argument the verifier for ``vk`` expects."""
    return schedule(vk.circuit).proof_length


def compile_verifier(vk: VerifyingKey, contract_name: str = "ZkchainVerifier", *, debug: bool = False):
    """Generate and compile the verifier with solc-js (optimizer on, 200 runs, evm ``cancun``).

    Returns a :class:`zkchain.evm.solc.CompiledContract` (check ``runtime_size_bytes`` against the EIP-170
    limit of 24,576 bytes before deploying to a public chain). Raises
    :class:`zkchain.evm.solc.CompileError` if solc rejects the source (a generator bug) and
    :class:`~zkchain.errors.SetupError` if solc-js is not installed."""
    from zkchain.evm.solc import compile_solidity

    src = generate_verifier(vk, contract_name, debug=debug)
    compiled = compile_solidity({f"{contract_name}.sol": src}, optimize=True, runs=200, evm_version="cancun")[
        contract_name]
    if compiled.runtime_size_bytes > EIP170_LIMIT:
        log.warning("%s: runtime bytecode is %d bytes, above the EIP-170 limit of %d: it cannot be deployed on "
                    "Ethereum mainnet or most L2s (docs/evm-verifier.md, 'Code size')", contract_name,
                    compiled.runtime_size_bytes, EIP170_LIMIT)
    return compiled


def calldata(proof: Proof, vk: VerifyingKey) -> tuple[bytes, list[int]]:
    """The two arguments of ``verifyProof``/``submitProof``: the proof bytes (``Proof.proof_bytes``) and the
    public values as Fr ints (inputs then outputs; negative values as ``r − |v|``)."""
    return proof.proof_bytes(vk.circuit), proof.public_inputs(vk.circuit)
