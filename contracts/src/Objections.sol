// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ICatalog} from "./interfaces/ICatalog.sol";
import {IObjections} from "./interfaces/IObjections.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {ISubjects} from "./interfaces/ISubjects.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";
import {SignatureRules} from "./libraries/SignatureRules.sol";

/**
 * @title Objections
 * @notice Objection tickets (异议, 永州市政务大数据管理办法 第三十四条), filed with a subject signer's EIP-712
 * signature and taken through marking, forwarding and decision by the data authority and the provider.
 */
contract Objections is IObjections, EIP712, ParticipantsGuarded {
    /// @inheritdoc IObjections
    bytes32 public constant OBJECTION_TYPEHASH = keccak256(
        "Objection(bytes32 subject,bytes32 resourceId,uint256 fieldMask,uint8 kind,bytes32 reasonHash,uint256 nonce,"
        "uint64 deadline)"
    );

    ISubjects private immutable _subjects;
    ICatalog private immutable _catalog;

    mapping(uint256 objectionId => Ticket) private _tickets;
    mapping(bytes32 subject => mapping(uint256 word => uint256 bits)) private _nonceBitmaps;
    uint256 private _count;

    /// @param participants_ Participants registry.
    /// @param subjects_ Subjects registry holding signers.
    /// @param catalog_ Catalog naming resources' fields and providers.
    constructor(IParticipants participants_, ISubjects subjects_, ICatalog catalog_)
        EIP712("ConsentLedger", "1")
        ParticipantsGuarded(participants_)
    {
        _subjects = subjects_;
        _catalog = catalog_;
    }

    /// @inheritdoc IObjections
    function fileWithSig(Objection calldata objection_, address signer, bytes calldata signature)
        external
        returns (uint256 objectionId)
    {
        if (block.timestamp > objection_.deadline) revert ObjectionsSignatureExpired(objection_.deadline);
        bytes32 subject = objection_.subject;
        _useNonce(subject, objection_.nonce);
        if (!_subjects.isSigner(subject, signer)) revert ObjectionsNotSubjectSigner(subject, signer);
        if (!SignatureRules.isValid(signer, _hashTypedDataV4(_hashObjection(objection_)), signature)) {
            revert ObjectionsInvalidSignature(signer);
        }
        _validate(objection_);
        objectionId = ++_count;
        Ticket storage ticket = _tickets[objectionId];
        ticket.subject = subject;
        ticket.resourceId = objection_.resourceId;
        ticket.fieldMask = objection_.fieldMask;
        ticket.kind = ObjectionKind(objection_.kind);
        ticket.status = ObjectionStatus.FILED;
        uint64 filedAt = uint64(block.timestamp);
        ticket.filedAt = filedAt;
        emit ObjectionFiled(
            objectionId,
            subject,
            objection_.resourceId,
            signer,
            ObjectionKind(objection_.kind),
            objection_.fieldMask,
            objection_.reasonHash,
            filedAt
        );
    }

    /// @inheritdoc IObjections
    function invalidateNonces(bytes32 subject, uint256 word, uint256 mask) external {
        if (!_subjects.isSigner(subject, msg.sender)) revert ObjectionsNotSubjectSigner(subject, msg.sender);
        _nonceBitmaps[subject][word] |= mask;
        emit NoncesInvalidated(subject, word, mask);
    }

    /// @inheritdoc IObjections
    function mark(uint256 objectionId) external onlyRole(Roles.DEFAULT_ADMIN) {
        Ticket storage ticket = _requireStatus(objectionId, ObjectionStatus.FILED);
        ticket.status = ObjectionStatus.MARKED;
        uint64 markedAt = uint64(block.timestamp);
        ticket.markedAt = markedAt;
        emit ObjectionMarked(objectionId, msg.sender, markedAt);
    }

    /// @inheritdoc IObjections
    function forward(uint256 objectionId) external onlyRole(Roles.DEFAULT_ADMIN) {
        Ticket storage ticket = _requireStatus(objectionId, ObjectionStatus.MARKED);
        address provider = _catalog.resource(ticket.resourceId).provider;
        ticket.status = ObjectionStatus.FORWARDED;
        ticket.provider = provider;
        uint64 forwardedAt = uint64(block.timestamp);
        ticket.forwardedAt = forwardedAt;
        emit ObjectionForwarded(objectionId, provider, msg.sender, forwardedAt);
    }

    /// @inheritdoc IObjections
    function decide(uint256 objectionId, bool corrected, uint64 recordVersion, bytes32 noteHash) external {
        Ticket storage ticket = _tickets[objectionId];
        ObjectionStatus status = ticket.status;
        if (status == ObjectionStatus.NONE) revert ObjectionsUnknownObjection(objectionId);
        if (status == ObjectionStatus.MARKED) {
            _checkRole(Roles.DEFAULT_ADMIN, msg.sender);
        } else if (status == ObjectionStatus.FORWARDED) {
            if (msg.sender != ticket.provider) revert ObjectionsNotDecider(objectionId, msg.sender);
        } else {
            revert ObjectionsWrongStatus(objectionId, status);
        }
        if (noteHash == bytes32(0)) revert ObjectionsMissingText();
        if (corrected && recordVersion == 0) revert ObjectionsMissingRecordVersion();
        if (!corrected) recordVersion = 0; // a refusal cites no version
        ticket.status = ObjectionStatus.DECIDED;
        ticket.corrected = corrected;
        ticket.recordVersion = recordVersion;
        uint64 decidedAt = uint64(block.timestamp);
        ticket.decidedAt = decidedAt;
        emit ObjectionDecided(objectionId, msg.sender, corrected, recordVersion, noteHash, decidedAt);
    }

    /// @inheritdoc IObjections
    function objection(uint256 objectionId) external view returns (Ticket memory) {
        return _tickets[objectionId];
    }

    /// @inheritdoc IObjections
    function objectionCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IObjections
    function isNonceUsed(bytes32 subject, uint256 nonce) external view returns (bool) {
        // forge-lint: disable-next-line(incorrect-shift)
        return _nonceBitmaps[subject][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IObjections
    function hashObjection(Objection calldata objection_) external view returns (bytes32) {
        return _hashTypedDataV4(_hashObjection(objection_));
    }

    /// @inheritdoc IObjections
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IObjections
    function subjects() external view returns (ISubjects) {
        return _subjects;
    }

    /// @inheritdoc IObjections
    function catalog() external view returns (ICatalog) {
        return _catalog;
    }

    /// @dev Reverts unless the objection names a catalogued resource, some of its fields, a kind and a reason.
    function _validate(Objection calldata objection_) private view {
        if (objection_.kind > uint8(type(ObjectionKind).max)) revert ObjectionsInvalidKind(objection_.kind);
        if (objection_.reasonHash == bytes32(0)) revert ObjectionsMissingText();
        bytes32 resourceId = objection_.resourceId;
        uint256 fieldCount = _catalog.resource(resourceId).fieldCount;
        if (fieldCount == 0) revert ObjectionsUnknownResource(resourceId);
        uint256 mask = objection_.fieldMask;
        if (mask == 0 || (fieldCount < 256 && mask >> fieldCount != 0)) {
            revert ObjectionsInvalidFieldMask(resourceId, mask);
        }
    }

    /// @dev Marks `nonce` of `subject` used, reverting if it already was.
    function _useNonce(bytes32 subject, uint256 nonce) private {
        mapping(uint256 => uint256) storage bitmap = _nonceBitmaps[subject];
        uint256 word = nonce >> 8;
        // forge-lint: disable-next-line(incorrect-shift)
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = bitmap[word];
        if (bits & bit != 0) revert ObjectionsNonceAlreadyUsed(subject, nonce);
        bitmap[word] = bits | bit;
    }

    /// @dev The ticket of `objectionId`, which must be in `status`.
    function _requireStatus(uint256 objectionId, ObjectionStatus status) private view returns (Ticket storage ticket) {
        ticket = _tickets[objectionId];
        ObjectionStatus current = ticket.status;
        if (current == ObjectionStatus.NONE) revert ObjectionsUnknownObjection(objectionId);
        if (current != status) revert ObjectionsWrongStatus(objectionId, current);
    }

    function _hashObjection(Objection calldata objection_) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                OBJECTION_TYPEHASH,
                objection_.subject,
                objection_.resourceId,
                objection_.fieldMask,
                objection_.kind,
                objection_.reasonHash,
                objection_.nonce,
                objection_.deadline
            )
        );
    }
}
