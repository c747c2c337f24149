"""`consent-ledger serve`: the HTTP API (uvicorn), optionally seeding the demo world."""

from __future__ import annotations

import threading
import time

import click

from ledger.config import API_HOST, API_PORT
from ledger.settings import Settings, pass_settings


def _seed_when_up(base_url: str) -> None:
    import httpx

    from api.demo import seed

    for _ in range(600):
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        seed(base_url)
        click.echo(f"demo world seeded; try the README walkthrough against {base_url}")
    except Exception as exc:  # the API stays up; the operator sees why the demo is missing
        click.echo(f"demo seeding failed: {exc}", err=True)


@click.command("serve")
@click.option("--host", default=None, show_default=API_HOST, help="listen address (or $CONSENT_LEDGER_API_HOST)")
@click.option("--port", type=int, default=None, show_default=str(API_PORT), help="listen port (or $CONSENT_LEDGER_API_PORT)")
@click.option("--demo", is_flag=True, help="seed the demo world once the API is up")
@click.option("--log-level", default="info", show_default=True)
@pass_settings
def command(settings: Settings, host: str | None, port: int | None, demo: bool, log_level: str) -> None:
    """Serve the API; Ctrl-C stops it cleanly (the last audit tree head is anchored first)."""
    from ledger.exceptions import ConfigurationError

    # A configuration the API refuses stops here, before the service's imports.
    settings = settings.listening_on(host or settings.api_host, settings.api_port if port is None else port)
    host, port = settings.api_host, settings.api_port
    try:
        settings = settings.with_service_secrets()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None

    import uvicorn

    from api.main import create_app

    app = create_app(settings)
    if demo:
        threading.Thread(target=_seed_when_up, args=(f"http://{host}:{port}",), daemon=True).start()
    click.echo(f"API: http://{host}:{port}  (OpenAPI docs at /docs)")
    # Client addresses key the rate limits: X-Forwarded-For is believed only from the proxies named
    # in CONSENT_LEDGER_TRUSTED_PROXIES (uvicorn would otherwise trust it from 127.0.0.1).
    proxies = settings.trusted_proxies
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies or None)
