// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {AuditAnchor} from "../../src/AuditAnchor.sol";
import {Catalog} from "../../src/Catalog.sol";
import {Consents} from "../../src/Consents.sol";
import {Objections} from "../../src/Objections.sol";
import {Participants} from "../../src/Participants.sol";
import {Subjects} from "../../src/Subjects.sol";
import {ICatalog} from "../../src/interfaces/ICatalog.sol";
import {IConsents} from "../../src/interfaces/IConsents.sol";
import {IObjections} from "../../src/interfaces/IObjections.sol";
import {ISubjects} from "../../src/interfaces/ISubjects.sol";
import {Test} from "./Test.sol";

/// @dev Smart-contract wallet accepting signatures of its owner key (ERC-1271).
contract ERC1271Wallet is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}

/// @dev Key derivation and signing helpers, shared by the fixture and the invariant handlers.
abstract contract Signing is Test {
    /// @dev Test private key of a label: keccak256(label), which is a valid secp256k1 key for every label used.
    function _key(string memory label) internal pure returns (uint256 key) {
        key = uint256(keccak256(bytes(label)));
        require(key != 0 && key < SECP256K1_N, "label gives no valid key");
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The same signature with s' = n - s and the flipped v: valid for raw ecrecover, rejected by OZ.
    function _malleate(bytes memory signature) internal pure returns (bytes memory) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    /// @dev Signs `digest` with every key and returns signers sorted ascending with their signatures.
    function _signSorted(bytes32 digest, uint256[] memory keys)
        internal
        pure
        returns (address[] memory signers, bytes[] memory signatures)
    {
        uint256 n = keys.length;
        uint256[] memory sorted = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            sorted[i] = keys[i];
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && vm.addr(sorted[j]) < vm.addr(sorted[j - 1]); --j) {
                (sorted[j], sorted[j - 1]) = (sorted[j - 1], sorted[j]);
            }
        }
        signers = new address[](n);
        signatures = new bytes[](n);
        for (uint256 i; i < n; ++i) {
            signers[i] = vm.addr(sorted[i]);
            signatures[i] = _sign(sorted[i], digest);
        }
    }
}

/// @dev Deploys the six contracts with roles, two departments, resources and four subjects.
abstract contract Fixture is Signing {
    uint64 internal constant START = 1_767_225_600; // 2026-01-01T00:00:00Z
    /// @dev The bound the deployment uses (ledger/deploy.py).
    uint64 internal constant MAX_TREE_SIZE_STEP = 2 ** 20;
    uint64 internal constant NOTICE = 72 hours;

    // Test keys are derived from labels; none of them is a well-known development key.
    uint256 internal immutable ALICE_KEY = _key("alice");
    uint256 internal immutable BOB_KEY = _key("bob");
    uint256 internal immutable ACME1_KEY = _key("acme-1");
    uint256 internal immutable ACME2_KEY = _key("acme-2");
    uint256 internal immutable ACME3_KEY = _key("acme-3");
    uint256 internal immutable WALLET_OWNER_KEY = _key("wallet-owner");
    uint256 internal immutable MALLORY_KEY = _key("mallory");

    bytes32 internal constant ALICE = keccak256("subject:alice");
    bytes32 internal constant BOB = keccak256("subject:bob");
    bytes32 internal constant ACME = keccak256("subject:acme");
    bytes32 internal constant WALLET_SUBJECT = keccak256("subject:wallet");
    bytes32 internal constant NOBODY = keccak256("subject:nobody");

    bytes32 internal constant RES_HOUSEHOLD = keccak256("household-registration");
    bytes32 internal constant RES_TAX = keccak256("tax-records");
    bytes32 internal constant RES_PENSION = keccak256("pension-contributions");
    string internal constant PURPOSE = "social-assistance-eligibility";

    bytes32 internal immutable DEPARTMENT_ROLE = keccak256("DEPARTMENT_ROLE");
    bytes32 internal immutable REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    bytes32 internal immutable IDENTITY_ATTESTER_ROLE = keccak256("IDENTITY_ATTESTER_ROLE");
    bytes32 internal immutable RELAYER_ROLE = keccak256("RELAYER_ROLE");
    bytes32 internal immutable ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    bytes32 internal immutable EMERGENCY_ROLE = keccak256("EMERGENCY_ROLE");
    bytes32 internal constant ADMIN_ROLE = 0x00;

    address internal admin = vm.addr(_key("admin"));
    address internal attester = vm.addr(_key("attester"));
    address internal anchorer = vm.addr(_key("anchorer"));
    address internal emergency = vm.addr(_key("emergency"));
    address internal relayer = vm.addr(_key("relayer"));
    address internal regulator = vm.addr(_key("regulator"));
    address internal provider = vm.addr(_key("dept-hrss"));
    address internal requester = vm.addr(_key("dept-civil"));
    address internal stranger = vm.addr(_key("stranger"));

    address internal alice;
    address internal bob;
    address internal acme1;
    address internal acme2;
    address internal acme3;
    address internal mallory;

    Participants internal participants;
    Subjects internal subjects;
    Catalog internal catalog;
    Consents internal consents;
    AuditAnchor internal auditAnchor;
    Objections internal objections;
    ERC1271Wallet internal wallet;

    function setUp() public virtual {
        vm.warp(START);
        vm.roll(1_000);
        alice = vm.addr(ALICE_KEY);
        bob = vm.addr(BOB_KEY);
        acme1 = vm.addr(ACME1_KEY);
        acme2 = vm.addr(ACME2_KEY);
        acme3 = vm.addr(ACME3_KEY);
        mallory = vm.addr(MALLORY_KEY);

        participants = new Participants(admin, attester);
        subjects = new Subjects(participants, NOTICE, 1);
        catalog = new Catalog(participants);
        consents = new Consents(participants, subjects);
        auditAnchor = new AuditAnchor(participants, MAX_TREE_SIZE_STEP);
        objections = new Objections(participants, subjects, catalog);
        wallet = new ERC1271Wallet(vm.addr(WALLET_OWNER_KEY));

        vm.startPrank(admin);
        participants.grantRole(ANCHORER_ROLE, anchorer);
        participants.grantRole(EMERGENCY_ROLE, emergency);
        participants.grantRole(RELAYER_ROLE, relayer);
        participants.registerRegulator(regulator, "Data Audit Office");
        participants.registerDepartment(provider, "HRSS", "Human Resources and Social Security Bureau");
        participants.registerDepartment(requester, "CIVIL", "Civil Affairs Bureau");
        catalog.registerResource(RES_PENSION, provider, ICatalog.SharingClass.CONDITIONAL, true, 12, keccak256("v1"));
        vm.stopPrank();

        vm.startPrank(attester);
        subjects.register(ALICE, ISubjects.SubjectKind.PERSON, _addresses(alice), 1);
        subjects.register(BOB, ISubjects.SubjectKind.PERSON, _addresses(bob), 1);
        subjects.register(ACME, ISubjects.SubjectKind.ENTERPRISE, _addresses(acme1, acme2, acme3), 2);
        subjects.register(WALLET_SUBJECT, ISubjects.SubjectKind.PERSON, _addresses(address(wallet)), 1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- builders

    function _none() internal pure returns (address[] memory) {
        return new address[](0);
    }

    /// @dev A signer change of `subject` carrying its next change nonce.
    function _signerChange(bytes32 subject, address[] memory add, address[] memory remove, uint8 threshold)
        internal
        view
        returns (ISubjects.SignerChange memory)
    {
        return ISubjects.SignerChange({
            subject: subject, add: add, remove: remove, threshold: threshold, nonce: subjects.signerChangeNonce(subject)
        });
    }

    /// @dev Proposes `change` as the attester; returns its id.
    function _propose(ISubjects.SignerChange memory change) internal returns (bytes32 changeId) {
        vm.prank(attester);
        (changeId,) = subjects.proposeSignerChange(change.subject, change.add, change.remove, change.threshold);
    }

    /// @dev Proposes `change`, waits out the notice period and applies it.
    function _changeSigners(ISubjects.SignerChange memory change) internal returns (bytes32 changeId) {
        changeId = _propose(change);
        vm.warp(block.timestamp + NOTICE);
        subjects.applySignerChange(change);
    }

    function _addresses(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _addresses(address a, address b, address c) internal pure returns (address[] memory list) {
        list = new address[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    function _keys(uint256 a) internal pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = a;
    }

    function _keys(uint256 a, uint256 b) internal pure returns (uint256[] memory list) {
        list = new uint256[](2);
        (list[0], list[1]) = (a, b);
    }

    function _keys(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory list) {
        list = new uint256[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    /// @dev A consent of `subject` for `requester` over two resources, valid 180 days, deadline in 1 hour.
    function _consent(bytes32 subject, uint256 nonce) internal view returns (IConsents.Consent memory c) {
        c.subject = subject;
        c.grantee = requester;
        (bytes32 low, bytes32 high) = RES_HOUSEHOLD < RES_TAX ? (RES_HOUSEHOLD, RES_TAX) : (RES_TAX, RES_HOUSEHOLD);
        c.resources = new bytes32[](2);
        c.resources[0] = low;
        c.resources[1] = high;
        c.fieldMasks = new uint256[](2);
        c.fieldMasks[0] = 0x0f;
        c.fieldMasks[1] = 0x03;
        c.purpose = PURPOSE;
        c.validFrom = uint64(block.timestamp);
        c.validUntil = uint64(block.timestamp + 180 days);
        c.maxUses = 0;
        c.nonce = nonce;
        c.deadline = uint64(block.timestamp + 1 hours);
    }

    function _revocation(bytes32 consentId, bytes32 subject, uint256 nonce)
        internal
        view
        returns (IConsents.Revoke memory r)
    {
        r = IConsents.Revoke({
            consentId: consentId,
            subject: subject,
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours)
        });
    }

    function _signConsent(IConsents.Consent memory c, uint256[] memory keys)
        internal
        view
        returns (address[] memory signers, bytes[] memory signatures)
    {
        return _signSorted(consents.hashConsent(c), keys);
    }

    function _grant(IConsents.Consent memory c, uint256[] memory keys) internal returns (bytes32) {
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, keys);
        return consents.grant(c, signers, signatures);
    }

    function _grantAlice(uint256 nonce) internal returns (bytes32 id, IConsents.Consent memory c) {
        c = _consent(ALICE, nonce);
        id = _grant(c, _keys(ALICE_KEY));
    }

    /// @dev An objection of `subject` that fields 0 and 1 of the pension resource are wrong, deadline in 1 hour.
    function _objection(bytes32 subject, uint256 nonce) internal view returns (IObjections.Objection memory o) {
        o = IObjections.Objection({
            subject: subject,
            resourceId: RES_PENSION,
            fieldMask: 0x03,
            kind: uint8(IObjections.ObjectionKind.WRONG),
            reasonHash: keccak256("the contribution months of 2019 are missing"),
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours)
        });
    }

    /// @dev Files `o` signed with `key` for `signer`; returns its id.
    function _fileObjection(IObjections.Objection memory o, uint256 key, address signer) internal returns (uint256) {
        return objections.fileWithSig(o, signer, _sign(key, objections.hashObjection(o)));
    }
}
