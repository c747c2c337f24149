// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title SignatureRules
 * @notice The one rule for a subject signer's signature, shared by Consents and Subjects.
 */
library SignatureRules {
    /// @dev ECDSA (65-byte, low-s) first, then ERC-1271. Unlike SignatureChecker.isValidSignatureNow this needs no
    /// account access for EOAs; a key can only recover to an account with code if it is an EIP-7702 delegated EOA,
    /// whose key is its owner anyway.
    function isValid(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (signature.length == 65) {
            // The error argument only details the failure, which is reported as a plain false here.
            // slither-disable-next-line unused-return
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(
                digest, uint8(signature[64]), bytes32(signature[0:32]), bytes32(signature[32:64])
            );
            if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        }
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }
}
