// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsents} from "../src/interfaces/IConsents.sol";
import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
import {Fixture} from "./utils/Fixture.sol";

contract ConsentsTest is Fixture {
    string private constant VECTOR_PATH = "contracts/test/vectors/consent_typed_data.json";
    bytes32 private constant ABUSE = keccak256("consents pressed out of applicants as a condition of service");

    function _expectGranted(bytes32 id, IConsents.Consent memory c) private {
        vm.expectEmit(address(consents));
        emit IConsents.ConsentGranted(
            id,
            c.subject,
            c.grantee,
            c.resources,
            c.fieldMasks,
            keccak256(bytes(c.purpose)),
            c.validFrom,
            c.validUntil,
            c.maxUses,
            c.nonce
        );
    }

    function _expectGrantRevert(IConsents.Consent memory c, bytes memory err) private {
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.expectRevert(err);
        consents.grant(c, signers, signatures);
    }

    function _status(bytes32 id) private view returns (IConsents.ConsentStatus status) {
        (status,,) = consents.consentRecord(id);
    }

    // ---------------------------------------------------------------- grant

    function test_grant_recordsConsent() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        bytes32 expectedId = consents.hashConsent(c);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        _expectGranted(expectedId, c);
        vm.prank(relayer);
        bytes32 id = consents.grant(c, signers, signatures);

        assertEq(id, expectedId);
        (IConsents.ConsentStatus status, uint64 grantedAt, uint64 endedAt) = consents.consentRecord(id);
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.ACTIVE));
        assertEq(grantedAt, block.number);
        assertEq(endedAt, 0);
        assertTrue(consents.isNonceUsed(ALICE, 0));
        assertFalse(consents.isNonceUsed(ALICE, 1));
    }

    function test_grant_isCallableByAnyAccount() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.prank(stranger);
        bytes32 id = consents.grant(c, signers, signatures);
        assertEq(uint8(_status(id)), uint8(IConsents.ConsentStatus.ACTIVE));
    }

    function test_grant_recordsSixteenResourcesWithWideMasks() public {
        IConsents.Consent memory c = _consent(ALICE, 5);
        c.resources = new bytes32[](16);
        c.fieldMasks = new uint256[](16);
        for (uint256 i; i < 16; ++i) {
            c.resources[i] = bytes32(i + 1);
            c.fieldMasks[i] = type(uint256).max >> i;
        }
        c.maxUses = type(uint32).max;
        _expectGranted(consents.hashConsent(c), c);
        _grant(c, _keys(ALICE_KEY));
    }

    function test_grant_revertsOnZeroGrantee() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.grantee = address(0);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsZeroGrantee.selector));
    }

    function test_grant_revertsOnEmptyWindow() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.validUntil = c.validFrom;
        _expectGrantRevert(
            c, abi.encodeWithSelector(IConsents.ConsentsInvalidWindow.selector, c.validFrom, c.validUntil)
        );
    }

    function test_grant_revertsOnReversedWindow() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (c.validFrom, c.validUntil) = (c.validUntil, c.validFrom);
        _expectGrantRevert(
            c, abi.encodeWithSelector(IConsents.ConsentsInvalidWindow.selector, c.validFrom, c.validUntil)
        );
    }

    function test_grant_revertsOnNoResources() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.resources = new bytes32[](0);
        c.fieldMasks = new uint256[](0);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsInvalidResources.selector));
    }

    function test_grant_revertsOnSeventeenResources() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.resources = new bytes32[](17);
        c.fieldMasks = new uint256[](17);
        for (uint256 i; i < 17; ++i) {
            c.resources[i] = bytes32(i + 1);
            c.fieldMasks[i] = 1;
        }
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsInvalidResources.selector));
    }

    function test_grant_revertsOnUnsortedResources() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (c.resources[0], c.resources[1]) = (c.resources[1], c.resources[0]);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsInvalidResources.selector));
    }

    function test_grant_revertsOnDuplicateResources() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.resources[1] = c.resources[0];
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsInvalidResources.selector));
    }

    function test_grant_revertsOnZeroFieldMask() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.fieldMasks[1] = 0;
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsInvalidResources.selector));
    }

    function test_grant_revertsOnResourceMaskLengthMismatch() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.fieldMasks = new uint256[](1);
        c.fieldMasks[0] = 1;
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsLengthMismatch.selector));
    }

    function test_grant_revertsOnSignerSignatureLengthMismatch() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers,) = _signConsent(c, _keys(ALICE_KEY));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsLengthMismatch.selector));
        consents.grant(c, signers, new bytes[](0));
    }

    function test_grant_revertsOnUnknownSubjectWithoutSigners() public {
        IConsents.Consent memory c = _consent(NOBODY, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownSubject.selector, NOBODY));
        consents.grant(c, new address[](0), new bytes[](0));
    }

    function test_grant_revertsOnUnknownSubjectWithSigner() public {
        IConsents.Consent memory c = _consent(NOBODY, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, NOBODY, alice));
        consents.grant(c, signers, signatures);
    }

    function test_grant_revertsOnNoSignaturesForKnownSubject() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsBelowThreshold.selector, 0, 1));
        consents.grant(c, new address[](0), new bytes[](0));
    }

    /// @dev Unreachable through the API (the nonce guards it); forced by clearing the nonce bit in storage.
    function test_grant_revertsWhenAlreadyRecorded() public {
        (bytes32 id, IConsents.Consent memory c) = _grantAlice(0);
        // Consents storage: EIP712 fallback strings in slots 0-1, _records in 2, _nonceBitmaps in 3.
        bytes32 inner = keccak256(abi.encode(ALICE, uint256(3)));
        bytes32 wordSlot = keccak256(abi.encode(uint256(0), inner));
        assertEq(uint256(vm.load(address(consents), wordSlot)), 1);
        vm.store(address(consents), wordSlot, bytes32(0));
        assertFalse(consents.isNonceUsed(ALICE, 0));

        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsAlreadyExists.selector, id));
        consents.grant(c, signers, signatures);
    }

    function test_grant_checksDeadlineBeforeContent() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.grantee = address(0);
        vm.warp(c.deadline + 1);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsSignatureExpired.selector, c.deadline));
    }

    function test_grant_checksContentBeforeNonce() public {
        _grantAlice(0);
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.grantee = address(0);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsZeroGrantee.selector));
    }

    function test_grant_acceptsDeadlineEqualToNow() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        vm.warp(c.deadline);
        _grant(c, _keys(ALICE_KEY));
    }

    // ---------------------------------------------------------------- grantBatch

    function _batchOf(IConsents.Consent memory a, uint256 keyA, IConsents.Consent memory b, uint256 keyB)
        private
        view
        returns (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures)
    {
        batch = new IConsents.Consent[](2);
        signers = new address[][](2);
        signatures = new bytes[][](2);
        (batch[0], batch[1]) = (a, b);
        (signers[0], signatures[0]) = _signConsent(a, _keys(keyA));
        (signers[1], signatures[1]) = _signConsent(b, _keys(keyB));
    }

    function test_grantBatch_recordsAllInOrder() public {
        (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures) =
            _batchOf(_consent(ALICE, 0), ALICE_KEY, _consent(BOB, 0), BOB_KEY);
        _expectGranted(consents.hashConsent(batch[0]), batch[0]);
        _expectGranted(consents.hashConsent(batch[1]), batch[1]);
        bytes32[] memory ids = consents.grantBatch(batch, signers, signatures);
        assertEq(ids.length, 2);
        assertEq(ids[0], consents.hashConsent(batch[0]));
        assertEq(ids[1], consents.hashConsent(batch[1]));
        assertEq(uint8(_status(ids[0])), uint8(IConsents.ConsentStatus.ACTIVE));
        assertEq(uint8(_status(ids[1])), uint8(IConsents.ConsentStatus.ACTIVE));
    }

    function test_grantBatch_acceptsEmptyBatch() public {
        bytes32[] memory ids = consents.grantBatch(new IConsents.Consent[](0), new address[][](0), new bytes[][](0));
        assertEq(ids.length, 0);
    }

    function test_grantBatch_isAtomic() public {
        IConsents.Consent memory bad = _consent(BOB, 0);
        bad.grantee = address(0);
        (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures) =
            _batchOf(_consent(ALICE, 0), ALICE_KEY, bad, BOB_KEY);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsZeroGrantee.selector));
        consents.grantBatch(batch, signers, signatures);
        assertFalse(consents.isNonceUsed(ALICE, 0));
        assertEq(uint8(_status(consents.hashConsent(batch[0]))), uint8(IConsents.ConsentStatus.NONE));
    }

    function test_grantBatch_revertsOnSignersLengthMismatch() public {
        (IConsents.Consent[] memory batch,, bytes[][] memory signatures) =
            _batchOf(_consent(ALICE, 0), ALICE_KEY, _consent(BOB, 0), BOB_KEY);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsLengthMismatch.selector));
        consents.grantBatch(batch, new address[][](1), signatures);
    }

    function test_grantBatch_revertsOnSignaturesLengthMismatch() public {
        (IConsents.Consent[] memory batch, address[][] memory signers,) =
            _batchOf(_consent(ALICE, 0), ALICE_KEY, _consent(BOB, 0), BOB_KEY);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsLengthMismatch.selector));
        consents.grantBatch(batch, signers, new bytes[][](3));
    }

    function test_grantBatch_revertsOnSameConsentTwice() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures) =
            _batchOf(c, ALICE_KEY, c, ALICE_KEY);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 0));
        consents.grantBatch(batch, signers, signatures);
    }

    // ---------------------------------------------------------------- revoke

    function test_revoke_marksRevoked() public {
        (bytes32 id,) = _grantAlice(0);
        vm.roll(block.number + 10);
        vm.expectEmit(address(consents));
        emit IConsents.ConsentRevoked(id, ALICE, alice);
        vm.prank(alice);
        consents.revoke(id, ALICE);

        (IConsents.ConsentStatus status, uint64 grantedAt, uint64 endedAt) = consents.consentRecord(id);
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.REVOKED));
        assertEq(grantedAt, block.number - 10);
        assertEq(endedAt, block.number);
    }

    function test_revoke_byAnySingleEnterpriseSigner() public {
        bytes32 id = _grant(_consent(ACME, 0), _keys(ACME1_KEY, ACME2_KEY));
        vm.expectEmit(address(consents));
        emit IConsents.ConsentRevoked(id, ACME, acme3);
        vm.prank(acme3);
        consents.revoke(id, ACME);
        assertEq(uint8(_status(id)), uint8(IConsents.ConsentStatus.REVOKED));
    }

    function test_revoke_revertsOnUnknownConsent() public {
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownConsent.selector, bytes32("nope")));
        vm.prank(alice);
        consents.revoke("nope", ALICE);
    }

    function test_revoke_revertsOnOtherSubject() public {
        (bytes32 id,) = _grantAlice(0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownConsent.selector, id));
        vm.prank(bob);
        consents.revoke(id, BOB);
    }

    function test_revoke_revertsWhenAlreadyRevoked() public {
        (bytes32 id,) = _grantAlice(0);
        vm.startPrank(alice);
        consents.revoke(id, ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IConsents.ConsentsNotActive.selector, id, IConsents.ConsentStatus.REVOKED)
        );
        consents.revoke(id, ALICE);
        vm.stopPrank();
    }

    function test_revoke_revertsWhenNotSigner() public {
        (bytes32 id,) = _grantAlice(0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, stranger));
        vm.prank(stranger);
        consents.revoke(id, ALICE);
    }

    function test_revoke_revertsForRotatedOutSigner() public {
        (bytes32 id,) = _grantAlice(0);
        _changeSigners(_signerChange(ALICE, _addresses(mallory), _addresses(alice), 1));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, alice));
        vm.prank(alice);
        consents.revoke(id, ALICE);
        vm.prank(mallory);
        consents.revoke(id, ALICE);
    }

    // ---------------------------------------------------------------- endByRegulator

    function test_endByRegulator_marksEndedApartFromRevoked() public {
        (bytes32 id,) = _grantAlice(0);
        vm.roll(block.number + 3);
        vm.expectEmit(address(consents));
        emit IConsents.ConsentEndedByRegulator(id, ALICE, regulator, ABUSE);
        vm.prank(regulator);
        consents.endByRegulator(id, ALICE, ABUSE);

        (IConsents.ConsentStatus status,, uint64 endedAt) = consents.consentRecord(id);
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.ENDED_BY_REGULATOR));
        assertEq(endedAt, block.number);
    }

    function test_endByRegulator_revertsWhenNotRegulator() public {
        (bytes32 id,) = _grantAlice(0);
        address[3] memory others = [alice, requester, admin];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IParticipantsGuarded.ParticipantsUnauthorized.selector, others[i], keccak256("REGULATOR_ROLE")
                )
            );
            vm.prank(others[i]);
            consents.endByRegulator(id, ALICE, ABUSE);
        }
    }

    function test_endByRegulator_revertsWithoutReason() public {
        (bytes32 id,) = _grantAlice(0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsMissingReason.selector));
        vm.prank(regulator);
        consents.endByRegulator(id, ALICE, bytes32(0));
    }

    function test_endByRegulator_revertsWhenRevoked() public {
        (bytes32 id,) = _grantAlice(0);
        vm.prank(alice);
        consents.revoke(id, ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IConsents.ConsentsNotActive.selector, id, IConsents.ConsentStatus.REVOKED)
        );
        vm.prank(regulator);
        consents.endByRegulator(id, ALICE, ABUSE);
    }

    function test_endByRegulator_revertsOnOtherSubject() public {
        (bytes32 id,) = _grantAlice(0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownConsent.selector, id));
        vm.prank(regulator);
        consents.endByRegulator(id, BOB, ABUSE);
    }

    function test_revoke_revertsWhenEndedByRegulator() public {
        (bytes32 id,) = _grantAlice(0);
        vm.prank(regulator);
        consents.endByRegulator(id, ALICE, ABUSE);
        vm.expectRevert(
            abi.encodeWithSelector(IConsents.ConsentsNotActive.selector, id, IConsents.ConsentStatus.ENDED_BY_REGULATOR)
        );
        vm.prank(alice);
        consents.revoke(id, ALICE);
    }

    function test_check_endedByRegulator() public {
        (bytes32 id, IConsents.Consent memory c) = _grantAlice(0);
        vm.prank(regulator);
        consents.endByRegulator(id, ALICE, ABUSE);
        (bool ok, uint256 mask, uint8 reason) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(mask, 0);
        assertEq(reason, 8);
    }

    // ---------------------------------------------------------------- revokeWithSig

    function test_revokeWithSig_marksRevokedAndUsesNonce() public {
        (bytes32 id,) = _grantAlice(0);
        IConsents.Revoke memory r = _revocation(id, ALICE, 1);
        bytes memory signature = _sign(ALICE_KEY, consents.hashRevoke(r));
        vm.expectEmit(address(consents));
        emit IConsents.ConsentRevoked(id, ALICE, alice);
        vm.prank(relayer);
        consents.revokeWithSig(r, alice, signature);
        assertEq(uint8(_status(id)), uint8(IConsents.ConsentStatus.REVOKED));
        assertTrue(consents.isNonceUsed(ALICE, 1));
    }

    function test_revokeWithSig_revertsOnUnknownConsent() public {
        IConsents.Revoke memory r = _revocation("nope", ALICE, 1);
        bytes memory signature = _sign(ALICE_KEY, consents.hashRevoke(r));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownConsent.selector, bytes32("nope")));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnOtherSubject() public {
        (bytes32 id,) = _grantAlice(0);
        IConsents.Revoke memory r = _revocation(id, BOB, 1);
        bytes memory signature = _sign(BOB_KEY, consents.hashRevoke(r));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsUnknownConsent.selector, id));
        consents.revokeWithSig(r, bob, signature);
    }

    function test_revokeWithSig_revertsWhenAlreadyRevoked() public {
        (bytes32 id,) = _grantAlice(0);
        vm.prank(alice);
        consents.revoke(id, ALICE);
        IConsents.Revoke memory r = _revocation(id, ALICE, 1);
        bytes memory signature = _sign(ALICE_KEY, consents.hashRevoke(r));
        vm.expectRevert(
            abi.encodeWithSelector(IConsents.ConsentsNotActive.selector, id, IConsents.ConsentStatus.REVOKED)
        );
        consents.revokeWithSig(r, alice, signature);
    }

    // ---------------------------------------------------------------- invalidateNonces

    function test_invalidateNonces_voidsSignedMessages() public {
        vm.expectEmit(address(consents));
        emit IConsents.NoncesInvalidated(ALICE, 1, 0x05);
        vm.prank(alice);
        consents.invalidateNonces(ALICE, 1, 0x05);
        assertTrue(consents.isNonceUsed(ALICE, 256));
        assertFalse(consents.isNonceUsed(ALICE, 257));
        assertTrue(consents.isNonceUsed(ALICE, 258));

        IConsents.Consent memory c = _consent(ALICE, 258);
        _expectGrantRevert(c, abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 258));
    }

    function test_invalidateNonces_keepsUsedNonces() public {
        _grantAlice(0);
        vm.prank(alice);
        consents.invalidateNonces(ALICE, 0, 0x02);
        assertTrue(consents.isNonceUsed(ALICE, 0));
        assertTrue(consents.isNonceUsed(ALICE, 1));
    }

    function test_invalidateNonces_revertsWhenNotSigner() public {
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, bob));
        vm.prank(bob);
        consents.invalidateNonces(ALICE, 0, 1);
    }

    // ---------------------------------------------------------------- check

    function _check(IConsents.Consent memory c, address grantee, bytes32 resourceId, bytes32 purposeHash)
        private
        view
        returns (bool ok, uint256 mask, uint8 reason)
    {
        return consents.check(c, grantee, resourceId, purposeHash);
    }

    function test_check_okForEachGrantedResource() public {
        (, IConsents.Consent memory c) = _grantAlice(0);
        for (uint256 i; i < c.resources.length; ++i) {
            (bool ok, uint256 mask, uint8 reason) = _check(c, requester, c.resources[i], keccak256(bytes(PURPOSE)));
            assertTrue(ok);
            assertEq(mask, c.fieldMasks[i]);
            assertEq(reason, 0);
        }
    }

    function test_check_noConsent() public view {
        (bool ok, uint256 mask, uint8 reason) =
            _check(_consent(ALICE, 0), requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(mask, 0);
        assertEq(reason, 1);
    }

    function test_check_revoked() public {
        (bytes32 id, IConsents.Consent memory c) = _grantAlice(0);
        vm.prank(alice);
        consents.revoke(id, ALICE);
        (bool ok, uint256 mask, uint8 reason) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(mask, 0);
        assertEq(reason, 2);
    }

    function test_check_notYetValid() public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.validFrom = uint64(block.timestamp + 1 days);
        _grant(c, _keys(ALICE_KEY));
        (bool ok,, uint8 reason) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(reason, 3);
        vm.warp(c.validFrom);
        (ok,, reason) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertTrue(ok);
        assertEq(reason, 0);
    }

    function test_check_expiredAtValidUntil() public {
        (, IConsents.Consent memory c) = _grantAlice(0);
        vm.warp(c.validUntil - 1);
        (bool ok,,) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertTrue(ok);
        vm.warp(c.validUntil);
        uint8 reason;
        (ok,, reason) = _check(c, requester, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(reason, 4);
    }

    function test_check_granteeMismatch() public {
        (, IConsents.Consent memory c) = _grantAlice(0);
        (bool ok,, uint8 reason) = _check(c, provider, RES_TAX, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(reason, 5);
    }

    function test_check_purposeMismatch() public {
        (, IConsents.Consent memory c) = _grantAlice(0);
        (bool ok,, uint8 reason) = _check(c, requester, RES_TAX, keccak256("marketing"));
        assertFalse(ok);
        assertEq(reason, 6);
    }

    function test_check_resourceNotGranted() public {
        (, IConsents.Consent memory c) = _grantAlice(0);
        (bool ok, uint256 mask, uint8 reason) = _check(c, requester, RES_PENSION, keccak256(bytes(PURPOSE)));
        assertFalse(ok);
        assertEq(mask, 0);
        assertEq(reason, 7);
    }

    // ---------------------------------------------------------------- views

    function test_typeHashes_matchTypeStrings() public view {
        assertEq(
            consents.CONSENT_TYPEHASH(),
            keccak256(
                "Consent(bytes32 subject,address grantee,bytes32[] resources,uint256[] fieldMasks,string purpose,"
                "uint64 validFrom,uint64 validUntil,uint32 maxUses,uint256 nonce,uint64 deadline)"
            )
        );
        assertEq(
            consents.REVOKE_TYPEHASH(),
            keccak256("Revoke(bytes32 consentId,bytes32 subject,uint256 nonce,uint64 deadline)")
        );
    }

    function test_eip712Domain_describesConsentLedgerV1() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = consents.eip712Domain();
        assertEq(uint8(fields), 0x0f);
        assertEq(name, "ConsentLedger");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(consents));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ConsentLedger"),
                keccak256("1"),
                block.chainid,
                address(consents)
            )
        );
        assertEq(consents.DOMAIN_SEPARATOR(), expected);
    }

    function test_hashConsent_matchesAbiEncoding() public view {
        IConsents.Consent memory c = _consent(ACME, 42);
        bytes32 structHash = keccak256(
            abi.encode(
                consents.CONSENT_TYPEHASH(),
                c.subject,
                c.grantee,
                keccak256(abi.encodePacked(c.resources)),
                keccak256(abi.encodePacked(c.fieldMasks)),
                keccak256(bytes(c.purpose)),
                c.validFrom,
                c.validUntil,
                c.maxUses,
                c.nonce,
                c.deadline
            )
        );
        assertEq(
            consents.hashConsent(c), keccak256(abi.encodePacked(hex"1901", consents.DOMAIN_SEPARATOR(), structHash))
        );
    }

    function test_hashRevoke_matchesAbiEncoding() public view {
        IConsents.Revoke memory r = _revocation("id", ALICE, 9);
        bytes32 structHash =
            keccak256(abi.encode(consents.REVOKE_TYPEHASH(), r.consentId, r.subject, r.nonce, r.deadline));
        assertEq(
            consents.hashRevoke(r), keccak256(abi.encodePacked(hex"1901", consents.DOMAIN_SEPARATOR(), structHash))
        );
    }

    function test_consentRecord_unknownIsNone() public view {
        (IConsents.ConsentStatus status, uint64 grantedAt, uint64 endedAt) = consents.consentRecord("nope");
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.NONE));
        assertEq(grantedAt, 0);
        assertEq(endedAt, 0);
        assertEq(address(consents.subjects()), address(subjects));
        assertEq(address(consents.participants()), address(participants));
    }

    // ---------------------------------------------------------------- independent EIP-712 vector

    /// @dev Deploys the Consents code at the vector's verifying contract on the vector's chain.
    function _vectorConsents(string memory json) private returns (IConsents vectorConsents) {
        address at = vm.parseJsonAddress(json, ".domain.verifyingContract");
        vm.chainId(vm.parseJsonUint(json, ".domain.chainId"));
        vm.etch(at, address(consents).code);
        return IConsents(at);
    }

    function _vectorConsent(string memory json) private pure returns (IConsents.Consent memory c) {
        c.subject = vm.parseJsonBytes32(json, ".message.subject");
        c.grantee = vm.parseJsonAddress(json, ".message.grantee");
        c.resources = vm.parseJsonBytes32Array(json, ".message.resources");
        c.fieldMasks = vm.parseJsonUintArray(json, ".message.fieldMasks");
        c.purpose = vm.parseJsonString(json, ".message.purpose");
        c.validFrom = uint64(vm.parseJsonUint(json, ".message.validFrom"));
        c.validUntil = uint64(vm.parseJsonUint(json, ".message.validUntil"));
        c.maxUses = uint32(vm.parseJsonUint(json, ".message.maxUses"));
        c.nonce = vm.parseJsonUint(json, ".message.nonce");
        c.deadline = uint64(vm.parseJsonUint(json, ".message.deadline"));
    }

    function test_hashConsent_matchesIndependentVector() public {
        string memory json = vm.readFile(VECTOR_PATH);
        IConsents vectorConsents = _vectorConsents(json);
        IConsents.Consent memory c = _vectorConsent(json);

        assertEq(vectorConsents.CONSENT_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"));
        assertEq(vectorConsents.DOMAIN_SEPARATOR(), vm.parseJsonBytes32(json, ".domainSeparator"));
        assertEq(vectorConsents.hashConsent(c), vm.parseJsonBytes32(json, ".digest"));
        assertEq(vectorConsents.REVOKE_TYPEHASH(), vm.parseJsonBytes32(json, ".revoke.typeHash"));
    }

    function test_sign_reproducesVectorSignatures() public view {
        string memory json = vm.readFile(VECTOR_PATH);
        assertEq(vm.parseJsonAddress(json, ".signer.address"), alice);
        assertEq(_sign(ALICE_KEY, vm.parseJsonBytes32(json, ".digest")), vm.parseJsonBytes(json, ".signature.bytes"));
        assertEq(
            _sign(ALICE_KEY, vm.parseJsonBytes32(json, ".revoke.digest")),
            vm.parseJsonBytes(json, ".revoke.signature.bytes")
        );
    }

    function test_grant_acceptsVectorSignatureThenRevokeWithSig() public {
        string memory json = vm.readFile(VECTOR_PATH);
        IConsents vectorConsents = _vectorConsents(json);
        IConsents.Consent memory c = _vectorConsent(json);
        address[] memory signers = _addresses(vm.parseJsonAddress(json, ".signer.address"));
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = vm.parseJsonBytes(json, ".signature.bytes");

        bytes32 id = vectorConsents.grant(c, signers, signatures);
        assertEq(id, vm.parseJsonBytes32(json, ".digest"));

        IConsents.Revoke memory r = IConsents.Revoke({
            consentId: vm.parseJsonBytes32(json, ".revoke.message.consentId"),
            subject: vm.parseJsonBytes32(json, ".revoke.message.subject"),
            nonce: vm.parseJsonUint(json, ".revoke.message.nonce"),
            deadline: uint64(vm.parseJsonUint(json, ".revoke.message.deadline"))
        });
        assertEq(vectorConsents.hashRevoke(r), vm.parseJsonBytes32(json, ".revoke.digest"));
        vectorConsents.revokeWithSig(r, alice, vm.parseJsonBytes(json, ".revoke.signature.bytes"));
        (IConsents.ConsentStatus status,,) = vectorConsents.consentRecord(id);
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.REVOKED));
    }

    // ---------------------------------------------------------------- fuzz

    function _fuzzConsent(uint256 seed, uint256 nonce, uint8 resourceCount, uint64 validFor, uint32 maxUses)
        private
        view
        returns (IConsents.Consent memory c)
    {
        c = _consent(ALICE, nonce);
        uint256 n = bound(resourceCount, 1, 16);
        c.resources = new bytes32[](n);
        c.fieldMasks = new uint256[](n);
        uint256 next = bound(seed, 0, type(uint256).max - 16 * 2 ** 200);
        for (uint256 i; i < n; ++i) {
            next += 1 + (uint256(keccak256(abi.encode(seed, i))) >> 56);
            c.resources[i] = bytes32(next);
            c.fieldMasks[i] = uint256(keccak256(abi.encode(seed, i, "mask"))) | 1;
        }
        c.validUntil = c.validFrom + uint64(bound(validFor, 1, 3650 days));
        c.maxUses = maxUses;
    }

    function testFuzz_grant_recordsAnyWellFormedConsent(
        uint256 seed,
        uint256 nonce,
        uint8 resourceCount,
        uint64 validFor,
        uint32 maxUses
    ) public {
        IConsents.Consent memory c = _fuzzConsent(seed, nonce, resourceCount, validFor, maxUses);
        bytes32 id = _grant(c, _keys(ALICE_KEY));
        assertEq(id, consents.hashConsent(c));
        assertTrue(consents.isNonceUsed(ALICE, nonce));
        uint256 pick = bound(seed, 0, c.resources.length - 1);
        (bool ok, uint256 mask, uint8 reason) = _check(c, requester, c.resources[pick], keccak256(bytes(PURPOSE)));
        assertTrue(ok);
        assertEq(mask, c.fieldMasks[pick]);
        assertEq(reason, 0);
    }

    function testFuzz_check_revokedNeverOk(uint256 seed, uint8 resourceCount, uint64 validFor, uint256 warpBy) public {
        IConsents.Consent memory c = _fuzzConsent(seed, 0, resourceCount, validFor, 0);
        bytes32 id = _grant(c, _keys(ALICE_KEY));
        vm.prank(alice);
        consents.revoke(id, ALICE);
        vm.warp(block.timestamp + bound(warpBy, 0, 3650 days));
        for (uint256 i; i < c.resources.length; ++i) {
            (bool ok, uint256 mask, uint8 reason) = _check(c, requester, c.resources[i], keccak256(bytes(PURPOSE)));
            assertFalse(ok);
            assertEq(mask, 0);
            assertEq(reason, 2);
        }
    }

    function testFuzz_isNonceUsed_marksOnlyTheUsedNonce(uint256 nonce, uint256 other) public {
        vm.assume(nonce != other);
        _grantAlice(nonce);
        assertTrue(consents.isNonceUsed(ALICE, nonce));
        assertFalse(consents.isNonceUsed(ALICE, other));
        assertFalse(consents.isNonceUsed(BOB, nonce));
    }
}
