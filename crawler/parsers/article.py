"""Ofsted outcomes for councils' children's services as news stories and press releases tell them.

Pure: prose in, `InspectionOutcome`s out. Grades are read clause by clause and tied to a council,
a judgement area and a tense (the event being reported, or history), using the phrase lists in
crawler/data/prose.toml.
"""

from __future__ import annotations

import itertools
import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from crawler.authorities import AuthorityRegistry
from crawler.parsers.councils_in_text import CouncilMatch, councils_in_url, find_councils
from crawler.parsers.html_text import is_boilerplate_line
from crawler.parsers.prose_dates import DateSpan, find_date_spans, years_in
from crawler.records import InspectionOutcome, sort_judgements
from crawler.vocabulary import grade_pattern, normalise_grade, phrases, squash

logger = logging.getLogger(__name__)

UNGRADED_EVENTS = ("focused_visit", "monitoring_visit", "jtai", "send_inspection")
_NAMED_EVENTS = (*UNGRADED_EVENTS, "other")
_LEAD_SENTENCES = 3
_ABBREVIATIONS = ("St.", "Cllr.", "Dr.", "Mr.", "Mrs.", "Ms.", "No.", "Prof.", "Rev.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_QUOTES = "'\"‘’“”"
_AFTER_LINK = re.compile(
    r"^[\s'’”\"]*(?:(?:rating|grade|judgements?)\s+)?(?:,\s*)?(?:(?:for|in|on|across|at|to)\s+)?"
    r"(?:(?:the\s+)?(?:domains?|areas?|judgements?)\s+(?:of|including|for|on)\s+)?(?:the\s+)?"
    r"(?:(?:overall\s+)?experiences?(?:\s+and\s+progress)?\s+of\s+)?$",
    re.I,
)
_LIST_LINK = re.compile(
    r"^\s*(?:,|and|&|,\s*and)\s*(?:(?:for|in)\s+)?(?:the\s+)?"
    r"(?:experiences?(?:\s+and\s+progress)?\s+of\s+(?:the\s+)?)?$",
    re.I,
)
_PUBLISH_CUE = re.compile(r"\b(publish\w*|released?|report dated|dated|publication)\b", re.I)
_VISIT_CUE = re.compile(
    r"\b(inspect\w*|visit\w*|fieldwork|took place|on site|carried out|between)\b", re.I
)
_RELATIVE = ("today", "yesterday")
_RATING_VERBS = ("rated", "judged", "graded", "deemed", "rating", "judgement")


@cache
def _prose() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("crawler").joinpath("data/prose.toml").read_text("utf-8")
    loaded: dict[str, dict[str, list[str]]] = tomllib.loads(raw)
    return loaded


def _words(section: str, key: str) -> list[str]:
    return _prose()[section][key]


def _has_any(text: str, words: Iterable[str]) -> bool:
    folded = f" {squash(text)} "
    return any(_contains(folded, w) for w in words)


def _contains(folded: str, word: str, plural: bool = True) -> bool:
    if word[:1].isalnum() and word[-1:].isalnum():
        tail = "s?" if plural else ""
        return re.search(rf"(?<![\w-]){re.escape(word)}{tail}(?![\w-])", folded) is not None
    return word in folded


@cache
def _area_regex() -> tuple[re.Pattern[str], dict[str, str]]:
    keys: dict[str, str] = {phrase: key for phrase, key in phrases("areas")}
    for key, words in _prose()["areas"].items():
        keys.update({w: key for w in words})
    ordered = sorted(keys, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b", re.I)
    return pattern, keys


@cache
def _grade_regex() -> re.Pattern[str]:
    return re.compile(rf"\b({grade_pattern()})\b(?!-\w)|\bRI\b", re.I)


@dataclass(frozen=True)
class _Sentence:
    text: str
    index: int
    lead: bool
    councils: tuple[CouncilMatch, ...]


@dataclass(frozen=True)
class _Clause:
    text: str
    start: int
    sentence: _Sentence


@dataclass(frozen=True)
class _Mention:
    """One grade read from a clause, tied to an area, councils and a tense."""

    grade: str
    area: str
    councils: tuple[str, ...]
    tense: str  # "current", "history" or "dated" (has a year; tense settled later)
    year: int | None
    sentence: _Sentence


# --- sentences and clauses -------------------------------------------------------------------


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(line):
        if pieces and pieces[-1].endswith(_ABBREVIATIONS):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces if p.strip()]


def _sentences(title: str | None, text: str) -> list[_Sentence]:
    lines = [title] if title else []
    lines += [ln for ln in text.splitlines() if ln.strip() and not is_boilerplate_line(ln)]
    texts = [s for line in lines for s in _split_line(line.strip().lstrip("-•* "))]
    return [
        _Sentence(t, i, i < _LEAD_SENTENCES, tuple(find_councils(t))) for i, t in enumerate(texts)
    ]


def _clauses(sentence: _Sentence) -> list[_Clause]:
    folded = sentence.text.lower()
    cuts = {0}
    for marker in _words("tense", "clause_breaks"):
        cuts.update(m.start() for m in re.finditer(re.escape(marker), folded))
    cuts -= {
        cut for cut in cuts if folded.startswith(", which", cut) and _ends_in_area(folded[:cut])
    }
    bounds = [*sorted(cuts), len(folded)]
    return [_Clause(sentence.text[a:b], a, sentence) for a, b in itertools.pairwise(bounds)]


def _ends_in_area(text: str) -> bool:
    """Whether text ends with an area ('its safeguarding board'), so ', which ...' describes it."""
    return any(m.end() == len(text.rstrip()) for m in _area_regex()[0].finditer(text))


# --- grades and areas inside one clause ------------------------------------------------------


def _next_word(text: str) -> str | None:
    match = re.match(r"[\s'’”\"]*([A-Za-z]+)", text)
    return match[1].lower() if match else None


def _is_grade(clause: str, match: re.Match[str]) -> bool:
    key = normalise_grade(match[0])
    if key is None or (match[0].lower() == "ri" and match[0] != "RI"):
        return False
    after = clause[match.end() :]
    following = _next_word(after)
    if following in _words("grades", "not_after"):
        return False
    if key not in _words("grades", "weak"):
        return True
    before = clause[: match.start()].rstrip()
    if before.endswith(tuple(_QUOTES)) and after.lstrip()[:1] in _QUOTES:
        return True
    previous = re.findall(r"[a-z]+", before.lower())
    cued = any(w in _words("grades", "cues_before") for w in previous[-3:])
    cued = cued or any(w in _RATING_VERBS for w in previous[-8:])
    return cued and (following is None or following in _words("grades", "allowed_after"))


def _linked_after(
    clause: str, end: int, areas: list[re.Match[str]], stop: int
) -> list[re.Match[str]]:
    """Areas named right after a grade: "'good' for leaders and for care leavers"."""
    linked: list[re.Match[str]] = []
    cursor, link = end, _AFTER_LINK
    for area in areas:
        if area.start() < cursor or area.start() >= stop:
            continue
        if not link.match(clause[cursor : area.start()]):
            break
        linked.append(area)
        cursor, link = area.end(), _LIST_LINK
    return linked


def _area_key(text: str) -> str:
    return _area_regex()[1][squash(text)]


def _real_grades(clause: str) -> list[re.Match[str]]:
    """Grade words used as grades; 'good or outstanding' is talk about grades, not one."""
    grades = [m for m in _grade_regex().finditer(clause) if _is_grade(clause, m)]
    paired = {
        i
        for i in range(len(grades) - 1)
        if re.fullmatch(
            r"[\s'’”\"]*(?:or|and/or|to)[\s'‘“\"]*", clause[grades[i].end() : grades[i + 1].start()]
        )
    }
    return [g for i, g in enumerate(grades) if i not in paired and i - 1 not in paired]


def _pair_grades(clause: str) -> list[tuple[str, list[str], int, int]]:
    """(grade, area keys, span) for every grade in the clause; no area means the overall grade."""
    grades = _real_grades(clause)
    areas = [m for m in _area_regex()[0].finditer(clause) if not _in_all_areas(clause, m)]
    used: set[int] = set()
    pairs: list[tuple[str, list[str], int, int]] = []
    for i, grade in enumerate(grades):
        stop = grades[i + 1].start() if i + 1 < len(grades) else len(clause)
        linked = _linked_after(clause, grade.end(), areas, stop)
        if not linked:
            floor = grades[i - 1].end() if i else 0
            linked = [
                a
                for a in areas
                if floor <= a.start() and a.end() <= grade.start() and a.start() not in used
            ]
            linked = linked if linked and grade.start() - linked[-1].end() <= 60 else []
        used.update(a.start() for a in linked)
        keys = [_area_key(a[0]) for a in linked] or ["overall"]
        pairs.append((normalise_grade(grade[0]) or "", keys, grade.start(), grade.end()))
    return pairs


def _in_all_areas(clause: str, area: re.Match[str]) -> bool:
    return squash(area[0]) == "overall" and clause[area.end() :].lstrip().startswith("effective")


# --- tense -----------------------------------------------------------------------------------


def _tense(clause: _Clause, ref_year: int | None) -> tuple[str, int | None]:
    text = clause.text
    years = years_in(text)
    if not years and not _has_any(text, _words("tense", "current")):
        years = years_in(clause.sentence.text[: clause.start])[-1:]
    return _tense_of(text, years, ref_year)


def _tense_of(text: str, years: list[int], ref_year: int | None) -> tuple[str, int | None]:
    year = max(years) if years else None
    if _has_any(text, _words("tense", "history")):
        return "history", year
    if _has_any(text, _words("tense", "current")) or year is None:
        return "current", year
    if ref_year is not None:
        return ("history" if year < ref_year else "current"), year
    return "dated", year


def _segment(text: str, start: int, end: int) -> str:
    left = text.rfind(",", 0, start) + 1
    right = text.find(",", end)
    return text[left : right if right >= 0 else len(text)]


def _grade_tense(
    clause: _Clause, start: int, end: int, ref_year: int | None
) -> tuple[str, int | None]:
    """The tense of the comma-bounded stretch around one grade, when it has its own markers."""
    segment = _segment(clause.text, start, end)
    markers = _words("tense", "history") + _words("tense", "current")
    if years_in(segment) or _has_any(segment, markers):
        return _tense_of(segment, years_in(segment), ref_year)
    return _tense(clause, ref_year)


# --- councils --------------------------------------------------------------------------------


def _clause_councils(clause: _Clause, upto: int) -> list[str]:
    inside = [
        m
        for m in clause.sentence.councils
        if clause.start <= m.start < clause.start + len(clause.text)
    ]
    before = [m for m in inside if m.start < clause.start + upto]
    return _codes(before or inside)


def _codes(matches: Iterable[CouncilMatch]) -> list[str]:
    return list(dict.fromkeys(m.authority.ons_code for m in matches))


def _councils_for(clause: _Clause, upto: int, focus: list[str]) -> tuple[str, ...]:
    codes = _clause_councils(clause, upto)
    earlier = [m for m in clause.sentence.councils if m.start < clause.start]
    if not codes and earlier:
        cut = max(c.start for c in _clauses(clause.sentence) if c.start <= earlier[-1].start)
        codes = _codes(m for m in earlier if m.start >= cut)
    return tuple(codes or focus)


# --- the story as a whole --------------------------------------------------------------------


@dataclass
class _Story:
    sentences: list[_Sentence]
    ref: date | None
    ref_year: int | None
    primary: list[str]
    names: dict[str, str]


def _out_of_scope(sentences: list[_Sentence]) -> bool:
    everything = " ".join(s.text for s in sentences)
    specific = [w for k in UNGRADED_EVENTS for w in _words("events", k)]
    context = ["ofsted", "inspector", "inspectorate", "inspection", "inspected", *specific]
    if not _has_any(everything, context):
        return True
    lead = " ".join(s.text for s in sentences[:2])
    if _has_any(lead, _words("subjects", "out_of_jurisdiction")):
        return True
    if not _has_any(lead, _words("subjects", "lead_excluded")):
        return False
    return not _has_any(lead, _words("subjects", "services") + specific)


def _event_in(text: str) -> str | None:
    folded = f" {squash(text)} "
    found: list[tuple[int, str]] = []
    for kind in _NAMED_EVENTS:
        for word in _words("events", kind):
            # A plural ("regular monitoring visits") describes a series, not the event reported.
            at = folded.find(word)
            if at >= 0 and _contains(folded, word, plural=kind == "other"):
                found.append((at, kind))
    return min(found)[1] if found else None


def _events(story: _Story) -> dict[str, tuple[str, _Sentence]]:
    """The first ungraded event (focused visit, JTAI...) that each council is the subject of."""
    events: dict[str, tuple[str, _Sentence]] = {}
    focus = story.primary
    for sentence in story.sentences:
        focus = _codes(sentence.councils) or focus
        for clause in _clauses(sentence):
            kind = _event_in(clause.text)
            if kind is None or _tense(clause, story.ref_year)[0] == "history":
                continue
            for code in _clause_councils(clause, len(clause.text)) or focus:
                events.setdefault(code, (kind, sentence))
    return events


def _mentions(story: _Story) -> list[_Mention]:
    found: list[_Mention] = []
    focus = story.primary
    for sentence in story.sentences:
        for clause in _clauses(sentence):
            if _has_any(clause.text, _words("subjects", "excluded")):
                continue
            for grade, keys, start, end in _pair_grades(clause.text):
                if _has_any(_segment(clause.text, start, end), _words("tense", "skip")):
                    continue
                tense, year = _grade_tense(clause, start, end, story.ref_year)
                codes = _councils_for(clause, start, focus)
                found += [_Mention(grade, k, codes, tense, year, sentence) for k in keys]
        focus = _codes(sentence.councils[-1:]) or focus
    return found


# --- dates -----------------------------------------------------------------------------------


def _dated_spans(story: _Story, cue: re.Pattern[str]) -> list[tuple[DateSpan, _Sentence]]:
    spans: list[tuple[DateSpan, _Sentence]] = []
    for sentence in story.sentences:
        for clause in _clauses(sentence):
            if _tense(clause, None)[0] == "history":
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


def _published(story: _Story) -> tuple[date | None, _Sentence | None]:
    spans = [(s, st) for s, st in _dated_spans(story, _PUBLISH_CUE) if s.precision == "day"]
    spans.sort(key=lambda pair: pair[0].text.lower() in _RELATIVE)
    return (spans[0][0].start, spans[0][1]) if spans else (None, None)


def _fieldwork(story: _Story) -> tuple[DateSpan | None, _Sentence | None]:
    spans = _dated_spans(story, _VISIT_CUE)
    spans = [(s, st) for s, st in spans if s.text.lower() not in _RELATIVE]
    return spans[0] if spans else (None, None)


# --- building outcomes -----------------------------------------------------------------------


def _story(title: str | None, text: str, article_date: date | None) -> _Story:
    sentences = _sentences(title, text)
    first = next((s for s in sentences if s.councils), None)
    primary = _codes(first.councils[:1]) if first else []
    names: dict[str, str] = {}
    for sentence in sentences:
        for match in sentence.councils:
            names.setdefault(match.authority.ons_code, match.text)
    year = article_date.year if article_date else None
    return _Story(sentences, article_date, year, primary, names)


def _settle(mentions: list[_Mention], ungraded: bool) -> tuple[list[_Mention], list[_Mention]]:
    """Split one council's mentions into (current, history)."""
    if ungraded:
        return [], mentions
    has_current = any(m.tense == "current" and m.area == "overall" for m in mentions)
    current = [
        m for m in mentions if m.tense == "current" or (m.tense == "dated" and not has_current)
    ]
    history = [m for m in mentions if m not in current]
    return current, history


def _pick_overall(current: list[_Mention]) -> _Mention | None:
    overall = [m for m in current if m.area == "overall"]
    return overall[0] if overall else None


def _judgements(current: list[_Mention]) -> dict[str, str]:
    areas: dict[str, str] = {}
    for mention in current:
        if mention.area != "overall":
            areas.setdefault(mention.area, mention.grade)
    return areas


def _previous(
    history: list[_Mention], story: _Story, code: str, cutoff: int | None
) -> tuple[_Mention | None, int | None]:
    overall = [m for m in history if m.area == "overall"]
    if overall:
        chosen = max(overall, key=lambda m: m.year or 0)
        return chosen, chosen.year
    return None, _previous_year(story, code, cutoff)


def _previous_year(story: _Story, code: str, cutoff: int | None) -> int | None:
    """The year of an earlier inspection the story names without its grade."""
    years: list[int] = []
    for sentence in story.sentences:
        if sentence.councils and code not in _codes(sentence.councils):
            continue
        for clause in _clauses(sentence):
            tense, year = _tense(clause, story.ref_year)
            inspected = re.search(r"\binspect|\brated\b|\bjudged\b", clause.text, re.I)
            if tense == "history" and year and inspected:
                years.append(year)
    limit = cutoff if cutoff is not None else story.ref_year
    if limit is not None:
        years = [y for y in years if y < limit]
    return max(years) if years else None


def _send_outcome(story: _Story) -> str | None:
    text = f" {squash(' '.join(s.text for s in story.sentences))} "
    for phrase, key in sorted(
        ((p, k) for k, words in _prose()["send_outcomes"].items() for p in words),
        key=lambda pair: -len(pair[0]),
    ):
        if phrase in text:
            return key
    return None


def _framework(event: str, outcome: InspectionOutcome, story: _Story, year: int | None) -> str:
    text = " ".join(s.text for s in story.sentences)
    if event == "send_inspection":
        return _send_framework(outcome.send_outcome, year)
    if event == "focused_visit" or _has_any(text, ["ilacs"]):
        return "ILACS"
    if _has_any(text, ["single inspection framework"]):
        return "SIF"
    if outcome.overall in ("adequate", "satisfactory", "poor"):
        return "pre2013"
    judged = outcome.judgement_map
    if event == "inspection" and (outcome.pilot or "children_in_care_and_care_leavers" in judged):
        return "ILACS"
    if "adoption" in judged or "lscb" in judged:
        return "SIF"
    by_year = _framework_for_year(year)
    if by_year:
        return by_year
    if outcome.previous_year and outcome.previous_year >= 2018:
        return "ILACS"
    if "care_leavers" in judged and "help_and_protection" in judged:
        return "ILACS"
    return "unknown"


def _framework_for_year(year: int | None) -> str | None:
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


def _confidence(overall: _Mention | None, judged: bool, event: str, dated: bool) -> float:
    score = 0.55 if event in UNGRADED_EVENTS else 0.35
    if overall is not None:
        score += 0.3 if overall.sentence.lead else 0.2
    score += 0.1 if judged else 0.0
    score += 0.05 if dated else 0.0
    return min(score, 0.95)


def _evidence(*sentences: _Sentence | None) -> tuple[str, ...]:
    found = sorted({s.index: s.text for s in sentences if s is not None}.items())
    return tuple(text for _, text in found)


def _outcome_for(
    code: str, mentions: list[_Mention], event: tuple[str, _Sentence] | None, story: _Story
) -> InspectionOutcome | None:
    kind = event[0] if event else "inspection"
    current, history = _settle(mentions, kind in UNGRADED_EVENTS)
    if kind in ("inspection", "other") and not current:
        return None
    overall = _pick_overall(current)
    published, published_in = _published(story)
    fieldwork, fieldwork_in = _fieldwork(story)
    cutoff = (fieldwork.start if fieldwork else published or story.ref or date.max).year
    previous, previous_year = _previous(history, story, code, None if cutoff == 9999 else cutoff)
    outcome = InspectionOutcome(
        local_authority=None,
        ons_code=code,
        event_type=kind,
        overall=overall.grade if overall else None,
        judgements=sort_judgements(_judgements(current)),
        send_outcome=_send_outcome(story) if kind == "send_inspection" else None,
        inspection_start=fieldwork.start if fieldwork else None,
        inspection_end=fieldwork.end if fieldwork else None,
        published=published,
        previous_overall=previous.grade if previous else None,
        previous_year=previous_year,
        pilot=kind == "inspection" and _is_pilot(story),
        name_as_printed=story.names.get(code),
    )
    year = _event_year(outcome, story)
    sources = [m.sentence for m in current] + [previous.sentence if previous else None]
    return outcome.with_changes(
        framework=_framework(kind, outcome, story, year),
        confidence=_confidence(overall, bool(outcome.judgements), kind, bool(fieldwork)),
        evidence=_evidence(*sources, event[1] if event else None, published_in, fieldwork_in),
    )


def _event_year(outcome: InspectionOutcome, story: _Story) -> int | None:
    for value in (outcome.inspection_start, outcome.published, story.ref):
        if value is not None:
            return value.year
    return None


def _is_pilot(story: _Story) -> bool:
    return any(
        _has_any(c.text, _words("pilot", "words")) and _tense(c, story.ref_year)[0] != "history"
        for s in story.sentences
        for c in _clauses(s)
    )


def parse_article(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    article_date: date | None = None,
    home_councils: tuple[str, ...] = (),
) -> list[InspectionOutcome]:
    """Every council outcome a story reports; an empty list when it reports none.

    `home_councils` (ONS codes) are the councils a newsroom belongs to: a release that only says
    "our children's services" is about them. They are used only when the story names no council.
    """
    story = _story(title, text, article_date)
    if not story.primary and len(home_councils) == 1:
        story.primary = list(home_councils)
        story.names.update({code: "" for code in story.primary})
    if not story.primary:
        story.primary = [a.ons_code for a in councils_in_url(url)][:1]
        story.names.update({code: "" for code in story.primary})
    if not story.primary or _out_of_scope(story.sentences):
        logger.debug("article skipped url=%s councils=%d", url, len(story.primary))
        return []
    published, _ = _published(story)
    if story.ref_year is None and published is not None:
        story.ref_year = published.year
    events = _events(story)
    by_council: dict[str, list[_Mention]] = {}
    for mention in _mentions(story):
        for code in mention.councils:
            by_council.setdefault(code, []).append(mention)
    outcomes = []
    for code in dict.fromkeys([*by_council, *events]):
        outcome = _outcome_for(code, by_council.get(code, []), events.get(code), story)
        if outcome is not None:
            outcomes.append(_named(outcome, url))
    logger.debug("article parsed url=%s outcomes=%d", url, len(outcomes))
    return outcomes


def _named(outcome: InspectionOutcome, url: str | None) -> InspectionOutcome:
    authority = AuthorityRegistry.load().by_ons(outcome.ons_code or "")
    name = authority.short_name if authority else None
    return outcome.with_changes(local_authority=name, source_url=url)
