"""Per-source state between passes: which sources are due, who holds them, whether they fail.

A source is leased to one pass at a time in the database, so overlapping cron runs, or a `run`
during `serve`, never crawl the same source twice at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from crawler.records import ChangeEvent
from crawler.sources import SourceConfig
from db.models import SourceStateRow

logger = logging.getLogger(__name__)

# Schedules are checked by passes that start a little early or late; half a minute is "on time".
SLACK = timedelta(seconds=30)


@dataclass(frozen=True)
class SourceOutcome:
    """How one source fared in one pass."""

    name: str
    pages: int
    outcomes: int
    errors: tuple[str, ...]
    retry_after: float | None = None
    entries: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def state_for(session: Session, source: SourceConfig) -> SourceStateRow:
    row = session.get(SourceStateRow, source.name)
    if row is None:
        row = SourceStateRow(name=source.name, kind=source.kind, consecutive_failures=0)
        row.failing, row.baseline_done = False, False
        session.add(row)
        session.flush()
    return row


def is_due(source: SourceConfig, row: SourceStateRow, now: datetime) -> bool:
    """Never run, or its `every` interval or `cron` time has come, and no not-before holds it."""
    if row.not_before and row.not_before > now:
        return False
    if row.last_run_at is None:
        return True
    if source.cron:
        trigger = CronTrigger.from_crontab(source.cron, timezone="UTC")
        fire = trigger.get_next_fire_time(None, row.last_run_at.replace(tzinfo=trigger.timezone))
        return fire is not None and fire.replace(tzinfo=None) <= now + SLACK
    interval = timedelta(seconds=source.every_seconds or 0)
    return row.last_run_at + interval <= now + SLACK


def lease(
    session: Session, row: SourceStateRow, owner: str, now: datetime, hold: timedelta
) -> bool:
    """Take the source for this pass unless another live pass holds it."""
    if row.lease_owner and row.lease_owner != owner and row.lease_until and row.lease_until > now:
        return False
    row.lease_owner, row.lease_until = owner, now + hold
    return True


def settle(
    row: SourceStateRow,
    result: SourceOutcome,
    now: datetime,
    failing_after: int,
    remind_every: timedelta = timedelta(days=1),
) -> ChangeEvent | None:
    """Record the pass on the source; returns source.failing or source.recovered when it turns,
    and a reminder while it stays failing, at most once per `remind_every`."""
    row.last_run_at, row.lease_owner, row.lease_until = now, None, None
    if result.retry_after:
        row.not_before = now + timedelta(seconds=result.retry_after)
    if result.pages:
        # The history this source shows on its first successful fetch is the baseline.
        row.baseline_done = True
    if result.ok:
        return _succeeded(row, now)
    row.consecutive_failures += 1
    row.last_error = result.errors[0][:2000]
    if row.consecutive_failures >= failing_after and not row.failing:
        row.failing, row.last_alert_at = True, now
        return _health_event("source.failing", row, now, row.last_error)
    if row.failing and row.last_alert_at and now - row.last_alert_at >= remind_every:
        row.last_alert_at = now
        note = f"still failing after {row.consecutive_failures} passes: {row.last_error}"
        return _health_event("source.failing", row, now, note)
    return None


def _succeeded(row: SourceStateRow, now: datetime) -> ChangeEvent | None:
    row.last_success_at, row.consecutive_failures, row.last_error = now, 0, None
    if not row.failing:
        return None
    row.failing, row.last_alert_at = False, now
    return _health_event("source.recovered", row, now, "the source answers and parses again")


def _health_event(
    kind: str, row: SourceStateRow, now: datetime, message: str | None
) -> ChangeEvent:
    logger.warning("source health source=%s event=%s error=%s", row.name, kind, message)
    return ChangeEvent(
        type=kind,
        key=f"{kind}:{row.name}:{now.isoformat(timespec='seconds')}",
        timestamp=now,
        source_name=row.name,
        message=message,
    )
