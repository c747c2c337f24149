// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";

/**
 * @title IAuditAnchor
 * @notice Anchors signed tree heads of the off-chain, append-only audit log, and records emergency access.
 * @dev Anchors form a hash chain: `anchorHash = keccak256(abi.encode(previousAnchorHash, treeSize, rootHash))`,
 * starting from a zero previous hash. Anchor indexes start at 1; the latest index equals the anchor count.
 * One anchor may grow the tree by at most {maxTreeSizeStep} entries, so no single anchor can exhaust the
 * uint64 size space (a size of 2^64-1 would leave no valid next anchor and stop anchoring for good).
 */
interface IAuditAnchor is IParticipantsGuarded {
    /// @notice The tree size `given` does not exceed the latest anchored size `latest`.
    error AuditAnchorTreeSizeNotIncreasing(uint64 latest, uint64 given);

    /// @notice The tree size `given` exceeds the latest anchored size `latest` by more than `maxStep`.
    error AuditAnchorTreeSizeStepTooLarge(uint64 latest, uint64 given, uint64 maxStep);

    /// @notice The constructor's `maxStep` is zero.
    error AuditAnchorInvalidMaxStep(uint64 maxStep);

    /// @notice Tree head number `index` was anchored.
    event TreeHeadAnchored(
        uint256 indexed index, uint64 treeSize, bytes32 rootHash, bytes32 previousAnchorHash, bytes32 anchorHash
    );

    /// @notice `accessor` used data of `subject` without consent under emergency rules.
    event EmergencyAccessRecorded(
        address indexed accessor, bytes32 indexed subject, bytes32 indexed resourceId, bytes32 reasonHash
    );

    /**
     * @notice Anchors a tree head of the audit log.
     * @dev `ANCHORER_ROLE` only. The tree size must strictly increase, by at most {maxTreeSizeStep}.
     * @param treeSize Number of log entries covered.
     * @param rootHash Merkle root of those entries.
     */
    function anchor(uint64 treeSize, bytes32 rootHash) external;

    /**
     * @notice The largest growth of the tree size one anchor may record.
     * @return The bound, fixed at deployment.
     */
    function maxTreeSizeStep() external view returns (uint64);

    /**
     * @notice The latest anchored tree head.
     * @return index Number of anchors so far (index of the latest one).
     * @return treeSize Latest tree size; 0 before the first anchor.
     * @return rootHash Latest root hash.
     * @return anchorHash Latest link of the anchor hash chain.
     */
    function latest() external view returns (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash);

    /**
     * @notice Records an emergency (break-glass) data access in the chain's event log.
     * @dev `EMERGENCY_ROLE` only; the accessor is the caller.
     * @param subject The data subject.
     * @param resourceId The resource used.
     * @param reasonHash Hash of the written justification.
     */
    function recordEmergencyAccess(bytes32 subject, bytes32 resourceId, bytes32 reasonHash) external;
}
