// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";

/**
 * @title ICatalog
 * @notice Catalog of shareable data resources and the sharing requests between departments.
 * @dev Resources are classified UNCONDITIONAL / CONDITIONAL / NOT_SHARED. Conditional resources are
 * shared only after the provider approves a request, which records an agreement for the requester.
 * An agreement is keyed by (department, resource, purpose hash): a department may hold agreements for
 * one resource under several purposes at once, each with its own fields and term. A later approval
 * for the same key renews it (the provider answers the same question again) and replaces its terms.
 * The agreement's id is the id of the request that made it; the provider or the admin can end it.
 *
 * A provider that finds a department misusing its data suspends or ends that department's access to the
 * resource (永州市政务大数据管理办法 第十九条: "提供部门发现使用部门违反规定使用政务数据的,有权暂停或者终止提供,
 * 并报告同级人民政府政务数据主管部门"). The suspension is an event the data authority's list reads, and it binds
 * every release from the next request on, whatever the resource's class, agreements or consents.
 *
 * A department that doubts a record it received asks the provider to verify it (校核, 第二十一条: "提供部门应在5个
 * 工作日内予以校核。需延长校核期限的,应经提供部门负责人同意并告知使用部门,延长期限最长不得超过15个工作日").
 * The request cites the audit log entry of the release. The provider extends it once, with a reason, and
 * resolves it, saying whether it corrected the record. Working days follow the official calendar, which
 * the chain does not know: the contract records the times, and the deadlines are computed and checked
 * off-chain (the API refuses an extension past 15 working days; the verifier reports one that got through).
 *
 * The emergency green channel (应急供需绿色通道, 济南市实施方案): a holder of the EMERGENCY role declares an emergency
 * with the hashes of its event and legal basis, the departments and resources it covers, its subjects (all, or
 * listed ids) and a hard expiry at most 72 hours ahead. Only another EMERGENCY holder extends it (again at most
 * 72 hours ahead). Releases under it need no consent and ignore NOT_SHARED, inside its scope and window: the
 * policy judges them off-chain from these events. A holder may delay the notice to affected subjects only with
 * a reason and an end date, both on-chain. After its end a regulator reviews it, PROPER or IMPROPER, once.
 */
interface ICatalog is IParticipantsGuarded {
    /// @notice Sharing class of a resource.
    enum SharingClass {
        UNCONDITIONAL,
        CONDITIONAL,
        NOT_SHARED
    }

    /// @notice Lifecycle of a sharing request; NONE marks an unknown id; ENDED: approved, then ended.
    enum RequestStatus {
        NONE,
        PENDING,
        APPROVED,
        DENIED,
        ENDED
    }

    /// @notice A catalogued data resource. `provider == address(0)` means unknown.
    struct Resource {
        address provider;
        SharingClass sharingClass;
        bool sensitive;
        bool active;
        uint16 fieldCount;
        bytes32 schemaHash;
    }

    /// @notice A request by a department to use a conditional resource.
    struct SharingRequest {
        address requester;
        bytes32 resourceId;
        uint256 fieldMask;
        bytes32 purpose;
        uint64 validUntil;
        uint64 requestedAt;
        uint64 decidedAt;
        RequestStatus status;
    }

    /// @notice An approved sharing agreement. `requestId == 0` means none; in force on [validFrom, validUntil)
    /// unless `endedAt != 0`.
    struct Agreement {
        uint256 fieldMask;
        uint64 validFrom;
        uint64 validUntil;
        uint64 endedAt;
        uint64 requestId;
    }

    /// @notice A department's suspended access to a resource. `since == 0` means none. In force from `since`
    /// until `until` (exclusive), or until lifted when `until == 0` (access ended, 终止提供). Who
    /// suspended it is in {AccessSuspended}.
    struct Suspension {
        uint64 since;
        uint64 until;
        bytes32 reasonHash;
    }

    /// @notice Lifecycle of a verification request (校核); NONE marks an unknown id.
    enum VerificationStatus {
        NONE,
        OPEN,
        EXTENDED,
        RESOLVED
    }

    /// @notice A department's request that the provider verify a record it received. The doubted fields and the
    /// reason are in {VerificationRequested}.
    struct VerificationRequest {
        address requester;
        uint64 requestedAt;
        VerificationStatus status;
        bool corrected;
        bytes32 resourceId;
        uint64 auditSeq;
        uint64 extendedUntil;
        uint64 resolvedAt;
    }

    /// @notice An emergency on the green channel. `declaredAt == 0` means unknown; in force on [declaredAt, until).
    /// Its event, legal basis and scope are in {EmergencyDeclared}.
    struct Emergency {
        address declaredBy;
        uint64 declaredAt;
        bool allSubjects;
        address extendedBy;
        uint64 until;
        uint64 noticeBy;
        uint64 reviewedAt;
        bool proper;
    }

    /// @notice `resourceId` is not catalogued.
    error CatalogUnknownResource(bytes32 resourceId);

    /// @notice `resourceId` is already catalogued.
    error CatalogResourceExists(bytes32 resourceId);

    /// @notice `provider` is not a registered department.
    error CatalogUnknownProvider(address provider);

    /// @notice `fieldCount` is outside 1..256.
    error CatalogInvalidFieldCount(uint256 fieldCount);

    /// @notice Request `requestId` does not exist.
    error CatalogUnknownRequest(uint256 requestId);

    /// @notice `caller` is not the provider of the resource requested in `requestId` (for {endAgreement}:
    /// nor the admin).
    error CatalogNotProvider(uint256 requestId, address caller);

    /// @notice Request `requestId` is not a standing agreement: never approved, renewed by a later
    /// approval, or already ended.
    error CatalogAgreementNotInForce(uint256 requestId);

    /// @notice Request `requestId` was already decided.
    error CatalogRequestNotPending(uint256 requestId);

    /// @notice `account` is not an active department.
    error CatalogNotDepartment(address account);

    /// @notice `resourceId` is not CONDITIONAL, so it cannot be requested.
    error CatalogResourceNotConditional(bytes32 resourceId);

    /// @notice `resourceId` is switched off.
    error CatalogResourceInactive(bytes32 resourceId);

    /// @notice `validUntil` is not in the future (when requesting, or when approving).
    error CatalogInvalidValidity(uint64 validUntil);

    /// @notice `caller` is not the provider of `resourceId` (for {liftSuspension}: nor the admin).
    error CatalogNotResourceProvider(bytes32 resourceId, address caller);

    /// @notice `department` is not a registered department.
    error CatalogUnknownDepartment(address department);

    /// @notice `department`'s access to `resourceId` is not suspended.
    error CatalogNotSuspended(bytes32 resourceId, address department);

    /// @notice A suspension's written reason is missing (a zero hash).
    error CatalogMissingReason();

    /// @notice Verification request `requestId` does not exist.
    error CatalogUnknownVerification(uint256 requestId);

    /// @notice `caller` is not the provider of the resource verification request `requestId` is about.
    error CatalogNotVerificationProvider(uint256 requestId, address caller);

    /// @notice Verification request `requestId` is `status`, which does not allow this step.
    error CatalogVerificationNotOpen(uint256 requestId, VerificationStatus status);

    /// @notice `until` is not in the future, or later than `latest` (72 hours from now).
    error CatalogInvalidEmergencyEnd(uint64 until, uint64 latest);

    /// @notice An emergency must name 1..64 departments and 1..64 resources, and all subjects or 1..256 of them.
    error CatalogInvalidEmergencyScope();

    /// @notice Emergency `emergencyId` does not exist.
    error CatalogUnknownEmergency(uint256 emergencyId);

    /// @notice The notice delay of emergency `emergencyId` ran out at `noticeBy`: the subjects have been told, and a
    /// notice once due cannot be hidden again.
    error CatalogNoticeAlreadyDue(uint256 emergencyId, uint64 noticeBy);

    /// @notice Emergency `emergencyId` ended at `until`: it can no longer be extended.
    error CatalogEmergencyOver(uint256 emergencyId, uint64 until);

    /// @notice Emergency `emergencyId` runs until `until`: it is reviewed after its end.
    error CatalogEmergencyNotOver(uint256 emergencyId, uint64 until);

    /// @notice `holder` declared emergency `emergencyId`: another EMERGENCY holder must extend it.
    error CatalogExtensionBySameHolder(uint256 emergencyId, address holder);

    /// @notice Emergency `emergencyId` has been reviewed already.
    error CatalogEmergencyReviewed(uint256 emergencyId);

    /// @notice The field mask is empty.
    error CatalogEmptyFieldMask();

    /// @notice `fieldMask` names fields beyond the resource's `fieldCount`.
    error CatalogFieldMaskOutOfRange(uint256 fieldMask, uint256 fieldCount);

    /// @notice A resource was catalogued (it starts active).
    event ResourceRegistered(
        bytes32 indexed resourceId,
        address indexed provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    );

    /// @notice A resource's description was replaced.
    event ResourceUpdated(
        bytes32 indexed resourceId,
        address indexed provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    );

    /// @notice A resource was switched on or off.
    event ResourceActiveSet(bytes32 indexed resourceId, bool active);

    /// @notice A department asked to use a conditional resource.
    event SharingRequested(
        uint256 indexed requestId,
        address indexed requester,
        bytes32 indexed resourceId,
        uint256 fieldMask,
        bytes32 purpose,
        uint64 validUntil
    );

    /// @notice The provider approved a request; the agreement for (requester, resource, purpose) is recorded,
    /// in force from `decidedAt` until the request's `validUntil`.
    event SharingApproved(uint256 indexed requestId, address indexed provider, uint64 decidedAt);

    /// @notice The agreement made by request `requestId` was ended by `endedBy` (its provider or the admin), or
    /// replaced by a later approval for the same purpose (then `reasonHash` is keccak256("renewed")).
    event AgreementEnded(uint256 indexed requestId, address indexed endedBy, bytes32 reasonHash, uint64 endedAt);

    /// @notice The provider denied a request.
    event SharingDenied(uint256 indexed requestId, address indexed provider, bytes32 reasonHash, uint64 decidedAt);

    /// @notice `provider` suspended `department`'s access to `resourceId` from `since`, until `until` (0: until
    /// lifted), for the reason whose hash is `reasonHash`. A new suspension replaces a standing one.
    event AccessSuspended(
        bytes32 indexed resourceId,
        address indexed department,
        address indexed provider,
        bytes32 reasonHash,
        uint64 since,
        uint64 until
    );

    /// @notice `liftedBy` (the provider or the admin) lifted `department`'s suspension for `resourceId`.
    event SuspensionLifted(
        bytes32 indexed resourceId, address indexed department, address indexed liftedBy, uint64 liftedAt
    );

    /// @notice `requester` asked the provider to verify fields `fieldMask` of `resourceId` it received in audit
    /// log entry `auditSeq`.
    event VerificationRequested(
        uint256 indexed requestId,
        address indexed requester,
        bytes32 indexed resourceId,
        uint64 auditSeq,
        uint256 fieldMask,
        bytes32 reasonHash,
        uint64 requestedAt
    );

    /// @notice The provider extended verification request `requestId` until `until`, for the reason hashed.
    event VerificationExtended(uint256 indexed requestId, address indexed provider, uint64 until, bytes32 reasonHash);

    /// @notice The provider resolved verification request `requestId`: `corrected` tells whether it corrected
    /// the record; `noteHash` is the hash of its written answer.
    event VerificationResolved(
        uint256 indexed requestId, address indexed provider, bool corrected, bytes32 noteHash, uint64 resolvedAt
    );

    /// @notice `declaredBy` declared emergency `emergencyId`, in force from `declaredAt` until `until`; its scope
    /// follows in {EmergencyScope}.
    event EmergencyDeclared(
        uint256 indexed emergencyId,
        address indexed declaredBy,
        bytes32 eventHash,
        bytes32 legalBasisHash,
        bool allSubjects,
        uint64 declaredAt,
        uint64 until
    );

    /// @notice The departments, resources and (unless all) subjects emergency `emergencyId` covers; emitted right
    /// after {EmergencyDeclared}.
    event EmergencyScope(uint256 indexed emergencyId, address[] departments, bytes32[] resources, bytes32[] subjects);

    /// @notice `extendedBy`, another EMERGENCY holder, extended emergency `emergencyId` until `until`.
    event EmergencyExtended(uint256 indexed emergencyId, address indexed extendedBy, uint64 until);

    /// @notice `by` delayed the notice to the subjects of emergency `emergencyId` until `noticeBy`, for the reason
    /// hashed.
    event EmergencyNoticeDelayed(uint256 indexed emergencyId, address indexed by, bytes32 reasonHash, uint64 noticeBy);

    /// @notice `regulator` reviewed emergency `emergencyId`: `proper` or not, with the hash of its note.
    event EmergencyReviewed(
        uint256 indexed emergencyId, address indexed regulator, bool proper, bytes32 noteHash, uint64 reviewedAt
    );

    /**
     * @notice Catalogues a resource.
     * @dev Admin only. `provider` must be a registered department; 1 <= fieldCount <= 256.
     * @param resourceId Resource id, keccak256 of the resource slug.
     * @param provider Department that holds the data.
     * @param sharingClass Sharing class.
     * @param sensitive Whether the data is sensitive.
     * @param fieldCount Number of fields (bit j of a field mask is field j).
     * @param schemaHash Hash of the resource schema document.
     */
    function registerResource(
        bytes32 resourceId,
        address provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    ) external;

    /**
     * @notice Replaces the description of a catalogued resource; its active flag is kept.
     * @dev Admin only. Same checks as {registerResource}.
     * @param resourceId Catalogued resource id.
     * @param provider Department that holds the data.
     * @param sharingClass Sharing class.
     * @param sensitive Whether the data is sensitive.
     * @param fieldCount Number of fields.
     * @param schemaHash Hash of the resource schema document.
     */
    function updateResource(
        bytes32 resourceId,
        address provider,
        SharingClass sharingClass,
        bool sensitive,
        uint16 fieldCount,
        bytes32 schemaHash
    ) external;

    /**
     * @notice Switches a resource on or off.
     * @dev Admin only. Idempotent: no event when unchanged.
     * @param resourceId Catalogued resource id.
     * @param active New state.
     */
    function setResourceActive(bytes32 resourceId, bool active) external;

    /**
     * @notice Description of a resource.
     * @param resourceId Resource id.
     * @return The resource; `provider` is zero when unknown.
     */
    function resource(bytes32 resourceId) external view returns (Resource memory);

    /**
     * @notice Asks the provider of a conditional resource for access.
     * @dev Caller must be an active department; the resource CONDITIONAL and active; the mask non-empty and
     * within the resource's fields; `validUntil` in the future.
     * @param resourceId Requested resource.
     * @param fieldMask Requested fields.
     * @param purpose Hash of the purpose of use.
     * @param validUntil End of the requested period (unix seconds, exclusive).
     * @return requestId The new request id (ids start at 1).
     */
    function requestSharing(bytes32 resourceId, uint256 fieldMask, bytes32 purpose, uint64 validUntil)
        external
        returns (uint256 requestId);

    /**
     * @notice Approves a pending request and records the agreement for the requester and the request's purpose.
     * @dev Only the current provider of the requested resource, while the request's `validUntil` is in the future.
     * The agreement is in force from now until then; it replaces an earlier agreement for the same (requester,
     * resource, purpose), which ends with reason keccak256("renewed").
     * @param requestId Pending request.
     */
    function approveSharing(uint256 requestId) external;

    /**
     * @notice Ends the agreement made by an approved request, before its term.
     * @dev Only the current provider of the resource or the admin. The request's status becomes ENDED.
     * Reverts with {CatalogAgreementNotInForce} unless the request's agreement is the standing one and not ended.
     * @param requestId The approved request whose agreement ends.
     * @param reasonHash Hash of the written reason.
     */
    function endAgreement(uint256 requestId, bytes32 reasonHash) external;

    /**
     * @notice Denies a pending request.
     * @dev Only the current provider of the requested resource.
     * @param requestId Pending request.
     * @param reasonHash Hash of the written reason.
     */
    function denySharing(uint256 requestId, bytes32 reasonHash) external;

    /**
     * @notice Suspends or ends `department`'s access to `resourceId` (第十九条).
     * @dev Only the resource's current provider. `department` must be registered (it may be inactive: a
     * suspension outlives a reactivation). `until` is 0 to end access until lifted, or a time in the future.
     * Replaces a standing suspension, so a provider can lengthen or shorten one.
     * @param resourceId Catalogued resource id.
     * @param department The department whose access is suspended.
     * @param reasonHash Hash of the written reason (non-zero).
     * @param until End of the suspension (unix seconds, exclusive), or 0.
     */
    function suspendAccess(bytes32 resourceId, address department, bytes32 reasonHash, uint64 until) external;

    /**
     * @notice Lifts `department`'s suspension for `resourceId` before its end.
     * @dev Only the resource's current provider or the admin. Reverts with {CatalogNotSuspended} unless a
     * suspension is in force.
     * @param resourceId Catalogued resource id.
     * @param department The suspended department.
     */
    function liftSuspension(bytes32 resourceId, address department) external;

    /**
     * @notice The suspension of `department`'s access to `resourceId`, as last set.
     * @dev Not cleared when `until` passes: compare with the time of interest. Cleared when lifted.
     * @param resourceId Resource id.
     * @param department Department.
     * @return The suspension; `since` is 0 when none was set or it was lifted.
     */
    function suspension(bytes32 resourceId, address department) external view returns (Suspension memory);

    /**
     * @notice Asks the provider of `resourceId` to verify fields of a record the caller received (校核).
     * @dev Caller must be an active department; the resource catalogued; the mask non-empty and within its fields;
     * the reason non-zero. That `auditSeq` is a release to the caller is checked against the audit log off-chain.
     * @param resourceId The resource the record belongs to.
     * @param fieldMask The doubted fields.
     * @param auditSeq The audit log entry of the release.
     * @param reasonHash Hash of the written reason.
     * @return requestId The new request id (ids start at 1).
     */
    function requestVerification(bytes32 resourceId, uint256 fieldMask, uint64 auditSeq, bytes32 reasonHash)
        external
        returns (uint256 requestId);

    /**
     * @notice Extends an open verification request, once, until `until`.
     * @dev Only the resource's current provider, while the request is OPEN; `until` in the future; reason non-zero.
     * @param requestId The request.
     * @param until The new deadline (unix seconds).
     * @param reasonHash Hash of the written reason.
     */
    function extendVerification(uint256 requestId, uint64 until, bytes32 reasonHash) external;

    /**
     * @notice Answers a verification request.
     * @dev Only the resource's current provider, while the request is OPEN or EXTENDED.
     * @param requestId The request.
     * @param corrected Whether the provider corrected the record.
     * @param noteHash Hash of the written answer.
     */
    function resolveVerification(uint256 requestId, bool corrected, bytes32 noteHash) external;

    /**
     * @notice Declares an emergency on the green channel.
     * @dev Only an EMERGENCY holder. Departments must be registered and resources catalogued; 1..64 of each, and
     * all subjects or 1..256 listed subject ids. `until` in the future and at most 72 hours ahead.
     * @param eventHash Hash of the written description of the event.
     * @param legalBasisHash Hash of the legal basis cited.
     * @param departments The departments that may receive data under it.
     * @param resources The resources they may receive.
     * @param allSubjects Whether every subject is in scope.
     * @param subjects The subject ids in scope when not all (empty otherwise).
     * @param until Hard expiry (unix seconds, exclusive).
     * @return emergencyId The new emergency's id (ids start at 1).
     */
    function declareEmergency(
        bytes32 eventHash,
        bytes32 legalBasisHash,
        address[] calldata departments,
        bytes32[] calldata resources,
        bool allSubjects,
        bytes32[] calldata subjects,
        uint64 until
    ) external returns (uint256 emergencyId);

    /**
     * @notice Extends an emergency still in force.
     * @dev Only an EMERGENCY holder other than the one who declared it; `until` later than the current end and at
     * most 72 hours ahead.
     * @param emergencyId The emergency.
     * @param until The new hard expiry.
     */
    function extendEmergency(uint256 emergencyId, uint64 until) external;

    /**
     * @notice Records that the notice to the emergency's subjects is delayed, why and until when.
     * @dev Only an EMERGENCY holder; reason non-zero; `noticeBy` in the future. A later call replaces the date
     * while the current one has not passed; once it has, the notice is due and stays due.
     * @param emergencyId The emergency.
     * @param reasonHash Hash of the written reason.
     * @param noticeBy The date by which the subjects are told.
     */
    function delayEmergencyNotice(uint256 emergencyId, bytes32 reasonHash, uint64 noticeBy) external;

    /**
     * @notice A regulator's review of an emergency after its end.
     * @dev Only a REGULATOR holder, once, after `until`.
     * @param emergencyId The emergency.
     * @param proper Whether the use of the channel was proper.
     * @param noteHash Hash of the regulator's note.
     */
    function reviewEmergency(uint256 emergencyId, bool proper, bytes32 noteHash) external;

    /**
     * @notice An emergency.
     * @param emergencyId Emergency id.
     * @return The emergency; `declaredAt` is 0 when unknown.
     */
    function emergency(uint256 emergencyId) external view returns (Emergency memory);

    /**
     * @notice A verification request.
     * @param requestId Request id.
     * @return The request; status NONE when unknown.
     */
    function verificationRequest(uint256 requestId) external view returns (VerificationRequest memory);

    /**
     * @notice A sharing request.
     * @param requestId Request id.
     * @return The request; status NONE when unknown.
     */
    function sharingRequest(uint256 requestId) external view returns (SharingRequest memory);

    /**
     * @notice The latest approved agreement of `department` for `resourceId` and `purpose`.
     * @param department Requesting department.
     * @param resourceId Resource id.
     * @param purpose Hash of the purpose of use.
     * @return The agreement; `requestId` is 0 when none was ever approved.
     */
    function agreement(address department, bytes32 resourceId, bytes32 purpose) external view returns (Agreement memory);

    /**
     * @notice Number of sharing requests ever made (the latest id).
     * @return The count.
     */
    function requestCount() external view returns (uint256);
}
