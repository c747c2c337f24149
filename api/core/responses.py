"""JSON responses rendered with orjson (fast, and handles datetimes and big integers as we need)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JsonResponse(JSONResponse):
    """A :class:`JSONResponse` (so OpenAPI documents the routes' response models) rendered with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
