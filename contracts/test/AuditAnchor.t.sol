// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AuditAnchor} from "../src/AuditAnchor.sol";
import {IAuditAnchor} from "../src/interfaces/IAuditAnchor.sol";
import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
import {Fixture} from "./utils/Fixture.sol";

contract AuditAnchorTest is Fixture {
    function _link(bytes32 previous, uint64 treeSize, bytes32 rootHash) private pure returns (bytes32) {
        return keccak256(abi.encode(previous, treeSize, rootHash));
    }

    function test_latest_isEmptyBeforeFirstAnchor() public view {
        (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) = auditAnchor.latest();
        assertEq(index, 0);
        assertEq(treeSize, 0);
        assertEq(rootHash, bytes32(0));
        assertEq(anchorHash, bytes32(0));
        assertEq(address(auditAnchor.participants()), address(participants));
    }

    function test_anchor_chainsTreeHeads() public {
        bytes32 first = _link(bytes32(0), 10, keccak256("r1"));
        vm.expectEmit(address(auditAnchor));
        emit IAuditAnchor.TreeHeadAnchored(1, 10, keccak256("r1"), bytes32(0), first);
        vm.prank(anchorer);
        auditAnchor.anchor(10, keccak256("r1"));

        bytes32 second = _link(first, 25, keccak256("r2"));
        vm.expectEmit(address(auditAnchor));
        emit IAuditAnchor.TreeHeadAnchored(2, 25, keccak256("r2"), first, second);
        vm.prank(anchorer);
        auditAnchor.anchor(25, keccak256("r2"));

        (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) = auditAnchor.latest();
        assertEq(index, 2);
        assertEq(treeSize, 25);
        assertEq(rootHash, keccak256("r2"));
        assertEq(anchorHash, second);
    }

    function test_anchor_revertsWhenNotAnchorer() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantsGuarded.ParticipantsUnauthorized.selector, admin, ANCHORER_ROLE)
        );
        vm.prank(admin);
        auditAnchor.anchor(10, keccak256("r1"));
    }

    function test_anchor_revertsOnZeroTreeSize() public {
        vm.expectRevert(abi.encodeWithSelector(IAuditAnchor.AuditAnchorTreeSizeNotIncreasing.selector, 0, 0));
        vm.prank(anchorer);
        auditAnchor.anchor(0, keccak256("r0"));
    }

    function test_anchor_revertsOnSameTreeSize() public {
        vm.startPrank(anchorer);
        auditAnchor.anchor(10, keccak256("r1"));
        vm.expectRevert(abi.encodeWithSelector(IAuditAnchor.AuditAnchorTreeSizeNotIncreasing.selector, 10, 10));
        auditAnchor.anchor(10, keccak256("r1-forked"));
        vm.stopPrank();
    }

    function test_anchor_revertsOnSmallerTreeSize() public {
        vm.startPrank(anchorer);
        auditAnchor.anchor(10, keccak256("r1"));
        vm.expectRevert(abi.encodeWithSelector(IAuditAnchor.AuditAnchorTreeSizeNotIncreasing.selector, 10, 9));
        auditAnchor.anchor(9, keccak256("r0"));
        vm.stopPrank();
    }

    function test_anchor_revertsAfterAnchorerRoleRevoked() public {
        vm.prank(admin);
        participants.revokeRole(ANCHORER_ROLE, anchorer);
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantsGuarded.ParticipantsUnauthorized.selector, anchorer, ANCHORER_ROLE)
        );
        vm.prank(anchorer);
        auditAnchor.anchor(10, keccak256("r1"));
    }

    function test_anchor_acceptsGrowthOfExactlyTheStep() public {
        vm.startPrank(anchorer);
        auditAnchor.anchor(MAX_TREE_SIZE_STEP, keccak256("r1"));
        auditAnchor.anchor(2 * MAX_TREE_SIZE_STEP, keccak256("r2"));
        vm.stopPrank();
        (, uint64 treeSize,,) = auditAnchor.latest();
        assertEq(treeSize, 2 * MAX_TREE_SIZE_STEP);
    }

    function test_anchor_revertsOnMaxTreeSize() public {
        vm.startPrank(anchorer);
        auditAnchor.anchor(10, keccak256("r1"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuditAnchor.AuditAnchorTreeSizeStepTooLarge.selector, 10, type(uint64).max, MAX_TREE_SIZE_STEP
            )
        );
        auditAnchor.anchor(type(uint64).max, keccak256("brick"));
        // Anchoring goes on.
        auditAnchor.anchor(11, keccak256("r2"));
        vm.stopPrank();
        (uint256 index, uint64 treeSize,,) = auditAnchor.latest();
        assertEq(index, 2);
        assertEq(treeSize, 11);
    }

    function test_anchor_revertsOnFirstAnchorBeyondStep() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuditAnchor.AuditAnchorTreeSizeStepTooLarge.selector, 0, MAX_TREE_SIZE_STEP + 1, MAX_TREE_SIZE_STEP
            )
        );
        vm.prank(anchorer);
        auditAnchor.anchor(MAX_TREE_SIZE_STEP + 1, keccak256("r1"));
    }

    function test_maxTreeSizeStep_isTheConstructorValue() public {
        assertEq(auditAnchor.maxTreeSizeStep(), MAX_TREE_SIZE_STEP);
        assertEq(new AuditAnchor(participants, 1).maxTreeSizeStep(), 1);
    }

    function test_constructor_revertsOnZeroStep() public {
        vm.expectRevert(abi.encodeWithSelector(IAuditAnchor.AuditAnchorInvalidMaxStep.selector, 0));
        new AuditAnchor(participants, 0);
    }

    function test_recordEmergencyAccess_emitsRecord() public {
        vm.expectEmit(address(auditAnchor));
        emit IAuditAnchor.EmergencyAccessRecorded(emergency, ALICE, RES_PENSION, keccak256("ambulance"));
        vm.prank(emergency);
        auditAnchor.recordEmergencyAccess(ALICE, RES_PENSION, keccak256("ambulance"));
    }

    function test_recordEmergencyAccess_revertsWhenNotEmergencyRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IParticipantsGuarded.ParticipantsUnauthorized.selector, provider, EMERGENCY_ROLE)
        );
        vm.prank(provider);
        auditAnchor.recordEmergencyAccess(ALICE, RES_PENSION, keccak256("curiosity"));
    }

    function testFuzz_anchor_acceptsOnlyGrowingSizesWithinTheStep(uint64 first, uint64 second, bytes32 r1, bytes32 r2)
        public
    {
        first = uint64(bound(first, 1, MAX_TREE_SIZE_STEP));
        vm.startPrank(anchorer);
        auditAnchor.anchor(first, r1);
        bool accepted = second > first && second - first <= MAX_TREE_SIZE_STEP;
        if (second <= first) {
            vm.expectRevert(
                abi.encodeWithSelector(IAuditAnchor.AuditAnchorTreeSizeNotIncreasing.selector, first, second)
            );
        } else if (!accepted) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAuditAnchor.AuditAnchorTreeSizeStepTooLarge.selector, first, second, MAX_TREE_SIZE_STEP
                )
            );
        }
        auditAnchor.anchor(second, r2);
        vm.stopPrank();

        (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) = auditAnchor.latest();
        bytes32 link = _link(bytes32(0), first, r1);
        if (accepted) {
            assertEq(index, 2);
            assertEq(treeSize, second);
            assertEq(rootHash, r2);
            assertEq(anchorHash, _link(link, second, r2));
        } else {
            assertEq(index, 1);
            assertEq(treeSize, first);
            assertEq(rootHash, r1);
            assertEq(anchorHash, link);
        }
    }
}
