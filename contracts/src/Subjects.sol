// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipants} from "./interfaces/IParticipants.sol";
import {ISubjects} from "./interfaces/ISubjects.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title Subjects
 * @notice Registry of data subjects and their signers, maintained by identity attesters.
 * @dev Signers live in a bounded array (<= 16) with a 1-based position index, so binding, unbinding and
 * membership tests are O(1).
 */
contract Subjects is ISubjects, ParticipantsGuarded {
    struct SubjectRecord {
        SubjectKind kind;
        uint8 threshold;
    }

    /// @inheritdoc ISubjects
    uint256 public constant MAX_SIGNERS = 16;

    mapping(bytes32 subjectId => SubjectRecord) private _subjects;
    mapping(bytes32 subjectId => address[]) private _signers;
    mapping(bytes32 subjectId => mapping(address signer => uint256 position)) private _positions;

    constructor(IParticipants participants_) ParticipantsGuarded(participants_) {}

    /// @inheritdoc ISubjects
    function register(bytes32 subjectId, SubjectKind kind, address[] calldata signers, uint8 threshold)
        external
        onlyRole(Roles.IDENTITY_ATTESTER)
    {
        if (_subjects[subjectId].kind != SubjectKind.NONE) revert SubjectsAlreadyRegistered(subjectId);
        if (kind == SubjectKind.NONE) revert SubjectsInvalidKind();
        uint256 count = signers.length;
        if (count > MAX_SIGNERS) revert SubjectsTooManySigners(count);
        _validateThreshold(kind, threshold, count);

        _subjects[subjectId] = SubjectRecord({kind: kind, threshold: threshold});
        emit SubjectRegistered(subjectId, kind, threshold);

        for (uint256 i; i < count; ++i) {
            _bind(subjectId, signers[i]);
        }
    }

    /// @inheritdoc ISubjects
    function bindSigner(bytes32 subjectId, address signer) external onlyRole(Roles.IDENTITY_ATTESTER) {
        _requireRegistered(subjectId);
        uint256 count = _signers[subjectId].length;
        if (count == MAX_SIGNERS) revert SubjectsTooManySigners(count + 1);
        _bind(subjectId, signer);
    }

    /// @inheritdoc ISubjects
    function unbindSigner(bytes32 subjectId, address signer) external onlyRole(Roles.IDENTITY_ATTESTER) {
        uint256 threshold = _requireRegistered(subjectId).threshold;
        uint256 remaining = _signers[subjectId].length - 1;
        _unbind(subjectId, signer);
        if (remaining < threshold) revert SubjectsInvalidThreshold(threshold, remaining);
    }

    /// @inheritdoc ISubjects
    function rotateSigner(bytes32 subjectId, address oldSigner, address newSigner)
        external
        onlyRole(Roles.IDENTITY_ATTESTER)
    {
        _requireRegistered(subjectId);
        _unbind(subjectId, oldSigner);
        _bind(subjectId, newSigner);
    }

    /// @inheritdoc ISubjects
    function setThreshold(bytes32 subjectId, uint8 threshold) external onlyRole(Roles.IDENTITY_ATTESTER) {
        SubjectRecord storage record = _requireRegistered(subjectId);
        _validateThreshold(record.kind, threshold, _signers[subjectId].length);
        if (record.threshold != threshold) {
            record.threshold = threshold;
            emit ThresholdChanged(subjectId, threshold);
        }
    }

    /// @inheritdoc ISubjects
    function kindOf(bytes32 subjectId) external view returns (SubjectKind) {
        return _subjects[subjectId].kind;
    }

    /// @inheritdoc ISubjects
    function thresholdOf(bytes32 subjectId) external view returns (uint8) {
        return _subjects[subjectId].threshold;
    }

    /// @inheritdoc ISubjects
    function isSigner(bytes32 subjectId, address signer) external view returns (bool) {
        return _positions[subjectId][signer] != 0;
    }

    /// @inheritdoc ISubjects
    function signerCount(bytes32 subjectId) external view returns (uint256) {
        return _signers[subjectId].length;
    }

    /// @inheritdoc ISubjects
    function signersOf(bytes32 subjectId) external view returns (address[] memory) {
        return _signers[subjectId];
    }

    function _requireRegistered(bytes32 subjectId) private view returns (SubjectRecord storage record) {
        record = _subjects[subjectId];
        if (record.kind == SubjectKind.NONE) revert SubjectsUnknown(subjectId);
    }

    function _validateThreshold(SubjectKind kind, uint256 threshold, uint256 count) private pure {
        if (threshold == 0 || threshold > count || (kind == SubjectKind.PERSON && threshold != 1)) {
            revert SubjectsInvalidThreshold(threshold, count);
        }
    }

    /// @dev Appends `signer`; the caller has checked the subject and the signer limit.
    function _bind(bytes32 subjectId, address signer) private {
        if (signer == address(0)) revert SubjectsZeroSigner();
        mapping(address => uint256) storage positions = _positions[subjectId];
        if (positions[signer] != 0) revert SubjectsDuplicateSigner(signer);
        _signers[subjectId].push(signer);
        positions[signer] = _signers[subjectId].length;
        emit SignerBound(subjectId, signer);
    }

    /// @dev Removes `signer` by moving the last signer into its place.
    function _unbind(bytes32 subjectId, address signer) private {
        mapping(address => uint256) storage positions = _positions[subjectId];
        uint256 position = positions[signer];
        if (position == 0) revert SubjectsNotSigner(subjectId, signer);
        address[] storage signers = _signers[subjectId];
        uint256 last = signers.length;
        if (position != last) {
            address moved = signers[last - 1];
            signers[position - 1] = moved;
            positions[moved] = position;
        }
        signers.pop();
        delete positions[signer];
        emit SignerUnbound(subjectId, signer);
    }
}
