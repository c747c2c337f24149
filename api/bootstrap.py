"""The composition root: builds every collaborator once at start-up, hands each service only the
ones it uses, and starts and stops the background work.

It lives beside :mod:`api.main`, above :mod:`api.services`: it imports every service, and no
service imports it.
"""

from __future__ import annotations

import gc
import os
import socket
import uuid

from api.core import metrics
from api.core.security import Authenticator
from api.services.admin import AdminService
from api.services.audit import AuditService
from api.services.auth import AuthService
from api.services.catalog import ResourceFields
from api.services.consents import ConsentService
from api.services.directory import DirectoryService
from api.services.emergencies import EmergencyService
from api.services.health import HealthService
from api.services.notifications import NotificationService
from api.services.release import ReleaseService
from api.services.sharing import SharingService
from api.services.statements import Statements
from api.services.subjects import SubjectService
from api.services.objections import ObjectionService
from api.services.suspensions import SuspensionService
from api.services.verifications import VerificationService
from api.services.webhook_delivery import WebhookDispatcher, WebhookWorker
from api.services.webhook_events import EVENT_SOURCES, WebhookScanner
from api.services.webhooks import WebhookService
from api.services.transactions import TransactionRelay
from ledger.audit.anchoring import Anchorer
from ledger.audit.integrate import IntegrationLoop, Integrator, log_origin
from ledger.audit.lease import Lease
from ledger.audit.log import AuditLog
from ledger.audit.note import NoteSigner
from ledger.chain.client import Chain, Deployment, deployment_path
from ledger.chain.funds import FundsMonitor
from ledger.eip712 import Domain
from ledger.identity import load_or_create_pepper
from ledger.indexer import Indexer
from ledger.keystore import Keystore
from ledger.settings import Settings
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.sealing import RecordSealer, load_or_create_secret

RELAYER_KEYS = ("relayer-0", "relayer-1", "relayer-2", "relayer-3")


class Services:
    """The services the routes use, and what they run on."""

    admin: AdminService
    audit: AuditService
    auth: AuthService
    consents: ConsentService
    emergencies: EmergencyService
    health: HealthService
    notifications: NotificationService
    release: ReleaseService
    sharing: SharingService
    subjects: SubjectService
    suspensions: SuspensionService
    objections: ObjectionService
    verifications: VerificationService
    webhooks: WebhookService

    def __init__(self, settings: Settings):
        # Local secrets first: a refused secret file stops the start before anything is touched.
        pepper = load_or_create_pepper(settings.data_dir, explicit=settings.pepper)
        sealer = RecordSealer.from_data_dir(settings.data_dir, explicit=settings.records_key)
        salt_key = load_or_create_secret(settings.data_dir / "secrets" / "audit-salt.key")
        self._engine = engine = make_engine(settings.database_url)
        migrate(engine)
        sessions = make_sessionmaker(engine)

        # The only keys this process decrypts; never the identity attester's: binding a key to a
        # subject is not the operator's act (DESIGN §1.1), so those transactions are only relayed.
        keys = Keystore.from_settings(settings)
        admin_key, anchorer_key, *relayers = keys.load_all(["admin", "anchorer", *RELAYER_KEYS])
        self._chain = chain = Chain(settings.rpc_url, accounts=[*relayers, admin_key, anchorer_key],
                                    pool=[r.address for r in relayers], fee_policy=settings.fee_policy,
                                    deployment=Deployment.load(deployment_path(settings.data_dir)))
        self._funds = funds = FundsMonitor(chain.rpc, {"admin": admin_key.address, "anchorer": anchorer_key.address,
                                         **{n: k.address for n, k in zip(RELAYER_KEYS, relayers)}},
                             chain.sender.current_fees)
        consents_domain = Domain.from_eip5267(chain.contract("Consents").call("eip712Domain"))

        self._indexer = indexer = Indexer(chain, sessions)
        indexer.load()
        indexer.sync()
        projection = indexer.projection

        # Every instance sequences; the one holding the integrator lease builds the tiles, signs the
        # checkpoint and anchors it (another takes over within the lease's 5 s if it dies).
        anchor_contract = chain.contract("AuditAnchor")
        origin = log_origin(chain.chain_id, anchor_contract.address)
        signer = NoteSigner.from_seed(origin, load_or_create_secret(settings.data_dir / "secrets" / "log-ed25519.key"))
        self._lease = Lease(engine, "integrator", f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
        self._integration = integration = IntegrationLoop(Integrator(engine, self._lease, signer, origin))
        self._audit_log = audit_log = AuditLog(engine, commit_timeout=settings.audit_commit_timeout_seconds,
                                               on_commit=integration.wake)
        audit_log.load()
        self._anchorer = anchorer = Anchorer(audit_log, anchor_contract, sessions, sender=anchorer_key.address,
                                             interval=settings.anchor_interval_seconds,
                                             is_leader=self._lease.confirm)
        anchorer.load()
        resources = ResourceFields(sessions, chain)
        resources.reload()
        relay = TransactionRelay(chain, indexer)
        statements = Statements(sessions)
        max_anchor_lag = settings.max_anchor_lag_seconds
        self._collector: metrics.LedgerCollector | None = None

        self.auth = AuthService(Authenticator(settings, sessions, chain.chain_id), projection,
                                indexer.fresh_state, settings.jwt_ttl_seconds)
        self.health = HealthService(indexer=indexer, sessions=sessions, audit=audit_log, anchorer=anchorer,
                                    integration=integration, funds=funds, max_anchor_lag_seconds=max_anchor_lag)
        self.admin = AdminService(chain=chain, admin_address=admin_key.address, indexer=indexer,
                                  sessions=sessions, resources=resources)
        self.audit = AuditService(chain=chain, sessions=sessions, projection=projection, audit=audit_log,
                                  log_signer=signer, settings=settings)
        self.consents = ConsentService(chain=chain, domain=consents_domain, indexer=indexer, sessions=sessions,
                                       audit=audit_log, resources=resources, pepper=pepper, relay=relay,
                                       statements=statements)
        self.release = ReleaseService(pepper=pepper, salt_key=salt_key, indexer=indexer, audit=audit_log,
                                      anchorer=anchorer, max_anchor_lag_seconds=max_anchor_lag,
                                      resources=resources, engine=engine, sessions=sessions, sealer=sealer)
        self.sharing = SharingService(chain=chain, admin_address=admin_key.address, indexer=indexer,
                                      resources=resources, relay=relay)
        self.subjects = SubjectService(chain=chain, indexer=indexer, pepper=pepper, relay=relay)
        self.suspensions = SuspensionService(chain=chain, admin_address=admin_key.address, indexer=indexer,
                                             resources=resources, relay=relay, statements=statements)
        self.emergencies = EmergencyService(chain=chain, indexer=indexer, resources=resources, relay=relay,
                                            statements=statements, pepper=pepper)
        self.notifications = NotificationService(chain=chain, sessions=sessions, projection=projection,
                                                 resources=resources, statements=statements)
        self.objections = ObjectionService(
            chain=chain, domain=Domain.from_eip5267(chain.contract("Objections").call("eip712Domain")),
            admin_address=admin_key.address, indexer=indexer, resources=resources, relay=relay, statements=statements,
            sessions=sessions, pepper=pepper)
        self.verifications = VerificationService(chain=chain, indexer=indexer, resources=resources, relay=relay,
                                                 statements=statements, audit=audit_log, sessions=sessions)
        # Parties' action items, read from the projection tables and delivered on a thread of their own.
        self.webhooks = WebhookService(sessions=sessions)
        self.directory = DirectoryService(sessions=sessions)
        self._webhooks = WebhookDispatcher(
            WebhookScanner(sessions=sessions, admin_address=admin_key.address, sources=EVENT_SOURCES),
            WebhookWorker(sessions=sessions))

    def start(self) -> None:
        # Everything built so far (ABIs, the projection, the tree) lives as long as the process:
        # move it out of the collector's sight, or each full collection walks it for nothing
        # (a ~170 ms pause every second or so under load).
        gc.collect()
        gc.freeze()
        self._collector = metrics.register(audit=self._audit_log, anchorer=self._anchorer,
                                           projection=self._indexer.projection, funds=self._funds)
        self._audit_log.start()
        self._integration.start()
        self._indexer.start()
        self._anchorer.start()
        self._webhooks.start()

    def stop(self) -> None:
        if self._collector is not None:
            metrics.unregister(self._collector)
        self._webhooks.stop()
        self._indexer.stop()
        self._audit_log.stop()
        self._integration.stop()  # integrates what the writer committed last
        self._anchorer.stop()  # and anchors it, while this instance still leads
        self._lease.release()
        self._chain.close()
        self._engine.dispose()
