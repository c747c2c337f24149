"""Operations endpoints: liveness (public), readiness (bare status public, details with the ops
token) and Prometheus metrics (ops token only)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.core.responses import JsonResponse
from api.deps import HealthServiceDep, OpsDep, OpsTokenDep
from api.schemas.common import errors
from api.schemas.ops import Health, Readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
def healthz():
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={
    200: {"description": "ready"}, 503: {"model": Readiness, "description": "not ready (a check failed)"},
    **errors(429)})
def readyz(health: HealthServiceDep, detailed: OpsTokenDep):
    """200 when chain, database, indexer and anchoring are all in order, else 503. Load balancers get
    ``{"ready": bool}``; the checks (heads, lags, errors) only with the ops token."""
    report = health.readiness()
    body = report if detailed else {"ready": report["ready"]}
    return JsonResponse(body, status_code=200 if report["ready"] else 503)


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "Prometheus metrics"},
    **errors(401, 429)})
def metrics(_: OpsDep):
    """Prometheus text format; needs the ops token."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
