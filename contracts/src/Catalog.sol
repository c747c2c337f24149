// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICatalog} from "./interfaces/ICatalog.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {ParticipantsGuarded} from "./ParticipantsGuarded.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title Catalog
 * @notice Catalog of data resources and the request/approval workflow for conditionally shared ones.
 */
contract Catalog is ICatalog, ParticipantsGuarded {
    uint256 private constant MAX_FIELDS = 256;
    /// @dev Reason recorded when a later approval for the same purpose replaces an agreement.
    bytes32 private constant RENEWED = keccak256("renewed");

    mapping(bytes32 resourceId => Resource) private _resources;
    mapping(uint256 requestId => SharingRequest) private _requests;
    mapping(address department => mapping(bytes32 resourceId => mapping(bytes32 purpose => Agreement))) private
        _agreements;
    uint256 private _requestCount;
    mapping(bytes32 resourceId => mapping(address department => Suspension)) private _suspensions;
    mapping(uint256 requestId => VerificationRequest) private _verifications;
    uint256 private _verificationCount;
    mapping(uint256 emergencyId => Emergency) private _emergencies;
    uint256 private _emergencyCount;

    uint64 private constant MAX_EMERGENCY_SECONDS = 72 hours;
    uint256 private constant MAX_EMERGENCY_PARTIES = 64;
    uint256 private constant MAX_EMERGENCY_SUBJECTS = 256;

    constructor(IParticipants participants_) ParticipantsGuarded(participants_) {}

    /// @inheritdoc ICatalog
    function registerResource(
        bytes32 resourceId,
        address provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    ) external onlyRole(Roles.DEFAULT_ADMIN) {
        if (_resources[resourceId].provider != address(0)) revert CatalogResourceExists(resourceId);
        _validateResource(provider, fieldCount);
        _resources[resourceId] = Resource({
            provider: provider,
            sharingClass: sharingClass,
            sensitive: sensitive,
            active: true,
            fieldCount: fieldCount,
            schemaHash: schemaHash
        });
        emit ResourceRegistered(resourceId, provider, sharingClass, sensitive, fieldCount, schemaHash);
    }

    /// @inheritdoc ICatalog
    function updateResource(
        bytes32 resourceId,
        address provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    ) external onlyRole(Roles.DEFAULT_ADMIN) {
        Resource storage stored = _requireResource(resourceId);
        _validateResource(provider, fieldCount);
        stored.provider = provider;
        stored.sharingClass = sharingClass;
        stored.sensitive = sensitive;
        stored.fieldCount = fieldCount;
        stored.schemaHash = schemaHash;
        emit ResourceUpdated(resourceId, provider, sharingClass, sensitive, fieldCount, schemaHash);
    }

    /// @inheritdoc ICatalog
    function setResourceActive(bytes32 resourceId, bool active) external onlyRole(Roles.DEFAULT_ADMIN) {
        Resource storage stored = _requireResource(resourceId);
        if (stored.active != active) {
            stored.active = active;
            emit ResourceActiveSet(resourceId, active);
        }
    }

    /// @inheritdoc ICatalog
    function requestSharing(bytes32 resourceId, uint256 fieldMask, bytes32 purpose, uint64 validUntil)
        external
        returns (uint256 requestId)
    {
        if (!participants().isActiveDepartment(msg.sender)) revert CatalogNotDepartment(msg.sender);
        Resource storage stored = _requireResource(resourceId);
        if (stored.sharingClass != SharingClass.CONDITIONAL) revert CatalogResourceNotConditional(resourceId);
        if (!stored.active) revert CatalogResourceInactive(resourceId);
        _requireFieldMask(stored, fieldMask);
        if (validUntil <= block.timestamp) revert CatalogInvalidValidity(validUntil);

        requestId = ++_requestCount;
        _requests[requestId] = SharingRequest({
            requester: msg.sender,
            resourceId: resourceId,
            fieldMask: fieldMask,
            purpose: purpose,
            validUntil: validUntil,
            requestedAt: uint64(block.timestamp),
            decidedAt: 0,
            status: RequestStatus.PENDING
        });
        emit SharingRequested(requestId, msg.sender, resourceId, fieldMask, purpose, validUntil);
    }

    /// @inheritdoc ICatalog
    function approveSharing(uint256 requestId) external {
        SharingRequest storage request = _requirePendingForProvider(requestId);
        uint64 decidedAt = uint64(block.timestamp);
        // A request whose period has passed would make a dead agreement, and would end a standing one as its renewal.
        if (request.validUntil <= decidedAt) revert CatalogInvalidValidity(request.validUntil);
        Agreement storage stored = _agreements[request.requester][request.resourceId][request.purpose];
        uint256 renewed = stored.requestId;
        request.status = RequestStatus.APPROVED;
        request.decidedAt = decidedAt;
        if (renewed != 0 && stored.endedAt == 0) {
            _requests[renewed].status = RequestStatus.ENDED;
            emit AgreementEnded(renewed, msg.sender, RENEWED, decidedAt);
        }
        _agreements[request.requester][request.resourceId][request.purpose] = Agreement({
            fieldMask: request.fieldMask,
            validFrom: decidedAt,
            validUntil: request.validUntil,
            endedAt: 0,
            // forge-lint: disable-next-line(unsafe-typecast)
            requestId: uint64(requestId) // ids are a counter, far below 2^64
        });
        emit SharingApproved(requestId, msg.sender, decidedAt);
    }

    /// @inheritdoc ICatalog
    function endAgreement(uint256 requestId, bytes32 reasonHash) external {
        SharingRequest storage request = _requests[requestId];
        if (request.status == RequestStatus.NONE) revert CatalogUnknownRequest(requestId);
        if (
            _resources[request.resourceId].provider != msg.sender
                && !participants().hasRole(Roles.DEFAULT_ADMIN, msg.sender)
        ) revert CatalogNotProvider(requestId, msg.sender);
        Agreement storage stored = _agreements[request.requester][request.resourceId][request.purpose];
        if (request.status != RequestStatus.APPROVED || stored.requestId != requestId) {
            revert CatalogAgreementNotInForce(requestId);
        }
        uint64 endedAt = uint64(block.timestamp);
        request.status = RequestStatus.ENDED;
        stored.endedAt = endedAt;
        emit AgreementEnded(requestId, msg.sender, reasonHash, endedAt);
    }

    /// @inheritdoc ICatalog
    function denySharing(uint256 requestId, bytes32 reasonHash) external {
        SharingRequest storage request = _requirePendingForProvider(requestId);
        uint64 decidedAt = uint64(block.timestamp);
        request.status = RequestStatus.DENIED;
        request.decidedAt = decidedAt;
        emit SharingDenied(requestId, msg.sender, reasonHash, decidedAt);
    }

    /// @inheritdoc ICatalog
    function suspendAccess(bytes32 resourceId, address department, bytes32 reasonHash, uint64 until) external {
        if (_requireResource(resourceId).provider != msg.sender) {
            revert CatalogNotResourceProvider(resourceId, msg.sender);
        }
        // slither-disable-next-line unused-return
        (bytes32 code,,) = participants().department(department);
        if (code == bytes32(0)) revert CatalogUnknownDepartment(department);
        if (reasonHash == bytes32(0)) revert CatalogMissingReason();
        uint64 since = uint64(block.timestamp);
        if (until != 0 && until <= since) revert CatalogInvalidValidity(until);
        _suspensions[resourceId][department] = Suspension({since: since, until: until, reasonHash: reasonHash});
        emit AccessSuspended(resourceId, department, msg.sender, reasonHash, since, until);
    }

    /// @inheritdoc ICatalog
    function liftSuspension(bytes32 resourceId, address department) external {
        if (
            _requireResource(resourceId).provider != msg.sender
                && !participants().hasRole(Roles.DEFAULT_ADMIN, msg.sender)
        ) revert CatalogNotResourceProvider(resourceId, msg.sender);
        Suspension storage stored = _suspensions[resourceId][department];
        uint64 until = stored.until;
        if (stored.since == 0 || (until != 0 && until <= block.timestamp)) {
            revert CatalogNotSuspended(resourceId, department);
        }
        delete _suspensions[resourceId][department];
        emit SuspensionLifted(resourceId, department, msg.sender, uint64(block.timestamp));
    }

    /// @inheritdoc ICatalog
    function requestVerification(bytes32 resourceId, uint256 fieldMask, uint64 auditSeq, bytes32 reasonHash)
        external
        returns (uint256 requestId)
    {
        if (!participants().isActiveDepartment(msg.sender)) revert CatalogNotDepartment(msg.sender);
        _requireFieldMask(_requireResource(resourceId), fieldMask);
        if (reasonHash == bytes32(0)) revert CatalogMissingReason();
        uint64 requestedAt = uint64(block.timestamp);
        requestId = ++_verificationCount;
        VerificationRequest storage stored = _verifications[requestId];
        stored.requester = msg.sender;
        stored.requestedAt = requestedAt;
        stored.status = VerificationStatus.OPEN;
        stored.resourceId = resourceId;
        stored.auditSeq = auditSeq;
        emit VerificationRequested(requestId, msg.sender, resourceId, auditSeq, fieldMask, reasonHash, requestedAt);
    }

    /// @inheritdoc ICatalog
    function extendVerification(uint256 requestId, uint64 until, bytes32 reasonHash) external {
        VerificationRequest storage stored = _requireVerificationForProvider(requestId);
        if (stored.status != VerificationStatus.OPEN) revert CatalogVerificationNotOpen(requestId, stored.status);
        if (until <= block.timestamp) revert CatalogInvalidValidity(until);
        if (reasonHash == bytes32(0)) revert CatalogMissingReason();
        stored.extendedUntil = until;
        stored.status = VerificationStatus.EXTENDED;
        emit VerificationExtended(requestId, msg.sender, until, reasonHash);
    }

    /// @inheritdoc ICatalog
    function resolveVerification(uint256 requestId, bool corrected, bytes32 noteHash) external {
        VerificationRequest storage stored = _requireVerificationForProvider(requestId);
        VerificationStatus status = stored.status;
        if (status == VerificationStatus.RESOLVED) revert CatalogVerificationNotOpen(requestId, status);
        uint64 resolvedAt = uint64(block.timestamp);
        stored.resolvedAt = resolvedAt;
        stored.corrected = corrected;
        stored.status = VerificationStatus.RESOLVED;
        emit VerificationResolved(requestId, msg.sender, corrected, noteHash, resolvedAt);
    }

    /// @inheritdoc ICatalog
    function declareEmergency(
        bytes32 eventHash,
        bytes32 legalBasisHash,
        address[] calldata departments,
        bytes32[] calldata resources,
        bool allSubjects,
        bytes32[] calldata subjects,
        uint64 until
    ) external onlyRole(Roles.EMERGENCY) returns (uint256 emergencyId) {
        _requireEmergencyScope(departments, resources, allSubjects, subjects);
        emergencyId = _declareEmergency(eventHash, legalBasisHash, allSubjects, until);
        emit EmergencyScope(emergencyId, departments, resources, subjects);
    }

    /// @inheritdoc ICatalog
    function extendEmergency(uint256 emergencyId, uint64 until) external onlyRole(Roles.EMERGENCY) {
        Emergency storage stored = _requireEmergency(emergencyId);
        uint64 current = stored.until;
        if (current <= block.timestamp) revert CatalogEmergencyOver(emergencyId, current);
        if (stored.declaredBy == msg.sender) revert CatalogExtensionBySameHolder(emergencyId, msg.sender);
        if (until <= current) {
            revert CatalogInvalidEmergencyEnd(until, uint64(block.timestamp) + MAX_EMERGENCY_SECONDS);
        }
        _requireEmergencyEnd(until, uint64(block.timestamp));
        stored.until = until;
        stored.extendedBy = msg.sender;
        emit EmergencyExtended(emergencyId, msg.sender, until);
    }

    /// @inheritdoc ICatalog
    function delayEmergencyNotice(uint256 emergencyId, bytes32 reasonHash, uint64 noticeBy)
        external
        onlyRole(Roles.EMERGENCY)
    {
        Emergency storage stored = _requireEmergency(emergencyId);
        if (reasonHash == bytes32(0)) revert CatalogMissingReason();
        if (noticeBy <= block.timestamp) revert CatalogInvalidValidity(noticeBy);
        uint64 current = stored.noticeBy;
        if (current != 0 && current <= block.timestamp) revert CatalogNoticeAlreadyDue(emergencyId, current);
        stored.noticeBy = noticeBy;
        emit EmergencyNoticeDelayed(emergencyId, msg.sender, reasonHash, noticeBy);
    }

    /// @inheritdoc ICatalog
    function reviewEmergency(uint256 emergencyId, bool proper, bytes32 noteHash) external onlyRole(Roles.REGULATOR) {
        Emergency storage stored = _requireEmergency(emergencyId);
        if (stored.until > block.timestamp) revert CatalogEmergencyNotOver(emergencyId, stored.until);
        if (stored.reviewedAt != 0) revert CatalogEmergencyReviewed(emergencyId);
        uint64 reviewedAt = uint64(block.timestamp);
        stored.reviewedAt = reviewedAt;
        stored.proper = proper;
        emit EmergencyReviewed(emergencyId, msg.sender, proper, noteHash, reviewedAt);
    }

    /// @inheritdoc ICatalog
    function emergency(uint256 emergencyId) external view returns (Emergency memory) {
        return _emergencies[emergencyId];
    }

    /// @inheritdoc ICatalog
    function verificationRequest(uint256 requestId) external view returns (VerificationRequest memory) {
        return _verifications[requestId];
    }

    /// @inheritdoc ICatalog
    function suspension(bytes32 resourceId, address department) external view returns (Suspension memory) {
        return _suspensions[resourceId][department];
    }

    /// @inheritdoc ICatalog
    function resource(bytes32 resourceId) external view returns (Resource memory) {
        return _resources[resourceId];
    }

    /// @inheritdoc ICatalog
    function sharingRequest(uint256 requestId) external view returns (SharingRequest memory) {
        return _requests[requestId];
    }

    /// @inheritdoc ICatalog
    function agreement(address department, bytes32 resourceId, bytes32 purpose)
        external
        view
        returns (Agreement memory)
    {
        return _agreements[department][resourceId][purpose];
    }

    /// @inheritdoc ICatalog
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    function _requireResource(bytes32 resourceId) private view returns (Resource storage stored) {
        stored = _resources[resourceId];
        if (stored.provider == address(0)) revert CatalogUnknownResource(resourceId);
    }

    function _requireFieldMask(Resource storage stored, uint256 fieldMask) private view {
        if (fieldMask == 0) revert CatalogEmptyFieldMask();
        uint256 fieldCount = stored.fieldCount;
        if (fieldCount < MAX_FIELDS && fieldMask >> fieldCount != 0) {
            revert CatalogFieldMaskOutOfRange(fieldMask, fieldCount);
        }
    }

    function _requireVerificationForProvider(uint256 requestId)
        private
        view
        returns (VerificationRequest storage stored)
    {
        stored = _verifications[requestId];
        if (stored.status == VerificationStatus.NONE) revert CatalogUnknownVerification(requestId);
        if (_resources[stored.resourceId].provider != msg.sender) {
            revert CatalogNotVerificationProvider(requestId, msg.sender);
        }
    }

    /// @dev Stores the emergency and emits {EmergencyDeclared}; apart from {declareEmergency} for the stack's sake.
    function _declareEmergency(bytes32 eventHash, bytes32 legalBasisHash, bool allSubjects, uint64 until)
        private
        returns (uint256 emergencyId)
    {
        uint64 declaredAt = uint64(block.timestamp);
        _requireEmergencyEnd(until, declaredAt);
        emergencyId = ++_emergencyCount;
        Emergency storage stored = _emergencies[emergencyId];
        stored.declaredBy = msg.sender;
        stored.declaredAt = declaredAt;
        stored.allSubjects = allSubjects;
        stored.until = until;
        emit EmergencyDeclared(emergencyId, msg.sender, eventHash, legalBasisHash, allSubjects, declaredAt, until);
    }

    function _requireEmergencyScope(
        address[] calldata departments,
        bytes32[] calldata resources,
        bool allSubjects,
        bytes32[] calldata subjects
    ) private view {
        uint256 departmentCount = departments.length;
        uint256 resourceCount = resources.length;
        uint256 subjectCount = subjects.length;
        if (
            departmentCount == 0 || departmentCount > MAX_EMERGENCY_PARTIES || resourceCount == 0
                || resourceCount > MAX_EMERGENCY_PARTIES
                || (allSubjects ? subjectCount != 0 : subjectCount == 0 || subjectCount > MAX_EMERGENCY_SUBJECTS)
        ) revert CatalogInvalidEmergencyScope();
        IParticipants registry = participants();
        for (uint256 i; i < departmentCount; ++i) {
            // slither-disable-next-line unused-return,calls-loop
            (bytes32 code,,) = registry.department(departments[i]);
            if (code == bytes32(0)) revert CatalogUnknownDepartment(departments[i]);
        }
        for (uint256 i; i < resourceCount; ++i) {
            _requireResource(resources[i]);
        }
    }

    function _requireEmergency(uint256 emergencyId) private view returns (Emergency storage stored) {
        stored = _emergencies[emergencyId];
        if (stored.declaredAt == 0) revert CatalogUnknownEmergency(emergencyId);
    }

    function _requireEmergencyEnd(uint64 until, uint64 now_) private pure {
        uint64 latest = now_ + MAX_EMERGENCY_SECONDS;
        if (until <= now_ || until > latest) revert CatalogInvalidEmergencyEnd(until, latest);
    }

    function _validateResource(address provider, uint16 fieldCount) private view {
        // Only the code tells whether the provider is registered; name and active flag do not matter here.
        // slither-disable-next-line unused-return
        (bytes32 code,,) = participants().department(provider);
        if (code == bytes32(0)) revert CatalogUnknownProvider(provider);
        if (fieldCount == 0 || fieldCount > MAX_FIELDS) revert CatalogInvalidFieldCount(fieldCount);
    }

    function _requirePendingForProvider(uint256 requestId) private view returns (SharingRequest storage request) {
        request = _requests[requestId];
        RequestStatus status = request.status;
        if (status == RequestStatus.NONE) revert CatalogUnknownRequest(requestId);
        if (_resources[request.resourceId].provider != msg.sender) revert CatalogNotProvider(requestId, msg.sender);
        if (status != RequestStatus.PENDING) revert CatalogRequestNotPending(requestId);
    }
}
