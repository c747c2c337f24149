// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";

/**
 * @title ISubjects
 * @notice Registry of data subjects (persons and enterprises) and the keys allowed to sign for them.
 * @dev A subject is identified by an opaque `bytes32` id (a salted hash, never a plain national id).
 * Enterprises may require several signers (`threshold`-of-n); persons always need exactly one.
 */
interface ISubjects is IParticipantsGuarded {
    /// @notice Kind of a data subject; NONE marks an unregistered id.
    enum SubjectKind {
        NONE,
        PERSON,
        ENTERPRISE
    }

    /// @notice `subjectId` is already registered.
    error SubjectsAlreadyRegistered(bytes32 subjectId);

    /// @notice `subjectId` is not registered.
    error SubjectsUnknown(bytes32 subjectId);

    /// @notice `threshold` is not allowed with `signerCount` signers (or for this subject kind).
    error SubjectsInvalidThreshold(uint256 threshold, uint256 signerCount);

    /// @notice The subject kind must be PERSON or ENTERPRISE.
    error SubjectsInvalidKind();

    /// @notice The zero address cannot be a signer.
    error SubjectsZeroSigner();

    /// @notice `signer` is already bound (or listed twice).
    error SubjectsDuplicateSigner(address signer);

    /// @notice A subject would have `signerCount` signers, more than the maximum of 16.
    error SubjectsTooManySigners(uint256 signerCount);

    /// @notice `signer` is not bound to `subjectId`.
    error SubjectsNotSigner(bytes32 subjectId, address signer);

    /// @notice A subject was registered.
    event SubjectRegistered(bytes32 indexed subjectId, SubjectKind kind, uint8 threshold);

    /// @notice `signer` may now sign for `subjectId`.
    event SignerBound(bytes32 indexed subjectId, address indexed signer);

    /// @notice `signer` may no longer sign for `subjectId`.
    event SignerUnbound(bytes32 indexed subjectId, address indexed signer);

    /// @notice The number of signatures required for `subjectId` changed.
    event ThresholdChanged(bytes32 indexed subjectId, uint8 threshold);

    /**
     * @notice Maximum number of signers of one subject.
     * @return 16.
     */
    function MAX_SIGNERS() external view returns (uint256);

    /**
     * @notice Registers a subject with its initial signers and threshold.
     * @dev `IDENTITY_ATTESTER_ROLE` only. PERSON requires threshold 1; in all cases
     * 1 <= threshold <= signers.length <= 16, signers non-zero and distinct.
     * Emits {SubjectRegistered} then one {SignerBound} per signer.
     * @param subjectId Subject id.
     * @param kind PERSON or ENTERPRISE.
     * @param signers Initial signer addresses (EOAs or ERC-1271 contracts).
     * @param threshold Signatures required to grant a consent.
     */
    function register(bytes32 subjectId, SubjectKind kind, address[] calldata signers, uint8 threshold) external;

    /**
     * @notice Binds an additional signer to a subject.
     * @dev `IDENTITY_ATTESTER_ROLE` only.
     * @param subjectId Registered subject id.
     * @param signer New signer.
     */
    function bindSigner(bytes32 subjectId, address signer) external;

    /**
     * @notice Unbinds a signer from a subject.
     * @dev `IDENTITY_ATTESTER_ROLE` only. Fails when fewer signers than the threshold would remain.
     * @param subjectId Registered subject id.
     * @param signer Bound signer.
     */
    function unbindSigner(bytes32 subjectId, address signer) external;

    /**
     * @notice Replaces a signer (e.g. after key loss) in one step.
     * @dev `IDENTITY_ATTESTER_ROLE` only. Emits {SignerUnbound} then {SignerBound}.
     * @param subjectId Registered subject id.
     * @param oldSigner Bound signer to remove.
     * @param newSigner Signer to bind in its place.
     */
    function rotateSigner(bytes32 subjectId, address oldSigner, address newSigner) external;

    /**
     * @notice Changes the number of signatures a subject needs.
     * @dev `IDENTITY_ATTESTER_ROLE` only. 1 <= threshold <= signer count; PERSON stays at 1.
     * Idempotent: no event when unchanged.
     * @param subjectId Registered subject id.
     * @param threshold New threshold.
     */
    function setThreshold(bytes32 subjectId, uint8 threshold) external;

    /**
     * @notice Kind of a subject.
     * @param subjectId Subject id.
     * @return The kind; NONE when unregistered.
     */
    function kindOf(bytes32 subjectId) external view returns (SubjectKind);

    /**
     * @notice Signatures a subject needs.
     * @param subjectId Subject id.
     * @return The threshold; 0 when unregistered.
     */
    function thresholdOf(bytes32 subjectId) external view returns (uint8);

    /**
     * @notice Tells whether `signer` may sign for `subjectId`.
     * @param subjectId Subject id.
     * @param signer Address to test.
     * @return True when bound.
     */
    function isSigner(bytes32 subjectId, address signer) external view returns (bool);

    /**
     * @notice Number of signers bound to a subject.
     * @param subjectId Subject id.
     * @return The count (at most 16).
     */
    function signerCount(bytes32 subjectId) external view returns (uint256);

    /**
     * @notice Signers bound to a subject, in no particular order.
     * @param subjectId Subject id.
     * @return The signers (at most 16).
     */
    function signersOf(bytes32 subjectId) external view returns (address[] memory);
}
