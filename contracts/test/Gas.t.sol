// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsents} from "../src/interfaces/IConsents.sol";
import {IObjections} from "../src/interfaces/IObjections.sol";
import {ISubjects} from "../src/interfaces/ISubjects.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @dev Gas figures. State is prepared in setUp, so every measured call starts cold as in a fresh transaction.
/// Each test_gas_* meters only the measured call (everything else runs with metering paused), so
/// `.gas-snapshot` shows its execution gas; the test also logs what the transaction pays in total
/// (21000 + calldata + execution; `forge test --match-contract GasTest -vv`) and asserts the budget on it.
/// These totals agree with receipts of the same transactions on anvil to within about 500 gas (they are
/// slightly higher: the test keys' addresses make the calldata a little more expensive).
///
/// "Returning" subjects have used a nonce before, so their nonce word already exists (the steady state);
/// a subject's very first signed message also pays for creating its nonce word (about 17k more).
contract GasTest is Fixture {
    uint256 private constant BATCH = 10;
    uint256 private constant TX_BASE = 21_000;

    uint256[] private _returningKeys;
    bytes32[] private _returning;
    uint256[] private _newKeys;
    bytes32[] private _new;
    bytes32 private _aliceConsent0;
    bytes32 private _aliceConsent1;
    uint256 private _pendingRequest;
    uint256 private _approvedRequest;
    ISubjects.SignerChange private _bobRotation;
    address private _education = vm.addr(_key("dept-edu"));
    uint256 private _verificationId;
    uint256 private _emergencyId;
    uint256 private _filedObjection;
    uint256 private _markedObjection;
    uint256 private _forwardedObjection;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 2 * BATCH; ++i) {
            uint256 key = _key(string.concat("citizen-", vm.toString(i)));
            bytes32 subject = keccak256(abi.encode("subject:citizen", i));
            vm.prank(attester);
            subjects.register(subject, ISubjects.SubjectKind.PERSON, _addresses(vm.addr(key)), 1);
            if (i < BATCH) {
                // An earlier message used nonce 0.
                vm.prank(vm.addr(key));
                consents.invalidateNonces(subject, 0, 1);
                _returningKeys.push(key);
                _returning.push(subject);
            } else {
                _newKeys.push(key);
                _new.push(subject);
            }
        }
        (_aliceConsent0,) = _grantAlice(0);
        (_aliceConsent1,) = _grantAlice(1);
        vm.prank(anchorer);
        auditAnchor.anchor(1_000, keccak256("root-1"));
        vm.startPrank(requester);
        uint64 validUntil = uint64(block.timestamp + 30 days);
        _pendingRequest = catalog.requestSharing(RES_PENSION, 0x0f, keccak256("purpose-a"), validUntil);
        _approvedRequest = catalog.requestSharing(RES_PENSION, 0x0f, keccak256("purpose-b"), validUntil);
        vm.stopPrank();
        vm.prank(provider);
        catalog.approveSharing(_approvedRequest);
        vm.prank(admin);
        participants.registerDepartment(_education, "EDU", "Education Bureau");
        vm.prank(provider);
        catalog.suspendAccess(RES_PENSION, requester, keccak256("misuse"), 0);
        vm.prank(requester);
        _verificationId = catalog.requestVerification(RES_PENSION, 0x03, 40, keccak256("doubt"));
        // Alice's earlier objections used nonces 0 to 2; each waits at another step.
        _filedObjection = _fileObjection(_objection(ALICE, 0), ALICE_KEY, alice);
        _markedObjection = _fileObjection(_objection(ALICE, 1), ALICE_KEY, alice);
        _forwardedObjection = _fileObjection(_objection(ALICE, 2), ALICE_KEY, alice);
        vm.startPrank(admin);
        objections.mark(_markedObjection);
        objections.mark(_forwardedObjection);
        objections.forward(_forwardedObjection);
        vm.stopPrank();
        _bobRotation = _signerChange(BOB, _addresses(mallory), _addresses(bob), 1);
        _propose(_bobRotation);
        vm.warp(block.timestamp + NOTICE);
        vm.roll(block.number + 1);
        address[] memory scope = new address[](1);
        scope[0] = requester;
        bytes32[] memory resources = new bytes32[](1);
        resources[0] = RES_PENSION;
        vm.prank(emergency);
        _emergencyId = catalog.declareEmergency(
            keccak256("event"),
            keccak256("basis"),
            scope,
            resources,
            true,
            new bytes32[](0),
            uint64(block.timestamp + 1 hours)
        );
        vm.pauseGasMetering();
    }

    function test_gas_grantSingle() public {
        IConsents.Consent memory c = _consent(ALICE, 2);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ALICE_KEY));
        _measure(relayer, address(consents), abi.encodeCall(consents.grant, (c, signers, signatures)), 1, 90_000);
    }

    function test_gas_grantSingleFirstNonce() public {
        IConsents.Consent memory c = _consent(_new[0], 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(_newKeys[0]));
        _measure(relayer, address(consents), abi.encodeCall(consents.grant, (c, signers, signatures)), 1, 100_000);
    }

    function test_gas_grantEnterprise2of3() public {
        IConsents.Consent memory c = _consent(ACME, 0);
        (address[] memory signers, bytes[] memory signatures) = _signConsent(c, _keys(ACME1_KEY, ACME3_KEY));
        _measure(relayer, address(consents), abi.encodeCall(consents.grant, (c, signers, signatures)), 1, 115_000);
    }

    function test_gas_grantBatch10() public {
        (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures) =
            _batch(_returning, _returningKeys, 1);
        _measure(
            relayer, address(consents), abi.encodeCall(consents.grantBatch, (batch, signers, signatures)), BATCH, 60_000
        );
    }

    function test_gas_grantBatch10FirstNonce() public {
        (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures) =
            _batch(_new, _newKeys, 0);
        _measure(
            relayer, address(consents), abi.encodeCall(consents.grantBatch, (batch, signers, signatures)), BATCH, 80_000
        );
    }

    function test_gas_revoke() public {
        _measure(alice, address(consents), abi.encodeCall(consents.revoke, (_aliceConsent0, ALICE)), 1, 40_000);
    }

    function test_gas_endByRegulator() public {
        _measure(
            regulator,
            address(consents),
            abi.encodeCall(consents.endByRegulator, (_aliceConsent1, ALICE, keccak256("abuse"))),
            1,
            50_000
        );
    }

    function test_gas_revokeWithSig() public {
        IConsents.Revoke memory r = _revocation(_aliceConsent1, ALICE, 2);
        bytes memory signature = _sign(ALICE_KEY, consents.hashRevoke(r));
        _measure(relayer, address(consents), abi.encodeCall(consents.revokeWithSig, (r, alice, signature)), 1, 50_000);
    }

    function test_gas_proposeSignerChange() public {
        _measure(
            attester,
            address(subjects),
            abi.encodeCall(subjects.proposeSignerChange, (ALICE, _addresses(mallory), _addresses(alice), 1)),
            1,
            120_000
        );
    }

    function test_gas_applySignerChangeAfterNotice() public {
        _measure(relayer, address(subjects), abi.encodeCall(subjects.applySignerChange, (_bobRotation)), 1, 85_000);
    }

    function test_gas_approveSignerChange() public {
        ISubjects.SignerChange memory change = _signerChange(ALICE, _addresses(mallory), _addresses(alice), 1);
        (address[] memory signers, bytes[] memory signatures) =
            _signSorted(subjects.hashSignerChange(change), _keys(ALICE_KEY));
        _measure(
            relayer,
            address(subjects),
            abi.encodeCall(subjects.approveSignerChange, (change, signers, signatures)),
            1,
            160_000
        );
    }

    function test_gas_cancelSignerChangeWithSig() public {
        bytes32 changeId = subjects.hashSignerChange(_bobRotation);
        bytes memory signature = _sign(BOB_KEY, subjects.hashCancelSignerChange(changeId));
        _measure(
            relayer,
            address(subjects),
            abi.encodeCall(subjects.cancelSignerChangeWithSig, (changeId, bob, signature)),
            1,
            45_000
        );
    }

    function test_gas_anchor() public {
        _measure(
            anchorer, address(auditAnchor), abi.encodeCall(auditAnchor.anchor, (2_000, keccak256("root-2"))), 1, 50_000
        );
    }

    function test_gas_approveSharing() public {
        _measure(provider, address(catalog), abi.encodeCall(catalog.approveSharing, (_pendingRequest)), 1, 100_000);
    }

    function test_gas_endAgreement() public {
        _measure(
            provider,
            address(catalog),
            abi.encodeCall(catalog.endAgreement, (_approvedRequest, keccak256("withdrawn"))),
            1,
            60_000
        );
    }

    function test_gas_suspendAccess() public {
        _measure(
            provider,
            address(catalog),
            abi.encodeCall(
                catalog.suspendAccess, (RES_PENSION, _education, keccak256("misuse"), uint64(block.timestamp + 30 days))
            ),
            1,
            90_000
        );
    }

    function test_gas_requestVerification() public {
        _measure(
            requester,
            address(catalog),
            abi.encodeCall(catalog.requestVerification, (RES_PENSION, 0x03, 41, keccak256("doubt"))),
            1,
            120_000
        );
    }

    function test_gas_extendVerification() public {
        _measure(
            provider,
            address(catalog),
            abi.encodeCall(
                catalog.extendVerification, (_verificationId, uint64(block.timestamp + 14 days), keccak256("archive"))
            ),
            1,
            60_000
        );
    }

    function test_gas_resolveVerification() public {
        _measure(
            provider,
            address(catalog),
            abi.encodeCall(catalog.resolveVerification, (_verificationId, true, keccak256("fixed"))),
            1,
            60_000
        );
    }

    function test_gas_declareEmergency() public {
        address[] memory departments = new address[](2);
        (departments[0], departments[1]) = (requester, provider);
        bytes32[] memory resources = new bytes32[](1);
        resources[0] = RES_PENSION;
        _measure(
            emergency,
            address(catalog),
            abi.encodeCall(
                catalog.declareEmergency,
                (
                    keccak256("event"),
                    keccak256("legal basis"),
                    departments,
                    resources,
                    true,
                    new bytes32[](0),
                    uint64(block.timestamp + 72 hours)
                )
            ),
            1,
            125_000
        );
    }

    function test_gas_extendEmergency() public {
        address second = vm.addr(_key("emergency-2"));
        bytes32 role = keccak256("EMERGENCY_ROLE");
        vm.prank(admin);
        participants.grantRole(role, second);
        _measure(
            second,
            address(catalog),
            abi.encodeCall(catalog.extendEmergency, (_emergencyId, uint64(block.timestamp + 72 hours))),
            1,
            45_000
        );
    }

    function test_gas_delayEmergencyNotice() public {
        _measure(
            emergency,
            address(catalog),
            abi.encodeCall(
                catalog.delayEmergencyNotice,
                (_emergencyId, keccak256("investigation"), uint64(block.timestamp + 7 days))
            ),
            1,
            60_000
        );
    }

    function test_gas_reviewEmergency() public {
        vm.warp(block.timestamp + 73 hours);
        _measure(
            regulator,
            address(catalog),
            abi.encodeCall(catalog.reviewEmergency, (_emergencyId, true, keccak256("ok"))),
            1,
            60_000
        );
    }

    function test_gas_liftSuspension() public {
        _measure(
            provider, address(catalog), abi.encodeCall(catalog.liftSuspension, (RES_PENSION, requester)), 1, 50_000
        );
    }

    function test_gas_fileObjectionWithSig() public {
        IObjections.Objection memory o = _objection(ALICE, 3);
        bytes memory signature = _sign(ALICE_KEY, objections.hashObjection(o));
        _measure(
            relayer, address(objections), abi.encodeCall(objections.fileWithSig, (o, alice, signature)), 1, 165_000
        );
    }

    function test_gas_markObjection() public {
        _measure(admin, address(objections), abi.encodeCall(objections.mark, (_filedObjection)), 1, 60_000);
    }

    function test_gas_forwardObjection() public {
        _measure(admin, address(objections), abi.encodeCall(objections.forward, (_markedObjection)), 1, 55_000);
    }

    function test_gas_decideObjectionByAdmin() public {
        _measure(
            admin,
            address(objections),
            abi.encodeCall(objections.decide, (_markedObjection, true, 2, keccak256("restored"))),
            1,
            45_000
        );
    }

    function test_gas_decideObjectionByProvider() public {
        _measure(
            provider,
            address(objections),
            abi.encodeCall(objections.decide, (_forwardedObjection, true, 2, keccak256("restored"))),
            1,
            40_000
        );
    }

    // ---------------------------------------------------------------- helpers

    function _batch(bytes32[] storage subjects_, uint256[] storage keys, uint256 nonce)
        private
        view
        returns (IConsents.Consent[] memory batch, address[][] memory signers, bytes[][] memory signatures)
    {
        batch = new IConsents.Consent[](BATCH);
        signers = new address[][](BATCH);
        signatures = new bytes[][](BATCH);
        for (uint256 i; i < BATCH; ++i) {
            batch[i] = _consent(subjects_[i], nonce);
            (signers[i], signatures[i]) = _signConsent(batch[i], _keys(keys[i]));
        }
    }

    /// @dev Sends `data` from `sender` with metering on for the call only, then logs and checks the gas a
    /// transaction would use: intrinsic 21000, calldata (EIP-2028) and execution. The target is warmed first
    /// (a transaction's target is warm) and the warm-call charge of 100 is subtracted; storage stays cold.
    function _measure(address sender, address target, bytes memory data, uint256 items, uint256 budgetPerItem) private {
        (bool warmed,) = target.staticcall(abi.encodeWithSignature("participants()"));
        require(warmed, "warm-up failed");
        vm.prank(sender);
        vm.resumeGasMetering();
        uint256 before = gasleft();
        (bool ok,) = target.call(data);
        uint256 execution = before - gasleft() - 100;
        vm.pauseGasMetering();
        require(ok, "measured call reverted");

        uint256 calldataGas;
        for (uint256 i; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        uint256 total = TX_BASE + calldataGas + execution;
        log("execution gas", execution);
        log("calldata gas", calldataGas);
        log("transaction gas", total);
        log("transaction gas per item", total / items);
        assertLe(total / items, budgetPerItem, "gas budget");
    }
}
