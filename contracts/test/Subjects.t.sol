// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsents} from "../src/interfaces/IConsents.sol";
import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
import {Subjects} from "../src/Subjects.sol";
import {ISubjects} from "../src/interfaces/ISubjects.sol";
import {Fixture} from "./utils/Fixture.sol";

contract SubjectsTest is Fixture {
    bytes32 private constant NEW = keccak256("subject:new");
    ISubjects.SubjectKind private constant PERSON = ISubjects.SubjectKind.PERSON;
    ISubjects.SubjectKind private constant ENTERPRISE = ISubjects.SubjectKind.ENTERPRISE;

    function _unauthorized(address account) private view returns (bytes memory) {
        return abi.encodeWithSelector(
            IParticipantsGuarded.ParticipantsUnauthorized.selector, account, IDENTITY_ATTESTER_ROLE
        );
    }

    function _many(uint256 n) private pure returns (address[] memory list) {
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = address(uint160(0x1000 + i));
        }
    }

    // ---------------------------------------------------------------- register

    function test_register_storesSubjectAndSigners() public {
        vm.expectEmit(address(subjects));
        emit ISubjects.SubjectRegistered(NEW, ENTERPRISE, 2);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(NEW, alice);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(NEW, bob);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(NEW, mallory);
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(alice, bob, mallory), 2);

        assertEq(uint8(subjects.kindOf(NEW)), uint8(ENTERPRISE));
        assertEq(subjects.thresholdOf(NEW), 2);
        assertEq(subjects.signerCount(NEW), 3);
        assertTrue(subjects.isSigner(NEW, bob));
        assertFalse(subjects.isSigner(NEW, stranger));
        assertEq(subjects.signersOf(NEW), _addresses(alice, bob, mallory));
    }

    function test_register_acceptsSixteenSigners() public {
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _many(16), 16);
        assertEq(subjects.signerCount(NEW), 16);
        assertEq(subjects.MAX_SIGNERS(), 16);
    }

    function test_register_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(admin));
        vm.prank(admin);
        subjects.register(NEW, PERSON, _addresses(alice), 1);
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsAlreadyRegistered.selector, ALICE));
        vm.prank(attester);
        subjects.register(ALICE, PERSON, _addresses(bob), 1);
    }

    function test_register_revertsOnKindNone() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidKind.selector));
        vm.prank(attester);
        subjects.register(NEW, ISubjects.SubjectKind.NONE, _addresses(alice), 1);
    }

    function test_register_revertsOnTooManySigners() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsTooManySigners.selector, 17));
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _many(17), 2);
    }

    function test_register_revertsOnZeroThreshold() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 0, 1));
        vm.prank(attester);
        subjects.register(NEW, PERSON, _addresses(alice), 0);
    }

    function test_register_revertsOnThresholdAboveSignerCount() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 4, 3));
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(alice, bob, mallory), 4);
    }

    function test_register_revertsOnPersonThresholdAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 2, 3));
        vm.prank(attester);
        subjects.register(NEW, PERSON, _addresses(alice, bob, mallory), 2);
    }

    function test_register_revertsOnNoSigners() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 1, 0));
        vm.prank(attester);
        subjects.register(NEW, PERSON, new address[](0), 1);
    }

    function test_register_revertsOnZeroSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsZeroSigner.selector));
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(alice, address(0), bob), 1);
    }

    function test_register_revertsOnDuplicateSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsDuplicateSigner.selector, alice));
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(alice, bob, alice), 1);
    }

    // ---------------------------------------------------------------- register with m-of-n attestations

    function _twoAttesters() private returns (Subjects twoOfN, address second) {
        twoOfN = new Subjects(participants, NOTICE, 2);
        second = vm.addr(_key("attester-2"));
        vm.prank(attester);
        participants.grantRole(IDENTITY_ATTESTER_ROLE, second);
    }

    function test_register_waitsForTheRequiredAttestations() public {
        (Subjects twoOfN, address second) = _twoAttesters();
        address[] memory signers = _addresses(alice);
        bytes32 registrationHash = keccak256(abi.encode(NEW, PERSON, signers, uint8(1)));
        vm.expectEmit(address(twoOfN));
        emit ISubjects.RegistrationAttested(NEW, registrationHash, attester, 1);
        vm.prank(attester);
        twoOfN.register(NEW, PERSON, signers, 1);
        assertEq(uint8(twoOfN.kindOf(NEW)), uint8(ISubjects.SubjectKind.NONE));

        vm.expectEmit(address(twoOfN));
        emit ISubjects.RegistrationAttested(NEW, registrationHash, second, 2);
        vm.expectEmit(address(twoOfN));
        emit ISubjects.SubjectRegistered(NEW, PERSON, 1);
        vm.prank(second);
        twoOfN.register(NEW, PERSON, signers, 1);
        assertTrue(twoOfN.isSigner(NEW, alice));
        assertEq(twoOfN.requiredAttestations(), 2);
    }

    function test_register_revertsOnRepeatedAttestation() public {
        (Subjects twoOfN,) = _twoAttesters();
        vm.prank(attester);
        twoOfN.register(NEW, PERSON, _addresses(alice), 1);
        bytes32 registrationHash = keccak256(abi.encode(NEW, PERSON, _addresses(alice), uint8(1)));
        vm.expectRevert(
            abi.encodeWithSelector(ISubjects.SubjectsAlreadyAttested.selector, registrationHash, attester)
        );
        vm.prank(attester);
        twoOfN.register(NEW, PERSON, _addresses(alice), 1);
    }

    function test_register_countsOnlyIdenticalAttestations() public {
        (Subjects twoOfN, address second) = _twoAttesters();
        vm.prank(attester);
        twoOfN.register(NEW, PERSON, _addresses(alice), 1);
        vm.prank(second);
        twoOfN.register(NEW, PERSON, _addresses(mallory), 1);
        assertEq(uint8(twoOfN.kindOf(NEW)), uint8(ISubjects.SubjectKind.NONE));
    }

    function test_constructor_revertsOnZeroAttestations() public {
        vm.expectRevert(ISubjects.SubjectsInvalidAttestationCount.selector);
        new Subjects(participants, NOTICE, 0);
    }

    // ---------------------------------------------------------------- proposeSignerChange

    function test_proposeSignerChange_recordsPendingChangeOnly() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes32 expectedId = subjects.hashSignerChange(change);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeProposed(expectedId, ALICE, change.add, change.remove, 1, 0, START + NOTICE, attester);
        vm.prank(attester);
        (bytes32 changeId, uint64 effectiveAt) = subjects.proposeSignerChange(ALICE, change.add, change.remove, 1);

        assertEq(changeId, expectedId);
        assertEq(effectiveAt, START + NOTICE);
        (bytes32 subjectId, ISubjects.SignerChangeStatus status, uint64 due) = subjects.signerChange(changeId);
        assertEq(subjectId, ALICE);
        assertEq(uint8(status), uint8(ISubjects.SignerChangeStatus.PENDING));
        assertEq(due, START + NOTICE);
        assertEq(subjects.signerChangeNonce(ALICE), 1);
        assertFalse(subjects.isSigner(ALICE, mallory));
        assertEq(subjects.noticePeriod(), NOTICE);
    }

    function test_proposeSignerChange_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(admin));
        vm.prank(admin);
        subjects.proposeSignerChange(ALICE, _addresses(mallory), _none(), 1);
    }

    function test_proposeSignerChange_revertsOnUnknownSubject() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsUnknown.selector, NOBODY));
        vm.prank(attester);
        subjects.proposeSignerChange(NOBODY, _addresses(mallory), _none(), 1);
    }

    function test_proposeSignerChange_revertsOnEmptyChange() public {
        vm.expectRevert(ISubjects.SubjectsEmptyChange.selector);
        vm.prank(attester);
        subjects.proposeSignerChange(ACME, _none(), _none(), 2);
    }

    function test_proposeSignerChange_revertsOnZeroSigner() public {
        vm.expectRevert(ISubjects.SubjectsZeroSigner.selector);
        vm.prank(attester);
        subjects.proposeSignerChange(ACME, _addresses(address(0)), _none(), 2);
    }

    function test_proposeSignerChange_revertsOnUnsortedSigners() public {
        address[] memory add = new address[](2);
        (add[0], add[1]) = (address(0x2000), address(0x1000));
        vm.expectRevert(ISubjects.SubjectsSignersNotSorted.selector);
        vm.prank(attester);
        subjects.proposeSignerChange(ACME, add, _none(), 2);
    }

    function test_proposeSignerChange_revertsOnBoundSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsDuplicateSigner.selector, alice));
        vm.prank(attester);
        subjects.proposeSignerChange(ALICE, _addresses(alice), _none(), 1);
    }

    function test_proposeSignerChange_revertsOnRemovingNonSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotSigner.selector, ALICE, bob));
        vm.prank(attester);
        subjects.proposeSignerChange(ALICE, _addresses(mallory), _addresses(bob), 1);
    }

    function test_proposeSignerChange_revertsBeyondSixteen() public {
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _many(16), 1);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsTooManySigners.selector, 17));
        vm.prank(attester);
        subjects.proposeSignerChange(NEW, _addresses(mallory), _none(), 1);
    }

    function test_proposeSignerChange_revertsBelowThreshold() public {
        address[] memory remove = new address[](2);
        (remove[0], remove[1]) = acme1 < acme2 ? (acme1, acme2) : (acme2, acme1);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 2, 1));
        vm.prank(attester);
        subjects.proposeSignerChange(ACME, _none(), remove, 2);
    }

    function test_proposeSignerChange_revertsOnPersonAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 2, 2));
        vm.prank(attester);
        subjects.proposeSignerChange(ALICE, _addresses(mallory), _none(), 2);
    }

    // ---------------------------------------------------------------- applySignerChange

    function test_applySignerChange_rotatesAfterNotice() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _addresses(alice), 1);
        bytes32 changeId = _propose(change);
        vm.warp(START + NOTICE);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeApplied(changeId, ALICE, false);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerUnbound(ALICE, alice);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(ALICE, mallory);
        vm.prank(stranger);
        subjects.applySignerChange(change);

        assertFalse(subjects.isSigner(ALICE, alice));
        assertTrue(subjects.isSigner(ALICE, mallory));
        assertEq(subjects.signersOf(ALICE), _addresses(mallory));
        (, ISubjects.SignerChangeStatus status,) = subjects.signerChange(changeId);
        assertEq(uint8(status), uint8(ISubjects.SignerChangeStatus.APPLIED));
    }

    function test_applySignerChange_changesThreshold() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _none(), _none(), 3);
        _propose(change);
        vm.warp(START + NOTICE);
        vm.expectEmit(address(subjects));
        emit ISubjects.ThresholdChanged(ACME, 3);
        subjects.applySignerChange(change);
        assertEq(subjects.thresholdOf(ACME), 3);
    }

    function test_applySignerChange_revertsBeforeNotice(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, NOTICE - 1);
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes32 changeId = _propose(change);
        vm.warp(START + elapsed);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotDue.selector, changeId, START + NOTICE));
        subjects.applySignerChange(change);
    }

    function test_applySignerChange_revertsWhenCancelled() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes32 changeId = _propose(change);
        vm.prank(alice);
        subjects.cancelSignerChange(changeId);
        vm.warp(START + NOTICE);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        subjects.applySignerChange(change);
    }

    function test_applySignerChange_revertsWhenApplied() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes32 changeId = _changeSigners(change);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        subjects.applySignerChange(change);
    }

    function test_applySignerChange_revertsOnAlteredChange() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        _propose(change);
        vm.warp(START + NOTICE);
        change.add = _addresses(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, subjects.hashSignerChange(change))
        );
        subjects.applySignerChange(change);
    }

    function test_applySignerChange_rechecksCurrentSigners() public {
        ISubjects.SignerChange memory first = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        _propose(first);
        ISubjects.SignerChange memory second = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        _propose(second);
        vm.warp(START + NOTICE);
        subjects.applySignerChange(first);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsDuplicateSigner.selector, mallory));
        subjects.applySignerChange(second);
    }

    // ---------------------------------------------------------------- approveSignerChange

    function test_approveSignerChange_appliesPendingChangeAtOnce() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _addresses(mallory), _addresses(acme3), 2);
        bytes32 changeId = _propose(change);
        (address[] memory signers, bytes[] memory signatures) = _signSorted(changeId, _keys(ACME1_KEY, ACME2_KEY));
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeApplied(changeId, ACME, true);
        vm.prank(relayer);
        assertEq(subjects.approveSignerChange(change, signers, signatures), changeId);
        assertTrue(subjects.isSigner(ACME, mallory));
        assertFalse(subjects.isSigner(ACME, acme3));
    }

    function test_approveSignerChange_appliesSignersOwnChange() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _addresses(alice), 1);
        bytes32 changeId = subjects.hashSignerChange(change);
        (address[] memory signers, bytes[] memory signatures) = _signSorted(changeId, _keys(ALICE_KEY));
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeProposed(changeId, ALICE, change.add, change.remove, 1, 0, START, relayer);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeApplied(changeId, ALICE, true);
        vm.prank(relayer);
        subjects.approveSignerChange(change, signers, signatures);
        assertEq(subjects.signersOf(ALICE), _addresses(mallory));
        assertEq(subjects.signerChangeNonce(ALICE), 1);
        (, ISubjects.SignerChangeStatus status, uint64 effectiveAt) = subjects.signerChange(changeId);
        assertEq(uint8(status), uint8(ISubjects.SignerChangeStatus.APPLIED));
        assertEq(effectiveAt, START);
    }

    function test_approveSignerChange_acceptsERC1271Signer() public {
        ISubjects.SignerChange memory change =
            _signerChange(WALLET_SUBJECT, _addresses(mallory), _addresses(address(wallet)), 1);
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = _sign(WALLET_OWNER_KEY, subjects.hashSignerChange(change));
        subjects.approveSignerChange(change, _addresses(address(wallet)), signatures);
        assertTrue(subjects.isSigner(WALLET_SUBJECT, mallory));
    }

    function test_approveSignerChange_revertsBelowThreshold() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _addresses(mallory), _none(), 2);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(ACME1_KEY));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsBelowThreshold.selector, 1, 2));
        subjects.approveSignerChange(change, signers, signatures);
    }

    function test_approveSignerChange_revertsOnUnsortedSigners() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _addresses(mallory), _none(), 2);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(ACME1_KEY, ACME2_KEY));
        (signers[0], signers[1]) = (signers[1], signers[0]);
        (signatures[0], signatures[1]) = (signatures[1], signatures[0]);
        vm.expectRevert(ISubjects.SubjectsSignersNotSorted.selector);
        subjects.approveSignerChange(change, signers, signatures);
    }

    function test_approveSignerChange_revertsOnNonSigner() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _addresses(alice), 1);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(MALLORY_KEY));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotSigner.selector, ALICE, mallory));
        subjects.approveSignerChange(change, signers, signatures);
    }

    function test_approveSignerChange_revertsOnInvalidSignature() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = _sign(ALICE_KEY, keccak256("something else"));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidSignature.selector, alice));
        subjects.approveSignerChange(change, _addresses(alice), signatures);
    }

    function test_approveSignerChange_revertsOnHighS() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = _malleate(_sign(ALICE_KEY, subjects.hashSignerChange(change)));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidSignature.selector, alice));
        subjects.approveSignerChange(change, _addresses(alice), signatures);
    }

    function test_approveSignerChange_revertsOnLengthMismatch() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        vm.expectRevert(ISubjects.SubjectsLengthMismatch.selector);
        subjects.approveSignerChange(change, _addresses(alice), new bytes[](0));
    }

    function test_approveSignerChange_revertsOnStaleNonce(uint256 nonce) public {
        nonce = bound(nonce, 1, type(uint256).max);
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        change.nonce = nonce;
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(ALICE_KEY));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidChangeNonce.selector, nonce, 0));
        subjects.approveSignerChange(change, signers, signatures);
    }

    function test_approveSignerChange_revertsOnReplay() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _addresses(mallory), _none(), 2);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(ACME1_KEY, ACME2_KEY));
        bytes32 changeId = subjects.approveSignerChange(change, signers, signatures);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        subjects.approveSignerChange(change, signers, signatures);
    }

    function test_approveSignerChange_revertsWhenCancelled() public {
        ISubjects.SignerChange memory change = _signerChange(ACME, _addresses(mallory), _none(), 2);
        bytes32 changeId = _propose(change);
        vm.prank(acme3);
        subjects.cancelSignerChange(changeId);
        (address[] memory signers, bytes[] memory signatures) = _signSorted(changeId, _keys(ACME1_KEY, ACME2_KEY));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        subjects.approveSignerChange(change, signers, signatures);
    }

    // ---------------------------------------------------------------- cancelSignerChange

    function test_cancelSignerChange_bySigner() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeCancelled(changeId, ALICE, alice);
        vm.prank(alice);
        subjects.cancelSignerChange(changeId);
        (, ISubjects.SignerChangeStatus status,) = subjects.signerChange(changeId);
        assertEq(uint8(status), uint8(ISubjects.SignerChangeStatus.CANCELLED));
        assertFalse(subjects.isSigner(ALICE, mallory));
    }

    function test_cancelSignerChange_byAttester() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        vm.prank(attester);
        subjects.cancelSignerChange(changeId);
        (, ISubjects.SignerChangeStatus status,) = subjects.signerChange(changeId);
        assertEq(uint8(status), uint8(ISubjects.SignerChangeStatus.CANCELLED));
    }

    function test_cancelSignerChange_revertsForProposedSigner() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotAllowedToCancel.selector, changeId, mallory));
        vm.prank(mallory);
        subjects.cancelSignerChange(changeId);
    }

    function test_cancelSignerChange_revertsForOtherSubjectsSigner() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotAllowedToCancel.selector, changeId, bob));
        vm.prank(bob);
        subjects.cancelSignerChange(changeId);
    }

    function test_cancelSignerChange_revertsWhenNotPending(bytes32 changeId) public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        vm.prank(alice);
        subjects.cancelSignerChange(changeId);
    }

    // ---------------------------------------------------------------- cancelSignerChangeWithSig

    function test_cancelSignerChangeWithSig_cancelsForSigner() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        bytes memory signature = _sign(ALICE_KEY, subjects.hashCancelSignerChange(changeId));
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerChangeCancelled(changeId, ALICE, alice);
        vm.prank(relayer);
        subjects.cancelSignerChangeWithSig(changeId, alice, signature);
    }

    function test_cancelSignerChangeWithSig_revertsForNonSigner() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        bytes memory signature = _sign(MALLORY_KEY, subjects.hashCancelSignerChange(changeId));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotSigner.selector, ALICE, mallory));
        subjects.cancelSignerChangeWithSig(changeId, mallory, signature);
    }

    function test_cancelSignerChangeWithSig_revertsOnInvalidSignature() public {
        bytes32 changeId = _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        bytes memory signature = _sign(BOB_KEY, subjects.hashCancelSignerChange(changeId));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidSignature.selector, alice));
        subjects.cancelSignerChangeWithSig(changeId, alice, signature);
    }

    function test_cancelSignerChangeWithSig_revertsWhenNotPending() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _none(), 1);
        bytes32 changeId = _changeSigners(change);
        bytes memory signature = _sign(ALICE_KEY, subjects.hashCancelSignerChange(changeId));
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsChangeNotPending.selector, changeId));
        subjects.cancelSignerChangeWithSig(changeId, alice, signature);
    }

    // ---------------------------------------------------------------- consents follow the bound signers

    function test_grant_revertsForPendingSigner() public {
        _propose(_signerChange(ALICE, _addresses(mallory), _none(), 1));
        IConsents.Consent memory c = _consent(ALICE, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(MALLORY_KEY));
        vm.expectRevert(abi.encodeWithSelector(IConsents.ConsentsNotSubjectSigner.selector, ALICE, mallory));
        consents.grant(c, signers, signatures);
    }

    // ---------------------------------------------------------------- views

    function test_views_unknownSubjectIsEmpty() public view {
        assertEq(uint8(subjects.kindOf(NOBODY)), uint8(ISubjects.SubjectKind.NONE));
        assertEq(subjects.thresholdOf(NOBODY), 0);
        assertEq(subjects.signerCount(NOBODY), 0);
        assertEq(subjects.signersOf(NOBODY).length, 0);
        assertFalse(subjects.isSigner(NOBODY, alice));
        assertEq(address(subjects.participants()), address(participants));
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Random signer changes, applied after their notice, keep the array and the position index consistent.
    function testFuzz_signerChanges_keepSignerSetConsistent(uint256 seed, uint8 steps) public {
        steps = uint8(bound(steps, 1, 20));
        vm.prank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(address(0x1000)), 1);
        bool[8] memory bound_;
        bound_[0] = true;
        uint256 count = 1;
        for (uint256 i; i < steps; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint256 pick = seed % 8;
            address[] memory signer = _addresses(address(uint160(0x1000 + pick)));
            if (bound_[pick] && count > 1) {
                _changeSigners(_signerChange(NEW, _none(), signer, 1));
                bound_[pick] = false;
                --count;
            } else if (!bound_[pick]) {
                _changeSigners(_signerChange(NEW, signer, _none(), 1));
                bound_[pick] = true;
                ++count;
            }
        }
        assertEq(subjects.signerCount(NEW), count);
        address[] memory listed = subjects.signersOf(NEW);
        for (uint256 pick; pick < 8; ++pick) {
            address signer = address(uint160(0x1000 + pick));
            assertEq(subjects.isSigner(NEW, signer), bound_[pick]);
            bool found;
            for (uint256 j; j < listed.length; ++j) {
                if (listed[j] == signer) found = true;
            }
            assertEq(found, bound_[pick]);
        }
    }

    function testFuzz_register_thresholdRules(uint8 signerCount, uint8 threshold, bool enterprise) public {
        uint256 n = bound(signerCount, 1, 16);
        ISubjects.SubjectKind kind = enterprise ? ENTERPRISE : PERSON;
        bool valid = threshold >= 1 && threshold <= n && (enterprise || threshold == 1);
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, threshold, n));
        }
        vm.prank(attester);
        subjects.register(NEW, kind, _many(n), threshold);
        if (valid) assertEq(subjects.thresholdOf(NEW), threshold);
    }
}
