"""The outbox: alerts are queued in the same transaction as the events, then delivered with leases.

A row is claimed with a lease (SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises
writers), sent, and marked in a second transaction. A crash between the two leaves the row to be
sent again after the lease expires, with the same webhook-id / Message-ID, so receivers can drop it.
"""

from __future__ import annotations

import hashlib
import logging
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.config import DELIVERY_EVENTS, ChannelConfig
from alerts.digest import digest_event, next_digest
from alerts.render import render
from alerts.routing import channel_wants
from crawler.authorities import AuthorityRegistry
from crawler.records import AlertType, ChangeEvent, DeliveryResult
from db.engine import Database
from db.models import ChangeRow, DeliveryAttemptRow, OutboxRow

logger = logging.getLogger(__name__)
GONE = "410"  # the delivery result code of an endpoint that answered 410 Gone

LEASE = timedelta(minutes=5)
FIRST_RETRY = 30.0
MAX_RETRY = 6 * 3600.0


class Sender(Protocol):
    """What the dispatcher needs of a channel: send one event under a stable key."""

    def send(
        self, event: ChangeEvent, *, message_key: str, dry_run: bool = False
    ) -> DeliveryResult: ...


@dataclass(frozen=True)
class Delivered:
    """One delivery attempt as the dispatcher reports it."""

    outbox_id: int
    channel: str
    event_type: str
    recipient: str
    subject: str
    result: DeliveryResult


def message_key(channel: str, event_key: str) -> str:
    """A stable identity for one alert on one channel: the webhook-id and the Message-ID."""
    digest = hashlib.sha256(f"{channel}|{event_key}".encode()).hexdigest()[:32]
    return f"msg_{digest}"


def _region(event: ChangeEvent) -> str | None:
    if event.outcome is None or event.outcome.ons_code is None:
        return None
    authority = AuthorityRegistry.load().by_ons(event.outcome.ons_code)
    return authority.region if authority else None


def enqueue(
    session: Session,
    events: Iterable[ChangeEvent],
    channels: Iterable[ChannelConfig],
    now: datetime,
) -> int:
    """Log each event once and queue it for every channel that wants it; returns rows queued.
    Idempotent per key."""
    configs = list(channels)
    added = 0
    for event in events:
        _log(session, event, now)
        for cfg in configs:
            if channel_wants(cfg, event, _region(event)) and _add(session, cfg, event, now):
                added += 1
    return added


def _log(session: Session, event: ChangeEvent, now: datetime) -> None:
    if session.scalar(select(ChangeRow.id).where(ChangeRow.key == event.key)) is None:
        subject = render(event).subject
        session.add(
            ChangeRow(
                key=event.key,
                type=event.type,
                subject=subject,
                payload=event.to_payload(),
                created_at=now,
            )
        )


def _add(session: Session, cfg: ChannelConfig, event: ChangeEvent, now: datetime) -> bool:
    channel = cfg.name
    exists = session.scalar(
        select(OutboxRow.id).where(OutboxRow.channel == channel, OutboxRow.event_key == event.key)
    )
    if exists is not None:
        return False
    session.add(
        OutboxRow(
            channel=channel,
            event_key=event.key,
            message_key=message_key(channel, event.key),
            event_type=event.type,
            payload=event.to_payload(),
            status="pending",
            attempts=0,
            next_attempt_at=next_digest(cfg.digest, cfg.timezone, now) if cfg.digest else now,
            created_at=now,
            subject=render(event).subject,
        )
    )
    return True


class Dispatcher:
    """Delivers due outbox rows through their channels, retrying with backoff until they die."""

    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        *,
        retry_hours: float = 48.0,
        dry_run: bool = False,
        configs: Iterable[ChannelConfig] = (),
        lease: timedelta = LEASE,
    ):
        self.database = database
        self.senders = senders
        self.retry_window = timedelta(hours=retry_hours)
        self.dry_run = dry_run
        self.configs = list(configs)
        self.lease = lease
        self.owner = uuid.uuid4().hex

    def run(self, now: datetime, limit: int = 200) -> list[Delivered]:
        """Claim what is due, send it, and record every attempt. A digest channel's due alerts
        go out together as one message."""
        claimed = self._claim(now, limit)
        digests = {c.name for c in self.configs if c.digest}
        singles = (self._deliver(row_id, now) for row_id, ch in claimed if ch not in digests)
        delivered = [d for d in singles if d is not None]
        for channel in digests:
            ids = [row_id for row_id, ch in claimed if ch == channel]
            delivered += [d for d in [self._deliver_digest(channel, ids, now)] if d]
        return delivered

    def _claim(self, now: datetime, limit: int) -> list[tuple[int, str]]:
        with self.database.transaction() as session:
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.status == "pending",
                    OutboxRow.next_attempt_at <= now,
                    OutboxRow.channel.in_(list(self.senders)),
                    (OutboxRow.lease_until.is_(None)) | (OutboxRow.lease_until < now),
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            )
            if self.database.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                row.lease_owner, row.lease_until = self.owner, now + self.lease
            return [(row.id, row.channel) for row in rows]

    def _deliver(self, row_id: int, now: datetime) -> Delivered | None:
        with self.database.transaction() as session:
            row = session.get_one(OutboxRow, row_id)
            if row.status != "pending":
                return None  # an earlier row of this batch found its endpoint gone
            event = ChangeEvent.from_payload(row.payload)
            key, channel = row.message_key, row.channel
        result = self.senders[channel].send(event, message_key=key, dry_run=self.dry_run)
        with self.database.transaction() as session:
            row = session.get_one(OutboxRow, row_id)
            self._record(session, row, result, now)
            return Delivered(
                row.id, channel, row.event_type, result.recipient, row.subject or "", result
            )

    def _deliver_digest(self, channel: str, ids: list[int], now: datetime) -> Delivered | None:
        with self.database.transaction() as session:
            rows = [
                r for r in (session.get_one(OutboxRow, i) for i in ids) if r.status == "pending"
            ]
            events = [ChangeEvent.from_payload(r.payload) for r in rows]
        if not rows:
            return None
        combined = digest_event(events, now)
        key = message_key(channel, combined.key)
        result = self.senders[channel].send(combined, message_key=key, dry_run=self.dry_run)
        with self.database.transaction() as session:
            for row_id in [r.id for r in rows]:
                self._record(session, session.get_one(OutboxRow, row_id), result, now)
        subject = render(combined).subject
        return Delivered(ids[0], channel, "digest", result.recipient, subject, result)

    def _record(
        self, session: Session, row: OutboxRow, result: DeliveryResult, now: datetime
    ) -> None:
        session.add(
            DeliveryAttemptRow(
                outbox_id=row.id,
                at=now,
                ok=result.ok,
                code=result.code,
                latency_ms=result.latency_ms,
                error=result.error,
                recipient=result.recipient,
            )
        )
        row.lease_owner, row.lease_until = None, None
        if result.dry_run:
            return
        row.attempts += 1
        if result.ok:
            recovering = _in_outage(session, row.channel)
            row.status, row.sent_at, row.last_error = "sent", now, None
            if recovering and row.event_type not in DELIVERY_EVENTS:
                self._notify(session, AlertType.DELIVERY_RECOVERED, row.channel, now,
                             "alerts are being delivered again")  # fmt: skip
            return
        row.last_error = result.error
        if result.permanent or now - row.created_at >= self.retry_window:
            self._dead(session, row, now, gone=result.code == GONE)
            return
        row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts, result.retry_after))
        logger.warning(
            "alert retry id=%d channel=%s attempt=%d next=%s error=%s",
            row.id,
            row.channel,
            row.attempts,
            row.next_attempt_at.isoformat(),
            result.error,
        )

    def _dead(self, session: Session, row: OutboxRow, now: datetime, gone: bool = False) -> None:
        """Dead-letter the row and tell the operators, through every other operator channel.

        `gone`: the endpoint answered 410 Gone, so its other queued alerts die with it.
        """
        row.status = "dead"
        logger.error("alert dead id=%d channel=%s error=%s", row.id, row.channel, row.last_error)
        if gone:
            _disable(session, row.channel, now)
        # A notice about delivery never causes another, and a channel's outage is told once:
        # otherwise two broken operator channels would tell each other about each other forever.
        if row.event_type in DELIVERY_EVENTS or _in_outage(session, row.channel):
            return
        what = row.subject or row.event_type
        message = f"{what!r} was not delivered: {row.last_error}"
        self._notify(session, AlertType.DELIVERY_FAILED, row.channel, now, message)

    def _notify(
        self, session: Session, kind: AlertType, channel: str, now: datetime, message: str
    ) -> None:
        """Tell every other operator channel about this channel's delivery."""
        notice = ChangeEvent(
            type=kind,
            key=f"{kind}:{channel}:{now.isoformat(timespec='seconds')}",
            timestamp=now,
            source_name=channel,
            message=message,
        )
        enqueue(session, [notice], [c for c in self.configs if c.name != channel], now)


def _in_outage(session: Session, channel: str) -> bool:
    """Whether operators were last told that this channel fails (not that it recovered)."""
    about = or_(
        *(
            ChangeRow.key.startswith(f"{kind}:{channel}:", autoescape=True)
            for kind in DELIVERY_EVENTS
        )
    )
    last = session.scalar(
        select(ChangeRow.type)
        .where(about)
        .order_by(ChangeRow.created_at.desc(), ChangeRow.id.desc())
        .limit(1)
    )
    return last == AlertType.DELIVERY_FAILED


def _disable(session: Session, channel: str, now: datetime) -> list[OutboxRow]:
    """An endpoint that answered 410 Gone is gone: its other queued alerts die with it."""
    rows = list(
        session.scalars(
            select(OutboxRow).where(OutboxRow.channel == channel, OutboxRow.status == "pending")
        )
    )
    for row in rows:
        row.status, row.last_error = "dead", "HTTP 410: the endpoint is gone"
    return rows


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds to wait: exponential with full jitter, never less than the server's Retry-After."""
    ceiling = min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return float(max(delay, retry_after or 0.0))
