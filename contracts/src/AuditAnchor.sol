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
 */
contract AuditAnchor is IAuditAnchor, ParticipantsGuarded {
    struct Head {
        uint64 treeSize;
        uint192 index;
    }

    Head private _head;
    bytes32 private _rootHash;
    bytes32 private _anchorHash;

    constructor(IParticipants participants_) ParticipantsGuarded(participants_) {}

    /// @inheritdoc IAuditAnchor
    function anchor(uint64 treeSize, bytes32 rootHash) external onlyRole(Roles.ANCHORER) {
        Head memory head = _head;
        if (treeSize <= head.treeSize) revert AuditAnchorTreeSizeNotIncreasing(head.treeSize, treeSize);
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
    function latest() external view returns (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) {
        Head memory head = _head;
        return (head.index, head.treeSize, _rootHash, _anchorHash);
    }
}
