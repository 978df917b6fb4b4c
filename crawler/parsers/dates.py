"""Printed-date parsing for Ofsted reports and letters: single dates and fieldwork ranges.

Pure functions. Day-month-year order only, as British reports print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_WORD = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# One day of a printed range; month and year are optional because "7 to 18 October 2024"
# prints them only once, on the last day.
_PART = re.compile(
    rf"(?<![\d/])(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
    rf"(?:\s+(?:of\s+)?(?P<month>{_MONTH_WORD})(?![a-z]))?"
    rf"(?:,?\s+(?P<year>(?:19|20)\d\d))?(?!\d)",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(r"\s*(?:to|until|till|and|[-\u2010-\u2015\u2212~]|&)\s*", re.IGNORECASE)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_NUMERIC = re.compile(r"\b([0-3]?\d)/([01]?\d)/((?:19|20)\d\d)\b")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500"})


@dataclass(frozen=True)
class _Part:
    day: int
    month: int | None
    year: int | None


def _clean(text: str) -> str:
    return " ".join(text.translate(_DASHES).replace("\u00a0", " ").split())


def _parts(text: str) -> list[_Part]:
    """Every day mentioned as part of a date or a range, in printed order."""
    found: list[_Part] = []
    for match in _PART.finditer(text):
        month = match.group("month")
        following = text[match.end() :]
        if month is None and not _CONNECTOR.match(following):
            continue
        if month is None and not re.match(r"\s*\S+\s*\d", following):
            continue
        found.append(
            _Part(
                day=int(match.group("day")),
                month=_MONTHS[month[:3].lower()] if month else None,
                year=int(match.group("year")) if match.group("year") else None,
            )
        )
    return found


def _complete(parts: list[_Part]) -> list[date]:
    """Fill each day's missing month and year from the next day that prints them."""
    dates: list[date] = []
    for index, part in enumerate(parts):
        later = parts[index:]
        month = next((p.month for p in later if p.month), None)
        year = next((p.year for p in later if p.year), None)
        if month is None or year is None:
            continue
        try:
            dates.append(date(year, month, part.day))
        except ValueError:
            continue
    return dates


def _exact(text: str) -> date | None:
    for pattern, order in ((_ISO, (0, 1, 2)), (_NUMERIC, (2, 1, 0))):
        match = pattern.search(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def parse_date(text: str) -> date | None:
    """The first full date printed in text ('18th October 2024', '2024-10-18', '18/10/2024')."""
    cleaned = _clean(text)
    for match in _PART.finditer(cleaned):
        if match.group("month") and match.group("year"):
            try:
                return date(
                    int(match.group("year")),
                    _MONTHS[match.group("month")[:3].lower()],
                    int(match.group("day")),
                )
            except ValueError:
                continue
    return _exact(cleaned)


def parse_date_range(text: str) -> tuple[date | None, date | None]:
    """First and last day of a printed range; a single date is both; split fieldwork spans all."""
    dates = _complete(_parts(_clean(text)))
    if not dates:
        single = _exact(_clean(text))
        return (single, single)
    start, end = dates[0], dates[-1]
    if start > end and start.month > end.month:
        # "30 December to 3 January 2025" prints the year once, on the later day.
        start = date(start.year - 1, start.month, start.day)
    return (start, end)
