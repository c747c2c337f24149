// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";
import {ISubjects} from "./ISubjects.sol";

/**
 * @title IConsents
 * @notice Consents of data subjects to share their data with a grantee, authorised by EIP-712 signatures
 * of the subject's signers and revocable by any one of them.
 * @dev EIP-712 domain: name "ConsentLedger", version "1", this chain, this contract (see ERC-5267
 * `eip712Domain()`). A consent's id is the EIP-712 digest of its {Consent} message; the chain stores only
 * one packed record per id, everything else is verified by re-hashing the message.
 *
 * Nonces are unordered: one bitmap per subject, a nonce can be used once across {Consent} and {Revoke}.
 * Nonces in the same 256-wide word (`nonce >> 8`) share a storage slot, so sequential nonces are cheaper.
 *
 * {check} reason codes: 0 OK, 1 NO_CONSENT, 2 REVOKED, 3 NOT_YET_VALID, 4 EXPIRED, 5 GRANTEE_MISMATCH,
 * 6 PURPOSE_MISMATCH, 7 RESOURCE_NOT_GRANTED, 8 ENDED_BY_REGULATOR. A consent is valid for
 * `validFrom <= block.timestamp < validUntil`.
 *
 * A consent ends in one of two ways on-chain, kept apart: REVOKED by one of its subject's signers, or
 * ENDED_BY_REGULATOR by a holder of the REGULATOR role who found it abused (a grantee pressing citizens
 * into consenting, or using it beyond its purpose), with the hash of a written reason. Expiry
 * (`validUntil`) and exhausted uses (`maxUses`, counted off-chain) are not transactions.
 */
interface IConsents is IParticipantsGuarded {
    /// @notice Status of a consent record; NONE marks an unknown id.
    enum ConsentStatus {
        NONE,
        ACTIVE,
        REVOKED,
        ENDED_BY_REGULATOR
    }

    /**
     * @notice A subject's consent, signed as EIP-712 typed data.
     * @dev `resources[i]` is keccak256 of a resource slug, strictly increasing, 1..16 entries; `fieldMasks[i]`
     * (non-zero) selects fields of `resources[i]`; `purpose` is a slug kept on-chain as its keccak256;
     * times are unix seconds; `maxUses == 0` means unlimited (enforced off-chain).
     */
    struct Consent {
        bytes32 subject;
        address grantee;
        bytes32[] resources;
        uint256[] fieldMasks;
        string purpose;
        uint64 validFrom;
        uint64 validUntil;
        uint32 maxUses;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice A signed revocation of consent `consentId` of `subject`.
    struct Revoke {
        bytes32 consentId;
        bytes32 subject;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice The signature deadline `deadline` has passed.
    error ConsentsSignatureExpired(uint64 deadline);

    /// @notice A regulator's written reason is missing (a zero hash).
    error ConsentsMissingReason();

    /// @notice `nonce` of `subject` was already used or invalidated.
    error ConsentsNonceAlreadyUsed(bytes32 subject, uint256 nonce);

    /// @notice Signer addresses are not strictly increasing (unsorted or duplicated).
    error ConsentsSignersNotSorted();

    /// @notice `signer` is not bound to `subject`.
    error ConsentsNotSubjectSigner(bytes32 subject, address signer);

    /// @notice The signature given for `signer` is invalid.
    error ConsentsInvalidSignature(address signer);

    /// @notice Only `count` signatures where `threshold` are needed.
    error ConsentsBelowThreshold(uint256 count, uint256 threshold);

    /// @notice `subject` is not registered.
    error ConsentsUnknownSubject(bytes32 subject);

    /// @notice Consent `consentId` is already recorded.
    error ConsentsAlreadyExists(bytes32 consentId);

    /// @notice `validFrom` is not before `validUntil`.
    error ConsentsInvalidWindow(uint64 validFrom, uint64 validUntil);

    /// @notice Resources are empty, more than 16, not strictly increasing, or a field mask is zero.
    error ConsentsInvalidResources();

    /// @notice Parallel arrays differ in length.
    error ConsentsLengthMismatch();

    /// @notice The grantee is the zero address.
    error ConsentsZeroGrantee();

    /// @notice No consent `consentId` of the given subject is recorded.
    error ConsentsUnknownConsent(bytes32 consentId);

    /// @notice Consent `consentId` is not active (its status is `status`).
    error ConsentsNotActive(bytes32 consentId, ConsentStatus status);

    /// @notice A consent was granted; the message fields allow re-deriving `consentId`.
    event ConsentGranted(
        bytes32 indexed consentId,
        bytes32 indexed subject,
        address indexed grantee,
        bytes32[] resources,
        uint256[] fieldMasks,
        bytes32 purposeHash,
        uint64 validFrom,
        uint64 validUntil,
        uint32 maxUses,
        uint256 nonce
    );

    /// @notice A consent was revoked by `revokedBy`, a signer of `subject`.
    event ConsentRevoked(bytes32 indexed consentId, bytes32 indexed subject, address indexed revokedBy);

    /// @notice Consent `consentId` of `subject` was ended by `regulator` for the reason whose hash is `reasonHash`.
    event ConsentEndedByRegulator(
        bytes32 indexed consentId, bytes32 indexed subject, address indexed regulator, bytes32 reasonHash
    );

    /// @notice Nonces `(word << 8) | bit` for each set bit of `mask` were marked used.
    event NoncesInvalidated(bytes32 indexed subject, uint256 word, uint256 mask);

    /**
     * @notice EIP-712 type hash of {Consent}.
     * @return keccak256 of the Consent type string.
     */
    function CONSENT_TYPEHASH() external view returns (bytes32);

    /**
     * @notice EIP-712 type hash of {Revoke}.
     * @return keccak256 of the Revoke type string.
     */
    function REVOKE_TYPEHASH() external view returns (bytes32);

    /**
     * @notice The EIP-712 domain separator of this contract on this chain.
     * @return The separator.
     */
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /**
     * @notice The Subjects registry consulted for signers and thresholds.
     * @return The registry.
     */
    function subjects() external view returns (ISubjects);

    /**
     * @notice Records a consent signed by at least `threshold` signers of its subject.
     * @dev Callable by anyone (usually a relayer). Checks, in order: deadline, message fields, nonce,
     * signers (strictly increasing, bound, valid signature each; EOA or ERC-1271), threshold, subject
     * registered, id not yet recorded. Uses the nonce.
     * @param consent The signed message.
     * @param signers Signer addresses, strictly increasing.
     * @param signatures One signature per signer over the consent id.
     * @return consentId The EIP-712 digest of `consent`.
     */
    function grant(Consent calldata consent, address[] calldata signers, bytes[] calldata signatures)
        external
        returns (bytes32 consentId);

    /**
     * @notice Records several consents atomically (all or none).
     * @dev Each entry is checked as in {grant}.
     * @param consents The signed messages.
     * @param signers Per consent, the signer addresses, strictly increasing.
     * @param signatures Per consent, one signature per signer.
     * @return consentIds The ids, in input order.
     */
    function grantBatch(Consent[] calldata consents, address[][] calldata signers, bytes[][] calldata signatures)
        external
        returns (bytes32[] memory consentIds);

    /**
     * @notice Revokes an active consent; the caller must be a bound signer of `subject`.
     * @dev Any single signer may revoke, as a revocation only reduces access.
     * @param consentId The consent id.
     * @param subject The consent's subject.
     */
    function revoke(bytes32 consentId, bytes32 subject) external;

    /**
     * @notice Ends an active consent found abused: the regulator's power, apart from the subject's revocation.
     * @dev Only a holder of the REGULATOR role. The consent's status becomes ENDED_BY_REGULATOR.
     * @param consentId The consent id.
     * @param subject The consent's subject.
     * @param reasonHash Hash of the regulator's written reason (non-zero).
     */
    function endByRegulator(bytes32 consentId, bytes32 subject, bytes32 reasonHash) external;

    /**
     * @notice Revokes an active consent with one bound signer's EIP-712 {Revoke} signature.
     * @dev Callable by anyone. Checks deadline, nonce, signer, signature, then the record. Uses the nonce.
     * @param revocation The signed message.
     * @param signer A bound signer of `revocation.subject`.
     * @param signature The signer's signature over {hashRevoke}.
     */
    function revokeWithSig(Revoke calldata revocation, address signer, bytes calldata signature) external;

    /**
     * @notice Marks nonces of `subject` as used so that signed but unsubmitted messages become void.
     * @dev Caller must be a bound signer of `subject`.
     * @param subject The subject.
     * @param word Bitmap word index (`nonce >> 8`).
     * @param mask Bits to set (`1 << (nonce & 0xff)`).
     */
    function invalidateNonces(bytes32 subject, uint256 word, uint256 mask) external;

    /**
     * @notice The stored record of a consent.
     * @param consentId The consent id.
     * @return status NONE, ACTIVE, REVOKED or ENDED_BY_REGULATOR.
     * @return grantedAt Block number of the grant.
     * @return endedAt Block number of the revocation or the regulator's end; 0 while active.
     */
    function consentRecord(bytes32 consentId)
        external
        view
        returns (ConsentStatus status, uint64 grantedAt, uint64 endedAt);

    /**
     * @notice Tells whether `nonce` of `subject` was used or invalidated.
     * @param subject The subject.
     * @param nonce The nonce.
     * @return True when used.
     */
    function isNonceUsed(bytes32 subject, uint256 nonce) external view returns (bool);

    /**
     * @notice The id of a consent, i.e. its EIP-712 digest.
     * @param consent The message.
     * @return The digest that signers sign.
     */
    function hashConsent(Consent calldata consent) external view returns (bytes32);

    /**
     * @notice The EIP-712 digest of a revocation.
     * @param revocation The message.
     * @return The digest that the signer signs.
     */
    function hashRevoke(Revoke calldata revocation) external view returns (bytes32);

    /**
     * @notice Checks whether `consent` currently allows `grantee` to use `resourceId` for `purposeHash`.
     * @dev Use limits (`maxUses`) are enforced off-chain from the audit log.
     * @param consent The consent message (its hash is the id looked up).
     * @param grantee The party asking to use the data.
     * @param resourceId The resource asked for.
     * @param purposeHash keccak256 of the purpose slug.
     * @return ok True when allowed.
     * @return fieldMask The granted fields of `resourceId` when allowed, else 0.
     * @return reason 0 OK, 1 NO_CONSENT, 2 REVOKED, 3 NOT_YET_VALID, 4 EXPIRED, 5 GRANTEE_MISMATCH,
     * 6 PURPOSE_MISMATCH, 7 RESOURCE_NOT_GRANTED, 8 ENDED_BY_REGULATOR.
     */
    function check(Consent calldata consent, address grantee, bytes32 resourceId, bytes32 purposeHash)
        external
        view
        returns (bool ok, uint256 fieldMask, uint8 reason);
}
