"""Names for what the chain knows by address or key: the departments, the catalog of resources and the
subjects a key signs for, read from the indexed projection tables (bounded: a city has hundreds of
departments and resources, and a key signs for a handful of subjects)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.schemas.directory import (Catalog, CatalogResource, Department, DepartmentList, MySubject,
                                   MySubjectList)
from api.schemas.notifications import DepartmentRef
from ledger.domain import department_code_text
from ledger.storage.models import DepartmentRow, ResourceRow, SubjectRow, SubjectSignerRow

#: More than any city registers; the lists are cut there rather than grow without bound.
MAX_LISTED = 5000
#: Subjects one key may sign for that are listed (an agent of many enterprises sees the first ones).
MAX_SUBJECTS_PER_SIGNER = 200


class DirectoryService:
    def __init__(self, *, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def departments(self) -> DepartmentList:
        with self._sessions() as session:
            rows = session.scalars(select(DepartmentRow).order_by(DepartmentRow.name).limit(MAX_LISTED))
            return DepartmentList(departments=[
                Department(address=r.address, code=department_code_text(r.code), name=r.name, active=r.active)
                for r in rows])

    def catalog(self) -> Catalog:
        with self._sessions() as session:
            departments = {r.address: r for r in session.scalars(select(DepartmentRow).limit(MAX_LISTED))}
            rows = session.scalars(select(ResourceRow).where(ResourceRow.on_chain.is_(True))
                                   .order_by(ResourceRow.resource_id).limit(MAX_LISTED))
            return Catalog(resources=[_resource(r, departments.get(r.provider or "")) for r in rows])

    def subjects_of(self, signer: str) -> MySubjectList:
        with self._sessions() as session:
            ids = list(session.scalars(select(SubjectSignerRow.subject_id).where(SubjectSignerRow.signer == signer)
                                       .order_by(SubjectSignerRow.subject_id).limit(MAX_SUBJECTS_PER_SIGNER)))
            if not ids:
                return MySubjectList(subjects=[])
            subjects = {r.subject_id: r for r in session.scalars(select(SubjectRow).where(SubjectRow.subject_id.in_(ids)))}
            signers: dict[str, list[str]] = {}
            for subject_id, address in session.execute(
                    select(SubjectSignerRow.subject_id, SubjectSignerRow.signer)
                    .where(SubjectSignerRow.subject_id.in_(ids)).order_by(SubjectSignerRow.signer)):
                signers.setdefault(subject_id, []).append(address)
        return MySubjectList(subjects=[
            MySubject(subject_id=i, kind=subjects[i].kind, threshold=subjects[i].threshold, signers=signers.get(i, []))
            for i in ids if i in subjects])


def _resource(row: ResourceRow, provider: DepartmentRow | None) -> CatalogResource:
    ref = None
    if row.provider:
        ref = DepartmentRef(address=row.provider, code=department_code_text(provider.code) if provider else None,
                            name=provider.name if provider else None)
    return CatalogResource(resource_id=row.resource_id, name=row.name, fields=list(row.fields), provider=ref,
                           sharing_class=row.sharing_class, sensitive=row.sensitive, active=row.active)
