// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipants} from "./interfaces/IParticipants.sol";
import {IParticipantsGuarded} from "./interfaces/IParticipantsGuarded.sol";

/**
 * @title ParticipantsGuarded
 * @notice Base for contracts that take their roles from the Participants registry, so that roles are
 * granted and revoked in one place only.
 */
abstract contract ParticipantsGuarded is IParticipantsGuarded {
    IParticipants private immutable _participants;

    /// @dev Reverts with {ParticipantsUnauthorized} unless the caller holds `role` in the registry.
    modifier onlyRole(bytes32 role) {
        _checkRole(role, msg.sender);
        _;
    }

    constructor(IParticipants participants_) {
        _participants = participants_;
    }

    /// @inheritdoc IParticipantsGuarded
    function participants() public view returns (IParticipants) {
        return _participants;
    }

    /// @dev Reverts with {ParticipantsUnauthorized} unless `account` holds `role` in the registry.
    function _checkRole(bytes32 role, address account) internal view {
        if (!_participants.hasRole(role, account)) revert ParticipantsUnauthorized(account, role);
    }
}
