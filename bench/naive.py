"""The naive baseline: the release design many blockchain-consent prototypes use, served over HTTP.

For each query it does what such prototypes do, with web3.py as they use it (``HTTPProvider``,
default middleware, the contract API):

1. verify the bearer token (the same JWT the real API issues);
2. ``Consents.check(consent, grantee, resource, purposeHash)`` as an ``eth_call`` through the
   gateway, for the consent it finds for (subject, department, resource);
3. one on-chain transaction per audit entry: ``AuditAnchor.anchor(seq + 1, leafHash)`` on an
   AuditAnchor instance of its own, built, signed and sent with web3.py, then
   ``wait_for_transaction_receipt``. Tree sizes must increase, so these are serialized;
4. return the permitted fields (held in memory: no decryption cost, an advantage to the baseline).

It runs as its own uvicorn server (``python -m bench.naive CONFIG PORT``) on the same
machine and devnet, measured by the same load generator as the real API.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import jwt
from eth_utils import to_checksum_address
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from web3 import Web3

from api.core.security import ALGORITHM, AUDIENCE, ISSUER
from ledger import compiler, keystore
from ledger.audit.entry import AuditEntry, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.domain import purpose_hash, resource_key
from ledger.identity import load_or_create_pepper, subject_id
from ledger.settings import Settings
from ledger.storage.sealing import load_or_create_secret


def _consent_tuple(message: dict) -> tuple:
    return (bytes.fromhex(message["subject"][2:]), to_checksum_address(message["grantee"]),
            [bytes.fromhex(r[2:]) for r in message["resources"]], [int(m) for m in message["fieldMasks"]],
            message["purpose"], int(message["validFrom"]), int(message["validUntil"]), int(message["maxUses"]),
            int(message["nonce"]), int(message["deadline"]))


def create_app(config: dict) -> FastAPI:
    settings = Settings.from_env()
    home = settings.data_dir
    secret = load_or_create_secret(home / "secrets" / "jwt.key")
    pepper = load_or_create_pepper(home, explicit=settings.pepper)
    artifacts = compiler.artifacts()
    w3 = Web3(Web3.HTTPProvider(config["rpc_url"]))
    consents = w3.eth.contract(address=config["consents"], abi=artifacts["Consents"].abi)
    anchor = w3.eth.contract(address=config["anchor"], abi=artifacts["AuditAnchor"].abi)
    anchorer = keystore.load_key("anchorer")
    fields_of = config["resource_fields"]
    by_key = {(c["subject_id"], c["grantee"], c["resource"]): _consent_tuple(c["message"])
              for c in config["consents_list"]}
    records = config["records"]
    audit_lock = threading.Lock()
    state = {"seq": int(anchor.functions.latest().call()[1])}

    app = FastAPI()

    def deny(status: int, code: str) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": code}}, status_code=status)

    @app.post("/v1/records/query")
    def query(request: Request, body: dict):
        header = request.headers.get("authorization", "")
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=ISSUER)
        except jwt.PyJWTError:
            return deny(401, "INVALID_TOKEN")
        requester = to_checksum_address(claims["sub"])
        sid = "0x" + subject_id(pepper, body["id_type"], body["id_number"]).hex()
        resource, fields, purpose = body["resource_id"], sorted(set(body["fields"])), body["purpose"]
        consent = by_key.get((sid, requester, resource))
        allowed, consent_id = False, None
        if consent is not None:
            ok, mask, _reason = consents.functions.check(consent, requester, resource_key(resource),
                                                         purpose_hash(purpose)).call()
            wanted = sum(1 << fields_of[resource].index(f) for f in fields if f in fields_of[resource])
            allowed = ok and len(fields) == len([f for f in fields if f in fields_of[resource]]) \
                and wanted & mask == wanted
        data = {f: records[resource][sid][f] for f in fields} if allowed else None
        with audit_lock:  # one transaction per entry, sizes strictly increasing
            seq = state["seq"]
            entry = AuditEntry(seq=seq, time=datetime.now(UTC), requester=requester, subject_id=sid,
                               resource=resource, purpose=purpose, consent_id=consent_id,
                               decision="ALLOW" if allowed else "DENY", reason="OK" if allowed else "DENIED",
                               fields=tuple(fields), block_number=w3.eth.block_number)
            tx = anchor.functions.anchor(seq + 1, hash_leaf(encode_leaf(entry))).build_transaction({
                "from": anchorer.address, "nonce": w3.eth.get_transaction_count(anchorer.address)})
            signed = anchorer.sign_transaction(tx)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
            if receipt["status"] != 1:
                return deny(503, "AUDIT_FAILED")
            state["seq"] = seq + 1
        if not allowed:
            return deny(403, "DENIED")
        return {"data": data, "audit": {"seq": seq, "tx_hash": "0x" + bytes(tx_hash).hex()}}

    return app


def main() -> None:
    import uvicorn

    config = json.loads(Path(sys.argv[1]).read_text())
    port = int(sys.argv[2])
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
