"""Finding 1: the operator can mint consents for any citizen.

The operator runs the API, so it holds every key the API process loads (admin, anchorer, the
relayers) and knows the pepper. Binding a key to a subject must need a key it does not hold (the
identity attester's), and even a corrupt attester's change to an existing subject's signers must
wait out a notice period in which the subject's own signers can cancel it; a consent signed with
a key bound only by notice expiry is named by the verifier.
"""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from ledger import keystore
from ledger.domain import ROLES
from ledger.eip712 import ConsentMessage, Domain, consent_typed_data, hash_typed_data, sign_typed_data
from ledger.exceptions import TransactionFailed
from ledger.identity import load_or_create_pepper, subject_id
from ledger.policy import resource_key
from tests.redteam.conftest import operator_chain, problem_kinds, verify_export
from tests.support.flows import ZHANG, query

API_KEYS = ("admin", "anchorer", "relayer-0", "relayer-1", "relayer-2", "relayer-3")
ATTESTER = ROLES["IDENTITY_ATTESTER_ROLE"]
RESOURCE = "hrss.social_insurance"
#: keccak256("bindSigner(bytes32,address)")[:4]: the direct binding the operator used to call.
BIND_SIGNER_SELECTOR = "0x7fd6b3a3"


def _zhang_id() -> bytes:
    return subject_id(load_or_create_pepper(), ZHANG["id_type"], ZHANG["id_number"])


def _refused(send) -> str:
    """The custom error name of a refused transaction (estimation or receipt)."""
    with pytest.raises(TransactionFailed) as refused:
        send()
    return refused.value.error_name


def _consent_signed_by(chain, key, subject: bytes, grantee: str) -> tuple[ConsentMessage, bytes]:
    """A consent for ``subject`` to ``grantee`` signed by ``key``, as the operator would forge one."""
    domain = Domain.from_eip5267(chain.contract("Consents").call("eip712Domain"))
    now = int(time.time())
    message = ConsentMessage(subject=subject, grantee=grantee, resources=(resource_key(RESOURCE),),
                             field_masks=(0b11,), purpose="pension_eligibility", valid_from=now - 60,
                             valid_until=now + 86400, max_uses=0, nonce=int.from_bytes(Account.create().key[:8]),
                             deadline=now + 3600)
    return message, bytes.fromhex(sign_typed_data(key.key, consent_typed_data(domain, message))[2:])


def test_no_key_of_the_api_holds_the_attester_role(system):
    chain = operator_chain(system)
    participants = chain.contract("Participants")
    holders = {name for name in API_KEYS if participants.call("hasRole", ATTESTER, keystore.address_of(name))}
    assert holders == set()
    assert participants.call("hasRole", ATTESTER, keystore.address_of("attester"))


def test_operator_keys_cannot_register_or_bind(system):
    chain = operator_chain(system, *API_KEYS)
    subjects = chain.contract("Subjects")
    participants = chain.contract("Participants")
    mallory = Account.create().address
    new_subject = subject_id(load_or_create_pepper(), "resident_id", "110101199003078515")
    zhang = _zhang_id()
    for name in API_KEYS:
        sender = keystore.address_of(name)
        assert _refused(lambda: subjects.transact("register", new_subject, 1, [mallory], 1, sender=sender)) \
            == "ParticipantsUnauthorized"
        assert _refused(lambda: subjects.transact("proposeSignerChange", zhang, [mallory], [], 1, sender=sender)) \
            == "ParticipantsUnauthorized"
    # Nor can the admin make itself an attester: the role is the attesters' to grant.
    admin = keystore.address_of("admin")
    assert _refused(lambda: participants.transact("grantRole", ATTESTER, admin, sender=admin)) \
        == "AccessControlUnauthorizedAccount"
    # The direct binding is gone: its selector no longer exists on the contract.
    with pytest.raises(TransactionFailed):
        chain.sender.transact(subjects.address, BIND_SIGNER_SELECTOR + zhang.hex() + "00" * 12 + mallory[2:],
                              sender=admin, action="bindSigner")
    assert not subjects.call("isSigner", zhang, mallory)


def test_corrupt_attester_binding_waits_and_the_citizen_cancels_it(system, clients):
    attester_chain = operator_chain(system, "attester", "relayer-0")
    subjects = attester_chain.contract("Subjects")
    consents = attester_chain.contract("Consents")
    zhang, mallory = _zhang_id(), Account.create()
    attester = keystore.address_of("attester")
    receipt = subjects.transact("proposeSignerChange", zhang, [mallory.address], [], 1, sender=attester)
    proposed = dict(subjects.events(receipt))["SignerChangeProposed"]
    change_id = "0x" + proposed["changeId"].hex()
    assert proposed["effectiveAt"] >= time.time() + 71 * 3600  # the devnet's 72 h notice

    # Pending: the key is not bound, a consent it signs is refused, and it cannot be applied early.
    assert not subjects.call("isSigner", zhang, mallory.address)
    relayer = keystore.address_of("relayer-0")
    hrss = clients("dept-hrss").address
    message, signature = _consent_signed_by(attester_chain, mallory, zhang, hrss)
    assert _refused(lambda: consents.transact("grant", message.as_abi_tuple(), [mallory.address], [signature],
                                              sender=relayer)) == "ConsentsNotSubjectSigner"
    change = (zhang, [mallory.address], [], 1, proposed["nonce"])
    assert _refused(lambda: subjects.transact("applySignerChange", change, sender=relayer)) == "SubjectsChangeNotDue"

    # The citizen is told, and cancels with their own key.
    citizen = clients("citizen-zhang")
    listed = citizen.get("/v1/me/signer-changes")["signer_changes"]
    assert change_id in {c["change_id"] for c in listed if c["status"] == "PENDING"}
    path = f"/v1/subjects/0x{zhang.hex()}/signer-changes/{change_id}/cancel"
    draft = citizen.post(path, {})
    cancelled = citizen.post(path, {"signature": citizen.sign_typed_data(draft["typed_data"])})
    assert cancelled["status"] == "CANCELLED"
    assert _refused(lambda: subjects.transact("applySignerChange", change, sender=relayer)) \
        == "SubjectsChangeNotPending"
    assert _refused(lambda: consents.transact("grant", message.as_abi_tuple(), [mallory.address], [signature],
                                              sender=relayer)) == "ConsentsNotSubjectSigner"
    # The verifier's binding codes for pending / cancelled keys cannot be produced on this chain: the
    # contract refuses such consents (above). tests/unit/ledger/audit/test_bindings.py feeds them directly.


def test_verifier_names_a_consent_by_a_key_bound_without_the_citizens_approval(fresh_system, fresh_clients,
                                                                              tmp_path):
    running = fresh_system(extra_env={"CONSENT_LEDGER_SIGNER_CHANGE_NOTICE": "3"})
    clients = fresh_clients(running)
    chain = operator_chain(running, "attester", "relayer-0")
    subjects, consents = chain.contract("Subjects"), chain.contract("Consents")
    zhang, mallory = _zhang_id(), Account.create()
    relayer = keystore.address_of("relayer-0")
    receipt = subjects.transact("proposeSignerChange", zhang, [mallory.address], [], 1,
                                sender=keystore.address_of("attester"))
    proposed = dict(subjects.events(receipt))["SignerChangeProposed"]
    time.sleep(max(0.0, proposed["effectiveAt"] - time.time()) + 1.5)
    subjects.transact("applySignerChange", (zhang, [mallory.address], [], 1, proposed["nonce"]), sender=relayer)
    assert subjects.call("isSigner", zhang, mallory.address)

    hrss = clients("dept-hrss")
    message, signature = _consent_signed_by(chain, mallory, zhang, hrss.address)
    consents.transact("grant", message.as_abi_tuple(), [mallory.address], [signature], sender=relayer)
    digest = hash_typed_data(consent_typed_data(Domain.from_eip5267(consents.call("eip712Domain")), message))
    assert consents.call("consentRecord", digest)[0] == 1  # ACTIVE: the contract accepts it
    released = query(hrss, ZHANG, RESOURCE, ["name"])
    assert released.status_code == 200
    report = verify_export(running, tmp_path)
    assert "CONSENT_SIGNER_BOUND_WITHOUT_APPROVAL" in problem_kinds(report)


def test_one_attester_alone_cannot_register_when_two_are_required(fresh_system, fresh_clients):
    running = fresh_system(extra_env={"CONSENT_LEDGER_REQUIRED_ATTESTATIONS": "2"}, demo=False)
    clients = fresh_clients(running)
    body = {"id_type": "resident_id", "id_number": "110101199003078515", "signers": [Account.create().address],
            "threshold": 1}
    first = clients("attester").post_signed("/v1/admin/subjects", body)
    assert first["status"] == "ATTESTED" and first["attestations"] == 1
    chain = operator_chain(running, "attester", "admin")
    subjects = chain.contract("Subjects")
    sid = bytes.fromhex(first["subject_id"][2:])
    assert subjects.call("kindOf", sid) == 0  # NONE: one attester's word is not enough
    # The same attester cannot count twice.
    again = clients("attester").request("POST", "/v1/admin/subjects", body)
    assert again.status_code == 422 and "SubjectsAlreadyAttested" in again.json()["error"]["message"]

    second = keystore.new_key("attester-2")
    chain.contract("Participants").transact("grantRole", ATTESTER, second.address,
                                            sender=keystore.address_of("attester"))
    chain.sender.transact(second.address, "0x", value=10**18, gas=21_000, sender=keystore.address_of("admin"),
                          action="fund attester-2")
    registered = clients("attester-2").post_signed("/v1/admin/subjects", body)
    assert registered["subject_id"] == first["subject_id"] and registered["tx_hash"]
    assert subjects.call("isSigner", sid, body["signers"][0])
