// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title Roles
 * @notice Role identifiers shared by all Consent Ledger contracts. Each is keccak256 of its name;
 * the admin role is OpenZeppelin's `DEFAULT_ADMIN_ROLE` (0x00).
 */
library Roles {
    bytes32 internal constant DEFAULT_ADMIN = 0x00;
    bytes32 internal constant DEPARTMENT = keccak256("DEPARTMENT_ROLE");
    bytes32 internal constant REGULATOR = keccak256("REGULATOR_ROLE");
    bytes32 internal constant IDENTITY_ATTESTER = keccak256("IDENTITY_ATTESTER_ROLE");
    bytes32 internal constant RELAYER = keccak256("RELAYER_ROLE");
    bytes32 internal constant ANCHORER = keccak256("ANCHORER_ROLE");
    bytes32 internal constant EMERGENCY = keccak256("EMERGENCY_ROLE");
}
