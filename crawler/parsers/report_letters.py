"""Ungraded Ofsted publications: focused and monitoring visit letters, JTAIs and area SEND.

None of these carries a grade; each has its own outcome words, read here.
"""

from __future__ import annotations

import re
from datetime import date

from crawler.parsers.dates import parse_date_range
from crawler.parsers.report_common import ReportText, clean_inspectors

VISIT_TITLES = [
    re.compile(
        r"(?:focused|monitoring) visit (?:to|of) (?P<name>.{2,90}?)\s+(?:local authority )?"
        r"children's (?:social care )?services",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:focused|monitoring) visit (?:to|of) (?P<name>.{2,90}?)(?:\s+this letter|[.,])",
        re.IGNORECASE,
    ),
]
JTAI_TITLES = [
    re.compile(
        r"joint (?:targeted area )?inspection of [a-z ,'-]{5,200}? in (?P<name>[A-Z].{1,60}?)"
        r"(?=\s+(?:this letter|inspection dates?|dear|between|from)\b|[.,:])",
        re.IGNORECASE,
    ),
    re.compile(r"joint area child protection inspection (?:of|in) (?P<name>.{2,60}?)[.,:]", re.I),
]
SEND_TITLES = [
    re.compile(r"area send inspection of (?P<name>.{2,90}?)\s+local area partnership", re.I),
    re.compile(
        r"(?:joint )?local area send (?:inspection|revisit) (?:in|of) (?P<name>.{2,60}?)"
        r"(?=\s+dear\b|\s+between\b|[.,:]|\s+\d)",
        re.IGNORECASE,
    ),
]
_SEND_2023 = (
    ("typically lead to positive experiences and outcomes", "positive"),
    ("lead to inconsistent experiences and outcomes", "inconsistent"),
    ("widespread and/or systemic failings", "widespread_failings"),
)
_WSOA = re.compile(
    r"(?:required|requires|need|needs) to (?:produce|prepare|submit)[^.]{0,80}"
    r"written statement of action|written statement of action (?:\(wsoa\) )?is required",
    re.IGNORECASE,
)
_NO_PRIORITY = re.compile(
    r"\b(?:no|not identify any|did not identify|not identified any|were not any|there are no)"
    r"\s+(?:areas?|area) (?:for|of) priority action",
    re.IGNORECASE,
)
_PRIORITY = re.compile(r"\bareas? (?:for|of) priority action", re.IGNORECASE)
# Guards over squashed page text (see ReportText): a page without these cannot hold the above.
PRIORITY_GUARD = re.compile(r"priorityaction")
WSOA_GUARD = re.compile(r"writtenstatementofaction")
_SIGNATURE_GUARD = re.compile(r"yourssincerely")


def send2023_outcome(flat: str) -> tuple[str | None, str | None]:
    """One of the three 2023 outcomes, matched on the framework's key phrases."""
    lower = flat.lower()
    for phrase, key in _SEND_2023:
        position = lower.find(phrase)
        if position >= 0:
            return (key, _sentence(flat, position))
    return (None, None)


def send2016_outcome(flat: str) -> tuple[str, str | None]:
    """A 2016-framework letter either requires a written statement of action or it does not."""
    match = _WSOA.search(flat)
    if match:
        return ("wsoa", _sentence(flat, match.start()))
    return ("no_wsoa", None)


def priority_action(flat: str) -> tuple[bool | None, str | None]:
    """Whether a letter names areas for priority action; None when it does not say."""
    negative = _NO_PRIORITY.search(flat)
    if negative:
        return (False, _sentence(flat, negative.start()))
    positive = _PRIORITY.search(flat)
    if positive:
        return (True, _sentence(flat, positive.start()))
    return (None, None)


def _sentence(flat: str, position: int) -> str:
    """The sentence around position; a heading such as 'Inspection outcome' also starts one."""
    period = flat.rfind(". ", 0, position)
    heading = flat.lower().rfind("inspection outcome", 0, position)
    start = max(
        period + 2 if period >= 0 else 0,
        heading + len("inspection outcome") if heading >= 0 else 0,
    )
    end = flat.find(". ", position)
    return flat[start : end + 1 if end >= 0 else len(flat)].strip()


def visit_dates(flat: str) -> tuple[date | None, date | None, str | None]:
    """A letter's visit dates, printed in a sentence ('... visit to X on 7 and 8 March 2023')."""
    pattern = re.compile(
        r"(?:visit|inspection|inspected|visited)[^.]{0,200}?\b(?:on|between|from)\s+"
        r"(\d{1,2}(?:st|nd|rd|th)?\b[^.]{2,40}?\b(?:19|20)\d\d"
        r"(?:,?\s*(?:to|and|until|-)\s*\d{1,2}(?:st|nd|rd|th)?\b[^.]{2,40}?\b(?:19|20)\d\d)?)",
        re.IGNORECASE,
    )
    match = pattern.search(flat)
    if match is None:
        return (None, None, None)
    start, end = parse_date_range(match.group(1))
    return (start, end, _sentence(flat, match.start(1)))


def signed_inspector(text: ReportText) -> str | None:
    """The name signed under 'Yours sincerely', when a letter prints no lead inspector line."""
    for page in text.pages_where(_SIGNATURE_GUARD, reverse=True):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        for index, line in enumerate(lines):
            if line.lower().startswith("yours sincerely") and index + 1 < len(lines):
                return clean_inspectors(lines[index + 1])
    return None


def send_lead_inspector(flat: str) -> str | None:
    """The Ofsted lead from an area SEND 'Inspection team' list (the CQC lead is not ours)."""
    marker = re.compile(
        r"(?:,?\s*HMI)?,?\s*Ofsted(?:\s+HMI)?,?\s*(?:HMI,?\s*)?[Ll]ead inspector"
        r"|,?\s*HMI,?\s*[Ll]ead inspector"
    )
    for match in marker.finditer(flat):
        words = flat[max(0, match.start() - 80) : match.start()].split()
        name: list[str] = []
        for word in reversed(words):
            if not re.match(r"^[A-Z][A-Za-z'\-.]*$", word) or word in _NOT_NAMES or len(name) == 4:
                break
            name.insert(0, word)
        found = clean_inspectors(" ".join(name))
        if found:
            return found
    return None


_NOT_NAMES = {"Ofsted", "Commission", "Quality", "Care", "CQC", "HMI", "Inspector", "Team"}
