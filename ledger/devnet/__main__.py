"""``python -m ledger.devnet up|down|status|wait``: the devnet commands without the full CLI."""

from ledger.devnet._cli import command

if __name__ == "__main__":
    command(prog_name="python -m ledger.devnet")
