"""The application as built by ``create_app``: every integer a client can send is bounded."""

from __future__ import annotations

import pytest

from ledger.settings import Settings

pytestmark = pytest.mark.unit


# -- every integer a client can send is bounded ---------------------------------------------------------------
def _integers(schema: dict, where: str, components: dict, seen: tuple = ()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], where, components, seen + (name,))
        return
    if schema.get("type") == "integer":
        yield where, schema.get("minimum", schema.get("exclusiveMinimum")), \
            schema.get("maximum", schema.get("exclusiveMaximum"))
    for name, sub in schema.get("properties", {}).items():
        yield from _integers(sub, f"{where}.{name}", components, seen)
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            yield from _integers(sub, where, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _integers(schema[key], f"{where}[]", components, seen)


def test_every_integer_parameter_and_body_field_is_bounded(tmp_path):
    """The database holds 64-bit signed integers: an unbounded one is a 500 waiting for a big number."""
    from api.main import create_app

    app = create_app(Settings(data_dir=tmp_path, rpc_url="", database_url="", jwt_secret=b"k" * 32,
                              public_url="http://127.0.0.1:8000"))
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            sources = [(p["schema"], f"{method.upper()} {path} {p['in']}:{p['name']}")
                       for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                sources.append((body, f"{method.upper()} {path} body"))
            for schema, where in sources:
                found += list(_integers(schema, where, components))
    assert found, "no integer inputs found: the walk is broken"
    unbounded = [(where, low, high) for where, low, high in found
                 if low is None or high is None or low < -(2**63) or high > 2**63 - 1]
    assert unbounded == []
