"""A consent as an ISO/IEC TS 27560-style consent record in JSON-LD, in W3C DPV terms
(https://w3id.org/dpv), for the subject to keep and for any DPV-aware tool to read.

DPV names the parts: the record (``dpv:ConsentRecord``), its status (``dpv:ConsentGiven``; withdrawn
by the subject, ``dpv:ConsentWithdrawn``; revoked by another party — here a regulator —
``dpv:ConsentRevoked``; ``dpv:ConsentExpired``), the data subject, the purpose, the personal data,
the recipient, the legal basis (``dpv:Consent``, 个人信息保护法 第十三条第一款第(一)项) and the
jurisdiction. What DPV has no term for, the chain's own facts (consent id, transaction, contract,
validity window, use limit), is in this ledger's vocabulary, ``cl:``, so the record can be checked
against the chain: the consent id is the EIP-712 digest of the signed message.
"""

from __future__ import annotations

from api.schemas.common import iso

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "loc": "https://w3id.org/dpv/loc#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "cl": "urn:consent-ledger:vocab#",
    "dct:created": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "cl:validFrom": {"@type": "xsd:dateTime"},
    "cl:validUntil": {"@type": "xsd:dateTime"},
}

#: The listing's status (GET /v1/consents) as DPV's consent status.
DPV_STATUS = {
    "active": "dpv:ConsentGiven",
    "not_yet_valid": "dpv:ConsentGiven",
    "revoked": "dpv:ConsentWithdrawn",
    "ended_by_regulator": "dpv:ConsentRevoked",
    "expired": "dpv:ConsentExpired",
    "exhausted": "dpv:ConsentExpired",
}

LEGAL_BASIS_SOURCE = "《中华人民共和国个人信息保护法》第十三条第一款第(一)项: 取得个人的同意"


def consent_record(*, consent: dict, grantee_name: str | None, grantee_code: str | None,
                   resource_names: dict[str, str | None], chain_id: int, contract: str, granted_at: int,
                   ended_at: int | None) -> dict:
    """The JSON-LD record of ``consent`` (as :meth:`ConsentService.visible` lists it)."""
    status = consent["status"]
    record_id = f"urn:consent-ledger:{chain_id}:{contract.lower()}:consent:{consent['consent_id']}"
    personal_data = [
        {"@id": f"{record_id}#{r['resource_id']}.{name}", "@type": "dpv:PersonalData",
         "dct:title": name, "dct:isPartOf": {"@id": f"urn:consent-ledger:resource:{r['resource_id']}",
                                             "dct:title": resource_names.get(r["resource_id"]) or r["resource_id"]}}
        for r in consent["resources"] for name in r["fields"]]
    record = {
        "@context": CONTEXT,
        "@id": record_id,
        "@type": "dpv:ConsentRecord",
        "dct:conformsTo": "ISO/IEC TS 27560:2023",
        "dpv:hasIdentifier": consent["consent_id"],
        "dpv:hasConsentStatus": {"@id": DPV_STATUS[status]},
        "cl:status": status,
        "dpv:hasDataSubject": {"@id": f"urn:consent-ledger:subject:{consent['subject_id']}",
                               "@type": "dpv:DataSubject",
                               "dct:description": "pseudonymous: HMAC-SHA256 of the ID number under the platform's pepper"},
        "dpv:hasPurpose": {"@type": "dpv:Purpose", "dct:identifier": consent["purpose"],
                           "cl:purposeHash": consent["purpose_hash"]},
        "dpv:hasPersonalData": personal_data,
        "dpv:hasRecipient": {"@id": f"urn:consent-ledger:department:{consent['grantee']}",
                             "@type": ["dpv:Recipient", "dpv:PublicAuthority"],
                             "dpv:hasName": grantee_name, "dct:identifier": grantee_code},
        "dpv:hasLegalBasis": {"@id": "dpv:Consent", "dct:source": LEGAL_BASIS_SOURCE},
        "dpv:hasJurisdiction": {"@id": "loc:CN"},
        "dct:created": iso(granted_at),
        "cl:validFrom": consent["valid_from"],
        "cl:validUntil": consent["valid_until"],
        "cl:maxUses": consent["max_uses"],
        "cl:uses": consent["uses"],
        "cl:chainId": chain_id,
        "cl:consentsContract": contract,
        "cl:grantTransaction": consent["tx_hash"],
        "cl:grantBlock": consent["block_number"],
    }
    if ended_at is not None:
        record["dct:modified"] = iso(ended_at)
        record["cl:endedBy"] = consent["ended_by"]
        record["cl:endedBlock"] = consent["ended_block"]
        if consent.get("end_reason"):
            record["cl:endReason"] = consent["end_reason"]
    return record
