"""`consent-ledger attest`: the identity attester's own acts, signed with its own key.

The API only prepares these transactions and relays them once signed, so the platform operator
cannot bind a key to a subject. Before signing, this command checks that the prepared
transaction calls the deployment's Subjects contract with exactly the function and arguments
asked for; the subject id is the platform's keyed hash of the ID number (HMAC with its pepper),
which the attester cannot recompute, so it is shown rather than checked.
"""

from __future__ import annotations

import json

import click

from ledger.config import API_HOST, API_PORT
from ledger.settings import Settings, pass_settings

_API = click.option("--api", "api_url", default=None, show_default=f"http://{API_HOST}:{API_PORT}",
                    help="base URL of the API (or $CONSENT_LEDGER_API_URL)")
_KEY = click.option("--key-name", default="attester", show_default=True, help="the attester's keystore key")


@click.group("attest")
def command() -> None:
    """Register subjects and propose signer changes as the identity attester."""


def _checked_and_signed(settings: Settings, client, path: str, body: dict, function: str, expected) -> dict:
    """POST ``body``, check the prepared transaction against ``expected(args)``, sign, POST again."""
    from eth_abi import decode as abi_decode
    from eth_utils import to_checksum_address

    from ledger.chain.abi import ContractABI
    from ledger.chain.client import Deployment, deployment_path
    from ledger.compiler import artifact

    prepared = client.post(path, body)
    tx = prepared["transaction"]
    subjects = Deployment.load(deployment_path(settings.data_dir)).contracts["Subjects"]
    fn = ContractABI(artifact("Subjects").abi).function(function)
    data = bytes.fromhex(tx["data"][2:])
    if to_checksum_address(tx["to"]) != subjects or data[:4] != fn.selector or int(str(tx["value"]), 0) != 0:
        raise click.ClickException(f"the API prepared a transaction that is not Subjects.{function}: refusing to sign")
    args = abi_decode(list(fn.inputs), data[4:])
    if not expected(args):
        raise click.ClickException(f"the prepared Subjects.{function} call does not say what was asked: "
                                   f"refusing to sign")
    click.echo(f"signing Subjects.{function} for subject 0x{args[0].hex()}", err=True)
    return client.post(path, {**body, "signed_transaction": client.sign_transaction(tx)})


def _addresses(values) -> list[str]:
    from eth_utils import to_checksum_address

    return [to_checksum_address(v) for v in values]


def _client(settings: Settings, api_url: str | None, key_name: str):
    from ledger.client import ApiClient
    from ledger.keystore import Keystore

    return ApiClient(api_url or settings.api_url, Keystore.from_settings(settings).load(key_name)).login()


@command.command("register")
@click.option("--id-type", type=click.Choice(["resident_id", "uscc"]), required=True)
@click.option("--id-number", required=True)
@click.option("--signer", "signers", multiple=True, required=True, help="a signer address (repeat for several)")
@click.option("--threshold", type=int, default=1, show_default=True)
@_API
@_KEY
@pass_settings
def register(settings: Settings, id_type: str, id_number: str, signers: tuple[str, ...], threshold: int,
             api_url: str | None, key_name: str) -> None:
    """Register a subject after real-name verification, with its signer wallets."""
    from ledger.client import ApiClientError

    wanted = _addresses(signers)
    kind = 1 if id_type == "resident_id" else 2
    try:
        client = _client(settings, api_url, key_name)
        result = _checked_and_signed(
            settings, client, "/v1/admin/subjects",
            {"id_type": id_type, "id_number": id_number, "signers": wanted, "threshold": threshold}, "register",
            lambda a: a[1] == kind and _addresses(a[2]) == wanted and a[3] == threshold)
    except (ApiClientError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result, indent=2))


@command.command("propose-signer-change")
@click.option("--subject-id", required=True, help="0x-hex subject id")
@click.option("--add", "add", multiple=True, help="a signer to bind (repeat for several)")
@click.option("--remove", "remove", multiple=True, help="a signer to unbind (repeat for several)")
@click.option("--threshold", type=int, required=True)
@_API
@_KEY
@pass_settings
def propose(settings: Settings, subject_id: str, add: tuple[str, ...], remove: tuple[str, ...], threshold: int,
            api_url: str | None, key_name: str) -> None:
    """Propose a change to a subject's signers; it applies after the notice period unless cancelled."""
    from ledger.client import ApiClientError

    added, removed = sorted(_addresses(add), key=str.lower), sorted(_addresses(remove), key=str.lower)
    try:
        client = _client(settings, api_url, key_name)
        result = _checked_and_signed(
            settings, client, f"/v1/subjects/{subject_id}/signer-changes",
            {"add": added, "remove": removed, "threshold": threshold}, "proposeSignerChange",
            lambda a: "0x" + a[0].hex() == subject_id.lower() and _addresses(a[1]) == added
            and _addresses(a[2]) == removed and a[3] == threshold)
    except (ApiClientError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result, indent=2))
