"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, and log checkpoints
(https://c2sp.org/tlog-checkpoint).

A note is text ending in a newline, a blank line, then one line per signature:
``— <key name> base64(key id || signature)``. The key id is the first four bytes of
``SHA-256(key name || 0x0A || 0x01 || public key)``. A verifier key is written
``<name>+<key id hex>+base64(0x01 || public key)``, the form tlog clients are configured with.

:func:`open_note` follows the spec's rules: signatures by unknown keys are ignored; one by a
known key that fails to verify rejects the note; a note with no verified known signature is
rejected. The checkpoint body is the origin, the tree size and the base64 root, one per line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.audit.hasher import HASH_SIZE
from ledger.exceptions import NoteError

__all__ = ["Checkpoint", "NoteSigner", "NoteVerifier", "open_note", "sign_note"]

ED25519 = 0x01
MAX_SIGNATURES = 16  # the spec's minimum a verifier must accept; a longer note is refused
_SIGNATURE_LINE = re.compile(r"\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})")
_KEY_NAME = re.compile(r"[^\s+]+")


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not _KEY_NAME.fullmatch(name or ""):
        raise NoteError(f"a key name must be non-empty, without spaces or '+': {name!r}")
    return name


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A public key that checks note signatures: ``name``, 4-byte ``key_id``, raw 32-byte ``public_key``."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Read ``<name>+<hex key id>+<base64(0x01 || key)>``, refusing any other spelling."""
        name, sep1, rest = vkey.partition("+")
        id_hex, sep2, material = rest.partition("+")
        if not (sep1 and sep2) or not re.fullmatch(r"[0-9a-f]{8}", id_hex):
            raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
        raw = _b64decode(material, "the verifier key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
        verifier = cls(_check_name(name), bytes.fromhex(id_hex), raw[1:])
        if verifier.key_id != _key_id(name, raw[1:]) or verifier.encode() != vkey:
            raise NoteError("the verifier key's id does not match its name and public key")
        return verifier

    def encode(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + self.public_key).decode()}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """An Ed25519 private key under a key name, signing note texts."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey):
        self.name = _check_name(name)
        self._key = private_key
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = NoteVerifier(name, _key_id(name, public), public)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> NoteSigner:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def signature_line(self, text: bytes) -> str:
        blob = self.verifier.key_id + self._key.sign(text)
        return f"\u2014 {self.name} {base64.b64encode(blob).decode()}\n"


def _check_text(text: str) -> bytes:
    if not text.endswith("\n"):
        raise NoteError("a note text ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note holds no control characters but newlines")
    return text.encode()


def sign_note(text: str, signer: NoteSigner) -> str:
    """The signed note: ``text``, a blank line, the signature line."""
    return text + "\n" + signer.signature_line(_check_text(text))


def open_note(note: str, verifiers: list[NoteVerifier]) -> str:
    """The text of ``note`` if a known key signed it; raises :class:`NoteError` otherwise."""
    text, sep, block = note.rpartition("\n\n")
    if not sep or not block.endswith("\n"):
        raise NoteError("a signed note is text, a blank line, and signature lines ending in newlines")
    text += "\n"
    message = _check_text(text)
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures, this one has {len(lines)}")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = False
    for line in lines:
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise NoteError(f"malformed signature line: {line!r}")
        blob = _b64decode(match.group(2), "a signature")
        if len(blob) < 5:
            raise NoteError("a signature is a 4-byte key id and at least one byte")
        verifier = known.get((match.group(1), blob[:4]))
        if verifier is None:
            continue  # unknown keys are ignored (cosigners, rotated keys)
        if not verifier.verify(message, blob[4:]):
            raise NoteError(f"the signature of known key {verifier.name} does not verify")
        verified = True
    if not verified:
        raise NoteError("no signature by a known key")
    return text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: ``origin`` (the log's name), ``size`` and ``root``."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        if not self.origin or any(c.isspace() for c in self.origin):
            raise NoteError(f"a checkpoint origin is non-empty with no spaces: {self.origin!r}")
        if self.size < 0 or len(self.root) != HASH_SIZE:
            raise NoteError("a checkpoint has a non-negative size and a 32-byte root")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def sign(self, signer: NoteSigner) -> str:
        return sign_note(self.text(), signer)

    @classmethod
    def parse(cls, text: str, origin: str) -> Checkpoint:
        """The checkpoint in a verified note text; its origin must be ``origin``."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is at least three non-empty lines")
        if lines[0] != origin:
            raise NoteError(f"the checkpoint is for log {lines[0]!r}, not {origin!r}")
        if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
            raise NoteError(f"the checkpoint size {lines[1]!r} is not a canonical decimal")
        root = _b64decode(lines[2], "the checkpoint root")
        if len(root) != HASH_SIZE or base64.b64encode(root).decode() != lines[2]:
            raise NoteError("the checkpoint root is not the canonical base64 of 32 bytes")
        return cls(lines[0], int(lines[1]), root)
