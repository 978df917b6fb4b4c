"""Generated report PDFs read back through the real parser give back their spec."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from crawler.parsers.report_pdf import parse_report_pdf
from scheduler.demo.reportgen import ReportSpec, format_range, make_report_pdf

SPECS = {
    "ilacs-combined-2019": ReportSpec(
        authority="London Borough of Barking and Dagenham",
        kind="ilacs",
        start=date(2019, 2, 18),
        end=date(2019, 3, 1),
        lead_inspector="Morag Pennington",
        judgements={
            "leaders": "good",
            "help_and_protection": "requires_improvement",
            "children_in_care_and_care_leavers": "outstanding",
        },
        overall="good",
    ),
    "ilacs-split-2024": ReportSpec(
        authority="Southend-on-Sea city council",
        kind="ilacs",
        start=date(2024, 9, 30),
        end=date(2024, 10, 11),
        lead_inspector="Derek Ashworth",
        judgements={
            "leaders": "inadequate",
            "help_and_protection": "requires_improvement",
            "children_in_care": "good",
            "care_leavers": "outstanding",
        },
        overall="inadequate",
    ),
    "ilacs-2026-no-overall": ReportSpec(
        authority="Trafford",
        kind="ilacs",
        start=date(2026, 6, 8),
        end=date(2026, 6, 19),
        lead_inspector="Priya Lindqvist",
        judgements={
            "leaders": "requires_improvement",
            "help_and_protection": "good",
            "children_in_care": "good",
            "care_leavers": "requires_improvement",
        },
        overall=None,
    ),
    "focused-visit": ReportSpec(
        authority="Barnsley",
        kind="focused_visit",
        start=date(2023, 7, 11),
        end=date(2023, 7, 12),
        lead_inspector="Hannah Oduya",
        priority_action=False,
    ),
    "monitoring-visit": ReportSpec(
        authority="Kent County Council",
        kind="monitoring_visit",
        start=date(2024, 2, 27),
        end=date(2024, 2, 28),
        lead_inspector="Tom Featherstone",
        priority_action=True,
    ),
    "sif-with-lscb": ReportSpec(
        authority="Leeds City Council",
        kind="sif",
        start=date(2015, 1, 20),
        end=date(2015, 2, 11),
        lead_inspector="Grace Whitfield",
        judgements={
            "help_and_protection": "good",
            "children_in_care": "requires_improvement",
            "care_leavers": "inadequate",
            "leaders": "outstanding",
            "lscb": "good",
        },
        overall="good",
        published=date(2015, 3, 27),
    ),
    "sif-long-without-lscb": ReportSpec(
        authority="Cornwall",
        kind="sif",
        start=date(2016, 5, 9),
        end=date(2016, 6, 2),
        lead_inspector="Anil Mistry",
        judgements={
            "help_and_protection": "inadequate",
            "children_in_care": "requires_improvement",
            "adoption": "good",
            "care_leavers": "requires_improvement",
            "leaders": "inadequate",
        },
        overall="inadequate",
        # Enough body for many pages, so the lead inspector sits on the last one.
        paragraphs=("Managers check casework regularly and staff know children well. " * 5,) * 40,
    ),
}
EXPECTED_COUNCIL = {
    "ilacs-combined-2019": "Barking and Dagenham",
    "ilacs-split-2024": "Southend-on-Sea",
    "ilacs-2026-no-overall": "Trafford",
    "focused-visit": "Barnsley",
    "monitoring-visit": "Kent",
    "sif-with-lscb": "Leeds",
    "sif-long-without-lscb": "Cornwall",
}
EVENT_TYPES = {"ilacs": "inspection", "sif": "inspection"}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_report_parses_back_to_its_spec(name: str) -> None:
    spec = SPECS[name]
    [outcome] = parse_report_pdf(make_report_pdf(spec))
    assert outcome.local_authority == EXPECTED_COUNCIL[name]
    assert outcome.name_as_printed == spec.authority
    assert outcome.event_type == EVENT_TYPES.get(spec.kind, spec.kind)
    assert outcome.overall == spec.overall
    assert outcome.judgement_map == spec.judgements
    assert (outcome.inspection_start, outcome.inspection_end) == (spec.start, spec.end)
    assert outcome.lead_inspector == spec.lead_inspector
    assert outcome.priority_action == spec.priority_action
    assert outcome.confidence == 1.0
    if spec.published:
        assert outcome.published == spec.published


def test_generated_pdf_is_latin1_text_in_the_real_layout() -> None:
    data = make_report_pdf(SPECS["ilacs-split-2024"])
    assert data.startswith(b"%PDF-")
    first = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Inspection dates: 30 September to 11 October 2024" in first
    assert "Lead inspector: Derek Ashworth, His Majesty's Inspector" in first
    assert "Judgement" in first and "Overall effectiveness" in first


def test_older_reports_name_her_majestys_inspector() -> None:
    data = make_report_pdf(SPECS["ilacs-combined-2019"])
    first = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Her Majesty's Inspector" in first


def test_sif_area_without_a_grade_prints_not_judged_and_is_left_out() -> None:
    data = make_report_pdf(SPECS["sif-with-lscb"])
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Adoption performance Not judged" in " ".join(text.split())
    [outcome] = parse_report_pdf(data)
    assert "adoption" not in outcome.judgement_map


@pytest.mark.parametrize(
    ("start", "end", "printed"),
    [
        (date(2024, 10, 7), date(2024, 10, 18), "7 to 18 October 2024"),
        (date(2024, 9, 30), date(2024, 10, 11), "30 September to 11 October 2024"),
        (date(2024, 12, 30), date(2025, 1, 10), "30 December 2024 to 10 January 2025"),
        (date(2016, 7, 28), date(2016, 7, 28), "28 July 2016"),
    ],
)
def test_format_range_prints_like_ofsted(start: date, end: date, printed: str) -> None:
    assert format_range(start, end) == printed


def test_spec_rejects_unknown_kind_and_reversed_dates() -> None:
    with pytest.raises(ValueError, match="kind"):
        ReportSpec("Essex", "school", date(2024, 1, 1), date(2024, 1, 2), "A Person")
    with pytest.raises(ValueError, match="before"):
        ReportSpec("Essex", "ilacs", date(2024, 1, 2), date(2024, 1, 1), "A Person")
