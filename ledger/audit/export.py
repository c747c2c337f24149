"""The audit export: the whole log and what a verifier needs beside the chain, as JSON Lines.

Line 1 is a header::

    {"format": "consent-ledger-audit/1", "chain_id": 16211,
     "contracts": {"Participants": "0x..", ..., "AuditAnchor": "0x.."}, "deploy_block": 7,
     "exported_at": "2025-10-01T08:00:00.000Z", "tree_size": 3,
     "resources": {"hrss.social_insurance": ["employer", "monthly_base", ...], ...}}

then one line per stored entry, in ``seq`` order: ``{"seq": 0, "leaf": "<canonical JSON text>"}``.
``leaf`` is the leaf's exact text, so its UTF-8 bytes are the bytes that were hashed into the
Merkle tree; a reader must use them as they are, never re-encode the parsed entry. ``seq`` is
the database row's key, informative only: the verifier trusts the ``seq`` inside the leaf and
the line order. A leaf that is not valid UTF-8 (a damaged row) still round-trips byte for byte
(undecodable bytes travel as lone surrogate escapes), so the verifier can name it.

The header's addresses and field lists are claims: the verifier checks the field lists against
the on-chain schema hashes, and whoever runs it should compare the addresses with the published
deployment.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.entry import format_time
from ledger.chain.client import Deployment
from ledger.exceptions import LedgerError
from ledger.storage.models import AuditEntryRow, ResourceRow

__all__ = ["FORMAT", "InvalidExport", "deployment_from_header", "export_audit", "iter_export", "read_export"]

FORMAT = "consent-ledger-audit/1"
_HEADER_KEYS = ("format", "chain_id", "contracts", "deploy_block", "exported_at", "tree_size", "resources")
_BATCH = 2_000


class InvalidExport(LedgerError):
    """An audit export file that is not in the ``consent-ledger-audit/1`` format."""


def _line(value: dict[str, Any]) -> bytes:
    try:
        return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a leaf with undecodable bytes: escape it so the line stays UTF-8
        return (json.dumps(value, separators=(",", ":")) + "\n").encode("ascii")


def export_audit(sessions: sessionmaker[Session], deployment: Deployment, out_file: str | Path | IO[bytes], *,
                 progress: Any = None) -> dict[str, Any]:
    """Write the export of the stored log to ``out_file`` (a path, or a binary stream); return the header.

    Rows are streamed in batches, so memory stays flat for a log of millions of entries. The log
    is cut at the highest ``seq`` present when the export starts: entries appended meanwhile carry
    higher numbers and are left for the next export, so the header's ``tree_size`` matches the
    entry lines. ``progress``, if given, is called with the number of rows written so far.
    """
    if isinstance(out_file, (str, Path)):
        path = Path(out_file)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                header = export_audit(sessions, deployment, fh, progress=progress)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)  # readers never see a half-written export under the final name
        finally:
            tmp.unlink(missing_ok=True)
        return header

    with sessions() as session:
        last, count = session.execute(select(func.max(AuditEntryRow.seq), func.count(AuditEntryRow.seq))).one()
        resources = {row.resource_id: list(row.fields)
                     for row in session.scalars(select(ResourceRow).order_by(ResourceRow.resource_id))}
        header = {
            "format": FORMAT,
            "chain_id": deployment.chain_id,
            "contracts": dict(deployment.contracts),
            "deploy_block": deployment.deploy_block,
            "exported_at": format_time(_dt.datetime.now(_dt.timezone.utc)),
            "tree_size": count,
            "resources": resources,
        }
        out_file.write(_line(header))
        written = 0
        if last is not None:
            rows = session.execute(select(AuditEntryRow.seq, AuditEntryRow.leaf)
                                   .where(AuditEntryRow.seq <= last).order_by(AuditEntryRow.seq)
                                   .execution_options(yield_per=_BATCH))
            for seq, leaf in rows:
                out_file.write(_line({"seq": seq, "leaf": bytes(leaf).decode("utf-8", "surrogateescape")}))
                written += 1
                if progress is not None and written % _BATCH == 0:
                    progress(written)
        if written != count:
            # Rows below the cut can only vanish if someone deletes them while we read.
            raise LedgerError(f"the audit log changed during the export ({count} rows counted, {written} read)")
        if progress is not None:
            progress(written)
    return header


def _parse_header(text: bytes, source: str) -> dict[str, Any]:
    try:
        header = json.loads(text)
    except ValueError as exc:
        raise InvalidExport(f"{source}: the first line is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidExport(f"{source}: not an audit export (the first line must have \"format\": \"{FORMAT}\")")
    missing = [k for k in _HEADER_KEYS if k not in header]
    if missing:
        raise InvalidExport(f"{source}: the header lacks {', '.join(missing)}")
    for key in ("chain_id", "deploy_block", "tree_size"):
        if isinstance(header[key], bool) or not isinstance(header[key], int) or header[key] < 0:
            raise InvalidExport(f"{source}: header {key} must be a non-negative integer")
    contracts = header["contracts"]
    if not isinstance(contracts, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in contracts.items()):
        raise InvalidExport(f"{source}: header contracts must map contract names to addresses")
    resources = header["resources"]
    if not isinstance(resources, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(f, str) for f in v)
            for k, v in resources.items()):
        raise InvalidExport(f"{source}: header resources must map resource ids to lists of field names")
    return header


def iter_export(stream: IO[bytes], source: str = "export", start: int = 0) -> tuple[dict[str, Any],
                                                                                   Iterator[tuple[int, bytes]]]:
    """The header and an iterator of ``(seq, leaf bytes)`` in file order, reading line by line; the
    first ``start`` entry lines are skipped unparsed (an incremental verification's verified part)."""
    first = stream.readline()
    if not first:
        raise InvalidExport(f"{source}: empty file")
    header = _parse_header(first, source)

    def entries() -> Iterator[tuple[int, bytes]]:
        skipped = 0
        for number, raw in enumerate(stream, start=2):
            if not raw.strip():
                continue
            if skipped < start:
                skipped += 1
                continue
            try:
                line = json.loads(raw)
            except ValueError as exc:
                raise InvalidExport(f"{source} line {number}: not JSON: {exc}") from None
            if not isinstance(line, dict):
                raise InvalidExport(f"{source} line {number}: expected an object with seq and leaf")
            seq, leaf = line.get("seq"), line.get("leaf")
            if isinstance(seq, bool) or not isinstance(seq, int) or not isinstance(leaf, str):
                raise InvalidExport(f"{source} line {number}: expected an integer seq and a string leaf")
            try:
                yield seq, leaf.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raise InvalidExport(f"{source} line {number}: leaf holds an invalid surrogate escape") from None

    return header, entries()


def read_export(path: str | Path, start: int = 0) -> tuple[dict[str, Any], list[bytes], dict[str, list[str]]]:
    """Read an export: ``(header, leaves, resource_fields)``, leaves in file order as exact bytes, from
    the ``start``-th on.

    The number of leaves is not checked against the header's ``tree_size``: a short file is a
    finding for the verifier to report, not a reason to refuse to look at it.
    """
    with open(path, "rb") as fh:
        header, entries = iter_export(fh, str(path), start)
        leaves = [leaf for _seq, leaf in entries]
    resources = {slug: list(fields) for slug, fields in header["resources"].items()}
    return header, leaves, resources


def deployment_from_header(header: dict[str, Any]) -> Deployment:
    """The deployment an export claims: chain id, addresses and deploy block (no code hash)."""
    from eth_utils import to_checksum_address

    try:
        contracts = {name: to_checksum_address(address) for name, address in header["contracts"].items()}
    except ValueError as exc:
        raise InvalidExport(f"header contracts: {exc}") from None
    return Deployment(int(header["chain_id"]), int(header["deploy_block"]), "", contracts)
