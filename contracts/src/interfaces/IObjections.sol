// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICatalog} from "./ICatalog.sol";
import {IParticipantsGuarded} from "./IParticipantsGuarded.sol";
import {ISubjects} from "./ISubjects.sol";

/**
 * @title IObjections
 * @notice Objection tickets (异议, 永州市政务大数据管理办法 第三十四条): a citizen or enterprise that finds
 * government data about it wrong or incomplete, or infringing its privacy or trade secrets, objects to the
 * data authority (市政务数据主管部门, the admin). The authority marks the objection (异议标注), then either
 * decides it itself or forwards it to the resource's provider, who decides; a correction cites the new
 * version of the record.
 * @dev EIP-712 domain: name "ConsentLedger", version "1", this chain, this contract. One of the subject's
 * signers signs an {Objection}; anyone may relay it. Nonces are unordered, one bitmap per subject.
 *
 * Only hashes of the reason and the decision's note go on-chain, never the text. Each step records its
 * block timestamp, from which the regulation's working-day clocks are checked off-chain (a contract cannot
 * know the official holiday calendar): marked within 1 working day of filing; decided by the authority
 * within 5 working days of filing, or forwarded within 2 and decided by the provider within 5 working days
 * of the forwarding.
 */
interface IObjections is IParticipantsGuarded {
    /// @notice What the objector says is wrong with the data (第三十四条: 错误、遗漏, or 侵犯商业秘密、个人隐私).
    enum ObjectionKind {
        WRONG,
        INCOMPLETE,
        INFRINGES
    }

    /// @notice Lifecycle of an objection; NONE marks an unknown id. MARKED and FORWARDED are "marked": releases
    /// of the objected fields are flagged as disputed until the objection is DECIDED.
    enum ObjectionStatus {
        NONE,
        FILED,
        MARKED,
        FORWARDED,
        DECIDED
    }

    /**
     * @notice A subject's objection, signed as EIP-712 typed data by one of its signers.
     * @dev `kind` is an {ObjectionKind}, typed uint8 for wallets; `fieldMask` selects fields of `resourceId`
     * (bit j: the resource's field j); `reasonHash` is keccak256 of the objector's written reason.
     */
    struct Objection {
        bytes32 subject;
        bytes32 resourceId;
        uint256 fieldMask;
        uint8 kind;
        bytes32 reasonHash;
        uint256 nonce;
        uint64 deadline;
    }

    /// @notice An objection ticket. Times are block timestamps (0: not yet). `provider` is set when the objection
    /// was forwarded; `recordVersion` is the corrected record's version when `corrected`.
    struct Ticket {
        bytes32 subject;
        bytes32 resourceId;
        uint256 fieldMask;
        ObjectionKind kind;
        ObjectionStatus status;
        bool corrected;
        address provider;
        uint64 filedAt;
        uint64 markedAt;
        uint64 forwardedAt;
        uint64 decidedAt;
        uint64 recordVersion;
    }

    /// @notice The signature's `deadline` has passed.
    error ObjectionsSignatureExpired(uint64 deadline);

    /// @notice `nonce` of `subject` was already used or invalidated.
    error ObjectionsNonceAlreadyUsed(bytes32 subject, uint256 nonce);

    /// @notice `signer` is not a signer of `subject`.
    error ObjectionsNotSubjectSigner(bytes32 subject, address signer);

    /// @notice `signer`'s signature does not match the objection.
    error ObjectionsInvalidSignature(address signer);

    /// @notice `resourceId` is not in the catalog.
    error ObjectionsUnknownResource(bytes32 resourceId);

    /// @notice `fieldMask` is empty or selects fields `resourceId` does not have.
    error ObjectionsInvalidFieldMask(bytes32 resourceId, uint256 fieldMask);

    /// @notice `kind` is not an {ObjectionKind}.
    error ObjectionsInvalidKind(uint8 kind);

    /// @notice A reason or note hash is zero: every objection and decision has a written text.
    error ObjectionsMissingText();

    /// @notice Objection `objectionId` does not exist.
    error ObjectionsUnknownObjection(uint256 objectionId);

    /// @notice Objection `objectionId` is `status`, which does not allow this step.
    error ObjectionsWrongStatus(uint256 objectionId, ObjectionStatus status);

    /// @notice `caller` may not decide objection `objectionId`: once forwarded, only the provider it went to may.
    error ObjectionsNotDecider(uint256 objectionId, address caller);

    /// @notice A correction must cite the corrected record's version (non-zero).
    error ObjectionsMissingRecordVersion();

    /// @notice `signer` of `subject` filed objection `objectionId` against fields `fieldMask` of `resourceId`.
    event ObjectionFiled(
        uint256 indexed objectionId,
        bytes32 indexed subject,
        bytes32 indexed resourceId,
        address signer,
        ObjectionKind kind,
        uint256 fieldMask,
        bytes32 reasonHash,
        uint64 filedAt
    );

    /// @notice The data authority `by` marked objection `objectionId` (异议标注).
    event ObjectionMarked(uint256 indexed objectionId, address indexed by, uint64 markedAt);

    /// @notice The data authority `by` forwarded objection `objectionId` to the resource's `provider`.
    event ObjectionForwarded(uint256 indexed objectionId, address indexed provider, address by, uint64 forwardedAt);

    /// @notice `by` decided objection `objectionId`: `corrected` (citing `recordVersion`) or not, with the note
    /// hashed.
    event ObjectionDecided(
        uint256 indexed objectionId,
        address indexed by,
        bool corrected,
        uint64 recordVersion,
        bytes32 noteHash,
        uint64 decidedAt
    );

    /// @notice Nonces `(word << 8) | bit` of `subject` for each set bit of `mask` were marked used.
    event NoncesInvalidated(bytes32 indexed subject, uint256 word, uint256 mask);

    /// @notice keccak256 of the {Objection} type string.
    function OBJECTION_TYPEHASH() external view returns (bytes32);

    /**
     * @notice Files an objection signed by one of its subject's signers; anyone may relay it.
     * @dev The resource must be in the catalog, the mask non-empty and within its fields, the kind known, the
     * reason hash non-zero, the deadline not passed and the nonce unused.
     * @param objection The signed objection.
     * @param signer The subject signer who signed it.
     * @param signature 65-byte ECDSA signature, or an ERC-1271 signature of a contract signer.
     * @return objectionId The new objection's id (ids start at 1).
     */
    function fileWithSig(Objection calldata objection, address signer, bytes calldata signature)
        external
        returns (uint256 objectionId);

    /**
     * @notice Invalidates unused nonces of `subject` (bits of `mask` in word `word`), cancelling signed
     * objections not yet filed.
     * @dev Caller must be a signer of `subject`.
     */
    function invalidateNonces(bytes32 subject, uint256 word, uint256 mask) external;

    /**
     * @notice Marks a filed objection (异议标注).
     * @dev Caller must hold the admin role (the data authority). The objection must be FILED.
     */
    function mark(uint256 objectionId) external;

    /**
     * @notice Forwards a marked objection to the provider of its resource, as the catalog names it now.
     * @dev Caller must hold the admin role. The objection must be MARKED.
     */
    function forward(uint256 objectionId) external;

    /**
     * @notice Decides a marked objection: corrected or not.
     * @dev A MARKED objection is decided by the admin, a FORWARDED one by the provider it was forwarded to.
     * @param corrected Whether the record was corrected; if so `recordVersion` must be non-zero.
     * @param recordVersion The version of the corrected record (0 when not corrected).
     * @param noteHash keccak256 of the decision's note, non-zero.
     */
    function decide(uint256 objectionId, bool corrected, uint64 recordVersion, bytes32 noteHash) external;

    /**
     * @notice An objection ticket (all zero for an unknown id).
     */
    function objection(uint256 objectionId) external view returns (Ticket memory);

    /**
     * @notice The number of objections filed so far, which is the newest id.
     */
    function objectionCount() external view returns (uint256);

    /**
     * @notice Whether `nonce` of `subject` is used or invalidated.
     */
    function isNonceUsed(bytes32 subject, uint256 nonce) external view returns (bool);

    /**
     * @notice The EIP-712 digest a signer signs for `objection`.
     */
    function hashObjection(Objection calldata objection) external view returns (bytes32);

    /// @notice The EIP-712 domain separator of this contract on this chain.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The Subjects registry holding each subject's signers.
    function subjects() external view returns (ISubjects);

    /// @notice The Catalog naming each resource's fields and provider.
    function catalog() external view returns (ICatalog);
}
