"""Every error the ledger library raises derives from :class:`LedgerError`."""


class LedgerError(Exception):
    """Base class of all Consent Ledger library errors."""


class ConfigurationError(LedgerError):
    """A setting is missing, malformed or unsafe."""


class CompilationError(LedgerError):
    """The Solidity sources did not compile."""


class RpcError(LedgerError):
    """A JSON-RPC server (a node, the devnet gateway or anvil behind it) answered with an error object."""

    def __init__(self, code: int, message: str, data: object = None):
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.rpc_message = message
        self.data = data


class InvalidTransaction(LedgerError, ValueError):
    """A raw transaction cannot be admitted as encoded (malformed, wrong chain, unsupported type)."""


class ChainUnavailable(LedgerError):
    """The chain RPC endpoint could not be reached or answered with a transport error."""


class DeploymentNotFound(LedgerError):
    """No deployment.json, or one that belongs to another chain or other contract code."""


class TransactionFailed(LedgerError):
    """A transaction reverted, was refused, or got no receipt in time."""

    def __init__(self, message: str, *, error_name: str | None = None, error_args: tuple = (), tx_hash: str | None = None):
        super().__init__(message)
        self.error_name = error_name
        self.error_args = error_args
        self.tx_hash = tx_hash


class FeeCapExceeded(TransactionFailed):
    """The fee a transaction would need is above the configured cap, so it was not sent."""

    def __init__(self, message: str, *, base_fee: int, max_fee: int, cap: int):
        super().__init__(message, error_name="FeeCapExceeded")
        self.base_fee = base_fee
        self.max_fee = max_fee
        self.cap = cap


class InvalidIdentifier(LedgerError):
    """A resident ID or USCC failed validation."""


class AuditLogError(LedgerError):
    """Base class of audit-log (Merkle tree, proof, leaf encoding) errors."""


class TreeRangeError(AuditLogError, ValueError):
    """A leaf index or tree size outside the tree, or an impossible size pair."""


class InvalidProof(AuditLogError):
    """A Merkle inclusion or consistency proof does not verify."""


class RootMismatch(InvalidProof):
    """A well-formed proof leads to a root other than the expected one."""

    def __init__(self, message: str, *, expected: bytes, calculated: bytes):
        super().__init__(message)
        self.expected = expected
        self.calculated = calculated


class InvalidAuditEntry(AuditLogError, ValueError):
    """An audit entry or its canonical leaf encoding is malformed."""


class PolicyInputError(LedgerError, ValueError):
    """Malformed input to the release policy (unknown field name, mask beyond the resource, bad value)."""


class KeystoreError(LedgerError):
    """A key is missing, malformed, already exists, or cannot be decrypted with the password."""


class DevnetError(LedgerError):
    """The embedded devnet could not be started, reached or stopped."""


class NoteError(AuditLogError):
    """A signed note or checkpoint is malformed, or no trusted key's signature on it verifies."""


class InvalidBundle(AuditLogError):
    """An offline proof bundle that is malformed, or that the chain and the log's key do not bear out."""
