"""SQL tables: audit log, anchors, encrypted records, the chain projection, drafts and used auth nonces.

The projection tables mirror contract events (the chain stays authoritative); ``indexer_state``
holds the block watermark up to which they are complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Index, Integer, LargeBinary, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AuditEntryRow(Base):
    """One leaf of the RFC 6962 audit log; ``leaf`` is the canonical encoding that is hashed."""

    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Only the subject is looked up (a citizen's access log); every other index would cost each
    # durable append on the release path.
    requester: Mapped[str] = mapped_column(String(42))
    subject_id: Mapped[str] = mapped_column(String(66), index=True)
    consent_id: Mapped[str | None] = mapped_column(String(66))
    decision: Mapped[str] = mapped_column(String(8))
    committed_at_ms: Mapped[int | None] = mapped_column(BigInteger)  # NULL for entries older than the column


class AuditSequenceRow(Base):
    """The one row each appending instance locks to take the next seqs (``id`` is always 1)."""

    __tablename__ = "audit_sequence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_seq: Mapped[int] = mapped_column(BigInteger)
    last_time_ms: Mapped[int] = mapped_column(BigInteger)  # the newest entry's time: later ones are not earlier


class ConsentUseRow(Base):
    """How many ALLOW entries cite a consent, counted in the transaction that sequences them."""

    __tablename__ = "consent_uses"
    consent_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)


class AuditTileRow(Base):
    """A C2SP tile of the audit tree: up to 256 packed hashes at tree height 8 * level, at its widest."""

    __tablename__ = "audit_tiles"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpointRow(Base):
    """The latest signed checkpoint (C2SP signed note) of the integrated tree (``id`` is always 1);
    the tiles and this row are written in one transaction, so they always agree."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at_ms: Mapped[int] = mapped_column(BigInteger)


class AuditLeaseRow(Base):
    """A time-bound lease: ``holder`` does the named job until ``expires_at_ms`` unless it renews."""

    __tablename__ = "audit_leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    term: Mapped[int] = mapped_column(BigInteger)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)


class AnchorRow(Base):
    """A tree head anchored on-chain by the AuditAnchor contract."""

    __tablename__ = "audit_anchors"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    anchored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordRow(Base):
    """A provider's record about one subject, each field sealed with AES-GCM."""

    __tablename__ = "records"
    resource_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    sealed_fields: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(42))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: 1 for the first write, then one more per upsert: what a corrected objection's decision cites
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class ResourceRow(Base):
    """Catalog entry: chain facts (class, provider, flags) plus the off-chain slug, name and field list."""

    __tablename__ = "resources"
    resource_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    resource_key: Mapped[str] = mapped_column(String(66), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list] = mapped_column(JSON)
    schema_hash: Mapped[str] = mapped_column(String(66))
    provider: Mapped[str | None] = mapped_column(String(42))
    sharing_class: Mapped[str | None] = mapped_column(String(16))
    sensitive: Mapped[bool | None] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    on_chain: Mapped[bool] = mapped_column(Boolean, default=False)


class DepartmentRow(Base):
    __tablename__ = "departments"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    code: Mapped[str] = mapped_column(String(66), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)


class RegulatorRow(Base):
    __tablename__ = "regulators"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class RoleRow(Base):
    __tablename__ = "roles"
    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class SubjectRow(Base):
    __tablename__ = "subjects"
    subject_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int] = mapped_column(Integer)


class SubjectSignerRow(Base):
    __tablename__ = "subject_signers"
    subject_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    signer: Mapped[str] = mapped_column(String(42), primary_key=True, index=True)


class SubjectSignerChangeRow(Base):
    __tablename__ = "subject_signer_changes"

    change_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(66), index=True)
    add: Mapped[list] = mapped_column(JSON)
    remove: Mapped[list] = mapped_column(JSON)
    threshold: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[str] = mapped_column(String(80))
    effective_at: Mapped[int] = mapped_column(BigInteger)
    proposed_by: Mapped[str] = mapped_column(String(42))
    proposed_block: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    approved: Mapped[bool | None] = mapped_column(Boolean)
    ended_block: Mapped[int | None] = mapped_column(BigInteger)
    ended_by: Mapped[str | None] = mapped_column(String(42))


class ConsentRow(Base):
    """A consent as granted on-chain (and how it ended); its resources are :class:`ConsentResourceRow`."""

    __tablename__ = "consents"
    consent_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(66), index=True)
    grantee: Mapped[str] = mapped_column(String(42), index=True)
    purpose_hash: Mapped[str] = mapped_column(String(66))
    purpose: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    max_uses: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(24))
    granted_block: Mapped[int] = mapped_column(BigInteger)
    granted_tx: Mapped[str] = mapped_column(String(66))
    ended_block: Mapped[int | None] = mapped_column(BigInteger)
    ended_by: Mapped[str | None] = mapped_column(String(42))
    end_reason_hash: Mapped[str | None] = mapped_column(String(66))


class ConsentResourceRow(Base):
    """One resource a consent names, with its field mask. Subject and grantee are copied from the
    consent (they never change) so that the release decision's lookup, every consent of a subject
    to a grantee for a resource, is one index range."""

    __tablename__ = "consent_resources"
    __table_args__ = (Index("ix_consent_resources_lookup", "subject_id", "grantee", "resource_key"),)
    consent_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    resource_key: Mapped[str] = mapped_column(String(66), primary_key=True)
    field_mask: Mapped[str] = mapped_column(String(80))  # uint256 as decimal text
    subject_id: Mapped[str] = mapped_column(String(66))
    grantee: Mapped[str] = mapped_column(String(42))


class SharingRequestRow(Base):
    __tablename__ = "sharing_requests"
    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    resource_key: Mapped[str] = mapped_column(String(66))
    field_mask: Mapped[str] = mapped_column(String(80))
    purpose_hash: Mapped[str] = mapped_column(String(66))
    valid_until: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[int] = mapped_column(BigInteger)
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    requested_block: Mapped[int] = mapped_column(BigInteger)


class AgreementRow(Base):
    """The standing sharing agreement of (department, resource, purpose), as the Catalog keys it."""

    __tablename__ = "agreements"
    department: Mapped[str] = mapped_column(String(42), primary_key=True)
    resource_key: Mapped[str] = mapped_column(String(66), primary_key=True)
    purpose_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    field_mask: Mapped[str] = mapped_column(String(80))
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    ended_by: Mapped[str | None] = mapped_column(String(42))


class SuspensionRow(Base):
    """A department's suspended access to a resource (第十九条), as the Catalog keys it: the latest one set,
    lifted or not. A suspension replaced by a later one is in the chain's events only."""

    __tablename__ = "suspensions"
    resource_key: Mapped[str] = mapped_column(String(66), primary_key=True)
    department: Mapped[str] = mapped_column(String(42), primary_key=True)
    provider: Mapped[str] = mapped_column(String(42), index=True)
    reason_hash: Mapped[str] = mapped_column(String(66))
    since: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    lifted_at: Mapped[int | None] = mapped_column(BigInteger)
    lifted_by: Mapped[str | None] = mapped_column(String(42))


class VerificationRequestRow(Base):
    """A verification request (校核, 第二十一条) as the Catalog records it."""

    __tablename__ = "verification_requests"
    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    resource_key: Mapped[str] = mapped_column(String(66), index=True)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    field_mask: Mapped[str] = mapped_column(String(80))
    reason_hash: Mapped[str] = mapped_column(String(66))
    requested_at: Mapped[int] = mapped_column(BigInteger)
    requested_block: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16))
    extended_until: Mapped[int | None] = mapped_column(BigInteger)
    extension_reason_hash: Mapped[str | None] = mapped_column(String(66))
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    corrected: Mapped[bool | None] = mapped_column(Boolean)
    note_hash: Mapped[str | None] = mapped_column(String(66))


class ObjectionRow(Base):
    """A subject's objection to fields of a record (异议, 第三十四条) as the Objections contract records it."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_subject_resource", "subject_id", "resource_key"),)
    objection_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject_id: Mapped[str] = mapped_column(String(66))
    resource_key: Mapped[str] = mapped_column(String(66), index=True)
    field_mask: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    filed_by: Mapped[str] = mapped_column(String(42))
    reason_hash: Mapped[str] = mapped_column(String(66))
    filed_at: Mapped[int] = mapped_column(BigInteger)
    filed_block: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16))
    marked_at: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_at: Mapped[int | None] = mapped_column(BigInteger)
    provider: Mapped[str | None] = mapped_column(String(42))
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(42))
    corrected: Mapped[bool | None] = mapped_column(Boolean)
    record_version: Mapped[int | None] = mapped_column(BigInteger)
    note_hash: Mapped[str | None] = mapped_column(String(66))
    marked_block: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_block: Mapped[int | None] = mapped_column(BigInteger)
    decided_block: Mapped[int | None] = mapped_column(BigInteger)


class EmergencyRow(Base):
    """An emergency on the green channel (应急供需绿色通道), as the Catalog's events describe it."""

    __tablename__ = "emergencies"
    emergency_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    declared_by: Mapped[str] = mapped_column(String(42))
    event_hash: Mapped[str] = mapped_column(String(66))
    legal_basis_hash: Mapped[str] = mapped_column(String(66))
    all_subjects: Mapped[bool] = mapped_column(Boolean)
    declared_at: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[int] = mapped_column(BigInteger)
    declared_block: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    departments: Mapped[list] = mapped_column(JSON)
    resources: Mapped[list] = mapped_column(JSON)
    subjects: Mapped[list] = mapped_column(JSON)
    extended_by: Mapped[str | None] = mapped_column(String(42))
    notice_by: Mapped[int | None] = mapped_column(BigInteger)
    notice_reason_hash: Mapped[str | None] = mapped_column(String(66))
    reviewed_at: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_by: Mapped[str | None] = mapped_column(String(42))
    proper: Mapped[bool | None] = mapped_column(Boolean)
    review_note_hash: Mapped[str | None] = mapped_column(String(66))


class StatementRow(Base):
    """A written statement (a reason, a note) whose keccak256 the chain holds: the text stays off-chain,
    and anyone holding it can check it against the hash."""

    __tablename__ = "statements"
    text_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class IndexerStateRow(Base):
    """The block up to which the projection tables are complete (row ``chain``); every fold locks it."""

    __tablename__ = "indexer_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger)


class ConsentDraftRow(Base):
    """Typed data prepared for signing, and the signatures collected so far (k-of-n).

    ``typed_data`` is always the canonical form (:func:`ledger.eip712.parse_canonical_typed_data`);
    ``nonce`` and ``deadline`` are copied out of it so that nonce reservation and expiry are plain
    column reads. ``status``: pending_signatures, active (on the ledger) or withdrawn.
    """

    __tablename__ = "consent_drafts"
    consent_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(66), index=True)
    typed_data: Mapped[dict] = mapped_column(JSON)
    signatures: Mapped[dict] = mapped_column(JSON, default=dict)  # signer -> signature
    nonce: Mapped[str] = mapped_column(String(80))  # uint256 as decimal text
    deadline: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(24))
    created_by: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsedAuthNonceRow(Base):
    """A SIWE challenge nonce spent by a successful login, kept until it expires to refuse a replay.

    Challenges themselves are stateless (the nonce carries its expiry and a MAC), so issuing one
    writes nothing; expired rows are purged periodically.
    """

    __tablename__ = "auth_used_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VerificationJobRow(Base):
    """A re-verification of the audit log that the API runs in a process of its own.

    ``full``: from the empty state rather than the API's last verified tree head. ``status``:
    queued, running, done or failed; ``entries_done`` of ``entries_total`` is its
    progress; ``report`` the verification report when done, ``error`` why it failed.
    ``heartbeat_at`` is renewed while the process works, so a job whose process died is seen as such
    by any instance. ``active`` is 1 while the job is queued or running and NULL after: a unique
    column, so two instances starting a job at once cannot both insert one.
    """

    __tablename__ = "verification_jobs"
    __table_args__ = (UniqueConstraint("active", name="uq_verification_jobs_active"),)
    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    active: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    entries_done: Mapped[int] = mapped_column(BigInteger, default=0)
    entries_total: Mapped[int] = mapped_column(BigInteger, default=0)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    from_size: Mapped[int] = mapped_column(BigInteger, default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEndpointRow(Base):
    """Where a party (a department, or the data authority) wants its action items POSTed. The secret
    signs each delivery, so it is kept here; the party is shown it once, when it registers."""

    __tablename__ = "webhook_endpoints"
    webhook_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(42), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryRow(Base):
    """The webhook outbox: one event for one endpoint, delivered at least once. ``event_key`` is the
    idempotency key (sent as ``Webhook-Id``): unique per endpoint, so two instances scanning at once
    enqueue it once. ``status``: pending, delivered or failed. Times are unix seconds; a worker that
    claims a row sets ``leased_until``, and no other worker takes it before then."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_key", name="uq_webhook_deliveries_event"),
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"))
    delivery_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(42))
    event_key: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    leased_until: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
