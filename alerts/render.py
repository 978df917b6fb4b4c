"""Turn a ChangeEvent into the words people read: a subject line, a text body and an HTML body.

Python builds a plain view model of strings; the Jinja2 templates in alerts/templates lay it out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jinja2

from crawler.authorities import AuthorityRegistry
from crawler.records import AlertType, ChangeEvent, InspectionOutcome, SourceRef
from db.changes import COMBINED, SPLIT, comparable_pairs

logger = logging.getLogger(__name__)

GRADE_LABELS = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
    "adequate": "Adequate",
    "satisfactory": "Satisfactory",
    "poor": "Poor",
}
AREA_LABELS = {
    "overall": "Overall effectiveness",
    "leaders": "Impact of leaders",
    "help_and_protection": "Help and protection",
    "children_in_care_and_care_leavers": "Children in care and care leavers",
    "children_in_care": "Children in care",
    "care_leavers": "Care leavers",
    "adoption": "Adoption performance",
    "lscb": "Local Safeguarding Children Board",
}
# The single inspection framework named two areas differently; readers know those names.
SIF_AREA_LABELS = {
    "leaders": "Leadership, management and governance",
    "children_in_care": "Children looked after and achieving permanence",
}
AREA_ORDER = tuple(AREA_LABELS)
EVENT_LABELS = {
    "inspection": "inspection",
    "focused_visit": "focused visit",
    "monitoring_visit": "monitoring visit",
    "jtai": "joint targeted area inspection",
    "send_inspection": "area SEND inspection",
    "other": "Ofsted publication",
}
SEND_LABELS = {
    "positive": "Positive experiences and outcomes",
    "inconsistent": "Inconsistent experiences and outcomes",
    "widespread_failings": "Widespread and/or systemic failings",
    "wsoa": "Written statement of action required",
    "no_wsoa": "No written statement of action required",
}
STATUS_LABELS = {
    "confirmed": "Confirmed by Ofsted's report",
    "reported": "Reported by the press; not yet confirmed by Ofsted's report",
    "announced": "Announced by the council; not yet confirmed by Ofsted's report",
}


# The footer names the kind of alert in words; the machine name stays in the webhook and header.
EVENT_TYPE_LABELS: dict[str, str] = {
    AlertType.NEW: "new outcome",
    AlertType.CHANGED: "changed outcome",
    AlertType.CONFIRMED: "confirmed by Ofsted",
    AlertType.MISMATCH: "coverage differs from Ofsted",
    AlertType.SOURCE_FAILING: "source failing",
    AlertType.SOURCE_RECOVERED: "source recovered",
    AlertType.DELIVERY_FAILED: "delivery failed",
    AlertType.DELIVERY_RECOVERED: "delivery recovered",
    AlertType.TEST: "test alert",
}


@dataclass(frozen=True)
class RenderedMessage:
    """One alert as words: the subject line and the same body as plain text and as HTML."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class JudgementRow:
    """One line of the before/after table."""

    area: str
    before: str
    after: str
    changed: bool


def render(event: ChangeEvent) -> RenderedMessage:
    """Render an event with the bundled templates; scraped text is escaped in the HTML body."""
    if event.items:
        return _render_digest(event)
    context = view_model(event)
    text = _environment().get_template("message.txt").render(context)
    html = _environment().get_template("message.html").render(context)
    return RenderedMessage(subject=context["subject"], text=text, html=html)


def _render_digest(event: ChangeEvent) -> RenderedMessage:
    """A digest is its alerts one after another, under one subject."""
    parts = [render(item) for item in event.items]
    outcomes = sum(1 for item in event.items if item.outcome is not None)
    subject = f"Ofsted digest: {len(parts)} alert(s), {outcomes} about outcomes"
    rule = "\n\n" + "-" * 60 + "\n\n"
    text = rule.join(f"{p.subject}\n\n{p.text}" for p in parts)
    html = "<hr>".join(p.html for p in parts)
    return RenderedMessage(subject=subject, text=text, html=html)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("alerts", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# --- subject lines -------------------------------------------------------------------------


def grade_label(grade: str | None) -> str:
    if grade is None:
        return "not graded"
    return GRADE_LABELS.get(grade, grade.replace("_", " ").capitalize())


def council_name(outcome: InspectionOutcome) -> str:
    return outcome.local_authority or outcome.name_as_printed or "Unknown council"


def previous_grade(event: ChangeEvent) -> tuple[str | None, int | None]:
    """The council's earlier overall grade and its year, from the stored outcome or the page."""
    prev, outcome = event.previous, event.outcome
    if prev is not None and prev.overall is not None:
        when = prev.inspection_end or prev.published
        return prev.overall, when.year if when else None
    if outcome is None:
        return None, None
    return outcome.previous_overall, outcome.previous_year


def subject(event: ChangeEvent) -> str:
    """A subject line that tells the story on its own."""
    if event.type == AlertType.TEST:
        # A test alert reads like the change it imitates, so the marker is the only difference.
        return "[TEST] " + subject(replace(event, type=AlertType.CHANGED))
    if event.outcome is None:
        return _source_subject(event)
    if event.type == AlertType.MISMATCH:
        return _mismatch_subject(event, event.outcome)
    story = _outcome_story(event, event.outcome)
    if event.type == AlertType.CONFIRMED:
        return f"Ofsted confirms: {story}"
    return f"{reporter(event)}: {story}"


def reporter(event: ChangeEvent) -> str:
    """Who says it: "Ofsted" only for Ofsted's own report; a council's release speaks for the
    council ("Southend-on-Sea City Council says"); anything else is the outlet's report."""
    outcome = event.outcome
    if outcome is not None and outcome.status == "confirmed":
        return "Ofsted"
    source = event.sources[0] if event.sources else None
    if source is None:
        return "Reported"
    host = (urlsplit(source.url).hostname or "").lower()
    if host.endswith(".gov.uk"):
        council = _newsroom_council(source.url, outcome)
        return f"{council} says" if council else "A council says"
    return f"Reported by {_outlet(source)}"


def status_label(event: ChangeEvent, outcome: InspectionOutcome) -> str:
    """A council's own release is not the press, though neither is Ofsted's word yet."""
    status = outcome.status
    if status == "reported" and reporter(event).endswith(" says"):
        status = "announced"
    return STATUS_LABELS.get(status, status)


def _newsroom_council(url: str, outcome: InspectionOutcome | None) -> str | None:
    from crawler.parsers.article.councils import councils_in_url

    found = councils_in_url(url)
    if found:
        return found[0].name
    code = outcome.ons_code if outcome is not None else None
    authority = AuthorityRegistry.load().by_ons(code) if code else None
    return authority.name if authority else None


def _outlet(source: SourceRef) -> str:
    """The outlet as operators named it ('echo' -> 'Echo'), else its site."""
    if source.name:
        return " ".join(word.capitalize() for word in source.name.replace("_", "-").split("-"))
    return (urlsplit(source.url).hostname or "the press").removeprefix("www.")


def _source_subject(event: ChangeEvent) -> str:
    name = event.source_name or "unknown source"
    if event.type == AlertType.SOURCE_RECOVERED:
        return f"Source recovered: {name}"
    if event.type == AlertType.SOURCE_FAILING:
        return f"Source failing: {name}"
    if event.type == AlertType.DELIVERY_FAILED:
        return f"Alert delivery failed: {name}"
    if event.type == AlertType.DELIVERY_RECOVERED:
        return f"Alert delivery recovered: {name}"
    return f"Source event ({event.type}): {name}"


def _outcome_story(event: ChangeEvent, outcome: InspectionOutcome) -> str:
    council = council_name(outcome)
    if not outcome.is_graded:
        return _ungraded_story(outcome, council)
    if outcome.overall is None:
        return f"{council} children's services judged: {_judgement_summary(outcome)}"
    grade = grade_label(outcome.overall)
    if event.type not in (AlertType.CHANGED, AlertType.TEST):
        return f"{council} children's services rated {grade}"
    before, year = previous_grade(event)
    if before is None:
        return f"{council} children's services rated {grade}"
    if before == outcome.overall:
        return f"{council} children's services {grade} again; {_area_changes(event, outcome)}"
    was = grade_label(before) + (f", {year}" if year else "")
    return f"{council} children's services now {grade} (was {was})"


def _area_changes(event: ChangeEvent, outcome: InspectionOutcome) -> str:
    """'children in care and care leavers now Outstanding (was Good)' for each changed area."""
    old = event.previous.judgement_map if event.previous else {}
    changed = [
        f"{area_label(area, outcome.framework).lower()} now {grade_label(new)} "
        f"(was {grade_label(was)})"
        for area, was, new in comparable_pairs(outcome.judgement_map, old)
        if was != new
    ]
    return "; ".join(changed) or "judgements changed"


def _ungraded_story(outcome: InspectionOutcome, council: str) -> str:
    label = EVENT_LABELS.get(outcome.event_type, EVENT_LABELS["other"])
    when = f" ({_long_date(outcome.published)})" if outcome.published else ""
    if outcome.event_type == "send_inspection" and outcome.send_outcome:
        verdict = SEND_LABELS.get(outcome.send_outcome, outcome.send_outcome)
        return f"{label} of {council}: {verdict}{when}"
    if outcome.event_type in ("focused_visit", "monitoring_visit"):
        return f"{label} letter for {council} children's services{when}"
    return f"{label} of {council} children's services{when}"


def _judgement_summary(outcome: InspectionOutcome) -> str:
    parts = [
        f"{area_label(area, outcome.framework).lower()} {grade_label(grade)}"
        for area, grade in _ordered(outcome.judgement_map)
    ]
    return "; ".join(parts[:3]) + ("…" if len(parts) > 3 else "")


def _mismatch_subject(event: ChangeEvent, outcome: InspectionOutcome) -> str:
    claimed, official = mismatch_sides(event, outcome)
    who = _press_source_name(event)
    council = council_name(outcome)
    return (
        f"Coverage mismatch: {who} says {council} is {_headline_grade(claimed)}, "
        f"Ofsted's report says {_headline_grade(official)}"
    )


def mismatch_sides(
    event: ChangeEvent, outcome: InspectionOutcome
) -> tuple[InspectionOutcome | None, InspectionOutcome]:
    """(what the page claimed, what Ofsted's report says), whichever of the two the event holds."""
    if event.claim is not None:
        return event.claim, outcome
    other = event.previous
    if outcome.status != "confirmed" and other is not None and other.status == "confirmed":
        return outcome, other
    return other, outcome


def _press_source_name(event: ChangeEvent) -> str:
    for ref in event.sources:
        if ref.kind != "ofsted":
            return source_label(ref)
    return "a page"


def _headline_grade(outcome: InspectionOutcome | None) -> str:
    if outcome is None:
        return "something else"
    if outcome.overall is not None:
        return grade_label(outcome.overall)
    if outcome.judgements:
        return _judgement_summary(outcome)
    return EVENT_LABELS.get(outcome.event_type, "an ungraded publication")


# --- body view model -----------------------------------------------------------------------


def area_label(area: str, framework: str = "unknown") -> str:
    if framework == "SIF" and area in SIF_AREA_LABELS:
        return SIF_AREA_LABELS[area]
    return AREA_LABELS.get(area, area.replace("_", " ").capitalize())


def source_label(ref: SourceRef) -> str:
    return ref.name or urlsplit(ref.url).hostname or ref.url


def web_link(url: str) -> str:
    """The URL if it is safe to make clickable (http or https), else an empty string."""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _ordered(judgements: dict[str, str]) -> list[tuple[str, str]]:
    rank = {area: i for i, area in enumerate(AREA_ORDER)}
    return sorted(judgements.items(), key=lambda item: (rank.get(item[0], 99), item[0]))


def _grades(outcome: InspectionOutcome | None) -> dict[str, str]:
    if outcome is None:
        return {}
    grades = dict(outcome.judgements)
    if outcome.overall is not None:
        grades["overall"] = outcome.overall
    return grades


def judgement_rows(event: ChangeEvent) -> list[JudgementRow]:
    """One row per graded area: before and after, or for a mismatch, the page and Ofsted."""
    if event.outcome is None:
        return []
    if event.type == AlertType.MISMATCH:
        claimed, official = mismatch_sides(event, event.outcome)
        return _rows(_grades(claimed), _grades(official), official.framework)
    before = _grades(event.previous)
    if event.previous is None and event.outcome.previous_overall:
        before["overall"] = event.outcome.previous_overall
    return _rows(before, _grades(event.outcome), event.outcome.framework)


def column_headings(event: ChangeEvent) -> tuple[str, str]:
    if event.type == AlertType.MISMATCH:
        return "The page says", "Ofsted's report says"
    return "Before", "Now"


def _rows(before: dict[str, str], after: dict[str, str], framework: str) -> list[JudgementRow]:
    before, joint = _split_like(before, after)
    missing = "not judged" if before else "none stored"
    rows = []
    for area, _ in _ordered({**before, **after}):
        old, new = before.get(area), after.get(area)
        old_text = grade_label(old) if old else missing
        if area in joint:
            old_text += " (judged together)"
        new_text = grade_label(new) if new else "not judged"
        changed = old is not None and new is not None and old != new
        rows.append(JudgementRow(area_label(area, framework), old_text, new_text, changed))
    return rows


def _split_like(
    before: dict[str, str], after: dict[str, str]
) -> tuple[dict[str, str], frozenset[str]]:
    """Children in care and care leavers were judged together before 2023 and apart since; an
    earlier joint grade is shown against each of the two new areas, so no row reads as lost."""
    if COMBINED not in before or COMBINED in after or not any(a in after for a in SPLIT):
        return before, frozenset()
    joint = frozenset(a for a in SPLIT if a in after)
    aligned = {k: v for k, v in before.items() if k != COMBINED}
    return {**aligned, **dict.fromkeys(joint, before[COMBINED])}, joint


def grade_evidence(outcome: InspectionOutcome) -> list[str]:
    """The quotes that state the grades; the council's name and dates have rows of their own.
    When no quote states a grade (an ungraded visit), all of them stay: nothing is lost."""
    words = [GRADE_LABELS.get(g, g).lower() for g in _grades(outcome).values()]
    words += [SEND_LABELS.get(o, o).lower() for o in (outcome.send_outcome,) if o]
    stating = [line for line in outcome.evidence if any(w in line.lower() for w in words)]
    return stating or list(outcome.evidence)


def _long_date(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "not known"


def date_range(start: date | None, end: date | None) -> str:
    """A fieldwork span as stated: whole calendar months ('in June 2023', 'last month') are
    shown as months, never widened into invented days."""
    if start and end and _whole_months(start, end):
        if (start.year, start.month) == (end.year, end.month):
            return f"{start:%B %Y}"
        return f"{start:%B}{'' if start.year == end.year else f' {start.year}'} to {end:%B %Y}"
    if start and end and start != end:
        return f"{_long_date(start)} to {_long_date(end)}"
    return _long_date(end or start)


def _whole_months(start: date, end: date) -> bool:
    return start.day == 1 and (end + timedelta(days=1)).day == 1 and end > start


def summary_facts(event: ChangeEvent) -> list[tuple[str, str]]:
    """Short (label, value) pairs for chat cards: the council, grades and dates."""
    outcome = event.outcome
    if outcome is None:
        return [("Source", event.source_name or "unknown"), ("Detail", event.message or "")]
    facts = [("Council", council_name(outcome)), ("Event", _event_kind(outcome))]
    for row in judgement_rows(event):
        facts.append((row.area, _row_fact(event.type, row)))
    if outcome.send_outcome:
        facts.append(("Outcome", SEND_LABELS.get(outcome.send_outcome, outcome.send_outcome)))
    facts.append(("Inspected", date_range(outcome.inspection_start, outcome.inspection_end)))
    facts.append(("Published", _long_date(outcome.published)))
    facts.append(("Status", status_label(event, outcome)))
    return facts


def _row_fact(event_type: str, row: JudgementRow) -> str:
    if not row.changed:
        return row.after
    if event_type == AlertType.MISMATCH:
        return f"{row.after} (page said {row.before})"
    return f"{row.before} → {row.after}"


def _event_kind(outcome: InspectionOutcome) -> str:
    label = EVENT_LABELS.get(outcome.event_type, outcome.event_type).capitalize()
    return label if outcome.framework == "unknown" else f"{label} ({outcome.framework})"


def view_model(event: ChangeEvent) -> dict[str, Any]:
    """Everything the templates need, as plain values."""
    outcome = event.outcome
    model: dict[str, Any] = {
        "subject": subject(event),
        "event_type": event.type,
        "event_label": EVENT_TYPE_LABELS.get(event.type, event.type),
        "key": event.key,
        "when": event.timestamp.strftime("%Y-%m-%d %H:%M %Z").strip(),
        "outcome": None,
        "source_name": event.source_name,
        "message": event.message,
        "sources": [
            {"label": source_label(s), "url": s.url, "link": web_link(s.url), "kind": s.kind}
            for s in event.sources
        ],
    }
    if outcome is not None:
        model["outcome"] = _outcome_model(event, outcome)
    return model


def _outcome_model(event: ChangeEvent, outcome: InspectionOutcome) -> dict[str, Any]:
    claimed = None
    if event.type == AlertType.MISMATCH:
        page_side, _ = mismatch_sides(event, outcome)
        claimed = _headline_grade(page_side)
    return {
        "council": council_name(outcome),
        "ons_code": outcome.ons_code or "",
        "kind": _event_kind(outcome),
        "rows": judgement_rows(event),
        "headings": column_headings(event),
        "send_outcome": SEND_LABELS.get(outcome.send_outcome or "", outcome.send_outcome),
        "inspected": date_range(outcome.inspection_start, outcome.inspection_end),
        "published": _long_date(outcome.published),
        "status": status_label(event, outcome),
        # Confidence qualifies a reading of someone else's words; Ofsted's report is the record.
        "confidence": None if outcome.status == "confirmed" else f"{outcome.confidence:.0%}",
        "evidence": grade_evidence(outcome),
        "claimed": claimed,
    }
