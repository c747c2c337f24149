"""Everything a request needs, built once at start-up: chain, database, projection, audit log."""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from sqlalchemy import select, text

from api.core import metrics
from api.core.security import Authenticator, Principal
from api.services.admin import AdminService
from api.services.audit import AuditService
from api.services.consents import ConsentService
from api.services.release import ReleaseService
from api.services.sharing import SharingService
from api.services.subjects import SubjectService
from ledger.audit.anchoring import Anchorer
from ledger.audit.log import AuditLog
from ledger.chain.client import Chain, Deployment, deployment_path
from ledger.chain.funds import FundsMonitor
from ledger.domain import Role, schema_hash_hex
from ledger.eip712 import Domain
from ledger.identity import load_or_create_pepper
from ledger.indexer import Indexer
from ledger.keystore import Keystore
from ledger.policy_inputs import is_active_department
from ledger.settings import Settings
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import ResourceRow
from ledger.storage.sealing import RecordSealer, load_or_create_secret

log = logging.getLogger(__name__)

RELAYER_KEYS = ("relayer-0", "relayer-1", "relayer-2", "relayer-3")


@dataclass(frozen=True, slots=True)
class ResourceMeta:
    """The off-chain half of a catalog entry: slug, display name and field list, with the schema hash
    of that list (the chain holds only the hash, so it alone says whether the list can be trusted)."""

    resource_id: str
    resource_key: str
    name: str
    fields: tuple[str, ...]
    schema_hash: str


class AppServices:
    def __init__(self, settings: Settings):
        self.settings = settings
        # Local secrets first: a refused secret file stops the start before anything is touched.
        self.pepper = load_or_create_pepper(settings.data_dir, explicit=settings.pepper)
        self.sealer = RecordSealer.from_data_dir(settings.data_dir, explicit=settings.records_key)
        self._salt_key = load_or_create_secret(settings.data_dir / "secrets" / "audit-salt.key")
        self.engine = make_engine(settings.database_url)
        migrate(self.engine)
        self.sessions = make_sessionmaker(self.engine)

        # The only keys this process decrypts; never the identity attester's: binding a key to a
        # subject is not the operator's act (DESIGN §1.1), so those transactions are only relayed.
        keys = Keystore.from_settings(settings)
        self.admin = keys.load("admin")
        self.anchorer_key = keys.load("anchorer")
        relayers = [keys.load(name) for name in RELAYER_KEYS]
        self.chain = Chain(settings.rpc_url, accounts=[*relayers, self.admin, self.anchorer_key],
                           pool=[r.address for r in relayers], fee_policy=settings.fee_policy,
                           deployment=Deployment.load(deployment_path(settings.data_dir)))
        self.chain_id = self.chain.chain_id
        self.funds = FundsMonitor(self.chain.rpc, {"admin": self.admin.address, "anchorer": self.anchorer_key.address,
                                                   **{n: k.address for n, k in zip(RELAYER_KEYS, relayers)}},
                                  self.chain.sender.current_fees)
        self.domain = Domain.from_eip5267(self.chain.contract("Consents").call("eip712Domain"))

        self.auth = Authenticator(settings, self.sessions, self.chain_id)

        self.indexer = Indexer(self.chain, self.sessions)
        self.indexer.load()
        self.indexer.sync()
        self.projection = self.indexer.projection

        self.audit = AuditLog(self.sessions, commit_timeout=settings.audit_commit_timeout_seconds)
        self.audit.load()
        self.anchorer = Anchorer(self.audit, self.chain.contract("AuditAnchor"), self.sessions,
                                 sender=self.anchorer_key.address, interval=settings.anchor_interval_seconds)
        self.anchorer.load()

        self._schema_mismatches: set[tuple[str, str]] = set()
        self.resources_by_slug: dict[str, ResourceMeta] = {}
        self.resources_by_key: dict[str, ResourceMeta] = {}
        self.reload_resources()

        self.admin_ops = AdminService(self)
        self.audit_reads = AuditService(self)
        self.consents = ConsentService(self)
        self.release = ReleaseService(self)
        self.sharing = SharingService(self)
        self.subjects = SubjectService(self)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        # Everything built so far (ABIs, the projection, the tree) lives as long as the process:
        # move it out of the collector's sight, or each full collection walks it for nothing
        # (a ~170 ms pause every second or so under load).
        gc.collect()
        gc.freeze()
        self._metrics = metrics.register(self)
        self.audit.start()
        self.indexer.start()
        self.anchorer.start()

    def stop(self) -> None:
        metrics.unregister(self._metrics)
        self.indexer.stop()
        self.audit.stop()
        self.anchorer.stop()
        self.chain.close()
        self.engine.dispose()

    # -- shared helpers ---------------------------------------------------------------------------
    def reload_resources(self) -> None:
        """Load the field lists, leaving out any whose schema hash the chain contradicts. The hashes are read
        from the contract itself, not from the projection tables: both live in the operator's database."""
        with self.sessions() as session:
            rows = session.scalars(select(ResourceRow)).all()
        metas = [ResourceMeta(r.resource_id, r.resource_key, r.name, tuple(r.fields),
                              schema_hash_hex(tuple(r.fields))) for r in rows]
        on_chain = self._chain_schema_hashes([m.resource_key for m in metas])
        metas = [m for m in metas if on_chain[m.resource_key] is None or self._matches(m, on_chain[m.resource_key])]
        self.resources_by_slug = {m.resource_id: m for m in metas}
        self.resources_by_key = {m.resource_key: m for m in metas}

    def _chain_schema_hashes(self, keys: list[str]) -> dict[str, str | None]:
        """Each resource's schema hash as the Catalog contract holds it now; None if not catalogued."""
        catalog = self.chain.contract("Catalog")
        resource = catalog.abi.function("resource")
        replies = self.chain.rpc.batch([("eth_call", [{"to": catalog.address, "data": resource.encode(
            bytes.fromhex(key[2:]))}, "latest"]) for key in keys])
        hashes: dict[str, str | None] = {}
        for key, reply in zip(keys, replies):
            provider, *_, digest = resource.decode(reply)[0]
            hashes[key] = "0x" + digest.hex() if int(provider, 16) else None
        return hashes

    def _matches(self, meta: ResourceMeta, chain_schema_hash: str) -> bool:
        """False (and logged once) when the chain's schema hash is not that of the field list: masks name
        fields by position, so a list the chain does not vouch for could release other fields."""
        if chain_schema_hash == meta.schema_hash:
            return True
        if (meta.resource_key, chain_schema_hash) not in self._schema_mismatches:
            self._schema_mismatches.add((meta.resource_key, chain_schema_hash))
            log.error("resource %s: the field list's schema hash %s is not the on-chain schema hash %s; "
                      "the resource is treated as unknown", meta.resource_id, meta.schema_hash, chain_schema_hash)
        return False

    def principal(self, address: str) -> Principal:
        p = self.projection
        roles = set(p.roles.get(address, ()))
        if address in p.signer_subjects and p.signer_subjects[address]:
            roles.add("SUBJECT_SIGNER")
        if Role.DEPARTMENT in roles and not is_active_department(p, address):
            roles.discard(Role.DEPARTMENT)
        return Principal(address, frozenset(roles))

    def payload_salt(self, seq: int) -> bytes:
        """Per-entry salt for the released payload's hash, reproducible by the platform only."""
        return hmac.new(self._salt_key, f"audit-payload:{seq}".encode(), hashlib.sha256).digest()

    def readiness(self) -> dict:
        report: dict = {"ready": True, "checks": {}}
        try:
            started = time.perf_counter()
            head = self.indexer.fresh_head()
            report["checks"]["chain"] = {"ok": True, "head": head,
                                         "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
            lag = head - self.projection.block
            report["checks"]["indexer"] = {"ok": lag <= 5, "block": self.projection.block, "lag_blocks": lag}
        except Exception as exc:
            report["checks"]["chain"] = {"ok": False, "error": str(exc)}
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
            report["checks"]["database"] = {"ok": True}
        except Exception as exc:
            report["checks"]["database"] = {"ok": False, "error": type(exc).__name__}
        lag_s = self.anchorer.lag_seconds()
        report["checks"]["anchoring"] = {"ok": lag_s <= self.settings.max_anchor_lag_seconds,
                                         "tree_size": self.audit.size, "anchored_size": self.anchorer.last_size,
                                         "lag_seconds": round(lag_s, 3), "last_error": self.anchorer.last_error}
        report["checks"]["funds"] = self._funds_check()
        report["ready"] = all(c.get("ok") for c in report["checks"].values())
        return report

    def _funds_check(self) -> dict:
        """The platform keys' headroom: warnings long before a key runs dry, not ok when nearly dry."""
        try:
            funds = self.funds.check()
        except Exception as exc:  # the fee cap exceeded, or the chain unreachable (reported above too)
            return {"ok": False, "error": str(exc)}
        return {"ok": not any(f.critical for f in funds), "warnings": [f.warning for f in funds if f.warning],
                "keys": {f.name: f.report() for f in funds}}
