"""Turn the events a pass touched into ChangeEvents: new, changed, confirmed, coverage mismatch.

Each event gets one outcome alert (new or changed), at most one confirmation, and one mismatch per
contradicting page; flags on the rows make every decision once, so a re-run sends nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawler.authorities import AuthorityRegistry
from crawler.records import AlertType, ChangeEvent, InspectionOutcome, SourceRef, sort_judgements
from db.history import event_date
from db.models import InspectionEventRow, ObservationRow

COMBINED = "children_in_care_and_care_leavers"
SPLIT = ("children_in_care", "care_leavers")
MAX_EVIDENCE = 8


def collect_changes(session: Session, now: datetime) -> list[ChangeEvent]:
    """Every alert that the stored state now calls for, marking each as decided."""
    changes: list[ChangeEvent] = []
    for event in _candidates(session):
        changes.extend(_event_changes(session, event, now))
    return changes


def acknowledge(session: Session) -> int:
    """Mark every pending decision as made without alerting (an explicit baseline)."""
    events = _candidates(session)
    for event in events:
        event.alerted = event.confirmation_alerted = True
        for observation in event.observations:
            observation.mismatch_alerted = True
    return len(events)


def _candidates(session: Session) -> list[InspectionEventRow]:
    query = select(InspectionEventRow).where(
        InspectionEventRow.historical.is_(False),
        or_(
            InspectionEventRow.alerted.is_(False),
            InspectionEventRow.confirmation_alerted.is_(False),
            InspectionEventRow.observations.any(ObservationRow.mismatch_alerted.is_(False)),
        ),
    )
    return list(session.scalars(query.order_by(InspectionEventRow.id)))


def _event_changes(session: Session, event: InspectionEventRow, now: datetime) -> list[ChangeEvent]:
    changes: list[ChangeEvent] = []
    previous = previous_outcome(session, event)
    if not event.alerted:
        kind = AlertType.CHANGED if grades_differ(event, previous) else AlertType.NEW
        changes.append(_change(kind, f"{kind}:{event.id}", event, previous, now))
        event.alerted = True
        event.confirmation_alerted = event.status == "confirmed"
    elif event.status == "confirmed" and not event.confirmation_alerted:
        key = f"outcome.confirmed:{event.id}"
        changes.append(_change(AlertType.CONFIRMED, key, event, previous, now))
        event.confirmation_alerted = True
    if event.status == "confirmed":
        changes.extend(_mismatches(event, previous, now))
    return changes


def _mismatches(
    event: InspectionEventRow, previous: InspectionOutcome | None, now: datetime
) -> list[ChangeEvent]:
    changes = []
    official = event_outcome(event)
    for observation in event.observations:
        if observation.mismatch_alerted or observation.status == "confirmed":
            continue
        observation.mismatch_alerted = True
        claimed = InspectionOutcome.from_json(observation.payload)
        if not contradicts(claimed, official):
            continue
        key = f"coverage.mismatch:{event.id}:{observation.id}"
        note = (
            f"{observation.page_url} says {_grades_text(claimed)}; "
            f"Ofsted says {_grades_text(official)}"
        )
        sources = [o for o in event.observations if o is observation or o.status == "confirmed"]
        change = _change(AlertType.MISMATCH, key, event, previous, now, sources)
        changes.append(replace(change, message=note, claim=claimed))
    return changes


def _change(
    kind: str,
    key: str,
    event: InspectionEventRow,
    previous: InspectionOutcome | None,
    now: datetime,
    observations: list[ObservationRow] | None = None,
) -> ChangeEvent:
    chosen = event.observations if observations is None else observations
    return ChangeEvent(
        type=kind,
        key=key,
        timestamp=now,
        outcome=event_outcome(event),
        previous=previous,
        sources=tuple(
            SourceRef(url=o.page_url, kind=o.source_kind, name=o.source_name) for o in chosen
        ),
    )


def event_outcome(event: InspectionEventRow) -> InspectionOutcome:
    """The event's merged state as an outcome, with the evidence of all its observations."""
    authority = AuthorityRegistry.load().by_ons(event.authority_code)
    best = _best_observation(event)
    base = InspectionOutcome.from_json(best.payload) if best else None
    evidence = tuple(dict.fromkeys(e for o in event.observations for e in o.payload["evidence"]))
    return InspectionOutcome(
        local_authority=authority.short_name if authority else event.authority_code,
        ons_code=event.authority_code,
        event_type=event.event_type,
        framework=event.framework,
        overall=event.overall,
        judgements=sort_judgements({j.area: j.grade for j in event.judgements}),
        send_outcome=event.send_outcome,
        inspection_start=event.inspection_start,
        inspection_end=event.inspection_end,
        published=event.published,
        previous_overall=base.previous_overall if base else None,
        previous_year=base.previous_year if base else None,
        confidence=max((o.confidence for o in event.observations), default=1.0),
        evidence=evidence[:MAX_EVIDENCE],
        status=event.status,
        source_url=best.page_url if best else None,
        lead_inspector=base.lead_inspector if base else None,
        priority_action=event.priority_action,
        pilot=event.pilot,
    )


def _best_observation(event: InspectionEventRow) -> ObservationRow | None:
    ranked = sorted(event.observations, key=lambda o: (o.status != "confirmed", -o.confidence))
    return ranked[0] if ranked else None


def previous_outcome(session: Session, event: InspectionEventRow) -> InspectionOutcome | None:
    """The council's last graded inspection before this event, if any is stored."""
    query = select(InspectionEventRow).where(
        InspectionEventRow.authority_code == event.authority_code,
        InspectionEventRow.event_type == "inspection",
        InspectionEventRow.pilot.is_(False),
        InspectionEventRow.id != event.id,
    )
    when = event_date(event)
    earlier = [e for e in session.scalars(query) if _graded(e) and event_date(e) < when]
    if not earlier:
        return None
    return event_outcome(max(earlier, key=event_date))


def _graded(event: InspectionEventRow) -> bool:
    return event.overall is not None or bool(event.judgements)


def comparable_pairs(new: dict[str, str], old: dict[str, str]) -> list[tuple[str, str, str]]:
    """(area, old grade, new grade) compared like for like across framework versions."""
    pairs = [(area, old[area], grade) for area, grade in new.items() if area in old]
    if COMBINED in old:
        pairs += [(a, old[COMBINED], new[a]) for a in SPLIT if a in new]
    if COMBINED in new:
        pairs += [(a, old[a], new[COMBINED]) for a in SPLIT if a in old]
    return pairs


def _grade_map(outcome: InspectionOutcome | InspectionEventRow) -> dict[str, str]:
    if isinstance(outcome, InspectionOutcome):
        grades = outcome.judgement_map
    else:
        grades = {j.area: j.grade for j in outcome.judgements}
    if outcome.overall:
        grades["overall"] = outcome.overall
    return grades


def grades_differ(event: InspectionEventRow, previous: InspectionOutcome | None) -> bool:
    if previous is None or event.event_type != "inspection":
        return False
    pairs = comparable_pairs(_grade_map(event), _grade_map(previous))
    return any(old != new for _, old, new in pairs)


def contradicts(claimed: InspectionOutcome, official: InspectionOutcome) -> bool:
    """A page contradicts Ofsted when a grade it states differs from the report's grade."""
    pairs = comparable_pairs(_grade_map(claimed), _grade_map(official))
    return any(old != new for _, old, new in pairs)


def _grades_text(outcome: InspectionOutcome) -> str:
    grades: dict[str, Any] = _grade_map(outcome)
    return ", ".join(f"{area} {grade}" for area, grade in sorted(grades.items())) or "no grade"
