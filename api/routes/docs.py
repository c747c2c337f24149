"""Swagger UI at ``/docs`` and ReDoc at ``/redoc``, served with their assets from this server.

FastAPI's own pages load their scripts and styles from a CDN (and ReDoc its fonts from Google), so
they are blank on a network without the internet. The assets here come from the ``fastapi-offline``
package, installed with the API; nothing is fetched when a page is shown.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"
ASSET_DIR = files("fastapi_offline") / "static"


def install(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their assets under ``/docs/assets``, out of the OpenAPI document."""
    app.mount(ASSETS, StaticFiles(directory=str(ASSET_DIR)), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # No spec validator badge: it would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None})

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} — ReDoc",
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{ASSETS}/favicon.png",
                              with_google_fonts=False)
