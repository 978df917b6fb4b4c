"""ILACS full reports (2018 onwards) and the 2013 looked-after-children inspections.

Both print a judgement table near the top; which rows it holds decides the layout, never the date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.errors import ParseError
from crawler.parsers.report_common import GRADE_RE, ReportText, grade_of
from crawler.parsers.report_tables import Row, after, read_table

_COMBINED = "children_in_care_and_care_leavers"
_SPLIT = ("children_in_care", "care_leavers")
_CORE = ("leaders", "help_and_protection")
_TABLE_PAGES = 3
_ROW_START = re.compile(
    r"\b(?:the impact of leaders|the experiences and progress of|overall effectiveness)\b",
    re.IGNORECASE,
)
_MAIN_FINDINGS = re.compile(r"record of main findings", re.IGNORECASE)
_MAIN_FINDINGS_GUARD = re.compile(r"recordofmainfindings")

ILACS_TITLES = [
    re.compile(
        r"^(?:\d+\s+)?(?P<name>.{2,90}?)\s+inspection of (?:children's social care services"
        r"|local authority children's services)",
        re.IGNORECASE,
    ),
    re.compile(
        r"inspection of (?P<name>(?:(?!inspection dates).){2,90}?)\s+(?:local authority )?"
        r"children's (?:social care )?services",
        re.IGNORECASE,
    ),
    re.compile(r"inspection of (?P<name>.{2,90}?)\s+inspection dates?\b", re.IGNORECASE),
]
PRE2013_TITLES = [
    re.compile(
        r"inspection of (?:safeguarding and )?(?:looked after children|safeguarding) services"
        r"\s+(?P<name>.{2,90}?)\s+inspection dates?\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"arrangements for the protection of children\s+(?P<name>.{2,90}?)\s+inspection dates?\b",
        re.IGNORECASE,
    ),
]


@dataclass(frozen=True)
class Grades:
    """The graded part of a report: overall, each area, and the rows they came from."""

    overall: str | None
    judgements: dict[str, str]
    evidence: tuple[str, ...]
    complete: bool = True


def classify_ilacs(label: str) -> str | None:
    """The area key of an ILACS table row label (misprints such as 'children care leavers' too)."""
    text = label.lower()
    if "overall effectiveness" in text:
        return "overall"
    if "leaders" in text:
        return "leaders"
    if "help and protection" in text:
        return "help_and_protection"
    in_care = "children in care" in text or "looked after" in text
    if "care leavers" in text:
        return _COMBINED if in_care else "care_leavers"
    return "children_in_care" if in_care else None


def _body_headings(flat: str) -> list[Row]:
    """Judgement headings in the body: 'The experiences and progress of ...: good'."""
    rows: list[Row] = []
    pattern = re.compile(
        rf"((?:the impact of leaders|the experiences and progress of)[^:.]{{5,110}}):\s*"
        rf"({GRADE_RE.pattern})",
        re.IGNORECASE,
    )
    for match in pattern.finditer(flat):
        area = classify_ilacs(match.group(1))
        grade = grade_of(match.group(2))
        if area and grade and all(r.area != area for r in rows):
            rows.append(Row(area, grade, f"{match.group(1)}: {match.group(2)}"))
    return rows


def _gaps(judgements: dict[str, str]) -> str | None:
    """What the judgements lack for either ILACS layout, or None when they are whole."""
    missing = [key for key in _CORE if key not in judgements]
    split = [key for key in _SPLIT if key in judgements]
    if split and _COMBINED in judgements:
        return f"both the {_COMBINED} row and the {' and '.join(split)} rows"
    if split:
        missing += [key for key in _SPLIT if key not in judgements]
    elif _COMBINED not in judgements:
        missing.append(f"{_COMBINED} (or {' and '.join(_SPLIT)})")
    return f"no {', '.join(missing)} row" if missing else None


def ilacs_grades(text: ReportText) -> Grades:
    """The first-page table; rows the table lost are taken from the body headings."""
    region = after(text.flat(0, _TABLE_PAGES), r"\bjudgement\s+grade\b")
    if region is None:
        raise ParseError("ILACS report has no judgement table")
    table = {r.area: r for r in read_table(region, classify_ilacs, _ROW_START)}
    complete = _gaps({k: r.grade for k, r in table.items() if k != "overall"}) is None
    if not complete:
        for row in _body_headings(text.flat(0, _TABLE_PAGES)):
            table.setdefault(row.area, row)
    judgements = {k: r.grade for k, r in table.items() if k != "overall"}
    gaps = _gaps(judgements)
    if gaps:
        raise ParseError(f"ILACS judgement table is incomplete: {gaps}")
    overall = table["overall"].grade if "overall" in table else None
    evidence = tuple(r.printed for r in table.values())
    return Grades(overall, judgements, evidence, complete)


def classify_pre2013(label: str) -> str | None:
    """Row labels of a 2013 'Record of main findings' table, keyed as the labels name them."""
    text = label.lower()
    for phrase, key in (
        ("overall effectiveness", "overall"),
        ("capacity", "capacity_to_improve"),
        ("outcomes", "outcomes"),
        ("quality of provision", "quality_of_provision"),
        ("leadership and management", "leadership_and_management"),
        ("safeguarding", "safeguarding"),
    ):
        if phrase in text:
            return key
    return None


def pre2013_grades(text: ReportText) -> Grades:
    """The 'Record of main findings' table, which comes last in these reports."""
    # The table can run on to the page after its heading.
    flat = text.flat_where(_MAIN_FINDINGS_GUARD, spill=1)
    starts = [m.end() for m in _MAIN_FINDINGS.finditer(flat)]
    rows: list[Row] = []
    for start in reversed(starts):
        rows = read_table(flat[start : start + 1500], classify_pre2013)
        if rows:
            break
    table = {r.area: r.grade for r in rows}
    if "overall" not in table:
        raise ParseError("2013 inspection report has no record of main findings")
    judgements = {k: v for k, v in table.items() if k != "overall"}
    return Grades(table["overall"], judgements, tuple(r.printed for r in rows))
