// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditAnchor} from "./interfaces/IAuditAnchor.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title AuditAnchor
 * @notice Hash-chained anchors of the audit log's tree heads, and the record of emergency accesses.
 * @dev Only the latest head is stored (size and count share one slot); the full history is in the
 * {TreeHeadAnchored} events and can be re-verified through the hash chain.
 *
 * Growth per anchor is bounded rather than proven. A consistency proof from the previous head would not
 * stop the attack it is meant for: the anchorer can always fabricate a "consistent" extension to any size,
 * since the new leaves are its own. A bound makes exhausting the uint64 size space take
 * 2^64 / maxTreeSizeStep anchors (2^44 with the deployed 2^20), and caps how far past the real log one
 * bad anchor can jump (the verifier reports such an anchor as covering missing entries).
 */
contract AuditAnchor is IAuditAnchor, ParticipantsGuarded {
    struct Head {
        uint64 treeSize;
        uint192 index;
    }

    uint64 private immutable _maxTreeSizeStep;
    Head private _head;
    bytes32 private _rootHash;
    bytes32 private _anchorHash;

    /**
     * @param participants_ The roles registry.
     * @param maxTreeSizeStep_ Largest growth of the tree size per anchor. Size it far above the entries the
     * log can gain between two anchors (the anchorer anchors every second; a backlog after an outage is
     * anchored in several steps); it must not be zero.
     */
    constructor(IParticipants participants_, uint64 maxTreeSizeStep_) ParticipantsGuarded(participants_) {
        if (maxTreeSizeStep_ == 0) revert AuditAnchorInvalidMaxStep(maxTreeSizeStep_);
        _maxTreeSizeStep = maxTreeSizeStep_;
    }

    /// @inheritdoc IAuditAnchor
    function anchor(uint64 treeSize, bytes32 rootHash) external onlyRole(Roles.ANCHORER) {
        Head memory head = _head;
        if (treeSize <= head.treeSize) revert AuditAnchorTreeSizeNotIncreasing(head.treeSize, treeSize);
        if (treeSize - head.treeSize > _maxTreeSizeStep) {
            revert AuditAnchorTreeSizeStepTooLarge(head.treeSize, treeSize, _maxTreeSizeStep);
        }
        bytes32 previousAnchorHash = _anchorHash;
        bytes32 anchorHash = keccak256(abi.encode(previousAnchorHash, treeSize, rootHash));
        uint192 index = head.index + 1;

        _head = Head({treeSize: treeSize, index: index});
        _rootHash = rootHash;
        _anchorHash = anchorHash;
        emit TreeHeadAnchored(index, treeSize, rootHash, previousAnchorHash, anchorHash);
    }

    /// @inheritdoc IAuditAnchor
    function recordEmergencyAccess(bytes32 subject, bytes32 resourceId, bytes32 reasonHash)
        external
        onlyRole(Roles.EMERGENCY)
    {
        emit EmergencyAccessRecorded(msg.sender, subject, resourceId, reasonHash);
    }

    /// @inheritdoc IAuditAnchor
    function maxTreeSizeStep() external view returns (uint64) {
        return _maxTreeSizeStep;
    }

    /// @inheritdoc IAuditAnchor
    function latest() external view returns (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) {
        Head memory head = _head;
        return (head.index, head.treeSize, _rootHash, _anchorHash);
    }
}
