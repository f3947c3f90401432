// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title BN254 (alt_bn128) group arithmetic and the KZG accumulator decision over the EVM precompiles.
/// @notice Wraps ecAdd (0x06) and ecMul (0x07) of EIP-196 and ecPairing (0x08) of EIP-197, with gas as in
///         EIP-1108: ecAdd 150, ecMul 6,000, ecPairing 45,000 + 34,000 per pair; and modexp (0x05, EIP-198)
///         for Fr exponentiation and inversion.
///         The zkchain verifier reduces every check to KZG opening claims (C, x, y, pi) and folds them into one
///         pair (L, R) decided by e(L, [1]_2) * e(-R, [tau]_2) = 1 (docs/protocol.md section 3): one 2-pair
///         pairing call, 113,000 gas for the precompile.
/// @dev Encodings follow docs/protocol.md section 1: G1 = (x, y), the identity is (0, 0); G2 is stored in
///      EIP-197 order (x_im, x_re, y_im, y_re). G1 on BN254 has cofactor 1, so "on the curve" is "in the group".
///      Every function is internal (inlined into the verifier): nothing to deploy or link.
///      Validate untrusted points with isOnCurve/requireG1 before using them: the precompiles reject invalid
///      input by failing, and a failing precompile call burns all the gas forwarded to it.
library BN254 {
    /// @dev Base-field modulus p (coordinates are < p).
    uint256 internal constant P_MOD = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev Group order r = modulus of the scalar field Fr.
    uint256 internal constant R_MOD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice An affine G1 point; (0, 0) is the identity (point at infinity).
    struct G1Point {
        uint256 x;
        uint256 y;
    }

    /// @notice An affine G2 point in EIP-197 order: x = xIm * i + xRe, y = yIm * i + yRe over Fp2 = Fp[i]/(i^2 + 1).
    struct G2Point {
        uint256 xIm;
        uint256 xRe;
        uint256 yIm;
        uint256 yRe;
    }

    /// @notice A running fold of KZG claims: lhs = sum w_k (C_k + x_k pi_k), rhs = sum w_k pi_k and
    ///         ySum = sum w_k y_k mod r. The [ySum]_1 term is subtracted once, in decide().
    struct Accumulator {
        G1Point lhs;
        G1Point rhs;
        uint256 ySum;
    }

    /// @notice A precompile call failed (invalid input point, or not enough gas forwarded).
    error PrecompileFailed(uint256 precompile);
    /// @notice A G1 point has a coordinate >= p or is not on y^2 = x^3 + 3.
    error InvalidG1Point(uint256 x, uint256 y);
    /// @notice A scalar-field element is >= r.
    error FrOutOfRange(uint256 value);
    /// @notice invFr / batchInvFr of an element that is 0 mod r.
    error InverseOfZero();

    // ------------------------------------------------------------------------------------ constants and checks

    /// @notice The generator G1 = (1, 2).
    function generator() internal pure returns (G1Point memory) {
        return G1Point(1, 2);
    }

    /// @notice The EIP-197 generator of G2 (= [1]_2 of every SRS).
    function generatorG2() internal pure returns (G2Point memory) {
        return G2Point(
            11559732032986387107991004021392285783925812861821192530917403151452391805634,
            10857046999023057135944570762232829481370756359578518086990519993285655852781,
            4082367875863433681332203403145435568316851327593401208105741076214120093531,
            8495653923123431417604973247489272438418190587263600148770280649306958101930
        );
    }

    /// @notice True iff s is a canonical scalar-field element (s < r).
    function isFr(uint256 s) internal pure returns (bool) {
        return s < R_MOD;
    }

    /// @notice Reverts with FrOutOfRange unless s < r.
    function requireFr(uint256 s) internal pure {
        if (s >= R_MOD) revert FrOutOfRange(s);
    }

    /// @notice True iff (x, y) is a canonical encoding of a G1 point: both coordinates < p and either the
    ///         identity (0, 0) or on the curve y^2 = x^3 + 3. About 100 gas.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool ok) {
        assembly ("memory-safe") {
            let p := P_MOD
            let rhs := addmod(mulmod(mulmod(x, x, p), x, p), 3, p)
            ok := and(and(lt(x, p), lt(y, p)), or(eq(mulmod(y, y, p), rhs), iszero(or(x, y))))
        }
    }

    /// @notice isOnCurve for a G1Point.
    function isOnCurve(G1Point memory pt) internal pure returns (bool) {
        return isOnCurve(pt.x, pt.y);
    }

    /// @notice Reverts with InvalidG1Point unless pt passes isOnCurve.
    function requireG1(G1Point memory pt) internal pure {
        if (!isOnCurve(pt.x, pt.y)) revert InvalidG1Point(pt.x, pt.y);
    }

    // ------------------------------------------------------------------------------------ group operations

    /// @notice -pt (the identity stays the identity). Assumes pt.y < p.
    function negate(G1Point memory pt) internal pure returns (G1Point memory) {
        if (pt.x == 0 && pt.y == 0) return G1Point(0, 0);
        return G1Point(pt.x, P_MOD - pt.y);
    }

    /// @notice a + b by ecAdd (0x06, EIP-196; 150 gas). Reverts PrecompileFailed(6) on invalid input.
    function add(G1Point memory a, G1Point memory b) internal view returns (G1Point memory out) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(a))
            mstore(add(m, 0x20), mload(add(a, 0x20)))
            mstore(add(m, 0x40), mload(b))
            mstore(add(m, 0x60), mload(add(b, 0x20)))
            ok := staticcall(gas(), 0x06, m, 0x80, out, 0x40)
        }
        if (!ok) revert PrecompileFailed(0x06);
    }

    /// @notice s * pt by ecMul (0x07, EIP-196; 6,000 gas). Any 256-bit s is accepted (the group has order r).
    ///         Reverts PrecompileFailed(7) on invalid input.
    function mul(G1Point memory pt, uint256 s) internal view returns (G1Point memory out) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(pt))
            mstore(add(m, 0x20), mload(add(pt, 0x20)))
            mstore(add(m, 0x40), s)
            ok := staticcall(gas(), 0x07, m, 0x60, out, 0x40)
        }
        if (!ok) revert PrecompileFailed(0x07);
    }

    /// @notice acc <- acc + s * pt in place (one ecMul and one ecAdd, no allocation): the MSM step.
    ///         Reverts PrecompileFailed(7) if either precompile fails (invalid pt or acc).
    function mulAddAssign(G1Point memory acc, G1Point memory pt, uint256 s) internal view {
        bool ok;
        assembly ("memory-safe") {
            // scratch [acc.x, acc.y, pt.x, pt.y, s]: ecMul writes s*pt over pt, then ecAdd sums the first 4 words.
            let m := mload(0x40)
            mstore(m, mload(acc))
            mstore(add(m, 0x20), mload(add(acc, 0x20)))
            mstore(add(m, 0x40), mload(pt))
            mstore(add(m, 0x60), mload(add(pt, 0x20)))
            mstore(add(m, 0x80), s)
            // two statements: Yul evaluates call arguments right to left, so and(mul, add) would add first
            ok := staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40)
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, acc, 0x40))
        }
        if (!ok) revert PrecompileFailed(0x07);
    }

    /// @notice sum_i scalars[i] * points[i] as a loop of ecMul + ecAdd (6,150 gas of precompiles per term).
    /// @dev Points must be valid (check untrusted ones with requireG1 first); scalars may be any uint256.
    ///      Reverts if the arrays differ in length, or PrecompileFailed(7) if ecMul or ecAdd fails.
    function msm(G1Point[] memory points, uint256[] memory scalars) internal view returns (G1Point memory out) {
        require(points.length == scalars.length, "BN254: msm length mismatch");
        bool ok = true;
        assembly ("memory-safe") {
            let m := mload(0x40) // scratch [acc.x, acc.y, p.x, p.y, s]; acc starts at the identity
            mstore(m, 0)
            mstore(add(m, 0x20), 0)
            let n := mload(points)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let pt := mload(add(points, mul(add(i, 1), 0x20)))
                mstore(add(m, 0x40), mload(pt))
                mstore(add(m, 0x60), mload(add(pt, 0x20)))
                mstore(add(m, 0x80), mload(add(scalars, mul(add(i, 1), 0x20))))
                ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
                ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
            }
            mstore(out, mload(m))
            mstore(add(out, 0x20), mload(add(m, 0x20)))
        }
        if (!ok) revert PrecompileFailed(0x07);
    }

    // ------------------------------------------------------------------------------------ scalar field

    /// @notice a^e mod r by modexp (0x05, EIP-198). Gas of the precompile for a 254-bit exponent: 1,349 under
    ///         EIP-2565 (Berlin..Prague), 4,048 under EIP-7883 (Osaka). Reverts PrecompileFailed(5) on failure.
    function expFr(uint256 a, uint256 e) internal view returns (uint256 result) {
        bool ok;
        assembly ("memory-safe") {
            let m := mload(0x40) // [len(base)=32, len(exp)=32, len(mod)=32, base, exp, mod]
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), a)
            mstore(add(m, 0x80), e)
            mstore(add(m, 0xa0), R_MOD)
            ok := staticcall(gas(), 0x05, m, 0xc0, 0x00, 0x20)
            result := mload(0x00)
        }
        if (!ok) revert PrecompileFailed(0x05);
    }

    /// @notice a^(-1) mod r (Fermat: a^(r-2), one modexp call). Reverts InverseOfZero if a = 0 mod r.
    function invFr(uint256 a) internal view returns (uint256) {
        if (a % R_MOD == 0) revert InverseOfZero();
        return expFr(a, R_MOD - 2);
    }

    /// @notice Inverts every element of xs in place with one modexp (Montgomery's trick: 3(n-1) mulmod + one
    ///         inversion). Reverts InverseOfZero if any element is 0 mod r.
    function batchInvFr(uint256[] memory xs) internal view {
        uint256 n = xs.length;
        if (n == 0) return;
        uint256 prefix; // n words: prefix[i] = xs[0] * ... * xs[i]
        uint256 acc = 1;
        assembly ("memory-safe") {
            prefix := mload(0x40)
            mstore(0x40, add(prefix, mul(n, 0x20))) // allocated: invFr's scratch space must not overwrite it
            let data := add(xs, 0x20)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                acc := mulmod(acc, mload(add(data, mul(i, 0x20))), R_MOD)
                mstore(add(prefix, mul(i, 0x20)), acc)
            }
        }
        uint256 inv = invFr(acc); // reverts if any factor is zero (r is prime)
        assembly ("memory-safe") {
            let data := add(xs, 0x20)
            for { let i := sub(n, 1) } gt(i, 0) { i := sub(i, 1) } {
                let slot := add(data, mul(i, 0x20))
                let xi := mload(slot)
                mstore(slot, mulmod(inv, mload(add(prefix, mul(sub(i, 1), 0x20))), R_MOD))
                inv := mulmod(inv, xi, R_MOD)
            }
            mstore(data, inv)
        }
    }

    // ------------------------------------------------------------------------------------ pairings

    /// @notice True iff prod_i e(a[i], b[i]) = 1, by one ecPairing call (0x08, EIP-197; 45,000 + 34,000 k gas).
    ///         Returns false (does not revert) when the precompile rejects the input, e.g. a G2 point outside
    ///         the r-torsion subgroup; such a failure consumes the gas forwarded to the precompile.
    function pairing(G1Point[] memory a, G2Point[] memory b) internal view returns (bool result) {
        require(a.length == b.length, "BN254: pairing length mismatch");
        assembly ("memory-safe") {
            let n := mload(a)
            let m := mload(0x40)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let o := add(m, mul(i, 0xc0))
                let g1 := mload(add(a, mul(add(i, 1), 0x20)))
                let g2 := mload(add(b, mul(add(i, 1), 0x20)))
                mstore(o, mload(g1))
                mstore(add(o, 0x20), mload(add(g1, 0x20)))
                mcopy(add(o, 0x40), g2, 0x80)
            }
            let ok := staticcall(gas(), 0x08, m, mul(n, 0xc0), 0x00, 0x20)
            result := and(ok, eq(mload(0x00), 1))
        }
    }

    /// @notice True iff e(a1, a2) * e(b1, b2) = 1 (one 2-pair ecPairing call, 113,000 gas). False if the
    ///         precompile rejects the input.
    function pairing2(G1Point memory a1, G2Point memory a2, G1Point memory b1, G2Point memory b2)
        internal
        view
        returns (bool result)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(a1))
            mstore(add(m, 0x20), mload(add(a1, 0x20)))
            mcopy(add(m, 0x40), a2, 0x80)
            mstore(add(m, 0xc0), mload(b1))
            mstore(add(m, 0xe0), mload(add(b1, 0x20)))
            mcopy(add(m, 0x100), b2, 0x80)
            let ok := staticcall(gas(), 0x08, m, 0x180, 0x00, 0x20)
            result := and(ok, eq(mload(0x00), 1))
        }
    }

    // ------------------------------------------------------------------------------------ KZG accumulator

    /// @notice The accumulator decision e(L, [1]_2) * e(-R, [tau]_2) = 1 with one 2-pair pairing call.
    /// @param lhs L = sum w_k (C_k - [y_k]_1 + x_k pi_k); rhs R = sum w_k pi_k (both valid G1 points).
    /// @param g2 [1]_2 and tauG2 [tau]_2 of the verifying key (trusted constants).
    /// @return True iff the folded claims hold; false if the pairing fails or the precompile rejects input.
    function verifyAccumulator(G1Point memory lhs, G1Point memory rhs, G2Point memory g2, G2Point memory tauG2)
        internal
        view
        returns (bool)
    {
        return pairing2(lhs, g2, negate(rhs), tauG2);
    }

    /// @notice Folds the KZG claim (c, x, y, proof) with weight w into acc:
    ///         lhs += w C + (w x) pi, rhs += w pi, ySum += w y (3 ecMul + 3 ecAdd, about 18.5k gas).
    /// @dev c and proof must be valid G1 points, x and y canonical Fr elements (validate untrusted input first).
    ///      A fresh Accumulator (all zero) is the empty fold. Claims may be folded in any order.
    function foldClaim(
        Accumulator memory acc,
        G1Point memory c,
        uint256 x,
        uint256 y,
        G1Point memory proof,
        uint256 w
    ) internal view {
        mulAddAssign(acc.lhs, c, w);
        mulAddAssign(acc.lhs, proof, mulmod(w, x, R_MOD));
        mulAddAssign(acc.rhs, proof, w);
        acc.ySum = addmod(acc.ySum, mulmod(w, y, R_MOD), R_MOD);
    }

    /// @notice Decides a fold: L = lhs - [ySum]_1, then verifyAccumulator(L, rhs, g2, tauG2).
    ///         One ecMul, one ecAdd and the 2-pair pairing (about 120k gas).
    function decide(Accumulator memory acc, G2Point memory g2, G2Point memory tauG2) internal view returns (bool) {
        G1Point memory lhs = G1Point(acc.lhs.x, acc.lhs.y);
        // -[ySum]_1 = [r - ySum]_1; ySum < r so the scalar is in (0, r].
        mulAddAssign(lhs, generator(), R_MOD - acc.ySum);
        return verifyAccumulator(lhs, acc.rhs, g2, tauG2);
    }
}
