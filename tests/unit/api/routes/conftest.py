"""The real application (``create_app``: routes, dependencies, error handlers, middleware) over
fake services, driven through FastAPI's ``TestClient``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.support.fake_services import FakeServices, fake_settings


@pytest.fixture
def services(tmp_path) -> FakeServices:
    return FakeServices(fake_settings(tmp_path))


@pytest.fixture
def app(services):
    return create_app(services.settings, services=services)


@pytest.fixture
def client(app):
    with TestClient(app) as test_client:  # runs the lifespan: services start and stop
        yield test_client
