"""`consent-ledger records`: a provider department's bulk record upload through the API."""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ledger.cli._failure import Failure
from ledger.config import API_HOST, API_PORT
from ledger.settings import Settings, pass_settings

if TYPE_CHECKING:
    from ledger.keystore import Keystore

_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_FIELD = re.compile(r"[a-z][a-z0-9_]*\Z")
_SUBJECT_KEYS = ("id_type", "id_number")
#: Failures listed in the summary; the counts cover all of them.
_SHOWN_ERRORS = 10
_KEPT_ERRORS = 1_000
#: Answers that will be the same for every record (not the provider, no such resource, no access).
_FATAL_STATUS = (401, 403, 404)
_RETRY_STATUS = (429, 502, 503, 504)
_ATTEMPTS = 5


@dataclass(slots=True)
class _Outcome:
    line: int
    status: int | None = None  # None: sent and stored
    code: str = ""
    message: str = ""


@click.group("records")
def command() -> None:
    """Records held for provider departments: bulk import through the API."""


@command.command("import")
@click.option("--api", "api_url", default=None, show_default=f"http://{API_HOST}:{API_PORT}",
              help="base URL of the API (or $CONSENT_LEDGER_API_URL)")
@click.option("--key-name", required=True,
              help="keystore key of the provider department (password: $CONSENT_LEDGER_KEY_PASSWORD)")
@click.option("--resource", "slug", required=True, help="catalog resource id, e.g. hrss.social_insurance")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="file format (default: from the extension .csv, .jsonl or .ndjson)")
@click.option("--workers", type=click.IntRange(1, 32), default=4, show_default=True,
              help="requests in flight at once")
@click.option("--dry-run", is_flag=True, help="parse and check the file, send nothing")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@pass_settings
def import_(settings: Settings, api_url: str | None, key_name: str, slug: str, fmt: str | None, workers: int,
            dry_run: bool, file: Path) -> None:
    """Upload every record of FILE to the resource: PUT /v1/resources/{resource}/records.

    \b
    CSV: a header `id_type,id_number,<field>,...`, then one record per row.
      Cells are sent as strings, except:
        - integers that read back identically (42, -7; not 007, +5, 1e3) become numbers,
        - decimals that read back identically (3.14, -0.5; not 1.50, 1e5, nan) become numbers,
        - exactly `true` / `false` become booleans,
        - empty cells are left out, so the stored value of that field is kept.
      id_type and id_number are always strings. Cells are not trimmed. UTF-8 (a BOM is allowed).
    JSON Lines (.jsonl, .ndjson): one {"id_type", "id_number", "data": {...}} per line, sent as is.

    Signs in with SIWE as the key's department; a progress bar shows on stderr. Prints how many
    records were stored and failed, with the first errors by line number. Exit code: 0 all
    stored, 1 some failed (or the import stopped on an error every record would hit), 2 usage,
    file or connection error before the import started.
    """
    fmt = fmt or _FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise Failure(f"cannot tell the format of {file.name}: name it .csv, .jsonl or .ndjson, or pass --format")
    records = _read_csv(file) if fmt == "csv" else _read_jsonl(file)
    first = next(records, None)  # surfaces a bad CSV header before signing in
    if first is None:
        raise Failure(f"{file} holds no records")
    total = _count_records(file, fmt)

    from tqdm import tqdm

    if dry_run:
        ok = failed = 0
        shown: list[_Outcome] = []
        for outcome in _chain_first(first, records):
            if isinstance(outcome, _Outcome):
                failed += 1
                if len(shown) < _SHOWN_ERRORS:
                    shown.append(outcome)
            else:
                ok += 1
        _report(ok, failed, shown, verb="valid", stopped=None)
        sys.exit(1 if failed else 0)

    from ledger.keystore import Keystore

    uploader = _Uploader(api_url or settings.api_url, Keystore.from_settings(settings), key_name, slug)
    ok = failed = 0
    errors: list[_Outcome] = []
    stopped: _Outcome | None = None
    bar = tqdm(total=total, unit=" rec", desc=f"importing {slug}", file=sys.stderr, disable=None, dynamic_ncols=True)

    def settle(outcome: _Outcome) -> None:
        nonlocal ok, failed, stopped
        bar.update(1)
        if outcome.status is None:
            ok += 1
            return
        failed += 1
        if len(errors) < _KEPT_ERRORS:
            errors.append(outcome)
        if outcome.status in _FATAL_STATUS and stopped is None:
            stopped = outcome

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
            in_flight: dict[Future, tuple[str, str]] = {}
            subjects: set[tuple[str, str]] = set()

            def drain(until: int, subject: tuple[str, str] | None = None) -> None:
                while in_flight and (len(in_flight) > until or subject in subjects):
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        subjects.discard(in_flight.pop(future))
                        settle(future.result())

            for item in _chain_first(first, records):
                if stopped is not None:
                    break
                if isinstance(item, _Outcome):  # a line that could not be parsed
                    settle(item)
                    continue
                line, body = item
                subject = (body["id_type"], body["id_number"])
                # Two rows about one subject are sent in file order: the later one must win.
                drain(workers * 2 - 1, subject)
                in_flight[pool.submit(uploader.put, line, body)] = subject
                subjects.add(subject)
            drain(0)
    finally:
        bar.close()
        uploader.close()
    errors.sort(key=lambda o: o.line)
    _report(ok, failed, errors[:_SHOWN_ERRORS], verb="stored", stopped=stopped,
            remaining=max(0, total - ok - failed))
    sys.exit(1 if failed or stopped else 0)


def _chain_first(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _report(ok: int, failed: int, shown: list[_Outcome], *, verb: str, stopped: _Outcome | None,
            remaining: int = 0) -> None:
    click.echo(f"{ok} record(s) {verb}, {failed} failed", err=True)
    for outcome in shown:
        click.echo(f"  line {outcome.line}: {outcome.code}: {outcome.message}", err=True)
    if failed > len(shown):
        click.echo(f"  ... and {failed - len(shown)} more", err=True)
    if stopped is not None:
        left = f"; about {remaining} record(s) were not sent" if remaining else ""
        click.echo(f"stopped at line {stopped.line}: {stopped.code} would refuse every remaining record{left}",
                   err=True)


# -- reading ---------------------------------------------------------------------------------------------------------


def _cell(text: str) -> Any:
    """A CSV cell as a JSON value: numbers and booleans only when they read back exactly as written."""
    if text in ("true", "false"):
        return text == "true"
    try:
        if str(int(text)) == text:
            return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) and repr(number) == text else text


def _read_csv(path: Path) -> Iterator[tuple[int, dict] | _Outcome]:
    handle = open(path, newline="", encoding="utf-8-sig")
    try:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise Failure(f"{path}: unreadable CSV header: {exc}") from exc
        header = [name.strip() for name in header]
        if header[:2] != list(_SUBJECT_KEYS) or len(header) < 3:
            raise Failure(f"{path}: the header must be id_type,id_number,<field>,... (got {','.join(header)})")
        fields = header[2:]
        bad = [name for name in fields if not _FIELD.match(name)]
        if bad:
            raise Failure(f"{path}: field names must be lower-case snake_case: {', '.join(bad)}")
        if len(set(fields)) != len(fields):
            raise Failure(f"{path}: a field appears twice in the header")
        line = reader.line_num
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield _Outcome(start, 0, "INVALID_LINE", str(exc))
                return  # the reader cannot resynchronize after a broken quote or bad encoding
            line = reader.line_num
            if not row or all(not cell for cell in row):
                continue
            if len(row) != len(header):
                yield _Outcome(start, 0, "INVALID_LINE", f"{len(row)} cells; the header has {len(header)}")
                continue
            data = {name: _cell(value) for name, value in zip(fields, row[2:]) if value != ""}
            if not data:
                yield _Outcome(start, 0, "EMPTY_RECORD", "every field is empty")
                continue
            yield start, {"id_type": row[0], "id_number": row[1], "data": data}
    finally:
        handle.close()


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict] | _Outcome]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError as exc:
                yield _Outcome(number, 0, "INVALID_LINE", f"not JSON: {exc}")
                continue
            if not isinstance(value, dict) or set(value) != {"id_type", "id_number", "data"}:
                yield _Outcome(number, 0, "INVALID_LINE", "expected exactly {\"id_type\", \"id_number\", \"data\"}")
                continue
            if not isinstance(value["id_type"], str) or not isinstance(value["id_number"], str) \
                    or not isinstance(value["data"], dict):
                yield _Outcome(number, 0, "INVALID_LINE", "id_type and id_number must be strings, data an object")
                continue
            yield number, value


def _count_records(path: Path, fmt: str) -> int:
    """Non-blank lines (less the CSV header): exact unless CSV cells hold line breaks."""
    with open(path, "rb") as handle:
        count = sum(1 for raw in handle if raw.strip())
    return max(0, count - 1) if fmt == "csv" else count


# -- sending ---------------------------------------------------------------------------------------------------------


class _Uploader:
    """One signed-in API client shared by the worker threads; signs in again when the token expires."""

    def __init__(self, api_url: str, keys: "Keystore", key_name: str, slug: str):
        import httpx

        from ledger.client import ApiClient, ApiClientError
        from ledger.exceptions import KeystoreError

        try:
            account = keys.load(key_name)
        except KeystoreError as exc:
            raise Failure(str(exc)) from exc
        self.path = f"/v1/resources/{slug}/records"
        self.client = ApiClient(api_url.rstrip("/"), account)
        self._login_lock = threading.Lock()
        self._generation = 0
        try:
            self.client.login()
        except ApiClientError as exc:
            self.client.close()
            raise Failure(f"sign-in as {account.address} failed: {exc}") from exc
        except httpx.HTTPError as exc:
            self.client.close()
            raise Failure(f"the API at {api_url} is unreachable: {exc}") from exc

    def _relogin(self, seen: int) -> None:
        with self._login_lock:
            if self._generation == seen:  # another thread may have signed in already
                self.client.login()
                self._generation += 1

    def put(self, line: int, body: dict) -> _Outcome:
        import httpx

        from ledger.client import ApiClientError

        relogged = False
        for attempt in range(_ATTEMPTS):
            generation = self._generation
            try:
                response = self.client.request("PUT", self.path, body)
            except httpx.HTTPError as exc:
                if attempt + 1 == _ATTEMPTS:
                    return _Outcome(line, 0, "CONNECTION_ERROR", str(exc))
                time.sleep(0.2 * 2 ** attempt)
                continue
            if response.status_code < 400:
                return _Outcome(line)
            if response.status_code == 401 and not relogged:
                relogged = True
                try:
                    self._relogin(generation)
                except (ApiClientError, httpx.HTTPError) as exc:
                    return _Outcome(line, 401, "SIGN_IN_FAILED", str(exc))
                continue
            if response.status_code in _RETRY_STATUS and attempt + 1 < _ATTEMPTS:
                time.sleep(0.2 * 2 ** attempt)
                continue
            error = ApiClientError(response)
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            return _Outcome(line, response.status_code, error.code, message)
        return _Outcome(line, 0, "GAVE_UP", "no answer after retries")

    def close(self) -> None:
        self.client.close()
