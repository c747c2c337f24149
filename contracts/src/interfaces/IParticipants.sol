// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/**
 * @title IParticipants
 * @notice Registry of the ledger's participants (departments, regulators, service accounts) and the
 * single source of roles for every other Consent Ledger contract.
 * @dev Also serves as a node transaction-permissioning contract through {transactionAllowed}.
 */
interface IParticipants is IAccessControl {
    /// @notice The zero address was given where an account is required.
    error ParticipantsZeroAddress();

    /// @notice The zero code was given; code 0 marks an unknown department.
    error ParticipantsZeroCode();

    /// @notice `account` is already registered as a department.
    error ParticipantsDepartmentExists(address account);

    /// @notice Department code `code` already belongs to another department.
    error ParticipantsDepartmentCodeTaken(bytes32 code);

    /// @notice `account` is not a registered department.
    error ParticipantsUnknownDepartment(address account);

    /// @notice A department was registered and received `DEPARTMENT_ROLE`.
    event DepartmentRegistered(address indexed account, bytes32 indexed code, string name);

    /// @notice A department was switched on or off.
    event DepartmentActiveSet(address indexed account, bool active);

    /// @notice A regulator was registered and received `REGULATOR_ROLE`.
    event RegulatorRegistered(address indexed account, string name);

    /// @notice Role-less transaction permission of `account` was changed.
    event AccountAllowanceSet(address indexed account, bool allowed);

    /// @notice Role of data-providing and data-using government departments.
    /// @return The role identifier, keccak256("DEPARTMENT_ROLE").
    function DEPARTMENT_ROLE() external view returns (bytes32);

    /// @notice Role of supervising regulators (read and audit access).
    /// @return The role identifier, keccak256("REGULATOR_ROLE").
    function REGULATOR_ROLE() external view returns (bytes32);

    /// @notice Role allowed to register data subjects and propose changes to their signers; its own admin role.
    /// @return The role identifier, keccak256("IDENTITY_ATTESTER_ROLE").
    function IDENTITY_ATTESTER_ROLE() external view returns (bytes32);

    /// @notice Role of accounts that relay signed consents and revocations.
    /// @return The role identifier, keccak256("RELAYER_ROLE").
    function RELAYER_ROLE() external view returns (bytes32);

    /// @notice Role allowed to anchor audit-log tree heads.
    /// @return The role identifier, keccak256("ANCHORER_ROLE").
    function ANCHORER_ROLE() external view returns (bytes32);

    /// @notice Role allowed to record emergency (break-glass) data access.
    /// @return The role identifier, keccak256("EMERGENCY_ROLE").
    function EMERGENCY_ROLE() external view returns (bytes32);

    /**
     * @notice Registers `account` as a department with a unique `code` and grants it `DEPARTMENT_ROLE`.
     * @dev Admin only. The department starts active.
     * @param account Department account.
     * @param code Unique non-zero department code.
     * @param name Human-readable department name.
     */
    function registerDepartment(address account, bytes32 code, string calldata name) external;

    /**
     * @notice Activates or deactivates a registered department.
     * @dev Admin only. Idempotent: no event when the flag does not change.
     * @param account Department account.
     * @param active New state.
     */
    function setDepartmentActive(address account, bool active) external;

    /**
     * @notice Returns the stored data of a department.
     * @param account Department account.
     * @return code Department code; 0 when `account` is not a department.
     * @return name Department name.
     * @return active Whether the department is switched on.
     */
    function department(address account) external view returns (bytes32 code, string memory name, bool active);

    /**
     * @notice Returns the department registered under `code`.
     * @param code Department code.
     * @return The department account, or the zero address.
     */
    function departmentByCode(bytes32 code) external view returns (address);

    /**
     * @notice Tells whether `account` holds `DEPARTMENT_ROLE` and is switched on.
     * @param account Account to test.
     * @return True for an active department.
     */
    function isActiveDepartment(address account) external view returns (bool);

    /**
     * @notice Registers `account` as a regulator and grants it `REGULATOR_ROLE`.
     * @dev Admin only. Registering again re-emits the event with the new name.
     * @param account Regulator account.
     * @param name Human-readable regulator name.
     */
    function registerRegulator(address account, string calldata name) external;

    /**
     * @notice Allows or disallows `account` to send transactions without holding a role.
     * @dev Admin only. Idempotent: no event when the flag does not change.
     * @param account Account, e.g. a deployer or a citizen's own wallet.
     * @param allowed New permission.
     */
    function setAccountAllowed(address account, bool allowed) external;

    /**
     * @notice Tells whether `account` was explicitly allowed to send transactions.
     * @param account Account to test.
     * @return True when allowed through {setAccountAllowed}.
     */
    function accountAllowed(address account) external view returns (bool);

    /**
     * @notice Number of roles currently held by `account`.
     * @param account Account to test.
     * @return Count of roles, maintained on every grant and revoke.
     */
    function roleCount(address account) external view returns (uint256);

    /**
     * @notice Node permissioning hook: may `sender` send this transaction?
     * @dev True when `sender` holds at least one role or is explicitly allowed. Contract creation
     * (`target` zero) and value transfers (`value` > 0) are reserved for `DEFAULT_ADMIN_ROLE` holders.
     * Gas price, gas limit and payload are not restricted.
     * @param sender Transaction sender.
     * @param target Transaction target; zero for contract creation.
     * @param value Wei transferred.
     * @param gasPrice Gas price (unused).
     * @param gasLimit Gas limit (unused).
     * @param payload Call data (unused).
     * @return True when the transaction is permitted.
     */
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool);
}
