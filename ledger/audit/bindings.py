"""Who signed each consent, and how that key came to be bound to the subject.

The Consents contract refuses a grant whose signers are not bound at that moment; the verifier
does not take the contract's word for it. For every ``ConsentGranted`` it reads the signers from
the grant transaction's own calldata (``grant`` or ``grantBatch`` sent straight to Consents; the
n-th grant event of a batch is its n-th consent) and folds the Subjects events in (block, log
index) order, so each signer's binding is known at the grant's exact position in the chain.

Problems, by name:

- ``CONSENT_SIGNER_NOT_BOUND``: the signer was not bound to the subject at the grant.
- ``CONSENT_SIGNER_BINDING_PENDING``: a change binding the signer was still in its notice period.
- ``CONSENT_SIGNER_BINDING_CANCELLED``: the change that would have bound the signer was cancelled.
- ``CONSENT_SIGNER_BOUND_WITHOUT_APPROVAL``: the signer was bound only because a change's notice
  period ran out, without the subject's signers' approval; possibly against the subject's will.
- ``CONSENT_SIGNERS_UNREADABLE``: the grant was not a direct call of grant / grantBatch, so its
  signers cannot be read from calldata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from ledger.chain.client import Chain

_LOG_CHUNK = 10_000
_TX_BATCH = 500

#: How a signer is bound: by the registration, by a change its signers approved, or by notice expiry.
REGISTERED, APPROVED, BY_NOTICE = "REGISTERED", "APPROVED", "BY_NOTICE"


@dataclass(slots=True)
class BindingProblem:
    kind: str
    message: str


@dataclass(slots=True)
class _Bindings:
    """Subjects state as the fold reaches each log: who is bound and how, what is pending or cancelled."""

    bound: dict[tuple[str, str], str] = field(default_factory=dict)
    pending: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    cancelled: set[tuple[str, str]] = field(default_factory=set)
    changes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # id -> (subject, add)
    applying: tuple[str, bool] | None = None  # (tx hash, approved) of the change being applied

    def fold(self, name: str, args: dict, tx_hash: str) -> None:
        if name == "SignerBound":
            how = REGISTERED
            if self.applying is not None and self.applying[0] == tx_hash:
                how = APPROVED if self.applying[1] else BY_NOTICE
            self.bound[(_hex(args["subjectId"]), args["signer"])] = how
        elif name == "SignerUnbound":
            self.bound.pop((_hex(args["subjectId"]), args["signer"]), None)
        elif name == "SignerChangeProposed":
            change_id, subject = _hex(args["changeId"]), _hex(args["subjectId"])
            self.changes[change_id] = (subject, tuple(args["add"]))
            for signer in args["add"]:
                self.pending.setdefault((subject, signer), set()).add(change_id)
        elif name in ("SignerChangeCancelled", "SignerChangeApplied"):
            change_id = _hex(args["changeId"])
            subject, added = self.changes.get(change_id, ("", ()))
            for signer in added:
                waiting = self.pending.get((subject, signer), set())
                waiting.discard(change_id)
                if name == "SignerChangeCancelled" and not waiting:
                    self.cancelled.add((subject, signer))
            if name == "SignerChangeApplied":
                self.applying = (tx_hash, args["approved"])

    def judge(self, subject: str, signer: str) -> str | None:
        key = (subject, signer)
        how = self.bound.get(key)
        if how == BY_NOTICE:
            return "CONSENT_SIGNER_BOUND_WITHOUT_APPROVAL"
        if how is not None:
            return None
        if self.pending.get(key):
            return "CONSENT_SIGNER_BINDING_PENDING"
        if key in self.cancelled:
            return "CONSENT_SIGNER_BINDING_CANCELLED"
        return "CONSENT_SIGNER_NOT_BOUND"


_DETAIL = {
    "CONSENT_SIGNER_NOT_BOUND": "was not bound to the subject",
    "CONSENT_SIGNER_BINDING_PENDING": "was only proposed as a signer (notice period still running)",
    "CONSENT_SIGNER_BINDING_CANCELLED": "was proposed as a signer, but the change was cancelled",
    "CONSENT_SIGNER_BOUND_WITHOUT_APPROVAL": "was bound when a change's notice period ran out, without the "
                                             "subject's signers' approval",
}


def check_consent_signers(logs: list[dict], decode: Callable[[dict], tuple[str, dict] | None],
                          grant_signers: Callable[[str], list[list[str]] | None]) -> list[BindingProblem]:
    """Judge each grant's signers against the bindings folded up to its log.

    ``logs``: Subjects and Consents logs sorted by (block, log index); ``decode``: a log to
    (event name, args) or None; ``grant_signers``: a grant transaction's hash to the signer lists
    of its consents in order, or None when its calldata is not a direct grant.
    """
    state = _Bindings()
    problems: list[BindingProblem] = []
    grants_seen: dict[str, int] = {}
    for lg in logs:
        event = decode(lg)
        if event is None:
            continue
        name, args = event
        tx_hash = lg["transactionHash"]
        if name != "ConsentGranted":
            state.fold(name, args, tx_hash)
            continue
        index = grants_seen.get(tx_hash, 0)
        grants_seen[tx_hash] = index + 1
        consent_id, subject = _hex(args["consentId"]), _hex(args["subject"])
        lists = grant_signers(tx_hash)
        if lists is None or index >= len(lists):
            problems.append(BindingProblem("CONSENT_SIGNERS_UNREADABLE",
                                           f"consent {consent_id}: transaction {tx_hash} is not a direct grant, so "
                                           f"its signers cannot be checked"))
            continue
        for signer in lists[index]:
            verdict = state.judge(subject, signer)
            if verdict is not None:
                problems.append(BindingProblem(verdict, f"consent {consent_id} (transaction {tx_hash}) is signed by "
                                                        f"{signer}, who {_DETAIL[verdict]} at the grant"))
    return problems


def read_consent_signer_problems(chain: Chain, head: int) -> list[BindingProblem]:
    """:func:`check_consent_signers` over the deployment's Subjects and Consents, up to ``head``."""
    deployment = chain.deployment
    subjects, consents = deployment.contracts["Subjects"], deployment.contracts["Consents"]
    abis = {subjects.lower(): chain.abis["Subjects"], consents.lower(): chain.abis["Consents"]}
    logs, start = [], deployment.deploy_block
    while start <= head:
        end = min(head, start + _LOG_CHUNK - 1)
        logs += chain.get_logs([subjects, consents], start, end)
        start = end + 1
    logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))

    def decode(lg: dict):
        abi = abis.get(lg["address"].lower())
        return abi.decode_log(lg) if abi else None

    grant_txs = sorted({lg["transactionHash"] for lg in logs if lg["address"].lower() == consents.lower()
                        and (decode(lg) or ("",))[0] == "ConsentGranted"})
    calls: dict[str, dict] = {}
    for i in range(0, len(grant_txs), _TX_BATCH):
        chunk = grant_txs[i:i + _TX_BATCH]
        calls |= dict(zip(chunk, chain.rpc.batch([("eth_getTransactionByHash", [h]) for h in chunk])))
    functions = chain.abis["Consents"].functions
    grant, batch = functions["grant"], functions["grantBatch"]

    def grant_signers(tx_hash: str) -> list[list[str]] | None:
        tx = calls.get(tx_hash)
        if not tx or (tx.get("to") or "").lower() != consents.lower():
            return None
        data = bytes.fromhex(tx["input"][2:])
        try:
            if data[:4] == grant.selector:
                _, signers, _ = abi_decode(list(grant.inputs), data[4:])
                return [[to_checksum_address(s) for s in signers]]
            if data[:4] == batch.selector:
                _, signer_lists, _ = abi_decode(list(batch.inputs), data[4:])
                return [[to_checksum_address(s) for s in signers] for signers in signer_lists]
        except Exception:  # calldata that does not decode is reported as unreadable
            return None
        return None

    return check_consent_signers(logs, decode, grant_signers)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
