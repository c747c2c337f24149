"""Signed notes and checkpoints: the published Go vector byte for byte, and every broken form refused.

Vector: golang.org/x/mod/sumdb/note, note_test.go (the PeterNeumann key, text and signature).
"""

from __future__ import annotations

import base64

import pytest

from ledger.audit.note import Checkpoint, NoteSigner, NoteVerifier, open_note, sign_note
from ledger.exceptions import NoteError

pytestmark = pytest.mark.unit

VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SKEY_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]  # PRIVATE+KEY+PeterNeumann+c74f20a3+…
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
SIGNED = TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_sign_note_reproduces_the_go_vector() -> None:
    signer = NoteSigner.from_seed("PeterNeumann", SKEY_SEED)
    assert signer.verifier.encode() == VKEY
    assert sign_note(TEXT, signer) == SIGNED


def test_open_note_accepts_the_go_vector() -> None:
    assert open_note(SIGNED, [NoteVerifier.parse(VKEY)]) == TEXT


@pytest.mark.parametrize("vkey", [
    VKEY[:-1], VKEY + "A", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "Peter Neumann+c74f20a3+ARpc",
    "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "PeterNeumann+c74f20a3",
    "PeterNeumann+c74f20a3+AhpcAA==", "PeterNeumann+c74f20a3+ApQc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_verifier_parse_refuses_mangled_keys(vkey: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.parse(vkey)


@pytest.mark.parametrize("note", [
    SIGNED.replace("cryptography", "cryptographY"),              # text changed
    SIGNED.replace("x08go", "x08gp"),                            # signature changed
    SIGNED.replace("\n\n", "\n"),                                # no blank line
    SIGNED[:-1],                                                 # signature line without newline
    SIGNED.replace("\u2014 ", "- "),                             # not an em dash
    SIGNED.replace("problem,\n", "problem,\r\n"),                # a control character
    TEXT + "\n",                                                 # no signature at all
])
def test_open_note_refuses_broken_notes(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, [NoteVerifier.parse(VKEY)])


def test_unknown_signers_are_ignored_but_one_is_needed() -> None:
    other = NoteSigner.from_seed("witness.example/w1", bytes(range(32)))
    cosigned = SIGNED + other.signature_line(TEXT.encode())
    assert open_note(cosigned, [NoteVerifier.parse(VKEY)]) == TEXT
    assert open_note(cosigned, [other.verifier]) == TEXT
    with pytest.raises(NoteError):
        open_note(SIGNED, [other.verifier])
    impostor = NoteSigner.from_seed("PeterNeumann", bytes(32))  # same name, another key id: ignored
    assert open_note(SIGNED + impostor.signature_line(TEXT.encode()), [NoteVerifier.parse(VKEY)]) == TEXT


def test_a_known_key_whose_signature_fails_rejects_the_note() -> None:
    forged = SIGNED + "\u2014 PeterNeumann " + base64.b64encode(bytes.fromhex("c74f20a3") + bytes(64)).decode() + "\n"
    with pytest.raises(NoteError):
        open_note(forged, [NoteVerifier.parse(VKEY)])


def test_too_many_signatures_are_refused() -> None:
    other = NoteSigner.from_seed("w", bytes(32))
    note = SIGNED + other.signature_line(TEXT.encode()) * 16
    with pytest.raises(NoteError):
        open_note(note, [NoteVerifier.parse(VKEY)])


def test_checkpoint_round_trip_and_spec_example_shape() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")  # c2sp.org/tlog-checkpoint example
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, root)
    assert checkpoint.text() == "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    signer = NoteSigner.from_seed("example.com/behind-the-sofa", bytes(range(32)))
    opened = open_note(checkpoint.sign(signer), [signer.verifier])
    assert Checkpoint.parse(opened, "example.com/behind-the-sofa") == checkpoint


@pytest.mark.parametrize("text", [
    "other.example/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # another log's origin
    "example.com/log\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",    # leading zero
    "example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\n",       # short root
    "example.com/log\n1\n",
    "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",   # empty extension line
])
def test_checkpoint_parse_refuses_malformed_bodies(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text, "example.com/log")
