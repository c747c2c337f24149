"""`consent-ledger deploy`: deploy (or reuse) the contracts and grant the operator roles."""

from __future__ import annotations

import click

from ledger.config import rpc_url


@click.command("deploy")
@click.option("--rpc", "rpc", default=None, help="JSON-RPC URL (default: the devnet gateway or $CONSENT_LEDGER_RPC_URL)")
@click.option("--force", is_flag=True, help="deploy new contracts even if a deployment of this code exists")
def command(rpc: str | None, force: bool) -> None:
    """Deploy Participants, Subjects, Catalog, Consents and AuditAnchor; write deployment.json."""
    from ledger import keystore
    from ledger.chain.client import Chain, deployment_path
    from ledger.deploy import deploy

    admin = keystore.load_key("admin")
    relayers = [keystore.load_key(f"relayer-{i}").address for i in range(4)]
    anchorer = keystore.load_key("anchorer").address
    attester = keystore.address_of("attester")  # only its address: the attester signs for itself
    chain = Chain(rpc or rpc_url(), accounts=[admin])
    deployment, reused = deploy(chain, admin, relayers=relayers, anchorer=anchorer, attester=attester, force=force)
    verb = "reusing" if reused else "deployed"
    click.echo(f"{verb} contracts on chain {deployment.chain_id} (block {deployment.deploy_block}):")
    for name, address in deployment.contracts.items():
        click.echo(f"  {name:<13} {address}")
    click.echo(f"deployment: {deployment_path()}")
