// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IConsents} from "./interfaces/IConsents.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {ISubjects} from "./interfaces/ISubjects.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";
import {SignatureRules} from "./libraries/SignatureRules.sol";

/**
 * @title Consents
 * @notice Records and revokes data subjects' consents authorised by EIP-712 signatures (EOA or ERC-1271).
 * @dev One packed storage slot per consent. The id is the EIP-712 digest of the {Consent} message, so the
 * message itself (emitted in {ConsentGranted}) is the proof of every other field.
 */
contract Consents is IConsents, EIP712, ParticipantsGuarded {
    /// @dev Stored per consent id, one slot: 20 + 1 + 5 + 5 bytes.
    struct ConsentRecord {
        bytes20 subjectTag;
        ConsentStatus status;
        uint40 grantedAt;
        uint40 endedAt;
    }

    /// @inheritdoc IConsents
    bytes32 public constant CONSENT_TYPEHASH = keccak256(
        "Consent(bytes32 subject,address grantee,bytes32[] resources,uint256[] fieldMasks,string purpose,"
        "uint64 validFrom,uint64 validUntil,uint32 maxUses,uint256 nonce,uint64 deadline)"
    );

    /// @inheritdoc IConsents
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(bytes32 consentId,bytes32 subject,uint256 nonce,uint64 deadline)");

    uint256 private constant MAX_RESOURCES = 16;

    uint8 private constant CHECK_OK = 0;
    uint8 private constant CHECK_NO_CONSENT = 1;
    uint8 private constant CHECK_REVOKED = 2;
    uint8 private constant CHECK_NOT_YET_VALID = 3;
    uint8 private constant CHECK_EXPIRED = 4;
    uint8 private constant CHECK_GRANTEE_MISMATCH = 5;
    uint8 private constant CHECK_PURPOSE_MISMATCH = 6;
    uint8 private constant CHECK_RESOURCE_NOT_GRANTED = 7;
    uint8 private constant CHECK_ENDED_BY_REGULATOR = 8;

    ISubjects private immutable _subjects;

    mapping(bytes32 consentId => ConsentRecord) private _records;
    mapping(bytes32 subject => mapping(uint256 word => uint256 bits)) private _nonceBitmaps;

    /// @param participants_ Participants registry.
    /// @param subjects_ Subjects registry holding signers and thresholds.
    constructor(IParticipants participants_, ISubjects subjects_)
        EIP712("ConsentLedger", "1")
        ParticipantsGuarded(participants_)
    {
        _subjects = subjects_;
    }

    /// @inheritdoc IConsents
    function grant(Consent calldata consent, address[] calldata signers, bytes[] calldata signatures)
        external
        returns (bytes32 consentId)
    {
        return _grant(consent, signers, signatures);
    }

    /// @inheritdoc IConsents
    function grantBatch(Consent[] calldata consents, address[][] calldata signers, bytes[][] calldata signatures)
        external
        returns (bytes32[] memory consentIds)
    {
        uint256 count = consents.length;
        if (signers.length != count || signatures.length != count) revert ConsentsLengthMismatch();
        consentIds = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            consentIds[i] = _grant(consents[i], signers[i], signatures[i]);
        }
    }

    /// @inheritdoc IConsents
    function revoke(bytes32 consentId, bytes32 subject) external {
        ConsentRecord storage record = _requireActive(consentId, subject);
        if (!_subjects.isSigner(subject, msg.sender)) revert ConsentsNotSubjectSigner(subject, msg.sender);
        _end(record, consentId, subject, msg.sender);
    }

    /// @inheritdoc IConsents
    function endByRegulator(bytes32 consentId, bytes32 subject, bytes32 reasonHash) external onlyRole(Roles.REGULATOR) {
        if (reasonHash == bytes32(0)) revert ConsentsMissingReason();
        ConsentRecord storage record = _requireActive(consentId, subject);
        record.status = ConsentStatus.ENDED_BY_REGULATOR;
        // forge-lint: disable-next-line(unsafe-typecast)
        record.endedAt = uint40(block.number);
        emit ConsentEndedByRegulator(consentId, subject, msg.sender, reasonHash);
    }

    /// @inheritdoc IConsents
    function revokeWithSig(Revoke calldata revocation, address signer, bytes calldata signature) external {
        if (block.timestamp > revocation.deadline) revert ConsentsSignatureExpired(revocation.deadline);
        bytes32 subject = revocation.subject;
        _useNonce(subject, revocation.nonce);
        if (!_subjects.isSigner(subject, signer)) revert ConsentsNotSubjectSigner(subject, signer);
        if (!SignatureRules.isValid(signer, _hashTypedDataV4(_hashRevoke(revocation)), signature)) {
            revert ConsentsInvalidSignature(signer);
        }
        bytes32 consentId = revocation.consentId;
        _end(_requireActive(consentId, subject), consentId, subject, signer);
    }

    /// @inheritdoc IConsents
    function invalidateNonces(bytes32 subject, uint256 word, uint256 mask) external {
        if (!_subjects.isSigner(subject, msg.sender)) revert ConsentsNotSubjectSigner(subject, msg.sender);
        _nonceBitmaps[subject][word] |= mask;
        emit NoncesInvalidated(subject, word, mask);
    }

    /// @inheritdoc IConsents
    function subjects() external view returns (ISubjects) {
        return _subjects;
    }

    /// @inheritdoc IConsents
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IConsents
    function consentRecord(bytes32 consentId)
        external
        view
        returns (ConsentStatus status, uint64 grantedAt, uint64 endedAt)
    {
        ConsentRecord memory record = _records[consentId];
        return (record.status, record.grantedAt, record.endedAt);
    }

    /// @inheritdoc IConsents
    function isNonceUsed(bytes32 subject, uint256 nonce) external view returns (bool) {
        // forge-lint: disable-next-line(incorrect-shift)
        return _nonceBitmaps[subject][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IConsents
    function hashConsent(Consent calldata consent) external view returns (bytes32) {
        return _hashTypedDataV4(_hashConsent(consent, keccak256(bytes(consent.purpose))));
    }

    /// @inheritdoc IConsents
    function hashRevoke(Revoke calldata revocation) external view returns (bytes32) {
        return _hashTypedDataV4(_hashRevoke(revocation));
    }

    /// @inheritdoc IConsents
    function check(Consent calldata consent, address grantee, bytes32 resourceId, bytes32 purposeHash)
        external
        view
        returns (bool ok, uint256 fieldMask, uint8 reason)
    {
        bytes32 actualPurposeHash = keccak256(bytes(consent.purpose));
        ConsentStatus status = _records[_hashTypedDataV4(_hashConsent(consent, actualPurposeHash))].status;
        if (status == ConsentStatus.NONE) return (false, 0, CHECK_NO_CONSENT);
        if (status == ConsentStatus.ENDED_BY_REGULATOR) return (false, 0, CHECK_ENDED_BY_REGULATOR);
        if (status != ConsentStatus.ACTIVE) return (false, 0, CHECK_REVOKED);
        if (block.timestamp < consent.validFrom) return (false, 0, CHECK_NOT_YET_VALID);
        if (block.timestamp >= consent.validUntil) return (false, 0, CHECK_EXPIRED);
        if (grantee != consent.grantee) return (false, 0, CHECK_GRANTEE_MISMATCH);
        if (purposeHash != actualPurposeHash) return (false, 0, CHECK_PURPOSE_MISMATCH);
        bytes32[] calldata resources = consent.resources;
        uint256 count = resources.length;
        for (uint256 i; i < count; ++i) {
            if (resources[i] == resourceId) return (true, consent.fieldMasks[i], CHECK_OK);
        }
        return (false, 0, CHECK_RESOURCE_NOT_GRANTED);
    }

    /// @dev Checks and records one consent; see {grant} for the order of checks.
    function _grant(Consent calldata consent, address[] calldata signers, bytes[] calldata signatures)
        private
        returns (bytes32 consentId)
    {
        if (block.timestamp > consent.deadline) revert ConsentsSignatureExpired(consent.deadline);
        _validateConsent(consent);
        if (signers.length != signatures.length) revert ConsentsLengthMismatch();
        bytes32 subject = consent.subject;
        _useNonce(subject, consent.nonce);

        bytes32 purposeHash = keccak256(bytes(consent.purpose));
        consentId = _hashTypedDataV4(_hashConsent(consent, purposeHash));
        _verifySignatures(subject, consentId, signers, signatures);
        ConsentRecord storage record = _records[consentId];
        if (record.status != ConsentStatus.NONE) revert ConsentsAlreadyExists(consentId);

        // Member-wise writes to the fresh slot (endedAt stays 0) cost less than assigning a struct literal.
        // forge-lint: disable-next-line(unsafe-typecast)
        record.subjectTag = bytes20(subject); // a tag, truncation intended
        record.status = ConsentStatus.ACTIVE;
        // forge-lint: disable-next-line(unsafe-typecast)
        record.grantedAt = uint40(block.number); // 2^40 blocks outlast any chain
        _emitGranted(consentId, consent, purposeHash);
    }

    /// @dev Marks `nonce` of `subject` used, reverting if it already was.
    function _useNonce(bytes32 subject, uint256 nonce) private {
        mapping(uint256 => uint256) storage bitmap = _nonceBitmaps[subject];
        uint256 word = nonce >> 8;
        // forge-lint: disable-next-line(incorrect-shift)
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = bitmap[word];
        if (bits & bit != 0) revert ConsentsNonceAlreadyUsed(subject, nonce);
        bitmap[word] = bits | bit;
    }

    /// @dev Signers must be strictly increasing, bound to `subject` and have signed `digest`; their number
    /// must reach the subject's threshold, which is 0 only for unregistered subjects.
    function _verifySignatures(bytes32 subject, bytes32 digest, address[] calldata signers, bytes[] calldata signatures)
        private
        view
    {
        uint256 count = signers.length;
        address previous = address(0); // signers must be non-zero and strictly increasing
        for (uint256 i; i < count; ++i) {
            address signer = signers[i];
            if (signer <= previous) revert ConsentsSignersNotSorted();
            if (!_subjects.isSigner(subject, signer)) revert ConsentsNotSubjectSigner(subject, signer);
            if (!SignatureRules.isValid(signer, digest, signatures[i])) revert ConsentsInvalidSignature(signer);
            previous = signer;
        }
        uint256 threshold = _subjects.thresholdOf(subject);
        if (count < threshold) revert ConsentsBelowThreshold(count, threshold);
        if (threshold == 0) revert ConsentsUnknownSubject(subject);
    }

    /// @dev Returns the record of an active consent of `subject`, or reverts.
    function _requireActive(bytes32 consentId, bytes32 subject) private view returns (ConsentRecord storage record) {
        record = _records[consentId];
        ConsentStatus status = record.status;
        // forge-lint: disable-next-line(unsafe-typecast)
        if (status == ConsentStatus.NONE || record.subjectTag != bytes20(subject)) {
            revert ConsentsUnknownConsent(consentId);
        }
        if (status != ConsentStatus.ACTIVE) revert ConsentsNotActive(consentId, status);
    }

    /// @dev Marks an active consent revoked.
    function _end(ConsentRecord storage record, bytes32 consentId, bytes32 subject, address revokedBy) private {
        record.status = ConsentStatus.REVOKED;
        // forge-lint: disable-next-line(unsafe-typecast)
        record.endedAt = uint40(block.number);
        emit ConsentRevoked(consentId, subject, revokedBy);
    }

    /// @dev Emits {ConsentGranted}. Encoded by hand because the ABI encoder spends ~2k gas re-validating the
    /// calldata arrays; the layout is the standard one (7 head words, then both arrays). The static members were
    /// already read (and validated) by {_hashConsent}; they are masked to their widths all the same.
    function _emitGranted(bytes32 consentId, Consent calldata consent, bytes32 purposeHash) private {
        bytes32[] calldata resources = consent.resources;
        uint256[] calldata fieldMasks = consent.fieldMasks;
        bytes32 eventSelector = ConsentGranted.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let count := resources.length // equal to fieldMasks.length, checked in _validateConsent
            let size := shl(5, count)
            mstore(m, 0xe0) // offset of resources
            mstore(add(m, 0x20), add(0x100, size)) // offset of fieldMasks
            mstore(add(m, 0x40), purposeHash)
            mstore(add(m, 0x60), and(calldataload(add(consent, 0xa0)), 0xffffffffffffffff)) // validFrom
            mstore(add(m, 0x80), and(calldataload(add(consent, 0xc0)), 0xffffffffffffffff)) // validUntil
            mstore(add(m, 0xa0), and(calldataload(add(consent, 0xe0)), 0xffffffff)) // maxUses
            mstore(add(m, 0xc0), calldataload(add(consent, 0x100))) // nonce
            mstore(add(m, 0xe0), count)
            calldatacopy(add(m, 0x100), resources.offset, size)
            mstore(add(m, add(0x100, size)), count)
            calldatacopy(add(m, add(0x120, size)), fieldMasks.offset, size)
            log4(
                m,
                add(0x120, shl(1, size)),
                eventSelector,
                consentId,
                calldataload(consent), // subject
                and(calldataload(add(consent, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff) // grantee
            )
        }
    }

    function _validateConsent(Consent calldata consent) private pure {
        if (consent.grantee == address(0)) revert ConsentsZeroGrantee();
        if (consent.validFrom >= consent.validUntil) {
            revert ConsentsInvalidWindow(consent.validFrom, consent.validUntil);
        }
        bytes32[] calldata resources = consent.resources;
        uint256[] calldata fieldMasks = consent.fieldMasks;
        uint256 count = resources.length;
        if (count != fieldMasks.length) revert ConsentsLengthMismatch();
        if (count == 0 || count > MAX_RESOURCES) revert ConsentsInvalidResources();
        bytes32 previous = bytes32(0); // not compared for the first resource
        for (uint256 i; i < count; ++i) {
            bytes32 resourceId = resources[i];
            if ((i != 0 && resourceId <= previous) || fieldMasks[i] == 0) revert ConsentsInvalidResources();
            previous = resourceId;
        }
    }

    /// @dev EIP-712 hashStruct of a Consent. Static members are read through Solidity, which rejects dirty
    /// upper bits; the encoding is then assembled in scratch memory past the free memory pointer.
    function _hashConsent(Consent calldata consent, bytes32 purposeHash) private pure returns (bytes32 structHash) {
        bytes32[] calldata resources = consent.resources;
        uint256[] calldata fieldMasks = consent.fieldMasks;
        bytes32 typeHash = CONSENT_TYPEHASH;
        bytes32 subject = consent.subject;
        address grantee = consent.grantee;
        uint64 validFrom = consent.validFrom;
        uint64 validUntil = consent.validUntil;
        uint32 maxUses = consent.maxUses;
        uint256 nonce = consent.nonce;
        uint64 deadline = consent.deadline;
        assembly ("memory-safe") {
            let m := mload(0x40)
            // Arrays of 32-byte values are hashed as the concatenation of their elements.
            let size := shl(5, resources.length)
            calldatacopy(m, resources.offset, size)
            let resourcesHash := keccak256(m, size)
            size := shl(5, fieldMasks.length)
            calldatacopy(m, fieldMasks.offset, size)
            let fieldMasksHash := keccak256(m, size)
            mstore(m, typeHash)
            mstore(add(m, 0x20), subject)
            mstore(add(m, 0x40), grantee)
            mstore(add(m, 0x60), resourcesHash)
            mstore(add(m, 0x80), fieldMasksHash)
            mstore(add(m, 0xa0), purposeHash)
            mstore(add(m, 0xc0), validFrom)
            mstore(add(m, 0xe0), validUntil)
            mstore(add(m, 0x100), maxUses)
            mstore(add(m, 0x120), nonce)
            mstore(add(m, 0x140), deadline)
            structHash := keccak256(m, 0x160)
        }
    }

    function _hashRevoke(Revoke calldata revocation) private pure returns (bytes32) {
        return keccak256(
            abi.encode(REVOKE_TYPEHASH, revocation.consentId, revocation.subject, revocation.nonce, revocation.deadline)
        );
    }
}
