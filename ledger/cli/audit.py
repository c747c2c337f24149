"""`consent-ledger audit`: export the audit log (operator) and verify an export against the chain (regulator)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ledger.cli._failure import Failure
from ledger.settings import DEFAULT_MAX_ANCHOR_LAG_SECONDS, DEFAULT_VERIFY_RUN_ENTRIES, Settings, pass_settings

#: Problems listed in the readable report; --json always carries all of them.
_SHOWN_PROBLEMS = 100


@click.group("audit")
def command() -> None:
    """Export the audit log, and verify an export against the chain."""


def _trusted_chain_options(command):
    """``--rpc``, ``--deployment`` and ``--contract``: the chain to check against, and the contract
    addresses the checker trusts on it (never the operator's word)."""
    options = (
        click.option("--rpc", default=None,
                     help="JSON-RPC URL of the chain (default: $CONSENT_LEDGER_RPC_URL or the devnet gateway)"),
        click.option("--deployment", "deployment_path", default=None,
                     type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
                     help="a deployment.json you trust (the published deployment): its chain, addresses and deploy "
                          "block"),
        click.option("--contract", "contract_flags", multiple=True, metavar="NAME=ADDRESS",
                     help="a contract address you trust, e.g. --contract Consents=0x...; overrides --deployment, or, "
                          "one per contract without it, stands in for it (the chain is then read from block 0)"))
    for option in reversed(options):
        command = option(command)
    return command


@command.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="file to write (JSON Lines, consent-ledger-audit/1); '-' for stdout")
@pass_settings
def export(settings: Settings, out: Path) -> None:
    """Export the whole audit log of this node, with the deployment and the resources' field lists.

    Reads the database under the data dir ($CONSENT_LEDGER_HOME, or $CONSENT_LEDGER_DATABASE_URL)
    and deployment.json. The file is what `audit verify` needs besides the chain RPC.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from tqdm import tqdm

    from ledger.audit.export import export_audit
    from ledger.chain.client import Deployment, deployment_path
    from ledger.exceptions import LedgerError
    from ledger.storage.database import make_engine, make_sessionmaker

    try:
        deployment = Deployment.load(deployment_path(settings.data_dir))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    url = settings.database_url
    default_url = f"sqlite:///{settings.data_dir / 'ledger.db'}"
    if url == default_url and not Path(url.removeprefix("sqlite:///")).exists():
        raise click.ClickException(f"no ledger database at {url.removeprefix('sqlite:///')}")
    engine = make_engine(url)
    bar = tqdm(desc="exporting", unit=" entries", file=sys.stderr, disable=None, leave=False)

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        target = sys.stdout.buffer if str(out) == "-" else out
        header = export_audit(make_sessionmaker(engine), deployment, target, progress=progress)
    except (LedgerError, SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"export failed: {exc}") from exc
    finally:
        bar.close()
        engine.dispose()
    click.echo(f"exported {header['tree_size']} audit entries (chain {header['chain_id']}) to "
               f"{'stdout' if str(out) == '-' else out}", err=True)


@command.command("migrate")
@pass_settings
def migrate_log(settings: Settings) -> None:
    """Bring the database to the current schema and integrate every committed entry into the log's tiles.

    A log from before tlog-tiles keeps its entries; this builds their tiles and signs a checkpoint,
    with a progress bar, so the service starts with nothing to catch up on. Run it with the service
    stopped (it takes the integrator lease, which a running leader holds). Safe to run again.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from tqdm import tqdm

    from ledger.audit.integrate import Integrator, log_origin
    from ledger.audit.lease import Lease
    from ledger.audit.note import NoteSigner
    from ledger.chain.client import Deployment, deployment_path
    from ledger.exceptions import LedgerError
    from ledger.storage.database import make_engine, migrate
    from ledger.storage.models import AuditSequenceRow
    from ledger.storage.sealing import load_or_create_secret

    try:
        deployment = Deployment.load(deployment_path(settings.data_dir))
        origin = log_origin(deployment.chain_id, deployment.contracts["AuditAnchor"])
        signer = NoteSigner.from_seed(origin, load_or_create_secret(settings.data_dir / "secrets" / "log-ed25519.key"))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = make_engine(settings.database_url)
    lease = Lease(engine, "integrator", "audit-migrate")
    bar = None
    try:
        migrate(engine)
        if not lease.hold():
            raise click.ClickException("another process integrates this log (a running service?): stop it first")
        with engine.connect() as connection:
            total = connection.scalar(AuditSequenceRow.__table__.select().with_only_columns(AuditSequenceRow.next_seq))
        integrator = Integrator(engine, lease, signer, origin)
        bar = tqdm(total=total, desc="integrating", unit=" entries", file=sys.stderr, disable=None)
        checkpoint = integrator.integrate_all(progress=lambda size: bar.update(size - bar.n))
    except (LedgerError, SQLAlchemyError) as exc:
        raise click.ClickException(f"migration failed: {exc}") from exc
    finally:
        if bar is not None:
            bar.close()
        lease.release()
        engine.dispose()
    size = checkpoint.size if checkpoint else integrator.size
    click.echo(f"the log holds {total} entries; its tiles and checkpoint cover {size}", err=True)


@command.command("verify")
@click.option("--export", "export_path", default=None,
              type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
              help="an export written by `consent-ledger audit export`")
@click.option("--database", "from_database", is_flag=True,
              help="read the log from this node's database ($CONSENT_LEDGER_DATABASE_URL or the data dir) instead "
                   "of an export, with the leaf hashes its tiles committed")
@click.option("--state", "state_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="incremental: check only the entries after the tree head this state file verified, then move "
                   "it to the newest anchored head; a missing file means a full verification that writes it")
@_trusted_chain_options
@click.option("--trust-export-addresses", is_flag=True,
              help="verify against the addresses the export (or the node's deployment.json) claims: the result "
                   "then proves nothing about the operator, and the report says so")
@click.option("--max-anchor-lag", type=float, default=DEFAULT_MAX_ANCHOR_LAG_SECONDS, show_default=True,
              help="seconds an entry may wait for an anchor before the unanchored tail is a problem")
@click.option("--no-policy", is_flag=True, help="check integrity and anchors only, not each release against the "
                                                "policy at its block")
@click.option("--run-entries", type=click.IntRange(min=1), default=DEFAULT_VERIFY_RUN_ENTRIES,
              show_default=True,
              help="entries checked at a time, each run ending at an anchored tree head: what memory holds decoded")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.pass_context
@pass_settings
def verify(settings: Settings, ctx: click.Context, export_path: Path | None, from_database: bool,
           state_path: Path | None, rpc: str | None, deployment_path: Path | None, contract_flags: tuple[str, ...],
           trust_export_addresses: bool, max_anchor_lag: float, no_policy: bool, run_entries: int,
           as_json: bool) -> None:
    """Re-verify the audit log (an export, or --database) using nothing but the chain.

    Checks that the contracts at the trusted addresses run the ledger's compiled code and are wired
    to each other, that every entry decodes and stands at its seq, that every tree head anchored
    on-chain is the root of the log's prefix, that anchors link up and only grow, that each
    entry's block and time agree with the chain's block timestamps, that no entry waits for an
    anchor longer than --max-anchor-lag, and (unless --no-policy) that every release was allowed by
    the policy at its block, from the contracts' own events.

    With --state, only the entries after the state's tree head are read and checked, after the
    consistency proof from that head to the newest anchored one; the state moves on only when
    the run finds nothing wrong. A state of another log is refused.

    The contract addresses must come from you (--deployment or --contract), not from the export:
    the operator writes the export. --trust-export-addresses overrides this, loudly.

    Exit code: 0 verified, 1 problems found, 2 usage, input or connection error.
    """
    from ledger.audit.export import InvalidExport, deployment_from_header, read_export
    from ledger.audit.incremental import InvalidState, VerifierState
    from ledger.audit.trail import Problem
    from ledger.chain.client import Deployment, deployment_path as node_deployment_path
    from ledger.exceptions import LedgerError

    if (export_path is None) == (not from_database):
        raise Failure("give the log to verify: --export FILE or --database (one of them)")
    url = rpc or settings.rpc_url
    try:
        state = VerifierState.load(state_path) if state_path is not None and state_path.exists() else None
    except InvalidState as exc:
        raise Failure(str(exc)) from exc
    start = state.size if state is not None else 0
    reference = None
    try:
        if from_database:
            header = None
            claimed = Deployment.load(node_deployment_path(settings.data_dir))
        else:
            header, leaves, resource_fields = read_export(export_path, start)
            claimed = deployment_from_header(header)
        trusted = _trusted_deployment(deployment_path, contract_flags, claimed.chain_id)
    except (InvalidExport, OSError) as exc:
        raise Failure(str(exc)) from exc
    except (LedgerError, KeyError, ValueError) as exc:  # a malformed --deployment file
        raise Failure(f"{deployment_path}: {exc}") from exc
    if trusted is None and not trust_export_addresses:
        raise Failure("no trusted contract addresses: pass --deployment FILE (the published deployment) or "
                       "--contract NAME=ADDRESS for each contract; --trust-export-addresses verifies against the "
                       "addresses the export claims, which proves nothing about whoever wrote the export")

    extra: list[Problem] = []
    deployment = claimed
    if trusted is not None:
        deployment = trusted
        if claimed.chain_id != trusted.chain_id or claimed.contracts != trusted.contracts:
            extra.append(Problem("DEPLOYMENT_MISMATCH", f"the log names chain {claimed.chain_id} and contracts "
                                                        f"{claimed.contracts}, not the trusted deployment"))
    chain = _connect(url, deployment)
    anchors_until = None
    engine = None
    if from_database:  # a live log: fix the anchors that count before reading the leaves they cover
        try:
            try:
                anchors_until = chain.block_number()
            except LedgerError as exc:
                raise Failure(f"cannot read the chain at {url}: {exc}") from exc
            engine, (leaves, reference, resource_fields) = _read_database(settings, start)
        except Failure:
            chain.close()
            raise
    if header is not None and start + len(leaves) != header["tree_size"]:
        extra.append(Problem("EXPORT_SIZE_MISMATCH", f"the header announces {header['tree_size']} entries; the file "
                                                     f"holds {start + len(leaves)}",
                             min(start + len(leaves), header["tree_size"])))

    if not as_json:
        click.echo(f"checking {len(leaves)} entries (from seq {start}) against chain {deployment.chain_id} at "
                   f"{url} ...", err=True)
    if trusted is None:
        click.echo(click.style(_UNTRUSTED, fg="red", bold=True), err=True)
    try:
        report, new_state = _run(chain, state, state_path, leaves, resource_fields, reference, anchors_until,
                                 check_policies=not no_policy, max_anchor_lag=max_anchor_lag, run_entries=run_entries)
    finally:
        chain.close()
        if engine is not None:
            engine.dispose()
    report.problems[:0] = extra
    if extra:
        new_state = None
    if new_state is not None:
        try:
            new_state.save(state_path)
        except OSError as exc:
            raise Failure(f"cannot write the state {state_path}: {exc}") from exc

    source = {"database": settings.database_url.split("@")[-1]} if from_database else {
        "export": {"path": str(export_path), "exported_at": header["exported_at"], "tree_size": header["tree_size"]}}
    if as_json:
        body = report.as_dict() | {
            "policy_checked": not no_policy, "chain_id": deployment.chain_id, "rpc": url,
            "contracts": deployment.contracts, "addresses_trusted": trusted is not None, "from_size": start,
            **source, **({"state": {"path": str(state_path), "written": new_state is not None,
                                   "verified_size": (new_state or state).size if (new_state or state) else 0}}
                         if state_path is not None else {})}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        _print_report(report, source, start, deployment, url, no_policy, trusted is not None, state_path, new_state)
    ctx.exit(0 if report.ok else 1)


@command.command("log-key")
@pass_settings
def log_key(settings: Settings) -> None:
    """Print the log's public key (a C2SP note verifier key), for the operator to publish: regulators
    and citizens check checkpoints and proof bundles with it."""
    from ledger.audit.integrate import log_origin
    from ledger.audit.note import NoteSigner
    from ledger.chain.client import Deployment, deployment_path
    from ledger.exceptions import LedgerError
    from ledger.storage.sealing import load_or_create_secret

    key_file = settings.data_dir / "secrets" / "log-ed25519.key"
    if not key_file.exists():
        raise Failure(f"this node has no log key yet ({key_file}): it is made when the service first starts")
    try:
        deployment = Deployment.load(deployment_path(settings.data_dir))
    except LedgerError as exc:
        raise Failure(str(exc)) from exc
    origin = log_origin(deployment.chain_id, deployment.contracts["AuditAnchor"])
    click.echo(NoteSigner.from_seed(origin, load_or_create_secret(key_file)).verifier.encode())


@command.command("verify-bundle")
@click.argument("bundle_path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, readable=True,
                                                              allow_dash=True, path_type=Path))
@click.option("--log-key", required=True, metavar="VKEY",
              help="the log's public key as its operator published it (`consent-ledger audit log-key`)")
@_trusted_chain_options
@click.option("--json", "as_json", is_flag=True, help="print the verdict as JSON")
@pass_settings
def verify_bundle_command(settings: Settings, bundle_path: Path, log_key: str, rpc: str | None,
                          deployment_path: Path | None, contract_flags: tuple[str, ...], as_json: bool) -> None:
    """Check an offline proof bundle (GET /v1/audit/entries/{seq}/bundle) with nothing but the chain
    and the log's public key: the checkpoint's signature, the entry's inclusion in it, and the
    anchoring transaction of the trusted AuditAnchor. Exit 0 when it holds, 1 when it does not."""
    from ledger.audit.bundle import verify_bundle
    from ledger.audit.note import NoteVerifier
    from ledger.exceptions import InvalidBundle, LedgerError, NoteError

    try:
        verifier = NoteVerifier.parse(log_key)
    except NoteError as exc:
        raise Failure(f"--log-key: {exc}") from exc
    try:
        raw = sys.stdin.buffer.read() if str(bundle_path) == "-" else bundle_path.read_bytes()
        claimed = json.loads(raw).get("anchor", {}).get("chain_id") if raw.strip().startswith(b"{") else None
    except (OSError, ValueError) as exc:
        raise Failure(f"{bundle_path}: cannot read the bundle: {exc}") from exc
    try:
        trusted = _trusted_deployment(deployment_path, contract_flags, claimed if isinstance(claimed, int) else 0)
    except (LedgerError, KeyError, ValueError) as exc:
        raise Failure(f"{deployment_path}: {exc}") from exc
    if trusted is None:
        raise Failure("no trusted contract addresses: pass --deployment FILE (the published deployment) or "
                      "--contract NAME=ADDRESS for each contract")
    chain = _connect(rpc or settings.rpc_url, trusted)
    try:
        verdict = verify_bundle(raw, chain, verifier)
    except InvalidBundle as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "problem": str(exc)}))
        else:
            click.echo(click.style(f"NOT PROVEN: {exc}", fg="red"))
        raise SystemExit(1) from None
    finally:
        chain.close()
    entry = verdict.entry
    if as_json:
        click.echo(json.dumps({"ok": True, "entry": entry.as_dict(), "tree_size": verdict.tree_size,
                               "root_hash": verdict.root.hex(), "tx_hash": verdict.tx_hash,
                               "block_number": verdict.block_number, "block_time": verdict.block_time}))
        return
    click.echo(click.style("OK", fg="green") + f": entry {entry.seq} is in the log's tree of {verdict.tree_size} "
               f"entries, anchored on chain {trusted.chain_id} in block {verdict.block_number} "
               f"(transaction {verdict.tx_hash})")
    click.echo(f"  {entry.as_dict()['time']}  {entry.decision} ({entry.reason})  requester {entry.requester}  "
               f"resource {entry.resource}  purpose {entry.purpose}  fields {', '.join(entry.fields)}")


def _read_database(settings: Settings, start: int):
    from sqlalchemy.exc import SQLAlchemyError

    from ledger.audit.jobs import read_stored_log
    from ledger.exceptions import LedgerError
    from ledger.storage.database import make_engine

    engine = make_engine(settings.database_url)
    try:
        return engine, read_stored_log(engine, start)  # the leaves are read run by run, over the engine
    except (SQLAlchemyError, LedgerError) as exc:
        engine.dispose()
        raise Failure(f"cannot read the log from the database: {exc}") from exc


_UNTRUSTED = ("UNTRUSTED: the contract addresses are the export's own claim (--trust-export-addresses); this "
              "result says nothing about an operator who could have named contracts of their own")


def _trusted_deployment(path: Path | None, flags: tuple[str, ...], chain_id: int):
    """The deployment the regulator vouches for, from --deployment and/or --contract; None if neither."""
    from eth_utils import to_checksum_address

    from ledger.chain.client import Deployment
    from ledger.compiler import DEPLOYED_CONTRACTS

    base = Deployment.load(path) if path else None
    if not flags:
        return base
    named = {}
    for flag in flags:
        name, sep, address = flag.partition("=")
        if not sep or name not in DEPLOYED_CONTRACTS:
            raise Failure(f"--contract {flag}: expected NAME=ADDRESS with NAME one of {', '.join(DEPLOYED_CONTRACTS)}")
        try:
            named[name] = to_checksum_address(address)
        except ValueError:
            raise Failure(f"--contract {flag}: {address!r} is not an address") from None
    if base is None:
        missing = [n for n in DEPLOYED_CONTRACTS if n not in named]
        if missing:
            raise Failure(f"without --deployment, give --contract for every contract (missing: {', '.join(missing)})")
        return Deployment(chain_id, 0, "", named)
    return Deployment(base.chain_id, base.deploy_block, base.code_hash, {**base.contracts, **named})


def _connect(url: str, deployment):
    """A chain client for ``deployment``, after checking the RPC serves that chain and the contracts exist."""
    from ledger.chain.client import Chain
    from ledger.compiler import DEPLOYED_CONTRACTS as _CONTRACTS
    from ledger.exceptions import LedgerError

    missing = [name for name in _CONTRACTS if name not in deployment.contracts]
    if missing:
        raise Failure(f"the deployment lacks the address of {', '.join(missing)}")
    try:
        chain = Chain(url, deployment=deployment)
    except LedgerError as exc:  # contract ABIs could not be built
        raise Failure(str(exc)) from exc
    try:
        if chain.chain_id != deployment.chain_id:
            raise Failure(f"{url} serves chain {chain.chain_id}, but the audit log belongs to chain "
                           f"{deployment.chain_id}")
        codes = chain.rpc.batch([("eth_getCode", [deployment.contracts[name], "latest"]) for name in _CONTRACTS])
    except LedgerError as exc:
        chain.close()
        raise Failure(f"cannot read the chain at {url}: {exc}") from exc
    except Failure:
        chain.close()
        raise
    empty = [f"{name} {deployment.contracts[name]}" for name, code in zip(_CONTRACTS, codes)
             if code in (None, "0x", "0x0")]
    if empty:
        chain.close()
        raise Failure(f"no contract code on chain {deployment.chain_id} at: {'; '.join(empty)} (wrong --rpc, or "
                       f"a deployment that is not this chain's)")
    return chain


def _run(chain, state, state_path, leaves, resource_fields, reference, anchors_until, *, check_policies: bool,
         max_anchor_lag: float, run_entries: int):
    """The verification from the state's tree head, or from the empty state (a full one) without a
    state or a state file, under a progress bar on stderr (quiet when stderr is not a terminal);
    the new state only with a state path."""
    from sqlalchemy.exc import SQLAlchemyError
    from tqdm import tqdm

    from ledger.audit.incremental import StateMismatch, VerifierState, verify_in_runs
    from ledger.exceptions import LedgerError

    bar = tqdm(total=len(leaves), desc="verifying", unit=" entries", file=sys.stderr, disable=None, leave=False)
    try:
        report, new_state = verify_in_runs(chain, state or VerifierState.empty(chain), leaves, resource_fields,
                                           reference_hashes=reference, check_policies=check_policies,
                                           max_anchor_lag=max_anchor_lag, anchors_until=anchors_until,
                                           run_entries=run_entries, progress=lambda done: bar.update(done - bar.n))
        return report, new_state if state_path is not None else None
    except StateMismatch as exc:
        raise Failure(f"{state_path}: {exc}") from exc
    except (LedgerError, SQLAlchemyError) as exc:  # the chain, or the database the leaves are read from
        raise Failure(f"verification could not finish: {exc}") from exc
    finally:
        bar.close()


def _print_report(report, source, start, deployment, url, no_policy, addresses_trusted, state_path,
                  new_state) -> None:
    from collections import Counter

    echo = click.echo
    if "export" in source:
        export = source["export"]
        echo(f"Audit log   {export['path']}  (exported {export['exported_at']}, {export['tree_size']} entries)")
    else:
        echo(f"Audit log   the database {source['database']}")
    echo(f"Chain       {deployment.chain_id} at {url}")
    echo("Contracts   " + ("trusted addresses (--deployment / --contract)" if addresses_trusted
                           else click.style(_UNTRUSTED, fg="red", bold=True)))
    for name, address in deployment.contracts.items():
        echo(f"  {name:<13} {address}")
    if state_path is not None:
        echo(f"State       {state_path}: " + (f"from seq {start}, " if start else "none yet (a full verification), ")
             + (f"now at the tree head of size {new_state.size}" if new_state is not None
                else "not moved (problems found)"))
    echo(f"Entries checked      {report.entries_checked}")
    echo(f"Anchors checked      {report.anchors_checked}")
    if no_policy:
        echo("Releases re-checked  skipped (--no-policy)")
    else:
        echo(f"Releases re-checked  {report.allows_reevaluated}")
    if report.unanchored_entries:
        echo(f"Not yet anchored     {report.unanchored_entries} (newest entries; no on-chain tree head covers "
             f"them yet)")
    if report.ok:
        echo(click.style("OK: the log matches every anchored tree head", fg="green")
             + ("" if no_policy else " and every release was allowed at its block")
             + ("" if addresses_trusted else click.style(" (UNTRUSTED contract addresses)", fg="red")))
        return
    kinds = Counter(p.kind for p in report.problems)
    echo(click.style(f"PROBLEMS: {len(report.problems)} ", fg="red")
         + "(" + ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common()) + ")")
    for problem in report.problems[:_SHOWN_PROBLEMS]:
        where = f"seq {problem.seq}" if problem.seq is not None else "-"
        echo(f"  {problem.kind:<22} {where:<12} {problem.message}")
    if len(report.problems) > _SHOWN_PROBLEMS:
        echo(f"  ... and {len(report.problems) - _SHOWN_PROBLEMS} more (use --json for all)")
