"""Merge observations into inspection events, version them, and decide which changes are news.

One Ofsted event is one row however many pages report it. A page's claim is an observation; the
event's state is Ofsted's report when there is one, else the first press report, filled in
by later ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.records import InspectionOutcome, sort_judgements
from db.models import InspectionEventRow, InspectionVersionRow, JudgementRow, ObservationRow

logger = logging.getLogger(__name__)

SAME_FIELDWORK = timedelta(days=21)
SAME_PUBLICATION = timedelta(days=75)
# A story whose event is this much older than the council's newest known event is history, not news.
OLD_STORY = timedelta(days=180)


@dataclass(frozen=True)
class Observed:
    """One outcome read from one page, with where and when it was read."""

    outcome: InspectionOutcome
    page_url: str
    source_name: str
    source_kind: str
    fetched_at: datetime
    article_date: date | None = None


def canonical_hash(payload: dict[str, Any]) -> str:
    """A hash of the canonical JSON of a payload (sorted keys, no volatile fields)."""
    stable = {k: v for k, v in payload.items() if k not in ("confidence", "evidence")}
    text = json.dumps(stable, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def outcome_date(outcome: InspectionOutcome, fallback: date) -> date:
    """The best date of an outcome: publication, then fieldwork end or start, then the fallback."""
    return outcome.published or outcome.inspection_end or outcome.inspection_start or fallback


def event_date(event: InspectionEventRow) -> date:
    return (
        event.published or event.inspection_end or event.inspection_start or event.created_at.date()
    )


class History:
    """Records observations for one pass (run) and keeps events and versions up to date."""

    def __init__(self, session: Session, run_id: int | None, now: datetime):
        self.session = session
        self.run_id = run_id
        self.now = now

    def record(self, observed: Observed, *, baseline: bool) -> str:
        """Store one observation; returns unresolved, unchanged, new-event or merged."""
        outcome = observed.outcome
        if not outcome.ons_code:
            return "unresolved"
        existing = self._observation_for_page(observed)
        if existing is not None and existing.content_hash == _observation_hash(observed):
            return "unchanged"
        when = outcome_date(outcome, observed.article_date or observed.fetched_at.date())
        candidates = self._events(outcome.ons_code, outcome.event_type, outcome.pilot)
        event = existing.event if existing else _match(candidates, outcome, when)
        if event is None:
            old = self._is_old(outcome.ons_code, when)
            event = self._create(outcome, historical=baseline or old)
            self._observe(event, observed, existing)
            return "new-event"
        self._observe(event, observed, existing)
        self._merge(event, outcome)
        return "merged"

    def _is_old(self, code: str, when: date) -> bool:
        """Older than the council's newest stored event of any kind by more than OLD_STORY."""
        query = select(InspectionEventRow).where(InspectionEventRow.authority_code == code)
        newest = max((event_date(e) for e in self.session.scalars(query)), default=None)
        return newest is not None and when < newest - OLD_STORY

    def _events(self, code: str, event_type: str, pilot: bool) -> list[InspectionEventRow]:
        query = select(InspectionEventRow).where(
            InspectionEventRow.authority_code == code,
            InspectionEventRow.event_type == event_type,
            InspectionEventRow.pilot == pilot,
        )
        return list(self.session.scalars(query))

    def _observation_for_page(self, observed: Observed) -> ObservationRow | None:
        outcome = observed.outcome
        query = (
            select(ObservationRow)
            .join(InspectionEventRow)
            .where(
                ObservationRow.page_url == observed.page_url,
                InspectionEventRow.authority_code == outcome.ons_code,
                InspectionEventRow.event_type == outcome.event_type,
            )
        )
        return self.session.scalars(query).first()

    def _create(self, outcome: InspectionOutcome, *, historical: bool) -> InspectionEventRow:
        event = InspectionEventRow(
            authority_code=outcome.ons_code,
            event_type=outcome.event_type,
            status=outcome.status,
            pilot=outcome.pilot,
            version=0,
            historical=historical,
            alerted=historical,
            confirmation_alerted=historical,
            first_seen_run=self.run_id,
            created_at=self.now,
            updated_at=self.now,
        )
        _apply(event, outcome, self.session)
        self.session.add(event)
        self.session.flush()
        self._new_version(event)
        return event

    def _observe(
        self, event: InspectionEventRow, observed: Observed, row: ObservationRow | None
    ) -> None:
        if row is None:
            row = ObservationRow(page_url=observed.page_url, first_seen=self.now)
            row.mismatch_alerted = event.historical
            event.observations.append(row)
        row.source_name = observed.source_name
        row.source_kind = observed.source_kind
        row.status = observed.outcome.status
        row.confidence = observed.outcome.confidence
        row.payload = observed.outcome.to_json()
        row.content_hash = _observation_hash(observed)
        row.fetched_at = observed.fetched_at
        event.touched_run = self.run_id
        self.session.flush()

    def _merge(self, event: InspectionEventRow, outcome: InspectionOutcome) -> None:
        before = _state(event)
        if outcome.status == "confirmed":
            _apply(event, outcome, self.session)
            event.status = "confirmed"
        elif event.status == "reported":
            _fill_gaps(event, outcome, self.session)
        if _state(event) != before:
            event.updated_at = self.now
            self._new_version(event)

    def _new_version(self, event: InspectionEventRow) -> None:
        payload = _state(event)
        event.version += 1
        self.session.add(
            InspectionVersionRow(
                event_id=event.id,
                version=event.version,
                content_hash=canonical_hash(payload),
                payload=payload,
                run_id=self.run_id,
                created_at=self.now,
            )
        )


def _observation_hash(observed: Observed) -> str:
    return canonical_hash({**observed.outcome.to_json(), "source": observed.source_name})


def _match(
    candidates: list[InspectionEventRow], outcome: InspectionOutcome, when: date
) -> InspectionEventRow | None:
    """The stored event this outcome describes: fieldwork that overlaps or nearly does, or
    publication close together.

    Fieldwork is compared as spans, so that a story that says only "in June 2023" (the whole
    month) joins the report for 26 to 30 June 2023 instead of starting an event of its own.
    """
    for event in candidates:
        if event.inspection_start and outcome.inspection_start:
            if _fieldwork_meets(event, outcome):
                return event
            continue
        if abs(event_date(event) - when) <= SAME_PUBLICATION:
            return event
    return None


def _fieldwork_meets(event: InspectionEventRow, outcome: InspectionOutcome) -> bool:
    assert event.inspection_start is not None and outcome.inspection_start is not None
    first = (event.inspection_start, event.inspection_end or event.inspection_start)
    second = (outcome.inspection_start, outcome.inspection_end or outcome.inspection_start)
    gap = max(first[0], second[0]) - min(first[1], second[1])  # negative when they overlap
    return gap <= SAME_FIELDWORK


def _apply(event: InspectionEventRow, outcome: InspectionOutcome, session: Session) -> None:
    """Make the event say exactly what the outcome says (Ofsted's report is authoritative)."""
    event.framework = outcome.framework
    event.overall = outcome.overall
    event.send_outcome = outcome.send_outcome
    event.inspection_start = outcome.inspection_start
    event.inspection_end = outcome.inspection_end
    event.published = outcome.published or event.published
    event.priority_action = outcome.priority_action
    _set_judgements(event, outcome.judgement_map, session)


def _fill_gaps(event: InspectionEventRow, outcome: InspectionOutcome, session: Session) -> None:
    """A later press report may add what the first one left out, never overwrite it."""
    if event.framework == "unknown":
        event.framework = outcome.framework
    event.overall = event.overall or outcome.overall
    event.send_outcome = event.send_outcome or outcome.send_outcome
    event.inspection_start = event.inspection_start or outcome.inspection_start
    event.inspection_end = event.inspection_end or outcome.inspection_end
    event.published = event.published or outcome.published
    merged = {**outcome.judgement_map, **{j.area: j.grade for j in event.judgements}}
    _set_judgements(event, merged, session)


def _set_judgements(event: InspectionEventRow, grades: dict[str, str], session: Session) -> None:
    current = {j.area: j.grade for j in event.judgements}
    if current == grades:
        return
    event.judgements.clear()
    session.flush()
    event.judgements.extend(JudgementRow(area=a, grade=g) for a, g in sorted(grades.items()))


def _state(event: InspectionEventRow) -> dict[str, Any]:
    """The canonical, comparable state of an event."""
    return {
        "authority": event.authority_code,
        "event_type": event.event_type,
        "framework": event.framework,
        "status": event.status,
        "overall": event.overall,
        "judgements": dict(sort_judgements({j.area: j.grade for j in event.judgements})),
        "send_outcome": event.send_outcome,
        "inspection_start": _iso(event.inspection_start),
        "inspection_end": _iso(event.inspection_end),
        "published": _iso(event.published),
        "priority_action": event.priority_action,
        "pilot": event.pilot,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
