"""One module per resource; each route asks the service it uses and picks the status from its answer."""

from __future__ import annotations

from pydantic import BaseModel

from api.core.responses import JsonResponse


def reply(model: BaseModel, status_code: int) -> JsonResponse:
    """``model`` as the body with a status that depends on the outcome (which ``status_code=`` on the
    route cannot say); only the fields the service set, as the response model documents them."""
    return JsonResponse(model.model_dump(mode="json", exclude_unset=True), status_code=status_code)
