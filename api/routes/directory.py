"""Departments, the catalog and my subjects, by name: what a page shows instead of bare addresses."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DirectoryServiceDep, PrincipalDep
from api.schemas.common import SIGNED_IN, errors
from api.schemas.directory import Catalog, DepartmentList, MySubjectList

router = APIRouter(tags=["directory"])


@router.get("/v1/departments", response_model=DepartmentList, responses=errors(*SIGNED_IN))
def departments(_: PrincipalDep, directory: DirectoryServiceDep):
    """Every registered department: address, code and registered name (anyone signed in)."""
    return directory.departments()


@router.get("/v1/resources", response_model=Catalog, responses=errors(*SIGNED_IN))
def catalog(_: PrincipalDep, directory: DirectoryServiceDep):
    """The catalog: each resource's id, name, fields, provider, sharing class and flags (anyone signed in)."""
    return directory.catalog()


@router.get("/v1/me/subjects", response_model=MySubjectList, responses=errors(*SIGNED_IN))
def my_subjects(principal: PrincipalDep, directory: DirectoryServiceDep):
    """The subjects the signed-in key is a bound signer of, each with its kind and k of n signers."""
    return directory.subjects_of(principal.address)
