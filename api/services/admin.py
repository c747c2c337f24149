"""Catalog, participant and subject registration, sent with the platform's admin key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from eth_utils import keccak
from sqlalchemy.orm import Session

from api.core.errors import ApiError, ledger_refusal
from api.schemas.admin import DepartmentCreate, RegulatorCreate, ResourceCreate, SubjectCreate
from ledger.exceptions import TransactionFailed
from ledger.identity import IdType, normalize_id, subject_id as make_subject_id
from ledger.storage.models import ResourceRow

if TYPE_CHECKING:
    from api.services.context import AppServices

SHARING_CLASS_INDEX = {"UNCONDITIONAL": 0, "CONDITIONAL": 1, "NOT_SHARED": 2}
SUBJECT_KIND_INDEX = {IdType.RESIDENT_ID: 1, IdType.USCC: 2}
#: Gas money for a new department's own transactions (sharing requests and answers).
DEPARTMENT_FUNDING_WEI = 10**20
_CONFLICTS = {"ParticipantsDepartmentExists", "ParticipantsDepartmentCodeTaken", "CatalogResourceExists",
              "SubjectsAlreadyRegistered"}


def code_to_bytes32(code: str) -> bytes:
    raw = code.encode()
    return raw + b"\0" * (32 - len(raw))


def bytes32_to_code(value: str) -> str:
    return bytes.fromhex(value[2:]).rstrip(b"\0").decode(errors="replace")


def schema_hash(fields: list[str]) -> bytes:
    return keccak(orjson.dumps(fields))


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
        result = self._send("Participants", "registerDepartment", body.address, code_to_bytes32(body.code), body.name)
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
        key = keccak(text=body.resource_id)
        key_hex = "0x" + key.hex()
        if key_hex in self.s.projection.resources:
            raise ApiError(409, "ALREADY_REGISTERED", f"{body.resource_id} is already in the catalog")
        digest = schema_hash(list(body.fields))
        with self.s.sessions.begin() as session:
            self._save_meta(session, body, key_hex, "0x" + digest.hex())
        result = self._send("Catalog", "registerResource", key, body.provider,
                            SHARING_CLASS_INDEX[body.sharing_class.value], body.sensitive, len(body.fields), digest)
        self.s.reload_resources()
        return {"resource_id": body.resource_id, "resource_key": key_hex, "schema_hash": "0x" + digest.hex(),
                "fields": body.fields, "sharing_class": body.sharing_class.value, "sensitive": body.sensitive,
                "provider": body.provider, **result}

    @staticmethod
    def _save_meta(session: Session, body: ResourceCreate, key_hex: str, digest_hex: str) -> None:
        row = session.get(ResourceRow, body.resource_id) or ResourceRow(resource_id=body.resource_id)
        row.resource_key, row.name, row.fields, row.schema_hash = key_hex, body.name, list(body.fields), digest_hex
        session.merge(row)

    def register_subject(self, body: SubjectCreate) -> dict:
        normalize_id(body.id_type, body.id_number)  # 422 with the failed rule, before anything is sent
        if body.id_type == IdType.RESIDENT_ID and body.threshold != 1:
            raise ApiError(422, "INVALID_INPUT", "a person's consents need exactly one signature (threshold 1)")
        sid = make_subject_id(self.s.pepper, body.id_type, body.id_number)
        result = self._send("Subjects", "register", sid, SUBJECT_KIND_INDEX[body.id_type], body.signers,
                            body.threshold)
        return {"subject_id": "0x" + sid.hex(), "kind": "PERSON" if body.id_type == IdType.RESIDENT_ID
                else "ENTERPRISE", "signers": body.signers, "threshold": body.threshold, **result}
