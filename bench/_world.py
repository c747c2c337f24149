"""The bench world: the demo world plus bench citizens with records and consents, set up as users do.

Everything goes through the public API (attester-signed registration, provider uploads, consents drafted,
signed by the citizen's own key and relayed), so the release benchmark queries exactly the state
a real deployment would hold. Citizen keys live in memory only: they sign, they are never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger import keystore
from ledger._idcheck import resident_check_char
from ledger.client import ApiClient

RESOURCE = "hrss.social_insurance"
RESOURCE_FIELDS = ["name", "employer", "pension_months", "medical_status", "monthly_base"]
GRANTED = ["name", "employer", "pension_months"]
PURPOSE = "pension_eligibility"
DEPARTMENT = "dept-hrss"


def resident_id(i: int) -> str:
    """A valid, distinct resident ID number (region 370102, Jinan Lixia) for bench subject ``i``."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000)
    body = f"370102{birth:%Y%m%d}{i % 1000:03d}"
    return body + resident_check_char(body)


@dataclass
class BenchCitizen:
    id_number: str
    account: LocalAccount
    consent_id: str | None = None
    consent_message: dict | None = None  # the signed EIP-712 Consent message (JSON form)
    record: dict = field(default_factory=dict)  # what the provider holds about the citizen

    @property
    def subject(self) -> dict:
        return {"id_type": "resident_id", "id_number": self.id_number}


@dataclass
class World:
    api_url: str
    department: ApiClient
    attester: ApiClient
    citizens: list[BenchCitizen] = field(default_factory=list)  # registered, with a record and a consent
    unconsented: list[BenchCitizen] = field(default_factory=list)  # registered, with a record, no consent

    def query(self, citizen: BenchCitizen, fields: list[str], purpose: str = PURPOSE) -> dict:
        return {**citizen.subject, "resource_id": RESOURCE, "fields": fields, "purpose": purpose}

    def release_mix(self) -> tuple[list[dict], list[dict]]:
        """Queries that are allowed (consented fields) and denied for three different reasons."""
        allowed = []
        for i, c in enumerate(self.citizens):
            allowed.append(self.query(c, GRANTED[: 1 + i % len(GRANTED)]))
        denied = []
        for i, c in enumerate(self.citizens):
            kind = i % 3
            if kind == 0:
                denied.append(self.query(c, ["name", "monthly_base"]))  # FIELD_NOT_GRANTED
            elif kind == 1:
                denied.append(self.query(c, ["name"], purpose="credit_check"))  # PURPOSE_MISMATCH
            else:
                denied.append(self.query(self.unconsented[i % len(self.unconsented)], ["name"]))  # NO_CONSENT
        return allowed, denied

    def close(self) -> None:
        self.department.close()
        self.attester.close()


def _record(i: int) -> dict:
    return {"name": f"测试{i:04d}", "employer": "济南泉城软件有限公司", "pension_months": 60 + i % 240,
            "medical_status": "active", "monthly_base": 6000 + 10 * i}


def register_citizen(attester: ApiClient, provider: ApiClient, index: int) -> BenchCitizen:
    citizen = BenchCitizen(resident_id(index), Account.create(), record=_record(index))
    attester.post_signed("/v1/admin/subjects", {**citizen.subject, "signers": [citizen.account.address],
                                                "threshold": 1})
    provider.put(f"/v1/resources/{RESOURCE}/records", {**citizen.subject, "data": citizen.record})
    return citizen


def grant_consent(api_url: str, citizen: BenchCitizen, grantee: str, *, purpose: str = PURPOSE,
                  fields: list[str] = GRANTED) -> tuple[str, dict]:
    """Draft, sign with the citizen's own key, submit; returns the consent id and its message."""
    client = ApiClient(api_url, citizen.account).login()
    try:
        now = dt.datetime.now(dt.UTC)
        draft = client.post("/v1/consents/drafts", {
            **citizen.subject, "grantee": grantee, "resources": [{"resource_id": RESOURCE, "fields": fields}],
            "purpose": purpose, "max_uses": 0, "valid_from": (now - dt.timedelta(minutes=5)).isoformat(),
            "valid_until": (now + dt.timedelta(days=30)).isoformat()})
        client.post("/v1/consents", {"typed_data": draft["typed_data"],
                                     "signatures": [client.sign_typed_data(draft["typed_data"])]})
        return draft["consent_id"], draft["typed_data"]["message"]
    finally:
        client.close()


def build_world(api_url: str, *, citizens: int = 8, unconsented: int = 2, first_index: int = 0) -> World:
    """Seed the demo world, then bench citizens: records for all, consents to dept-hrss for most."""
    from bench.demo import seed

    seed(api_url)
    attester = ApiClient(api_url, keystore.load_key("attester")).login()
    department = ApiClient(api_url, keystore.load_key(DEPARTMENT)).login()
    world = World(api_url, department, attester)
    for i in range(citizens + unconsented):
        citizen = register_citizen(attester, department, first_index + i)
        if i < citizens:
            citizen.consent_id, citizen.consent_message = grant_consent(api_url, citizen, department.address)
            world.citizens.append(citizen)
        else:
            world.unconsented.append(citizen)
    return world
