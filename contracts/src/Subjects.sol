// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {ISubjects} from "./interfaces/ISubjects.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";
import {SignatureRules} from "./libraries/SignatureRules.sol";

/**
 * @title Subjects
 * @notice Registry of data subjects and their signers. Identity attesters register subjects; a change to an
 * existing subject's signers waits out a notice period in which its current signers can cancel it, unless those
 * signers approve it, which applies it at once.
 * @dev Signers live in a bounded array (<= 16) with a 1-based position index, so binding, unbinding and
 * membership tests are O(1). A pending change stores only its subject, status and due time: its id is the EIP-712
 * digest of its content, which {applySignerChange} is given again.
 */
contract Subjects is ISubjects, EIP712, ParticipantsGuarded {
    struct SubjectRecord {
        SubjectKind kind;
        uint8 threshold;
    }

    struct ChangeRecord {
        bytes32 subjectId;
        SignerChangeStatus status;
        uint64 effectiveAt;
    }

    /// @inheritdoc ISubjects
    uint256 public constant MAX_SIGNERS = 16;

    /// @inheritdoc ISubjects
    bytes32 public constant SIGNER_CHANGE_TYPEHASH =
        keccak256("SignerChange(bytes32 subject,address[] add,address[] remove,uint8 threshold,uint256 nonce)");

    /// @inheritdoc ISubjects
    bytes32 public constant CANCEL_SIGNER_CHANGE_TYPEHASH = keccak256("CancelSignerChange(bytes32 changeId)");

    uint64 private immutable _noticePeriod;
    uint256 private immutable _requiredAttestations;

    mapping(bytes32 subjectId => SubjectRecord) private _subjects;
    mapping(bytes32 subjectId => address[]) private _signers;
    mapping(bytes32 subjectId => mapping(address signer => uint256 position)) private _positions;
    mapping(bytes32 subjectId => uint256 nonce) private _changeNonces;
    mapping(bytes32 changeId => ChangeRecord) private _changes;
    mapping(bytes32 registrationHash => uint256 count) private _attestationCounts;
    mapping(bytes32 registrationHash => mapping(address attester => bool)) private _attested;

    /// @param participants_ Participants registry.
    /// @param noticePeriod_ Seconds between a proposed signer change and the earliest time it applies unapproved.
    /// @param requiredAttestations_ Distinct attesters that must attest a registration (at least 1).
    constructor(IParticipants participants_, uint64 noticePeriod_, uint256 requiredAttestations_)
        EIP712("ConsentLedger", "1")
        ParticipantsGuarded(participants_)
    {
        if (requiredAttestations_ == 0) revert SubjectsInvalidAttestationCount();
        _noticePeriod = noticePeriod_;
        _requiredAttestations = requiredAttestations_;
    }

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
        if (_requiredAttestations > 1 && !_attest(subjectId, kind, signers, threshold)) return;

        _subjects[subjectId] = SubjectRecord({kind: kind, threshold: threshold});
        emit SubjectRegistered(subjectId, kind, threshold);

        for (uint256 i; i < count; ++i) {
            _bind(subjectId, signers[i]);
        }
    }

    /// @inheritdoc ISubjects
    function proposeSignerChange(bytes32 subjectId, address[] calldata add, address[] calldata remove, uint8 threshold)
        external
        onlyRole(Roles.IDENTITY_ATTESTER)
        returns (bytes32 changeId, uint64 effectiveAt)
    {
        _checkChange(subjectId, add, remove, threshold);
        uint256 nonce = _changeNonces[subjectId]++;
        changeId = _hashTypedDataV4(_hashSignerChange(subjectId, add, remove, threshold, nonce));
        effectiveAt = uint64(block.timestamp) + _noticePeriod;
        _changes[changeId] =
            ChangeRecord({subjectId: subjectId, status: SignerChangeStatus.PENDING, effectiveAt: effectiveAt});
        emit SignerChangeProposed(changeId, subjectId, add, remove, threshold, nonce, effectiveAt, msg.sender);
    }

    /// @inheritdoc ISubjects
    function applySignerChange(SignerChange calldata change) external {
        bytes32 changeId = _hashTypedDataV4(_hashSignerChange(change));
        ChangeRecord storage record = _requirePending(changeId);
        uint64 effectiveAt = record.effectiveAt;
        if (block.timestamp < effectiveAt) revert SubjectsChangeNotDue(changeId, effectiveAt);
        _apply(record, changeId, change, false);
    }

    /// @inheritdoc ISubjects
    function approveSignerChange(SignerChange calldata change, address[] calldata signers, bytes[] calldata signatures)
        external
        returns (bytes32 changeId)
    {
        bytes32 subjectId = change.subject;
        changeId = _hashTypedDataV4(_hashSignerChange(change));
        _verifyApprovals(subjectId, changeId, signers, signatures);
        ChangeRecord storage record = _changes[changeId];
        SignerChangeStatus status = record.status;
        if (status == SignerChangeStatus.NONE) {
            _proposeApproved(record, changeId, change);
        } else if (status != SignerChangeStatus.PENDING) {
            revert SubjectsChangeNotPending(changeId);
        }
        _apply(record, changeId, change, true);
    }

    /// @inheritdoc ISubjects
    function cancelSignerChange(bytes32 changeId) external {
        ChangeRecord storage record = _requirePending(changeId);
        bytes32 subjectId = record.subjectId;
        if (_positions[subjectId][msg.sender] == 0 && !participants().hasRole(Roles.IDENTITY_ATTESTER, msg.sender)) {
            revert SubjectsNotAllowedToCancel(changeId, msg.sender);
        }
        _cancel(record, changeId, subjectId, msg.sender);
    }

    /// @inheritdoc ISubjects
    function cancelSignerChangeWithSig(bytes32 changeId, address signer, bytes calldata signature) external {
        ChangeRecord storage record = _requirePending(changeId);
        bytes32 subjectId = record.subjectId;
        if (_positions[subjectId][signer] == 0) revert SubjectsNotSigner(subjectId, signer);
        if (!SignatureRules.isValid(signer, _hashCancel(changeId), signature)) revert SubjectsInvalidSignature(signer);
        _cancel(record, changeId, subjectId, signer);
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

    /// @inheritdoc ISubjects
    function signerChange(bytes32 changeId)
        external
        view
        returns (bytes32 subjectId, SignerChangeStatus status, uint64 effectiveAt)
    {
        ChangeRecord memory record = _changes[changeId];
        return (record.subjectId, record.status, record.effectiveAt);
    }

    /// @inheritdoc ISubjects
    function signerChangeNonce(bytes32 subjectId) external view returns (uint256) {
        return _changeNonces[subjectId];
    }

    /// @inheritdoc ISubjects
    function requiredAttestations() external view returns (uint256) {
        return _requiredAttestations;
    }

    /// @inheritdoc ISubjects
    function noticePeriod() external view returns (uint64) {
        return _noticePeriod;
    }

    /// @inheritdoc ISubjects
    function hashSignerChange(SignerChange calldata change) external view returns (bytes32) {
        return _hashTypedDataV4(_hashSignerChange(change));
    }

    /// @inheritdoc ISubjects
    function hashCancelSignerChange(bytes32 changeId) external view returns (bytes32) {
        return _hashCancel(changeId);
    }

    /// @inheritdoc ISubjects
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev Counts the caller's attestation of this exact registration; true once enough attesters agree.
    function _attest(bytes32 subjectId, SubjectKind kind, address[] calldata signers, uint8 threshold)
        private
        returns (bool complete)
    {
        bytes32 registrationHash = keccak256(abi.encode(subjectId, kind, signers, threshold));
        mapping(address => bool) storage attested = _attested[registrationHash];
        if (attested[msg.sender]) revert SubjectsAlreadyAttested(registrationHash, msg.sender);
        attested[msg.sender] = true;
        uint256 count = ++_attestationCounts[registrationHash];
        emit RegistrationAttested(subjectId, registrationHash, msg.sender, count);
        return count >= _requiredAttestations;
    }

    function _requireRegistered(bytes32 subjectId) private view returns (SubjectRecord storage record) {
        record = _subjects[subjectId];
        if (record.kind == SubjectKind.NONE) revert SubjectsUnknown(subjectId);
    }

    function _requirePending(bytes32 changeId) private view returns (ChangeRecord storage record) {
        record = _changes[changeId];
        if (record.status != SignerChangeStatus.PENDING) revert SubjectsChangeNotPending(changeId);
    }

    function _validateThreshold(SubjectKind kind, uint256 threshold, uint256 count) private pure {
        if (threshold == 0 || threshold > count || (kind == SubjectKind.PERSON && threshold != 1)) {
            revert SubjectsInvalidThreshold(threshold, count);
        }
    }

    /// @dev A change must do something and be valid against the signers now: `remove` strictly increasing and
    /// bound, `add` non-zero, strictly increasing and unbound, the count and threshold after it allowed.
    /// Each loop ends by the 17th element: a 17th distinct bound signer or slot does not exist.
    function _checkChange(bytes32 subjectId, address[] calldata add, address[] calldata remove, uint8 threshold)
        private
        view
    {
        SubjectRecord storage record = _requireRegistered(subjectId);
        uint256 removed = remove.length;
        uint256 added = add.length;
        if (removed == 0 && added == 0 && threshold == record.threshold) revert SubjectsEmptyChange();
        mapping(address => uint256) storage positions = _positions[subjectId];
        address previous = address(0);
        for (uint256 i; i < removed; ++i) {
            address signer = remove[i];
            if (signer <= previous) revert SubjectsSignersNotSorted();
            if (positions[signer] == 0) revert SubjectsNotSigner(subjectId, signer);
            previous = signer;
        }
        uint256 count = _signers[subjectId].length - removed + added;
        if (count > MAX_SIGNERS) revert SubjectsTooManySigners(count);
        previous = address(0);
        for (uint256 i; i < added; ++i) {
            address signer = add[i];
            if (signer == address(0)) revert SubjectsZeroSigner();
            if (signer <= previous) revert SubjectsSignersNotSorted();
            if (positions[signer] != 0) revert SubjectsDuplicateSigner(signer);
            previous = signer;
        }
        _validateThreshold(record.kind, threshold, count);
    }

    /// @dev Signers strictly increasing, bound to `subjectId`, each having signed `digest`, at least the threshold.
    function _verifyApprovals(
        bytes32 subjectId,
        bytes32 digest,
        address[] calldata signers,
        bytes[] calldata signatures
    ) private view {
        uint256 threshold = _requireRegistered(subjectId).threshold;
        uint256 count = signers.length;
        if (count != signatures.length) revert SubjectsLengthMismatch();
        mapping(address => uint256) storage positions = _positions[subjectId];
        address previous = address(0);
        for (uint256 i; i < count; ++i) {
            address signer = signers[i];
            if (signer <= previous) revert SubjectsSignersNotSorted();
            if (positions[signer] == 0) revert SubjectsNotSigner(subjectId, signer);
            if (!SignatureRules.isValid(signer, digest, signatures[i])) revert SubjectsInvalidSignature(signer);
            previous = signer;
        }
        if (count < threshold) revert SubjectsBelowThreshold(count, threshold);
    }

    /// @dev Marks the change applied, then unbinds, binds and sets the threshold, re-checking each step against the
    /// signers as they are now (they may have changed since the proposal).
    function _apply(ChangeRecord storage record, bytes32 changeId, SignerChange calldata change, bool approved)
        private
    {
        bytes32 subjectId = change.subject;
        record.status = SignerChangeStatus.APPLIED;
        emit SignerChangeApplied(changeId, subjectId, approved);

        SubjectRecord storage subject = _requireRegistered(subjectId);
        address[] calldata remove = change.remove;
        address[] calldata add = change.add;
        uint256 removed = remove.length;
        for (uint256 i; i < removed; ++i) {
            _unbind(subjectId, remove[i]);
        }
        uint256 count = _signers[subjectId].length + add.length;
        if (count > MAX_SIGNERS) revert SubjectsTooManySigners(count);
        uint256 added = add.length;
        for (uint256 i; i < added; ++i) {
            _bind(subjectId, add[i]);
        }
        uint8 threshold = change.threshold;
        _validateThreshold(subject.kind, threshold, count);
        if (subject.threshold != threshold) {
            subject.threshold = threshold;
            emit ThresholdChanged(subjectId, threshold);
        }
    }

    /// @dev Records a change the signers wrote themselves as proposed and due now; {_apply} follows.
    function _proposeApproved(ChangeRecord storage record, bytes32 changeId, SignerChange calldata change) private {
        bytes32 subjectId = change.subject;
        uint256 expected = _changeNonces[subjectId];
        if (change.nonce != expected) revert SubjectsInvalidChangeNonce(change.nonce, expected);
        _checkChange(subjectId, change.add, change.remove, change.threshold);
        _changeNonces[subjectId] = expected + 1;
        record.subjectId = subjectId;
        record.effectiveAt = uint64(block.timestamp);
        emit SignerChangeProposed(
            changeId, subjectId, change.add, change.remove, change.threshold, expected, uint64(block.timestamp), msg.sender
        );
    }

    function _cancel(ChangeRecord storage record, bytes32 changeId, bytes32 subjectId, address cancelledBy) private {
        record.status = SignerChangeStatus.CANCELLED;
        emit SignerChangeCancelled(changeId, subjectId, cancelledBy);
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

    function _hashSignerChange(SignerChange calldata change) private pure returns (bytes32) {
        return _hashSignerChange(change.subject, change.add, change.remove, change.threshold, change.nonce);
    }

    /// @dev EIP-712 hashStruct: an address[] member is the hash of its elements, each padded to 32 bytes, which is
    /// what abi.encodePacked does to array elements.
    function _hashSignerChange(
        bytes32 subjectId,
        address[] calldata add,
        address[] calldata remove,
        uint8 threshold,
        uint256 nonce
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SIGNER_CHANGE_TYPEHASH,
                subjectId,
                keccak256(abi.encodePacked(add)),
                keccak256(abi.encodePacked(remove)),
                threshold,
                nonce
            )
        );
    }

    function _hashCancel(bytes32 changeId) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_SIGNER_CHANGE_TYPEHASH, changeId)));
    }
}
