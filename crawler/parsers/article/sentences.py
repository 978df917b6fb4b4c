"""A story cut into sentences and clauses, each clause with its tense (the news, or history).

Tense decides which grade is the event being reported and which is what the council had before.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from crawler.parsers.article.councils import CouncilMatch, find_councils
from crawler.parsers.article.layout import restate_layout
from crawler.parsers.article.phrases import area_regex, has_any, words
from crawler.parsers.html_text import is_boilerplate_line
from crawler.parsers.prose_dates import years_in

_LEAD_SENTENCES = 3
_FULL_SENTENCE = 8  # words
_SPAN_AFTER = re.compile(r"\b(?:months?|years?|weeks?|days?|decade)\s*$", re.I)
_AFTER = re.compile(r"\s*after\b", re.I)
_COUNTED_SENTENCE = 5  # words
_SUBJECT_WORDS = re.compile(r"\b(?:ofsted|inspect\w*|watchdog)\b", re.I)
_ABBREVIATIONS = ("St.", "Cllr.", "Dr.", "Mr.", "Mrs.", "Ms.", "No.", "Prof.", "Rev.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
# A numbered table row ("2.1 Adoption performance Good") must not split at its own number.
_ROW_NUMBER = re.compile(r"(?:^|\s)\d{1,2}(?:\.\d+)?\.?$")
# The comma that closes a relative clause: "X, which was rated inadequate in 2014, was judged good".
_MAIN_VERB = re.compile(
    r",\s+(?=(?:was|were|is|are|has|have|had|now|received|receives|remains|remained|became|"
    r"becomes)\b)"
)


@dataclass(frozen=True)
class Sentence:
    text: str
    index: int
    lead: bool
    councils: tuple[CouncilMatch, ...]


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    sentence: Sentence


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(line):
        if pieces and (pieces[-1].endswith(_ABBREVIATIONS) or _ROW_NUMBER.search(pieces[-1])):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces if p.strip()]


def sentences_of(title: str | None, text: str) -> list[Sentence]:
    """Headline first, then every sentence of the body that is not page furniture."""
    lines = [title] if title else []
    body = restate_layout(text).splitlines()
    lines += [ln for ln in body if ln.strip() and not is_boilerplate_line(ln)]
    texts = [s for line in lines for s in _split_line(line.strip().lstrip("-•* "))]
    # A short name backed once ("Camden and Sutton", "Reading Borough Council") is backed
    # everywhere in the story, so a second pass reads every sentence with what the first found.
    named = frozenset(m.authority.ons_code for t in texts for m in find_councils(t))
    councils = [tuple(find_councils(t, backed=named)) for t in texts]
    lead = _lead_indexes(texts, councils)
    return [Sentence(t, i, i in lead, councils[i]) for i, t in enumerate(texts)]


def _lead_indexes(texts: list[str], councils: list[tuple[CouncilMatch, ...]]) -> set[int]:
    """The opening of the story: from its start, until three full sentences have been read.

    Captions, 'Share' and 'Published' lines between them belong to the lead but do not count.
    """
    lead: set[int] = set()
    full = 0
    for index in range(_lead_start(texts, councils), len(texts)):
        if full >= _LEAD_SENTENCES:
            break
        lead.add(index)
        full += len(texts[index].split()) >= _COUNTED_SENTENCE or not lead - {index}
    return lead


def _lead_start(texts: list[str], councils: list[tuple[CouncilMatch, ...]]) -> int:
    """Where the story begins: the first full sentence, or the first naming a council or Ofsted.

    Pages open with furniture (a weather box, a byline, 'Published'), which is not the lead.
    """
    for index, text in enumerate(texts):
        if councils[index] or _SUBJECT_WORDS.search(text) or len(text.split()) >= _FULL_SENTENCE:
            return index
    return 0


def clauses_of(sentence: Sentence) -> list[Clause]:
    folded = sentence.text.lower()
    cuts = {0}
    for marker in words("tense", "clause_breaks"):
        cuts.update(m.start() for m in re.finditer(re.escape(marker), folded))
    cuts -= {
        cut for cut in cuts if folded.startswith(", which", cut) and _ends_in_area(folded[:cut])
    }
    cuts.update(_relative_ends(folded, cuts))
    # Semicolons after a colon separate the items of one list, which must stay in one clause.
    colon = folded.find(":")
    if colon >= 0:
        cuts -= {cut for cut in cuts if cut > colon and folded.startswith(";", cut)}
    # "looked after children" holds the break word " after ": an area is never cut in two.
    inside = [(m.start(), m.end()) for m in area_regex()[0].finditer(sentence.text)]
    cuts -= {cut for cut in cuts if any(a < cut < b for a, b in inside)}
    bounds = [*sorted(cuts), len(folded)]
    return [Clause(sentence.text[a:b], a, sentence) for a, b in itertools.pairwise(bounds)]


def _relative_ends(folded: str, cuts: set[int]) -> set[int]:
    """Where each ', which ...' clause gives way to the main verb of the sentence."""
    ends = set()
    for cut in cuts:
        if folded.startswith((", which", ", who"), cut):
            verb = _MAIN_VERB.search(folded, cut + 2)
            if verb is not None:
                ends.add(verb.start())
    return ends


def _ends_in_area(text: str) -> bool:
    """Whether text ends with an area ('its safeguarding board'), so ', which ...' describes it."""
    return any(m.end() == len(text.rstrip()) for m in area_regex()[0].finditer(text))


def clause_tense(clause: Clause, ref_year: int | None) -> tuple[str, int | None]:
    """'current', 'history' or 'dated' (a year not yet placed), and the year the clause names."""
    text = clause.text
    if _SPAN_AFTER.search(clause.sentence.text[: clause.start]) and _AFTER.match(text):
        # "three months after declaring them inadequate": the grade is the earlier event.
        years = years_in(text)
        return "history", years[-1] if years else None
    years = years_in(text)
    main_verb = _MAIN_VERB.match(text) is not None  # the year before was the relative clause's
    if not years and not main_verb and not has_any(text, words("tense", "current")):
        years = years_in(clause.sentence.text[: clause.start])[-1:]
    return tense_of(text, years, ref_year)


def tense_of(text: str, years: list[int], ref_year: int | None) -> tuple[str, int | None]:
    year = max(years) if years else None
    if has_any(text, words("tense", "history")):
        return "history", year
    if has_any(text, words("tense", "current")) or year is None:
        return "current", year
    if ref_year is not None and year < ref_year - 1:
        return "history", year
    if ref_year is not None and year >= ref_year:
        return "current", year
    # Last year's fieldwork is often this year's news: the outcome settles it against the event.
    return "dated", year


def segment(text: str, start: int, end: int) -> str:
    """The comma-bounded stretch of text around [start, end)."""
    left = text.rfind(",", 0, start) + 1
    right = text.find(",", end)
    return text[left : right if right >= 0 else len(text)]


def grade_tense(
    clause: Clause, start: int, end: int, ref_year: int | None
) -> tuple[str, int | None]:
    """The tense of the stretch around one grade when it has its own markers, else the clause's."""
    around = segment(clause.text, start, end)
    markers = words("tense", "history") + words("tense", "current")
    if years_in(around) or has_any(around, markers):
        return tense_of(around, years_in(around), ref_year)
    return clause_tense(clause, ref_year)
