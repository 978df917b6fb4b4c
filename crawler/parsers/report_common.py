"""Pieces shared by every Ofsted report family: the text, the header fields and the council.

Pure functions over extracted PDF text; the family modules build on these.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from crawler.authorities import Authority, AuthorityRegistry
from crawler.parsers.dates import parse_date, parse_date_range
from crawler.vocabulary import normalise_grade

logger = logging.getLogger(__name__)

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u2013": "-", "\u2014": "-"})
_GRADE_WORDS = (
    r"requires? improvement to be good|requires? improvement|outstanding|inadequate|adequate|good"
)
GRADE_RE = re.compile(rf"\b(?:{_GRADE_WORDS})\b", re.IGNORECASE)
_HEADER_STOP = re.compile(
    r"\b(?:lead inspectors?|reporting inspector|report published|published|judgement|"
    r"date of previous|dates of previous|inspection outcome|age group)\b",
    re.IGNORECASE,
)
_INSPECTOR_TITLES = re.compile(
    r"\(?\b(?:his|her) majesty'?s inspectors?\b\)?|\(?\bHMIs?\b\)?|\bofsted inspector\b"
    r"|\bsocial care regulatory inspector\b",
    re.IGNORECASE,
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
LEAD_GUARD = re.compile(r"leadinspector|reportinginspector")
_NAME = re.compile(r"^[A-Z][A-Za-z'\-]+(?: (?:[A-Z][A-Za-z'\-.]*|de|van|von|le|la))+$")


class PageReader(Protocol):
    """Where a report's page texts come from: extracted on demand, with a cheap pre-check."""

    def __len__(self) -> int: ...

    def text(self, index: int) -> str: ...

    def may_hold(self, index: int, guard: re.Pattern[str]) -> bool: ...


@dataclass(frozen=True)
class StoredPages:
    """Page texts already in memory; a page may hold what its squashed text matches."""

    pages: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.pages)

    def text(self, index: int) -> str:
        return self.pages[index]

    def may_hold(self, index: int, guard: re.Pattern[str]) -> bool:
        return guard.search(squash(self.pages[index])) is not None


class ReportText:
    """The text of a report: each page read when first needed, and flattened once for searching.

    A guard is a pattern over squashed page text (see squash) that every page holding the
    wanted text must match, so the search can skip the pages that cannot hold it unread.
    """

    def __init__(self, source: PageReader) -> None:
        self._source = source
        self._flat: dict[int, str] = {}

    @classmethod
    def of(cls, pages: Sequence[str]) -> ReportText:
        return cls(StoredPages(tuple(pages)))

    def __len__(self) -> int:
        return len(self._source)

    def page(self, index: int) -> str:
        return self._source.text(index)

    def flat(self, first: int = 0, last: int | None = None) -> str:
        """Pages first..last (0-based, end exclusive) as one line of text, case kept."""
        return " ".join(self._flat_page(i) for i in range(len(self))[first:last])

    def lower(self, first: int = 0, last: int | None = None) -> str:
        return self.flat(first, last).lower()

    def pages_where(self, guard: re.Pattern[str], *, reverse: bool = False) -> Iterator[str]:
        """The pages that may hold what guard stands for, read one at a time in order."""
        order = range(len(self) - 1, -1, -1) if reverse else range(len(self))
        return (self.page(i) for i in order if self._source.may_hold(i, guard))

    def flat_where(self, guard: re.Pattern[str], spill: int = 0) -> str:
        """Like flat(), over the pages guard admits and the spill pages after each of them."""
        admitted = [i for i in range(len(self)) if self._source.may_hold(i, guard)]
        chosen = sorted({j for i in admitted for j in range(i, min(i + spill + 1, len(self)))})
        return " ".join(self._flat_page(i) for i in chosen)

    def _flat_page(self, index: int) -> str:
        if index not in self._flat:
            self._flat[index] = flatten(self.page(index))
        return self._flat[index]


@dataclass(frozen=True)
class Header:
    """What the top of a report says about where and when, and who led the inspection."""

    name_as_printed: str | None
    authority: Authority | None
    start: date | None
    end: date | None
    lead_inspector: str | None
    published: date | None
    evidence: tuple[str, ...]


def flatten(text: str) -> str:
    """One line: straight quotes, plain dashes and single spaces, case kept."""
    return " ".join(text.translate(_QUOTES).split())


def squash(text: str) -> str:
    """Lower-case letters and digits only, the form page guards are written against."""
    return _NOT_ALNUM.sub("", text.lower())


def grade_of(text: str) -> str | None:
    return normalise_grade(text)


def resolve_authority(name: str | None) -> Authority | None:
    """The council a printed name means; a trust or service name falls back to its place name."""
    if not name:
        return None
    registry = AuthorityRegistry.load()
    words = name.replace("'s ", " ").split()
    for size in range(len(words), 0, -1):
        found = registry.resolve(" ".join(words[:size]))
        if found is not None:
            if size < len(words):
                logger.debug("authority resolved by prefix printed=%r found=%s", name, found.name)
            return found
    return None


def inspection_dates(flat: str) -> tuple[date | None, date | None, str | None]:
    """The fieldwork range printed after 'Inspection date(s):', with the line it came from."""
    match = re.search(r"inspection dates?\s*:?\s*(.{4,160})", flat, re.IGNORECASE)
    if match is None:
        return (None, None, None)
    text = match.group(1)
    stop = _HEADER_STOP.search(text)
    text = text[: stop.start()] if stop else text
    start, end = parse_date_range(text)
    return (start, end, f"Inspection dates: {text.strip()}")


def published_date(flat: str) -> tuple[date | None, str | None]:
    """'Report published: 3 August 2015' (SIF) or 'Published: 23 August 2013' (2013)."""
    match = re.search(
        r"\bpublished\s*:?\s*(\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?\s+\d{4}|[\d/]{8,10})",
        flat,
        re.IGNORECASE,
    )
    if match is None:
        return (None, None)
    found = parse_date(match.group(1))
    return (found, f"Report published: {match.group(1)}" if found else None)


def clean_inspectors(text: str) -> str | None:
    """Names from a lead-inspector line, without titles; two names are joined with '; '."""
    text = _INSPECTOR_TITLES.sub(",", text.translate(_QUOTES))
    names = []
    for piece in re.split(r",|;|\band\b|&", text):
        piece = " ".join(piece.replace("\u2019", "'").split()).strip(" .:")
        if _NAME.match(piece) and piece not in names:
            names.append(piece)
    return "; ".join(names) if names else None


def lead_inspector_line(page_text: str) -> str | None:
    """The text after 'Lead inspector(s):' on its line, joined with a wrapped second line."""
    lines = page_text.splitlines()
    pattern = re.compile(r"^\s*(?:lead inspectors?|reporting inspector)\s*:?\s*(.*)$", re.I)
    for index, line in enumerate(lines):
        match = pattern.match(line)
        if match is None:
            continue
        text = match.group(1).strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if (not text or re.search(r"(,|\band)$", text)) and ":" not in following:
            text = f"{text} {following}"
        return text
    return None


def printed_name(flat: str, patterns: list[re.Pattern[str]]) -> str | None:
    """The council name as a title prints it: the first pattern that captures one."""
    for pattern in patterns:
        match = pattern.search(flat)
        if match:
            name = " ".join(match.group("name").split()).strip(" ,.-")
            if name:
                return re.sub(r"(?<=[a-z])\d$", "", name)
    return None
