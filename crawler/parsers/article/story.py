"""A story as a whole: its councils, the events it reports, every grade mention and its dates.

Each grade mention is tied to a council (the clause's, the sentence's, or the story's focus), a
judgement area and a tense; the outcome builder then settles which mentions are the news.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from crawler.parsers.article.councils import CouncilMatch
from crawler.parsers.article.grades import pair_grades
from crawler.parsers.article.phrases import contains, has_any, prose, words
from crawler.parsers.article.sentences import (
    Clause,
    Sentence,
    clause_tense,
    clauses_of,
    grade_tense,
    segment,
    sentences_of,
)
from crawler.parsers.prose_dates import DateSpan, find_date_spans
from crawler.vocabulary import squash

UNGRADED_EVENTS = ("focused_visit", "monitoring_visit", "jtai", "send_inspection")
# Pre-2013 unannounced inspections: reported as "other" events, with or without a grade.
UNANNOUNCED = "unannounced"
_NAMED_EVENTS = (*UNGRADED_EVENTS, "other", UNANNOUNCED)
_SERIES_EVENTS = ("other", UNANNOUNCED)
_PUBLISH_CUE = re.compile(r"\b(publish\w*|released?|report dated|dated|publication)\b", re.I)
_VISIT_CUE = re.compile(
    r"\b(inspect\w*|visit\w*|fieldwork|took place|on site|carried out|between)\b", re.I
)
_RELATIVE = ("today", "yesterday")
_LEAD = 3
# "a two-week inspection of Wirral Council's children's services", "a full inspection of our
# children's services": the council's own inspection, whatever words stand between.
_INSPECTION_OF_SERVICES = re.compile(
    r"\b(?:full|two-week|week-long|standard|short)?\s*inspection\s+of\s+(?:[\w'’&.-]+\s+){0,5}?"
    r"children['’]?s\s+(?:services|social\s+care)\b",
    re.I,
)
_ABOUT_OFSTED = re.compile(
    r"\b(?:ofsted|inspect\w*|watchdog|inspectorate|rated|judged|graded|visit)\b", re.I
)
_SINCE = re.compile(r"\s*since\b", re.I)
_RATED = re.compile(r"\b(?:rated|judged|graded|deemed|found)\b", re.I)
_OVERALL_WORD = re.compile(r"\boverall\b", re.I)
# "Our children's services are rated good": the present simple states a standing grade.
_STANDING = re.compile(
    r"\b(?:is|are)\s+(?:currently\s+|still\s+|now\s+)?(?:rated|judged|graded|deemed)\s+"
    r"(?:as\s+)?[\s'‘\"“]*$",
    re.I,
)
_GRADE_WORDS = (
    r"outstanding|good|requires?\s+improvement(?:\s+to\s+be\s+good)?|requiring\s+improvement"
    r"|inadequate|adequate|RI"
)
_TRANSITION = re.compile(
    rf"\bfrom\s+(?:an?\s+|the\s+|its\s+)?['‘\"“]?(?P<was>{_GRADE_WORDS})['’\"”]?"
    r"(?:\s+(?:rating|grade|judgement))?\s+(?:\w+\s+){0,3}?to\s+(?:an?\s+|the\s+)?['‘\"“]?"
    rf"(?P<now>{_GRADE_WORDS})\b",
    re.I,
)


@dataclass(frozen=True)
class Mention:
    """One grade read from a clause, tied to an area, councils and a tense."""

    grade: str
    area: str
    councils: tuple[str, ...]
    tense: str  # "current", "history" or "dated" (has a year; tense settled later)
    year: int | None
    sentence: Sentence
    named: bool = True  # the council is named in the grade's own clause, not carried over
    explicit: bool = False  # an overall grade the text calls overall ("good overall")
    standing: bool = False  # stated as a standing state: "our services are rated good"
    context: str = ""  # the comma-bounded stretch of text around the grade
    at: int = 0  # where the grade starts in its sentence


@dataclass(frozen=True)
class Story:
    """The sentences of one story, its date, the councils it is about and how it names them."""

    sentences: tuple[Sentence, ...]
    ref: date | None
    ref_year: int | None
    primary: tuple[str, ...]
    names: Mapping[str, str]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @property
    def lead(self) -> tuple[Sentence, ...]:
        """The opening sentences of the story itself, after any page furniture."""
        return tuple(s for s in self.sentences if s.lead)


def read_story(title: str | None, text: str, article_date: date | None) -> Story:
    sentences = tuple(sentences_of(title, text))
    # The story is about the first council named beside Ofsted's work; a council named first in
    # the page's furniture ("Radio X Plymouth") is not its subject.
    named = [s for s in sentences if s.councils]
    first = next((s for s in named if _ABOUT_OFSTED.search(s.text)), named[0] if named else None)
    primary = tuple(codes_of(first.councils[:1])) if first else ()
    names: dict[str, str] = {}
    for sentence in sentences:
        for match in sentence.councils:
            names.setdefault(match.authority.ons_code, match.text)
    year = article_date.year if article_date else None
    return Story(sentences, article_date, year, primary, names)


# --- councils --------------------------------------------------------------------------------


def codes_of(matches: Iterable[CouncilMatch]) -> list[str]:
    return list(dict.fromkeys(m.authority.ons_code for m in matches))


def clause_councils(clause: Clause, upto: int) -> list[str]:
    """Councils named in the clause, preferring those before position `upto` (the subject)."""
    inside = [
        m
        for m in clause.sentence.councils
        if clause.start <= m.start < clause.start + len(clause.text)
    ]
    before = [m for m in inside if m.start < clause.start + upto]
    return codes_of(before or inside)


def _councils_for(clause: Clause, upto: int, focus: Sequence[str]) -> tuple[str, ...]:
    codes = clause_councils(clause, upto)
    earlier = [m for m in clause.sentence.councils if m.start < clause.start]
    if not codes and earlier:
        cut = max(c.start for c in clauses_of(clause.sentence) if c.start <= earlier[-1].start)
        codes = codes_of(m for m in earlier if m.start >= cut)
    return tuple(codes or focus)


# --- scope and events ------------------------------------------------------------------------


def _event_in(text: str, plural: bool = False) -> str | None:
    """The kind of event a text names first. In a body, a plural ("regular monitoring visits")
    describes a series, not the event reported; a headline's plural ("two councils get focused
    visits") is the news."""
    folded = f" {squash(text)} "
    found: list[tuple[int, str]] = []
    for kind in _NAMED_EVENTS:
        for word in words("events", kind):
            at = folded.find(word)
            if at >= 0 and contains(folded, word, plural=plural or kind in _SERIES_EVENTS):
                found.append((at, kind))
    if not found and has_any(text, words("send_findings", "words")):
        return "send_inspection"
    return min(found)[1] if found else None


@dataclass(frozen=True)
class Event:
    """A named, ungraded event (focused visit, JTAI...) and whether only a year dates it."""

    kind: str
    sentence: Sentence
    dated: bool
    service: bool = False  # one council service inspected on its own (an adoption service)


def lead_event(story: Story) -> Event | None:
    """A pre-2013 assessment named in the headline or lead covers every council in the story."""
    for sentence in story.lead:
        kind = _event_in(sentence.text)
        if kind in ("other", UNANNOUNCED):
            return Event(kind, sentence, False)
    lead = " ".join(s.text for s in story.lead)
    if re.search(r"\binspect", lead, re.I):
        return None  # an inspection's story that mentions an annual rating in passing
    scaled = [s for s in story.sentences if has_any(s.text, words("events", "annual_scale"))]
    return Event("other", scaled[0], False) if scaled else None


def _heading_event(sentence: Sentence) -> str | None:
    """A short heading such as 'Focused visits' that sets the kind of the items below it."""
    text = sentence.text.strip()
    if len(text.split()) > 4 or text.endswith((".", ":")) or sentence.councils:
        return None
    folded = f" {squash(text)} "
    for kind in UNGRADED_EVENTS:
        if any(contains(folded, w) for w in words("events", kind)):
            return kind
    return None


def events_of(story: Story) -> dict[str, Event]:
    """The first ungraded event (focused visit, JTAI...) that each council is the subject of."""
    events: dict[str, Event] = {}
    focus: Sequence[str] = story.primary
    section: str | None = None
    for sentence in story.sentences:
        section = _heading_event(sentence) or section
        focus = codes_of(sentence.councils) or focus
        if section and sentence.councils:
            code = sentence.councils[0].authority.ons_code
            events.setdefault(code, Event(section, sentence, False))
        headline = bool(story.lead) and sentence.index == story.lead[0].index
        for clause in clauses_of(sentence):
            kind = _event_in(clause.text, plural=headline)
            tense = clause_tense(clause, story.ref_year)[0]
            service = kind is None and sentence.lead and _names_service(clause.text)
            if (kind is None and not service) or tense == "history":
                continue
            aside = words("events", "future") + words("events", "general")
            if kind is not None and has_any(clause.text, aside):
                continue
            event = Event(kind or "other", sentence, tense == "dated", service)
            for code in clause_councils(clause, len(clause.text)) or focus:
                events.setdefault(code, event)
    return events


def _names_service(text: str) -> bool:
    folded = f" {squash(text)} "
    return any(contains(folded, w, plural=False) for w in words("service_event", "words"))


def as_service(event: Event, mentions: list[Mention]) -> list[Mention] | None:
    """A service's own inspection: its grade in the event's sentence is the overall grade.

    None when the story also grades the council's services overall: then the service's grade
    is one judgement of a full inspection (the SIF's adoption performance).
    """
    wider = [m for m in mentions if m.sentence != event.sentence and m.area == "overall"]
    if any(m.tense == "current" for m in wider):
        return None
    return [
        replace(m, area="overall") if m.sentence == event.sentence else replace(m, tense="history")
        for m in mentions
    ]


def graded_beside(event: Event, mentions: list[Mention]) -> list[Mention]:
    """A council's mentions of its own full inspection in a story led by another, ungraded event.

    Empty unless a present-tense grade sits in a sentence that names the inspection itself.
    """
    if event.kind not in UNGRADED_EVENTS:
        return []
    apart = [m for m in mentions if _event_in(m.sentence.text) != event.kind]
    news = [
        m
        for m in apart
        if m.tense == "current"
        and m.year is None
        and has_any(m.sentence.text, words("second_event", "cues"))
        and not has_any(m.sentence.text, words("second_event", "standing"))
    ]
    return apart if news else []


def report_event(story: Story, code: str) -> Event | None:
    """An inspection of the council the story leads on without its grade ('damning report')."""
    for sentence in story.lead:
        if sentence.councils and code not in codes_of(sentence.councils):
            continue
        for clause in clauses_of(sentence):
            cued = has_any(clause.text, words("report_event", "cues"))
            cued = cued or _INSPECTION_OF_SERVICES.search(clause.text) is not None
            if cued and clause_tense(clause, story.ref_year)[0] != "history":
                return Event("inspection", sentence, False)
    return None


def mentions_of(story: Story) -> list[Mention]:
    """Every grade the story states, tied to its council, area and tense."""
    found: list[Mention] = []
    focus: Sequence[str] = story.primary
    for sentence in story.sentences:
        for clause in clauses_of(sentence):
            found += _clause_mentions(clause, story, focus)
        focus = codes_of(sentence.councils[:1]) or focus
    return found


def _clause_mentions(clause: Clause, story: Story, focus: Sequence[str]) -> list[Mention]:
    if has_any(clause.text, words("subjects", "excluded")):
        return []
    found: list[Mention] = []
    moves = transitions(clause.text)
    rated_before = _RATED.search(clause.sentence.text[: clause.start]) is not None
    for grade, keys, start, end in pair_grades(clause.text, rated_before):
        around = segment(clause.text, start, end)
        if has_any(around, words("tense", "skip")):
            continue
        tense, year = grade_tense(clause, start, end, story.ref_year)
        tense = "history" if _held_since(clause, end) else moves.get(start, tense)
        codes = _councils_for(clause, start, focus)
        named = bool(clause_councils(clause, start))
        explicit = _OVERALL_WORD.search(around) is not None
        standing = _STANDING.search(clause.text[:start]) is not None
        context = segment(clause.sentence.text, clause.start + start, clause.start + end)
        found += [
            Mention(
                grade,
                k,
                codes,
                tense,
                year,
                clause.sentence,
                named,
                explicit,
                standing,
                context,
                clause.start + start,
            )
            for k in keys
        ]
    return found


def _held_since(clause: Clause, end: int) -> bool:
    """'rated good since an inspection in 2018': a grade held since then, not this page's news."""
    rest = clause.text[end:]
    following = clause.sentence.text[clause.start + len(clause.text) :]
    return not rest.strip(" '’”\".,") and _SINCE.match(following) is not None


def transitions(text: str) -> dict[int, str]:
    """'From requires improvement (straight) to outstanding': the first grade is history, the
    second the news. Keyed by where each grade starts."""
    found: dict[int, str] = {}
    for match in _TRANSITION.finditer(text):
        found[match.start("was")] = "history"
        found[match.start("now")] = "current"
    return found


def is_pilot(story: Story) -> bool:
    return any(
        has_any(c.text, words("pilot", "words")) and clause_tense(c, story.ref_year)[0] != "history"
        for s in story.sentences
        for c in clauses_of(s)
    )


def send_outcome_of(story: Story, sentence: Sentence | None = None) -> str | None:
    """The SEND verdict in the event's own sentence, else the first the story states."""
    if sentence is not None and sentence.text != story.text:
        own = send_outcome_of(Story((sentence,), None, None, (), {}))
        if own is not None:
            return own
    text = f" {squash(story.text)} "
    pairs = [(p, k) for k, wordings in prose()["send_outcomes"].items() for p in wordings]
    for phrase, key in sorted(pairs, key=lambda pair: -len(pair[0])):
        if phrase in text:
            return key
    return None


# --- dates -----------------------------------------------------------------------------------


def _dated_spans(story: Story, cue: re.Pattern[str]) -> list[tuple[DateSpan, Sentence]]:
    spans: list[tuple[DateSpan, Sentence]] = []
    for sentence in story.sentences:
        for clause in clauses_of(sentence):
            if clause_tense(clause, None)[0] == "history":
                continue
            for span in find_date_spans(clause.text, story.ref):
                if _nearest_cue(clause.text, span) is cue:
                    spans.append((span, sentence))
    return spans


def _nearest_cue(text: str, span: DateSpan) -> re.Pattern[str] | None:
    best: tuple[int, re.Pattern[str] | None] = (10**6, None)
    for cue in (_PUBLISH_CUE, _VISIT_CUE):
        for m in cue.finditer(text):
            gap = span.pos - m.end() if m.end() <= span.pos else m.start() - span.end_pos
            if 0 <= gap < best[0]:
                best = (gap, cue)
    return best[1]


def published_of(story: Story) -> tuple[date | None, Sentence | None]:
    spans = [(s, st) for s, st in _dated_spans(story, _PUBLISH_CUE) if s.precision == "day"]
    spans.sort(key=lambda pair: pair[0].text.lower() in _RELATIVE)
    return (spans[0][0].start, spans[0][1]) if spans else (None, None)


def fieldwork_of(story: Story) -> tuple[DateSpan | None, Sentence | None]:
    spans = _dated_spans(story, _VISIT_CUE)
    spans = [(s, st) for s, st in spans if s.text.lower() not in _RELATIVE]
    return spans[0] if spans else (None, None)
