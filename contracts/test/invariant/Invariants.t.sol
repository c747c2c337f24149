// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsents} from "../../src/interfaces/IConsents.sol";
import {ISubjects} from "../../src/interfaces/ISubjects.sol";
import {Fixture} from "../utils/Fixture.sol";
import {AnchorHandler, ConsentHandler, OutsiderHandler} from "./Handlers.sol";

/// @dev Consents and anchors driven by their legitimate actors.
contract LedgerInvariantTest is Fixture {
    ConsentHandler private consentHandler;
    AnchorHandler private anchorHandler;

    function setUp() public override {
        super.setUp();
        uint256[3][3] memory keys;
        keys[0][0] = ALICE_KEY;
        keys[1][0] = BOB_KEY;
        (keys[2][0], keys[2][1], keys[2][2]) = (ACME1_KEY, ACME2_KEY, ACME3_KEY);
        consentHandler = new ConsentHandler(consents, requester, [ALICE, BOB, ACME], keys, [uint8(1), 1, 2]);
        anchorHandler = new AnchorHandler(auditAnchor, anchorer);
        targetContract(address(consentHandler));
        targetContract(address(anchorHandler));

        bytes4[] memory consentActions = new bytes4[](4);
        consentActions[0] = ConsentHandler.grantNoRevert.selector;
        consentActions[1] = ConsentHandler.revokeNoRevert.selector;
        consentActions[2] = ConsentHandler.replayNoRevert.selector;
        consentActions[3] = ConsentHandler.warpNoRevert.selector;
        targetSelector(FuzzSelector(address(consentHandler), consentActions));
        bytes4[] memory anchorActions = new bytes4[](1);
        anchorActions[0] = AnchorHandler.anchorNoRevert.selector;
        targetSelector(FuzzSelector(address(anchorHandler), anchorActions));
    }

    /// @dev A revoked consent never checks ok, for any of its resources, at any later time.
    function invariant_revokedConsentNeverChecksOk() public view {
        uint256 count = consentHandler.revokedCount();
        for (uint256 i; i < count; ++i) {
            (bytes32 id, IConsents.Consent memory c) = consentHandler.revokedConsent(i);
            (IConsents.ConsentStatus status,, uint64 endedAt) = consents.consentRecord(id);
            assertEq(uint8(status), uint8(IConsents.ConsentStatus.REVOKED), "status");
            assertTrue(endedAt != 0, "endedAt");
            for (uint256 j; j < c.resources.length; ++j) {
                (bool ok, uint256 mask, uint8 reason) =
                    consents.check(c, c.grantee, c.resources[j], keccak256(bytes(c.purpose)));
                assertFalse(ok, "revoked consent checked ok");
                assertEq(mask, 0, "mask of revoked consent");
                assertEq(reason, 2, "reason");
            }
        }
    }

    function invariant_recordedConsentCannotBeReplayedOrRevokedTwice() public view {
        assertEq(consentHandler.ghostReplaysAccepted(), 0, "replay accepted");
        assertEq(consentHandler.ghostDoubleRevocationsAccepted(), 0, "double revocation accepted");
    }

    /// @dev The anchored tree size never decreases, grows by at most the step, and every such anchor is accepted.
    function invariant_anchorTreeSizeNeverDecreases() public view {
        (uint256 index, uint64 treeSize,,) = auditAnchor.latest();
        assertFalse(anchorHandler.ghostSizeDecreased(), "tree size decreased");
        assertEq(anchorHandler.ghostNonIncreasingAccepted(), 0, "non-increasing anchor accepted");
        assertEq(anchorHandler.ghostIncreasingRejected(), 0, "increasing anchor within the step rejected");
        assertEq(anchorHandler.ghostOversizedAccepted(), 0, "anchor beyond the step accepted");
        assertEq(treeSize, anchorHandler.ghostMaxTreeSize(), "latest size");
        assertEq(index, anchorHandler.ghostAnchors(), "anchor count");
    }
}

/// @dev Accounts without roles (and not bound as signers) call every gated function; nothing may change.
contract RoleInvariantTest is Fixture {
    bytes32 private constant NEW_SUBJECT = keccak256("subject:new");
    bytes32 private constant RES_NEW = keccak256("new-resource");

    OutsiderHandler private handler;
    bytes32 private consentId;
    bytes32 private initialState;

    function setUp() public override {
        super.setUp();
        (consentId,) = _grantAlice(0);
        vm.prank(requester);
        catalog.requestSharing(RES_PENSION, 1, keccak256("p"), uint64(block.timestamp + 1 days));
        vm.prank(provider);
        catalog.approveSharing(1); // an agreement in force, which outsiders try to end
        vm.prank(anchorer);
        auditAnchor.anchor(10, keccak256("root"));

        handler = new OutsiderHandler(
            participants,
            subjects,
            catalog,
            consents,
            auditAnchor,
            [ALICE, BOB, ACME, NEW_SUBJECT],
            [RES_PENSION, RES_TAX, RES_NEW],
            consentId
        );
        for (uint256 i; i < handler.OUTSIDERS(); ++i) {
            assertEq(participants.roleCount(handler.outsider(i)), 0, "outsider holds a role");
        }
        vm.prank(attester);
        (bytes32 pending,) = subjects.proposeSignerChange(BOB, _addresses(mallory), _none(), 1);
        handler.setPendingChange(pending);
        targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](5);
        actions[0] = OutsiderHandler.participantsNoRevert.selector;
        actions[1] = OutsiderHandler.subjectsNoRevert.selector;
        actions[2] = OutsiderHandler.catalogNoRevert.selector;
        actions[3] = OutsiderHandler.consentsNoRevert.selector;
        actions[4] = OutsiderHandler.anchorNoRevert.selector;
        targetSelector(FuzzSelector(address(handler), actions));
        initialState = _stateDigest();
    }

    function invariant_onlyRoleHoldersChangeState() public view {
        assertEq(handler.ghostAccepted(), 0, "an outsider call was accepted");
        assertEq(_stateDigest(), initialState, "state changed");
    }

    /// @dev Everything the outsider handler could touch, given its fixed input domains.
    function _stateDigest() private view returns (bytes32 digest) {
        address[] memory accounts = new address[](handler.OUTSIDERS() + 9);
        for (uint256 i; i < handler.OUTSIDERS(); ++i) {
            accounts[i] = handler.outsider(i);
        }
        uint256 n = handler.OUTSIDERS();
        (accounts[n], accounts[n + 1], accounts[n + 2]) = (admin, attester, anchorer);
        (accounts[n + 3], accounts[n + 4], accounts[n + 5]) = (emergency, relayer, regulator);
        (accounts[n + 6], accounts[n + 7], accounts[n + 8]) = (provider, requester, alice);

        for (uint256 i; i < accounts.length; ++i) {
            address a = accounts[i];
            (bytes32 code, string memory name, bool active) = participants.department(a);
            digest = keccak256(
                abi.encode(digest, a, participants.roleCount(a), participants.accountAllowed(a), code, name, active)
            );
            for (uint256 r; r < 7; ++r) {
                digest = keccak256(abi.encode(digest, participants.hasRole(handler.roleDomain(r), a)));
            }
        }
        for (uint256 i; i < 3; ++i) {
            digest = keccak256(abi.encode(digest, participants.departmentByCode(handler.codeDomain(i))));
            digest = keccak256(abi.encode(digest, catalog.resource(handler.resourceDomain(i))));
        }
        for (uint256 i; i < 4; ++i) {
            bytes32 s = handler.subjectDomain(i);
            digest = keccak256(
                abi.encode(
                    digest, subjects.kindOf(s), subjects.thresholdOf(s), subjects.signersOf(s), subjects.signerChangeNonce(s)
                )
            );
            // Nonces 0..600 of the handler live in bitmap words 0..2 (Consents storage slot 3).
            for (uint256 w; w < 3; ++w) {
                bytes32 slot = keccak256(abi.encode(w, keccak256(abi.encode(s, uint256(3)))));
                digest = keccak256(abi.encode(digest, vm.load(address(consents), slot)));
            }
        }
        (bytes32 changeSubject, ISubjects.SignerChangeStatus changeStatus, uint64 effectiveAt) =
            subjects.signerChange(handler.pendingChange());
        digest = keccak256(abi.encode(digest, changeSubject, changeStatus, effectiveAt));
        (IConsents.ConsentStatus status, uint64 grantedAt, uint64 endedAt) = consents.consentRecord(consentId);
        digest = keccak256(abi.encode(digest, status, grantedAt, endedAt));
        digest = keccak256(abi.encode(digest, catalog.requestCount(), catalog.sharingRequest(1)));
        digest = keccak256(abi.encode(digest, catalog.agreement(requester, RES_PENSION, keccak256("p"))));
        (uint256 index, uint64 treeSize, bytes32 rootHash, bytes32 anchorHash) = auditAnchor.latest();
        digest = keccak256(abi.encode(digest, index, treeSize, rootHash, anchorHash));
    }
}
