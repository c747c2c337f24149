"""Seeds a small demo world through the public API, as its real users would.

Departments, a regulator, catalog resources (household registration, social insurance, housing
fund, enterprise tax credit, a not-shared one), two citizens and an enterprise whose consents need
2 of its 3 signers, and the providers' records; and one example of each regulation workflow: a
suspension (第十九条), a consent a regulator ended for abuse, an open verification request (校核,
第二十一条), an emergency on the green channel with one release under it, and an objection (异议, 第三十四条)
marked and forwarded to its provider. Keys are kept in the data dir's keystore, so the
README walkthrough can use them (``consent-ledger keys export NAME``). Safe to run again.

``scripts/run`` seeds it once the API is ready: ``python -m bench.demo [API_URL]``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger import keystore
from ledger.client import ApiClient, ApiClientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoPerson:
    key: str
    id_type: str
    id_number: str


DEPARTMENTS = {  # key name -> (code, name)
    "dept-public-security": ("jn.gaj", "济南市公安局 Public Security Bureau"),
    "dept-hrss": ("jn.rsj", "济南市人力资源和社会保障局 Human Resources and Social Security"),
    "dept-housing-fund": ("jn.gjj", "济南住房公积金中心 Housing Provident Fund Center"),
    "dept-tax": ("jn.swj", "国家税务总局济南市税务局 Tax Service"),
    "dept-civil-affairs": ("jn.mzj", "济南市民政局 Civil Affairs Bureau"),
}
REGULATOR = ("regulator", "济南市大数据局 Big Data Bureau (regulator)")
RESOURCES = [  # slug, name, provider key, class, sensitive, fields
    ("gaj.household_registration", "Household registration (户籍信息)", "dept-public-security", "UNCONDITIONAL",
     True, ["name", "gender", "birth_date", "address", "household_head"]),
    ("hrss.social_insurance", "Social insurance contributions (社保缴费)", "dept-hrss", "UNCONDITIONAL", True,
     ["name", "employer", "pension_months", "medical_status", "monthly_base"]),
    ("gjj.housing_fund", "Housing provident fund (住房公积金)", "dept-housing-fund", "CONDITIONAL", True,
     ["name", "account_status", "balance", "monthly_deposit"]),
    ("swj.tax_credit", "Enterprise tax credit rating (纳税信用)", "dept-tax", "UNCONDITIONAL", True,
     ["enterprise_name", "credit_grade", "rating_year"]),
    ("gaj.criminal_record", "Criminal record (违法犯罪记录)", "dept-public-security", "NOT_SHARED", True,
     ["name", "records"]),
    ("mzj.registered_orgs", "Registered social organizations (社会组织登记)", "dept-civil-affairs",
     "UNCONDITIONAL", False, ["org_name", "registered_at"]),
]
CITIZENS = [
    DemoPerson("citizen-zhang", "resident_id", "370102198506124536"),
    DemoPerson("citizen-li", "resident_id", "440304199003072312"),
]
ENTERPRISE = DemoPerson("enterprise-legal-rep", "uscc", "91370100MA5F3K2Y1G")
ENTERPRISE_SIGNERS = ("enterprise-legal-rep", "enterprise-agent-1", "enterprise-agent-2")
RECORDS = {  # resource -> ID number -> fields (an 18-digit number is a resident ID, else a USCC)
    "gaj.household_registration": {
        "370102198506124536": {"name": "张伟", "gender": "M", "birth_date": "1985-06-12",
                               "address": "济南市历下区泉城路 1 号", "household_head": True},
        "440304199003072312": {"name": "李娜", "gender": "F", "birth_date": "1990-03-07",
                               "address": "济南市市中区经四路 8 号", "household_head": False},
    },
    "hrss.social_insurance": {
        "370102198506124536": {"name": "张伟", "employer": "济南泉城软件有限公司", "pension_months": 142,
                               "medical_status": "active", "monthly_base": 8600},
        "440304199003072312": {"name": "李娜", "employer": "山东大学", "pension_months": 96,
                               "medical_status": "active", "monthly_base": 9100},
    },
    "gjj.housing_fund": {
        "370102198506124536": {"name": "张伟", "account_status": "normal", "balance": 65321.5,
                               "monthly_deposit": 1032},
    },
    "swj.tax_credit": {
        "91370100MA5F3K2Y1G": {"enterprise_name": "济南泉城软件有限公司", "credit_grade": "A", "rating_year": 2025},
    },
}


# 第十九条: the civil affairs bureau has suspended the HRSS bureau's access to its registry for 30 days.
SUSPENSION = ("mzj.registered_orgs", "dept-civil-affairs", "dept-hrss",
              "核查期间暂停提供: 社会组织登记信息被用于履职以外的用途 "
              "(paused during a check: the registry was used beyond the department's duties)")

# A consent the regulator found pressed out of the citizen, and ended (kept apart from a revocation).
ABUSED_CONSENT = ("citizen-li", "dept-housing-fund", "gaj.household_registration", ["address"],
                  "housing_subsidy_review",
                  "以授权为办理条件, 强迫申请人同意 (consent pressed out of the applicant as a condition of service)")

# 第二十一条: the housing fund centre received 张伟's employer from the HRSS bureau, doubts it and asks for a check.
DOUBTED_RELEASE = ("citizen-zhang", "dept-housing-fund", "hrss.social_insurance", ["employer"], "housing_loan_review",
                   "单位名称与公积金缴存单位不一致 (the employer differs from the one paying into the fund)")

# 第三十四条: the enterprise objects to its tax credit grade; the data authority marked it and forwarded it to the tax
# service, which has 5 working days to decide. Meanwhile every release of credit_grade says it is disputed.
OBJECTION = ("enterprise-legal-rep", "swj.tax_credit", ["credit_grade"], "WRONG",
             "2025 年度纳税信用评价未计入已补缴税款, 等级应为 A 以上 (the 2025 rating ignores taxes paid late but paid; "
             "the grade should be higher)")

# 应急供需绿色通道: two EMERGENCY holders (a second one extends), one emergency in force and one release under it.
EMERGENCY_OFFICERS = ("emergency-officer-1", "emergency-officer-2")
EMERGENCY = ("济南市历城区暴雨内涝, 受灾群众临时安置 (rainstorm flooding in Licheng district: temporary resettlement)",
             "《中华人民共和国突发事件应对法》; 《个人信息保护法》第十三条第一款第(四)项",
             "dept-civil-affairs", "gaj.household_registration", ["name", "address"])


def key(name: str):
    """A demo participant's key from the keystore, created on first use."""
    return keystore.load_key(name) if keystore.key_path(name).exists() else keystore.new_key(name)


def _post_new(client: ApiClient, path: str, body: dict, *, signed: bool = False) -> None:
    """POST a registration (``signed``: as the client's own transaction); one that exists already
    (409) is fine, so seeding can run again."""
    try:
        client.post_signed(path, body) if signed else client.post(path, body)
    except ApiClientError as exc:
        if exc.status != 409:
            raise


def seed(base_url: str) -> dict:
    """Register the demo world; returns the names of the keys it uses."""
    admin = ApiClient(base_url, keystore.load_key("admin")).login()
    for name, (code, title) in DEPARTMENTS.items():
        _post_new(admin, "/v1/admin/departments", {"address": key(name).address, "code": code, "name": title})
    _post_new(admin, "/v1/admin/regulators", {"address": key(REGULATOR[0]).address, "name": REGULATOR[1]})
    for slug, title, provider, sharing_class, sensitive, fields in RESOURCES:
        _post_new(admin, "/v1/admin/resources", {
            "resource_id": slug, "name": title, "provider": key(provider).address,
            "sharing_class": sharing_class, "sensitive": sensitive, "fields": fields})
    # Subjects are bound by the identity attester, with its own key (never one the API holds).
    attester = ApiClient(base_url, keystore.load_key("attester")).login()
    for person in CITIZENS:
        _post_new(attester, "/v1/admin/subjects", {"id_type": person.id_type, "id_number": person.id_number,
                                                   "signers": [key(person.key).address], "threshold": 1}, signed=True)
    _post_new(attester, "/v1/admin/subjects", {
        "id_type": ENTERPRISE.id_type, "id_number": ENTERPRISE.id_number,
        "signers": [key(name).address for name in ENTERPRISE_SIGNERS], "threshold": 2}, signed=True)
    attester.close()
    providers = {slug: provider for slug, _, provider, *_ in RESOURCES}
    for slug, records in RECORDS.items():
        client = ApiClient(base_url, key(providers[slug])).login()
        for id_number, data in records.items():
            id_type = "resident_id" if id_number[:17].isdigit() else "uscc"
            client.put(f"/v1/resources/{slug}/records", {"id_type": id_type, "id_number": id_number, "data": data})
        client.close()
    for officer in EMERGENCY_OFFICERS:
        _post_new(admin, "/v1/admin/emergency-officers", {"address": key(officer).address})
    _seed_suspension(base_url)
    _seed_abused_consent(base_url)
    _seed_verification_request(base_url)
    _seed_emergency(base_url)
    _seed_objection(base_url, admin)
    admin.close()
    log.info("demo world seeded")
    return {"departments": list(DEPARTMENTS), "regulator": REGULATOR[0], "emergency_officers": list(EMERGENCY_OFFICERS),
            "citizens": [c.key for c in CITIZENS], "enterprise_signers": list(ENTERPRISE_SIGNERS)}


def _seed_suspension(base_url: str) -> None:
    resource_id, provider, department, reason = SUSPENSION
    client = ApiClient(base_url, key(provider)).login()
    suspended = key(department).address
    listed = client.get("/v1/suspensions")["suspensions"]
    if not any(s["resource_id"] == resource_id and s["department"] == suspended for s in listed):
        until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
        client.post_signed(f"/v1/resources/{resource_id}/suspensions",
                           {"department": suspended, "reason": reason, "until": until})
    client.close()


def _seed_abused_consent(base_url: str) -> None:
    citizen, grantee, resource_id, fields, purpose, reason = ABUSED_CONSENT
    person = next(p for p in CITIZENS if p.key == citizen)
    signer = ApiClient(base_url, key(citizen)).login()
    department = key(grantee).address
    if not any(c.get("grantee") == department and c.get("purpose") == purpose
               for c in signer.get("/v1/consents")["consents"]):
        consent_id = _grant(signer, person, department, resource_id, fields, purpose)
        regulator = ApiClient(base_url, key(REGULATOR[0])).login()
        regulator.post_signed(f"/v1/consents/{consent_id}/regulator-end", {"reason": reason})
        regulator.close()
    signer.close()


def _grant(signer: ApiClient, person: DemoPerson, grantee: str, resource_id: str, fields: list[str],
           purpose: str) -> str:
    """A one-signer consent for 90 days; its id."""
    now = datetime.now(UTC)
    draft = signer.post("/v1/consents/drafts", {
        "id_type": person.id_type, "id_number": person.id_number, "grantee": grantee,
        "resources": [{"resource_id": resource_id, "fields": fields}], "purpose": purpose, "max_uses": 0,
        "valid_from": now.isoformat(), "valid_until": (now + timedelta(days=90)).isoformat()})
    signer.post("/v1/consents", {"typed_data": draft["typed_data"],
                                 "signatures": [signer.sign_typed_data(draft["typed_data"])]})
    return draft["consent_id"]


def _seed_verification_request(base_url: str) -> None:
    citizen, department, resource_id, fields, purpose, reason = DOUBTED_RELEASE
    person = next(p for p in CITIZENS if p.key == citizen)
    client = ApiClient(base_url, key(department)).login()
    if not any(v["resource_id"] == resource_id and v["requester"] == client.address
               for v in client.get("/v1/verification-requests")["verification_requests"]):
        signer = ApiClient(base_url, key(citizen)).login()
        _grant(signer, person, client.address, resource_id, fields, purpose)
        signer.close()
        released = client.post("/v1/records/query", {"id_type": person.id_type, "id_number": person.id_number,
                                                     "resource_id": resource_id, "fields": fields, "purpose": purpose})
        client.post_signed("/v1/verification-requests", {"audit_seq": released["audit"]["seq"], "fields": fields,
                                                         "reason": reason})
    client.close()


def _seed_emergency(base_url: str) -> None:
    event, legal_basis, department, resource_id, fields = EMERGENCY
    officer = ApiClient(base_url, key(EMERGENCY_OFFICERS[0])).login()
    if not officer.get("/v1/emergencies")["emergencies"]:
        until = (datetime.now(UTC) + timedelta(hours=72)).replace(microsecond=0).isoformat()
        declared = officer.post_signed("/v1/emergencies", {
            "event": event, "legal_basis": legal_basis, "departments": [key(department).address],
            "resources": [resource_id], "subjects": "all", "until": until})
        client = ApiClient(base_url, key(department)).login()
        person = CITIZENS[0]
        client.post("/v1/records/query", {"id_type": person.id_type, "id_number": person.id_number,
                                          "resource_id": resource_id, "fields": fields, "purpose": "flood_resettlement",
                                          "emergency_id": declared["emergency_id"]})
        client.close()
    officer.close()


def _seed_objection(base_url: str, admin: ApiClient) -> None:
    signer_key, resource_id, fields, kind, reason = OBJECTION
    signer = ApiClient(base_url, key(signer_key)).login()
    if not any(o["resource_id"] == resource_id for o in signer.get("/v1/objections")["objections"]):
        draft = signer.post("/v1/objections/drafts", {"id_type": ENTERPRISE.id_type, "id_number": ENTERPRISE.id_number,
                                                      "resource_id": resource_id, "fields": fields, "kind": kind,
                                                      "reason": reason})
        typed = draft["typed_data"]
        filed = signer.post("/v1/objections", {"typed_data": typed, "signature": signer.sign_typed_data(typed),
                                               "reason": reason})
        admin.post(f"/v1/objections/{filed['objection_id']}/mark")
        admin.post(f"/v1/objections/{filed['objection_id']}/forward")
    signer.close()


def main(base_url: str) -> int:
    try:
        seed(base_url)
    except Exception as exc:  # the API stays up; the operator sees why the demo is missing
        print(f"demo seeding failed: {exc}", file=sys.stderr)
        return 1
    print(f"demo world seeded; try the README walkthrough against {base_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
