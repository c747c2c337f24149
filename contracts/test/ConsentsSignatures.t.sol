// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsents} from "../src/interfaces/IConsents.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @dev Signature failure matrix for every signed entry point: grant, grantBatch (the faulty entry placed after
/// a valid one, so the whole batch must revert) and revokeWithSig.
contract ConsentsSignaturesTest is Fixture {
    enum Entry {
        Grant,
        Batch
    }

    /// @dev Nonce of the valid consent of BOB that accompanies the tested entry in a batch.
    uint256 private _companionNonce = 1_000_000;

    function _submit(Entry entry, IConsents.Consent memory c, address[] memory signers, bytes[] memory signatures)
        private
        returns (bytes32 id)
    {
        if (entry == Entry.Grant) return consents.grant(c, signers, signatures);
        IConsents.Consent[] memory batch = new IConsents.Consent[](2);
        address[][] memory batchSigners = new address[][](2);
        bytes[][] memory batchSignatures = new bytes[][](2);
        batch[0] = _consent(BOB, _companionNonce++);
        (batchSigners[0], batchSignatures[0]) = _signConsent(batch[0], _keys(BOB_KEY));
        (batch[1], batchSigners[1], batchSignatures[1]) = (c, signers, signatures);
        return consents.grantBatch(batch, batchSigners, batchSignatures)[1];
    }

    function _expectRejected(
        Entry entry,
        IConsents.Consent memory c,
        address[] memory signers,
        bytes[] memory signatures,
        bytes memory err
    ) private {
        vm.expectRevert(err);
        this.submitExternal(entry, c, signers, signatures);
        assertFalse(consents.isNonceUsed(BOB, _companionNonce), "batch must be atomic");
    }

    /// @dev External hop so that expectRevert applies to the whole submission, batch set-up included.
    function submitExternal(
        Entry entry,
        IConsents.Consent memory c,
        address[] memory signers,
        bytes[] memory signatures
    ) external returns (bytes32) {
        return _submit(entry, c, signers, signatures);
    }

    function _one(address signer, bytes memory signature)
        private
        pure
        returns (address[] memory signers, bytes[] memory signatures)
    {
        signers = _addresses(signer);
        signatures = new bytes[](1);
        signatures[0] = signature;
    }

    function _two(address a, bytes memory sa, address b, bytes memory sb)
        private
        pure
        returns (address[] memory signers, bytes[] memory signatures)
    {
        signers = new address[](2);
        signatures = new bytes[](2);
        (signers[0], signers[1]) = (a, b);
        (signatures[0], signatures[1]) = (sa, sb);
    }

    // ================================================================ shared cases for grant and grantBatch

    function _caseExpiredDeadline(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.warp(c.deadline + 1);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsSignatureExpired.selector, c.deadline)
        );
    }

    function _caseWrongKey(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) =
            _one(alice, _sign(MALLORY_KEY, consents.hashConsent(c)));
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice)
        );
    }

    function _caseUnboundSigner(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(MALLORY_KEY));
        _expectRejected(
            entry,
            c,
            signers,
            signatures,
            abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, mallory)
        );
    }

    function _caseUsedNonce(Entry entry) private {
        _grantAlice(0);
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.purpose = "another-purpose";
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 0)
        );
    }

    function _caseReplayedSignature(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        consents.grant(c, signers, signatures);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 0)
        );
    }

    function _caseSignatureOfOtherConsent(Entry entry) private {
        IConsents.Consent memory signed = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(signed, _keys(ALICE_KEY));
        IConsents.Consent memory c = _consent(ALICE, 0);
        c.validUntil += 1;
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice)
        );
    }

    function _caseMalleableSignature(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        bytes memory high = _malleate(_sign(ALICE_KEY, consents.hashConsent(c)));
        // The flipped signature still recovers to alice with plain ecrecover.
        (bytes32 r, bytes32 s) = abi.decode(high, (bytes32, bytes32));
        assertEq(ecrecover(consents.hashConsent(c), uint8(high[64]), r, s), alice);
        (address[] memory signers, bytes[] memory signatures) = _one(alice, high);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice)
        );
    }

    function _caseShortSignature(Entry entry) private {
        IConsents.Consent memory c = _consent(ALICE, 0);
        bytes memory full = _sign(ALICE_KEY, consents.hashConsent(c));
        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = full[i];
        }
        (address[] memory signers, bytes[] memory signatures) = _one(alice, short);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice)
        );
    }

    function _caseBelowThreshold(Entry entry) private {
        IConsents.Consent memory c = _consent(ACME, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ACME2_KEY));
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsBelowThreshold.selector, 1, 2)
        );
    }

    function _caseUnsortedSigners(Entry entry) private {
        IConsents.Consent memory c = _consent(ACME, 0);
        (address[] memory sorted, bytes[] memory sortedSigs) = _signConsent(c, _keys(ACME1_KEY, ACME2_KEY));
        (address[] memory signers, bytes[] memory signatures) = _two(sorted[1], sortedSigs[1], sorted[0], sortedSigs[0]);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsSignersNotSorted.selector)
        );
    }

    function _caseDuplicateSigners(Entry entry) private {
        IConsents.Consent memory c = _consent(ACME, 0);
        bytes memory sig = _sign(ACME1_KEY, consents.hashConsent(c));
        (address[] memory signers, bytes[] memory signatures) = _two(acme1, sig, acme1, sig);
        _expectRejected(
            entry, c, signers, signatures, abi.encodeWithSelector(IConsents.ConsentsSignersNotSorted.selector)
        );
    }

    function _caseEnterpriseTwoOfThree(Entry entry) private {
        uint256[3] memory keys = [ACME1_KEY, ACME2_KEY, ACME3_KEY];
        uint256 nonce;
        for (uint256 i; i < 3; ++i) {
            for (uint256 j = i + 1; j < 3; ++j) {
                IConsents.Consent memory c = _consent(ACME, nonce++);
                (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(keys[i], keys[j]));
                bytes32 id = _submit(entry, c, signers, signatures);
                (IConsents.ConsentStatus status,,) = consents.consentRecord(id);
                assertEq(uint8(status), uint8(IConsents.ConsentStatus.ACTIVE));
            }
        }
        IConsents.Consent memory all = _consent(ACME, nonce);
        (address[] memory allSigners, bytes[] memory allSignatures) =
            _signConsent(all, _keys(ACME1_KEY, ACME2_KEY, ACME3_KEY));
        _submit(entry, all, allSigners, allSignatures);
    }

    function _caseEnterpriseOneValidOneForged(Entry entry) private {
        IConsents.Consent memory c = _consent(ACME, 0);
        bytes32 digest = consents.hashConsent(c);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ACME1_KEY, ACME2_KEY));
        uint256 forged = signers[0] == acme1 ? 1 : 0; // forge acme2's entry, wherever it sits
        signatures[forged] = _sign(ACME3_KEY, digest);
        _expectRejected(
            entry,
            c,
            signers,
            signatures,
            abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, signers[forged])
        );
    }

    function _caseErc1271Signer(Entry entry) private {
        IConsents.Consent memory c = _consent(WALLET_SUBJECT, 0);
        (address[] memory signers, bytes[] memory signatures) =
            _one(address(wallet), _sign(WALLET_OWNER_KEY, consents.hashConsent(c)));
        bytes32 id = _submit(entry, c, signers, signatures);
        assertEq(id, consents.hashConsent(c));
    }

    function _caseErc1271WrongOwner(Entry entry) private {
        IConsents.Consent memory c = _consent(WALLET_SUBJECT, 0);
        (address[] memory signers, bytes[] memory signatures) =
            _one(address(wallet), _sign(MALLORY_KEY, consents.hashConsent(c)));
        _expectRejected(
            entry,
            c,
            signers,
            signatures,
            abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, address(wallet))
        );
    }

    // ---------------------------------------------------------------- grant

    function test_grant_revertsOnExpiredDeadline() public {
        _caseExpiredDeadline(Entry.Grant);
    }

    function test_grant_revertsOnWrongKey() public {
        _caseWrongKey(Entry.Grant);
    }

    function test_grant_revertsOnUnboundSigner() public {
        _caseUnboundSigner(Entry.Grant);
    }

    function test_grant_revertsOnUsedNonce() public {
        _caseUsedNonce(Entry.Grant);
    }

    function test_grant_revertsOnReplayedSignature() public {
        _caseReplayedSignature(Entry.Grant);
    }

    function test_grant_revertsOnSignatureOfOtherConsent() public {
        _caseSignatureOfOtherConsent(Entry.Grant);
    }

    function test_grant_revertsOnMalleableSignature() public {
        _caseMalleableSignature(Entry.Grant);
    }

    function test_grant_revertsOnShortSignature() public {
        _caseShortSignature(Entry.Grant);
    }

    function test_grant_revertsBelowThreshold() public {
        _caseBelowThreshold(Entry.Grant);
    }

    function test_grant_revertsOnUnsortedSigners() public {
        _caseUnsortedSigners(Entry.Grant);
    }

    function test_grant_revertsOnDuplicateSigners() public {
        _caseDuplicateSigners(Entry.Grant);
    }

    function test_grant_acceptsAnyTwoOfThreeEnterpriseSigners() public {
        _caseEnterpriseTwoOfThree(Entry.Grant);
    }

    function test_grant_revertsOnForgedSecondEnterpriseSignature() public {
        _caseEnterpriseOneValidOneForged(Entry.Grant);
    }

    function test_grant_acceptsErc1271Signer() public {
        _caseErc1271Signer(Entry.Grant);
    }

    function test_grant_revertsOnErc1271Rejection() public {
        _caseErc1271WrongOwner(Entry.Grant);
    }

    // ---------------------------------------------------------------- grantBatch

    function test_grantBatch_revertsOnExpiredDeadline() public {
        _caseExpiredDeadline(Entry.Batch);
    }

    function test_grantBatch_revertsOnWrongKey() public {
        _caseWrongKey(Entry.Batch);
    }

    function test_grantBatch_revertsOnUnboundSigner() public {
        _caseUnboundSigner(Entry.Batch);
    }

    function test_grantBatch_revertsOnUsedNonce() public {
        _caseUsedNonce(Entry.Batch);
    }

    function test_grantBatch_revertsOnReplayedSignature() public {
        _caseReplayedSignature(Entry.Batch);
    }

    function test_grantBatch_revertsOnSignatureOfOtherConsent() public {
        _caseSignatureOfOtherConsent(Entry.Batch);
    }

    function test_grantBatch_revertsOnMalleableSignature() public {
        _caseMalleableSignature(Entry.Batch);
    }

    function test_grantBatch_revertsOnShortSignature() public {
        _caseShortSignature(Entry.Batch);
    }

    function test_grantBatch_revertsBelowThreshold() public {
        _caseBelowThreshold(Entry.Batch);
    }

    function test_grantBatch_revertsOnUnsortedSigners() public {
        _caseUnsortedSigners(Entry.Batch);
    }

    function test_grantBatch_revertsOnDuplicateSigners() public {
        _caseDuplicateSigners(Entry.Batch);
    }

    function test_grantBatch_acceptsTwoOfThreeEnterpriseSigners() public {
        _caseEnterpriseTwoOfThree(Entry.Batch);
    }

    function test_grantBatch_revertsOnForgedSecondEnterpriseSignature() public {
        _caseEnterpriseOneValidOneForged(Entry.Batch);
    }

    function test_grantBatch_acceptsErc1271Signer() public {
        _caseErc1271Signer(Entry.Batch);
    }

    function test_grantBatch_revertsOnErc1271Rejection() public {
        _caseErc1271WrongOwner(Entry.Batch);
    }

    // ================================================================ revokeWithSig

    function _signedRevoke(bytes32 subject, uint256 key, uint256 nonce)
        private
        returns (bytes32 id, IConsents.Revoke memory r, bytes memory signature)
    {
        if (subject == ACME) id = _grant(_consent(ACME, 0), _keys(ACME1_KEY, ACME2_KEY));
        else if (subject == WALLET_SUBJECT) id = _grantWallet();
        else (id,) = _grantAlice(0);
        r = _revocation(id, subject, nonce);
        signature = _sign(key, consents.hashRevoke(r));
    }

    function _grantWallet() private returns (bytes32) {
        IConsents.Consent memory c = _consent(WALLET_SUBJECT, 0);
        (address[] memory signers, bytes[] memory signatures) =
            _one(address(wallet), _sign(WALLET_OWNER_KEY, consents.hashConsent(c)));
        return consents.grant(c, signers, signatures);
    }

    function test_revokeWithSig_revertsOnExpiredDeadline() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 1);
        vm.warp(r.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsSignatureExpired.selector, r.deadline));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnWrongKey() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, MALLORY_KEY, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnUnboundSigner() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, MALLORY_KEY, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, mallory));
        consents.revokeWithSig(r, mallory, signature);
    }

    function test_revokeWithSig_revertsOnNonceUsedByGrant() public {
        // Nonce 0 was used by the grant itself: nonces are shared across Consent and Revoke.
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 0));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnReplayedSignature() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 1);
        consents.revokeWithSig(r, alice, signature);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 1));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnSignatureOfOtherRevocation() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 1);
        r.nonce = 2;
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice));
        consents.revokeWithSig(r, alice, signature);
    }

    function test_revokeWithSig_revertsOnMalleableSignature() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice));
        consents.revokeWithSig(r, alice, _malleate(signature));
    }

    function test_revokeWithSig_revertsOnInvalidatedNonce() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ALICE, ALICE_KEY, 1);
        vm.prank(alice);
        consents.invalidateNonces(ALICE, 0, 0x02);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNonceAlreadyUsed.selector, ALICE, 1));
        consents.revokeWithSig(r, alice, signature);
    }

    /// @dev Revocation has no threshold: one enterprise signer is enough (it only reduces access).
    function test_revokeWithSig_acceptsSingleEnterpriseSigner() public {
        (bytes32 id, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(ACME, ACME3_KEY, 1);
        vm.expectEmit(address(consents));
        emit IConsents.ConsentRevoked(id, ACME, acme3);
        consents.revokeWithSig(r, acme3, signature);
    }

    function test_revokeWithSig_acceptsErc1271Signer() public {
        (bytes32 id, IConsents.Revoke memory r, bytes memory signature) =
            _signedRevoke(WALLET_SUBJECT, WALLET_OWNER_KEY, 1);
        consents.revokeWithSig(r, address(wallet), signature);
        (IConsents.ConsentStatus status,,) = consents.consentRecord(id);
        assertEq(uint8(status), uint8(IConsents.ConsentStatus.REVOKED));
    }

    function test_revokeWithSig_revertsOnErc1271Rejection() public {
        (, IConsents.Revoke memory r, bytes memory signature) = _signedRevoke(WALLET_SUBJECT, MALLORY_KEY, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, address(wallet)));
        consents.revokeWithSig(r, address(wallet), signature);
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev No key other than a bound signer's produces an accepted signature.
    function testFuzz_grant_rejectsForeignKeys(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != ALICE_KEY);
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _one(alice, _sign(key, consents.hashConsent(c)));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsInvalidSignature.selector, alice));
        consents.grant(c, signers, signatures);
    }

    function testFuzz_grant_rejectsExpiredDeadlines(uint64 lateBy) public {
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        vm.warp(uint256(c.deadline) + bound(lateBy, 1, 365 days));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsSignatureExpired.selector, c.deadline));
        consents.grant(c, signers, signatures);
    }
}
