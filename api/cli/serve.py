"""`consent-ledger serve`: the HTTP API (uvicorn)."""

from __future__ import annotations

import os

import click

from ledger.config import API_HOST, API_PORT


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("CONSENT_LEDGER_API_HOST", API_HOST), show_default=API_HOST)
@click.option("--port", type=int, default=lambda: int(os.environ.get("CONSENT_LEDGER_API_PORT", API_PORT)),
              show_default=API_PORT)
@click.option("--log-level", default="info", show_default=True)
def command(host: str, port: int, log_level: str) -> None:
    """Serve the API; Ctrl-C stops it cleanly (the last audit tree head is anchored first)."""
    import uvicorn

    os.environ.setdefault("CONSENT_LEDGER_PUBLIC_URL", f"http://{host}:{port}")
    click.echo(f"API: http://{host}:{port}  (OpenAPI docs at /docs)")
    # Client addresses key the rate limits: X-Forwarded-For is believed only from the proxies named
    # in CONSENT_LEDGER_TRUSTED_PROXIES (uvicorn would otherwise trust it from 127.0.0.1).
    proxies = os.environ.get("CONSENT_LEDGER_TRUSTED_PROXIES", "").strip()
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_level=log_level,
                access_log=False, proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
