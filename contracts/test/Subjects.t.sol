// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
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

    // ---------------------------------------------------------------- bindSigner

    function test_bindSigner_addsSigner() public {
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(ALICE, mallory);
        vm.prank(attester);
        subjects.bindSigner(ALICE, mallory);
        assertTrue(subjects.isSigner(ALICE, mallory));
        assertEq(subjects.signerCount(ALICE), 2);
    }

    function test_bindSigner_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(alice));
        vm.prank(alice);
        subjects.bindSigner(ALICE, mallory);
    }

    function test_bindSigner_revertsOnUnknownSubject() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsUnknown.selector, NOBODY));
        vm.prank(attester);
        subjects.bindSigner(NOBODY, mallory);
    }

    function test_bindSigner_revertsOnZeroSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsZeroSigner.selector));
        vm.prank(attester);
        subjects.bindSigner(ALICE, address(0));
    }

    function test_bindSigner_revertsOnBoundSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsDuplicateSigner.selector, alice));
        vm.prank(attester);
        subjects.bindSigner(ALICE, alice);
    }

    function test_bindSigner_revertsBeyondSixteen() public {
        vm.startPrank(attester);
        subjects.register(NEW, ENTERPRISE, _many(16), 1);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsTooManySigners.selector, 17));
        subjects.bindSigner(NEW, mallory);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- unbindSigner

    function test_unbindSigner_removesAndKeepsOthers() public {
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerUnbound(ACME, acme1);
        vm.prank(attester);
        subjects.unbindSigner(ACME, acme1);
        assertFalse(subjects.isSigner(ACME, acme1));
        assertTrue(subjects.isSigner(ACME, acme2));
        assertTrue(subjects.isSigner(ACME, acme3));
        assertEq(subjects.signerCount(ACME), 2);
        // The last signer took the freed place.
        address[] memory expected = new address[](2);
        (expected[0], expected[1]) = (acme3, acme2);
        assertEq(subjects.signersOf(ACME), expected);
    }

    function test_unbindSigner_revertsBelowThreshold() public {
        vm.startPrank(attester);
        subjects.unbindSigner(ACME, acme3);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 2, 1));
        subjects.unbindSigner(ACME, acme2);
        vm.stopPrank();
    }

    function test_unbindSigner_revertsOnLastPersonSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 1, 0));
        vm.prank(attester);
        subjects.unbindSigner(ALICE, alice);
    }

    function test_unbindSigner_revertsOnNotSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotSigner.selector, ACME, alice));
        vm.prank(attester);
        subjects.unbindSigner(ACME, alice);
    }

    function test_unbindSigner_revertsOnUnknownSubject() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsUnknown.selector, NOBODY));
        vm.prank(attester);
        subjects.unbindSigner(NOBODY, alice);
    }

    function test_unbindSigner_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(acme1));
        vm.prank(acme1);
        subjects.unbindSigner(ACME, acme2);
    }

    // ---------------------------------------------------------------- rotateSigner

    function test_rotateSigner_replacesSigner() public {
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerUnbound(ALICE, alice);
        vm.expectEmit(address(subjects));
        emit ISubjects.SignerBound(ALICE, mallory);
        vm.prank(attester);
        subjects.rotateSigner(ALICE, alice, mallory);
        assertFalse(subjects.isSigner(ALICE, alice));
        assertTrue(subjects.isSigner(ALICE, mallory));
        assertEq(subjects.signerCount(ALICE), 1);
        assertEq(subjects.thresholdOf(ALICE), 1);
    }

    function test_rotateSigner_revertsOnNotSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsNotSigner.selector, ALICE, bob));
        vm.prank(attester);
        subjects.rotateSigner(ALICE, bob, mallory);
    }

    function test_rotateSigner_revertsOnBoundNewSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsDuplicateSigner.selector, acme2));
        vm.prank(attester);
        subjects.rotateSigner(ACME, acme1, acme2);
    }

    function test_rotateSigner_revertsOnZeroNewSigner() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsZeroSigner.selector));
        vm.prank(attester);
        subjects.rotateSigner(ALICE, alice, address(0));
    }

    function test_rotateSigner_revertsOnUnknownSubject() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsUnknown.selector, NOBODY));
        vm.prank(attester);
        subjects.rotateSigner(NOBODY, alice, mallory);
    }

    function test_rotateSigner_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(alice));
        vm.prank(alice);
        subjects.rotateSigner(ALICE, alice, mallory);
    }

    // ---------------------------------------------------------------- setThreshold

    function test_setThreshold_changesThreshold() public {
        vm.expectEmit(address(subjects));
        emit ISubjects.ThresholdChanged(ACME, 3);
        vm.prank(attester);
        subjects.setThreshold(ACME, 3);
        assertEq(subjects.thresholdOf(ACME), 3);
    }

    function test_setThreshold_isIdempotentWithoutEvent() public {
        vm.recordLogs();
        vm.prank(attester);
        subjects.setThreshold(ACME, 2);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_setThreshold_revertsAboveSignerCount() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 4, 3));
        vm.prank(attester);
        subjects.setThreshold(ACME, 4);
    }

    function test_setThreshold_revertsOnZero() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 0, 3));
        vm.prank(attester);
        subjects.setThreshold(ACME, 0);
    }

    function test_setThreshold_revertsOnPersonAboveOne() public {
        vm.prank(attester);
        subjects.bindSigner(ALICE, mallory);
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsInvalidThreshold.selector, 2, 2));
        vm.prank(attester);
        subjects.setThreshold(ALICE, 2);
    }

    function test_setThreshold_revertsOnUnknownSubject() public {
        vm.expectRevert(abi.encodeWithSelector(ISubjects.SubjectsUnknown.selector, NOBODY));
        vm.prank(attester);
        subjects.setThreshold(NOBODY, 1);
    }

    function test_setThreshold_revertsWhenNotAttester() public {
        vm.expectRevert(_unauthorized(stranger));
        vm.prank(stranger);
        subjects.setThreshold(ACME, 1);
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

    /// @dev Random bind/unbind sequences keep the array and the position index consistent.
    function testFuzz_bindUnbind_keepsSignerSetConsistent(uint256 seed, uint8 steps) public {
        steps = uint8(bound(steps, 1, 40));
        vm.startPrank(attester);
        subjects.register(NEW, ENTERPRISE, _addresses(address(0x1000)), 1);
        bool[8] memory bound_;
        bound_[0] = true;
        uint256 count = 1;
        for (uint256 i; i < steps; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            uint256 pick = seed % 8;
            address signer = address(uint160(0x1000 + pick));
            if (bound_[pick] && count > 1) {
                subjects.unbindSigner(NEW, signer);
                bound_[pick] = false;
                --count;
            } else if (!bound_[pick]) {
                subjects.bindSigner(NEW, signer);
                bound_[pick] = true;
                ++count;
            }
        }
        vm.stopPrank();
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
