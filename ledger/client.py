"""A small client for the Consent Ledger API, as a wallet-holding user would drive it.

Signs in with SIWE (personal_sign of the challenge) and signs typed data locally; the private
key never leaves the process. Used by the demo seeding, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.eip712 import sign_typed_data


class ApiClientError(Exception):
    def __init__(self, response: httpx.Response):
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        self.status = response.status_code
        self.code = error.get("code", "HTTP_ERROR")
        super().__init__(f"{response.request.method} {response.request.url.path} -> {self.status} "
                         f"{self.code}: {error.get('message', response.text[:200])}")


class ApiClient:
    def __init__(self, base_url: str, account: LocalAccount | None = None, *, timeout: float = 30.0):
        self.account = account
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.token: str | None = None
        self.roles: list[str] = []

    @property
    def address(self) -> str:
        return self.account.address

    def login(self) -> "ApiClient":
        challenge = self.post("/v1/auth/challenge", {"address": self.account.address}, auth=False)
        signature = Account.sign_message(encode_defunct(text=challenge["message"]), self.account.key).signature
        session = self.post("/v1/auth/login", {"message": challenge["message"],
                                               "signature": "0x" + signature.hex()}, auth=False)
        self.token, self.roles = session["access_token"], session["roles"]
        return self

    def request(self, method: str, path: str, body: Any = None, *, auth: bool = True, **kwargs) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token}"} if auth and self.token else {}
        return self.http.request(method, path, json=body, headers=headers, **kwargs)

    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise ApiClientError(response)
        return response.json()

    def get(self, path: str, **kwargs) -> Any:
        return self._ok(self.request("GET", path, **kwargs))

    def post(self, path: str, body: Any = None, **kwargs) -> Any:
        return self._ok(self.request("POST", path, body, **kwargs))

    def put(self, path: str, body: Any = None, **kwargs) -> Any:
        return self._ok(self.request("PUT", path, body, **kwargs))

    def post_signed(self, path: str, body: dict) -> Any:
        """Prepare-then-sign: get the transaction the endpoint wants signed, sign it with this key
        and send it back as ``signed_transaction`` (departments, the identity attester)."""
        prepared = self.post(path, body)
        return self.post(path, {**body, "signed_transaction": self.sign_transaction(prepared["transaction"])})

    def sign_typed_data(self, typed_data: dict) -> str:
        return sign_typed_data(self.account.key, typed_data)

    def sign_transaction(self, transaction: dict) -> str:
        tx = {k: int(v, 16) if isinstance(v, str) and k != "to" and k != "data" else v
              for k, v in transaction.items() if k != "from"}
        return "0x" + self.account.sign_transaction(tx).raw_transaction.hex()

    def close(self) -> None:
        self.http.close()
