"""`consent-ledger auth`: sign in to the API with a keystore key (SIWE) and print the bearer token."""

from __future__ import annotations

import os

import click

from ledger.config import API_HOST, API_PORT


@click.group("auth")
def command() -> None:
    """Sign-In with Ethereum against the API, for scripts and the README walkthrough."""


@command.command("token")
@click.option("--key-name", required=True, help="a key of the local keystore")
@click.option("--api", "api_url", default=lambda: os.environ.get("CONSENT_LEDGER_API_URL",
                                                                 f"http://{API_HOST}:{API_PORT}"),
              show_default=f"http://{API_HOST}:{API_PORT}")
def token(key_name: str, api_url: str) -> None:
    """Sign the API's SIWE challenge with the key and print the access token."""
    from ledger.client import ApiClient, ApiClientError
    from ledger import keystore

    client = ApiClient(api_url, keystore.load_key(key_name))
    try:
        client.login()
    except ApiClientError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()
    click.echo(client.token)
