"""The regulations' clocks, each with the article that sets it, counted in working days
(:mod:`ledger.workdays`); one place for the API's due times, its overdue lists and the verifier.

- Sharing requests (永州市政务大数据管理办法 第十八条): answered within 10 working days.
- Verification of shared data (第二十一条): "提供部门应在5个工作日内予以校核。需延长校核期限的,应经提供部门负责人
  同意并告知使用部门,延长期限最长不得超过15个工作日" — 5 working days, once extended at most 15 in all.

- Objections (第三十四条): "市政务数据主管部门应在收到异议之日起的1个工作日内作出异议标注" — marked within 1
  working day of filing; then "属于市政务数据主管部门更正范围的,应在收到异议之日起的5个工作日内作出是否更正的决定",
  decided by the data authority within 5 working days of filing, or "属于政务部门更正范围的,应在收到异议之日起
  的2个工作日内转交相关政务部门办理。政务部门应在收到异议转办之日起5个工作日内作出是否更正的决定" — forwarded
  within 2 working days and decided by the provider within 5 working days of the forwarding.
- Emergency reviews (the green channel, 应急供需绿色通道): the regulator reviews each emergency within
  24 hours of its end (clock hours, not working days: an emergency does not wait for Monday).

A deadline that falls in a year whose official holiday arrangement is not published yet is not
guessed: :class:`Deadline` then has no ``at`` and says why in ``pending``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from ledger.domain_errors import CalendarNotPublished
from ledger.workdays import add_working_days

SHARING_ANSWER_WORKING_DAYS = 10
VERIFICATION_WORKING_DAYS = 5
VERIFICATION_MAX_WORKING_DAYS = 15
OBJECTION_MARK_WORKING_DAYS = 1
OBJECTION_FORWARD_WORKING_DAYS = 2
OBJECTION_DECIDE_WORKING_DAYS = 5
EMERGENCY_MAX_SECONDS = 72 * 3600  # the hard expiry a declaration or an extension may set, from now
EMERGENCY_REVIEW_SECONDS = 24 * 3600


class Deadline(NamedTuple):
    """When something is due (``at``, the last instant of the last working day), or why that is not
    known yet (``pending``)."""

    at: datetime | None
    pending: str | None = None

    def missed(self, done_at: int | None, now: float) -> bool:
        """Done after it (or not done and it has passed); False while the deadline is unknown."""
        if self.at is None:
            return False
        limit = self.at.timestamp()
        return done_at > limit if done_at is not None else now > limit

    def comes_due(self, now: float) -> bool:
        """Not passed yet, and due by the end of the next working day (a reminder's window); False while the
        deadline or the next working day is unknown."""
        if self.at is None:
            return False
        horizon = working_days_after(datetime.fromtimestamp(now, UTC), 1).at
        return horizon is not None and now <= self.at.timestamp() <= horizon.timestamp()


def working_days_after(start: int | datetime, days: int) -> Deadline:
    """The deadline ``days`` working days after ``start`` (unix seconds or an aware datetime)."""
    moment = datetime.fromtimestamp(start, UTC) if isinstance(start, int) else start
    try:
        return Deadline(add_working_days(moment, days))
    except CalendarNotPublished as exc:
        return Deadline(None, exc.message)


def verification_due(requested_at: int, extended_until: int | None) -> Deadline:
    """When the provider's answer to a verification request is due: 5 working days after the request, or
    the date of its one extension."""
    if extended_until is not None:
        return Deadline(datetime.fromtimestamp(extended_until, UTC))
    return working_days_after(requested_at, VERIFICATION_WORKING_DAYS)


def emergency_review_due(until: int) -> Deadline:
    """When the regulator's review of an emergency that ends at ``until`` is due."""
    return Deadline(datetime.fromtimestamp(until + EMERGENCY_REVIEW_SECONDS, UTC))


class ObjectionClocks(NamedTuple):
    """An objection's three deadlines: marking, forwarding (if the provider is to decide), and the decision,
    which runs from the forwarding once there is one."""

    mark: Deadline
    forward: Deadline
    decide: Deadline


def objection_due(filed_at: int, forwarded_at: int | None) -> ObjectionClocks:
    """The clocks of an objection filed at ``filed_at`` (and forwarded at ``forwarded_at``, if it was)."""
    decide = working_days_after(forwarded_at if forwarded_at is not None else filed_at, OBJECTION_DECIDE_WORKING_DAYS)
    return ObjectionClocks(working_days_after(filed_at, OBJECTION_MARK_WORKING_DAYS),
                           working_days_after(filed_at, OBJECTION_FORWARD_WORKING_DAYS), decide)

