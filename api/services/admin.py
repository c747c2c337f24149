"""Catalog and participant registration, sent with the platform's admin key.

Subjects are registered by the identity attester, never with the admin key: see
:mod:`api.services.subjects`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.schemas.admin import (DepartmentCreate, DepartmentOut, EmergencyOfficerCreate, EmergencyOfficerOut,
                               RegulatorCreate, RegulatorOut, ResourceCreate, ResourceOut)
from api.services.catalog import ResourceFields
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.domain import Role, SharingClass, department_code, resource_key, schema_hash
from ledger.exceptions import TransactionFailed
from ledger.indexer import Indexer
from ledger.storage.models import ResourceRow

#: Gas money for a new department's own transactions (sharing requests and answers).
PARTICIPANT_FUNDING_WEI = 10**20
_CONFLICTS = {"ParticipantsDepartmentExists", "ParticipantsDepartmentCodeTaken", "CatalogResourceExists"}


class AdminService:
    def __init__(self, *, chain: Chain, admin_address: str, indexer: Indexer, sessions: sessionmaker[Session],
                 resources: ResourceFields):
        self._chain = chain
        self._admin_address = admin_address
        self._indexer = indexer
        self._projection = indexer.projection
        self._sessions = sessions
        self._resources = resources

    def _send(self, contract: str, function: str, *args) -> dict:
        try:
            receipt = self._chain.contract(contract).transact(function, *args, sender=self._admin_address)
        except TransactionFailed as exc:
            if exc.error_name in _CONFLICTS:
                raise refused.AlreadyRegistered(f"already registered ({exc.error_name})") from None
            raise
        self._indexer.sync(receipt.block_number)
        return {"tx_hash": receipt.tx_hash, "block_number": receipt.block_number}

    def register_department(self, body: DepartmentCreate) -> DepartmentOut:
        result = self._send("Participants", "registerDepartment", body.address, department_code(body.code), body.name)
        self._fund(body.address)
        return DepartmentOut(address=body.address, code=body.code, name=body.name, **result)

    def _fund(self, account: str) -> None:
        """Gas for an account that signs its own transactions, topped up when it runs low."""
        balance = int(self._chain.rpc.call("eth_getBalance", [account, "latest"]), 16)
        if balance < PARTICIPANT_FUNDING_WEI // 10:
            self._chain.sender.transact(account, "0x", value=PARTICIPANT_FUNDING_WEI, gas=21_000,
                                        sender=self._admin_address, action="fund participant")

    def register_regulator(self, body: RegulatorCreate) -> RegulatorOut:
        result = self._send("Participants", "registerRegulator", body.address, body.name)
        self._fund(body.address)  # a regulator signs its own acts (ending a consent), as departments do
        return RegulatorOut(address=body.address, name=body.name, **result)

    def register_emergency_officer(self, body: EmergencyOfficerCreate) -> EmergencyOfficerOut:
        """Grant the EMERGENCY role (it signs its own declarations, so it is funded like a department)."""
        result = self._send("Participants", "grantRole", Role.EMERGENCY.hash, body.address)
        self._fund(body.address)
        return EmergencyOfficerOut(address=body.address, **result)

    def register_resource(self, body: ResourceCreate) -> ResourceOut:
        department = self._projection.department(body.provider)
        if department is None:
            raise refused.UnknownProvider("the provider must be a registered department")
        key = resource_key(body.resource_id)
        key_hex = "0x" + key.hex()
        if self._projection.resource(key_hex) is not None:
            raise refused.AlreadyRegistered(f"{body.resource_id} is already in the catalog")
        digest = schema_hash(body.fields)
        # The field list is stored only once the chain holds its hash: a registration that reverts (say, a
        # concurrent one of the same slug won) must leave no list behind.
        result = self._send("Catalog", "registerResource", key, body.provider,
                            SharingClass(body.sharing_class).index, body.sensitive, len(body.fields), digest)
        with self._sessions.begin() as session:
            self._save_meta(session, body, key_hex, "0x" + digest.hex())
        self._resources.reload()
        return ResourceOut(resource_id=body.resource_id, resource_key=key_hex, schema_hash="0x" + digest.hex(),
                           fields=body.fields, sharing_class=body.sharing_class, sensitive=body.sensitive,
                           provider=body.provider, **result)

    @staticmethod
    def _save_meta(session: Session, body: ResourceCreate, key_hex: str, digest_hex: str) -> None:
        # The indexer has usually folded the registration already, into a row keyed by the resource key alone.
        row = session.scalar(select(ResourceRow).where(ResourceRow.resource_key == key_hex))
        if row is None:
            row = ResourceRow(resource_key=key_hex, schema_hash=digest_hex)
            session.add(row)
        row.resource_id, row.name, row.fields = body.resource_id, body.name, list(body.fields)
