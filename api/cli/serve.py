"""`consent-ledger serve`: the HTTP API (uvicorn)."""

from __future__ import annotations


import click

from ledger.config import API_HOST, API_PORT
from ledger.settings import Settings, pass_settings


@click.command("serve")
@click.option("--host", default=None, show_default=API_HOST, help="listen address (or $CONSENT_LEDGER_API_HOST)")
@click.option("--port", type=int, default=None, show_default=str(API_PORT), help="listen port (or $CONSENT_LEDGER_API_PORT)")
@click.option("--log-level", default="info", show_default=True)
@pass_settings
def command(settings: Settings, host: str | None, port: int | None, log_level: str) -> None:
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
    click.echo(f"API: http://{host}:{port}  (OpenAPI docs at /docs)")
    # Client addresses key the rate limits: X-Forwarded-For is believed only from the proxies named
    # in CONSENT_LEDGER_TRUSTED_PROXIES (uvicorn would otherwise trust it from 127.0.0.1).
    proxies = settings.trusted_proxies
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, proxy_headers=bool(proxies),
                forwarded_allow_ips=proxies or None)
