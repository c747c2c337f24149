"""Written statements (reasons, notes) whose keccak256 alone goes on-chain: the text is kept here, and
handed out only where it still hashes to what the chain holds."""

from __future__ import annotations

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.storage.models import StatementRow


def statement_hash(text: str) -> bytes:
    """The hash the chain keeps for ``text``."""
    return keccak(text=text)


class Statements:
    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def keep(self, text: str) -> bytes:
        """Store ``text`` (before its hash is sent on-chain); its hash."""
        text_hash = statement_hash(text)
        key = "0x" + text_hash.hex()
        with self._sessions.begin() as session:
            if session.get(StatementRow, key) is None:
                session.add(StatementRow(text_hash=key, text=text))
        return text_hash

    def texts(self, hashes: set[str | None]) -> dict[str, str]:
        """The texts of those of ``hashes`` (0x hex) this platform holds."""
        wanted = {h for h in hashes if h}
        if not wanted:
            return {}
        with self._sessions() as session:
            rows = session.execute(select(StatementRow.text_hash, StatementRow.text)
                                   .where(StatementRow.text_hash.in_(wanted)))
            return {h: t for h, t in rows if "0x" + statement_hash(t).hex() == h}
