// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ZkchainReusableVerifier: one verifier contract for every zkchain model.
/// @notice A model is registered once as a *tape* (zkchain/evm/tape.py): its verifying key and the verifier
///         routine recorded as a compact program, stored as the code of one or more data contracts (each code
///         starts with STOP, so calling one does nothing). The model's id is keccak256(tape): content-addressed,
///         so nobody can register another program under a model's id, and the tape is hashed again where it
///         lies in memory before every verification. The interpreter below is written once; its runtime code
///         is the same whatever the model. docs/evm-verifier.md, "Reusable verifier".
/// @dev Calldata of a proof is the specialised verifier's (Proof.proof_bytes, public inputs as Fr words).
///      Precompiles: 0x05 modexp (one batched inversion), 0x06/0x07 ecAdd/ecMul, 0x08 ecPairing (one call,
///      two pairs). Memory: scratch 0x80-0x3bf, the tape from 0x3c0 (header, constants, code), then the public
///      inputs, the proof, the temporaries and the transcript buffer, as the tape's header lays out.
contract ZkchainReusableVerifier {
    /// @dev modelId => (number of chunks << 192) | the first chunk: (byte length << 160) | data contract address.
    ///      One storage read finds a one-chunk tape; further chunks (tapes over 24,575 bytes) are in _more.
    mapping(bytes32 => uint256) private _head;
    mapping(bytes32 => uint256[]) private _more;

    /// @notice Emitted once per model by register.
    event ModelRegistered(bytes32 indexed modelId, bytes32 vkDigest, uint256 tapeBytes, address registrant);
    /// @notice Emitted by submitProof for an accepted proof. outputHash = keccak256(abi.encodePacked(publicInputs)).
    event ProofVerified(bytes32 indexed modelId, bytes32 vkDigest, bytes32 outputHash, address submitter);

    /// @notice submitProof reverts with this when verifyProof would return false.
    error ProofRejected(bytes32 modelId);
    /// @notice A model id that was never registered.
    error UnknownModel(bytes32 modelId);
    /// @notice register: the id already has a tape (nothing is ever overwritten).
    error AlreadyRegistered(bytes32 modelId);
    /// @notice register: keccak256 of the tape the chunks hold is not the model id.
    error ModelIdMismatch(bytes32 modelId, bytes32 tapeHash);
    /// @notice register: the tape is malformed. code: 1 shorter than its header, 2 bad magic or version,
    ///         3 length does not match the header, 4 unknown opcode, 5 instruction past the end of the code,
    ///         6 operand outside memory, 7 transcript buffer overflow, 8 does not end with PAIRING,
    ///         9 layout too large, 10 a chunk is empty or not a data contract (first byte not STOP), 11 no chunks.
    error MalformedTape(uint256 code);

    uint256 private constant TAPE = 0x3c0; // the tape's first byte in memory (its constants start at 0x400)

    // ---------------------------------------------------------------------------------------------- registry

    /// @notice Registers the tape held by `chunks` (data contracts, in order) under `modelId` = keccak256(tape).
    ///         Checks the tape's structure (every instruction, operand and buffer size) so that verification
    ///         never meets a malformed program; reverts AlreadyRegistered, ModelIdMismatch or MalformedTape.
    function register(bytes32 modelId, address[] calldata chunks) external {
        if (_head[modelId] != 0) revert AlreadyRegistered(modelId);
        if (chunks.length == 0) revert MalformedTape(11);
        uint256 len;
        for (uint256 i = 0; i < chunks.length; i++) {
            address c = chunks[i];
            uint256 size;
            uint256 first;
            assembly {
                size := extcodesize(c)
                extcodecopy(c, 0, 0, 1)
                first := byte(0, mload(0))
            }
            if (size < 2 || first != 0) revert MalformedTape(10);
            uint256 entry = ((size - 1) << 160) | uint256(uint160(c));
            if (i == 0) _head[modelId] = (chunks.length << 192) | entry;
            else _more[modelId].push(entry);
            assembly {
                extcodecopy(c, add(TAPE, len), 1, sub(size, 1))
            }
            len += size - 1;
        }
        bytes32 h;
        uint256 code;
        bytes32 digest;
        assembly {
            h := keccak256(TAPE, len)
            code := zkValidate(TAPE, len)
            digest := mload(add(TAPE, 0x20))

            function zkValidate(t, n) -> e {
                if lt(n, 0x40) { e := 1 leave }
                let h0 := mload(t)
                if iszero(eq(shr(216, h0), 0x007a6b5401)) { e := 2 leave }
                let nConst := and(shr(192, h0), 0xffff)
                let codeLen := and(shr(96, h0), 0xffffffff)
                if iszero(eq(n, add(0x40, add(shl(5, nConst), codeLen)))) { e := 3 leave }
                let dlo := add(add(add(32, nConst), shr(5, add(codeLen, 31))), add(and(shr(176, h0), 0xffff), and(shr(160, h0), 0xffff)))
                let hi := add(dlo, and(shr(144, h0), 0xffff))
                let bufWords := and(shr(128, h0), 0xffff)
                if iszero(lt(add(add(hi, 1), bufWords), 0x10000)) { e := 9 leave }
                let ip := add(t, add(0x40, shl(5, nConst)))
                let end := add(ip, codeLen)
                let buf := 0
                let ended := 0
                for {} lt(ip, end) {} {
                    if ended { e := 8 leave }
                    let w := mload(ip)
                    let op := shr(248, w)
                    let nops := 0
                    switch op
                    case 2 { nops := 3 } case 3 { nops := 3 } case 6 { nops := 4 }
                    case 8 { nops := add(1, mul(5, and(shr(232, w), 0xffff))) } case 9 { nops := 7 } case 12 { nops := 2 }
                    case 13 { nops := 1 } case 14 { nops := 2 } case 15 { nops := 3 } case 16 { nops := 2 }
                    case 17 { nops := 1 } case 18 { nops := 2 } case 19 { nops := 2 } case 21 { nops := 4 }
                    case 26 { nops := add(1, mul(3, and(shr(232, w), 0xffff))) }
                    case 23 { nops := add(1, mul(3, and(shr(232, w), 0xffff))) }
                    case 25 { nops := add(1, mul(3, and(shr(232, w), 0xffff))) }
                    case 24 { nops := add(1, mul(3, and(shr(232, w), 0xffff))) }
                    case 4 { nops := add(2, mul(2, and(shr(216, w), 0xffff))) }
                    case 5 { nops := add(2, and(shr(216, w), 0xffff)) }
                    case 7 { nops := add(3, and(shr(200, w), 0xffff)) }
                    case 11 { nops := add(1, mul(2, and(shr(232, w), 0xffff))) }
                    case 20 { nops := add(2, mul(2, and(shr(216, w), 0xffff))) }
                    default { e := 4 leave }
                    // the count of a variable instruction must itself lie inside the code
                    let head := 0
                    switch op case 4 { head := 5 } case 5 { head := 5 } case 20 { head := 5 } case 7 { head := 7 } case 11 { head := 3 } case 24 { head := 3 } case 23 { head := 3 } case 25 { head := 3 } case 8 { head := 3 } case 26 { head := 3 }
                    if gt(add(ip, head), end) { e := 5 leave }
                    let next := add(ip, add(1, shl(1, nops)))
                    if gt(next, end) { e := 5 leave }
                    let bad := 0
                    let a := add(ip, 1)
                    switch op
                    case 6 {
                        bad := or(or(zkNotDst(a, 0, dlo, hi), zkNotRd(a, 1, 1, hi)), zkNotRd(a, 2, zkArg(a, 3), hi))
                    }
                    case 4 {
                        bad := zkNotDst(a, 0, dlo, hi)
                        for { let k := 2 } lt(k, nops) { k := add(k, 1) } { bad := or(bad, zkNotRd(a, k, 1, hi)) }
                    }
                    case 5 {
                        bad := zkNotDst(a, 0, dlo, hi)
                        for { let k := 2 } lt(k, nops) { k := add(k, 1) } { bad := or(bad, zkNotRd(a, k, 1, hi)) }
                    }
                    case 7 {
                        bad := or(zkNotDst(a, 0, dlo, hi), zkNotRd(a, 1, 1, hi))
                        for { let k := 3 } lt(k, nops) { k := add(k, 1) } { bad := or(bad, zkNotRd(a, k, 1, hi)) }
                    }
                    case 11 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 2) } {
                            bad := or(bad, or(zkNotDst(a, k, dlo, hi), zkNotRd(a, add(k, 1), 1, hi)))
                        }
                    }
                    case 26 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 3) } {
                            bad := or(bad, or(zkNotDst(a, k, dlo, hi), zkNotRd(a, add(k, 1), 1, hi)))
                        }
                    }
                    case 8 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 5) } {
                            bad := or(bad, zkNotDst(a, k, dlo, hi))
                            for { let j := add(k, 1) } lt(j, add(k, 5)) { j := add(j, 1) } { bad := or(bad, zkNotRd(a, j, 1, hi)) }
                        }
                    }
                    case 23 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 3) } {
                            let d := zkArg(a, k)
                            bad := or(bad, or(or(lt(d, dlo), gt(add(d, zkArg(a, add(k, 2))), hi)), zkNotRd(a, add(k, 1), 1, hi)))
                        }
                    }
                    case 25 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 3) } {
                            bad := or(bad, or(or(zkNotDst(a, k, dlo, hi), zkNotDst(a, add(k, 1), dlo, hi)), zkNotRd(a, add(k, 2), 1, hi)))
                        }
                    }
                    case 24 {
                        for { let k := 1 } lt(k, nops) { k := add(k, 3) } {
                            bad := or(bad, or(zkNotDst(a, k, dlo, hi), or(zkNotRd(a, add(k, 1), 1, hi), zkNotRd(a, add(k, 2), 1, hi))))
                        }
                    }
                    case 12 { bad := or(zkNotRd(a, 0, 1, hi), zkNotRd(a, 1, 1, hi)) }
                    case 13 { bad := zkNotRd(a, 0, 1, hi) }
                    case 14 { bad := zkNotRd(a, 0, zkArg(a, 1), hi) }
                    case 15 { bad := or(zkNotRd(a, 0, zkArg(a, 1), hi), zkNotRd(a, 2, 1, hi)) }
                    case 16 { bad := zkNotRd(a, 0, shl(1, zkArg(a, 1)), hi) }
                    case 17 { bad := zkNotRd(a, 0, 1, hi) buf := 0 }
                    case 18 {
                        bad := zkNotRd(a, 0, zkArg(a, 1), hi)
                        buf := add(buf, zkArg(a, 1))
                        if gt(add(buf, 1), bufWords) { e := 7 leave }
                    }
                    case 20 {
                        let d := zkArg(a, 0)
                        bad := or(lt(d, dlo), gt(add(d, 2), hi))
                        for { let k := 2 } lt(k, nops) { k := add(k, 2) } {
                            let s := zkArg(a, k)
                            bad := or(bad, or(and(iszero(iszero(s)), zkNotRd(a, k, 1, hi)), zkNotRd(a, add(k, 1), 2, hi)))
                        }
                    }
                    case 21 {
                        bad := or(or(zkNotRd(a, 0, 2, hi), zkNotRd(a, 1, 2, hi)), or(zkNotRd(a, 2, 4, hi), zkNotRd(a, 3, 4, hi)))
                        ended := 1
                    }
                    default { // ADD SUB IOTA SQUEEZE: a destination, then single slots
                        bad := zkNotDst(a, 0, dlo, hi)
                        for { let k := 1 } lt(k, nops) { k := add(k, 1) } { bad := or(bad, zkNotRd(a, k, 1, hi)) }
                    }
                    if eq(op, 19) {
                        if gt(add(buf, 1), bufWords) { e := 7 leave }
                        buf := 0
                    }
                    if bad { e := 6 leave }
                    ip := next
                }
                if iszero(ended) { e := 8 }
            }
            function zkArg(a, k) -> v { v := shr(240, mload(add(a, shl(1, k)))) }
            function zkNotRd(a, k, n, hi) -> b {
                let at := zkArg(a, k)
                b := or(lt(at, 32), gt(add(at, n), hi))
            }
            function zkNotDst(a, k, dlo, hi) -> b {
                let at := zkArg(a, k)
                b := or(lt(at, dlo), iszero(lt(at, hi)))
            }
        }
        if (h != modelId) revert ModelIdMismatch(modelId, h);
        if (code != 0) revert MalformedTape(code);
        emit ModelRegistered(modelId, digest, len, msg.sender);
    }

    /// @notice True when `modelId` has a registered tape.
    function isRegistered(bytes32 modelId) external view returns (bool) {
        return _head[modelId] != 0;
    }

    /// @notice The data contracts holding the model's tape, in order.
    function tapeChunks(bytes32 modelId) external view returns (address[] memory out) {
        uint256 head = _known(modelId);
        uint256[] storage more = _more[modelId];
        out = new address[](head >> 192);
        out[0] = address(uint160(head));
        for (uint256 i = 1; i < out.length; i++) out[i] = address(uint160(more[i - 1]));
    }

    /// @notice The model's VK digest (the first item of every proof's transcript).
    function vkDigest(bytes32 modelId) public view returns (bytes32 d) {
        (, d) = _header(modelId);
    }

    /// @notice Exact length in bytes of the model's `proof` argument.
    function proofLength(bytes32 modelId) external view returns (uint256) {
        (uint256 h0,) = _header(modelId);
        return 32 * ((h0 >> 160) & 0xffff);
    }

    /// @notice Exact number of the model's `publicInputs` (public inputs then outputs, each an Fr element).
    function publicInputsLength(bytes32 modelId) external view returns (uint256) {
        (uint256 h0,) = _header(modelId);
        return (h0 >> 176) & 0xffff;
    }

    /// @notice True when the model's key uses a dev SRS whose tau is public: anyone can forge its proofs.
    function insecureDevSrs(bytes32 modelId) external view returns (bool) {
        (uint256 h0,) = _header(modelId);
        return (h0 >> 208) & 1 == 1;
    }

    function _known(bytes32 modelId) private view returns (uint256 head) {
        head = _head[modelId];
        if (head == 0) revert UnknownModel(modelId);
    }

    function _header(bytes32 modelId) private view returns (uint256 h0, bytes32 digest) {
        address c = address(uint160(_known(modelId)));
        assembly {
            let m := mload(0x40)
            extcodecopy(c, m, 1, 0x40)
            h0 := mload(m)
            digest := mload(add(m, 0x20))
        }
    }

    // ---------------------------------------------------------------------------------------------- proofs

    /// @notice True iff `proof` is a valid zkchain proof for model `modelId` and `publicInputs`.
    /// @dev Never reverts on bad proof data (it returns false); reverts UnknownModel for an unregistered id,
    ///      and in the ABI decoder for calldata that is not an encoding of (bytes32, bytes, uint256[]).
    function verifyProof(bytes32 modelId, bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (bool)
    {
        return _verify(modelId, proof, publicInputs);
    }

    /// @notice Verifies like verifyProof and, if the proof is valid, emits ProofVerified and returns true.
    ///         An invalid proof reverts with ProofRejected(modelId) (so no event, no state change).
    function submitProof(bytes32 modelId, bytes calldata proof, uint256[] calldata publicInputs)
        external
        returns (bool)
    {
        if (!_verify(modelId, proof, publicInputs)) revert ProofRejected(modelId);
        emit ProofVerified(modelId, vkDigest(modelId), keccak256(abi.encodePacked(publicInputs)), msg.sender);
        return true;
    }

    function _verify(bytes32 modelId, bytes calldata proof, uint256[] calldata publicInputs)
        private
        view
        returns (bool valid)
    {
        uint256 head = _known(modelId);
        uint256 nChunks = head >> 192;
        uint256 len;
        for (uint256 i = 0; i < nChunks; i++) {
            uint256 chunk = i == 0 ? head : _more[modelId][i - 1];
            assembly {
                let size := and(shr(160, chunk), 0xffffffff)
                extcodecopy(and(chunk, 0xffffffffffffffffffffffffffffffffffffffff), add(TAPE, len), 1, size)
                len := add(len, size)
            }
        }
        assembly {
            // the program run is exactly the registered one: hash it where it lies
            if iszero(eq(keccak256(TAPE, len), modelId)) { revert(0, 0) }
            valid := zkRun(proof.offset, proof.length, publicInputs.offset, publicInputs.length)

            function zkRun(pf, plen, pi, npub) -> ok {
                let r := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
                let h0 := mload(TAPE)
                let nConst := and(shr(192, h0), 0xffff)
                let codeLen := and(shr(96, h0), 0xffffffff)
                let pubBase := add(add(32, nConst), shr(5, add(codeLen, 31)))
                if iszero(eq(npub, and(shr(176, h0), 0xffff))) { leave }
                if iszero(eq(plen, shl(5, and(shr(160, h0), 0xffff)))) { leave }
                calldatacopy(shl(5, pubBase), pi, shl(5, npub))
                calldatacopy(shl(5, add(pubBase, npub)), pf, plen)
                let T := shl(5, add(add(add(pubBase, npub), shr(5, plen)), and(shr(144, h0), 0xffff)))
                let pos := 0
                let ip := add(TAPE, add(0x40, shl(5, nConst)))
                // operand k of an instruction word w, as a byte address: and(shr(227 - 16k, w), 0x1fffe0)
                for {} 1 {} {
                    let w := mload(ip)
                    switch shr(248, w)
                    // cases in order of frequency (a Yul switch tests them one by one, ~22 gas each)
                    case 24 { // MULS n (d a b)... (in order; two per word read)
                        let p := add(ip, 3)
                        let e := add(p, mul(6, and(shr(232, w), 0xffff)))
                        for { let e2 := sub(e, 6) } lt(p, e2) { p := add(p, 12) } {
                            let v := mload(p)
                            mstore(and(shr(235, v), 0x1fffe0), mulmod(mload(and(shr(219, v), 0x1fffe0)), mload(and(shr(203, v), 0x1fffe0)), r))
                            mstore(and(shr(187, v), 0x1fffe0), mulmod(mload(and(shr(171, v), 0x1fffe0)), mload(and(shr(155, v), 0x1fffe0)), r))
                        }
                        if lt(p, e) {
                            let v := mload(p)
                            mstore(and(shr(235, v), 0x1fffe0), mulmod(mload(and(shr(219, v), 0x1fffe0)), mload(and(shr(203, v), 0x1fffe0)), r))
                        }
                        ip := e
                    }
                    case 5 { // PROD d n s... (four factors per word read)
                        let p := add(ip, 5)
                        let e := add(p, shl(1, and(shr(216, w), 0xffff)))
                        let acc := 1
                        for { let e4 := sub(e, 6) } lt(p, e4) { p := add(p, 8) } {
                            let v := mload(p)
                            acc := mulmod(mulmod(acc, mload(and(shr(235, v), 0x1fffe0)), r), mload(and(shr(219, v), 0x1fffe0)), r)
                            acc := mulmod(mulmod(acc, mload(and(shr(203, v), 0x1fffe0)), r), mload(and(shr(187, v), 0x1fffe0)), r)
                        }
                        for {} lt(p, e) { p := add(p, 2) } { acc := mulmod(acc, mload(and(shr(235, mload(p)), 0x1fffe0)), r) }
                        mstore(and(shr(227, w), 0x1fffe0), acc)
                        ip := e
                    }
                    case 4 { // LINCOMB d n (c s)... (two terms per word read)
                        let p := add(ip, 5)
                        let e := add(p, shl(2, and(shr(216, w), 0xffff)))
                        let acc := 0
                        for { let e2 := sub(e, 4) } lt(p, e2) { p := add(p, 8) } {
                            let v := mload(p)
                            acc := addmod(acc, mulmod(mload(and(shr(235, v), 0x1fffe0)), mload(and(shr(219, v), 0x1fffe0)), r), r)
                            acc := addmod(acc, mulmod(mload(and(shr(203, v), 0x1fffe0)), mload(and(shr(187, v), 0x1fffe0)), r), r)
                        }
                        if lt(p, e) {
                            let v := mload(p)
                            acc := addmod(acc, mulmod(mload(and(shr(235, v), 0x1fffe0)), mload(and(shr(219, v), 0x1fffe0)), r), r)
                        }
                        mstore(and(shr(227, w), 0x1fffe0), acc)
                        ip := e
                    }
                    case 2 { // ADD d a b
                        mstore(and(shr(227, w), 0x1fffe0), addmod(mload(and(shr(211, w), 0x1fffe0)), mload(and(shr(195, w), 0x1fffe0)), r))
                        ip := add(ip, 7)
                    }
                    case 3 { // SUB d a b
                        mstore(and(shr(227, w), 0x1fffe0), addmod(mload(and(shr(211, w), 0x1fffe0)), sub(r, mload(and(shr(195, w), 0x1fffe0))), r))
                        ip := add(ip, 7)
                    }
                    case 19 { // SQUEEZE d c_label
                        mstore(add(T, add(0x20, pos)), mload(and(shr(211, w), 0x1fffe0)))
                        let h := keccak256(T, add(pos, 0x40))
                        mstore(T, h)
                        mstore(and(shr(227, w), 0x1fffe0), mod(h, r))
                        pos := 0
                        ip := add(ip, 5)
                    }
                    case 18 { // ABSORB base n
                        let n := shl(5, and(shr(216, w), 0xffff))
                        mcopy(add(T, add(0x20, pos)), and(shr(227, w), 0x1fffe0), n)
                        pos := add(pos, n)
                        ip := add(ip, 5)
                    }
                    case 9 { // IOTA d x xn iv flag n half
                        let x := mload(and(shr(211, w), 0x1fffe0))
                        let xn := mload(and(shr(195, w), 0x1fffe0))
                        let iv := mload(and(shr(179, w), 0x1fffe0))
                        let n := mload(and(shr(147, w), 0x1fffe0))
                        let num := addmod(x, sub(r, mulmod(n, xn, r)), r)
                        num := addmod(num, mulmod(addmod(n, sub(r, 1), r), mulmod(xn, x, r), r), r)
                        let o := addmod(mulmod(num, mulmod(iv, iv, r), r), mul(mload(and(shr(163, w), 0x1fffe0)), mload(and(shr(131, w), 0x1fffe0))), r)
                        mstore(and(shr(227, w), 0x1fffe0), o)
                        ip := add(ip, 15)
                    }
                    case 6 { // HORNER d x base n
                        let x := mload(and(shr(211, w), 0x1fffe0))
                        let b := and(shr(195, w), 0x1fffe0)
                        let i := add(b, shl(5, and(shr(184, w), 0xffff)))
                        let acc := 0
                        for {} gt(i, b) {} { i := sub(i, 0x20) acc := addmod(mulmod(acc, x, r), mload(i), r) }
                        mstore(and(shr(227, w), 0x1fffe0), acc)
                        ip := add(ip, 9)
                    }
                    case 7 { // POWSUM d x n s...
                        let x := mload(and(shr(211, w), 0x1fffe0))
                        let b := add(ip, 7)
                        let e := add(b, shl(1, and(shr(200, w), 0xffff)))
                        let p := e
                        let acc := 0
                        for {} gt(p, b) {} { p := sub(p, 2) acc := addmod(mulmod(acc, x, r), mload(and(shr(235, mload(p)), 0x1fffe0)), r) }
                        mstore(and(shr(227, w), 0x1fffe0), acc)
                        ip := e
                    }
                    case 8 { // ONES n (d xn iv flag n)...: (x^n - 1)·iv + flag·n
                        let p := add(ip, 3)
                        let e := add(p, mul(10, and(shr(232, w), 0xffff)))
                        for {} lt(p, e) { p := add(p, 10) } {
                            let v := mload(p)
                            mstore(and(shr(235, v), 0x1fffe0), addmod(mulmod(addmod(mload(and(shr(219, v), 0x1fffe0)), sub(r, 1), r), mload(and(shr(203, v), 0x1fffe0)), r), mul(mload(and(shr(187, v), 0x1fffe0)), mload(and(shr(171, v), 0x1fffe0))), r))
                        }
                        ip := e
                    }
                    case 26 { // HONES n (d x k)...: 1 + x + ... + x^(k-1) by Horner
                        let p := add(ip, 3)
                        let e := add(p, mul(6, and(shr(232, w), 0xffff)))
                        for {} lt(p, e) { p := add(p, 6) } {
                            let v := mload(p)
                            let x := mload(and(shr(219, v), 0x1fffe0))
                            let t := addmod(x, 1, r)
                            for { let i := and(shr(208, v), 0xffff) } gt(i, 2) { i := sub(i, 1) } { t := addmod(mulmod(t, x, r), 1, r) }
                            mstore(and(shr(235, v), 0x1fffe0), t)
                        }
                        ip := e
                    }
                    case 23 { // SQUARES n (d x k)...: d.. = x^2, x^4, ..., x^(2^k)
                        let p := add(ip, 3)
                        let e := add(p, mul(6, and(shr(232, w), 0xffff)))
                        for {} lt(p, e) { p := add(p, 6) } {
                            let v := mload(p)
                            let d := and(shr(235, v), 0x1fffe0)
                            let t := mload(and(shr(219, v), 0x1fffe0))
                            for { let f := add(d, shl(5, and(shr(208, v), 0xffff))) } lt(d, f) { d := add(d, 0x20) } {
                                t := mulmod(t, t, r)
                                mstore(d, t)
                            }
                        }
                        ip := e
                    }
                    case 25 { // INVXM1 n (f d x)...: f = [x = 1], d = 1/(x - 1) (1 when x = 1); one modexp
                        let b := add(ip, 3)
                        let e := add(b, mul(6, and(shr(232, w), 0xffff)))
                        let acc := 1
                        for { let p := b } lt(p, e) { p := add(p, 6) } {
                            let v := mload(p)
                            let den := addmod(mload(and(shr(203, v), 0x1fffe0)), sub(r, 1), r)
                            let f := iszero(den)
                            mstore(and(shr(235, v), 0x1fffe0), f)
                            acc := mulmod(acc, add(den, f), r)
                            mstore(and(shr(219, v), 0x1fffe0), acc) // prefix product
                        }
                        mstore(0x2a0, 0x20) mstore(0x2c0, 0x20) mstore(0x2e0, 0x20)
                        mstore(0x300, acc) mstore(0x320, sub(r, 2)) mstore(0x340, r)
                        if iszero(staticcall(gas(), 0x05, 0x2a0, 0xc0, 0x2a0, 0x20)) { leave }
                        let inv := mload(0x2a0)
                        for { let p := sub(e, 6) } gt(p, b) { p := sub(p, 6) } {
                            let v := mload(p)
                            mstore(and(shr(219, v), 0x1fffe0), mulmod(inv, mload(and(shr(219, mload(sub(p, 6))), 0x1fffe0)), r))
                            let den := addmod(mload(and(shr(203, v), 0x1fffe0)), sub(r, 1), r)
                            inv := mulmod(inv, add(den, mload(and(shr(235, v), 0x1fffe0))), r)
                        }
                        mstore(and(shr(219, mload(b)), 0x1fffe0), inv)
                        ip := e
                    }
                    case 11 { // INV n (d s)...: Montgomery's trick, one modexp
                        let b := add(ip, 3)
                        let e := add(b, shl(2, and(shr(232, w), 0xffff)))
                        let acc := 1
                        for { let p := b } lt(p, e) { p := add(p, 4) } {
                            let v := mload(p)
                            acc := mulmod(acc, mload(and(shr(219, v), 0x1fffe0)), r)
                            mstore(and(shr(235, v), 0x1fffe0), acc) // prefix product
                        }
                        if iszero(acc) { leave }
                        mstore(0x2a0, 0x20) mstore(0x2c0, 0x20) mstore(0x2e0, 0x20)
                        mstore(0x300, acc) mstore(0x320, sub(r, 2)) mstore(0x340, r)
                        if iszero(staticcall(gas(), 0x05, 0x2a0, 0xc0, 0x2a0, 0x20)) { leave }
                        let inv := mload(0x2a0)
                        for { let p := sub(e, 4) } gt(p, b) { p := sub(p, 4) } {
                            let v := mload(p)
                            mstore(and(shr(235, v), 0x1fffe0), mulmod(inv, mload(and(shr(235, mload(sub(p, 4))), 0x1fffe0)), r))
                            inv := mulmod(inv, mload(and(shr(219, v), 0x1fffe0)), r)
                        }
                        mstore(and(shr(235, mload(b)), 0x1fffe0), inv)
                        ip := e
                    }
                    case 12 { // REQEQ a b
                        if iszero(eq(mload(and(shr(227, w), 0x1fffe0)), mload(and(shr(211, w), 0x1fffe0)))) { leave }
                        ip := add(ip, 5)
                    }
                    case 13 { // REQNZ a
                        if iszero(mload(and(shr(227, w), 0x1fffe0))) { leave }
                        ip := add(ip, 3)
                    }
                    case 14 { // CHKFR base n
                        let i := and(shr(227, w), 0x1fffe0)
                        let e := add(i, shl(5, and(shr(216, w), 0xffff)))
                        for {} lt(i, e) { i := add(i, 0x20) } { if iszero(lt(mload(i), r)) { leave } }
                        ip := add(ip, 5)
                    }
                    case 15 { // CHKBOUND base n b: v < r and |signed v| <= b, i.e. (v + b) mod r <= 2b
                        let i := and(shr(227, w), 0x1fffe0)
                        let e := add(i, shl(5, and(shr(216, w), 0xffff)))
                        let b := mload(and(shr(195, w), 0x1fffe0))
                        for {} lt(i, e) { i := add(i, 0x20) } {
                            let v := mload(i)
                            if iszero(lt(v, r)) { leave }
                            if b { if gt(addmod(v, b, r), shl(1, b)) { leave } }
                        }
                        ip := add(ip, 7)
                    }
                    case 16 { // CHKG1 base n: coordinates < p, on y^2 = x^3 + 3, or (0, 0)
                        let q := 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
                        let i := and(shr(227, w), 0x1fffe0)
                        let e := add(i, shl(6, and(shr(216, w), 0xffff)))
                        let bad := 0
                        for {} lt(i, e) { i := add(i, 0x40) } {
                            let x := mload(i)
                            let y := mload(add(i, 0x20))
                            let onCurve := eq(mulmod(y, y, q), addmod(mulmod(mulmod(x, x, q), x, q), 3, q))
                            bad := or(bad, iszero(and(and(lt(x, q), lt(y, q)), or(onCurve, iszero(or(x, y))))))
                        }
                        if bad { leave }
                        ip := add(ip, 5)
                    }
                    case 17 { // BEGIN c_state
                        mstore(T, mload(and(shr(227, w), 0x1fffe0)))
                        pos := 0
                        ip := add(ip, 3)
                    }
                    case 20 { // MSM d n (s p)...: acc at 0x80, P at 0xc0, s at 0x100
                        let p := add(ip, 5)
                        let e := add(p, shl(2, and(shr(216, w), 0xffff)))
                        mstore(0x80, 0) mstore(0xa0, 0)
                        for {} lt(p, e) { p := add(p, 4) } {
                            let v := mload(p)
                            let s := and(shr(235, v), 0x1fffe0)
                            let g := and(shr(219, v), 0x1fffe0)
                            mstore(0xc0, mload(g)) mstore(0xe0, mload(add(g, 0x20)))
                            if s {
                                mstore(0x100, mload(s))
                                if iszero(staticcall(gas(), 0x07, 0xc0, 0x60, 0xc0, 0x40)) { leave }
                            }
                            if iszero(staticcall(gas(), 0x06, 0x80, 0x80, 0x80, 0x40)) { leave }
                        }
                        let d := and(shr(227, w), 0x1fffe0)
                        mstore(d, mload(0x80)) mstore(add(d, 0x20), mload(0xa0))
                        ip := e
                    }
                    case 21 { // PAIRING l r g2one g2tau: e(L, [1]_2) e(-R, [tau]_2) = 1
                        let l := and(shr(227, w), 0x1fffe0)
                        let rr := and(shr(211, w), 0x1fffe0)
                        mstore(0x120, mload(l)) mstore(0x140, mload(add(l, 0x20)))
                        mcopy(0x160, and(shr(195, w), 0x1fffe0), 0x80)
                        mstore(0x1e0, mload(rr))
                        let q := 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47
                        mstore(0x200, mod(sub(q, mload(add(rr, 0x20))), q))
                        mcopy(0x220, and(shr(179, w), 0x1fffe0), 0x80)
                        let success := staticcall(gas(), 0x08, 0x120, 0x180, 0x120, 0x20)
                        ok := and(success, eq(mload(0x120), 1))
                        leave
                    }
                    default { leave } // unreachable: register checked every opcode
                }
            }
        }
    }
}
