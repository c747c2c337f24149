"""Regenerate the RFC 6962 test vectors under tests/vectors/ from a transparency-dev/merkle checkout.

Usage: python tests/vectors/import_transparency_dev.py <path to a git dir or work tree of
github.com/transparency-dev/merkle> [commit]

Copies data only (hashes, sizes, expected outcomes), converting base64 to hex and 1-based
leaf numbers to 0-based indices; the source repository and commit are recorded in each file.
The verifier under test is our own code.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
REPO = "transparency-dev/merkle"
LICENSE = "Apache-2.0 (data copied from the upstream test suite, source named per case)"


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def b64hex(value: str | None) -> str:
    return base64.b64decode(value or "").hex()


def main(repo: str, commit: str = "HEAD") -> None:
    if Path(repo, ".git").exists():
        repo = str(Path(repo, ".git"))
    commit = git(repo, "rev-parse", commit).strip()
    source = f"{REPO}@{commit}"

    # Reference tree: testonly/constants.go.
    constants = git(repo, "show", f"{commit}:testonly/constants.go")

    def hexes(block: str) -> list[str]:
        return re.findall(r'hd\("([0-9a-f]*)"\)', block)

    leaves = hexes(constants.split("func LeafInputs")[1].split("func NodeHashes")[0])
    node_block = constants.split("func NodeHashes")[1].split("func RootHashes")[0]
    levels = [hexes(part) for part in node_block.split("}, {")]
    roots = hexes(constants.split("func RootHashes")[1].split("func CompactTrees")[0])
    empty = hexes(constants.split("func EmptyRootHash")[1])[0]

    proofgen = git(repo, "show", f"{commit}:cmd/proofgen/main.go")

    def table(name: str) -> list[tuple[int, int, list[str]]]:
        body = proofgen.split(f"{name} = []")[1].split("\n\t}\n")[0]
        rows = []
        for m in re.finditer(r"\{(\d+), (\d+), (nil|\[\]\[\]byte\{(.*?)\})\}", body, re.S):
            rows.append((int(m[1]), int(m[2]), re.findall(r'dh\("([0-9a-f]+)", 32\)', m[4] or "")))
        return rows

    vectors = git(repo, "show", f"{commit}:testonly/vectors_test.go")
    accumulated = {
        name: re.search(rf"func {func}\(.*?const want = \"([0-9a-f]+)\"", vectors, re.S)[1]
        for name, func in [("subtree_hashes", "TestSubtreeHashVectors"), ("subtree_inclusion_proofs", "TestSubtreeInclusionProofVectors")]
    }

    reference = {
        "source": f"{source} testonly/constants.go, cmd/proofgen/main.go, testonly/vectors_test.go",
        "license": LICENSE,
        "description": "The RFC 6962 reference tree of 8 leaves: leaf inputs, node hashes by level, roots by size "
        "(index = tree size, 0 = empty tree), and the proof tables the upstream probes were generated from "
        "(leaf indices converted to 0-based).",
        "leaves": leaves,
        "empty_root": empty,
        "node_hashes": levels,
        "roots": [empty, *roots],  # RootHashes() starts with EmptyRootHash(), a call, not a literal
        "inclusion_proofs": [
            {"leaf_index": leaf - 1, "tree_size": size, "proof": proof} for leaf, size, proof in table("inclusionProofs")
        ],
        "consistency_proofs": [
            {"size1": s1, "size2": s2, "proof": proof} for s1, s2, proof in table("consistencyProofs")
        ],
        "accumulated": {
            "description": "Tree of 130 leaves d[i] = bytes([i]). Over end = 0..130, start = 0..end with [start, end) "
            "a valid subtree (start = 0, start = end, or start a multiple of bit_ceil(end - start)): "
            "subtree_hashes = SHA-256 of the lines '[start, end) <hex subtree hash>\\n'; "
            "subtree_inclusion_proofs = SHA-256 of the lines '<index> [start, end)' + ' <hex>' per proof node + '\\n' "
            "for every index in [start, end).",
            "max_size": 130,
            **accumulated,
        },
    }

    def probes(kind: str) -> list[dict]:
        out = []
        paths = sorted(git(repo, "ls-tree", "-r", "--name-only", commit, f"testdata/{kind}").split())
        for path in paths:
            data = json.loads(git(repo, "show", f"{commit}:{path}"))
            case = {"name": path.removeprefix(f"testdata/{kind}/").removesuffix(".json"), "desc": data["desc"]}
            if kind == "inclusion":
                case.update(
                    leaf_index=data["leafIdx"], tree_size=data["treeSize"], leaf_hash=b64hex(data["leafHash"]),
                    root=b64hex(data["root"]),
                )
            else:
                case.update(size1=data["size1"], size2=data["size2"], root1=b64hex(data["root1"]), root2=b64hex(data["root2"]))
            case["proof"] = [b64hex(p) for p in data["proof"] or []]
            case["valid"] = not data["wantErr"]
            out.append(case)
        return out

    for kind in ("inclusion", "consistency"):
        doc = {
            "source": f"{source} testdata/{kind}/",
            "license": LICENSE,
            "description": f"Upstream {kind} proof probes over the RFC 6962 reference tree: happy paths and "
            "deliberately broken proofs (bit flips, truncated / extended proofs, garbage before or after, "
            "wrong or swapped roots, wrong index or sizes). 'valid' is the upstream expectation.",
            "cases": probes(kind),
        }
        (OUT / f"rfc6962_{kind}_probes.json").write_text(json.dumps(doc, indent=1) + "\n")
    (OUT / "rfc6962_reference_tree.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
