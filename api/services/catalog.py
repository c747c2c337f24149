"""The catalog's off-chain half: each resource's slug, display name and ordered field list, kept
only where the chain's schema hash vouches for the list."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.domain import schema_hash_hex
from ledger.projection import ResourceState
from ledger.storage.models import ResourceRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResourceMeta:
    """The off-chain half of a catalog entry: slug, display name and field list, with the schema hash
    of that list (the chain holds only the hash, so it alone says whether the list can be trusted)."""

    resource_id: str
    resource_key: str
    name: str
    fields: tuple[str, ...]
    schema_hash: str

    def fields_in(self, mask: int) -> list[str]:
        """The fields a field mask (bit i: the i-th field) names."""
        return [f for i, f in enumerate(self.fields) if mask >> i & 1]


class ResourceStates(Protocol):
    def resource(self, resource_key: str) -> ResourceState | None: ...


class ResourceFields:
    """The field lists by slug and by on-chain key, loaded at start-up and after each registration."""

    def __init__(self, sessions: sessionmaker[Session], chain: Chain):
        self._sessions = sessions
        self._chain = chain
        self._mismatches_logged: set[tuple[str, str]] = set()
        self.by_slug: dict[str, ResourceMeta] = {}
        self.by_key: dict[str, ResourceMeta] = {}

    def require(self, resource_id: str, on_chain: ResourceStates,
                fields: Iterable[str] = ()) -> tuple[ResourceMeta, ResourceState]:
        """The catalogued resource and its chain state, every one of ``fields`` in its list; else the refusal."""
        meta = self.by_slug.get(resource_id)
        state = on_chain.resource(meta.resource_key) if meta else None
        if meta is None or state is None:
            raise refused.UnknownResource(f"no catalog resource {resource_id}")
        unknown = sorted(set(fields) - set(meta.fields))
        if unknown:
            raise refused.UnknownField(f"{resource_id} has no field(s) {', '.join(unknown)}")
        return meta, state

    def reload(self) -> None:
        """Load the field lists, leaving out any whose schema hash the chain contradicts. The hashes are read
        from the contract itself, not from the projection tables: both live in the operator's database."""
        with self._sessions() as session:
            rows = session.scalars(select(ResourceRow)).all()
        metas = [ResourceMeta(r.resource_id, r.resource_key, r.name, tuple(r.fields),
                              schema_hash_hex(tuple(r.fields))) for r in rows]
        on_chain = self._chain_schema_hashes([m.resource_key for m in metas])
        metas = [m for m in metas if on_chain[m.resource_key] is None or self._matches(m, on_chain[m.resource_key])]
        self.by_slug = {m.resource_id: m for m in metas}
        self.by_key = {m.resource_key: m for m in metas}

    def _chain_schema_hashes(self, keys: list[str]) -> dict[str, str | None]:
        """Each resource's schema hash as the Catalog contract holds it now; None if not catalogued."""
        catalog = self._chain.contract("Catalog")
        resource = catalog.abi.function("resource")
        replies = self._chain.rpc.batch([("eth_call", [{"to": catalog.address, "data": resource.encode(
            bytes.fromhex(key[2:]))}, "latest"]) for key in keys])
        hashes: dict[str, str | None] = {}
        for key, reply in zip(keys, replies):
            provider, *_, digest = resource.decode(reply)[0]
            hashes[key] = "0x" + digest.hex() if int(provider, 16) else None
        return hashes

    def _matches(self, meta: ResourceMeta, chain_schema_hash: str) -> bool:
        """False (and logged once) when the chain's schema hash is not that of the field list: masks name
        fields by position, so a list the chain does not vouch for could release other fields."""
        if chain_schema_hash == meta.schema_hash:
            return True
        if (meta.resource_key, chain_schema_hash) not in self._mismatches_logged:
            self._mismatches_logged.add((meta.resource_key, chain_schema_hash))
            log.error("resource %s: the field list's schema hash %s is not the on-chain schema hash %s; "
                      "the resource is treated as unknown", meta.resource_id, meta.schema_hash, chain_schema_hash)
        return False
