"""One council's outcome from a story's mentions: the news, the grade before, framework, confidence.

Mentions in the present tense make the outcome; mentions in history give the previous grade.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from crawler.parsers.article.areas import NO_OVERALL_FROM, PSEUDO, SPLIT_FROM, settle_areas
from crawler.parsers.article.confidence import Reading, score, signals
from crawler.parsers.article.phrases import has_any
from crawler.parsers.article.sentences import Sentence, clause_tense, clauses_of
from crawler.parsers.article.story import (
    UNANNOUNCED,
    UNGRADED_EVENTS,
    Event,
    Mention,
    Story,
    codes_of,
    fieldwork_of,
    is_pilot,
    published_of,
    send_outcome_of,
)
from crawler.parsers.prose_dates import DateSpan
from crawler.records import InspectionOutcome, sort_judgements

_OLD_GRADES = ("adequate", "satisfactory", "poor")
_REPORT_LAG = timedelta(days=45)


def _settle(
    mentions: list[Mention], ungraded: bool, fieldwork: date | None
) -> tuple[list[Mention], list[Mention]]:
    """Split one council's mentions into (current, history).

    A dated mention is the news when its year is the fieldwork year; without one, when no
    undated present-tense overall grade competes with it.
    """
    if ungraded:
        return [], mentions
    has_current = any(m.tense == "current" and m.area == "overall" for m in mentions)
    year = fieldwork.year if fieldwork else None
    current = [m for m in mentions if m.tense == "current" or _dated_news(m, year, has_current)]
    history = [m for m in mentions if m not in current]
    return current, history


def _dated_news(mention: Mention, event_year: int | None, has_current: bool) -> bool:
    if mention.tense != "dated":
        return False
    if event_year is not None and mention.year is not None:
        return mention.year >= event_year
    return not has_current


def _pick_overall(current: list[Mention], when: date | None) -> Mention | None:
    """The overall grade; 'good in every area' gives one too, except where none exists (2026+)."""
    if when is not None and when >= NO_OVERALL_FROM:
        return None  # the press may still write "rated good"; no such judgement exists any more
    overall = [m for m in current if m.area == "overall"]
    if overall:
        # A grade the text calls overall beats a headline that shouts one area's grade.
        return next((m for m in overall if m.explicit), overall[0])
    every = [m for m in current if m.area == "all"]
    return every[0] if every else None


def _judgements(current: list[Mention]) -> dict[str, str]:
    """The areas named outright, to decide the framework before 'every area' is spread out."""
    areas: dict[str, str] = {}
    for mention in current:
        if mention.area not in ("overall", *PSEUDO):
            areas.setdefault(mention.area, mention.grade)
    return areas


def _previous(
    history: list[Mention], story: Story, code: str, cutoff: int | None
) -> tuple[Mention | None, int | None]:
    overall = [m for m in history if m.area == "overall"]
    if overall:
        chosen = max(overall, key=lambda m: m.year or 0)
        return chosen, chosen.year
    return None, _previous_year(story, code, cutoff)


def _previous_year(story: Story, code: str, cutoff: int | None) -> int | None:
    """The year of an earlier inspection the story names without its grade."""
    years: list[int] = []
    for sentence in story.sentences:
        if sentence.councils and code not in codes_of(sentence.councils):
            continue
        for clause in clauses_of(sentence):
            tense, year = clause_tense(clause, story.ref_year)
            inspected = re.search(r"\binspect|\brated\b|\bjudged\b", clause.text, re.I)
            if tense == "history" and year and inspected:
                years.append(year)
    limit = cutoff if cutoff is not None else story.ref_year
    if limit is not None:
        years = [y for y in years if y < limit]
    return max(years) if years else None


def _framework(event: str, outcome: InspectionOutcome, story: Story, year: int | None) -> str:
    if event == "send_inspection":
        return _send_framework(outcome.send_outcome, year)
    if event == "focused_visit":
        return "ILACS"
    if outcome.overall in _OLD_GRADES:
        return "pre2013"
    # The event's own date beats a framework named in passing ("last inspected under the SIF").
    if year is not None and (outcome.inspection_start or outcome.published):
        return framework_for_year(year) or "unknown"
    if has_any(story.text, ["ilacs"]):
        return "ILACS"
    if has_any(story.text, ["single inspection framework"]):
        return "SIF"
    judged = outcome.judgement_map
    if event == "inspection" and (outcome.pilot or "children_in_care_and_care_leavers" in judged):
        return "ILACS"
    if "adoption" in judged or "lscb" in judged:
        return "SIF"
    by_year = framework_for_year(year)
    if by_year:
        return by_year
    if outcome.previous_year and outcome.previous_year >= 2018:
        return "ILACS"
    if "care_leavers" in judged and "help_and_protection" in judged:
        return "ILACS"
    return "unknown"


def framework_for_year(year: int | None) -> str | None:
    if year is None:
        return None
    if year < 2013:
        return "pre2013"
    return "SIF" if year < 2018 else "ILACS"


def _send_framework(send_outcome: str | None, year: int | None) -> str:
    if send_outcome in ("positive", "inconsistent", "widespread_failings"):
        return "SEND2023"
    if send_outcome in ("wsoa", "no_wsoa"):
        return "SEND2016"
    if year is None:
        return "unknown"
    return "SEND2023" if year >= 2023 else "SEND2016"


def _evidence(*sentences: Sentence | None) -> tuple[str, ...]:
    found = sorted({s.index: s.text for s in sentences if s is not None}.items())
    return tuple(text for _, text in found)


@dataclass(frozen=True)
class _Dates:
    """The story's dates for its event, and the sentences they came from."""

    published: date | None
    fieldwork: DateSpan | None
    sentences: tuple[Sentence | None, ...]

    @classmethod
    def of(cls, story: Story) -> _Dates:
        published, published_in = published_of(story)
        fieldwork, fieldwork_in = fieldwork_of(story)
        return cls(published, fieldwork, (published_in, fieldwork_in))

    @property
    def start(self) -> date | None:
        return self.fieldwork.start if self.fieldwork else None


@dataclass(frozen=True)
class Found:
    """One council's outcome and the signals its confidence was scored on."""

    outcome: InspectionOutcome
    signals: Mapping[str, float]


def outcome_for(
    code: str, mentions: list[Mention], event: Event | None, story: Story, ungraded: bool = False
) -> Found | None:
    """The outcome the story reports for one council, or None when it reports no new grade.

    `ungraded` keeps an inspection whose grade the story never states (its event must be given).
    """
    dates = _Dates.of(story)
    kind = _kind(event, mentions)
    current, history = _settle(mentions, kind in UNGRADED_EVENTS, dates.start)
    if kind in ("inspection", "other") and not current and not (ungraded and event):
        return None
    kind = "other" if kind == UNANNOUNCED else kind
    when = _event_date(dates.start, dates.published, story.ref)
    cutoff = dates.start or dates.published or story.ref
    previous, previous_year = _previous(history, story, code, cutoff.year if cutoff else None)
    outcome = InspectionOutcome(
        local_authority=None,
        ons_code=code,
        event_type=kind,
        overall=_overall_grade(current, when),
        judgements=sort_judgements(_judgements(current)),
        send_outcome=_send_outcome(story, event) if kind == "send_inspection" else None,
        inspection_start=dates.start,
        inspection_end=dates.fieldwork.end if dates.fieldwork else None,
        published=dates.published,
        previous_overall=previous.grade if previous else None,
        previous_year=previous_year,
        pilot=kind == "inspection" and is_pilot(story),
        name_as_printed=story.names.get(code),
    )
    sources = [*(m.sentence for m in current), previous.sentence if previous else None]
    evidence = _evidence(*sources, event.sentence if event else None, *dates.sentences)
    return _finish(outcome.with_changes(evidence=evidence), current, when, story)


def _send_outcome(story: Story, event: Event | None) -> str | None:
    return send_outcome_of(story, event.sentence if event else None)


def _finish(
    outcome: InspectionOutcome, current: list[Mention], when: date | None, story: Story
) -> Found:
    """Framework, the judgements as that framework stores them, and confidence."""
    framework = _framework(outcome.event_type, outcome, story, when.year if when else None)
    split = _graded_apart(current) or (when >= SPLIT_FROM if when else None)
    # A pilot's areas are not the launched framework's, so "good in all areas" names none.
    areas_of = "" if outcome.pilot else framework
    judgements = settle_areas([(m.area, m.grade) for m in current], areas_of, split)
    reading = Reading(
        code=outcome.ons_code or "",
        event_type=outcome.event_type,
        overall=_pick_overall(current, when),
        current=tuple(current),
        areas_read=bool(judgements),
        dated=bool(outcome.inspection_start or outcome.published),
        printed_name=bool(outcome.name_as_printed),
        story=story,
    )
    found = signals(reading)
    finished = outcome.with_changes(
        framework=framework,
        judgements=sort_judgements(judgements),
        overall=None if _two_strands(framework, judgements) else outcome.overall,
        confidence=score(found),
    )
    return Found(finished, found)


def _two_strands(framework: str, judgements: dict[str, str]) -> bool:
    """A pre-2013 inspection of safeguarding and looked-after children: two grades, no overall."""
    return framework == "pre2013" and {"help_and_protection", "children_in_care"} <= set(judgements)


def _overall_grade(current: list[Mention], when: date | None) -> str | None:
    overall = _pick_overall(current, when)
    return overall.grade if overall else None


def _kind(event: Event | None, mentions: list[Mention]) -> str:
    """The event type; a visit dated only by last year's date yields to a grade in the present."""
    if event is None:
        return "inspection"
    graded_now = any(m.tense == "current" and m.area == "overall" for m in mentions)
    yields = event.dated and graded_now and event.kind in UNGRADED_EVENTS
    return "inspection" if yields else event.kind


def _event_date(fieldwork: date | None, published: date | None, ref: date | None) -> date | None:
    """When the fieldwork was, or about when: reports come out some six weeks after it."""
    if fieldwork is not None:
        return fieldwork
    known = published or ref
    return known - _REPORT_LAG if known else None


def _graded_apart(current: list[Mention]) -> bool:
    """Children in care and care leavers given different grades: the split framework."""
    cic = {m.grade for m in current if m.area == "children_in_care"}
    leavers = {m.grade for m in current if m.area == "care_leavers"}
    return bool(cic and leavers and cic != leavers)
