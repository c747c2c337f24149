// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Objections} from "../src/Objections.sol";
import {ICatalog} from "../src/interfaces/ICatalog.sol";
import {IObjections} from "../src/interfaces/IObjections.sol";
import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @dev Objection tickets (异议): filing with a subject signer's signature, then marking, forwarding and deciding.
/// Each signature case is written once and run for a person's key, one signer of a 2-of-3 enterprise (an
/// objection needs no threshold) and an ERC-1271 wallet.
contract ObjectionsTest is Fixture {
    enum Signer {
        Person,
        Enterprise,
        Wallet
    }

    bytes32 private constant RES_NEW = keccak256("marriage-records");
    bytes32 private constant RES_WIDE = keccak256("business-registration");
    bytes32 private constant REASON = keccak256("the contribution months of 2019 are missing");
    bytes32 private constant NOTE = keccak256("the 2019 months were restored from the archive");
    IObjections.ObjectionStatus private constant FILED = IObjections.ObjectionStatus.FILED;
    IObjections.ObjectionStatus private constant MARKED = IObjections.ObjectionStatus.MARKED;
    IObjections.ObjectionStatus private constant FORWARDED = IObjections.ObjectionStatus.FORWARDED;
    IObjections.ObjectionStatus private constant DECIDED = IObjections.ObjectionStatus.DECIDED;

    function setUp() public override {
        super.setUp();
        vm.prank(admin);
        catalog.registerResource(RES_WIDE, provider, ICatalog.SharingClass.UNCONDITIONAL, false, 256, keccak256("w1"));
    }

    // ---------------------------------------------------------------- helpers

    function _signer(Signer kind) private view returns (bytes32 subject, uint256 key, address signer) {
        if (kind == Signer.Person) return (ALICE, ALICE_KEY, alice);
        if (kind == Signer.Enterprise) return (ACME, ACME2_KEY, acme2);
        return (WALLET_SUBJECT, WALLET_OWNER_KEY, address(wallet));
    }

    function _adminOnly(address account) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IParticipantsGuarded.ParticipantsUnauthorized.selector, account, bytes32(0));
    }

    function _wrongStatus(uint256 id, IObjections.ObjectionStatus status) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IObjections.ObjectionsWrongStatus.selector, id, status);
    }

    function _notDecider(uint256 id, address caller) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IObjections.ObjectionsNotDecider.selector, id, caller);
    }

    /// @dev Relays `o` and expects `err`; nothing is filed.
    function _expectRejected(IObjections.Objection memory o, address signer, bytes memory signature, bytes memory err)
        private
    {
        uint256 count = objections.objectionCount();
        vm.expectRevert(err);
        vm.prank(relayer);
        objections.fileWithSig(o, signer, signature);
        assertEq(objections.objectionCount(), count, "nothing filed");
    }

    /// @dev Alice's objection with nonce 0, filed; returns its id.
    function _filed() private returns (uint256) {
        return _fileObjection(_objection(ALICE, 0), ALICE_KEY, alice);
    }

    function _marked() private returns (uint256 id) {
        id = _filed();
        vm.prank(admin);
        objections.mark(id);
    }

    function _forwarded() private returns (uint256 id) {
        id = _marked();
        vm.prank(admin);
        objections.forward(id);
    }

    function _decided() private returns (uint256 id) {
        id = _marked();
        vm.prank(admin);
        objections.decide(id, true, 2, NOTE);
    }

    function _status(uint256 id) private view returns (uint8) {
        return uint8(objections.objection(id).status);
    }

    // ================================================================ signature cases, for each kind of signer

    function _caseAccepted(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        vm.warp(START + 3 days);
        IObjections.Objection memory o = _objection(subject, 5);
        o.kind = uint8(IObjections.ObjectionKind.INCOMPLETE);
        bytes memory signature = _sign(key, objections.hashObjection(o));

        vm.expectEmit(address(objections));
        emit IObjections.ObjectionFiled(
            1, subject, RES_PENSION, signer, IObjections.ObjectionKind.INCOMPLETE, 0x03, REASON, START + 3 days
        );
        vm.prank(relayer);
        uint256 id = objections.fileWithSig(o, signer, signature);

        assertEq(id, 1);
        assertEq(objections.objectionCount(), 1);
        assertTrue(objections.isNonceUsed(subject, 5), "nonce used");
        IObjections.Ticket memory t = objections.objection(id);
        assertEq(t.subject, subject);
        assertEq(t.resourceId, RES_PENSION);
        assertEq(t.fieldMask, 0x03);
        assertEq(uint8(t.kind), uint8(IObjections.ObjectionKind.INCOMPLETE));
        assertEq(uint8(t.status), uint8(FILED));
        assertFalse(t.corrected);
        assertEq(t.provider, address(0));
        assertEq(t.filedAt, START + 3 days);
        assertEq(t.markedAt, 0);
        assertEq(t.forwardedAt, 0);
        assertEq(t.decidedAt, 0);
        assertEq(t.recordVersion, 0);
    }

    function _caseExpiredDeadline(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        bytes memory signature = _sign(key, objections.hashObjection(o));
        vm.warp(o.deadline + 1);
        _expectRejected(
            o, signer, signature, abi.encodeWithSelector(IObjections.ObjectionsSignatureExpired.selector, o.deadline)
        );
    }

    function _caseReplayedSignature(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        bytes memory signature = _sign(key, objections.hashObjection(o));
        objections.fileWithSig(o, signer, signature);
        _expectRejected(
            o, signer, signature, abi.encodeWithSelector(IObjections.ObjectionsNonceAlreadyUsed.selector, subject, 0)
        );
    }

    function _caseUsedNonce(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        _fileObjection(_objection(subject, 0), key, signer);
        IObjections.Objection memory o = _objection(subject, 0);
        o.kind = uint8(IObjections.ObjectionKind.INFRINGES);
        _expectRejected(
            o,
            signer,
            _sign(key, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsNonceAlreadyUsed.selector, subject, 0)
        );
    }

    function _caseInvalidatedNonce(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 258);
        bytes memory signature = _sign(key, objections.hashObjection(o));
        vm.expectEmit(address(objections));
        emit IObjections.NoncesInvalidated(subject, 1, 0x04);
        vm.prank(signer);
        objections.invalidateNonces(subject, 1, 0x04);
        assertTrue(objections.isNonceUsed(subject, 258), "invalidated");
        assertFalse(objections.isNonceUsed(subject, 257), "neighbour untouched");
        _expectRejected(
            o, signer, signature, abi.encodeWithSelector(IObjections.ObjectionsNonceAlreadyUsed.selector, subject, 258)
        );
    }

    function _caseUnboundSigner(Signer kind) private {
        (bytes32 subject,,) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        _expectRejected(
            o,
            mallory,
            _sign(MALLORY_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsNotSubjectSigner.selector, subject, mallory)
        );
    }

    function _caseWrongKey(Signer kind) private {
        (bytes32 subject,, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        _expectRejected(
            o,
            signer,
            _sign(MALLORY_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, signer)
        );
    }

    function _caseSignatureOfOtherObjection(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        bytes memory signature = _sign(key, objections.hashObjection(o));
        o.fieldMask = 0x07;
        _expectRejected(
            o, signer, signature, abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, signer)
        );
    }

    function _caseSignatureOfOtherDeployment(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        Objections other = new Objections(participants, subjects, catalog);
        IObjections.Objection memory o = _objection(subject, 0);
        _expectRejected(
            o,
            signer,
            _sign(key, other.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, signer)
        );
    }

    function _caseMalleableSignature(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        bytes32 digest = objections.hashObjection(o);
        bytes memory high = _malleate(_sign(key, digest));
        (bytes32 r, bytes32 s) = abi.decode(high, (bytes32, bytes32));
        assertEq(ecrecover(digest, uint8(high[64]), r, s), vm.addr(key));
        _expectRejected(
            o, signer, high, abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, signer)
        );
    }

    function _caseShortSignature(Signer kind) private {
        (bytes32 subject, uint256 key, address signer) = _signer(kind);
        IObjections.Objection memory o = _objection(subject, 0);
        bytes memory full = _sign(key, objections.hashObjection(o));
        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = full[i];
        }
        _expectRejected(
            o, signer, short, abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, signer)
        );
    }

    // ---------------------------------------------------------------- a person's key

    function test_fileWithSig_recordsTicketAndEmits() public {
        _caseAccepted(Signer.Person);
    }

    function test_fileWithSig_revertsOnExpiredDeadline() public {
        _caseExpiredDeadline(Signer.Person);
    }

    function test_fileWithSig_revertsOnReplayedSignature() public {
        _caseReplayedSignature(Signer.Person);
    }

    function test_fileWithSig_revertsOnUsedNonce() public {
        _caseUsedNonce(Signer.Person);
    }

    function test_fileWithSig_revertsOnInvalidatedNonce() public {
        _caseInvalidatedNonce(Signer.Person);
    }

    function test_fileWithSig_revertsOnUnboundSigner() public {
        _caseUnboundSigner(Signer.Person);
    }

    function test_fileWithSig_revertsOnWrongKey() public {
        _caseWrongKey(Signer.Person);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherObjection() public {
        _caseSignatureOfOtherObjection(Signer.Person);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherDeployment() public {
        _caseSignatureOfOtherDeployment(Signer.Person);
    }

    function test_fileWithSig_revertsOnMalleableSignature() public {
        _caseMalleableSignature(Signer.Person);
    }

    function test_fileWithSig_revertsOnShortSignature() public {
        _caseShortSignature(Signer.Person);
    }

    // ---------------------------------------------------------------- one signer of a 2-of-3 enterprise

    function test_fileWithSig_acceptsSingleEnterpriseSigner() public {
        _caseAccepted(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnExpiredDeadlineOfEnterprise() public {
        _caseExpiredDeadline(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnReplayedSignatureOfEnterprise() public {
        _caseReplayedSignature(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnUsedNonceOfEnterprise() public {
        _caseUsedNonce(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnInvalidatedNonceOfEnterprise() public {
        _caseInvalidatedNonce(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnUnboundSignerOfEnterprise() public {
        _caseUnboundSigner(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnWrongKeyOfEnterprise() public {
        _caseWrongKey(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherObjectionOfEnterprise() public {
        _caseSignatureOfOtherObjection(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherDeploymentOfEnterprise() public {
        _caseSignatureOfOtherDeployment(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnMalleableSignatureOfEnterprise() public {
        _caseMalleableSignature(Signer.Enterprise);
    }

    function test_fileWithSig_revertsOnShortSignatureOfEnterprise() public {
        _caseShortSignature(Signer.Enterprise);
    }

    // ---------------------------------------------------------------- an ERC-1271 wallet

    function test_fileWithSig_acceptsErc1271Signer() public {
        _caseAccepted(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnExpiredDeadlineOfErc1271Signer() public {
        _caseExpiredDeadline(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnReplayedSignatureOfErc1271Signer() public {
        _caseReplayedSignature(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnUsedNonceOfErc1271Signer() public {
        _caseUsedNonce(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnInvalidatedNonceOfErc1271Signer() public {
        _caseInvalidatedNonce(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnUnboundSignerOfErc1271Subject() public {
        _caseUnboundSigner(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnErc1271Rejection() public {
        _caseWrongKey(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherObjectionOfErc1271Signer() public {
        _caseSignatureOfOtherObjection(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnSignatureOfOtherDeploymentOfErc1271Signer() public {
        _caseSignatureOfOtherDeployment(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnMalleableSignatureOfErc1271Signer() public {
        _caseMalleableSignature(Signer.Wallet);
    }

    function test_fileWithSig_revertsOnShortSignatureOfErc1271Signer() public {
        _caseShortSignature(Signer.Wallet);
    }

    // ================================================================ fileWithSig: what is objected to

    function test_fileWithSig_numbersTicketsFromOne() public {
        assertEq(objections.objectionCount(), 0);
        assertEq(_fileObjection(_objection(ALICE, 0), ALICE_KEY, alice), 1);
        vm.warp(block.timestamp + 1 hours);
        assertEq(_fileObjection(_objection(BOB, 0), BOB_KEY, bob), 2);
        assertEq(_fileObjection(_objection(ALICE, 1), ALICE_KEY, alice), 3);
        assertEq(objections.objectionCount(), 3);
        assertEq(objections.objection(1).filedAt, START);
        assertEq(objections.objection(2).subject, BOB);
        assertEq(objections.objection(3).filedAt, START + 1 hours);
    }

    function test_fileWithSig_acceptsAtTheDeadline() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        bytes memory signature = _sign(ALICE_KEY, objections.hashObjection(o));
        vm.warp(o.deadline);
        objections.fileWithSig(o, alice, signature);
        assertEq(objections.objection(1).filedAt, o.deadline);
    }

    function test_fileWithSig_revertsOnUnknownResource() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.resourceId = RES_NEW;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsUnknownResource.selector, RES_NEW)
        );
    }

    function test_fileWithSig_revertsOnEmptyFieldMask() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.fieldMask = 0;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidFieldMask.selector, RES_PENSION, 0)
        );
    }

    function test_fileWithSig_revertsOnFieldBeyondCount() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.fieldMask = 1 << 12 | 0x01;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidFieldMask.selector, RES_PENSION, 1 << 12 | 0x01)
        );
    }

    function test_fileWithSig_acceptsLastFieldAndFullMaskOf256Fields() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.fieldMask = 1 << 11;
        _fileObjection(o, ALICE_KEY, alice);
        o = _objection(ALICE, 1);
        o.resourceId = RES_WIDE;
        o.fieldMask = type(uint256).max;
        uint256 id = _fileObjection(o, ALICE_KEY, alice);
        assertEq(objections.objection(1).fieldMask, 1 << 11);
        assertEq(objections.objection(id).fieldMask, type(uint256).max);
    }

    function test_fileWithSig_revertsOnInvalidKind() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.kind = 3;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidKind.selector, 3)
        );
    }

    function test_fileWithSig_revertsWithoutReason() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.reasonHash = bytes32(0);
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsMissingText.selector)
        );
    }

    function test_fileWithSig_rejectionLeavesNonceUnused() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.fieldMask = 0;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidFieldMask.selector, RES_PENSION, 0)
        );
        assertFalse(objections.isNonceUsed(ALICE, 0), "nonce still free");
        assertEq(_fileObjection(_objection(ALICE, 0), ALICE_KEY, alice), 1);
    }

    function test_invalidateNonces_revertsWhenNotSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsNotSubjectSigner.selector, ALICE, bob));
        vm.prank(bob);
        objections.invalidateNonces(ALICE, 0, 1);
    }

    function test_invalidateNonces_isSeparateFromConsents() public {
        vm.prank(alice);
        consents.invalidateNonces(ALICE, 0, 1);
        assertFalse(objections.isNonceUsed(ALICE, 0), "consent nonces are another bitmap");
        assertEq(_filed(), 1);
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Every non-empty mask within the resource's fields is accepted, for every field count.
    function testFuzz_fileWithSig_acceptsMasksWithinFields(uint256 fieldCount, uint256 mask) public {
        fieldCount = bound(fieldCount, 1, 256);
        mask = bound(mask, 1, fieldCount == 256 ? type(uint256).max : (1 << fieldCount) - 1);
        vm.prank(admin);
        catalog.registerResource(
            RES_NEW, provider, ICatalog.SharingClass.CONDITIONAL, true, uint16(fieldCount), keccak256("m1")
        );
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.resourceId = RES_NEW;
        o.fieldMask = mask;
        uint256 id = _fileObjection(o, ALICE_KEY, alice);
        assertEq(objections.objection(id).fieldMask, mask);
    }

    /// @dev Every mask naming a field past the resource's last one is refused, with the mask in the error.
    function testFuzz_fileWithSig_rejectsMasksBeyondFields(uint256 fieldCount, uint256 mask) public {
        fieldCount = bound(fieldCount, 1, 255);
        mask = bound(mask, 1 << fieldCount, type(uint256).max);
        vm.prank(admin);
        catalog.registerResource(
            RES_NEW, provider, ICatalog.SharingClass.CONDITIONAL, true, uint16(fieldCount), keccak256("m1")
        );
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.resourceId = RES_NEW;
        o.fieldMask = mask;
        _expectRejected(
            o,
            alice,
            _sign(ALICE_KEY, objections.hashObjection(o)),
            abi.encodeWithSelector(IObjections.ObjectionsInvalidFieldMask.selector, RES_NEW, mask)
        );
    }

    function testFuzz_fileWithSig_kindMustBeKnown(uint8 kind) public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        o.kind = kind;
        bytes memory signature = _sign(ALICE_KEY, objections.hashObjection(o));
        bool known = kind <= uint8(type(IObjections.ObjectionKind).max);
        if (!known) vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsInvalidKind.selector, kind));
        objections.fileWithSig(o, alice, signature);
        if (known) assertEq(uint8(objections.objection(1).kind), kind);
    }

    function testFuzz_fileWithSig_rejectsExpiredDeadlines(uint64 lateBy) public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        bytes memory signature = _sign(ALICE_KEY, objections.hashObjection(o));
        vm.warp(uint256(o.deadline) + bound(lateBy, 1, 365 days));
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsSignatureExpired.selector, o.deadline));
        objections.fileWithSig(o, alice, signature);
    }

    // ================================================================ mark (异议标注)

    function test_mark_recordsAndEmits() public {
        uint256 id = _filed();
        vm.warp(START + 20 hours);
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionMarked(id, admin, START + 20 hours);
        vm.prank(admin);
        objections.mark(id);

        IObjections.Ticket memory t = objections.objection(id);
        assertEq(uint8(t.status), uint8(MARKED));
        assertEq(t.filedAt, START);
        assertEq(t.markedAt, START + 20 hours);
        assertEq(t.forwardedAt, 0);
    }

    function test_mark_revertsWhenNotAdmin() public {
        uint256 id = _filed();
        address[4] memory others = [provider, requester, regulator, alice];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(_adminOnly(others[i]));
            vm.prank(others[i]);
            objections.mark(id);
        }
        assertEq(_status(id), uint8(FILED));
    }

    function test_mark_revertsUnlessFiled() public {
        uint256 marked = _marked();
        vm.startPrank(admin);
        vm.expectRevert(_wrongStatus(marked, MARKED));
        objections.mark(marked);
        vm.stopPrank();
        uint256 forwarded = _forwardedOf(BOB, BOB_KEY, bob);
        vm.expectRevert(_wrongStatus(forwarded, FORWARDED));
        vm.prank(admin);
        objections.mark(forwarded);
        vm.prank(admin);
        objections.decide(marked, false, 0, NOTE);
        vm.expectRevert(_wrongStatus(marked, DECIDED));
        vm.prank(admin);
        objections.mark(marked);
    }

    function test_mark_revertsOnUnknownObjection() public {
        _filed();
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsUnknownObjection.selector, 0));
        objections.mark(0);
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsUnknownObjection.selector, 2));
        objections.mark(2);
        vm.stopPrank();
    }

    function testFuzz_mark_onlyAdmin(address caller) public {
        uint256 id = _filed();
        if (caller != admin) vm.expectRevert(_adminOnly(caller));
        vm.prank(caller);
        objections.mark(id);
        assertEq(_status(id), caller == admin ? uint8(MARKED) : uint8(FILED));
    }

    // ================================================================ forward

    function _forwardedOf(bytes32 subject, uint256 key, address signer) private returns (uint256 id) {
        id = _fileObjection(_objection(subject, 0), key, signer);
        vm.startPrank(admin);
        objections.mark(id);
        objections.forward(id);
        vm.stopPrank();
    }

    function test_forward_recordsAndEmits() public {
        uint256 id = _marked();
        vm.warp(START + 2 days);
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionForwarded(id, provider, admin, START + 2 days);
        vm.prank(admin);
        objections.forward(id);

        IObjections.Ticket memory t = objections.objection(id);
        assertEq(uint8(t.status), uint8(FORWARDED));
        assertEq(t.provider, provider);
        assertEq(t.markedAt, START);
        assertEq(t.forwardedAt, START + 2 days);
        assertEq(t.decidedAt, 0);
    }

    /// @dev The provider is read from the catalog when forwarding, not when filing.
    function test_forward_goesToTheProviderTheCatalogNamesNow() public {
        uint256 id = _marked();
        vm.startPrank(admin);
        catalog.updateResource(RES_PENSION, requester, ICatalog.SharingClass.CONDITIONAL, true, 12, keccak256("v2"));
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionForwarded(id, requester, admin, uint64(block.timestamp));
        objections.forward(id);
        vm.stopPrank();
        assertEq(objections.objection(id).provider, requester);

        vm.expectRevert(_notDecider(id, provider));
        vm.prank(provider);
        objections.decide(id, false, 0, NOTE);
        vm.prank(requester);
        objections.decide(id, false, 0, NOTE);
        assertEq(_status(id), uint8(DECIDED));
    }

    function test_forward_revertsWhenNotAdmin() public {
        uint256 id = _marked();
        address[3] memory others = [provider, requester, stranger];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(_adminOnly(others[i]));
            vm.prank(others[i]);
            objections.forward(id);
        }
        assertEq(_status(id), uint8(MARKED));
    }

    function test_forward_revertsUnlessMarked() public {
        uint256 filed = _filed();
        uint256 forwarded = _forwardedOf(BOB, BOB_KEY, bob);
        vm.startPrank(admin);
        vm.expectRevert(_wrongStatus(filed, FILED));
        objections.forward(filed);
        vm.expectRevert(_wrongStatus(forwarded, FORWARDED));
        objections.forward(forwarded);
        objections.mark(filed);
        objections.decide(filed, true, 3, NOTE);
        vm.expectRevert(_wrongStatus(filed, DECIDED));
        objections.forward(filed);
        vm.stopPrank();
    }

    function test_forward_revertsOnUnknownObjection() public {
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsUnknownObjection.selector, 1));
        vm.prank(admin);
        objections.forward(1);
    }

    // ================================================================ decide

    function test_decide_byAdminWhenMarked() public {
        uint256 id = _marked();
        vm.warp(START + 4 days);
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionDecided(id, admin, true, 7, NOTE, START + 4 days);
        vm.prank(admin);
        objections.decide(id, true, 7, NOTE);

        IObjections.Ticket memory t = objections.objection(id);
        assertEq(uint8(t.status), uint8(DECIDED));
        assertTrue(t.corrected);
        assertEq(t.recordVersion, 7);
        assertEq(t.provider, address(0));
        assertEq(t.forwardedAt, 0);
        assertEq(t.decidedAt, START + 4 days);
    }

    function test_decide_byForwardedProvider() public {
        uint256 id = _forwarded();
        vm.warp(START + 6 days);
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionDecided(id, provider, true, 12, NOTE, START + 6 days);
        vm.prank(provider);
        objections.decide(id, true, 12, NOTE);

        IObjections.Ticket memory t = objections.objection(id);
        assertEq(uint8(t.status), uint8(DECIDED));
        assertTrue(t.corrected);
        assertEq(t.recordVersion, 12);
        assertEq(t.provider, provider);
        assertEq(t.decidedAt, START + 6 days);
    }

    function test_decide_recordsTheTimeOfEachStep() public {
        uint256 id = _filed();
        vm.warp(START + 1 days);
        vm.prank(admin);
        objections.mark(id);
        vm.warp(START + 2 days);
        vm.prank(admin);
        objections.forward(id);
        vm.warp(START + 9 days);
        vm.prank(provider);
        objections.decide(id, false, 0, NOTE);

        IObjections.Ticket memory t = objections.objection(id);
        assertEq(t.filedAt, START);
        assertEq(t.markedAt, START + 1 days);
        assertEq(t.forwardedAt, START + 2 days);
        assertEq(t.decidedAt, START + 9 days);
    }

    function test_decide_revertsWhenMarkedAndNotAdmin() public {
        uint256 id = _marked();
        address[3] memory others = [provider, requester, alice];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(_adminOnly(others[i]));
            vm.prank(others[i]);
            objections.decide(id, true, 1, NOTE);
        }
        assertEq(_status(id), uint8(MARKED));
    }

    function test_decide_revertsWhenForwardedAndNotThatProvider() public {
        uint256 id = _forwarded();
        address[3] memory others = [admin, requester, stranger];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(_notDecider(id, others[i]));
            vm.prank(others[i]);
            objections.decide(id, true, 1, NOTE);
        }
        assertEq(_status(id), uint8(FORWARDED));
    }

    function test_decide_revertsWhenFiled() public {
        uint256 id = _filed();
        vm.expectRevert(_wrongStatus(id, FILED));
        vm.prank(admin);
        objections.decide(id, true, 1, NOTE);
        vm.expectRevert(_wrongStatus(id, FILED));
        vm.prank(provider);
        objections.decide(id, true, 1, NOTE);
    }

    function test_decide_revertsWhenDecided() public {
        uint256 id = _decided();
        vm.expectRevert(_wrongStatus(id, DECIDED));
        vm.prank(admin);
        objections.decide(id, false, 0, NOTE);

        uint256 forwarded = _forwardedOf(BOB, BOB_KEY, bob);
        vm.startPrank(provider);
        objections.decide(forwarded, false, 0, NOTE);
        vm.expectRevert(_wrongStatus(forwarded, DECIDED));
        objections.decide(forwarded, true, 1, NOTE);
        vm.stopPrank();
    }

    function test_decide_revertsOnUnknownObjection() public {
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsUnknownObjection.selector, 4));
        vm.prank(admin);
        objections.decide(4, false, 0, NOTE);
    }

    function test_decide_revertsWithoutNote() public {
        uint256 marked = _marked();
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsMissingText.selector));
        vm.prank(admin);
        objections.decide(marked, false, 0, bytes32(0));
        uint256 forwarded = _forwardedOf(BOB, BOB_KEY, bob);
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsMissingText.selector));
        vm.prank(provider);
        objections.decide(forwarded, true, 1, bytes32(0));
    }

    function test_decide_revertsOnCorrectionWithoutRecordVersion() public {
        uint256 marked = _marked();
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsMissingRecordVersion.selector));
        vm.prank(admin);
        objections.decide(marked, true, 0, NOTE);
        uint256 forwarded = _forwardedOf(BOB, BOB_KEY, bob);
        vm.expectRevert(abi.encodeWithSelector(IObjections.ObjectionsMissingRecordVersion.selector));
        vm.prank(provider);
        objections.decide(forwarded, true, 0, NOTE);
    }

    function test_decide_refusalStoresNoRecordVersion() public {
        uint256 id = _forwarded();
        vm.expectEmit(address(objections));
        emit IObjections.ObjectionDecided(id, provider, false, 0, NOTE, uint64(block.timestamp));
        vm.prank(provider);
        objections.decide(id, false, 9, NOTE);

        IObjections.Ticket memory t = objections.objection(id);
        assertFalse(t.corrected);
        assertEq(t.recordVersion, 0);
        assertEq(uint8(t.status), uint8(DECIDED));
    }

    function testFuzz_decide_onlyTheForwardedProvider(address caller) public {
        uint256 id = _forwarded();
        if (caller != provider) vm.expectRevert(_notDecider(id, caller));
        vm.prank(caller);
        objections.decide(id, false, 0, NOTE);
        assertEq(_status(id), caller == provider ? uint8(DECIDED) : uint8(FORWARDED));
    }

    function testFuzz_decide_refusalNeverCitesAVersion(uint64 recordVersion) public {
        uint256 id = _marked();
        vm.prank(admin);
        objections.decide(id, false, recordVersion, NOTE);
        assertEq(objections.objection(id).recordVersion, 0);
    }

    // ================================================================ EIP-712

    function test_OBJECTION_TYPEHASH_spellsTheType() public view {
        assertEq(
            objections.OBJECTION_TYPEHASH(),
            keccak256(
                "Objection(bytes32 subject,bytes32 resourceId,uint256 fieldMask,uint8 kind,bytes32 reasonHash,"
                "uint256 nonce,uint64 deadline)"
            )
        );
    }

    function test_eip712Domain_namesConsentLedgerVersion1() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = objections.eip712Domain();
        assertEq(uint8(fields), 0x0f);
        assertEq(name, "ConsentLedger");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(objections));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
    }

    /// @dev The digest, computed here from the type string and the domain's fields without the contract's help.
    function test_hashObjection_matchesIndependentComputation() public view {
        IObjections.Objection memory o = _objection(ACME, 77);
        o.kind = uint8(IObjections.ObjectionKind.INFRINGES);
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ConsentLedger"),
                keccak256("1"),
                block.chainid,
                address(objections)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Objection(bytes32 subject,bytes32 resourceId,uint256 fieldMask,uint8 kind,bytes32 reasonHash,"
                    "uint256 nonce,uint64 deadline)"
                ),
                ACME,
                RES_PENSION,
                uint256(0x03),
                uint8(2),
                REASON,
                uint256(77),
                o.deadline
            )
        );
        assertEq(objections.DOMAIN_SEPARATOR(), domainSeparator);
        assertEq(objections.hashObjection(o), keccak256(abi.encodePacked(hex"1901", domainSeparator, structHash)));
    }

    /// @dev A signature made for another chain does not verify here.
    function test_hashObjection_bindsTheChain() public {
        IObjections.Objection memory o = _objection(ALICE, 0);
        bytes32 here = objections.hashObjection(o);
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes memory elsewhere = _sign(ALICE_KEY, objections.hashObjection(o));
        assertTrue(objections.hashObjection(o) != here, "digest depends on chain id");
        vm.chainId(chainId);
        _expectRejected(
            o, alice, elsewhere, abi.encodeWithSelector(IObjections.ObjectionsInvalidSignature.selector, alice)
        );
    }

    function test_objection_unknownIsAllZero() public view {
        IObjections.Ticket memory t = objections.objection(1);
        assertEq(uint8(t.status), uint8(IObjections.ObjectionStatus.NONE));
        assertEq(t.subject, bytes32(0));
        assertEq(t.filedAt, 0);
    }

    function test_constructor_wiresRegistries() public view {
        assertEq(address(objections.participants()), address(participants));
        assertEq(address(objections.subjects()), address(subjects));
        assertEq(address(objections.catalog()), address(catalog));
    }
}
