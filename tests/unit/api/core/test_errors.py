"""The one mapping from the library's errors to HTTP: every refusal's status and code, the
contracts' reverts, and the library's own failures, all in the one error body."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.core.errors import REVERTS, http_error, install_error_handlers
from ledger import domain_errors as refused
from ledger.audit.log import AuditUnavailable
from ledger.eip712 import InvalidSignature, InvalidTypedData, NonCanonicalTypedData
from ledger.exceptions import ChainUnavailable, FeeCapExceeded, InvalidIdentifier, LedgerError, TransactionFailed

pytestmark = pytest.mark.unit

#: Every refusal the services raise, with the status and code the API has always answered with.
REFUSALS: dict[type[refused.DomainError], tuple[int, str]] = {
    refused.NotAuthenticated: (401, "UNAUTHENTICATED"),
    refused.OpsTokenRequired: (401, "OPS_TOKEN_REQUIRED"),
    refused.TokenExpired: (401, "TOKEN_EXPIRED"),
    refused.TokenInvalid: (401, "INVALID_TOKEN"),
    refused.SiweMessageInvalid: (401, "INVALID_SIWE_MESSAGE"),
    refused.SiweSchemeMismatch: (401, "SIWE_SCHEME_MISMATCH"),
    refused.SiweDomainMismatch: (401, "SIWE_DOMAIN_MISMATCH"),
    refused.SiweUriMismatch: (401, "SIWE_URI_MISMATCH"),
    refused.SiweChainMismatch: (401, "SIWE_CHAIN_MISMATCH"),
    refused.NonceInvalid: (401, "NONCE_INVALID"),
    refused.SignInSignatureInvalid: (401, "INVALID_SIGNATURE"),
    refused.Forbidden: (403, "FORBIDDEN"),
    refused.RoleRequired: (403, "ROLE_REQUIRED"),
    refused.NotProvider: (403, "NOT_PROVIDER"),
    refused.NotSubjectSigner: (403, "NOT_SUBJECT_SIGNER"),
    refused.NotYourTransaction: (403, "NOT_YOUR_TRANSACTION"),
    refused.NotFound: (404, "NOT_FOUND"),
    refused.UnknownResource: (404, "UNKNOWN_RESOURCE"),
    refused.UnknownSubject: (404, "UNKNOWN_SUBJECT"),
    refused.VerificationJobNotFound: (404, "VERIFICATION_JOB_NOT_FOUND"),
    refused.Conflict: (409, "CONFLICT"),
    refused.AlreadyRegistered: (409, "ALREADY_REGISTERED"),
    refused.AlreadyAnswered: (409, "ALREADY_ANSWERED"),
    refused.AgreementNotInForce: (409, "AGREEMENT_NOT_IN_FORCE"),
    refused.NotSuspended: (409, "NOT_SUSPENDED"),
    refused.ObjectionWrongStep: (409, "OBJECTION_WRONG_STEP"),
    refused.NoticeAlreadyDue: (409, "NOTICE_ALREADY_DUE"),
    refused.NotObjectionDecider: (403, "NOT_OBJECTION_DECIDER"),
    refused.VerificationNotOpen: (409, "VERIFICATION_NOT_OPEN"),
    refused.EmergencyOver: (409, "EMERGENCY_OVER"),
    refused.EmergencyNotOver: (409, "EMERGENCY_NOT_OVER"),
    refused.RecordNotCorrected: (409, "RECORD_NOT_CORRECTED"),
    refused.NotYourRelease: (403, "NOT_YOUR_RELEASE"),
    refused.ConsentExists: (409, "CONSENT_EXISTS"),
    refused.ConsentWithdrawn: (409, "CONSENT_WITHDRAWN"),
    refused.ConsentNotActive: (409, "CONSENT_NOT_ACTIVE"),
    refused.DeadlinePassed: (409, "DEADLINE_PASSED"),
    refused.NonceUsed: (409, "NONCE_USED"),
    refused.ChangeNotPending: (409, "CHANGE_NOT_PENDING"),
    refused.ChangeNotDue: (409, "CHANGE_NOT_DUE"),
    refused.ChangeNonceUsed: (409, "CHANGE_NONCE_USED"),
    refused.TooManyWebhooks: (409, "TOO_MANY_WEBHOOKS"),
    refused.InvalidRequest: (422, "INVALID_INPUT"),
    refused.InvalidAddress: (422, "INVALID_ADDRESS"),
    refused.UnknownField: (422, "UNKNOWN_FIELD"),
    refused.UnknownGrantee: (422, "UNKNOWN_GRANTEE"),
    refused.UnknownProvider: (422, "UNKNOWN_PROVIDER"),
    refused.UnknownDepartment: (422, "UNKNOWN_DEPARTMENT"),
    refused.NotConditional: (422, "NOT_CONDITIONAL"),
    refused.DeadlineTooFar: (422, "DEADLINE_TOO_FAR"),
    refused.InvalidConsent: (422, "INVALID_CONSENT"),
    refused.WrongSigner: (422, "INVALID_SIGNATURE"),
    refused.SignaturesNeeded: (422, "SIGNATURES_NEEDED"),
    refused.TransactionMismatch: (422, "INVALID_TRANSACTION"),
    refused.LedgerRejected: (422, "LEDGER_REJECTED"),
    refused.InvalidWebhookUrl: (422, "INVALID_WEBHOOK_URL"),
    refused.Unavailable: (503, "UNAVAILABLE"),
    refused.AnchorLag: (503, "ANCHOR_LAG"),
    refused.FeesAboveCap: (503, "FEE_CAP_EXCEEDED"),
    refused.CalendarNotPublished: (503, "CALENDAR_NOT_PUBLISHED"),
}


def _all_refusals(kind=refused.DomainError):
    for sub in kind.__subclasses__():
        yield sub
        yield from _all_refusals(sub)


def test_every_refusal_class_is_in_the_table():
    """A new refusal needs a row here: its status and code are part of the API."""
    assert set(_all_refusals()) == set(REFUSALS)


@pytest.mark.parametrize("kind, status, code", [(k, s, c) for k, (s, c) in REFUSALS.items()],
                         ids=[k.__name__ for k in REFUSALS])
def test_each_refusal_maps_to_its_status_and_code_with_its_own_message(kind, status, code):
    assert kind.code == code
    assert http_error(kind("what went wrong, for people")) == (status, code, "what went wrong, for people")


@pytest.mark.parametrize("error, status, code, message", [
    (InvalidIdentifier("bad check digit"), 422, "INVALID_ID_NUMBER", "bad check digit"),
    (InvalidTypedData("not a consent"), 422, "INVALID_TYPED_DATA", "not a consent"),
    (NonCanonicalTypedData("spelt otherwise"), 422, "NON_CANONICAL_TYPED_DATA", "spelt otherwise"),
    (InvalidSignature("does not recover"), 422, "INVALID_SIGNATURE", "does not recover"),
    (ChainUnavailable("http://node:8545 refused"), 503, "LEDGER_UNAVAILABLE",
     "the ledger is unreachable; nothing was changed or released"),
    (AuditUnavailable("disk full"), 503, "AUDIT_UNAVAILABLE",
     "the audit log could not record this decision; nothing was released"),
    (LedgerError("anything else"), 503, "LEDGER_ERROR", "the ledger could not complete this request; try again later"),
])
def test_the_librarys_own_errors(error, status, code, message):
    assert http_error(error) == (status, code, message)


@pytest.mark.parametrize("name", sorted(REVERTS))
def test_each_known_revert_is_its_refusal(name):
    kind, message = REVERTS[name]
    status, code = REFUSALS[kind]
    assert http_error(TransactionFailed(f"grant failed: {name}()", error_name=name)) == (status, code, message)


@pytest.mark.parametrize("error, message", [
    (TransactionFailed("x failed: SomethingNew()", error_name="SomethingNew"),
     "the ledger refused the transaction (SomethingNew)"),
    (TransactionFailed("x failed: reverted without a reason"),
     "the ledger refused the transaction; nothing was changed"),
    (FeeCapExceeded("base fee too high", base_fee=2, max_fee=3, cap=1),
     "the ledger refused the transaction (FeeCapExceeded)"),
])
def test_other_reverts_are_ledger_rejected_without_the_nodes_text(error, message):
    assert http_error(error) == (422, "LEDGER_REJECTED", message)


def test_the_handler_answers_with_the_one_error_body():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refused")
    def refuse():
        raise refused.NotProvider("only the provider may")

    @app.get("/unreachable")
    def unreachable():
        raise ChainUnavailable("connect to http://10.0.0.5:8545 failed")

    with TestClient(app) as client:
        reply = client.get("/refused")
        assert reply.status_code == 403
        assert reply.json() == {"error": {"code": "NOT_PROVIDER", "message": "only the provider may"}}
        reply = client.get("/unreachable")
        assert reply.status_code == 503 and "10.0.0.5" not in reply.text
        assert reply.json()["error"]["code"] == "LEDGER_UNAVAILABLE"
