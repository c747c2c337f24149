// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICatalog} from "../src/interfaces/ICatalog.sol";
import {IParticipantsGuarded} from "../src/interfaces/IParticipantsGuarded.sol";
import {Fixture} from "./utils/Fixture.sol";

contract CatalogTest is Fixture {
    bytes32 private constant RES_NEW = keccak256("marriage-records");
    bytes32 private constant RES_OPEN = keccak256("open-registry");
    bytes32 private constant PURPOSE_HASH = keccak256("social-assistance-eligibility");
    bytes32 private constant OTHER_PURPOSE_HASH = keccak256("marketing");
    bytes32 private constant REASON = keccak256("data used beyond the department's duties");
    bytes32 private constant EVENT = keccak256("flood in Licheng district, residents to be resettled");
    bytes32 private constant LEGAL_BASIS = keccak256("Emergency Response Law; PIPL art. 13(1)(4)");
    ICatalog.SharingClass private constant CONDITIONAL = ICatalog.SharingClass.CONDITIONAL;

    function setUp() public override {
        super.setUp();
        vm.prank(admin);
        catalog.registerResource(RES_OPEN, provider, ICatalog.SharingClass.UNCONDITIONAL, false, 4, keccak256("o1"));
    }

    function _adminOnly(address account) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IParticipantsGuarded.ParticipantsUnauthorized.selector, account, bytes32(0));
    }

    function _request(uint256 fieldMask) private returns (uint256) {
        return _request(fieldMask, PURPOSE_HASH);
    }

    function _request(uint256 fieldMask, bytes32 purpose) private returns (uint256) {
        vm.prank(requester);
        return catalog.requestSharing(RES_PENSION, fieldMask, purpose, uint64(block.timestamp + 30 days));
    }

    function _approved(uint256 fieldMask) private returns (uint256 id) {
        id = _request(fieldMask);
        vm.prank(provider);
        catalog.approveSharing(id);
    }

    // ---------------------------------------------------------------- registerResource

    function test_registerResource_storesActiveResource() public {
        vm.expectEmit(address(catalog));
        emit ICatalog.ResourceRegistered(RES_NEW, provider, CONDITIONAL, true, 256, keccak256("m1"));
        vm.prank(admin);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, true, 256, keccak256("m1"));

        ICatalog.Resource memory r = catalog.resource(RES_NEW);
        assertEq(r.provider, provider);
        assertEq(uint8(r.sharingClass), uint8(CONDITIONAL));
        assertTrue(r.sensitive);
        assertTrue(r.active);
        assertEq(r.fieldCount, 256);
        assertEq(r.schemaHash, keccak256("m1"));
    }

    function test_registerResource_revertsWhenNotAdmin() public {
        vm.expectRevert(_adminOnly(provider));
        vm.prank(provider);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, true, 8, keccak256("m1"));
    }

    function test_registerResource_revertsWhenExists() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogResourceExists.selector, RES_PENSION));
        vm.prank(admin);
        catalog.registerResource(RES_PENSION, provider, CONDITIONAL, true, 8, keccak256("m1"));
    }

    function test_registerResource_revertsOnUnknownProvider() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownProvider.selector, stranger));
        vm.prank(admin);
        catalog.registerResource(RES_NEW, stranger, CONDITIONAL, true, 8, keccak256("m1"));
    }

    function test_registerResource_revertsOnZeroFieldCount() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidFieldCount.selector, 0));
        vm.prank(admin);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, true, 0, keccak256("m1"));
    }

    function test_registerResource_revertsOnTooManyFields() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidFieldCount.selector, 257));
        vm.prank(admin);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, true, 257, keccak256("m1"));
    }

    // ---------------------------------------------------------------- updateResource

    function test_updateResource_replacesDescriptionKeepsActive() public {
        vm.prank(admin);
        catalog.setResourceActive(RES_PENSION, false);
        vm.expectEmit(address(catalog));
        emit ICatalog.ResourceUpdated(
            RES_PENSION, requester, ICatalog.SharingClass.NOT_SHARED, false, 20, keccak256("v2")
        );
        vm.prank(admin);
        catalog.updateResource(RES_PENSION, requester, ICatalog.SharingClass.NOT_SHARED, false, 20, keccak256("v2"));

        ICatalog.Resource memory r = catalog.resource(RES_PENSION);
        assertEq(r.provider, requester);
        assertEq(uint8(r.sharingClass), uint8(ICatalog.SharingClass.NOT_SHARED));
        assertFalse(r.sensitive);
        assertFalse(r.active);
        assertEq(r.fieldCount, 20);
        assertEq(r.schemaHash, keccak256("v2"));
    }

    function test_updateResource_revertsOnUnknownResource() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownResource.selector, RES_NEW));
        vm.prank(admin);
        catalog.updateResource(RES_NEW, provider, CONDITIONAL, true, 8, keccak256("m1"));
    }

    function test_updateResource_revertsOnUnknownProvider() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownProvider.selector, stranger));
        vm.prank(admin);
        catalog.updateResource(RES_PENSION, stranger, CONDITIONAL, true, 8, keccak256("m1"));
    }

    function test_updateResource_revertsOnInvalidFieldCount() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidFieldCount.selector, 0));
        vm.prank(admin);
        catalog.updateResource(RES_PENSION, provider, CONDITIONAL, true, 0, keccak256("m1"));
    }

    function test_updateResource_revertsWhenNotAdmin() public {
        vm.expectRevert(_adminOnly(stranger));
        vm.prank(stranger);
        catalog.updateResource(RES_PENSION, provider, CONDITIONAL, true, 8, keccak256("m1"));
    }

    // ---------------------------------------------------------------- setResourceActive

    function test_setResourceActive_switchesOff() public {
        vm.expectEmit(address(catalog));
        emit ICatalog.ResourceActiveSet(RES_PENSION, false);
        vm.prank(admin);
        catalog.setResourceActive(RES_PENSION, false);
        assertFalse(catalog.resource(RES_PENSION).active);
    }

    function test_setResourceActive_isIdempotentWithoutEvent() public {
        vm.recordLogs();
        vm.prank(admin);
        catalog.setResourceActive(RES_PENSION, true);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_setResourceActive_revertsOnUnknownResource() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownResource.selector, RES_NEW));
        vm.prank(admin);
        catalog.setResourceActive(RES_NEW, false);
    }

    function test_setResourceActive_revertsWhenNotAdmin() public {
        vm.expectRevert(_adminOnly(provider));
        vm.prank(provider);
        catalog.setResourceActive(RES_PENSION, false);
    }

    function test_resource_unknownHasZeroProvider() public view {
        assertEq(catalog.resource(RES_NEW).provider, address(0));
        assertEq(address(catalog.participants()), address(participants));
    }

    // ---------------------------------------------------------------- requestSharing

    function test_requestSharing_createsPendingRequest() public {
        uint64 validUntil = uint64(block.timestamp + 30 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.SharingRequested(1, requester, RES_PENSION, 0x0f, PURPOSE_HASH, validUntil);
        uint256 id = _request(0x0f);
        assertEq(id, 1);
        assertEq(_request(0x01), 2);
        assertEq(catalog.requestCount(), 2);

        ICatalog.SharingRequest memory r = catalog.sharingRequest(1);
        assertEq(r.requester, requester);
        assertEq(r.resourceId, RES_PENSION);
        assertEq(r.fieldMask, 0x0f);
        assertEq(r.purpose, PURPOSE_HASH);
        assertEq(r.validUntil, validUntil);
        assertEq(r.requestedAt, block.timestamp);
        assertEq(r.decidedAt, 0);
        assertEq(uint8(r.status), uint8(ICatalog.RequestStatus.PENDING));
    }

    function test_requestSharing_revertsWhenNotDepartment() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotDepartment.selector, stranger));
        vm.prank(stranger);
        catalog.requestSharing(RES_PENSION, 1, PURPOSE_HASH, uint64(block.timestamp + 1 days));
    }

    function test_requestSharing_revertsWhenDepartmentInactive() public {
        vm.prank(admin);
        participants.setDepartmentActive(requester, false);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotDepartment.selector, requester));
        _request(1);
    }

    function test_requestSharing_revertsOnUnknownResource() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownResource.selector, RES_NEW));
        vm.prank(requester);
        catalog.requestSharing(RES_NEW, 1, PURPOSE_HASH, uint64(block.timestamp + 1 days));
    }

    function test_requestSharing_revertsWhenNotConditional() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogResourceNotConditional.selector, RES_OPEN));
        vm.prank(requester);
        catalog.requestSharing(RES_OPEN, 1, PURPOSE_HASH, uint64(block.timestamp + 1 days));
    }

    function test_requestSharing_revertsWhenResourceInactive() public {
        vm.prank(admin);
        catalog.setResourceActive(RES_PENSION, false);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogResourceInactive.selector, RES_PENSION));
        _request(1);
    }

    function test_requestSharing_revertsOnEmptyFieldMask() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogEmptyFieldMask.selector));
        _request(0);
    }

    function test_requestSharing_revertsOnFieldBeyondCount() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogFieldMaskOutOfRange.selector, 1 << 12, 12));
        _request(1 << 12);
    }

    function test_requestSharing_revertsOnPastValidity() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidValidity.selector, uint64(block.timestamp)));
        vm.prank(requester);
        catalog.requestSharing(RES_PENSION, 1, PURPOSE_HASH, uint64(block.timestamp));
    }

    function test_requestSharing_acceptsFullMaskOf256Fields() public {
        vm.startPrank(admin);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, true, 256, keccak256("m1"));
        vm.stopPrank();
        vm.prank(requester);
        uint256 id = catalog.requestSharing(RES_NEW, type(uint256).max, PURPOSE_HASH, uint64(block.timestamp + 1));
        assertEq(catalog.sharingRequest(id).fieldMask, type(uint256).max);
    }

    // ---------------------------------------------------------------- approveSharing

    function test_approveSharing_recordsAgreement() public {
        uint256 id = _request(0x0f);
        vm.warp(block.timestamp + 1 hours);
        vm.expectEmit(address(catalog));
        emit ICatalog.SharingApproved(id, provider, uint64(block.timestamp));
        vm.prank(provider);
        catalog.approveSharing(id);

        ICatalog.SharingRequest memory r = catalog.sharingRequest(id);
        assertEq(uint8(r.status), uint8(ICatalog.RequestStatus.APPROVED));
        assertEq(r.decidedAt, block.timestamp);
        ICatalog.Agreement memory a = catalog.agreement(requester, RES_PENSION, PURPOSE_HASH);
        assertEq(a.fieldMask, 0x0f);
        assertEq(a.validFrom, block.timestamp);
        assertEq(a.validUntil, r.validUntil);
        assertEq(a.endedAt, 0);
        assertEq(a.requestId, id);
        assertEq(catalog.agreement(requester, RES_PENSION, OTHER_PURPOSE_HASH).requestId, 0);
    }

    function test_approveSharing_keepsAgreementsOfOtherPurposes() public {
        uint256 first = _request(0x0f);
        uint256 second = _request(0x30, OTHER_PURPOSE_HASH);
        vm.startPrank(provider);
        catalog.approveSharing(first);
        vm.recordLogs();
        catalog.approveSharing(second);
        vm.stopPrank();
        assertEq(vm.getRecordedLogs().length, 1); // SharingApproved only: nothing was replaced

        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).requestId, first);
        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).fieldMask, 0x0f);
        assertEq(catalog.agreement(requester, RES_PENSION, OTHER_PURPOSE_HASH).requestId, second);
        assertEq(catalog.agreement(requester, RES_PENSION, OTHER_PURPOSE_HASH).fieldMask, 0x30);
        assertEq(uint8(catalog.sharingRequest(first).status), uint8(ICatalog.RequestStatus.APPROVED));
    }

    function test_approveSharing_renewsAgreementOfSamePurpose() public {
        uint256 first = _request(0x0f);
        uint256 second = _request(0x01);
        vm.startPrank(provider);
        catalog.approveSharing(first);
        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.AgreementEnded(first, provider, keccak256("renewed"), uint64(block.timestamp));
        vm.expectEmit(address(catalog));
        emit ICatalog.SharingApproved(second, provider, uint64(block.timestamp));
        catalog.approveSharing(second);
        vm.stopPrank();

        ICatalog.Agreement memory a = catalog.agreement(requester, RES_PENSION, PURPOSE_HASH);
        assertEq(a.requestId, second);
        assertEq(a.fieldMask, 0x01);
        assertEq(a.validFrom, block.timestamp);
        assertEq(uint8(catalog.sharingRequest(first).status), uint8(ICatalog.RequestStatus.ENDED));
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogAgreementNotInForce.selector, first));
        vm.prank(provider);
        catalog.endAgreement(first, bytes32(0));
    }

    function test_approveSharing_revertsAfterRequestedPeriod() public {
        uint256 id = _approved(0x0f);
        uint256 late = _request(0x01);
        uint64 validUntil = catalog.sharingRequest(late).validUntil;
        vm.warp(validUntil);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidValidity.selector, validUntil));
        vm.prank(provider);
        catalog.approveSharing(late);
        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).requestId, id);
    }

    function test_approveSharing_revertsOnUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownRequest.selector, 7));
        vm.prank(provider);
        catalog.approveSharing(7);
    }

    function test_approveSharing_revertsWhenNotProvider() public {
        uint256 id = _request(1);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotProvider.selector, id, requester));
        vm.prank(requester);
        catalog.approveSharing(id);
    }

    function test_approveSharing_revertsWhenAlreadyDecided() public {
        uint256 id = _request(1);
        vm.startPrank(provider);
        catalog.approveSharing(id);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogRequestNotPending.selector, id));
        catalog.approveSharing(id);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- denySharing

    function test_denySharing_marksDenied() public {
        uint256 id = _request(1);
        vm.expectEmit(address(catalog));
        emit ICatalog.SharingDenied(id, provider, keccak256("no legal basis"), uint64(block.timestamp));
        vm.prank(provider);
        catalog.denySharing(id, keccak256("no legal basis"));
        assertEq(uint8(catalog.sharingRequest(id).status), uint8(ICatalog.RequestStatus.DENIED));
        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).requestId, 0);
    }

    function test_denySharing_revertsOnUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownRequest.selector, 0));
        vm.prank(provider);
        catalog.denySharing(0, bytes32(0));
    }

    function test_denySharing_revertsWhenNotProvider() public {
        uint256 id = _request(1);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotProvider.selector, id, stranger));
        vm.prank(stranger);
        catalog.denySharing(id, bytes32(0));
    }

    function test_denySharing_revertsWhenAlreadyDecided() public {
        uint256 id = _request(1);
        vm.startPrank(provider);
        catalog.denySharing(id, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogRequestNotPending.selector, id));
        catalog.denySharing(id, bytes32(0));
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- endAgreement

    function test_endAgreement_byProviderEndsIt() public {
        uint256 id = _approved(0x0f);
        vm.warp(block.timestamp + 2 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.AgreementEnded(id, provider, keccak256("withdrawn"), uint64(block.timestamp));
        vm.prank(provider);
        catalog.endAgreement(id, keccak256("withdrawn"));

        assertEq(uint8(catalog.sharingRequest(id).status), uint8(ICatalog.RequestStatus.ENDED));
        ICatalog.Agreement memory a = catalog.agreement(requester, RES_PENSION, PURPOSE_HASH);
        assertEq(a.endedAt, block.timestamp);
        assertEq(a.requestId, id);
        assertEq(a.fieldMask, 0x0f);
    }

    function test_endAgreement_byAdminEndsIt() public {
        uint256 id = _approved(0x0f);
        vm.expectEmit(address(catalog));
        emit ICatalog.AgreementEnded(id, admin, keccak256("audit"), uint64(block.timestamp));
        vm.prank(admin);
        catalog.endAgreement(id, keccak256("audit"));
        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).endedAt, block.timestamp);
    }

    function test_endAgreement_leavesOtherPurposesInForce() public {
        uint256 first = _approved(0x0f);
        uint256 second = _request(0x0f, OTHER_PURPOSE_HASH);
        vm.startPrank(provider);
        catalog.approveSharing(second);
        catalog.endAgreement(first, bytes32(0));
        vm.stopPrank();
        assertEq(catalog.agreement(requester, RES_PENSION, OTHER_PURPOSE_HASH).endedAt, 0);
        assertEq(uint8(catalog.sharingRequest(second).status), uint8(ICatalog.RequestStatus.APPROVED));
    }

    function test_endAgreement_thenApprovalOfSamePurposeStartsAfresh() public {
        uint256 first = _approved(0x0f);
        uint256 second = _request(0x03);
        vm.startPrank(provider);
        catalog.endAgreement(first, bytes32(0));
        vm.recordLogs();
        catalog.approveSharing(second);
        vm.stopPrank();
        assertEq(vm.getRecordedLogs().length, 1); // no second AgreementEnded for the ended one
        ICatalog.Agreement memory a = catalog.agreement(requester, RES_PENSION, PURPOSE_HASH);
        assertEq(a.requestId, second);
        assertEq(a.endedAt, 0);
    }

    function test_endAgreement_revertsOnUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownRequest.selector, 9));
        vm.prank(provider);
        catalog.endAgreement(9, bytes32(0));
    }

    function test_endAgreement_revertsWhenRequesterTries() public {
        uint256 id = _approved(0x0f);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotProvider.selector, id, requester));
        vm.prank(requester);
        catalog.endAgreement(id, bytes32(0));
    }

    function test_endAgreement_revertsWhenStrangerTries() public {
        uint256 id = _approved(0x0f);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotProvider.selector, id, stranger));
        vm.prank(stranger);
        catalog.endAgreement(id, bytes32(0));
    }

    function test_endAgreement_revertsWhenPending() public {
        uint256 id = _request(0x0f);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogAgreementNotInForce.selector, id));
        vm.prank(provider);
        catalog.endAgreement(id, bytes32(0));
    }

    function test_endAgreement_revertsWhenDenied() public {
        uint256 id = _request(0x0f);
        vm.startPrank(provider);
        catalog.denySharing(id, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogAgreementNotInForce.selector, id));
        catalog.endAgreement(id, bytes32(0));
        vm.stopPrank();
    }

    function test_endAgreement_revertsWhenAlreadyEnded() public {
        uint256 id = _approved(0x0f);
        vm.startPrank(provider);
        catalog.endAgreement(id, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogAgreementNotInForce.selector, id));
        catalog.endAgreement(id, bytes32(0));
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- suspendAccess / liftSuspension

    function _notProvider(address caller) private pure returns (bytes memory) {
        return abi.encodeWithSelector(ICatalog.CatalogNotResourceProvider.selector, RES_PENSION, caller);
    }

    function test_suspendAccess_recordsAndEmits() public {
        uint64 until = uint64(block.timestamp + 7 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.AccessSuspended(RES_PENSION, requester, provider, REASON, uint64(block.timestamp), until);
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, until);

        ICatalog.Suspension memory s = catalog.suspension(RES_PENSION, requester);
        assertEq(s.since, block.timestamp);
        assertEq(s.until, until);
        assertEq(s.reasonHash, REASON);
    }

    function test_suspendAccess_withoutEndEndsAccess() public {
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        ICatalog.Suspension memory s = catalog.suspension(RES_PENSION, requester);
        assertEq(s.since, block.timestamp);
        assertEq(s.until, 0);
    }

    function test_suspendAccess_replacesStandingSuspension() public {
        vm.startPrank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, uint64(block.timestamp + 1 days));
        vm.warp(block.timestamp + 1 hours);
        catalog.suspendAccess(RES_PENSION, requester, keccak256("repeated misuse"), 0);
        vm.stopPrank();
        ICatalog.Suspension memory s = catalog.suspension(RES_PENSION, requester);
        assertEq(s.since, block.timestamp);
        assertEq(s.until, 0);
        assertEq(s.reasonHash, keccak256("repeated misuse"));
    }

    function test_suspendAccess_leavesOtherResourcesAndDepartments() public {
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        assertEq(catalog.suspension(RES_OPEN, requester).since, 0);
        assertEq(catalog.suspension(RES_PENSION, provider).since, 0);
    }

    function test_suspendAccess_revertsWhenNotProvider() public {
        vm.expectRevert(_notProvider(admin));
        vm.prank(admin);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        vm.expectRevert(_notProvider(requester));
        vm.prank(requester);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
    }

    function test_suspendAccess_revertsOnUnknownResource() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownResource.selector, RES_NEW));
        vm.prank(provider);
        catalog.suspendAccess(RES_NEW, requester, REASON, 0);
    }

    function test_suspendAccess_revertsOnUnknownDepartment() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownDepartment.selector, stranger));
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, stranger, REASON, 0);
    }

    function test_suspendAccess_revertsWithoutReason() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogMissingReason.selector));
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, bytes32(0), 0);
    }

    function test_suspendAccess_revertsOnPastEnd() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidValidity.selector, now_));
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, now_);
    }

    function test_liftSuspension_byProviderClearsIt() public {
        vm.startPrank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.SuspensionLifted(RES_PENSION, requester, provider, uint64(block.timestamp));
        catalog.liftSuspension(RES_PENSION, requester);
        vm.stopPrank();
        assertEq(catalog.suspension(RES_PENSION, requester).since, 0);
    }

    function test_liftSuspension_byAdminClearsIt() public {
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        vm.prank(admin);
        catalog.liftSuspension(RES_PENSION, requester);
        assertEq(catalog.suspension(RES_PENSION, requester).since, 0);
    }

    function test_liftSuspension_revertsWhenNoneStands() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotSuspended.selector, RES_PENSION, requester));
        vm.prank(provider);
        catalog.liftSuspension(RES_PENSION, requester);
    }

    function test_liftSuspension_revertsWhenAlreadyOver() public {
        vm.startPrank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, uint64(block.timestamp + 1 days));
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotSuspended.selector, RES_PENSION, requester));
        catalog.liftSuspension(RES_PENSION, requester);
        vm.stopPrank();
    }

    function test_liftSuspension_revertsWhenRequesterTries() public {
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        vm.expectRevert(_notProvider(requester));
        vm.prank(requester);
        catalog.liftSuspension(RES_PENSION, requester);
    }

    function testFuzz_suspendAccess_endMustBeZeroOrFuture(uint64 until) public {
        bool valid = until == 0 || until > block.timestamp;
        if (!valid) vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidValidity.selector, until));
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, until);
        assertEq(catalog.suspension(RES_PENSION, requester).since != 0, valid);
    }

    function testFuzz_liftSuspension_onlyProviderOrAdmin(address caller) public {
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, REASON, 0);
        bool allowed = caller == provider || caller == admin;
        if (!allowed) vm.expectRevert(_notProvider(caller));
        vm.prank(caller);
        catalog.liftSuspension(RES_PENSION, requester);
        assertEq(catalog.suspension(RES_PENSION, requester).since == 0, allowed);
    }

    // ---------------------------------------------------------------- verification requests (校核)

    function _verification() private returns (uint256) {
        vm.prank(requester);
        return catalog.requestVerification(RES_PENSION, 0x03, 41, REASON);
    }

    function _notVerificationProvider(uint256 id, address caller) private pure returns (bytes memory) {
        return abi.encodeWithSelector(ICatalog.CatalogNotVerificationProvider.selector, id, caller);
    }

    function _notOpen(uint256 id, ICatalog.VerificationStatus status) private pure returns (bytes memory) {
        return abi.encodeWithSelector(ICatalog.CatalogVerificationNotOpen.selector, id, status);
    }

    function test_requestVerification_recordsAndEmits() public {
        vm.expectEmit(address(catalog));
        emit ICatalog.VerificationRequested(1, requester, RES_PENSION, 41, 0x03, REASON, uint64(block.timestamp));
        uint256 id = _verification();

        ICatalog.VerificationRequest memory v = catalog.verificationRequest(id);
        assertEq(id, 1);
        assertEq(v.requester, requester);
        assertEq(v.auditSeq, 41);
        assertEq(v.requestedAt, block.timestamp);
        assertEq(v.resourceId, RES_PENSION);
        assertEq(uint8(v.status), uint8(ICatalog.VerificationStatus.OPEN));
    }

    function test_requestVerification_revertsWhenNotDepartment() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotDepartment.selector, stranger));
        vm.prank(stranger);
        catalog.requestVerification(RES_PENSION, 0x03, 41, REASON);
    }

    function test_requestVerification_revertsOnBadFieldMask() public {
        vm.startPrank(requester);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogEmptyFieldMask.selector));
        catalog.requestVerification(RES_PENSION, 0, 41, REASON);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogFieldMaskOutOfRange.selector, 1 << 12, 12));
        catalog.requestVerification(RES_PENSION, 1 << 12, 41, REASON);
        vm.stopPrank();
    }

    function test_requestVerification_revertsWithoutReason() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogMissingReason.selector));
        vm.prank(requester);
        catalog.requestVerification(RES_PENSION, 0x03, 41, bytes32(0));
    }

    function test_extendVerification_onceByProvider() public {
        uint256 id = _verification();
        uint64 until = uint64(block.timestamp + 14 days);
        vm.startPrank(provider);
        vm.expectEmit(address(catalog));
        emit ICatalog.VerificationExtended(id, provider, until, keccak256("needs the archive"));
        catalog.extendVerification(id, until, keccak256("needs the archive"));
        assertEq(catalog.verificationRequest(id).extendedUntil, until);
        vm.expectRevert(_notOpen(id, ICatalog.VerificationStatus.EXTENDED));
        catalog.extendVerification(id, until + 1 days, keccak256("again"));
        vm.stopPrank();
    }

    function test_extendVerification_revertsWhenNotProvider() public {
        uint256 id = _verification();
        vm.expectRevert(_notVerificationProvider(id, requester));
        vm.prank(requester);
        catalog.extendVerification(id, uint64(block.timestamp + 1 days), REASON);
    }

    function test_extendVerification_revertsOnPastEndOrMissingReason() public {
        uint256 id = _verification();
        vm.startPrank(provider);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidValidity.selector, uint64(block.timestamp)));
        catalog.extendVerification(id, uint64(block.timestamp), REASON);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogMissingReason.selector));
        catalog.extendVerification(id, uint64(block.timestamp + 1 days), bytes32(0));
        vm.stopPrank();
    }

    function test_resolveVerification_recordsTheAnswer() public {
        uint256 id = _verification();
        vm.warp(block.timestamp + 2 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.VerificationResolved(id, provider, true, keccak256("fixed"), uint64(block.timestamp));
        vm.prank(provider);
        catalog.resolveVerification(id, true, keccak256("fixed"));
        ICatalog.VerificationRequest memory v = catalog.verificationRequest(id);
        assertEq(uint8(v.status), uint8(ICatalog.VerificationStatus.RESOLVED));
        assertTrue(v.corrected);
        assertEq(v.resolvedAt, block.timestamp);
    }

    function test_resolveVerification_afterExtension() public {
        uint256 id = _verification();
        vm.startPrank(provider);
        catalog.extendVerification(id, uint64(block.timestamp + 7 days), REASON);
        catalog.resolveVerification(id, false, keccak256("the record is right"));
        vm.stopPrank();
        assertFalse(catalog.verificationRequest(id).corrected);
    }

    function test_resolveVerification_revertsWhenResolved() public {
        uint256 id = _verification();
        vm.startPrank(provider);
        catalog.resolveVerification(id, false, bytes32(0));
        vm.expectRevert(_notOpen(id, ICatalog.VerificationStatus.RESOLVED));
        catalog.resolveVerification(id, true, bytes32(0));
        vm.expectRevert(_notOpen(id, ICatalog.VerificationStatus.RESOLVED));
        catalog.extendVerification(id, uint64(block.timestamp + 1 days), REASON);
        vm.stopPrank();
    }

    function test_resolveVerification_revertsOnUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownVerification.selector, 9));
        vm.prank(provider);
        catalog.resolveVerification(9, true, bytes32(0));
    }

    function testFuzz_resolveVerification_onlyProvider(address caller) public {
        uint256 id = _verification();
        if (caller != provider) vm.expectRevert(_notVerificationProvider(id, caller));
        vm.prank(caller);
        catalog.resolveVerification(id, false, bytes32(0));
    }

    // ---------------------------------------------------------------- the emergency green channel

    function _departments() private view returns (address[] memory list) {
        list = new address[](1);
        list[0] = requester;
    }

    function _resources() private pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = RES_PENSION;
    }

    function _declare(uint64 lasts) private returns (uint256) {
        vm.prank(emergency);
        return catalog.declareEmergency(
            EVENT, LEGAL_BASIS, _departments(), _resources(), true, new bytes32[](0), uint64(block.timestamp) + lasts
        );
    }

    function _secondHolder() private returns (address second) {
        second = vm.addr(_key("emergency-2"));
        bytes32 role = keccak256("EMERGENCY_ROLE");
        vm.prank(admin);
        participants.grantRole(role, second);
    }

    function test_declareEmergency_recordsAndEmits() public {
        bytes32[] memory subjects = new bytes32[](1);
        subjects[0] = keccak256("subject-1");
        uint64 until = uint64(block.timestamp + 72 hours);
        vm.expectEmit(address(catalog));
        emit ICatalog.EmergencyDeclared(1, emergency, EVENT, LEGAL_BASIS, false, uint64(block.timestamp), until);
        vm.expectEmit(address(catalog));
        emit ICatalog.EmergencyScope(1, _departments(), _resources(), subjects);
        vm.prank(emergency);
        uint256 id = catalog.declareEmergency(EVENT, LEGAL_BASIS, _departments(), _resources(), false, subjects, until);

        ICatalog.Emergency memory e = catalog.emergency(id);
        assertEq(e.declaredBy, emergency);
        assertEq(e.declaredAt, block.timestamp);
        assertEq(e.until, until);
        assertFalse(e.allSubjects);
    }

    function test_declareEmergency_revertsWhenNotEmergencyHolder() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantsGuarded.ParticipantsUnauthorized.selector, requester, keccak256("EMERGENCY_ROLE")
            )
        );
        vm.prank(requester);
        catalog.declareEmergency(
            EVENT, LEGAL_BASIS, _departments(), _resources(), true, new bytes32[](0), uint64(block.timestamp + 1)
        );
    }

    function test_declareEmergency_revertsBeyond72Hours() public {
        uint64 latest = uint64(block.timestamp + 72 hours);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidEmergencyEnd.selector, latest + 1, latest));
        _declare(72 hours + 1);
    }

    function test_declareEmergency_revertsOnBadScope() public {
        vm.startPrank(emergency);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidEmergencyScope.selector));
        catalog.declareEmergency(
            EVENT, LEGAL_BASIS, new address[](0), _resources(), true, new bytes32[](0), uint64(block.timestamp + 1)
        );
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidEmergencyScope.selector));
        catalog.declareEmergency(
            EVENT, LEGAL_BASIS, _departments(), _resources(), false, new bytes32[](0), uint64(block.timestamp + 1)
        );
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidEmergencyScope.selector));
        catalog.declareEmergency(
            EVENT, LEGAL_BASIS, _departments(), _resources(), true, new bytes32[](1), uint64(block.timestamp + 1)
        );
        address[] memory strangers = new address[](1);
        strangers[0] = stranger;
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownDepartment.selector, stranger));
        catalog.declareEmergency(
            EVENT, LEGAL_BASIS, strangers, _resources(), true, new bytes32[](0), uint64(block.timestamp + 1)
        );
        vm.stopPrank();
    }

    function test_extendEmergency_onlyByAnotherHolder() public {
        uint256 id = _declare(24 hours);
        uint64 until = uint64(block.timestamp + 48 hours);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogExtensionBySameHolder.selector, id, emergency));
        vm.prank(emergency);
        catalog.extendEmergency(id, until);

        address second = _secondHolder();
        vm.expectEmit(address(catalog));
        emit ICatalog.EmergencyExtended(id, second, until);
        vm.prank(second);
        catalog.extendEmergency(id, until);
        assertEq(catalog.emergency(id).until, until);
        assertEq(catalog.emergency(id).extendedBy, second);
    }

    function test_extendEmergency_revertsWhenOverOrTooFar() public {
        uint256 id = _declare(1 hours);
        address second = _secondHolder();
        uint64 latest = uint64(block.timestamp + 72 hours);
        vm.startPrank(second);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogInvalidEmergencyEnd.selector, latest + 1, latest));
        catalog.extendEmergency(id, latest + 1);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogEmergencyOver.selector, id, uint64(block.timestamp)));
        catalog.extendEmergency(id, uint64(block.timestamp + 1 hours));
        vm.stopPrank();
    }

    function test_delayEmergencyNotice_recordsReasonAndDate() public {
        uint256 id = _declare(24 hours);
        uint64 noticeBy = uint64(block.timestamp + 10 days);
        vm.expectEmit(address(catalog));
        emit ICatalog.EmergencyNoticeDelayed(id, emergency, REASON, noticeBy);
        vm.prank(emergency);
        catalog.delayEmergencyNotice(id, REASON, noticeBy);
        assertEq(catalog.emergency(id).noticeBy, noticeBy);

        vm.startPrank(emergency);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogMissingReason.selector));
        catalog.delayEmergencyNotice(id, bytes32(0), noticeBy);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogUnknownEmergency.selector, 9));
        catalog.delayEmergencyNotice(9, REASON, noticeBy);
        vm.stopPrank();
    }

    function test_delayEmergencyNotice_movesTheDateOnlyWhileItIsAhead() public {
        uint256 id = _declare(24 hours);
        uint64 first = uint64(block.timestamp + 2 days);
        vm.startPrank(emergency);
        catalog.delayEmergencyNotice(id, REASON, first);
        catalog.delayEmergencyNotice(id, REASON, first + 1 days); // still ahead: replaced
        assertEq(catalog.emergency(id).noticeBy, first + 1 days);

        vm.warp(first + 1 days);
        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNoticeAlreadyDue.selector, id, first + 1 days));
        catalog.delayEmergencyNotice(id, REASON, first + 5 days);
        vm.stopPrank();
        assertEq(catalog.emergency(id).noticeBy, first + 1 days);
    }

    function test_reviewEmergency_onceAfterItsEnd() public {
        uint256 id = _declare(24 hours);
        vm.expectRevert(
            abi.encodeWithSelector(ICatalog.CatalogEmergencyNotOver.selector, id, uint64(block.timestamp + 24 hours))
        );
        vm.prank(regulator);
        catalog.reviewEmergency(id, true, keccak256("note"));

        vm.warp(block.timestamp + 24 hours);
        vm.expectEmit(address(catalog));
        emit ICatalog.EmergencyReviewed(id, regulator, false, keccak256("note"), uint64(block.timestamp));
        vm.prank(regulator);
        catalog.reviewEmergency(id, false, keccak256("note"));
        ICatalog.Emergency memory e = catalog.emergency(id);
        assertEq(e.reviewedAt, block.timestamp);
        assertFalse(e.proper);

        vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogEmergencyReviewed.selector, id));
        vm.prank(regulator);
        catalog.reviewEmergency(id, true, keccak256("again"));
    }

    function test_reviewEmergency_revertsWhenNotRegulator() public {
        uint256 id = _declare(1 hours);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IParticipantsGuarded.ParticipantsUnauthorized.selector, emergency, keccak256("REGULATOR_ROLE")
            )
        );
        vm.prank(emergency);
        catalog.reviewEmergency(id, true, bytes32(0));
    }

    function testFuzz_declareEmergency_expiryWithin72Hours(uint64 lasts) public {
        lasts = uint64(bound(lasts, 0, 200 hours));
        uint64 latest = uint64(block.timestamp + 72 hours);
        if (lasts == 0 || lasts > 72 hours) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ICatalog.CatalogInvalidEmergencyEnd.selector, uint64(block.timestamp) + lasts, latest
                )
            );
        }
        _declare(lasts);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_endAgreement_onlyProviderOrAdmin(address caller) public {
        uint256 id = _approved(0x0f);
        bool allowed = caller == provider || caller == admin;
        if (!allowed) vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogNotProvider.selector, id, caller));
        vm.prank(caller);
        catalog.endAgreement(id, bytes32(0));
        assertEq(catalog.agreement(requester, RES_PENSION, PURPOSE_HASH).endedAt != 0, allowed);
    }

    function testFuzz_approveSharing_agreementTermRunsFromApproval(uint256 delay, uint256 fieldMask) public {
        delay = bound(delay, 0, 29 days);
        fieldMask = bound(fieldMask, 1, (1 << 12) - 1);
        uint256 id = _request(fieldMask);
        uint64 validUntil = catalog.sharingRequest(id).validUntil;
        vm.warp(block.timestamp + delay);
        vm.prank(provider);
        catalog.approveSharing(id);
        ICatalog.Agreement memory a = catalog.agreement(requester, RES_PENSION, PURPOSE_HASH);
        assertEq(a.validFrom, block.timestamp);
        assertEq(a.validUntil, validUntil);
        assertEq(a.fieldMask, fieldMask);
    }

    function testFuzz_requestSharing_maskMustFitFieldCount(uint16 fieldCount, uint256 fieldMask) public {
        fieldCount = uint16(bound(fieldCount, 1, 256));
        vm.prank(admin);
        catalog.registerResource(RES_NEW, provider, CONDITIONAL, false, fieldCount, keccak256("m1"));
        bool fits = fieldCount == 256 || fieldMask >> fieldCount == 0;
        if (fieldMask == 0) {
            vm.expectRevert(abi.encodeWithSelector(ICatalog.CatalogEmptyFieldMask.selector));
        } else if (!fits) {
            vm.expectRevert(
                abi.encodeWithSelector(ICatalog.CatalogFieldMaskOutOfRange.selector, fieldMask, uint256(fieldCount))
            );
        }
        vm.prank(requester);
        catalog.requestSharing(RES_NEW, fieldMask, PURPOSE_HASH, uint64(block.timestamp + 1));
    }
}
