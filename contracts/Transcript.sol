// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BN254} from "./BN254.sol";

/// @title The zkchain Fiat-Shamir transcript (Keccak-256), bit for bit as docs/protocol.md section 2.
/// @notice
///     state <- keccak256(domain)
///     absorbFr(x):      buffer <- buffer || be32(x)          (reverts FrOutOfRange if x >= r)
///     absorbG1(P):      buffer <- buffer || be32(P.x) || be32(P.y)
///     absorbBytes(b):   buffer <- buffer || b                (fixed-length data only)
///     challenge(label): h <- keccak256(state || buffer || label)   (label: ASCII <= 32 bytes, right-padded)
///                       state <- h; buffer <- empty; return h mod r
///     The Python transcript (zkchain/crypto/transcript.py) matches it on tests/vectors/transcript.json.
/// @dev The transcript lives in one memory region [state (32 bytes) | buffer (cap bytes) | label slot (32)],
///      so a challenge is a single keccak over contiguous memory with no copying. When the buffer is full the
///      region is reallocated at twice the size (mcopy, EIP-5656: needs evm_version >= cancun); pass the
///      expected byte count between two challenges to init() to avoid that. Labels are bytes32 literals:
///      bytes32("gamma") is "gamma" right-padded with zeros, as the spec requires.
///      absorbG1 does not check the point: validate untrusted points with BN254.requireG1 first.
library Transcript {
    /// @notice A transcript in memory. ptr: start of the region; len: bytes buffered since the last
    ///         challenge; cap: buffer capacity in bytes.
    struct State {
        uint256 ptr;
        uint256 len;
        uint256 cap;
    }

    uint256 private constant DEFAULT_CAPACITY = 1024; // bytes

    /// @notice A new transcript with state keccak256(domain) and a 1,024-byte buffer.
    function init(bytes memory domain) internal pure returns (State memory t) {
        return init(domain, DEFAULT_CAPACITY);
    }

    /// @notice A new transcript with state keccak256(domain) and room for capacity bytes between challenges
    ///         (it grows beyond that at the cost of one copy).
    function init(bytes memory domain, uint256 capacity) internal pure returns (State memory t) {
        capacity = (capacity + 31) & ~uint256(31); // keep the free-memory pointer word-aligned
        uint256 region;
        assembly ("memory-safe") {
            region := mload(0x40)
            mstore(region, keccak256(add(domain, 0x20), mload(domain)))
            mstore(0x40, add(region, add(capacity, 0x40)))
        }
        t.ptr = region;
        t.cap = capacity;
    }

    /// @notice Appends be32(x). Reverts BN254.FrOutOfRange if x >= r.
    function absorbFr(State memory t, uint256 x) internal pure {
        if (x >= BN254.R_MOD) revert BN254.FrOutOfRange(x);
        uint256 at = _reserve(t, 0x20);
        assembly ("memory-safe") {
            mstore(at, x)
        }
    }

    /// @notice Appends the 64-byte EVM encoding x || y of a G1 point (the identity is 64 zero bytes).
    function absorbG1(State memory t, uint256 x, uint256 y) internal pure {
        uint256 at = _reserve(t, 0x40);
        assembly ("memory-safe") {
            mstore(at, x)
            mstore(add(at, 0x20), y)
        }
    }

    /// @notice absorbG1 for a BN254.G1Point.
    function absorbG1(State memory t, BN254.G1Point memory pt) internal pure {
        absorbG1(t, pt.x, pt.y);
    }

    /// @notice Appends the 32 bytes of v (e.g. a verifying-key digest).
    function absorbBytes32(State memory t, bytes32 v) internal pure {
        uint256 at = _reserve(t, 0x20);
        assembly ("memory-safe") {
            mstore(at, v)
        }
    }

    /// @notice Appends the bytes of b (memory).
    function absorbBytes(State memory t, bytes memory b) internal pure {
        uint256 at = _reserve(t, b.length);
        assembly ("memory-safe") {
            mcopy(at, add(b, 0x20), mload(b))
        }
    }

    /// @notice Appends the bytes of b straight from calldata (e.g. a run of proof commitments), no ABI copy.
    function absorbCalldata(State memory t, bytes calldata b) internal pure {
        uint256 at = _reserve(t, b.length);
        assembly ("memory-safe") {
            calldatacopy(at, b.offset, b.length)
        }
    }

    /// @notice Draws a challenge: h = keccak256(state || buffer || label), state <- h, buffer emptied.
    /// @param label ASCII label right-padded to 32 bytes, e.g. bytes32("alpha").
    /// @return c h mod r (a canonical Fr element).
    function challenge(State memory t, bytes32 label) internal pure returns (uint256 c) {
        uint256 region = t.ptr;
        uint256 len = t.len;
        assembly ("memory-safe") {
            mstore(add(add(region, 0x20), len), label) // the label slot after the buffer is always allocated
            let h := keccak256(region, add(len, 0x40))
            mstore(region, h)
            c := mod(h, 21888242871839275222246405745257275088548364400416034343698204186575808495617)
        }
        t.len = 0;
    }

    /// @notice The current 32-byte state (keccak256(domain) before the first challenge).
    function state(State memory t) internal pure returns (bytes32 s) {
        uint256 region = t.ptr;
        assembly ("memory-safe") {
            s := mload(region)
        }
    }

    /// @dev Makes room for n more bytes and returns the address they go to; doubles the region if full.
    function _reserve(State memory t, uint256 n) private pure returns (uint256 at) {
        // unchecked: lengths are bounded by memory size, far below 2^256
        unchecked {
            uint256 len = t.len;
            uint256 region = t.ptr;
            if (len + n > t.cap) {
                uint256 cap = t.cap * 2;
                if (cap < len + n) cap = (len + n + 31) & ~uint256(31);
                assembly ("memory-safe") {
                    let fresh := mload(0x40)
                    mcopy(fresh, region, add(len, 0x20))
                    mstore(0x40, add(fresh, add(cap, 0x40)))
                    region := fresh
                }
                t.ptr = region;
                t.cap = cap;
            }
            t.len = len + n;
            at = region + 0x20 + len;
        }
    }
}
