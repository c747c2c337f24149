// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AuditAnchor} from "../../src/AuditAnchor.sol";
import {Catalog} from "../../src/Catalog.sol";
import {Consents} from "../../src/Consents.sol";
import {Participants} from "../../src/Participants.sol";
import {Subjects} from "../../src/Subjects.sol";
import {ICatalog} from "../../src/interfaces/ICatalog.sol";
import {IConsents} from "../../src/interfaces/IConsents.sol";
import {ISubjects} from "../../src/interfaces/ISubjects.sol";
import {Signing} from "../utils/Fixture.sol";

/// @dev Grants, revokes and replays consents as their legitimate signers. Every function bounds its inputs and
/// catches expected failures, so no call reverts; surprises are counted in ghost variables instead.
contract ConsentHandler is Signing {
    struct Granted {
        uint8 subjectIndex;
        uint16 nonce;
        uint64 validFrom;
        uint64 validUntil;
        uint8 resourceCount;
        uint64 deadline;
        bytes32 id;
    }

    Consents private immutable _consents;
    address private immutable _grantee;
    bytes32[3] private _subjectIds;
    uint256[3][3] private _subjectKeys; // up to three keys per subject, 0 = none
    uint8[3] private _thresholds;

    Granted[] private _granted;
    uint256[] private _revokedIndexes;
    mapping(bytes32 id => bool) private _isRevoked;

    uint256 public ghostGrants;
    uint256 public ghostRevocations;
    uint256 public ghostReplaysAccepted;
    uint256 public ghostDoubleRevocationsAccepted;

    constructor(
        Consents consents_,
        address grantee,
        bytes32[3] memory subjectIds,
        uint256[3][3] memory subjectKeys,
        uint8[3] memory thresholds
    ) {
        _consents = consents_;
        _grantee = grantee;
        _subjectIds = subjectIds;
        _subjectKeys = subjectKeys;
        _thresholds = thresholds;
    }

    // ---------------------------------------------------------------- actions

    function grantNoRevert(
        uint256 subjectSeed,
        uint256 nonceSeed,
        uint256 resourceSeed,
        uint256 startSeed,
        uint256 lengthSeed
    ) external {
        Granted memory g;
        g.subjectIndex = uint8(bound(subjectSeed, 0, 2));
        g.nonce = uint16(bound(nonceSeed, 0, 600)); // small range: collisions exercise nonce reuse
        g.resourceCount = uint8(bound(resourceSeed, 1, 16));
        g.validFrom = uint64(block.timestamp + bound(startSeed, 0, 10 days));
        g.validUntil = g.validFrom + uint64(bound(lengthSeed, 1, 60 days));
        g.deadline = uint64(block.timestamp + 1 hours);
        IConsents.Consent memory c = _build(g);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(_consents.hashConsent(c), _signingKeys(g.subjectIndex, subjectSeed));
        try _consents.grant(c, signers, signatures) returns (bytes32 id) {
            g.id = id;
            _granted.push(g);
            ++ghostGrants;
        } catch {}
    }

    function revokeNoRevert(uint256 indexSeed, uint256 signerSeed, bool withSignature, uint256 nonceSeed) external {
        if (_granted.length == 0) return;
        Granted memory g = _granted[bound(indexSeed, 0, _granted.length - 1)];
        bytes32 subject = _subjectIds[g.subjectIndex];
        uint256 key = _anyKey(g.subjectIndex, signerSeed);
        bool accepted;
        if (withSignature) {
            IConsents.Revoke memory r = IConsents.Revoke({
                consentId: g.id,
                subject: subject,
                nonce: 10_000 + bound(nonceSeed, 0, 600),
                deadline: uint64(block.timestamp + 1 hours)
            });
            bytes memory signature = _sign(key, _consents.hashRevoke(r));
            try _consents.revokeWithSig(r, vm.addr(key), signature) {
                accepted = true;
            } catch {}
        } else {
            vm.prank(vm.addr(key));
            try _consents.revoke(g.id, subject) {
                accepted = true;
            } catch {}
        }
        if (!accepted) return;
        if (_isRevoked[g.id]) {
            ++ghostDoubleRevocationsAccepted;
            return;
        }
        _isRevoked[g.id] = true;
        _revokedIndexes.push(_indexOf(g.id));
        ++ghostRevocations;
    }

    /// @dev Resubmits an already recorded consent with fresh, valid signatures: must always be refused.
    function replayNoRevert(uint256 indexSeed, uint256 signerSeed) external {
        if (_granted.length == 0) return;
        Granted memory g = _granted[bound(indexSeed, 0, _granted.length - 1)];
        IConsents.Consent memory c = _build(g);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(_consents.hashConsent(c), _signingKeys(g.subjectIndex, signerSeed));
        try _consents.grant(c, signers, signatures) {
            ++ghostReplaysAccepted;
        } catch {}
    }

    function warpNoRevert(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 0, 30 days));
        vm.roll(block.number + 1);
    }

    // ---------------------------------------------------------------- views for the invariants

    function revokedCount() external view returns (uint256) {
        return _revokedIndexes.length;
    }

    function revokedConsent(uint256 i) external view returns (bytes32 id, IConsents.Consent memory consent) {
        Granted memory g = _granted[_revokedIndexes[i]];
        return (g.id, _build(g));
    }

    function grantee() external view returns (address) {
        return _grantee;
    }

    // ---------------------------------------------------------------- helpers

    function _build(Granted memory g) private view returns (IConsents.Consent memory c) {
        c.subject = _subjectIds[g.subjectIndex];
        c.grantee = _grantee;
        c.resources = new bytes32[](g.resourceCount);
        c.fieldMasks = new uint256[](g.resourceCount);
        for (uint256 i; i < g.resourceCount; ++i) {
            c.resources[i] = bytes32(uint256(keccak256(abi.encode("resource", i))) >> 8 | (i << 248));
            c.fieldMasks[i] = (i + 1) * 3;
        }
        c.purpose = "invariant-purpose";
        c.validFrom = g.validFrom;
        c.validUntil = g.validUntil;
        c.nonce = g.nonce;
        c.deadline = g.deadline;
    }

    /// @dev `threshold` distinct keys of the subject, picked by `seed`.
    function _signingKeys(uint8 subjectIndex, uint256 seed) private view returns (uint256[] memory keys) {
        uint256 threshold = _thresholds[subjectIndex];
        uint256 available;
        while (available < 3 && _subjectKeys[subjectIndex][available] != 0) {
            ++available;
        }
        keys = new uint256[](threshold);
        uint256 offset = seed % available;
        for (uint256 i; i < threshold; ++i) {
            keys[i] = _subjectKeys[subjectIndex][(offset + i) % available];
        }
    }

    function _anyKey(uint8 subjectIndex, uint256 seed) private view returns (uint256) {
        uint256[] memory keys = _signingKeys(subjectIndex, seed);
        return keys[0];
    }

    function _indexOf(bytes32 id) private view returns (uint256) {
        for (uint256 i = _granted.length; i > 0; --i) {
            if (_granted[i - 1].id == id) return i - 1;
        }
        revert("unknown id");
    }
}

/// @dev Anchors tree heads of random sizes, including sizes that do not grow and steps beyond the bound.
contract AnchorHandler is Signing {
    AuditAnchor private immutable _anchor;
    address private immutable _anchorer;

    uint64 public ghostMaxTreeSize;
    uint256 public ghostAnchors;
    uint256 public ghostNonIncreasingAccepted;
    uint256 public ghostIncreasingRejected;
    uint256 public ghostOversizedAccepted;
    bool public ghostSizeDecreased;

    constructor(AuditAnchor anchor_, address anchorer) {
        _anchor = anchor_;
        _anchorer = anchorer;
    }

    function anchorNoRevert(uint256 sizeSeed, bytes32 rootHash) external {
        (, uint64 before,,) = _anchor.latest();
        uint256 maxStep = _anchor.maxTreeSizeStep();
        // Mostly small growth; one draw in eight reaches up to twice the bound, or up to the uint64 limit.
        uint256 reach = sizeSeed % 8 == 0 ? (sizeSeed % 16 == 0 ? type(uint64).max : 2 * maxStep) : 1_000;
        uint64 treeSize = uint64(bound(sizeSeed, 0, _min(uint256(before) + reach, type(uint64).max)));
        bool allowed = treeSize > before && treeSize - before <= maxStep;
        vm.prank(_anchorer);
        try _anchor.anchor(treeSize, rootHash) {
            if (treeSize <= before) ++ghostNonIncreasingAccepted;
            if (treeSize - before > maxStep) ++ghostOversizedAccepted;
            ++ghostAnchors;
            ghostMaxTreeSize = treeSize;
        } catch {
            if (allowed) ++ghostIncreasingRejected;
        }
        (, uint64 afterwards,,) = _anchor.latest();
        if (afterwards < before) ghostSizeDecreased = true;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}

/// @dev Calls every role-gated or signer-gated function as accounts that hold no role and are no signer.
/// All inputs are drawn from small fixed domains so that the invariant can compare the complete state.
contract OutsiderHandler is Signing {
    uint256 public constant OUTSIDERS = 8;

    Participants private immutable _participants;
    Subjects private immutable _subjects;
    Catalog private immutable _catalog;
    Consents private immutable _consents;
    AuditAnchor private immutable _anchor;

    bytes32[4] public subjectDomain;
    bytes32[3] public resourceDomain;
    bytes32[3] public codeDomain = [bytes32("HRSS"), bytes32("CIVIL"), bytes32("X")];
    bytes32[7] public roleDomain;
    bytes32 public consentId;
    bytes32 public pendingChange;

    uint256 public ghostCalls;
    uint256 public ghostAccepted;

    constructor(
        Participants participants_,
        Subjects subjects_,
        Catalog catalog_,
        Consents consents_,
        AuditAnchor anchor_,
        bytes32[4] memory subjectIds,
        bytes32[3] memory resourceIds,
        bytes32 consentId_
    ) {
        (_participants, _subjects, _catalog, _consents, _anchor) =
        (participants_, subjects_, catalog_, consents_, anchor_);
        subjectDomain = subjectIds;
        resourceDomain = resourceIds;
        consentId = consentId_;
        roleDomain = [
            bytes32(0),
            keccak256("DEPARTMENT_ROLE"),
            keccak256("REGULATOR_ROLE"),
            keccak256("IDENTITY_ATTESTER_ROLE"),
            keccak256("RELAYER_ROLE"),
            keccak256("ANCHORER_ROLE"),
            keccak256("EMERGENCY_ROLE")
        ];
    }

    /// @dev A change proposed by the attester in the test's set-up, still in its notice period.
    function setPendingChange(bytes32 changeId) external {
        pendingChange = changeId;
    }

    function outsiderKey(uint256 i) public pure returns (uint256) {
        return _key(string.concat("outsider-", vm.toString(i % OUTSIDERS)));
    }

    function outsider(uint256 i) public pure returns (address) {
        return vm.addr(outsiderKey(i));
    }

    function participantsNoRevert(uint256 actorSeed, uint256 op, uint256 targetSeed, uint256 valueSeed) external {
        address actor = outsider(actorSeed);
        address target = outsider(targetSeed);
        bytes32 code = codeDomain[valueSeed % 3];
        bytes32 role = roleDomain[valueSeed % 7];
        op = bound(op, 0, 10);
        vm.prank(actor);
        if (op == 0) {
            _record(address(_participants), abi.encodeCall(_participants.registerDepartment, (target, code, "x")));
        } else if (op == 1) {
            _record(address(_participants), abi.encodeCall(_participants.setDepartmentActive, (target, false)));
        } else if (op == 2) {
            _record(address(_participants), abi.encodeCall(_participants.registerRegulator, (target, "x")));
        } else if (op == 3) {
            _record(address(_participants), abi.encodeCall(_participants.setAccountAllowed, (target, true)));
        } else if (op == 4) {
            _record(address(_participants), abi.encodeCall(_participants.grantRole, (role, target)));
        } else {
            _record(address(_participants), abi.encodeCall(_participants.revokeRole, (role, target)));
        }
    }

    function subjectsNoRevert(uint256 actorSeed, uint256 op, uint256 subjectSeed, uint256 signerSeed) external {
        address actor = outsider(actorSeed);
        bytes32 subject = subjectDomain[subjectSeed % 4];
        address signer = outsider(signerSeed);
        op = bound(op, 0, 4);
        ISubjects.SignerChange memory change = ISubjects.SignerChange({
            subject: subject,
            add: _list(actor),
            remove: new address[](0),
            threshold: 1,
            nonce: _subjects.signerChangeNonce(subject)
        });
        bytes memory approval = _sign(outsiderKey(actorSeed), _subjects.hashSignerChange(change));
        bytes memory cancellation = _sign(outsiderKey(actorSeed), _subjects.hashCancelSignerChange(pendingChange));
        vm.prank(actor);
        if (op == 0) {
            _record(
                address(_subjects),
                abi.encodeCall(_subjects.register, (subject, ISubjects.SubjectKind.PERSON, _list(signer), 1))
            );
        } else if (op == 1) {
            _record(
                address(_subjects),
                abi.encodeCall(_subjects.proposeSignerChange, (subject, _list(signer), new address[](0), 1))
            );
        } else if (op == 2) {
            _record(address(_subjects), abi.encodeCall(_subjects.cancelSignerChange, (pendingChange)));
        } else if (op == 3) {
            _record(
                address(_subjects),
                abi.encodeCall(_subjects.cancelSignerChangeWithSig, (pendingChange, actor, cancellation))
            );
        } else {
            bytes[] memory signatures = new bytes[](1);
            signatures[0] = approval;
            _record(
                address(_subjects), abi.encodeCall(_subjects.approveSignerChange, (change, _list(actor), signatures))
            );
        }
    }

    function catalogNoRevert(uint256 actorSeed, uint256 op, uint256 resourceSeed, uint256 requestSeed) external {
        address actor = outsider(actorSeed);
        bytes32 resourceId = resourceDomain[resourceSeed % 3];
        uint256 requestId = bound(requestSeed, 0, 2);
        op = bound(op, 0, 10);
        vm.prank(actor);
        if (op == 0) {
            _record(
                address(_catalog),
                abi.encodeCall(
                    _catalog.registerResource, (resourceId, actor, ICatalog.SharingClass.CONDITIONAL, false, 8, 0)
                )
            );
        } else if (op == 1) {
            _record(
                address(_catalog),
                abi.encodeCall(
                    _catalog.updateResource, (resourceId, actor, ICatalog.SharingClass.UNCONDITIONAL, false, 8, 0)
                )
            );
        } else if (op == 2) {
            _record(address(_catalog), abi.encodeCall(_catalog.setResourceActive, (resourceId, false)));
        } else if (op == 3) {
            _record(
                address(_catalog),
                abi.encodeCall(_catalog.requestSharing, (resourceId, 1, 0, uint64(block.timestamp + 1 days)))
            );
        } else if (op == 4) {
            _record(address(_catalog), abi.encodeCall(_catalog.approveSharing, (requestId)));
        } else if (op == 5) {
            _record(address(_catalog), abi.encodeCall(_catalog.denySharing, (requestId, 0)));
        } else if (op == 6) {
            _record(address(_catalog), abi.encodeCall(_catalog.endAgreement, (requestId, 0)));
        } else if (op == 7) {
            _record(address(_catalog), abi.encodeCall(_catalog.suspendAccess, (resourceId, actor, keccak256("x"), 0)));
        } else if (op == 8) {
            _record(address(_catalog), abi.encodeCall(_catalog.liftSuspension, (resourceId, actor)));
        } else if (op == 9) {
            _record(address(_catalog), abi.encodeCall(_catalog.requestVerification, (resourceId, 1, 0, keccak256("x"))));
        } else {
            _record(address(_catalog), abi.encodeCall(_catalog.resolveVerification, (requestId, true, 0)));
        }
    }

    function consentsNoRevert(uint256 actorSeed, uint256 op, uint256 subjectSeed, uint256 nonceSeed) external {
        uint256 actorKey = outsiderKey(actorSeed);
        address actor = vm.addr(actorKey);
        bytes32 subject = subjectDomain[subjectSeed % 4];
        uint256 nonce = bound(nonceSeed, 0, 600);
        op = bound(op, 0, 4);
        if (op == 4) {
            vm.prank(actor);
            _record(address(_consents), abi.encodeCall(_consents.endByRegulator, (consentId, subject, keccak256("x"))));
        } else if (op == 0) {
            vm.prank(actor);
            _record(address(_consents), abi.encodeCall(_consents.revoke, (consentId, subject)));
        } else if (op == 1) {
            vm.prank(actor);
            _record(
                address(_consents),
                abi.encodeCall(_consents.invalidateNonces, (subject, nonce >> 8, 1 << (nonce & 0xff)))
            );
        } else if (op == 2) {
            IConsents.Revoke memory r = IConsents.Revoke(consentId, subject, nonce, uint64(block.timestamp + 1 hours));
            bytes memory signature = _sign(actorKey, _consents.hashRevoke(r));
            vm.prank(actor);
            _record(address(_consents), abi.encodeCall(_consents.revokeWithSig, (r, actor, signature)));
        } else {
            IConsents.Consent memory c;
            c.subject = subject;
            c.grantee = actor;
            c.resources = new bytes32[](1);
            c.resources[0] = resourceDomain[0];
            c.fieldMasks = new uint256[](1);
            c.fieldMasks[0] = 1;
            c.purpose = "outsider";
            c.validUntil = uint64(block.timestamp + 1 days);
            c.nonce = nonce;
            c.deadline = uint64(block.timestamp + 1 hours);
            (address[] memory signers, bytes[] memory signatures) =
                _signSorted(_consents.hashConsent(c), _keyList(actorKey));
            vm.prank(actor);
            _record(address(_consents), abi.encodeCall(_consents.grant, (c, signers, signatures)));
        }
    }

    function anchorNoRevert(uint256 actorSeed, bool emergency, uint64 treeSize, bytes32 rootHash) external {
        vm.prank(outsider(actorSeed));
        if (emergency) {
            _record(
                address(_anchor),
                abi.encodeCall(_anchor.recordEmergencyAccess, (subjectDomain[0], resourceDomain[0], rootHash))
            );
        } else {
            _record(address(_anchor), abi.encodeCall(_anchor.anchor, (treeSize, rootHash)));
        }
    }

    function _record(address target, bytes memory data) private {
        ++ghostCalls;
        (bool ok,) = target.call(data);
        if (ok) ++ghostAccepted;
    }

    function _list(address a) private pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _keyList(uint256 key) private pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = key;
    }
}
