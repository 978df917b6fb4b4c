"""Single inspection framework reports (2013-2018), re-inspections and LSCB reviews.

The headline sentence gives overall effectiveness; the numbered summary table gives the rest.
"""

from __future__ import annotations

import re

from crawler.errors import ParseError
from crawler.parsers.report_common import GRADE_RE, ReportText, flatten, grade_of
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
_ROW_GRADE = re.compile(rf"\s*({_GRADE}|not judged)\b", re.IGNORECASE)
_LSCB = re.compile(
    rf"the (?:effectiveness of the )?local safeguarding children board(?: \(lscb\))?"
    rf"(?: is| are)?:?\s+({_GRADE})\b",
    re.IGNORECASE,
)

_REVIEW = re.compile(
    r"(?:review|inspection) of the effectiveness of the local safeguarding children", re.I
)
# The same two patterns over squashed page text, to skip the pages that cannot hold them.
_LSCB_GUARD = re.compile(
    r"the(?:effectivenessofthe)?localsafeguardingchildrenboard(?:lscb)?(?:is|are)?"
    r"(?:requires?improvement|outstanding|inadequate|adequate|good)"
)
_REVIEW_GUARD = re.compile(r"(?:review|inspection)oftheeffectivenessofthelocalsafeguardingchildren")


def _overall(flat: str) -> tuple[str | None, str | None]:
    found = [m for m in (p.search(flat) for p in _HEADLINES) if m]
    if not found:
        return (None, None)
    first = min(found, key=lambda m: m.start())
    return (grade_of(first.group(1)), first.group(0))


def _table(flat: str) -> tuple[dict[str, str], list[str]]:
    """Every row of the summary table; each is printed, graded or 'Not judged'."""
    judgements: dict[str, str] = {}
    evidence: list[str] = []
    for area, label in _ROWS.items():
        row, match = _row(flat, area, label)
        evidence.append(row + match.group(0))
        grade = grade_of(match.group(1))
        if grade:
            judgements[area] = grade
    return judgements, evidence


def _row(flat: str, area: str, label: str) -> tuple[str, re.Match[str]]:
    """The first printing of a row label that a grade follows; ParseError if none does."""
    rows = list(re.finditer(label, flat, re.IGNORECASE))
    for row in rows:
        match = _ROW_GRADE.match(flat, row.end())
        if match is not None:
            return (row.group(0), match)
    if not rows:
        raise ParseError(f"SIF summary table has no {area} row")
    following = " ".join(flat[rows[0].end() :].split()[:4])
    raise ParseError(f"SIF summary table row {rows[0].group(0)!r} has no grade: {following!r}")


def lscb_grade(text: ReportText) -> tuple[str | None, str | None]:
    """The board's grade, from the first sentence that states it."""
    match = _LSCB.search(text.flat_where(_LSCB_GUARD))
    return (grade_of(match.group(1)), match.group(0)) if match else (None, None)


def _holds_review(text: ReportText) -> bool:
    return any(_REVIEW.search(flatten(page)) for page in text.pages_where(_REVIEW_GUARD))


def sif_grades(text: ReportText) -> Grades:
    """Overall, the five SIF areas and, when the PDF holds the LSCB review, its grade."""
    overall, headline = _overall(text.flat(0, 3))
    if overall is None:
        raise ParseError("SIF report has no overall judgement")
    judgements, evidence = _table(text.flat(0, 3))
    # Only a PDF that holds the LSCB review has a board grade; a mention in passing is not one.
    lscb, lscb_line = lscb_grade(text) if _holds_review(text) else (None, None)
    if lscb:
        judgements["lscb"] = lscb
        evidence.append(lscb_line or "")
    return Grades(overall, judgements, (headline or "", *evidence))


def lscb_review_grades(text: ReportText) -> Grades:
    """A standalone LSCB review: one graded area and no overall effectiveness."""
    lscb, line = lscb_grade(text)
    if lscb is None:
        raise ParseError("LSCB review has no judgement")
    return Grades(None, {"lscb": lscb}, (line or "",))
