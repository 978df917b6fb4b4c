"""Realistic Ofsted report PDFs for the demo and the tests, drawn with fpdf2 in the real layouts.

ILACS full reports (combined, split and April 2026 tables), SIF reports and visit letters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from fpdf import FPDF

KINDS = ("ilacs", "focused_visit", "monitoring_visit", "sif")
_HIS_FROM = date(2022, 11, 1)
_NO_OVERALL_FROM = date(2026, 4, 1)
_ILACS_ROWS = (
    ("leaders", "The impact of leaders on social work practice with children and families"),
    (
        "help_and_protection",
        "The experiences and progress of children who need help and protection",
    ),
    (
        "children_in_care_and_care_leavers",
        "The experiences and progress of children in care and care leavers",
    ),
    ("children_in_care", "The experiences and progress of children in care"),
    ("care_leavers", "The experiences and progress of care leavers"),
)
_SIF_ROWS = (
    ("help_and_protection", "1. Children who need help and protection"),
    ("children_in_care", "2. Children looked after and achieving permanence"),
    ("adoption", "2.1 Adoption performance"),
    ("care_leavers", "2.2 Experiences and progress of care leavers"),
    ("leaders", "3. Leadership, management and governance"),
)
_ILACS_GRADES = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement to be good",
    "inadequate": "Inadequate",
}
_SIF_HEADLINE = {
    "outstanding": "are outstanding",
    "good": "are good",
    "requires_improvement": "require improvement to be good",
    "inadequate": "are inadequate",
}
_DEFAULT_BODY = (
    "Leaders know their services well. They have a realistic view of where practice is strong "
    "and where it still falls short, and their plans are tied to what children and families "
    "have said about the help they receive.",
    "Most children are seen promptly by social workers who know them well. Some assessments "
    "are too brief, and a small number of plans lack the detail that would let families see "
    "what has to change and by when.",
    "Managers check casework regularly, although their notes do not always show what they "
    "expect to happen next. Caseloads are manageable in most teams, which staff say helps "
    "them to spend time with children.",
)


@dataclass(frozen=True)
class ReportSpec:
    """What a generated report says: council as printed, kind, dates, inspector and grades.

    A grade that is not one of the four keys is printed as given, to make broken reports.
    """

    authority: str
    kind: str
    start: date
    end: date
    lead_inspector: str
    judgements: dict[str, str] = field(default_factory=dict)
    overall: str | None = None
    paragraphs: tuple[str, ...] = _DEFAULT_BODY
    priority_action: bool | None = None
    published: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.end < self.start:
            raise ValueError("end is before start")


def format_range(start: date, end: date) -> str:
    """A fieldwork range the way Ofsted prints it: '7 to 18 October 2024'."""
    if start == end:
        return _day(end)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} to {_day(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%B} to {_day(end)}"
    return f"{_day(start)} to {_day(end)}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _visit_days(start: date, end: date) -> str:
    """Letters name two-day visits as '11 and 12 July 2023'."""
    if end - start == timedelta(days=1) and start.month == end.month:
        return f"{start.day} and {_day(end)}"
    return format_range(start, end)


def _printed(grade: str) -> str:
    """A grade key as the table prints it; any other text is printed as given."""
    return _ILACS_GRADES.get(grade, grade)


def _majesty(spec: ReportSpec) -> str:
    return "His Majesty's Inspector" if spec.end >= _HIS_FROM else "Her Majesty's Inspector"


class _Document:
    """A thin writer over FPDF with the few text styles the reports use."""

    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.set_margins(20, 20, 20)
        self.pdf.add_page()

    def line(self, text: str, size: float = 11, bold: bool = False, gap: float = 2) -> None:
        self.pdf.set_font("Helvetica", "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(gap)

    def table(self, rows: list[tuple[str, str]], header: tuple[str, str] | None) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        with self.pdf.table(
            col_widths=(105, 65), text_align="LEFT", first_row_as_headings=False
        ) as t:
            for label, grade in ([header] if header else []) + rows:
                row = t.row()
                row.cell(label)
                row.cell(grade)
        self.pdf.ln(4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _ilacs_rows(spec: ReportSpec) -> list[tuple[str, str]]:
    later = spec.start >= _NO_OVERALL_FROM
    rows = []
    for key, label in _ILACS_ROWS:
        if key in spec.judgements:
            if key == "leaders" and later:
                label = "The impact of leaders on practice with children and families"
            rows.append((label, _printed(spec.judgements[key])))
    if spec.overall:
        rows.append(("Overall effectiveness", _printed(spec.overall)))
    return rows


def _ilacs(spec: ReportSpec) -> bytes:
    doc = _Document()
    doc.line(f"Inspection of {spec.authority} local authority children's services", 16, True)
    doc.line(f"Inspection dates: {format_range(spec.start, spec.end)}")
    doc.line(f"Lead inspector: {spec.lead_inspector}, {_majesty(spec)}", gap=4)
    doc.table(_ilacs_rows(spec), ("Judgement", "Grade"))
    for paragraph in spec.paragraphs:
        doc.line(paragraph)
    labels = dict(_ILACS_ROWS)
    for key, grade in spec.judgements.items():
        if key in labels and key != "leaders":
            doc.line(f"{labels[key]}: {_printed(grade).lower()}", bold=True)
            doc.line(spec.paragraphs[0] if spec.paragraphs else "")
    return doc.output()


def _sif(spec: ReportSpec) -> bytes:
    if spec.overall is None:
        raise ValueError("a SIF report always has an overall judgement")
    doc = _Document()
    doc.line(spec.authority, 16, True)
    doc.line(
        "Inspection of services for children in need of help and protection, children looked "
        "after and care leavers",
        13,
        True,
    )
    if "lscb" in spec.judgements:
        doc.line("and", 13, True)
        doc.line("Review of the effectiveness of the Local Safeguarding Children Board", 13, True)
    doc.line(f"Inspection date: {_day(spec.start)} - {_day(spec.end)}")
    doc.line(f"Report published: {_day(spec.published or spec.end + timedelta(days=56))}")
    doc.line(f"Children's services in {spec.authority} {_SIF_HEADLINE[spec.overall]}", 12, True)
    rows = [
        (label, _printed(spec.judgements[key]).replace(" to be good", ""))
        if key in spec.judgements
        else (label, "Not judged")
        for key, label in _SIF_ROWS
    ]
    doc.table(rows, None)
    if "lscb" in spec.judgements:
        grade = _printed(spec.judgements["lscb"]).lower().replace(" to be good", "")
        doc.line(f"The effectiveness of the Local Safeguarding Children Board (LSCB) is {grade}")
    for paragraph in spec.paragraphs:
        doc.line(paragraph)
    doc.line("The inspection team", 12, True)
    doc.line(f"Lead inspector: {spec.lead_inspector}")
    return doc.output()


def _letter(spec: ReportSpec) -> bytes:
    visit = "focused visit" if spec.kind == "focused_visit" else "monitoring visit"
    doc = _Document()
    doc.line(f"{_day(spec.published or spec.end + timedelta(days=28))}")
    doc.line("Director of Children's Services")
    doc.line("Dear Director", gap=4)
    doc.line(f"{visit.capitalize()} to {spec.authority} children's services", 13, True)
    doc.line(
        f"This letter summarises the findings of the {visit} to {spec.authority} children's "
        f"services on {_visit_days(spec.start, spec.end)}. Inspectors looked at the help and "
        "protection that children receive and at how well managers oversee it."
    )
    if spec.priority_action is True:
        doc.line("Inspectors identified areas for priority action, which are set out below.")
    elif spec.priority_action is False:
        doc.line("Inspectors did not identify any areas for priority action.")
    for paragraph in spec.paragraphs:
        doc.line(paragraph)
    doc.line("Yours sincerely", gap=4)
    doc.line(spec.lead_inspector)
    doc.line(_majesty(spec))
    return doc.output()


def make_report_pdf(spec: ReportSpec) -> bytes:
    """The PDF bytes of a report or letter in Ofsted's layout for spec.kind."""
    if spec.kind == "ilacs":
        return _ilacs(spec)
    if spec.kind == "sif":
        return _sif(spec)
    return _letter(spec)
