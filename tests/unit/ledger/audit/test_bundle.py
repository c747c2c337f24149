"""The C2SP tlog-proof text of a bundle: the spec's own example, round trips, and broken proofs refused."""

from __future__ import annotations

import base64

import pytest

from ledger.audit.bundle import TlogProof
from ledger.exceptions import InvalidBundle

pytestmark = pytest.mark.unit

# The example of https://c2sp.org/tlog-proof (C2SP/C2SP tlog-proof.md); its checkpoint's signature
# lines are elided there ("[...]"), so only the proof part is parsed here.
SPEC_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u2014 example.com/fancylog hI2DJw[...]1roloI=
"""


def test_the_spec_example_parses():
    proof = TlogProof.parse(SPEC_EXAMPLE)
    assert proof.index == 73894 and len(proof.hashes) == 5
    assert proof.hashes[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert proof.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert proof.checkpoint.startswith("example.com/fancylog\n109482\n")
    assert proof.encode() == SPEC_EXAMPLE


@pytest.mark.parametrize("hashes", [(), (b"\1" * 32,), tuple(bytes([i]) * 32 for i in range(20))])
@pytest.mark.parametrize("extra", [None, b"x"])
def test_a_proof_round_trips(hashes, extra):
    proof = TlogProof(7, hashes, "log\n8\n" + base64.b64encode(b"\2" * 32).decode() + "\n\n\u2014 log sig\n", extra)
    assert TlogProof.parse(proof.encode()) == proof


_BODY = SPEC_EXAMPLE.split("\n")


@pytest.mark.parametrize(("broken", "why"), [
    (SPEC_EXAMPLE.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "does not start with"),
    (SPEC_EXAMPLE.replace("index 73894", "index 073894"), "canonical 'index N'"),
    (SPEC_EXAMPLE.replace("index 73894", "index -1"), "canonical 'index N'"),
    (SPEC_EXAMPLE.replace("index 73894\n", ""), "canonical 'index N'"),
    (SPEC_EXAMPLE.replace("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=", "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ"),
     "not base64"),
    (SPEC_EXAMPLE.replace("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=", "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPg=="),
     "canonical base64 of 32 bytes"),
    (SPEC_EXAMPLE.replace("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=", "AAAA"), "canonical base64 of 32 bytes"),
    ("\n".join(_BODY[:8]), "no empty line"),
    (SPEC_EXAMPLE.replace("\n\nexample.com", "\nexample.com"), "not base64"),
])
def test_a_broken_proof_is_refused(broken, why):
    with pytest.raises(InvalidBundle, match=why):
        TlogProof.parse(broken)
