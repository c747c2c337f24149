"""The directory a page needs to name things: departments, the catalog, and the subjects a key signs for."""

from __future__ import annotations

from api.schemas.common import Reply
from api.schemas.notifications import DepartmentRef


class Department(Reply):
    address: str
    code: str | None
    name: str
    active: bool


class DepartmentList(Reply):
    departments: list[Department]


class CatalogResource(Reply):
    resource_id: str
    name: str
    fields: list[str]
    provider: DepartmentRef | None
    sharing_class: str | None
    sensitive: bool | None
    active: bool


class Catalog(Reply):
    resources: list[CatalogResource]


class MySubject(Reply):
    """A subject the signed-in key signs for: its pseudonymous id, kind, and k of its n signers."""

    subject_id: str
    kind: str
    threshold: int
    signers: list[str]


class MySubjectList(Reply):
    subjects: list[MySubject]
