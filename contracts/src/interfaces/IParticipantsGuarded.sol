// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipants} from "./IParticipants.sol";

/**
 * @title IParticipantsGuarded
 * @notice Common surface of contracts that take their roles from {IParticipants}.
 */
interface IParticipantsGuarded {
    /// @notice `account` lacks `role` in the Participants registry.
    error ParticipantsUnauthorized(address account, bytes32 role);

    /**
     * @notice The Participants registry consulted for roles.
     * @return The registry.
     */
    function participants() external view returns (IParticipants);
}
