// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Participants} from "../src/Participants.sol";
import {IParticipants} from "../src/interfaces/IParticipants.sol";
import {Fixture} from "./utils/Fixture.sol";

contract ParticipantsTest is Fixture {
    address private newDept = address(0xD0D0);

    function _unauthorized(address account, bytes32 role) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ---------------------------------------------------------------- constructor and constants

    function test_constructor_grantsAdminRole() public view {
        assertTrue(participants.hasRole(ADMIN_ROLE, admin));
        assertEq(participants.roleCount(admin), 1);
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroAddress.selector));
        new Participants(address(0), attester);
    }

    function test_constructor_revertsOnZeroAttester() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroAddress.selector));
        new Participants(admin, address(0));
    }

    function test_constructor_makesAttestersTheirOwnAdmin() public view {
        assertTrue(participants.hasRole(IDENTITY_ATTESTER_ROLE, attester));
        assertFalse(participants.hasRole(IDENTITY_ATTESTER_ROLE, admin));
        assertEq(participants.getRoleAdmin(IDENTITY_ATTESTER_ROLE), IDENTITY_ATTESTER_ROLE);
        assertEq(participants.getRoleAdmin(RELAYER_ROLE), ADMIN_ROLE);
    }

    // ---------------------------------------------------------------- the attester role

    function test_grantRole_adminCannotGrantAttester() public {
        vm.expectRevert(_unauthorized(admin, IDENTITY_ATTESTER_ROLE));
        vm.prank(admin);
        participants.grantRole(IDENTITY_ATTESTER_ROLE, admin);
    }

    function test_revokeRole_adminCannotRevokeAttester() public {
        vm.expectRevert(_unauthorized(admin, IDENTITY_ATTESTER_ROLE));
        vm.prank(admin);
        participants.revokeRole(IDENTITY_ATTESTER_ROLE, attester);
    }

    function test_grantRole_attesterGrantsAndRevokesAttester() public {
        vm.startPrank(attester);
        participants.grantRole(IDENTITY_ATTESTER_ROLE, stranger);
        assertTrue(participants.hasRole(IDENTITY_ATTESTER_ROLE, stranger));
        participants.revokeRole(IDENTITY_ATTESTER_ROLE, stranger);
        vm.stopPrank();
        assertFalse(participants.hasRole(IDENTITY_ATTESTER_ROLE, stranger));
    }

    function test_roleConstants_areHashesOfTheirNames() public view {
        assertEq(participants.DEFAULT_ADMIN_ROLE(), bytes32(0));
        assertEq(participants.DEPARTMENT_ROLE(), keccak256("DEPARTMENT_ROLE"));
        assertEq(participants.REGULATOR_ROLE(), keccak256("REGULATOR_ROLE"));
        assertEq(participants.IDENTITY_ATTESTER_ROLE(), keccak256("IDENTITY_ATTESTER_ROLE"));
        assertEq(participants.RELAYER_ROLE(), keccak256("RELAYER_ROLE"));
        assertEq(participants.ANCHORER_ROLE(), keccak256("ANCHORER_ROLE"));
        assertEq(participants.EMERGENCY_ROLE(), keccak256("EMERGENCY_ROLE"));
    }

    // ---------------------------------------------------------------- registerDepartment

    function test_registerDepartment_storesAndGrantsRole() public {
        vm.expectEmit(address(participants));
        emit IParticipants.DepartmentRegistered(newDept, "TAX", "Tax Bureau");
        vm.expectEmit(address(participants));
        emit IAccessControl.RoleGranted(DEPARTMENT_ROLE, newDept, admin);
        vm.prank(admin);
        participants.registerDepartment(newDept, "TAX", "Tax Bureau");

        (bytes32 code, string memory name, bool active) = participants.department(newDept);
        assertEq(code, bytes32("TAX"));
        assertEq(name, "Tax Bureau");
        assertTrue(active);
        assertEq(participants.departmentByCode("TAX"), newDept);
        assertTrue(participants.isActiveDepartment(newDept));
        assertTrue(participants.hasRole(DEPARTMENT_ROLE, newDept));
        assertEq(participants.roleCount(newDept), 1);
    }

    function test_registerDepartment_revertsWhenNotAdmin() public {
        vm.expectRevert(_unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        participants.registerDepartment(newDept, "TAX", "Tax Bureau");
    }

    function test_registerDepartment_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroAddress.selector));
        vm.prank(admin);
        participants.registerDepartment(address(0), "TAX", "Tax Bureau");
    }

    function test_registerDepartment_revertsOnZeroCode() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroCode.selector));
        vm.prank(admin);
        participants.registerDepartment(newDept, bytes32(0), "Tax Bureau");
    }

    function test_registerDepartment_revertsWhenAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsDepartmentExists.selector, provider));
        vm.prank(admin);
        participants.registerDepartment(provider, "OTHER", "Other");
    }

    function test_registerDepartment_revertsWhenCodeTaken() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsDepartmentCodeTaken.selector, bytes32("HRSS")));
        vm.prank(admin);
        participants.registerDepartment(newDept, "HRSS", "Impostor");
    }

    // ---------------------------------------------------------------- setDepartmentActive

    function test_setDepartmentActive_switchesOffAndOn() public {
        vm.expectEmit(address(participants));
        emit IParticipants.DepartmentActiveSet(provider, false);
        vm.prank(admin);
        participants.setDepartmentActive(provider, false);
        assertFalse(participants.isActiveDepartment(provider));
        (,, bool active) = participants.department(provider);
        assertFalse(active);

        vm.prank(admin);
        participants.setDepartmentActive(provider, true);
        assertTrue(participants.isActiveDepartment(provider));
    }

    function test_setDepartmentActive_isIdempotentWithoutEvent() public {
        vm.recordLogs();
        vm.prank(admin);
        participants.setDepartmentActive(provider, true);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_setDepartmentActive_revertsOnUnknownDepartment() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsUnknownDepartment.selector, stranger));
        vm.prank(admin);
        participants.setDepartmentActive(stranger, false);
    }

    function test_setDepartmentActive_revertsWhenNotAdmin() public {
        vm.expectRevert(_unauthorized(provider, ADMIN_ROLE));
        vm.prank(provider);
        participants.setDepartmentActive(provider, false);
    }

    // ---------------------------------------------------------------- views

    function test_department_unknownIsZero() public view {
        (bytes32 code, string memory name, bool active) = participants.department(stranger);
        assertEq(code, bytes32(0));
        assertEq(name, "");
        assertFalse(active);
        assertEq(participants.departmentByCode("NONE"), address(0));
        assertFalse(participants.isActiveDepartment(stranger));
    }

    function test_isActiveDepartment_falseOnceRoleRevoked() public {
        vm.prank(admin);
        participants.revokeRole(DEPARTMENT_ROLE, provider);
        assertFalse(participants.isActiveDepartment(provider));
        (bytes32 code,,) = participants.department(provider);
        assertEq(code, bytes32("HRSS"));
    }

    // ---------------------------------------------------------------- registerRegulator

    function test_registerRegulator_grantsRole() public {
        vm.expectEmit(address(participants));
        emit IAccessControl.RoleGranted(REGULATOR_ROLE, stranger, admin);
        vm.expectEmit(address(participants));
        emit IParticipants.RegulatorRegistered(stranger, "Provincial Audit");
        vm.prank(admin);
        participants.registerRegulator(stranger, "Provincial Audit");
        assertTrue(participants.hasRole(REGULATOR_ROLE, stranger));
    }

    function test_registerRegulator_revertsWhenNotAdmin() public {
        vm.expectRevert(_unauthorized(regulator, ADMIN_ROLE));
        vm.prank(regulator);
        participants.registerRegulator(stranger, "Provincial Audit");
    }

    function test_registerRegulator_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroAddress.selector));
        vm.prank(admin);
        participants.registerRegulator(address(0), "Nobody");
    }

    // ---------------------------------------------------------------- setAccountAllowed

    function test_setAccountAllowed_setsAndClears() public {
        vm.expectEmit(address(participants));
        emit IParticipants.AccountAllowanceSet(stranger, true);
        vm.prank(admin);
        participants.setAccountAllowed(stranger, true);
        assertTrue(participants.accountAllowed(stranger));

        vm.prank(admin);
        participants.setAccountAllowed(stranger, false);
        assertFalse(participants.accountAllowed(stranger));
    }

    function test_setAccountAllowed_isIdempotentWithoutEvent() public {
        vm.recordLogs();
        vm.prank(admin);
        participants.setAccountAllowed(stranger, false);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_setAccountAllowed_revertsWhenNotAdmin() public {
        vm.expectRevert(_unauthorized(stranger, ADMIN_ROLE));
        vm.prank(stranger);
        participants.setAccountAllowed(stranger, true);
    }

    function test_setAccountAllowed_revertsOnZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IParticipants.ParticipantsZeroAddress.selector));
        vm.prank(admin);
        participants.setAccountAllowed(address(0), true);
    }

    // ---------------------------------------------------------------- transactionAllowed

    function test_transactionAllowed_roleHolderMayCall() public view {
        assertTrue(participants.transactionAllowed(relayer, address(consents), 0, 1 gwei, 500_000, ""));
        assertTrue(participants.transactionAllowed(provider, address(catalog), 0, 0, 0, hex"01"));
    }

    function test_transactionAllowed_strangerMayNotCall() public view {
        assertFalse(participants.transactionAllowed(stranger, address(consents), 0, 0, 0, ""));
    }

    function test_transactionAllowed_allowedAccountMayCall() public {
        vm.prank(admin);
        participants.setAccountAllowed(stranger, true);
        assertTrue(participants.transactionAllowed(stranger, address(consents), 0, 0, 0, ""));
        assertFalse(participants.transactionAllowed(stranger, address(0), 0, 0, 0, hex"6080"));
    }

    function test_transactionAllowed_creationOnlyForAdmins() public view {
        assertTrue(participants.transactionAllowed(admin, address(0), 0, 0, 0, hex"6080"));
        assertFalse(participants.transactionAllowed(relayer, address(0), 0, 0, 0, hex"6080"));
    }

    function test_transactionAllowed_valueOnlyForAdmins() public view {
        assertTrue(participants.transactionAllowed(admin, stranger, 1 ether, 0, 0, ""));
        assertFalse(participants.transactionAllowed(relayer, stranger, 1, 0, 0, ""));
    }

    function test_transactionAllowed_falseAfterLastRoleRevoked() public {
        vm.prank(admin);
        participants.revokeRole(RELAYER_ROLE, relayer);
        assertEq(participants.roleCount(relayer), 0);
        assertFalse(participants.transactionAllowed(relayer, address(consents), 0, 0, 0, ""));
    }

    // ---------------------------------------------------------------- role counting

    function test_roleCount_tracksGrantRevokeAndRenounce() public {
        vm.startPrank(admin);
        participants.grantRole(ANCHORER_ROLE, stranger);
        participants.grantRole(ANCHORER_ROLE, stranger); // no-op
        participants.grantRole(EMERGENCY_ROLE, stranger);
        vm.stopPrank();
        assertEq(participants.roleCount(stranger), 2);

        vm.prank(admin);
        participants.revokeRole(ANCHORER_ROLE, stranger);
        vm.prank(admin);
        participants.revokeRole(ANCHORER_ROLE, stranger); // no-op
        assertEq(participants.roleCount(stranger), 1);

        vm.prank(stranger);
        participants.renounceRole(EMERGENCY_ROLE, stranger);
        assertEq(participants.roleCount(stranger), 0);
    }

    function testFuzz_transactionAllowed_onlyMembersSendAndOnlyAdminsCreate(
        address sender,
        address target,
        uint256 value,
        uint8 roleSeed
    ) public {
        vm.assume(sender != admin && sender != attester && sender != address(0));
        bytes32[6] memory roles =
            [DEPARTMENT_ROLE, REGULATOR_ROLE, IDENTITY_ATTESTER_ROLE, RELAYER_ROLE, ANCHORER_ROLE, EMERGENCY_ROLE];
        bool member = participants.roleCount(sender) != 0;
        assertEq(participants.transactionAllowed(sender, target, value, 0, 0, ""), member && target != address(0) && value == 0);

        bytes32 role = roles[bound(roleSeed, 0, 5)];
        vm.prank(role == IDENTITY_ATTESTER_ROLE ? attester : admin);
        participants.grantRole(role, sender);
        assertEq(participants.transactionAllowed(sender, target, value, 0, 0, ""), target != address(0) && value == 0);
        assertTrue(participants.transactionAllowed(admin, target, value, 0, 0, ""));
    }

    function testFuzz_roleCount_equalsRolesHeld(uint256 grantMask, uint256 revokeMask) public {
        bytes32[6] memory roles =
            [DEPARTMENT_ROLE, REGULATOR_ROLE, IDENTITY_ATTESTER_ROLE, RELAYER_ROLE, ANCHORER_ROLE, EMERGENCY_ROLE];
        grantMask = bound(grantMask, 0, 63);
        revokeMask = bound(revokeMask, 0, 63);
        for (uint256 i; i < 6; ++i) {
            if (grantMask & (1 << i) == 0) continue;
            vm.prank(_roleAdmin(roles[i]));
            participants.grantRole(roles[i], stranger);
        }
        for (uint256 i; i < 6; ++i) {
            if (revokeMask & (1 << i) == 0) continue;
            vm.prank(_roleAdmin(roles[i]));
            participants.revokeRole(roles[i], stranger);
        }
        uint256 held;
        for (uint256 i; i < 6; ++i) {
            if (participants.hasRole(roles[i], stranger)) ++held;
        }
        assertEq(participants.roleCount(stranger), held);
        assertEq(held, _popCount(grantMask & ~revokeMask));
    }

    function _roleAdmin(bytes32 role) private view returns (address) {
        return role == IDENTITY_ATTESTER_ROLE ? attester : admin;
    }

    function _popCount(uint256 x) private pure returns (uint256 n) {
        for (; x != 0; x >>= 1) {
            n += x & 1;
        }
    }
}
