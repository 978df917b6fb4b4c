"""Read-only queries for the CLI and the Atom feed, and the one outbox change the CLI makes.

Each returns frozen records, so that nothing outside db/ touches a session's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.records import InspectionOutcome
from db.changes import event_outcome
from db.models import ChangeRow, InspectionEventRow, OutboxRow


@dataclass(frozen=True)
class StoredEvent:
    """An inspection event as its current outcome, and how many pages observed it."""

    outcome: InspectionOutcome
    observations: int


def stored_events(
    session: Session,
    authority_code: str | None = None,
    event_type: str | None = None,
    status: str | None = None,
) -> list[StoredEvent]:
    query = select(InspectionEventRow)
    if authority_code:
        query = query.where(InspectionEventRow.authority_code == authority_code)
    if event_type:
        query = query.where(InspectionEventRow.event_type == event_type)
    if status:
        query = query.where(InspectionEventRow.status == status)
    return [StoredEvent(event_outcome(e), len(e.observations)) for e in session.scalars(query)]


def outbox_counts(session: Session) -> dict[str, int]:
    """Alerts by status: pending, sent, dead."""
    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {status: count for status, count in rows}


@dataclass(frozen=True)
class QueuedAlert:
    """One outbox row as the CLI lists it."""

    id: int
    status: str
    channel: str
    event_type: str
    attempts: int
    subject: str | None
    last_error: str | None


def queued_alerts(session: Session, status: str | None = None) -> list[QueuedAlert]:
    query = select(OutboxRow).order_by(OutboxRow.id)
    if status is not None:
        query = query.where(OutboxRow.status == status)
    return [
        QueuedAlert(r.id, r.status, r.channel, r.event_type, r.attempts, r.subject, r.last_error)
        for r in session.scalars(query)
    ]


def matching_alerts(
    session: Session, alert_id: int | None, dead: bool, channel: str | None
) -> list[OutboxRow]:
    """The outbox rows one `alerts retry`/`discard` names: by id, every dead one, or a channel's
    undelivered ones (pending or dead)."""
    query = select(OutboxRow)
    if alert_id is not None:
        query = query.where(OutboxRow.id == alert_id)
    if dead:
        query = query.where(OutboxRow.status == "dead")
    if channel is not None:
        query = query.where(OutboxRow.channel == channel, OutboxRow.status.in_(UNDELIVERED))
    return list(session.scalars(query.order_by(OutboxRow.id)))


UNDELIVERED = ("pending", "dead")


def queue_again(
    rows: Sequence[OutboxRow], now: datetime, due_for: Callable[[str], datetime]
) -> list[datetime]:
    """Make alerts pending again, with their idempotency keys, each due when its channel next
    sends (`due_for(channel)`); the due times."""
    dues = []
    for row in rows:
        row.status, row.next_attempt_at, row.lease_until = "pending", due_for(row.channel), None
        row.created_at = now
        dues.append(row.next_attempt_at)
    return dues


def discard(rows: Sequence[OutboxRow]) -> int:
    """Give up on undelivered alerts on purpose: kept for the record, never sent, not counted
    as a problem by `status`. A sent alert stays sent."""
    chosen = [row for row in rows if row.status in UNDELIVERED]
    for row in chosen:
        row.status, row.lease_until = "discarded", None
    return len(chosen)


@dataclass(frozen=True)
class DecidedChange:
    """One alert decision as the Atom feed shows it."""

    key: str
    type: str
    subject: str
    created_at: datetime
    payload: dict[str, Any]


def recent_changes(session: Session, types: Sequence[str], limit: int) -> list[DecidedChange]:
    """The newest alert decisions of these types first."""
    query = (
        select(ChangeRow)
        .where(ChangeRow.type.in_(list(types)))
        .order_by(ChangeRow.created_at.desc(), ChangeRow.id.desc())
        .limit(limit)
    )
    return [
        DecidedChange(c.key, c.type, c.subject, c.created_at, c.payload)
        for c in session.scalars(query)
    ]
