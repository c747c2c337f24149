"""The web pages (``web/``, built by ``scripts/setup`` into ``api/webapp/``) served at ``/app/``.

Every response under ``/app/`` carries a strict Content-Security-Policy: scripts, styles, fonts and
connections only from this origin, no inline script, no eval, no frames, no plug-ins. The page holds the
user's key, so nothing else may run in it. Hashed assets are cached for a year; ``index.html`` is always
revalidated, so a new build is picked up at once. Any other path under ``/app/`` is a page of the
single-page app and gets ``index.html``; a missing asset gets 404.

``/app/config.json`` tells the page what it cannot learn alone without a key: the chain id (and so
whether pasting a raw key is allowed, which it is on the devnet only) and the audit log's origin and
public key, with which the page checks a checkpoint's signature itself.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.core.errors import error_response
from api.core.responses import JsonResponse
from ledger.config import CHAIN_ID

#: Where the build lands (``web/vite.config.js``); shipped in the wheel with the package.
WEB_ROOT = Path(__file__).with_name("webapp")

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    # Element Plus positions popovers through the CSSOM (allowed); style attributes in markup are not used
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
))
_HEADERS = {"content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin",
            "x-frame-options": "DENY", "permissions-policy": "camera=(), microphone=(), geolocation=()"}
_IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


def _page(root: Path) -> Response:
    index = root / "index.html"
    if not index.is_file():
        return error_response(404, "WEB_APP_NOT_BUILT", "the web pages are not built: run scripts/setup",
                              headers=_HEADERS)
    return FileResponse(index, media_type="text/html; charset=utf-8", headers={**_HEADERS, "cache-control": "no-cache"})


@router.get("/app")
def app_root() -> Response:
    return RedirectResponse("/app/", status_code=308, headers=_HEADERS)


@router.get("/app/config.json")
def app_config(request: Request) -> Response:
    identity = request.app.state.services.audit.public_identity()
    return JsonResponse({**identity, "devnet": identity["chain_id"] == CHAIN_ID},
                        headers={**_HEADERS, "cache-control": "no-cache"})


@router.get("/app/{path:path}")
def app_file(path: str, request: Request) -> Response:
    root: Path = request.app.state.web_root
    if not path or "." not in path.rsplit("/", 1)[-1]:  # a page of the app, not a file
        return _page(root)
    file = (root / path).resolve()
    if not file.is_relative_to(root.resolve()) or not file.is_file():
        return error_response(404, "NOT_FOUND", f"no such file: /app/{path}", headers=_HEADERS)
    cache = _IMMUTABLE if path.startswith("assets/") else "no-cache"
    return FileResponse(file, headers={**_HEADERS, "cache-control": cache})


def install(app: FastAPI, root: Path = WEB_ROOT) -> None:
    app.state.web_root = root
    app.include_router(router)
