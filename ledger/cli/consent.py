"""`consent-ledger consent`: a citizen signs consent typed data with their own key, as a wallet would."""

from __future__ import annotations

import datetime as dt
import json
import stat
import sys
from pathlib import Path
from typing import Any

import click

from ledger.cli._failure import Failure
from ledger.settings import Settings, environment_variable, pass_settings

_DEFAULT_PASSWORD_ENV = "CONSENT_LEDGER_KEY_PASSWORD"


@click.group("consent")
def command() -> None:
    """Consents from the citizen's side: sign typed data with your own key."""


@command.command("sign")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
              help="a Web3 Secret Storage JSON key file, or a file holding a 0x-hex private key")
@click.option("--key-name", help="a key of the local keystore (<data dir>/keystore/NAME.json)")
@click.option("--typed-data", "source", required=True, metavar="FILE|-",
              help="eth_signTypedData_v4 JSON, or a draft response {consent_id, typed_data}; '-' reads stdin")
@click.option("--password-env", default=_DEFAULT_PASSWORD_ENV, show_default=True, metavar="VAR",
              help="environment variable holding the key's password (prompted for when unset and interactive)")
@click.option("--json", "as_json", is_flag=True, help="print {signature, signer, digest} instead of the signature")
@click.option("--submission", is_flag=True,
              help="print the request body the API takes: {typed_data, signatures: [...]} for a Consent, "
                   "{typed_data, signature} for a Revoke")
@pass_settings
def sign(settings: Settings, key_file: Path | None, key_name: str | None, source: str, password_env: str,
         as_json: bool, submission: bool) -> None:
    """Show what a Consent or Revoke typed data grants, then sign it (EIP-712) with your key.

    The summary goes to stderr, the 0x-hex signature to stdout, so it can be piped into the API
    call. Only the ledger's own Consent and Revoke types are signed: anything else is refused
    (exit code 2), as is a draft whose consent_id is not the digest of its typed data.
    """
    if (key_file is None) == (key_name is None):
        raise click.UsageError("give exactly one of --key-file or --key-name")
    typed, expected_id = _read_typed_data(source)
    message, digest = _check(typed, expected_id)

    interactive = sys.stdin.isatty() and source != "-"
    # The keystore's own variable is a setting; any other is the user's, read when named.
    password = settings.key_password if password_env == _DEFAULT_PASSWORD_ENV else environment_variable(password_env)
    account = _load_key_file(key_file, password, password_env, interactive) if key_file is not None \
        else _load_key_name(settings, key_name, password, interactive)

    click.echo(_summary(typed, message, digest, account.address), err=True)

    from ledger.eip712 import recover_signer, sign_typed_data

    signature = sign_typed_data(account.key, typed)
    if recover_signer(digest, signature) != account.address:  # never hand out a signature that would not verify
        raise click.ClickException("the signature does not recover to the signing key")
    if submission:
        key = "signatures" if typed["primaryType"] == "Consent" else "signature"
        click.echo(json.dumps({"typed_data": typed, key: [signature] if key == "signatures" else signature}))
    elif as_json:
        click.echo(json.dumps({"signature": signature, "signer": account.address, "digest": "0x" + digest.hex()}))
    else:
        click.echo(signature)


def _read_typed_data(source: str) -> tuple[dict[str, Any], str | None]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read typed data from {source}: {exc}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Failure(f"typed data is not JSON: {exc}") from exc
    expected_id = None
    if isinstance(document, dict) and "typed_data" in document:  # a draft response: {consent_id, typed_data}
        expected_id = document.get("consent_id")
        document = document["typed_data"]
    if not isinstance(document, dict):
        raise Failure("invalid typed data: expected a JSON object with types, primaryType, domain and message")
    return document, expected_id


def _check(typed: dict[str, Any], expected_id: Any):
    """Parse typed data as this ledger's Consent or Revoke; returns (message, digest)."""
    from eth_utils import to_checksum_address

    from ledger.eip712 import Domain, InvalidTypedData, hash_typed_data, parse_typed_data

    missing = [k for k in ("types", "primaryType", "domain", "message") if k not in typed]
    if missing:
        raise Failure(f"invalid typed data: missing {', '.join(missing)}")
    domain = typed["domain"]
    try:
        claimed = Domain(str(domain["name"]), str(domain["version"]), int(domain["chainId"]),
                         to_checksum_address(domain["verifyingContract"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise Failure("invalid typed data: domain needs name, version, chainId and verifyingContract "
                       f"({exc.__class__.__name__}: {exc})") from exc
    try:
        message = parse_typed_data(typed, claimed)
        digest = hash_typed_data(typed)
    except InvalidTypedData as exc:
        raise Failure(f"invalid typed data: {exc}") from exc
    if expected_id is not None and str(expected_id).lower() != "0x" + digest.hex():
        raise Failure(f"invalid typed data: the draft's consent_id {expected_id} is not the digest of its typed data "
                       f"(0x{digest.hex()})")
    return message, digest


def _load_key_file(path: Path, password: str | None, password_env: str, interactive: bool):
    from eth_account import Account

    try:
        mode = path.stat().st_mode
        raw = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read key file {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(f"warning: {path} is readable by other users; chmod 600 it", err=True)
    if raw.startswith("{"):
        try:
            keyfile = json.loads(raw)
        except ValueError as exc:
            raise Failure(f"key file {path} is not valid JSON") from exc
        if password is None:
            if not interactive:
                raise Failure(f"key file {path} is encrypted: set ${password_env} to its password")
            password = click.prompt(f"Password for {path}", hide_input=True, err=True)
        try:
            return Account.from_key(Account.decrypt(keyfile, password))
        except ValueError as exc:  # eth-keyfile reports a wrong password as a MAC mismatch
            reason = "wrong password" if "MAC" in str(exc) else "not a Web3 Secret Storage key file"
            raise Failure(f"cannot decrypt key file {path}: {reason}") from exc
        except (KeyError, TypeError, NotImplementedError) as exc:
            raise Failure(f"cannot decrypt key file {path}: not a Web3 Secret Storage key file") from exc
    body = raw.removeprefix("0x").removeprefix("0X")
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        # never echo the content: it may be a key with a typo
        raise Failure(f"key file {path} holds neither a Web3 Secret Storage JSON nor a 0x-hex private key")
    try:
        return Account.from_key(bytes.fromhex(body))
    except ValueError as exc:  # zero or beyond the curve order
        raise Failure(f"key file {path} does not hold a valid secp256k1 private key") from exc


def _load_key_name(settings: Settings, name: str, password: str | None, interactive: bool):
    from ledger.exceptions import KeystoreError
    from ledger.keystore import Keystore

    keys = Keystore.from_settings(settings)
    try:
        return keys.load(name, password=password)
    except KeystoreError as exc:
        if password is None and interactive and keys.path(name).exists():
            try:
                return keys.load(name, password=click.prompt(f"Password for key {name!r}", hide_input=True, err=True))
            except KeystoreError as again:
                raise Failure(str(again)) from again
        raise Failure(str(exc)) from exc


def _when(seconds: int) -> str:
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} (not a representable date)"


def _quoted(text: str) -> str:
    # JSON quoting shows control characters and line breaks that could fake extra summary lines
    return json.dumps(text, ensure_ascii=False)


def _summary(typed: dict[str, Any], message, digest: bytes, signer: str) -> str:
    from eth_utils import to_checksum_address

    from ledger.eip712 import ConsentMessage

    domain = typed["domain"]
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    lines = []
    if isinstance(message, ConsentMessage):
        lines.append("You are about to sign a CONSENT (EIP-712 Consent):")
    else:
        lines.append("You are about to sign a REVOCATION (EIP-712 Revoke):")
    lines.append(f"  Domain       {_quoted(str(domain['name']))} version {_quoted(str(domain['version']))}, "
                 f"chain {int(domain['chainId'])}, contract {to_checksum_address(domain['verifyingContract'])}")
    warnings = []
    if isinstance(message, ConsentMessage):
        lines += [
            f"  Subject      0x{message.subject.hex()}",
            f"  Grantee      {message.grantee}",
            f"  Purpose      {_quoted(message.purpose)}",
            f"  Valid        {_when(message.valid_from)} to {_when(message.valid_until)} (UTC; the end is excluded)",
            f"  Max uses     {message.max_uses if message.max_uses else 'unlimited'}",
            f"  Resources    {len(message.resources)}",
        ]
        for resource, mask in zip(message.resources, message.field_masks):
            lines.append(f"    0x{resource.hex()}  {bin(mask).count('1')} field(s), mask {mask:#x}")
        if len(message.resources) != len(message.field_masks):
            warnings.append("resources and field masks differ in number; the ledger will refuse this consent")
        if message.valid_until <= message.valid_from:
            warnings.append("the validity window is empty; the ledger will refuse this consent")
        elif message.valid_until <= now:
            warnings.append("the validity window is already over")
    else:
        lines += [f"  Consent      0x{message.consent_id.hex()}", f"  Subject      0x{message.subject.hex()}"]
    lines += [
        f"  Sign before  {_when(message.deadline)} (UTC)",
        f"  Nonce        {message.nonce}",
        f"  Digest       0x{digest.hex()}",
        f"  Signer       {signer}",
    ]
    if message.deadline < now:
        warnings.append("the signing deadline has passed; the ledger will refuse this signature")
    lines += [f"  WARNING: {w}" for w in warnings]
    return "\n".join(lines)
