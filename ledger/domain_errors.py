"""Requests the ledger's rules refuse: one class per refusal, each with a stable ``code``.

They sit in the library's one exception tree (:class:`~ledger.exceptions.LedgerError`). Each
derives from one of six kinds (not signed in, forbidden, not found, conflict, invalid request,
unavailable); the API maps the kind to an HTTP status and sends ``code`` and the message, which
is written for the person who sent the request. Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import ClassVar

from ledger.exceptions import LedgerError


class DomainError(LedgerError):
    """A refusal with a stable, machine-readable ``code`` and a message a person understands."""

    code: ClassVar[str]

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- the six kinds ------------------------------------------------------------------------------------
class NotAuthenticated(DomainError):
    """No valid credentials: sign in (again)."""

    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    """Signed in, but without the role or the binding this needs."""

    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """The request conflicts with the ledger's state (already done, answered, revoked, used)."""

    code = "CONFLICT"


class InvalidRequest(DomainError):
    """Well-formed, but not a request the ledger can carry out as asked."""

    code = "INVALID_INPUT"


class Unavailable(DomainError):
    """A precondition of the platform is not met right now: nothing was changed or released."""

    code = "UNAVAILABLE"


# -- not signed in --------------------------------------------------------------------------------------
class OpsTokenRequired(NotAuthenticated):
    code = "OPS_TOKEN_REQUIRED"


class TokenExpired(NotAuthenticated):
    code = "TOKEN_EXPIRED"


class TokenInvalid(NotAuthenticated):
    code = "INVALID_TOKEN"


class SiweMessageInvalid(NotAuthenticated):
    code = "INVALID_SIWE_MESSAGE"


class SiweSchemeMismatch(NotAuthenticated):
    code = "SIWE_SCHEME_MISMATCH"


class SiweDomainMismatch(NotAuthenticated):
    code = "SIWE_DOMAIN_MISMATCH"


class SiweUriMismatch(NotAuthenticated):
    code = "SIWE_URI_MISMATCH"


class SiweChainMismatch(NotAuthenticated):
    code = "SIWE_CHAIN_MISMATCH"


class NonceInvalid(NotAuthenticated):
    code = "NONCE_INVALID"


class SignInSignatureInvalid(NotAuthenticated):
    code = "INVALID_SIGNATURE"


# -- forbidden ------------------------------------------------------------------------------------------
class RoleRequired(Forbidden):
    code = "ROLE_REQUIRED"


class NotProvider(Forbidden):
    code = "NOT_PROVIDER"


class NotSubjectSigner(Forbidden):
    code = "NOT_SUBJECT_SIGNER"


class NotYourRelease(Forbidden):
    code = "NOT_YOUR_RELEASE"


class NotObjectionDecider(Forbidden):
    code = "NOT_OBJECTION_DECIDER"


class NotYourTransaction(Forbidden):
    code = "NOT_YOUR_TRANSACTION"


# -- not found ------------------------------------------------------------------------------------------
class UnknownResource(NotFound):
    code = "UNKNOWN_RESOURCE"


class UnknownSubject(NotFound):
    code = "UNKNOWN_SUBJECT"


class VerificationJobNotFound(NotFound):
    code = "VERIFICATION_JOB_NOT_FOUND"


# -- conflicts ------------------------------------------------------------------------------------------
class AlreadyRegistered(Conflict):
    code = "ALREADY_REGISTERED"


class AlreadyAnswered(Conflict):
    code = "ALREADY_ANSWERED"


class AgreementNotInForce(Conflict):
    code = "AGREEMENT_NOT_IN_FORCE"


class ConsentExists(Conflict):
    code = "CONSENT_EXISTS"


class ConsentWithdrawn(Conflict):
    code = "CONSENT_WITHDRAWN"


class ConsentNotActive(Conflict):
    code = "CONSENT_NOT_ACTIVE"


class DeadlinePassed(Conflict):
    code = "DEADLINE_PASSED"


class NonceUsed(Conflict):
    code = "NONCE_USED"


class EmergencyOver(Conflict):
    code = "EMERGENCY_OVER"


class EmergencyNotOver(Conflict):
    code = "EMERGENCY_NOT_OVER"


class VerificationNotOpen(Conflict):
    code = "VERIFICATION_NOT_OPEN"


class RecordNotCorrected(Conflict):
    code = "RECORD_NOT_CORRECTED"


class NoticeAlreadyDue(Conflict):
    code = "NOTICE_ALREADY_DUE"


class ObjectionWrongStep(Conflict):
    code = "OBJECTION_WRONG_STEP"


class NotSuspended(Conflict):
    code = "NOT_SUSPENDED"


class ChangeNotPending(Conflict):
    code = "CHANGE_NOT_PENDING"


class ChangeNotDue(Conflict):
    code = "CHANGE_NOT_DUE"


class ChangeNonceUsed(Conflict):
    code = "CHANGE_NONCE_USED"


class TooManyWebhooks(Conflict):
    code = "TOO_MANY_WEBHOOKS"


# -- invalid requests -----------------------------------------------------------------------------------
class InvalidAddress(InvalidRequest):
    code = "INVALID_ADDRESS"


class UnknownField(InvalidRequest):
    code = "UNKNOWN_FIELD"


class UnknownGrantee(InvalidRequest):
    code = "UNKNOWN_GRANTEE"


class UnknownProvider(InvalidRequest):
    code = "UNKNOWN_PROVIDER"


class UnknownDepartment(InvalidRequest):
    code = "UNKNOWN_DEPARTMENT"


class NotConditional(InvalidRequest):
    code = "NOT_CONDITIONAL"


class DeadlineTooFar(InvalidRequest):
    code = "DEADLINE_TOO_FAR"


class InvalidConsent(InvalidRequest):
    code = "INVALID_CONSENT"


class WrongSigner(InvalidRequest):
    """A signature that recovers, but to an account that may not sign this."""

    code = "INVALID_SIGNATURE"


class SignaturesNeeded(InvalidRequest):
    code = "SIGNATURES_NEEDED"


class TransactionMismatch(InvalidRequest):
    """A signed transaction that is not for this chain or does not say what was asked."""

    code = "INVALID_TRANSACTION"


class LedgerRejected(InvalidRequest):
    """The contracts refused the transaction for a reason without a code of its own."""

    code = "LEDGER_REJECTED"


class InvalidWebhookUrl(InvalidRequest):
    code = "INVALID_WEBHOOK_URL"


# -- unavailable ----------------------------------------------------------------------------------------
class AnchorLag(Unavailable):
    """Anchoring has fallen behind its bound: the release path fails closed (DESIGN §1.4)."""

    code = "ANCHOR_LAG"


class CalendarNotPublished(Unavailable):
    """A working-day deadline falls in a year whose official holiday arrangement is not known here."""

    code = "CALENDAR_NOT_PUBLISHED"


class FeesAboveCap(Unavailable):
    code = "FEE_CAP_EXCEEDED"
