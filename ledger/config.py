"""Fixed facts of the devnet and the defaults of the deployment's settings (:mod:`ledger.settings`
reads the environment).

Everything generated at run time (keys, chain state, databases, secrets) lives under the data
dir, ``$CONSENT_LEDGER_HOME`` (default ``./.data``), never in the source tree.
"""

from __future__ import annotations

#: Chain id of the embedded devnet (the Besu network of hardhat-free-devnet/besu uses 16212).
CHAIN_ID = 16211
GATEWAY_HOST = "127.0.0.1"
GATEWAY_PORT = 8545
API_HOST = "127.0.0.1"
API_PORT = 8000
#: Documented default for development only; set CONSENT_LEDGER_KEY_PASSWORD anywhere else.
DEVNET_KEY_PASSWORD = "consent-ledger-devnet"
#: Devnet notice period of a signer change that the subject's signers did not approve (72 h).
SIGNER_CHANGE_NOTICE_SECONDS = 72 * 3600
