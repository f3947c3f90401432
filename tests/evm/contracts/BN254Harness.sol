// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {BN254} from "./BN254.sol";

/// @notice Test harness exposing the BN254 library; the G2 points play the verifying key's [1]_2 and [tau]_2
///         (fixed at deployment, as a generated verifier hard-codes them).
contract BN254Harness {
    using BN254 for BN254.Accumulator;

    uint256 private immutable g2XIm;
    uint256 private immutable g2XRe;
    uint256 private immutable g2YIm;
    uint256 private immutable g2YRe;
    uint256 private immutable tauXIm;
    uint256 private immutable tauXRe;
    uint256 private immutable tauYIm;
    uint256 private immutable tauYRe;

    event Decided(bool ok, uint256 claims);

    constructor(uint256[4] memory g2, uint256[4] memory tauG2) {
        (g2XIm, g2XRe, g2YIm, g2YRe) = (g2[0], g2[1], g2[2], g2[3]);
        (tauXIm, tauXRe, tauYIm, tauYRe) = (tauG2[0], tauG2[1], tauG2[2], tauG2[3]);
    }

    function _g2() private view returns (BN254.G2Point memory) {
        return BN254.G2Point(g2XIm, g2XRe, g2YIm, g2YRe);
    }

    function _tauG2() private view returns (BN254.G2Point memory) {
        return BN254.G2Point(tauXIm, tauXRe, tauYIm, tauYRe);
    }

    function _pt(uint256[2] calldata p) private pure returns (BN254.G1Point memory) {
        return BN254.G1Point(p[0], p[1]);
    }

    function _out(BN254.G1Point memory p) private pure returns (uint256[2] memory) {
        return [p.x, p.y];
    }

    function add(uint256[2] calldata a, uint256[2] calldata b) external view returns (uint256[2] memory) {
        return _out(BN254.add(_pt(a), _pt(b)));
    }

    function mul(uint256[2] calldata p, uint256 s) external view returns (uint256[2] memory) {
        return _out(BN254.mul(_pt(p), s));
    }

    function negate(uint256[2] calldata p) external pure returns (uint256[2] memory) {
        return _out(BN254.negate(_pt(p)));
    }

    function msm(uint256[2][] calldata points, uint256[] calldata scalars) external view returns (uint256[2] memory) {
        BN254.G1Point[] memory pts = new BN254.G1Point[](points.length);
        for (uint256 i = 0; i < points.length; i++) pts[i] = _pt(points[i]);
        return _out(BN254.msm(pts, scalars));
    }

    function isOnCurve(uint256 x, uint256 y) external pure returns (bool) {
        return BN254.isOnCurve(x, y);
    }

    function requireG1(uint256 x, uint256 y) external pure {
        BN254.requireG1(BN254.G1Point(x, y));
    }

    function isFr(uint256 s) external pure returns (bool) {
        return BN254.isFr(s);
    }

    function requireFr(uint256 s) external pure {
        BN254.requireFr(s);
    }

    function expFr(uint256 a, uint256 e) external view returns (uint256) {
        return BN254.expFr(a, e);
    }

    function invFr(uint256 a) external view returns (uint256) {
        return BN254.invFr(a);
    }

    function batchInvFr(uint256[] memory xs) external view returns (uint256[] memory) {
        BN254.batchInvFr(xs);
        return xs;
    }

    /// @notice Gas of invFr (one modexp) and of batchInvFr over 8 elements, measured with gasleft().
    function measureInvGas() external view returns (uint256 invGas, uint256 batch8Gas) {
        uint256[] memory xs = new uint256[](8);
        for (uint256 i = 0; i < 8; i++) xs[i] = i + 2;
        uint256 before = gasleft();
        uint256 y = BN254.invFr(123456789);
        invGas = before - gasleft();
        before = gasleft();
        BN254.batchInvFr(xs);
        batch8Gas = before - gasleft();
        require(mulmod(y, 123456789, BN254.R_MOD) == 1 && mulmod(xs[0], 2, BN254.R_MOD) == 1, "inverse");
    }

    /// @notice Generic pairing product check (G2 points from calldata: untrusted, may make the precompile fail).
    function pairingCheck(uint256[2][] calldata g1, uint256[4][] calldata g2) external view returns (bool) {
        BN254.G1Point[] memory a = new BN254.G1Point[](g1.length);
        BN254.G2Point[] memory b = new BN254.G2Point[](g2.length);
        for (uint256 i = 0; i < g1.length; i++) a[i] = _pt(g1[i]);
        for (uint256 i = 0; i < g2.length; i++) b[i] = BN254.G2Point(g2[i][0], g2[i][1], g2[i][2], g2[i][3]);
        return BN254.pairing(a, b);
    }

    /// @notice The accumulator decision on untrusted (L, R): false for invalid points.
    function verifyAccumulator(uint256[2] calldata lhs, uint256[2] calldata rhs) external view returns (bool) {
        if (!BN254.isOnCurve(lhs[0], lhs[1]) || !BN254.isOnCurve(rhs[0], rhs[1])) return false;
        return BN254.verifyAccumulator(_pt(lhs), _pt(rhs), _g2(), _tauG2());
    }

    /// @notice Folds KZG claims [Cx, Cy, x, y, pi_x, pi_y] with weights u^k and decides them.
    ///         False on any malformed claim (coordinate >= p, off-curve point, x or y >= r).
    function verifyClaims(uint256[6][] calldata claims, uint256 u) public view returns (bool) {
        if (!BN254.isFr(u)) return false;
        BN254.Accumulator memory acc;
        uint256 w = 1;
        for (uint256 k = 0; k < claims.length; k++) {
            uint256[6] calldata c = claims[k];
            if (!BN254.isOnCurve(c[0], c[1]) || !BN254.isOnCurve(c[4], c[5])) return false;
            if (!BN254.isFr(c[2]) || !BN254.isFr(c[3])) return false;
            acc.foldClaim(BN254.G1Point(c[0], c[1]), c[2], c[3], BN254.G1Point(c[4], c[5]), w);
            w = mulmod(w, u, BN254.R_MOD);
        }
        return acc.decide(_g2(), _tauG2());
    }

    /// @notice verifyClaims as a transaction, with an event (what a verifier used on chain does).
    function submitClaims(uint256[6][] calldata claims, uint256 u) external returns (bool ok) {
        ok = verifyClaims(claims, u);
        emit Decided(ok, claims.length);
    }

    /// @notice Gas of each primitive measured with gasleft() inside one call (includes the library's memory
    ///         setup around the precompile call, excludes the transaction and ABI overhead).
    function measureGas()
        external
        view
        returns (
            uint256 ecAddGas,
            uint256 ecMulGas,
            uint256 pairing2Gas,
            uint256 foldClaimGas,
            uint256 isOnCurveGas,
            uint256 msm4Gas
        )
    {
        BN254.G1Point memory g = BN254.generator();
        uint256 before = gasleft();
        BN254.G1Point memory two = BN254.add(g, g);
        ecAddGas = before - gasleft();
        before = gasleft();
        BN254.G1Point memory p = BN254.mul(two, 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef);
        ecMulGas = before - gasleft();
        before = gasleft();
        bool ok = BN254.pairing2(p, _g2(), BN254.negate(p), _g2());
        pairing2Gas = before - gasleft();
        require(ok, "pairing2 should hold");
        BN254.Accumulator memory acc;
        before = gasleft();
        acc.foldClaim(p, 5, 7, two, 11);
        foldClaimGas = before - gasleft();
        before = gasleft();
        ok = BN254.isOnCurve(p.x, p.y);
        isOnCurveGas = before - gasleft();
        require(ok, "on curve");
        BN254.G1Point[] memory pts = new BN254.G1Point[](4);
        uint256[] memory sc = new uint256[](4);
        for (uint256 i = 0; i < 4; i++) (pts[i], sc[i]) = (p, i + 3);
        before = gasleft();
        BN254.msm(pts, sc);
        msm4Gas = before - gasleft();
    }
}
