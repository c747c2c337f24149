"""ABI encoding and decoding for one contract, precomputed once (no web3 objects per call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address


def abi_type(item: dict) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in item["components"]) + ")" + kind[len("tuple"):]
    return kind


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def encode(self, *args: Any) -> str:
        return "0x" + (self.selector + abi_encode(list(self.inputs), list(args))).hex()

    def decode(self, data: str | bytes) -> tuple:
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else data
        return _normalize(abi_decode(list(self.outputs), raw))


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    topic: str  # 0x-hex topic0
    indexed: tuple[tuple[str, str], ...]  # (name, type)
    data: tuple[tuple[str, str], ...]

    def decode(self, log: dict) -> dict[str, Any]:
        """Event arguments by name; indexed dynamic types come back as their topic hash."""
        values: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, log["topics"][1:]):
            raw = bytes.fromhex(topic[2:])
            static = not (kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("))
            values[name] = _normalize(abi_decode([kind], raw))[0] if static else raw
        if self.data:
            decoded = abi_decode([k for _, k in self.data], bytes.fromhex(log["data"][2:]))
            for (name, _), value in zip(self.data, _normalize(decoded)):
                values[name] = value
        return values


def _normalize(values: tuple) -> tuple:
    """Addresses checksummed, nested tuples/lists kept."""
    out = []
    for value in values:
        if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
            out.append(to_checksum_address(value))
        elif isinstance(value, (tuple, list)):
            out.append(type(value)(_normalize(tuple(value))))
        else:
            out.append(value)
    return tuple(out)


class ContractABI:
    """Functions and events of one contract ABI, by name and by topic."""

    def __init__(self, abi: list[dict]):
        self.abi = abi
        self.functions: dict[str, Function] = {}
        self.events: dict[str, Event] = {}
        self.events_by_topic: dict[str, Event] = {}
        for item in abi:
            if item.get("type") == "function":
                inputs = tuple(abi_type(i) for i in item["inputs"])
                signature = f"{item['name']}({','.join(inputs)})"
                self.functions[item["name"]] = Function(
                    item["name"], keccak(text=signature)[:4], inputs,
                    tuple(abi_type(o) for o in item.get("outputs", [])),
                )
            elif item.get("type") == "event":
                types = [abi_type(i) for i in item["inputs"]]
                topic = "0x" + keccak(text=f"{item['name']}({','.join(types)})").hex()
                event = Event(
                    item["name"], topic,
                    tuple((i["name"], abi_type(i)) for i in item["inputs"] if i.get("indexed")),
                    tuple((i["name"], abi_type(i)) for i in item["inputs"] if not i.get("indexed")),
                )
                self.events[item["name"]] = event
                self.events_by_topic[topic] = event
        self.constructor_inputs = next(
            (tuple(abi_type(i) for i in item["inputs"]) for item in abi if item.get("type") == "constructor"), ()
        )

    def function(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"the contract has no function {name}") from None

    def decode_log(self, log: dict) -> tuple[str, dict[str, Any]] | None:
        topics = log.get("topics") or []
        event = self.events_by_topic.get(topics[0]) if topics else None
        return (event.name, event.decode(log)) if event else None
