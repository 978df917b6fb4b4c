"""Per-source state between passes: which sources are due, who holds them, whether they fail.

A source is leased to one pass at a time in the database, so overlapping cron runs, or a `run`
during `serve`, never crawl the same source twice at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from crawler.records import AlertType, ChangeEvent, SourceProblem
from crawler.sources import SourceConfig
from db.sources import SourceState

logger = logging.getLogger(__name__)

# Schedules are checked by passes that start a little early or late; half a minute is "on time".
SLACK = timedelta(seconds=30)


@dataclass(frozen=True)
class SourceOutcome:
    """How one source fared in one pass."""

    name: str
    pages: int
    outcomes: int
    problems: tuple[SourceProblem, ...]
    retry_after: float | None = None
    entries: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> tuple[str, ...]:
        """The problems as one line each, as operators read them."""
        return tuple(str(p) for p in self.problems)


def is_due(source: SourceConfig, state: SourceState, now: datetime) -> bool:
    """Never run, or its `every` interval or `cron` time has come, and no not-before holds it."""
    return next_due(source, state) <= now + SLACK


def next_due(source: SourceConfig, state: SourceState) -> datetime:
    """When the source may next run: its schedule after the last run, or a later not-before."""
    scheduled = datetime.min if state.last_run_at is None else _after(source, state.last_run_at)
    return max(scheduled, state.not_before or datetime.min)


def _after(source: SourceConfig, last: datetime) -> datetime:
    if source.cron:
        trigger = CronTrigger.from_crontab(source.cron, timezone="UTC")
        fire = trigger.get_next_fire_time(None, last.replace(tzinfo=trigger.timezone))
        return datetime.max if fire is None else fire.replace(tzinfo=None)
    return last + timedelta(seconds=source.every_seconds or 0)


def skip_reason(source: SourceConfig, state: SourceState, now: datetime) -> str:
    """Why a pass left the source alone, in the words an operator needs."""
    if not source.enabled:
        return "disabled"
    if state.not_before and state.not_before > now:
        return f"held until {state.not_before:%Y-%m-%d %H:%M} UTC (the site asked to wait)"
    due = next_due(source, state)
    if due > now + SLACK:
        return f"next due {due:%Y-%m-%d %H:%M} UTC"
    return "another pass holds it"


def lease(state: SourceState, owner: str, now: datetime, hold: timedelta) -> SourceState | None:
    """The source taken for this pass, or None when another live pass holds it."""
    held = state.lease_owner and state.lease_owner != owner
    if held and state.lease_until and state.lease_until > now:
        return None
    return replace(state, lease_owner=owner, lease_until=now + hold)


def settle(
    state: SourceState,
    result: SourceOutcome,
    now: datetime,
    failing_after: int,
    remind_every: timedelta = timedelta(days=1),
) -> tuple[SourceState, ChangeEvent | None]:
    """The source's state after the pass, and source.failing or source.recovered when it turns,
    or a reminder while it stays failing, at most once per `remind_every`."""
    state = replace(state, last_run_at=now, lease_owner=None, lease_until=None)
    if result.retry_after:
        state = replace(state, not_before=now + timedelta(seconds=result.retry_after))
    if result.pages:
        # The history this source shows on its first successful fetch is the baseline.
        state = replace(state, baseline_done=True)
    if result.ok:
        return _succeeded(state, now)
    state = replace(
        state,
        consecutive_failures=state.consecutive_failures + 1,
        last_error=result.errors[0][:2000],
    )
    if state.consecutive_failures >= failing_after and not state.failing:
        state = replace(state, failing=True, last_alert_at=now)
        return state, _health_event(AlertType.SOURCE_FAILING, state, now, state.last_error)
    if state.failing and state.last_alert_at and now - state.last_alert_at >= remind_every:
        state = replace(state, last_alert_at=now)
        note = f"still failing after {state.consecutive_failures} passes: {state.last_error}"
        return state, _health_event(AlertType.SOURCE_FAILING, state, now, note)
    return state, None


def _succeeded(state: SourceState, now: datetime) -> tuple[SourceState, ChangeEvent | None]:
    state = replace(state, last_success_at=now, consecutive_failures=0, last_error=None)
    if not state.failing:
        return state, None
    state = replace(state, failing=False, last_alert_at=now)
    message = "the source answers and parses again"
    return state, _health_event(AlertType.SOURCE_RECOVERED, state, now, message)


def _health_event(kind: str, state: SourceState, now: datetime, message: str | None) -> ChangeEvent:
    logger.warning("source health source=%s event=%s error=%s", state.name, kind, message)
    return ChangeEvent(
        type=kind,
        key=f"{kind}:{state.name}:{now.isoformat(timespec='seconds')}",
        timestamp=now,
        source_name=state.name,
        message=message,
    )
