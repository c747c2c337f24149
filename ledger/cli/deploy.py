"""`consent-ledger deploy`: deploy (or reuse) the contracts and grant the operator roles."""

from __future__ import annotations

import click

from ledger.settings import Settings, pass_settings


@click.command("deploy")
@click.option("--rpc", "rpc", default=None, help="JSON-RPC URL (default: the devnet gateway or $CONSENT_LEDGER_RPC_URL)")
@click.option("--force", is_flag=True, help="deploy new contracts even if a deployment of this code exists")
@pass_settings
def command(settings: Settings, rpc: str | None, force: bool) -> None:
    """Deploy Participants, Subjects, Catalog, Consents, Objections and AuditAnchor; write deployment.json."""
    from ledger.chain.client import Chain, deployment_path
    from ledger.deploy import deploy
    from ledger.keystore import Keystore

    keys = Keystore.from_settings(settings)
    admin = keys.load("admin")
    relayers = [keys.load(f"relayer-{i}").address for i in range(4)]
    anchorer = keys.load("anchorer").address
    attester = keys.address_of("attester")  # only its address: the attester signs for itself
    chain = Chain(rpc or settings.rpc_url, accounts=[admin], fee_policy=settings.fee_policy)
    deployment, reused = deploy(chain, admin, relayers=relayers, anchorer=anchorer, attester=attester,
                                notice_seconds=settings.signer_change_notice_seconds,
                                required_attestations=settings.required_attestations,
                                path=deployment_path(settings.data_dir), force=force)
    verb = "reusing" if reused else "deployed"
    click.echo(f"{verb} contracts on chain {deployment.chain_id} (block {deployment.deploy_block}):")
    for name, address in deployment.contracts.items():
        click.echo(f"  {name:<13} {address}")
    click.echo(f"deployment: {deployment_path(settings.data_dir)}")
