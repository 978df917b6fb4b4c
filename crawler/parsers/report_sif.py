"""Single inspection framework reports (2013-2018), re-inspections and LSCB reviews.

The headline sentence gives overall effectiveness; the numbered summary table gives the rest.
"""

from __future__ import annotations

import re

from crawler.errors import ParseError
from crawler.parsers.report_common import GRADE_RE, ReportText, grade_of
from crawler.parsers.report_ilacs import Grades

_GRADE = GRADE_RE.pattern
SIF_TITLES = [
    re.compile(
        r"^(?:\d+\s+)?(?P<name>.{2,90}?)\s+(?:re-?\s?)?inspection of services for children",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:\d+\s+)?(?P<name>.{2,90}?)\s+review of the effectiveness of the local safeguarding",
        re.IGNORECASE,
    ),
]
_HEADLINES = (
    re.compile(
        rf"overall judgement is (?:that )?(?:children's services |the local authority )?"
        rf"(?:are |is )?({_GRADE})",
        re.IGNORECASE,
    ),
    re.compile(
        rf"children's services (?:in|on) [a-z ,.&'-]{{2,60}}? (?:are |is )?({_GRADE})",
        re.IGNORECASE,
    ),
)
# The summary table numbers its rows; the number keeps the headline's descriptor sentences
# ("Leadership, management and governance require improvement when ...") out of the match.
_ROWS = {
    "help_and_protection": r"\d\.?\s*children who need help and protection",
    "children_in_care": r"\d\.?\s*children looked after and achieving permanence",
    "adoption": r"\d\.\d\.?\s*adoption performance",
    "care_leavers": r"\d\.\d\.?\s*experiences and progress of care leavers",
    "leaders": r"\d\.?\s*leadership,? management and governance",
}
_LSCB = re.compile(
    rf"the (?:effectiveness of the )?local safeguarding children board(?: \(lscb\))?"
    rf"(?: is| are)?:?\s+({_GRADE})\b",
    re.IGNORECASE,
)

_REVIEW = re.compile(
    r"(?:review|inspection) of the effectiveness of the local safeguarding children", re.I
)


def _overall(flat: str) -> tuple[str | None, str | None]:
    found = [m for m in (p.search(flat) for p in _HEADLINES) if m]
    if not found:
        return (None, None)
    first = min(found, key=lambda m: m.start())
    return (grade_of(first.group(1)), first.group(0))


def _table(flat: str) -> tuple[dict[str, str], list[str]]:
    judgements: dict[str, str] = {}
    evidence: list[str] = []
    for area, label in _ROWS.items():
        match = re.search(rf"{label}\s*({_GRADE}|not judged)\b", flat, re.IGNORECASE)
        if match is None:
            continue
        evidence.append(match.group(0))
        grade = grade_of(match.group(1))
        if grade:
            judgements[area] = grade
    return judgements, evidence


def lscb_grade(flat: str) -> tuple[str | None, str | None]:
    match = _LSCB.search(flat)
    return (grade_of(match.group(1)), match.group(0)) if match else (None, None)


def sif_grades(text: ReportText) -> Grades:
    """Overall, the five SIF areas and, when the PDF holds the LSCB review, its grade."""
    overall, headline = _overall(text.flat(0, 3))
    judgements, evidence = _table(text.flat(0, 3))
    if overall is None or not judgements:
        raise ParseError("SIF report has no overall judgement or no summary table")
    whole = text.flat()
    # Only a PDF that holds the LSCB review has a board grade; a mention in passing is not one.
    lscb, lscb_line = lscb_grade(whole) if _REVIEW.search(whole) else (None, None)
    if lscb:
        judgements["lscb"] = lscb
        evidence.append(lscb_line or "")
    return Grades(overall, judgements, (headline or "", *evidence))


def lscb_review_grades(text: ReportText) -> Grades:
    """A standalone LSCB review: one graded area and no overall effectiveness."""
    lscb, line = lscb_grade(text.flat())
    if lscb is None:
        raise ParseError("LSCB review has no judgement")
    return Grades(None, {"lscb": lscb}, (line or "",))
