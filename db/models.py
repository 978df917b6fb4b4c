"""SQLAlchemy 2.0 typed models: councils, pages, events with numbered versions, runs and the outbox.

History is kept as items plus versions: `inspection_event` holds the current state of one Ofsted
event, `inspection_version` every state it has had, and `observation` what each source said.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class AuthorityRow(Base):
    """A council, current or former, seeded from the registry."""

    __tablename__ = "authority"
    ons_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(60))
    ofsted_urn: Mapped[str | None] = mapped_column(String(20), index=True)
    dfe_code: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    successors: Mapped[list[Any]] = mapped_column(default=list)


class PageRow(Base):
    """A fetched URL, its validators and the hash of its last body."""

    __tablename__ = "page"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_fetched: Mapped[datetime] = mapped_column(DateTime)
    last_changed: Mapped[datetime] = mapped_column(DateTime)
    parse_error: Mapped[str | None] = mapped_column(Text)
    outcome_count: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[date | None] = mapped_column(Date)  # an article's own date, when known


class InspectionEventRow(Base):
    """One Ofsted event for one council: its current, merged state."""

    __tablename__ = "inspection_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authority.ons_code"), index=True)
    event_type: Mapped[str] = mapped_column(String(30))
    framework: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    overall: Mapped[str | None] = mapped_column(String(30))
    send_outcome: Mapped[str | None] = mapped_column(String(30))
    inspection_start: Mapped[date | None] = mapped_column(Date)
    inspection_end: Mapped[date | None] = mapped_column(Date)
    published: Mapped[date | None] = mapped_column(Date)
    priority_action: Mapped[bool | None] = mapped_column(Boolean)
    pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmation_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    touched_run: Mapped[int | None] = mapped_column(Integer, index=True)
    first_seen_run: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    judgements: Mapped[list[JudgementRow]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin"
    )
    observations: Mapped[list[ObservationRow]] = relationship(
        back_populates="event", lazy="selectin", order_by="ObservationRow.id"
    )


class JudgementRow(Base):
    """One graded area of one event; frameworks add or drop areas without a schema change."""

    __tablename__ = "judgement"
    event_id: Mapped[int] = mapped_column(ForeignKey("inspection_event.id"), primary_key=True)
    area: Mapped[str] = mapped_column(String(60), primary_key=True)
    grade: Mapped[str] = mapped_column(String(30))
    event: Mapped[InspectionEventRow] = relationship(back_populates="judgements")


class InspectionVersionRow(Base):
    """Every state an event has had, numbered, with the canonical payload and its hash."""

    __tablename__ = "inspection_version"
    __table_args__ = (UniqueConstraint("event_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("inspection_event.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ObservationRow(Base):
    """What one page said about one event, with its evidence."""

    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("page_url", "event_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("inspection_event.id"), index=True)
    page_url: Mapped[str] = mapped_column(String(2000))
    source_name: Mapped[str] = mapped_column(String(100))
    source_kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    content_hash: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column()
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    mismatch_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    event: Mapped[InspectionEventRow] = relationship(back_populates="observations")


class RunRow(Base):
    """One pass: when, how it ended, and counts per source."""

    __tablename__ = "run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)


class SourceStateRow(Base):
    """Each source's schedule, lease and health between passes."""

    __tablename__ = "source_state"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None] = mapped_column(DateTime)
    baseline_done: Mapped[bool] = mapped_column(Boolean, default=False)
    last_alert_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)


class ChangeRow(Base):
    """Every alert decision once, whatever the channels: the source of the Atom feed."""

    __tablename__ = "change"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(30), index=True)
    subject: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class OutboxRow(Base):
    """One alert for one channel, written with the event that caused it and delivered after."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("channel", "event_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(100), index=True)
    event_key: Mapped[str] = mapped_column(String(200))
    message_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)


class DeliveryAttemptRow(Base):
    """Every attempt to deliver an outbox row: time, code, latency, error."""

    __tablename__ = "delivery_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    code: Mapped[str | None] = mapped_column(String(20))
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(Text)
