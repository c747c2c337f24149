// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./libraries/Roles.sol";

/**
 * @title Participants
 * @notice Registry of departments, regulators and service accounts, and the single source of roles.
 * @dev Roles are plain OpenZeppelin {AccessControl} roles administered by `DEFAULT_ADMIN_ROLE`
 * (the data authority), except `IDENTITY_ATTESTER_ROLE`, which only attesters grant and revoke. The number of roles per account is counted so that {transactionAllowed}
 * stays O(1).
 */
contract Participants is AccessControl, IParticipants {
    struct DepartmentInfo {
        bytes32 code;
        bool active;
        string name;
    }

    /// @inheritdoc IParticipants
    bytes32 public constant DEPARTMENT_ROLE = Roles.DEPARTMENT;
    /// @inheritdoc IParticipants
    bytes32 public constant REGULATOR_ROLE = Roles.REGULATOR;
    /// @inheritdoc IParticipants
    bytes32 public constant IDENTITY_ATTESTER_ROLE = Roles.IDENTITY_ATTESTER;
    /// @inheritdoc IParticipants
    bytes32 public constant RELAYER_ROLE = Roles.RELAYER;
    /// @inheritdoc IParticipants
    bytes32 public constant ANCHORER_ROLE = Roles.ANCHORER;
    /// @inheritdoc IParticipants
    bytes32 public constant EMERGENCY_ROLE = Roles.EMERGENCY;

    mapping(address account => DepartmentInfo) private _departments;
    mapping(bytes32 code => address account) private _departmentByCode;
    mapping(address account => bool) private _allowed;
    mapping(address account => uint256) private _roleCount;

    /// @param admin Initial holder of `DEFAULT_ADMIN_ROLE`.
    /// @param attester Initial identity attester. Attesters administer their own role, so the admin (the platform
    /// operator) can neither become one nor remove one.
    constructor(address admin, address attester) {
        if (admin == address(0) || attester == address(0)) revert ParticipantsZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setRoleAdmin(IDENTITY_ATTESTER_ROLE, IDENTITY_ATTESTER_ROLE);
        _grantRole(IDENTITY_ATTESTER_ROLE, attester);
    }

    /// @inheritdoc IParticipants
    function registerDepartment(address account, bytes32 code, string calldata name)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert ParticipantsZeroAddress();
        if (code == bytes32(0)) revert ParticipantsZeroCode();
        DepartmentInfo storage info = _departments[account];
        if (info.code != bytes32(0)) revert ParticipantsDepartmentExists(account);
        if (_departmentByCode[code] != address(0)) revert ParticipantsDepartmentCodeTaken(code);

        info.code = code;
        info.active = true;
        info.name = name;
        _departmentByCode[code] = account;
        emit DepartmentRegistered(account, code, name);

        _grantRole(DEPARTMENT_ROLE, account);
    }

    /// @inheritdoc IParticipants
    function setDepartmentActive(address account, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        DepartmentInfo storage info = _departments[account];
        if (info.code == bytes32(0)) revert ParticipantsUnknownDepartment(account);
        if (info.active != active) {
            info.active = active;
            emit DepartmentActiveSet(account, active);
        }
    }

    /// @inheritdoc IParticipants
    function registerRegulator(address account, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ParticipantsZeroAddress();
        _grantRole(REGULATOR_ROLE, account);
        emit RegulatorRegistered(account, name);
    }

    /// @inheritdoc IParticipants
    function setAccountAllowed(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ParticipantsZeroAddress();
        if (_allowed[account] != allowed) {
            _allowed[account] = allowed;
            emit AccountAllowanceSet(account, allowed);
        }
    }

    /// @inheritdoc IParticipants
    function department(address account) external view returns (bytes32 code, string memory name, bool active) {
        DepartmentInfo storage info = _departments[account];
        return (info.code, info.name, info.active);
    }

    /// @inheritdoc IParticipants
    function departmentByCode(bytes32 code) external view returns (address) {
        return _departmentByCode[code];
    }

    /// @inheritdoc IParticipants
    function isActiveDepartment(address account) external view returns (bool) {
        return _departments[account].active && hasRole(DEPARTMENT_ROLE, account);
    }

    /// @inheritdoc IParticipants
    function accountAllowed(address account) external view returns (bool) {
        return _allowed[account];
    }

    /// @inheritdoc IParticipants
    function roleCount(address account) external view returns (uint256) {
        return _roleCount[account];
    }

    /// @inheritdoc IParticipants
    function transactionAllowed(address sender, address target, uint256 value, uint256, uint256, bytes calldata)
        external
        view
        returns (bool)
    {
        if (target == address(0) || value != 0) return hasRole(DEFAULT_ADMIN_ROLE, sender);
        return _roleCount[sender] != 0 || _allowed[sender];
    }

    /// @dev Keeps the per-account role count in step with actual grants.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) ++_roleCount[account];
    }

    /// @dev Keeps the per-account role count in step with actual revocations.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) --_roleCount[account];
    }
}
