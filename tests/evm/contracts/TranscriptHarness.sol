// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BN254} from "./BN254.sol";
import {Transcript} from "./Transcript.sol";

/// @notice Replays transcript test vectors: ops[i] is 0 absorb_fr (32 bytes), 1 absorb_g1 (64 bytes),
///         2 absorb_bytes (raw), 3 challenge (label, <= 32 bytes); returns every challenge in order.
contract TranscriptHarness {
    using Transcript for Transcript.State;

    uint8 internal constant ABSORB_FR = 0;
    uint8 internal constant ABSORB_G1 = 1;
    uint8 internal constant ABSORB_BYTES = 2;
    uint8 internal constant CHALLENGE = 3;

    /// @param capacity initial buffer capacity (bytes): small values exercise the growth path.
    /// @param bytesFromCalldata absorb_bytes via absorbCalldata (true) or absorbBytes from memory (false).
    function replay(
        bytes calldata domain,
        uint8[] calldata ops,
        bytes[] calldata data,
        uint256 capacity,
        bool bytesFromCalldata
    ) external pure returns (uint256[] memory challenges, bytes32 finalState) {
        require(ops.length == data.length, "length mismatch");
        uint256 n;
        for (uint256 i = 0; i < ops.length; i++) if (ops[i] == CHALLENGE) n++;
        challenges = new uint256[](n);
        Transcript.State memory t = Transcript.init(domain, capacity);
        n = 0;
        for (uint256 i = 0; i < ops.length; i++) {
            uint8 op = ops[i];
            if (op == ABSORB_FR) {
                t.absorbFr(abi.decode(data[i], (uint256)));
            } else if (op == ABSORB_G1) {
                (uint256 x, uint256 y) = abi.decode(data[i], (uint256, uint256));
                t.absorbG1(BN254.G1Point(x, y));
            } else if (op == ABSORB_BYTES) {
                if (bytesFromCalldata) t.absorbCalldata(data[i]);
                else t.absorbBytes(data[i]);
            } else if (op == CHALLENGE) {
                require(data[i].length <= 32, "label longer than 32 bytes");
                challenges[n++] = t.challenge(bytes32(data[i]));
            } else {
                revert("unknown op");
            }
        }
        finalState = t.state();
    }

    /// @notice Gas (measured with gasleft) of a typical round: init, absorb 4 G1 + 2 Fr (320 bytes), challenge,
    ///         and a challenge on an empty buffer.
    function measureGas()
        external
        view
        returns (
            uint256 initGas,
            uint256 absorbG1Gas,
            uint256 absorbFrGas,
            uint256 challenge320Gas,
            uint256 challengeEmptyGas
        )
    {
        uint256 before = gasleft();
        Transcript.State memory t = Transcript.init("zkchain.gas.v1");
        initGas = before - gasleft();
        t.absorbG1(1, 2); // the first write into the region pays its memory expansion
        before = gasleft();
        t.absorbG1(3, 4);
        absorbG1Gas = before - gasleft();
        t.absorbG1(5, 6);
        t.absorbG1(7, 8);
        before = gasleft();
        t.absorbFr(9);
        absorbFrGas = before - gasleft();
        t.absorbFr(10);
        before = gasleft();
        uint256 c = t.challenge("alpha");
        challenge320Gas = before - gasleft();
        before = gasleft();
        c ^= t.challenge("beta");
        challengeEmptyGas = before - gasleft();
        require(c != 0, "unreachable");
    }
}
