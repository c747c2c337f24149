"""Subjects and their signers: registration and signer changes, never signed with an API key.

Registering a subject and proposing a change to its signers are acts of the identity attester,
whose key the API does not hold: the API prepares the transaction, the attester signs it, the
API checks and relays it (:mod:`api.services.transactions`). A proposed change takes effect only
after the Subjects contract's notice period, during which any current signer can cancel it; the
subject's signers can instead approve a change with k-of-n EIP-712 signatures, which applies it
at once. Signers hold no gas and are not allow-listed on the permissioned chain, so their
approvals and cancellations are signatures the API relays with its relayer keys (as consents
and revocations are); the contract checks every signature itself.
"""

from __future__ import annotations

from api.core.security import Principal
from api.schemas.admin import SubjectAttested, SubjectCreate, SubjectRegistered, SubjectTransaction
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.subjects import SignerChangeCancel, SignerChangeCreate, SignerChangeDraft, SignerChangeOut
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.domain import Role, SubjectKind
from ledger.eip712 import Domain, InvalidTypedData, hash_typed_data, recover_signer
from ledger.identity import IdType, normalize_id, subject_id as make_subject_id
from ledger.indexer import Indexer
from ledger.projection import SignerChangeState, SubjectState
from ledger.signer_changes import SignerChange, cancel_typed_data, parse_signer_change, signer_change_typed_data


class SubjectService:
    def __init__(self, *, chain: Chain, indexer: Indexer, pepper: bytes, relay: TransactionRelay):
        self.contract = chain.contract("Subjects")
        self._indexer = indexer
        self._projection = indexer.projection
        self._pepper = pepper
        self._transactions = relay
        self._domain: Domain | None = None

    @property
    def domain(self) -> Domain:
        if self._domain is None:
            self._domain = Domain.from_eip5267(self.contract.call("eip712Domain"))
        return self._domain

    # -- registration (the attester's own transaction) ------------------------------------------
    def register(self, principal: Principal,
                 body: SubjectCreate) -> SubjectTransaction | SubjectAttested | SubjectRegistered:
        """The transaction to sign; relayed, the subject registered, or attested while more attesters must
        attest the same registration."""
        normalize_id(body.id_type, body.id_number)  # 422 with the failed rule, before anything is sent
        if body.id_type == IdType.RESIDENT_ID and body.threshold != 1:
            raise refused.InvalidRequest("a person's consents need exactly one signature (threshold 1)")
        sid = "0x" + make_subject_id(self._pepper, body.id_type, body.id_number).hex()
        if self._projection.subject(sid) is not None:
            raise refused.AlreadyRegistered("this subject is already registered")
        kind = SubjectKind.for_id_type(body.id_type)
        data = self.contract.encode("register", bytes.fromhex(sid[2:]), int(kind), body.signers, body.threshold)
        if body.signed_transaction is None:
            return SubjectTransaction(subject_id=sid, transaction=self._transactions.unsigned(
                principal.address, self.contract.address, data, action="register subject"))
        receipt = self._transactions.relay(principal, body.signed_transaction, self.contract.address, data,
                                           action="register subject")
        if self._projection.subject(sid) is None:  # more attesters must attest the same registration
            attested = next(args for name, args in self.contract.events(receipt) if name == "RegistrationAttested")
            return SubjectAttested(subject_id=sid, status="ATTESTED", attestations=attested["count"],
                                   attestations_required=self.contract.call("requiredAttestations"),
                                   tx_hash=receipt.tx_hash, block_number=receipt.block_number)
        return SubjectRegistered(subject_id=sid, kind=kind.name, signers=body.signers, threshold=body.threshold,
                                 tx_hash=receipt.tx_hash, block_number=receipt.block_number)

    # -- signer changes --------------------------------------------------------------------------
    def _subject(self, subject_id: str) -> SubjectState:
        subject = self._projection.subject(subject_id)
        if subject is None:
            raise refused.UnknownSubject("no subject with this id on the ledger")
        return subject

    def _change(self, subject_id: str, change_id: str) -> SignerChangeState:
        change = self._projection.signer_change(change_id)
        if change is None or change.subject_id != subject_id:
            raise refused.NotFound("no signer change with this id for this subject")
        return change

    def _next_nonce(self, subject_id: str) -> int:
        return self.contract.call("signerChangeNonce", bytes.fromhex(subject_id[2:]))

    def change_signers(self, principal: Principal, subject_id: str,
                       body: SignerChangeCreate) -> UnsignedTransaction | SignerChangeDraft | SignerChangeOut:
        """To sign: the attester's proposal transaction or the signers' typed data; done: the change
        proposed (the attester's, relayed) or applied (approved by the signers)."""
        subject = self._subject(subject_id)
        if body.typed_data is not None:
            return self._approve(principal, subject, body)
        add, remove = sorted(body.add, key=str.lower), sorted(body.remove, key=str.lower)
        if principal.has(Role.IDENTITY_ATTESTER):
            return self._propose(principal, subject, add, remove, body)
        if principal.address not in subject.signers:
            raise refused.NotSubjectSigner("only the identity attester or the subject's signers change "
                                           "its signers")
        change = SignerChange(bytes.fromhex(subject_id[2:]), tuple(add), tuple(remove), body.threshold,
                              self._next_nonce(subject_id))
        typed = signer_change_typed_data(self.domain, change)
        return SignerChangeDraft(change_id="0x" + hash_typed_data(typed).hex(), typed_data=typed,
                                 signatures_needed=subject.threshold)

    def _propose(self, principal: Principal, subject: SubjectState, add: list[str], remove: list[str],
                 body: SignerChangeCreate) -> UnsignedTransaction | SignerChangeOut:
        data = self.contract.encode("proposeSignerChange", bytes.fromhex(subject.subject_id[2:]), add, remove,
                                    body.threshold)
        if body.signed_transaction is None:
            return UnsignedTransaction(transaction=self._transactions.unsigned(
                principal.address, self.contract.address, data, action="propose signer change"))
        receipt = self._transactions.relay(principal, body.signed_transaction, self.contract.address, data,
                                           action="propose signer change")
        proposed = next(args for name, args in self.contract.events(receipt) if name == "SignerChangeProposed")
        return self._done("0x" + proposed["changeId"].hex(), receipt)

    def _approve(self, principal: Principal, subject: SubjectState, body: SignerChangeCreate) -> SignerChangeOut:
        if principal.address not in subject.signers:
            raise refused.NotSubjectSigner("you are not a bound signer of this subject")
        change = parse_signer_change(body.typed_data, self.domain)
        if "0x" + change.subject.hex() != subject.subject_id:
            raise InvalidTypedData("the change is for another subject")
        if (set(change.add), set(change.remove), change.threshold) != (set(body.add), set(body.remove),
                                                                       body.threshold):
            raise InvalidTypedData("the typed data says another change than add, remove and threshold")
        digest = hash_typed_data(body.typed_data)
        approvals: dict[str, str] = {}
        for signature in body.signatures:
            signer = recover_signer(digest, signature)
            if signer not in subject.signers:
                raise refused.WrongSigner(f"the signature is by {signer}, who is not a bound signer "
                                          f"of this subject")
            approvals[signer] = signature
        if len(approvals) < subject.threshold:
            raise refused.SignaturesNeeded(f"{subject.threshold} distinct signers must approve, "
                                           f"{len(approvals)} did")
        signers = sorted(approvals, key=lambda a: int(a, 16))
        receipt = self.contract.transact("approveSignerChange", change.as_abi_tuple(), signers,
                                         [bytes.fromhex(approvals[s][2:]) for s in signers])
        self._indexer.sync(receipt.block_number)
        return self._done("0x" + digest.hex(), receipt)

    def cancel(self, principal: Principal, subject_id: str, change_id: str,
               body: SignerChangeCancel) -> SignerChangeDraft | SignerChangeOut:
        subject = self._subject(subject_id)
        change = self._change(subject_id, change_id)
        if principal.address not in subject.signers:
            raise refused.NotSubjectSigner("only a current signer of the subject cancels its changes")
        if change.status != "PENDING":
            raise refused.ChangeNotPending(f"this change is already {change.status.lower()}")
        typed = cancel_typed_data(self.domain, change_id)
        if body.signature is None:
            return SignerChangeDraft(change_id=change_id, typed_data=typed)
        signer = recover_signer(hash_typed_data(typed), body.signature)
        if signer != principal.address:
            raise refused.WrongSigner("the signature is not by the signed-in signer")
        receipt = self.contract.transact("cancelSignerChangeWithSig", bytes.fromhex(change_id[2:]), signer,
                                         bytes.fromhex(body.signature[2:]))
        self._indexer.sync(receipt.block_number)
        return self._done(change_id, receipt)

    def apply(self, subject_id: str, change_id: str) -> SignerChangeOut:
        change = self._change(subject_id, change_id)
        if change.status != "PENDING":
            raise refused.ChangeNotPending(f"this change is already {change.status.lower()}")
        receipt = self.contract.transact("applySignerChange", self._message(change).as_abi_tuple())
        self._indexer.sync(receipt.block_number)
        return self._done(change_id, receipt)

    def _done(self, change_id: str, receipt) -> SignerChangeOut:
        """The change as the projection holds it after ``receipt``'s block, with the receipt."""
        return SignerChangeOut(**self.public(self._projection.signer_change(change_id)), tx_hash=receipt.tx_hash,
                               block_number=receipt.block_number)

    # -- listing (how the subject learns of a change) ------------------------------------------------
    def for_subject(self, principal: Principal, subject_id: str) -> list[dict]:
        subject = self._subject(subject_id)
        if principal.address not in subject.signers and not principal.has(Role.IDENTITY_ATTESTER) \
                and not principal.has(Role.REGULATOR):
            raise refused.NotSubjectSigner("signer changes are shown to the subject's signers, "
                                           "attesters and regulators")
        return self._listed({subject_id})

    def for_signer(self, principal: Principal) -> list[dict]:
        return self._listed(self._projection.subjects_of_signer(principal.address))

    def _listed(self, subject_ids: set[str]) -> list[dict]:
        return [self.public(c) for c in self._projection.signer_changes_of(subject_ids)]

    def _message(self, change: SignerChangeState) -> SignerChange:
        return SignerChange(bytes.fromhex(change.subject_id[2:]), change.add, change.remove, change.threshold,
                            change.nonce)

    def public(self, change: SignerChangeState) -> dict:
        out = {"change_id": change.change_id, "subject_id": change.subject_id, "add": list(change.add),
               "remove": list(change.remove), "threshold": change.threshold, "status": change.status,
               "effective_at": iso(change.effective_at), "proposed_by": change.proposed_by,
               "proposed_block": change.proposed_block, "approved": change.approved,
               "ended_block": change.ended_block, "ended_by": change.ended_by}
        if change.status == "PENDING":  # what the signers sign to approve it at once
            out["approval_typed_data"] = signer_change_typed_data(self.domain, self._message(change))
        return out
