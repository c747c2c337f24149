"""The OpenAPI document is a true contract: schemathesis fuzzes every operation of the real server
(devnet, contracts, database, HTTP) with each role's token and checks that no answer is a server
error and that every status, content type and body is the one the document declares.

It runs against a system of its own (module scope): fuzzing as the admin registers departments and
regulators and may end the demo's agreements, which must not leak into the session's shared system.
"""

from __future__ import annotations

import collections
import re
import time

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from ledger.client import ApiClient
from tests.support.system import running_system

pytestmark = pytest.mark.e2e

ROLES = ("admin", "dept-hrss", "citizen-zhang", "regulator", "emergency-officer-1")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Generated cases per operation, generation mode (inputs that fit the schema, inputs that do not) and
#: role: at most 5 roles x 50 operations x 2 modes x this requests, a few minutes in all.
MAX_EXAMPLES = 10
CASES: collections.Counter = collections.Counter()
STATUSES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@pytest.fixture(scope="module")
def contract_system(tmp_path_factory):
    # The fuzzer sends requests far faster than a person: the per-principal budget is no concern here.
    with running_system(tmp_path_factory.mktemp("openapi-home"),
                        extra_env={"CONSENT_LEDGER_RATE_LIMIT": "0", "CONSENT_LEDGER_AUTH_RATE_LIMIT": "0",
                                   "CONSENT_LEDGER_CHALLENGE_RATE_LIMIT": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(contract_system):
    from ledger import keystore

    out = {}
    for name in ROLES:
        client = ApiClient(contract_system.api_url, keystore.load_key(name)).login()
        out[name] = client.token
        client.close()
    return out


def _fuzz(operation, mode, token: str, base_url: str, failures: list[str], statuses: collections.Counter) -> int:
    """Run up to MAX_EXAMPLES generated cases of one operation; returns how many ran."""
    ran = 0

    @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.generate], suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal ran
        ran += 1
        response = case.call(base_url=base_url, headers={"authorization": f"Bearer {token}"}, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as exc:  # one or more failed checks
            failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:  # nothing to break: no parameters and no body (negative mode)
        pass
    return ran


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_in_the_contract(role, tokens, contract_system):
    """Every operation, positive and negative inputs, as this role: zero failed checks."""
    schema = schemathesis.openapi.from_url(contract_system.api_url + "/openapi.json")
    failures: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            CASES[role] += _fuzz(operation, mode, tokens[role], contract_system.api_url, failures, STATUSES[role])
    print(f"\nschemathesis as {role}: {CASES[role]} cases in {time.monotonic() - started:.1f} s, "
          f"{len(failures)} failures; statuses {dict(sorted(STATUSES[role].items()))}")
    assert failures == [], "\n\n".join(failures)
