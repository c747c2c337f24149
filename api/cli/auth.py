"""`consent-ledger auth`: sign in to the API with a keystore key (SIWE) and print the bearer token."""

from __future__ import annotations

import click

from ledger.config import API_HOST, API_PORT
from ledger.settings import Settings, pass_settings


@click.group("auth")
def command() -> None:
    """Sign-In with Ethereum against the API, for scripts and the README walkthrough."""


@command.command("token")
@click.option("--key-name", required=True, help="a key of the local keystore")
@click.option("--api", "api_url", default=None, show_default=f"http://{API_HOST}:{API_PORT}",
              help="base URL of the API (or $CONSENT_LEDGER_API_URL)")
@pass_settings
def token(settings: Settings, key_name: str, api_url: str | None) -> None:
    """Sign the API's SIWE challenge with the key and print the access token."""
    from ledger.client import ApiClient, ApiClientError
    from ledger.keystore import Keystore

    client = ApiClient(api_url or settings.api_url, Keystore.from_settings(settings).load(key_name))
    try:
        client.login()
    except ApiClientError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()
    click.echo(client.token)
