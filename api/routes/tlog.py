"""The audit log at the C2SP tlog-tiles paths, so standard tlog clients can follow it.

``/log/checkpoint`` (the signed note, mutable: not cached) and ``/log/tile/<L>/<N>[.p/<W>]`` (hash
tiles, immutable: cached for a year) are public; they hold hashes only. Entry bundles,
``/log/tile/entries/<N>[.p/<W>]``, hold the decisions themselves and go to regulators only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import AuditServiceDep, RegulatorDep
from api.schemas.common import SIGNED_IN, errors

router = APIRouter(tags=["log"])
TilePath = Annotated[str, Path(description="the rest of the C2SP tile path, e.g. x001/234.p/17", max_length=200)]
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/log/checkpoint", response_class=Response, responses={
    200: {"content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
          "description": "the latest checkpoint, a C2SP signed note (origin, size, base64 root; Ed25519)"},
    **errors(404, 429, 503)})
def checkpoint(audit: AuditServiceDep) -> Response:
    return Response(audit.checkpoint(), media_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@router.get("/log/tile/entries/{path:path}", response_class=Response, responses={
    200: {"content": _BINARY, "description": "an entry bundle: each leaf behind its big-endian uint16 length"},
    **errors(*SIGNED_IN, 404)})
def entry_bundle(path: TilePath, _: RegulatorDep, audit: AuditServiceDep) -> Response:
    return Response(audit.entry_bundle(f"tile/entries/{path}"), media_type="application/octet-stream",
                    headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/log/tile/{level}/{path:path}", response_class=Response, responses={
    200: {"content": _BINARY, "description": "a hash tile: up to 256 packed 32-byte hashes"},
    **errors(404, 422, 429, 503)})
def tile(level: Annotated[str, Path(max_length=2)], path: TilePath, audit: AuditServiceDep) -> Response:
    return Response(audit.tile(f"tile/{level}/{path}"), media_type="application/octet-stream",
                    headers={"Cache-Control": _IMMUTABLE})
