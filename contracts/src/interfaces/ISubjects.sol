// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";

/**
 * @title ISubjects
 * @notice Registry of data subjects (persons and enterprises) and the keys allowed to sign for them.
 * @dev A subject is identified by an opaque `bytes32` id (a salted hash, never a plain national id).
 * Enterprises may require several signers (`threshold`-of-n); persons always need exactly one.
 * An identity attester registers a subject; a change to an existing subject's signers takes effect only after a
 * notice period in which any current signer can cancel it, or at once with the current signers' approval.
 */
interface ISubjects is IParticipantsGuarded {
    /// @notice Kind of a data subject; NONE marks an unregistered id.
    enum SubjectKind {
        NONE,
        PERSON,
        ENTERPRISE
    }

    /// @notice Life of a signer change: proposed (PENDING), then CANCELLED or APPLIED.
    enum SignerChangeStatus {
        NONE,
        PENDING,
        CANCELLED,
        APPLIED
    }

    /// @notice A change to a subject's signers; its EIP-712 digest is the change id.
    struct SignerChange {
        bytes32 subject;
        address[] add;
        address[] remove;
        uint8 threshold;
        uint256 nonce;
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

    /// @notice `attester` has already attested registration `registrationHash`.
    error SubjectsAlreadyAttested(bytes32 registrationHash, address attester);

    /// @notice At least one attestation is needed to register a subject.
    error SubjectsInvalidAttestationCount();

    /// @notice The change binds nothing, unbinds nothing and keeps the threshold.
    error SubjectsEmptyChange();

    /// @notice A signer list must be strictly increasing.
    error SubjectsSignersNotSorted();

    /// @notice No signer change `changeId` is pending.
    error SubjectsChangeNotPending(bytes32 changeId);

    /// @notice Signer change `changeId` may be applied without approval only from `effectiveAt`.
    error SubjectsChangeNotDue(bytes32 changeId, uint64 effectiveAt);

    /// @notice A new change must carry the subject's next change nonce, `expected`.
    error SubjectsInvalidChangeNonce(uint256 nonce, uint256 expected);

    /// @notice `account` may not cancel signer change `changeId`.
    error SubjectsNotAllowedToCancel(bytes32 changeId, address account);

    /// @notice The signature of `signer` is not valid.
    error SubjectsInvalidSignature(address signer);

    /// @notice `signers` and `signatures` differ in length.
    error SubjectsLengthMismatch();

    /// @notice `count` approvals are fewer than the subject's threshold `threshold`.
    error SubjectsBelowThreshold(uint256 count, uint256 threshold);

    /// @notice `attester` attested registration `registrationHash` of `subjectId`; `count` of the required number
    /// so far. The subject is registered (in the same call) when `count` reaches {requiredAttestations}.
    event RegistrationAttested(
        bytes32 indexed subjectId, bytes32 indexed registrationHash, address indexed attester, uint256 count
    );

    /// @notice A subject was registered.
    event SubjectRegistered(bytes32 indexed subjectId, SubjectKind kind, uint8 threshold);

    /// @notice `signer` may now sign for `subjectId`.
    event SignerBound(bytes32 indexed subjectId, address indexed signer);

    /// @notice `signer` may no longer sign for `subjectId`.
    event SignerUnbound(bytes32 indexed subjectId, address indexed signer);

    /// @notice The number of signatures required for `subjectId` changed.
    event ThresholdChanged(bytes32 indexed subjectId, uint8 threshold);

    /// @notice A change to the signers of `subjectId` was proposed; it can be applied from `effectiveAt`.
    event SignerChangeProposed(
        bytes32 indexed changeId,
        bytes32 indexed subjectId,
        address[] add,
        address[] remove,
        uint8 threshold,
        uint256 nonce,
        uint64 effectiveAt,
        address proposedBy
    );

    /// @notice Pending signer change `changeId` was cancelled by `cancelledBy`.
    event SignerChangeCancelled(bytes32 indexed changeId, bytes32 indexed subjectId, address cancelledBy);

    /// @notice Signer change `changeId` took effect; `approved` when the subject's signers approved it, false when
    /// it took effect by the end of its notice period.
    event SignerChangeApplied(bytes32 indexed changeId, bytes32 indexed subjectId, bool approved);

    /**
     * @notice Maximum number of signers of one subject.
     * @return 16.
     */
    function MAX_SIGNERS() external view returns (uint256);

    /**
     * @notice EIP-712 type hash of {SignerChange}.
     * @return keccak256 of the type string.
     */
    function SIGNER_CHANGE_TYPEHASH() external view returns (bytes32);

    /**
     * @notice EIP-712 type hash of `CancelSignerChange(bytes32 changeId)`.
     * @return keccak256 of the type string.
     */
    function CANCEL_SIGNER_CHANGE_TYPEHASH() external view returns (bytes32);

    /**
     * @notice Attests a subject with its initial signers and threshold; registers it once
     * {requiredAttestations} distinct attesters have attested exactly the same registration.
     * @dev `IDENTITY_ATTESTER_ROLE` only. PERSON requires threshold 1; in all cases
     * 1 <= threshold <= signers.length <= 16, signers non-zero and distinct.
     * With more than one attestation required, emits {RegistrationAttested} for each; the last one also emits
     * {SubjectRegistered} then one {SignerBound} per signer.
     * @param subjectId Subject id.
     * @param kind PERSON or ENTERPRISE.
     * @param signers Initial signer addresses (EOAs or ERC-1271 contracts).
     * @param threshold Signatures required to grant a consent.
     */
    function register(bytes32 subjectId, SubjectKind kind, address[] calldata signers, uint8 threshold) external;

    /**
     * @notice Proposes a change to an existing subject's signers, effective after the notice period.
     * @dev `IDENTITY_ATTESTER_ROLE` only. `add` and `remove` are each strictly increasing; `remove` lists bound
     * signers, `add` unbound non-zero ones; the resulting signer count and `threshold` must be valid. The change
     * is checked again when applied. Emits {SignerChangeProposed}.
     * @param subjectId Registered subject id.
     * @param add Signers to bind.
     * @param remove Signers to unbind.
     * @param threshold Threshold after the change.
     * @return changeId EIP-712 digest of the {SignerChange}; what the subject's signers sign to approve it.
     * @return effectiveAt Time from which anyone may apply it.
     */
    function proposeSignerChange(bytes32 subjectId, address[] calldata add, address[] calldata remove, uint8 threshold)
        external
        returns (bytes32 changeId, uint64 effectiveAt);

    /**
     * @notice Applies a proposed change once its notice period is over; anyone may call.
     * @dev Emits {SignerChangeApplied} (not approved), then {SignerUnbound}, {SignerBound}, {ThresholdChanged}.
     * @param change The change as proposed (see {SignerChangeProposed}).
     */
    function applySignerChange(SignerChange calldata change) external;

    /**
     * @notice Applies a change at once with the approval of the subject's current signers; anyone may relay.
     * @dev The change is either pending (proposed by an attester) or new, with the subject's next change nonce;
     * a new one is recorded as proposed and applied in the same call. `signers` strictly increasing, each bound,
     * at least the threshold of them, each signature over the change id (ECDSA low-s or ERC-1271).
     * Emits {SignerChangeProposed} for a new change, then as {applySignerChange} with `approved` true.
     * @param change The change.
     * @param signers Approving signers, strictly increasing.
     * @param signatures Their signatures of the change id, in the same order.
     * @return changeId The change id.
     */
    function approveSignerChange(SignerChange calldata change, address[] calldata signers, bytes[] calldata signatures)
        external
        returns (bytes32 changeId);

    /**
     * @notice Cancels a pending change; by a current signer of its subject or an identity attester.
     * @dev Emits {SignerChangeCancelled}.
     * @param changeId Pending change.
     */
    function cancelSignerChange(bytes32 changeId) external;

    /**
     * @notice Cancels a pending change with a current signer's EIP-712 {CancelSignerChange} signature.
     * @dev For signers who send no transactions themselves; anyone may relay. Emits {SignerChangeCancelled}.
     * @param changeId Pending change.
     * @param signer Current signer of the change's subject.
     * @param signature The signer's signature (ECDSA low-s or ERC-1271).
     */
    function cancelSignerChangeWithSig(bytes32 changeId, address signer, bytes calldata signature) external;

    /**
     * @notice Where a signer change stands.
     * @param changeId Change id.
     * @return subjectId Its subject (zero when unknown).
     * @return status NONE, PENDING, CANCELLED or APPLIED.
     * @return effectiveAt Time from which a pending change may be applied.
     */
    function signerChange(bytes32 changeId)
        external
        view
        returns (bytes32 subjectId, SignerChangeStatus status, uint64 effectiveAt);

    /**
     * @notice The nonce the subject's next signer change will carry.
     * @param subjectId Subject id.
     * @return The nonce (the number of changes proposed so far).
     */
    function signerChangeNonce(bytes32 subjectId) external view returns (uint256);

    /**
     * @notice Number of distinct attesters that must attest a registration.
     * @return The number, at least 1.
     */
    function requiredAttestations() external view returns (uint256);

    /**
     * @notice Delay between a proposed signer change and the earliest time it can be applied without approval.
     * @return Seconds.
     */
    function noticePeriod() external view returns (uint64);

    /**
     * @notice EIP-712 digest of a signer change: its id.
     * @param change The change.
     * @return The digest.
     */
    function hashSignerChange(SignerChange calldata change) external view returns (bytes32);

    /**
     * @notice EIP-712 digest of a {CancelSignerChange} message.
     * @param changeId Change to cancel.
     * @return The digest.
     */
    function hashCancelSignerChange(bytes32 changeId) external view returns (bytes32);

    /**
     * @notice EIP-712 domain separator of this contract.
     * @return The separator.
     */
    function DOMAIN_SEPARATOR() external view returns (bytes32);

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
