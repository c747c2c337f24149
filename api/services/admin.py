"""Catalog and participant registration, sent with the platform's admin key.

Subjects are registered by the identity attester, never with the admin key: see
:mod:`api.services.subjects`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core.errors import ApiError, ledger_refusal
from api.schemas.admin import DepartmentCreate, RegulatorCreate, ResourceCreate
from ledger.domain import SharingClass, department_code, resource_key, schema_hash
from ledger.exceptions import TransactionFailed
from ledger.storage.models import ResourceRow

if TYPE_CHECKING:
    from api.services.context import AppServices

#: Gas money for a new department's own transactions (sharing requests and answers).
DEPARTMENT_FUNDING_WEI = 10**20
_CONFLICTS = {"ParticipantsDepartmentExists", "ParticipantsDepartmentCodeTaken", "CatalogResourceExists"}


class AdminService:
    def __init__(self, services: "AppServices"):
        self.s = services

    def _send(self, contract: str, function: str, *args):
        try:
            receipt = self.s.chain.contract(contract).transact(function, *args, sender=self.s.admin.address)
        except TransactionFailed as exc:
            if exc.error_name in _CONFLICTS:
                raise ApiError(409, "ALREADY_REGISTERED", f"already registered ({exc.error_name})") from None
            raise ledger_refusal(exc) from None
        self.s.indexer.sync(receipt.block_number)
        return {"tx_hash": receipt.tx_hash, "block_number": receipt.block_number}

    def register_department(self, body: DepartmentCreate) -> dict:
        result = self._send("Participants", "registerDepartment", body.address, department_code(body.code), body.name)
        balance = int(self.s.chain.rpc.call("eth_getBalance", [body.address, "latest"]), 16)
        if balance < DEPARTMENT_FUNDING_WEI // 10:
            self.s.chain.sender.transact(body.address, "0x", value=DEPARTMENT_FUNDING_WEI, gas=21_000,
                                         sender=self.s.admin.address, action="fund department")
        return {"address": body.address, "code": body.code, "name": body.name, **result}

    def register_regulator(self, body: RegulatorCreate) -> dict:
        return {"address": body.address, "name": body.name,
                **self._send("Participants", "registerRegulator", body.address, body.name)}

    def register_resource(self, body: ResourceCreate) -> dict:
        department = self.s.projection.departments.get(body.provider)
        if department is None:
            raise ApiError(422, "UNKNOWN_PROVIDER", "the provider must be a registered department")
        key = resource_key(body.resource_id)
        key_hex = "0x" + key.hex()
        if key_hex in self.s.projection.resources:
            raise ApiError(409, "ALREADY_REGISTERED", f"{body.resource_id} is already in the catalog")
        digest = schema_hash(body.fields)
        # The field list is stored only once the chain holds its hash: a registration that reverts (say, a
        # concurrent one of the same slug won) must leave no list behind.
        result = self._send("Catalog", "registerResource", key, body.provider,
                            SharingClass(body.sharing_class).index, body.sensitive, len(body.fields), digest)
        with self.s.sessions.begin() as session:
            self._save_meta(session, body, key_hex, "0x" + digest.hex())
        self.s.reload_resources()
        return {"resource_id": body.resource_id, "resource_key": key_hex, "schema_hash": "0x" + digest.hex(),
                "fields": body.fields, "sharing_class": body.sharing_class.value, "sensitive": body.sensitive,
                "provider": body.provider, **result}

    @staticmethod
    def _save_meta(session: Session, body: ResourceCreate, key_hex: str, digest_hex: str) -> None:
        # The indexer has usually folded the registration already, into a row keyed by the resource key alone.
        row = session.scalar(select(ResourceRow).where(ResourceRow.resource_key == key_hex))
        if row is None:
            row = ResourceRow(resource_key=key_hex, schema_hash=digest_hex)
            session.add(row)
        row.resource_id, row.name, row.fields = body.resource_id, body.name, list(body.fields)

