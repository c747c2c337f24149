"""Finding 9: by default the standalone verifier believed the export's own contract addresses.

``audit verify`` must refuse without addresses the regulator trusts (a deployment file, or one
``--contract NAME=ADDRESS`` per contract) unless told explicitly to trust the export's, and must
compare each contract's runtime code with the compiled artifacts, and the contracts' wiring.
"""

from __future__ import annotations

import json

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from ledger import compiler, keystore
from tests.redteam.conftest import cli, operator_chain, problem_kinds, verify_export


def _export(system, tmp_path):
    export = tmp_path / "audit.jsonl"
    cli(system, "audit", "export", "--out", str(export), check=True)
    return export


def _rewrite_header(export, **contracts) -> None:
    header, *rest = export.read_text().splitlines(keepends=True)
    claimed = json.loads(header)
    claimed["contracts"].update(contracts)
    export.write_text(json.dumps(claimed, ensure_ascii=False) + "\n" + "".join(rest))


def _report(done) -> dict:
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def test_refuses_without_trusted_addresses(system, clients, tmp_path):
    export = _export(system, tmp_path)
    done = cli(system, "audit", "verify", "--export", str(export), "--json")
    assert done.returncode == 2, done.stdout
    assert "--deployment" in done.stderr and "--trust-export-addresses" in done.stderr

    escaped = cli(system, "audit", "verify", "--export", str(export), "--json", "--trust-export-addresses")
    report = _report(escaped)
    assert report["addresses_trusted"] is False

    trusted = verify_export(system, tmp_path)
    assert trusted["ok"] is True and trusted["addresses_trusted"] is True, trusted["problems"]

    deployment = json.loads((system.home / "deployment.json").read_text())
    flags = [f"--contract={name}={address}" for name, address in deployment["contracts"].items()]
    by_flags = verify_export(system, tmp_path, *flags)
    assert by_flags["ok"] is True and by_flags["addresses_trusted"] is True, by_flags["problems"]


def test_other_code_at_a_claimed_address_is_named(system, clients, tmp_path):
    deployment = json.loads((system.home / "deployment.json").read_text())
    contracts = deployment["contracts"]
    export = _export(system, tmp_path)
    # The export (trusted only because the regulator said so) names the Catalog as the Consents contract.
    _rewrite_header(export, Consents=contracts["Catalog"])
    done = cli(system, "audit", "verify", "--export", str(export), "--json", "--trust-export-addresses")
    problems = _report(done)["problems"]
    assert any(p["kind"] == "CONTRACT_CODE_MISMATCH" and "Consents" in p["message"] for p in problems), problems

    # A "trusted" deployment file that swaps two addresses fares no better.
    swapped = tmp_path / "deployment.json"
    swapped.write_text(json.dumps({**deployment, "contracts": {**contracts, "Subjects": contracts["Catalog"],
                                                                "Catalog": contracts["Subjects"]}}))
    report = verify_export(system, tmp_path, "--deployment", str(swapped))
    mismatched = {p["message"].split()[0] for p in report["problems"] if p["kind"] == "CONTRACT_CODE_MISMATCH"}
    assert {"Subjects", "Catalog"} <= mismatched, report["problems"]


def test_genuine_code_wired_to_the_operators_own_registry_is_named(system, clients, tmp_path):
    """The operator deploys the real Consents code against a Subjects registry of its own (where it
    binds any key it likes) and names that Consents in the export: same code, other wiring."""
    deployment = json.loads((system.home / "deployment.json").read_text())
    contracts = deployment["contracts"]
    admin = operator_chain(system, "admin")
    sender = keystore.load_key("admin").address

    def create(name: str, types: list[str], *args) -> str:
        artifact = compiler.artifact(name)
        data = artifact.bytecode + abi_encode(types, list(args)).hex()
        return to_checksum_address(admin.sender.transact(None, data, sender=sender, action=f"deploy look-alike {name}").contract_address)

    # Its own registry, with the same notice period and attestation count: only the wiring differs.
    own_subjects = create("Subjects", ["address", "uint64", "uint256"], contracts["Participants"], 72 * 3600, 1)
    own_consents = create("Consents", ["address", "address"], contracts["Participants"], own_subjects)
    admin.close()
    export = _export(system, tmp_path)
    _rewrite_header(export, Consents=own_consents)
    done = cli(system, "audit", "verify", "--export", str(export), "--json", "--trust-export-addresses")
    kinds = problem_kinds(_report(done))
    assert "CONTRACT_WIRING_MISMATCH" in kinds, kinds
    assert "CONTRACT_CODE_MISMATCH" not in kinds, kinds
