"""Settings shared by the library, the devnet and the API, read from the environment.

Everything generated at run time (keys, chain state, databases, secrets) lives under the data
dir, ``$CONSENT_LEDGER_HOME`` (default ``./.data``), never in the source tree.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Chain id of the embedded devnet (the Besu network of hardhat-free-devnet/besu uses 16212).
CHAIN_ID = 16211
GATEWAY_HOST = "127.0.0.1"
GATEWAY_PORT = 8545
API_HOST = "127.0.0.1"
API_PORT = 8000
#: Documented default for development only; set CONSENT_LEDGER_KEY_PASSWORD anywhere else.
DEVNET_KEY_PASSWORD = "consent-ledger-devnet"


def data_dir() -> Path:
    """The data dir, created on first use with owner-only permissions."""
    path = Path(os.environ.get("CONSENT_LEDGER_HOME", ".data")).resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def key_password() -> str:
    return os.environ.get("CONSENT_LEDGER_KEY_PASSWORD", DEVNET_KEY_PASSWORD)


def gateway_port() -> int:
    return int(os.environ.get("CONSENT_LEDGER_GATEWAY_PORT", GATEWAY_PORT))


#: Devnet notice period of a signer change that the subject's signers did not approve (72 h).
SIGNER_CHANGE_NOTICE_SECONDS = 72 * 3600


def signer_change_notice_seconds() -> int:
    """The Subjects contract's notice period for a new deployment (tests shorten it)."""
    value = int(os.environ.get("CONSENT_LEDGER_SIGNER_CHANGE_NOTICE", SIGNER_CHANGE_NOTICE_SECONDS))
    if value < 0:
        raise ValueError("CONSENT_LEDGER_SIGNER_CHANGE_NOTICE must not be negative")
    return value


def required_attestations() -> int:
    """Distinct identity attesters that must attest a registration, for a new deployment (devnet 1)."""
    value = int(os.environ.get("CONSENT_LEDGER_REQUIRED_ATTESTATIONS", 1))
    if value < 1:
        raise ValueError("CONSENT_LEDGER_REQUIRED_ATTESTATIONS must be at least 1")
    return value


def rpc_url() -> str:
    """The JSON-RPC endpoint every client uses: the devnet gateway unless told otherwise."""
    return os.environ.get("CONSENT_LEDGER_RPC_URL", f"http://{GATEWAY_HOST}:{gateway_port()}")
