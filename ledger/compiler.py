"""Compiles ``contracts/src`` through py-solc-x and caches the artifacts under ``build/``.

A native ``solc`` on PATH is used when present; otherwise the solcjs shim in
``ledger/toolchain`` stands in for it (no native compiler can be downloaded offline). The cache
key is a hash of every source file, the compiler version and the settings, so artifacts are
rebuilt only when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ledger.config import PROJECT_ROOT
from ledger.exceptions import CompilationError
from ledger.settings import Settings

SOURCE_DIR = PROJECT_ROOT / "contracts" / "src"
BUILD_DIR = PROJECT_ROOT / "build"
CACHE_FILE = BUILD_DIR / "contracts.json"
SHIM = PROJECT_ROOT / "ledger" / "toolchain" / "solc-shim.cjs"
OPENZEPPELIN = PROJECT_ROOT / "node_modules" / "@openzeppelin" / "contracts"

SETTINGS = {
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object",
                                    "evm.deployedBytecode.immutableReferences"]}},
}

#: Contracts the ledger deploys, in deployment order.
DEPLOYED_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "AuditAnchor")


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


def _sources() -> dict[str, Path]:
    if not SOURCE_DIR.is_dir():
        raise CompilationError(f"no contract sources at {SOURCE_DIR}")
    return {
        path.relative_to(PROJECT_ROOT).as_posix(): path
        for path in sorted(SOURCE_DIR.rglob("*.sol"))
    }


def source_hash() -> str:
    """Hash of the contract sources, the OpenZeppelin version and the compiler settings."""
    digest = hashlib.sha256()
    for name, path in _sources().items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    package = OPENZEPPELIN / "package.json"
    if package.exists():
        digest.update(json.loads(package.read_text())["version"].encode())
    digest.update(json.dumps(SETTINGS, sort_keys=True).encode())
    return "0x" + digest.hexdigest()


def _compile(code_hash: str) -> dict:
    import solcx  # imported here: only a rebuild needs it

    binary = solc_binary()
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": path.read_text()} for name, path in _sources().items()},
        "settings": SETTINGS,
    }
    try:
        output = solcx.compile_standard(
            standard_input,
            solc_binary=str(binary),
            allow_paths=[str(PROJECT_ROOT)],
            base_path=str(PROJECT_ROOT),
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


def build(force: bool = False) -> dict[str, Artifact]:
    """Compile if the sources changed since the cached build; return every artifact by name."""
    code_hash = source_hash()
    cached = None
    if CACHE_FILE.exists() and not force:
        cached = json.loads(CACHE_FILE.read_text())
        if cached.get("source_hash") != code_hash:
            cached = None
    if cached is None:
        cached = _compile(code_hash)
        BUILD_DIR.mkdir(exist_ok=True)
        tmp = CACHE_FILE.with_suffix(".tmp")
        tmp.write_text(json.dumps(cached))
        tmp.replace(CACHE_FILE)
        _load_cached.cache_clear()
    return _load_cached(code_hash)


@lru_cache(maxsize=2)
def _load_cached(code_hash: str) -> dict[str, Artifact]:
    data = json.loads(CACHE_FILE.read_text())
    return {
        name: Artifact(name, art["abi"], art["bytecode"], art["deployed_bytecode"],
                       tuple((start, length) for start, length in art.get("immutable_ranges", ())))
        for name, art in data["contracts"].items()
    }


def artifact(name: str) -> Artifact:
    """One compiled contract, building first if needed."""
    artifacts = build()
    try:
        return artifacts[name]
    except KeyError:
        raise CompilationError(f"no compiled contract named {name}") from None
