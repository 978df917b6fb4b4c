"""Dates as prose writes them: '7 to 18 October 2024', 'October 18 and October 19', 'last month'.

A date without a year, or a relative one ('yesterday'), is resolved against a reference date (the
story's own date); without one it is left out rather than guessed.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_M = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_D = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_Y = r"(?:19[5-9]\d|20\d\d)"
_TO = r"\s*(?:to|-|–|—|and|until|till|through)\s*"
_WEEKDAY = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?"
_YEAR = re.compile(rf"\b{_Y}\b")
_SLACK = timedelta(days=7)


@dataclass(frozen=True)
class DateSpan:
    """A date or range found in text, with where it was found and how precise it is."""

    start: date
    end: date
    text: str
    pos: int
    end_pos: int
    precision: str  # "day" or "month"


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year_for(month: int, day: int, ref: date | None) -> int | None:
    """The year that puts day/month on or shortly before the reference date."""
    if ref is None:
        return None
    try:
        candidate = date(ref.year, month, day)
    except ValueError:
        return None
    return ref.year if candidate <= ref + _SLACK else ref.year - 1


def _make(y: int | None, m: int, d: int) -> date | None:
    if y is None:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


_Resolver = Callable[[re.Match[str], date | None], tuple[date, date, str] | None]


def _range(
    m1: int, d1: int, m2: int, d2: int, y1: int | None, y2: int | None, ref: date | None
) -> tuple[date, date, str] | None:
    end_year = y2 if y2 is not None else _year_for(m2, d2, ref)
    start_year = y1 if y1 is not None else end_year
    if y1 is None and start_year is not None and (m1, d1) > (m2, d2):
        start_year -= 1
    start, end = _make(start_year, m1, d1), _make(end_year, m2, d2)
    if start is None or end is None or start > end:
        return None
    return start, end, "day"


def _opt_year(text: str | None) -> int | None:
    return int(text) if text else None


def _dmy_dmy(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    return _range(
        _month(m["m1"]),
        _day(m["d1"]),
        _month(m["m2"]),
        _day(m["d2"]),
        _opt_year(m["y1"]),
        _opt_year(m["y2"]),
        ref,
    )


def _dd_m(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    month = _month(m["m"])
    return _range(month, _day(m["d1"]), month, _day(m["d2"]), None, _opt_year(m["y"]), ref)


def _md_md(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    m1 = _month(m["m1"])
    m2 = _month(m["m2"]) if m["m2"] else m1
    return _range(m1, _day(m["d1"]), m2, _day(m["d2"]), None, _opt_year(m["y"]), ref)


def _single(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    month, day = _month(m["m"]), _day(m["d"])
    year = _opt_year(m["y"]) if m["y"] else _year_for(month, day, ref)
    found = _make(year, month, day)
    return (found, found, "day") if found else None


def _month_year(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    year = int(m["y"])
    start = date(year, _month(m["m1"]), 1)
    end = _last_day(year, _month(m["m2"]) if m["m2"] else start.month)
    return (start, end, "month") if start <= end else None


def _relative_month(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    if ref is None:
        return None
    first = _month(m["m"])
    last = _month(m["m2"]) if m["m2"] else first
    qualifier = (m["q"] or "").lower()
    if "this year" in qualifier:
        year = ref.year
    elif "last year" in qualifier:
        year = ref.year - 1
    else:
        year = ref.year if last <= ref.month else ref.year - 1
    start_year = year if first <= last else year - 1
    return date(start_year, first, 1), _last_day(year, last), "month"


def _relative_word(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    if ref is None:
        return None
    word = m[0].lower()
    if word.endswith("yesterday"):
        day = ref - timedelta(days=1)
        return day, day, "day"
    if word.endswith("today"):
        return ref, ref, "day"
    first = ref.replace(day=1)
    if "last month" in word:
        first = (first - timedelta(days=1)).replace(day=1)
    return first, _last_day(first.year, first.month), "month"


# Seasons as the months they cover; winter starts in December of its named year.
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "winter": (12, 2)}


def _season_span(name: str, year: int) -> tuple[date, date, str]:
    first, last = _SEASONS[name.lower()]
    end_year = year + 1 if first > last else year
    return date(year, first, 1), _last_day(end_year, last), "month"


def _season(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    return _season_span(m["s"], int(m["y"]))


def _relative_season(m: re.Match[str], ref: date | None) -> tuple[date, date, str] | None:
    """'in the summer': the latest such season that has begun by the story's date."""
    if ref is None:
        return None
    ended = m[0].lower().startswith("last")  # "last autumn" is over; "in the autumn" may not be
    for year in (ref.year, ref.year - 1, ref.year - 2):
        span = _season_span(m["s"], year)
        if (span[1] < ref) if ended else (span[0] <= ref):
            return span
    return None


_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (
        re.compile(
            rf"\b{_WEEKDAY}(?P<d1>{_D})\s+(?P<m1>{_M})(?:\s+(?P<y1>{_Y}))?{_TO}"
            rf"(?P<d2>{_D})\s+(?P<m2>{_M})(?:,?\s+(?P<y2>{_Y}))?\b"
        ),
        _dmy_dmy,
    ),
    (
        re.compile(rf"\b(?P<d1>{_D}){_TO}(?P<d2>{_D})\s+(?P<m>{_M})(?:,?\s+(?P<y>{_Y}))?\b"),
        _dd_m,
    ),
    (
        re.compile(
            rf"\b(?P<m1>{_M})\s+(?P<d1>{_D}){_TO}(?:(?P<m2>{_M})\s+)?(?P<d2>{_D})"
            rf"(?:,?\s+(?P<y>{_Y}))?\b"
        ),
        _md_md,
    ),
    (
        re.compile(rf"\b(?P<m1>{_M})(?:{_TO}(?P<m2>{_M}))?,?\s+(?P<y>{_Y})\b"),
        _month_year,
    ),
    (re.compile(rf"\b{_WEEKDAY}(?P<d>{_D})\s+(?P<m>{_M})(?:,?\s+(?P<y>{_Y}))?\b"), _single),
    (re.compile(rf"\b(?P<m>{_M})\s+(?P<d>{_D})(?:,\s*(?P<y>{_Y}))?\b(?!\s*(?:%|per))"), _single),
    (
        re.compile(
            rf"\b(?:in|last|this|during|since|from|by|until|over|of)\s+(?:the\s+)?"
            rf"(?P<m>{_M})(?:{_TO}(?P<m2>{_M}))?(?P<q>\s+(?:this|last)\s+year)?\b(?!,?\s+{_Y})"
        ),
        _relative_month,
    ),
    (
        re.compile(r"\b(?:earlier this month|last month|this month|today|yesterday)\b", re.I),
        _relative_word,
    ),
    (
        re.compile(rf"\b(?P<s>spring|summer|autumn|winter)(?:\s+of)?\s+(?P<y>{_Y})\b", re.I),
        _season,
    ),
    (
        re.compile(
            rf"\b(?:in|last|this|during|over)\s+(?:the\s+)?(?P<s>spring|summer|autumn|winter)\b"
            rf"(?!\s+(?:of\s+)?{_Y})",
            re.I,
        ),
        _relative_season,
    ),
)


def _candidates(text: str, ref: date | None) -> Iterator[tuple[int, DateSpan]]:
    for rank, (pattern, resolve) in enumerate(_PATTERNS):
        for match in pattern.finditer(text):
            found = resolve(match, ref)
            if found:
                start, end, precision = found
                span = DateSpan(start, end, match[0], match.start(), match.end(), precision)
                yield rank, span


def find_date_spans(text: str, ref: date | None = None) -> list[DateSpan]:
    """Every date or range in the text, longest first where they overlap, in text order."""
    chosen: list[DateSpan] = []
    ordered = sorted(_candidates(text, ref), key=lambda c: (-(c[1].end_pos - c[1].pos), c[0]))
    for _, span in ordered:
        if all(span.end_pos <= s.pos or span.pos >= s.end_pos for s in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.pos)


def parse_date_text(text: str) -> date | None:
    """One date written on its own: ISO 8601 (with or without a time), '12 October 2017', etc."""
    value = text.strip()
    iso = re.match(r"(\d{4}-\d{2}-\d{2})", value)
    if iso:
        try:
            return date.fromisoformat(iso[1])
        except ValueError:
            return None
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(value[:10], fmt).date()
        except ValueError:
            continue
    spans = [s for s in find_date_spans(value) if s.precision == "day"]
    return spans[0].start if spans else None


def years_in(text: str) -> list[int]:
    """Four-digit years (1950-2099) in the order they appear."""
    return [int(y) for y in _YEAR.findall(text)]
