"""Contract artifacts: shipped with the package, compiled from ``contracts/src`` in a checkout.

An installed package only loads ``ledger/artifacts/contracts.json``. Compiling is a development
step (``scripts/setup`` runs ``python -m ledger.compiler``) that writes that file from a
checkout's sources: a native ``solc`` on PATH is used when present, otherwise the solcjs shim in
``ledger/toolchain`` stands in for it (no native compiler can be downloaded offline). The file
records a hash of every source file, the compiler version and the settings, so a checkout is
recompiled only when one of them changes, and deployments know which code they run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ledger.exceptions import CompilationError
from ledger.settings import Settings

ARTIFACTS_FILE = Path(__file__).with_name("artifacts") / "contracts.json"
SHIM = Path(__file__).with_name("toolchain") / "solc-shim.cjs"
#: Where the sources are in a checkout, relative to its root (also their names in the compiler input).
SOURCE_DIR = Path("contracts", "src")
OPENZEPPELIN = Path("node_modules", "@openzeppelin", "contracts")

SETTINGS = {
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                                    "evm.deployedBytecode.immutableReferences"]}},
}

#: Contracts the ledger deploys, in deployment order.
DEPLOYED_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "Objections", "AuditAnchor")


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list
    bytecode: str
    deployed_bytecode: str
    #: (offset, length) of every immutable in ``deployed_bytecode``: zeros there, set by the constructor
    immutable_ranges: tuple[tuple[int, int], ...] = ()


def solc_binary() -> Path:
    """A native solc if one is installed (``Settings.solc`` or PATH), else the solcjs shim."""
    explicit = Settings.from_env().solc
    if explicit:
        return explicit
    native = shutil.which("solc")
    return Path(native) if native else SHIM


def _sources(checkout: Path) -> dict[str, Path]:
    source_dir = checkout / SOURCE_DIR
    if not source_dir.is_dir():
        raise CompilationError(f"no contract sources at {source_dir}")
    return {path.relative_to(checkout).as_posix(): path for path in sorted(source_dir.rglob("*.sol"))}


def _hash_sources(checkout: Path) -> str:
    """Hash of the contract sources, the OpenZeppelin version and the compiler settings."""
    digest = hashlib.sha256()
    for name, path in _sources(checkout).items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    package = checkout / OPENZEPPELIN / "package.json"
    if package.exists():
        digest.update(json.loads(package.read_text())["version"].encode())
    digest.update(json.dumps(SETTINGS, sort_keys=True).encode())
    return "0x" + digest.hexdigest()


def _compile(checkout: Path, code_hash: str) -> dict:
    import solcx  # imported here: only a rebuild needs it

    binary = solc_binary()
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": path.read_text()} for name, path in _sources(checkout).items()},
        "settings": SETTINGS,
    }
    try:
        output = solcx.compile_standard(
            standard_input,
            solc_binary=str(binary),
            allow_paths=[str(checkout)],
            base_path=str(checkout),
        )
    except Exception as exc:  # solcx raises its own SolcError with the compiler's message
        raise CompilationError(f"contract compilation failed: {exc}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))

    artifacts = {}
    for file_contracts in output["contracts"].values():
        for name, out in file_contracts.items():
            artifacts[name] = {
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployed_bytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
                "immutable_ranges": sorted([ref["start"], ref["length"]] for refs in
                                           out["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                                           for ref in refs),
            }
    return {"source_hash": code_hash, "compiler": str(binary.name), "contracts": artifacts}


def compile_checkout(checkout: Path, force: bool = False) -> bool:
    """Compile ``checkout``'s contracts into the package's artifacts if they changed; True if it did."""
    checkout = checkout.resolve()
    code_hash = _hash_sources(checkout)
    if not force and ARTIFACTS_FILE.exists() and json.loads(ARTIFACTS_FILE.read_text()).get("source_hash") == code_hash:
        return False
    compiled = _compile(checkout, code_hash)
    ARTIFACTS_FILE.parent.mkdir(exist_ok=True)
    tmp = ARTIFACTS_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(compiled))
    tmp.replace(ARTIFACTS_FILE)
    _shipped.cache_clear()
    return True


@lru_cache(maxsize=1)
def _shipped() -> tuple[str, dict[str, Artifact]]:
    try:
        data = json.loads(ARTIFACTS_FILE.read_text())
    except FileNotFoundError:
        raise CompilationError(f"no compiled contracts at {ARTIFACTS_FILE}: in a checkout, run scripts/setup") from None
    return data["source_hash"], {
        name: Artifact(name, art["abi"], art["bytecode"], art["deployed_bytecode"],
                       tuple((start, length) for start, length in art.get("immutable_ranges", ())))
        for name, art in data["contracts"].items()
    }


def source_hash() -> str:
    """The hash of the code the artifacts were compiled from: a deployment of other code is not reused."""
    return _shipped()[0]


def artifacts() -> dict[str, Artifact]:
    """Every compiled contract by name."""
    return _shipped()[1]


def artifact(name: str) -> Artifact:
    """One compiled contract."""
    try:
        return artifacts()[name]
    except KeyError:
        raise CompilationError(f"no compiled contract named {name}") from None


if __name__ == "__main__":  # the development step of scripts/setup, at a checkout's root: [--force]
    compile_checkout(Path.cwd(), force="--force" in sys.argv[1:])
