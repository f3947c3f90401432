// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice What an integrating contract needs of a zkchain verifier (docs/integrators.md).
interface IZkchainVerifier {
    function VK_DIGEST() external view returns (bytes32);
    function INSECURE_DEV_SRS() external view returns (bool);
    function PUBLIC_INPUTS_LENGTH() external view returns (uint256);
    function verifyProof(bytes calldata proof, uint256[] calldata publicInputs) external view returns (bool);
}

/// @title DigitOracle: an example consumer of a verified model output.
/// @notice Records the digit a private model (the bundled digits MLP: 10 logits, private input) assigns to a private
///         image, once the proof that `logits = model(image)` verifies. Nobody learns the image or the weights.
/// @dev The verifier is pinned by address *and* verifying-key digest, so a verifier for another model (or another
///      setup of this one) cannot be swapped in; a verifier on the INSECURE dev SRS is refused unless the deployer
///      explicitly allows it (tests and demos). Public outputs arrive as field elements: a negative logit v is
///      r - |v|. Ties go to the lowest index (numpy's argmax, as `zkchain predict`).
contract DigitOracle {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 public constant CLASSES = 10;

    IZkchainVerifier public immutable verifier;
    uint256 public digits;          // how many proofs were recorded
    uint256 public lastDigit;
    int256 public lastLogit;        // the winning logit, in the model's integer output scale

    event DigitProven(uint256 indexed digit, int256 logit, bytes32 outputHash, address submitter);

    error WrongVerifyingKey(bytes32 found, bytes32 expected);
    error InsecureVerifier();
    error WrongOutputShape(uint256 publicInputs);
    error ProofRejected();

    constructor(IZkchainVerifier verifier_, bytes32 expectedVkDigest, bool allowInsecureDevSrs) {
        bytes32 found = verifier_.VK_DIGEST();
        if (found != expectedVkDigest) revert WrongVerifyingKey(found, expectedVkDigest);
        if (verifier_.INSECURE_DEV_SRS() && !allowInsecureDevSrs) revert InsecureVerifier();
        if (verifier_.PUBLIC_INPUTS_LENGTH() != CLASSES) revert WrongOutputShape(verifier_.PUBLIC_INPUTS_LENGTH());
        verifier = verifier_;
    }

    /// @notice Verify `proof` for `publicInputs` (the 10 logits) and record their argmax.
    function submit(bytes calldata proof, uint256[] calldata publicInputs) external returns (uint256 digit) {
        if (!verifier.verifyProof(proof, publicInputs)) revert ProofRejected();
        int256 best = signedOf(publicInputs[0]);
        for (uint256 i = 1; i < CLASSES; i++) {
            int256 v = signedOf(publicInputs[i]);
            if (v > best) (best, digit) = (v, i);
        }
        (lastDigit, lastLogit) = (digit, best);
        digits += 1;
        emit DigitProven(digit, best, keccak256(abi.encodePacked(publicInputs)), msg.sender);
    }

    /// @notice A public value as the signed integer it encodes (values above r/2 are negative).
    function signedOf(uint256 x) public pure returns (int256) {
        return x > R / 2 ? -int256(R - x) : int256(x);
    }
}
