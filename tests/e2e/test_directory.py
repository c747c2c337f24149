"""The directory the pages name things with: departments by code and name, the catalog with providers,
and the subjects a key signs for (a citizen's one, an enterprise's 2-of-3), each only to the signed in."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_departments_are_listed_by_code_and_registered_name(clients):
    departments = {d["address"]: d for d in clients("citizen-zhang").get("/v1/departments")["departments"]}
    hrss = departments[clients("dept-hrss").address]
    assert hrss["name"] and hrss["code"] and not hrss["code"].startswith("0x") and hrss["active"] is True


def test_the_catalog_names_each_resource_its_fields_and_its_provider(clients):
    resources = {r["resource_id"]: r for r in clients("dept-hrss").get("/v1/resources")["resources"]}
    pension = resources["hrss.social_insurance"]
    assert {"name", "pension_months"} <= set(pension["fields"])
    assert pension["provider"]["address"] == clients("dept-hrss").address and pension["provider"]["name"]
    assert pension["sharing_class"] and pension["active"] is True


def test_a_signer_sees_its_own_subjects_with_their_threshold(clients):
    [zhang] = clients("citizen-zhang").get("/v1/me/subjects")["subjects"]
    assert zhang["threshold"] == 1 and zhang["signers"] == [clients("citizen-zhang").address]
    [enterprise] = clients("enterprise-agent-1").get("/v1/me/subjects")["subjects"]
    assert enterprise["threshold"] == 2 and len(enterprise["signers"]) == 3
    assert clients("enterprise-agent-1").address in enterprise["signers"]
    assert clients("dept-hrss").get("/v1/me/subjects")["subjects"] == []


@pytest.mark.parametrize("path", ["/v1/departments", "/v1/resources", "/v1/me/subjects"])
def test_the_directory_needs_a_sign_in(clients, path):
    reply = clients("citizen-zhang").request("GET", path, auth=False)
    assert reply.status_code == 401 and reply.json()["error"]["code"]
