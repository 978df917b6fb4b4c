"""Ofsted report PDFs -> typed inspection outcomes: reading the PDF and choosing the family.

The family (ILACS, SIF, 2013, area SEND, letters) is chosen from the report's own structure.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from crawler.authorities import AuthorityRegistry
from crawler.errors import ParseError
from crawler.parsers import report_letters as letters
from crawler.parsers.report_common import (
    LEAD_GUARD,
    Header,
    ReportText,
    clean_inspectors,
    inspection_dates,
    lead_inspector_line,
    printed_name,
    published_date,
    resolve_authority,
)
from crawler.parsers.report_ilacs import (
    ILACS_TITLES,
    PRE2013_TITLES,
    Grades,
    ilacs_grades,
    pre2013_grades,
)
from crawler.parsers.report_pages import PageSource
from crawler.parsers.report_sif import SIF_TITLES, lscb_review_grades, sif_grades
from crawler.records import InspectionOutcome, sort_judgements

logger = logging.getLogger(__name__)

_FIRST_PAGES = 3
_MAX_PAGES = 120
_ILACS_2026 = date(2026, 4, 1)


@dataclass(frozen=True)
class _Family:
    """How one kind of report is read: its titles, the event it records and its framework."""

    name: str
    event_type: str
    framework: str
    titles: list[re.Pattern[str]]


_FAMILIES = {
    "ilacs": _Family("ilacs", "inspection", "ILACS", ILACS_TITLES),
    "sif": _Family("sif", "inspection", "SIF", SIF_TITLES),
    "lscb": _Family("lscb", "inspection", "SIF", SIF_TITLES),
    "pre2013": _Family("pre2013", "inspection", "pre2013", PRE2013_TITLES),
    "send2023": _Family("send2023", "send_inspection", "SEND2023", letters.SEND_TITLES),
    "send2016": _Family("send2016", "send_inspection", "SEND2016", letters.SEND_TITLES),
    "focused_visit": _Family("focused_visit", "focused_visit", "ILACS", letters.VISIT_TITLES),
    "monitoring_visit": _Family(
        "monitoring_visit", "monitoring_visit", "ILACS", letters.VISIT_TITLES
    ),
    "jtai": _Family("jtai", "jtai", "unknown", letters.JTAI_TITLES),
}
_LETTERS = ("focused_visit", "monitoring_visit", "jtai")


def parse_report_pdf(
    data: bytes,
    *,
    url: str | None = None,
    published: date | None = None,
    council: str | None = None,
) -> list[InspectionOutcome]:
    """The outcome an Ofsted report PDF records, as a one-item list; ParseError if unreadable.

    `council` is the ONS code of the provider page the report was listed on: that page's URN
    decides the council, and the printed name is only checked against it.
    """
    # Pages are read lazily: each field's search reads only the pages that can hold it.
    text = ReportText(PageSource(_open(data), _MAX_PAGES))
    if not text.flat(0, _FIRST_PAGES).strip():
        raise ParseError("PDF has no extractable text (a scanned image?)")
    family = _FAMILIES[detect_family(text)]
    header = _listed_council(_header(text, family, published), council, url)
    grades, send_outcome, extra_evidence = _read_outcome(text, family)
    priority, priority_line = (None, None)
    if family.event_type in _LETTERS:
        priority, priority_line = letters.priority_action(text.flat_where(letters.PRIORITY_GUARD))
    framework = _framework(family, header.start)
    outcome = InspectionOutcome(
        local_authority=header.authority.short_name if header.authority else None,
        ons_code=header.authority.ons_code if header.authority else None,
        event_type=family.event_type,
        framework=framework,
        overall=grades.overall,
        judgements=sort_judgements(grades.judgements),
        send_outcome=send_outcome,
        inspection_start=header.start,
        inspection_end=header.end,
        published=header.published,
        confidence=_confidence(header, grades, family),
        evidence=tuple(
            e for e in (*header.evidence, *grades.evidence, *extra_evidence, priority_line) if e
        ),
        status="confirmed",
        source_url=url,
        lead_inspector=header.lead_inspector,
        priority_action=priority,
        name_as_printed=header.name_as_printed,
        extra=(("pdf_sha256", hashlib.sha256(data).hexdigest()),),
    )
    logger.info(
        "report parsed family=%s authority=%s overall=%s url=%s",
        family.name,
        outcome.local_authority,
        outcome.overall,
        url,
    )
    return [outcome]


def _open(data: bytes) -> PdfReader:
    """A pypdf reader over data, or ParseError for bytes that are not a readable PDF."""
    if b"%PDF-" not in data[:1024]:
        sample = data[:20].decode("latin-1", "replace").strip()
        raise ParseError(f"not a PDF: the file starts with {sample!r}")
    try:
        with warnings.catch_warnings():
            # pypdf warns about damaged-but-readable files; those are judged by their text.
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("PDF is encrypted")
            _ = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ParseError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    return reader


def _named_first(text: str, wanted: str, other: str) -> bool:
    """Whether wanted appears, and before other: a letter names its own kind of visit first."""
    position = text.find(wanted)
    rival = text.find(other)
    return position >= 0 and (rival < 0 or position < rival)


_DETECTORS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("send2023", lambda t, b: re.search(r"(?<!local )area send inspection of", t) is not None),
    ("send2023", lambda t, b: "local area partnership" in t and "inspection outcome" in b),
    ("ilacs", lambda t, b: re.search(r"\bjudgement\s+grade\b", b) is not None),
    ("sif", lambda t, b: "inspection of services for children in need" in t),
    ("pre2013", lambda t, b: "looked after children services" in t or "record of main" in b),
    ("monitoring_visit", lambda t, b: _named_first(t, "monitoring visit", "focused visit")),
    ("focused_visit", lambda t, b: "focused visit" in t),
    ("send2016", lambda t, b: "local area send" in t or "written statement of action" in b),
    ("jtai", lambda t, b: "joint targeted area inspection" in t or "joint area child" in t),
    ("jtai", lambda t, b: "joint inspection of" in t),
    ("lscb", lambda t, b: "the effectiveness of the local safeguarding children" in t),
    # A report with an ILACS title but no table is still ILACS: reading it says what is missing.
    ("ilacs", lambda t, b: "local authority children's services" in t),
    ("ilacs", lambda t, b: "inspection of children's social care services" in t),
)


def detect_family(text: ReportText) -> str:
    """Which kind of report this is, from its title and first-page structure."""
    body = text.lower(0, _FIRST_PAGES)
    title = text.lower(0, 1)[:1200]
    for name, test in _DETECTORS:
        if test(title, body):
            return name
    raise ParseError("not a recognised Ofsted report on local authority children's services")


def _header(text: ReportText, family: _Family, published: date | None) -> Header:
    first = text.flat(0, 1)
    name = printed_name(first[:700], family.titles)
    authority = resolve_authority(name)
    if authority is None:
        logger.warning("report council not resolved printed=%r family=%s", name, family.name)
    start, end, dates_line = _dates(text, family)
    printed_published, published_line = published_date(first)
    return Header(
        name_as_printed=name,
        authority=authority,
        start=start,
        end=end,
        lead_inspector=_lead_inspector(text, family),
        published=printed_published or published,
        evidence=tuple(e for e in (name, dates_line, published_line) if e),
    )


def _listed_council(header: Header, council: str | None, url: str | None) -> Header:
    listed = AuthorityRegistry.load().by_ons(council) if council else None
    if listed is None:
        return header
    printed = header.authority
    if printed is not None and printed.ons_code != listed.ons_code:
        logger.warning(
            "report council disagrees printed=%r listed=%s url=%s",
            header.name_as_printed, listed.short_name, url,
        )  # fmt: skip
    return replace(header, authority=listed)


def _dates(text: ReportText, family: _Family) -> tuple[date | None, date | None, str | None]:
    start, end, line = inspection_dates(text.flat(0, 2))
    if start is None and family.event_type != "inspection":
        start, end, line = letters.visit_dates(text.flat(0, 2))
    return (start, end, line)


def _lead_inspector(text: ReportText, family: _Family) -> str | None:
    if family.name.startswith("send"):
        lead = letters.send_lead_inspector(text.flat_where(LEAD_GUARD))
        return lead or letters.signed_inspector(text)
    # An ILACS report names its lead inspector under the title; other families anywhere.
    pages = [text.page(0)] if family.name == "ilacs" else text.pages_where(LEAD_GUARD)
    for page in pages:
        line = lead_inspector_line(page)
        if line:
            return clean_inspectors(line)
    if family.event_type in _LETTERS:
        return letters.signed_inspector(text)
    return None


def _read_outcome(text: ReportText, family: _Family) -> tuple[Grades, str | None, list[str]]:
    """Grades for graded families; the SEND outcome word for area SEND reports."""
    readers: dict[str, Callable[[ReportText], Grades]] = {
        "ilacs": ilacs_grades,
        "sif": sif_grades,
        "lscb": lscb_review_grades,
        "pre2013": pre2013_grades,
    }
    if family.name in readers:
        return (readers[family.name](text), None, [])
    ungraded = Grades(None, {}, ())
    if family.name == "send2023":
        outcome, line = letters.send2023_outcome(text.flat(0, 2))
        if outcome is None:
            raise ParseError("area SEND report has no recognisable inspection outcome")
        return (ungraded, outcome, [line or ""])
    if family.name == "send2016":
        outcome16, line16 = letters.send2016_outcome(text.flat_where(letters.WSOA_GUARD))
        return (ungraded, outcome16, [line16 or ""])
    return (ungraded, None, [])


def _framework(family: _Family, start: date | None) -> str:
    if family.name == "monitoring_visit":
        if start is None:
            return "unknown"
        return "ILACS" if start >= date(2018, 1, 1) else "SIF"
    return family.framework


def _confidence(header: Header, grades: Grades, family: _Family) -> float:
    score = 1.0
    if header.authority is None:
        score -= 0.4
    if header.start is None:
        score -= 0.1
    if not grades.complete:
        score -= 0.1
    # A missing overall row is expected only under the April 2026 framework.
    early = header.start is None or header.start < _ILACS_2026
    if family.name == "ilacs" and grades.overall is None and early:
        score -= 0.2
    return max(score, 0.1)
