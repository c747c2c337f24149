"""The shared policy adapter (``policy_inputs.gather``) on a hand-folded projection."""

from __future__ import annotations

import pytest

from ledger import policy, policy_inputs
from tests.support.folded import CONSENT, DEPARTMENT, DEPARTMENT_ROLE, FIELDS, T, log, request, world

pytestmark = pytest.mark.unit


def test_adapter_allows_under_the_consent():
    decision = policy_inputs.gather(world(), request(), FIELDS).evaluate(int(T.timestamp()), lambda c: 0)
    assert decision.allowed and decision.consent_id == CONSENT


def test_department_without_its_role_is_not_a_department_until_regranted():
    state = world()
    state.apply("RoleRevoked", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}, log(11), 1_700_000_010)
    inputs = policy_inputs.gather(state, request(), FIELDS)
    assert inputs.department is not None and not inputs.department.active
    assert inputs.evaluate(int(T.timestamp()), lambda c: 0).reason is policy.Reason.NOT_DEPARTMENT
    state.apply("RoleGranted", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}, log(12), 1_700_000_020)
    assert policy_inputs.gather(state, request(), FIELDS).evaluate(int(T.timestamp()), lambda c: 0).allowed
