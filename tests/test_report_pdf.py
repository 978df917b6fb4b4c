"""The report PDF parser: the labelled real reports in ../shared, and generated edge cases."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from crawler.authorities import AuthorityRegistry
from crawler.errors import ParseError
from crawler.parsers.report_pdf import parse_report_pdf
from crawler.records import InspectionOutcome
from scheduler.demo.reportgen import ReportSpec, make_report_pdf

REPORTS = Path(__file__).resolve().parents[2] / "shared" / "ofsted-reports"
# The gold labels name two SIF areas by the framework's words; the contract uses these keys.
GOLD_KEYS = {
    "children_looked_after": "children_in_care",
    "leadership_management_governance": "leaders",
}
GOLD_FRAMEWORKS = {
    "ILACS": "ILACS",
    "SIF": "SIF",
    "pre2013": "pre2013",
    "area_SEND_2023": "SEND2023",
}
GOLD_EVENTS = {"area_send_full_inspection": "send_inspection"}
# Every labelled report parses exactly; list an id here (strict xfail) only with a reason.
KNOWN_FAILURES: set[str] = set()


def _gold_lines() -> list[dict[str, Any]]:
    gold = REPORTS / "gold.jsonl"
    if not gold.is_file():
        return []
    return [json.loads(line) for line in gold.read_text("utf-8").splitlines() if line.strip()]


def _gold_params() -> list[Any]:
    lines = _gold_lines()
    if not lines:
        return [pytest.param(None, id="no-shared-reports")]
    marks = {
        line["id"]: [pytest.mark.xfail(strict=True, reason="known parser gap")]
        for line in lines
        if line["id"] in KNOWN_FAILURES
    }
    return [pytest.param(line, id=line["id"], marks=marks.get(line["id"], [])) for line in lines]


@cache
def _parse_file(name: str) -> tuple[InspectionOutcome, ...]:
    return tuple(parse_report_pdf((REPORTS / name).read_bytes(), url=f"file:{name}"))


def _expected_ons(gold: dict[str, Any]) -> str:
    # Barnsley's gold code predates its 2023 re-code, so compare through the Ofsted URN.
    authority = AuthorityRegistry.load().by_urn(gold["urn"])
    assert authority is not None, f"registry has no council with URN {gold['urn']}"
    return authority.ons_code


@pytest.mark.shared
@pytest.mark.parametrize("gold", _gold_params())
def test_real_report_matches_its_label(gold: dict[str, Any] | None) -> None:
    if gold is None:
        pytest.skip(f"labelled reports not found at {REPORTS} (../shared beside the checkout)")
    if gold["framework"] == "other":
        with pytest.raises(ParseError):
            _parse_file(gold["file"])
        return
    [outcome] = _parse_file(gold["file"])
    assert outcome.ons_code == _expected_ons(gold)
    assert outcome.framework == GOLD_FRAMEWORKS[gold["framework"]]
    assert outcome.event_type == GOLD_EVENTS.get(gold["event_type"], "inspection")
    assert outcome.inspection_start == _date(gold["inspection_start"])
    assert outcome.inspection_end == _date(gold["inspection_end"])
    assert outcome.lead_inspector == gold["lead_inspector"]
    assert outcome.status == "confirmed"
    if gold["framework"] == "area_SEND_2023":
        assert outcome.send_outcome == gold["outcome"]
        assert outcome.overall is None and outcome.judgements == ()
        return
    assert outcome.overall == gold["overall"]
    assert outcome.judgement_map == {GOLD_KEYS.get(k, k): v for k, v in gold["judgements"].items()}
    assert outcome.send_outcome is None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@pytest.mark.shared
def test_sif_report_prints_its_own_publication_date() -> None:
    lines = [g for g in _gold_lines() if g["framework"] == "SIF"]
    if not lines:
        pytest.skip(f"labelled reports not found at {REPORTS}")
    gold = next(g for g in lines if g["id"] == "pdf0220")
    [outcome] = _parse_file(gold["file"])
    assert outcome.published == date.fromisoformat(gold["published"])


@pytest.mark.shared
def test_html_saved_as_pdf_is_a_one_line_parse_error() -> None:
    path = REPORTS / "pdf0019.pdf"
    if not path.is_file():
        pytest.skip(f"labelled reports not found at {REPORTS}")
    with pytest.raises(ParseError, match="not a PDF") as caught:
        parse_report_pdf(path.read_bytes())
    assert "\n" not in str(caught.value)


def _spec(**changes: Any) -> ReportSpec:
    values: dict[str, Any] = {
        "authority": "Essex",
        "kind": "ilacs",
        "start": date(2024, 10, 7),
        "end": date(2024, 10, 18),
        "lead_inspector": "Jo Bloggs",
        "judgements": {
            "leaders": "good",
            "help_and_protection": "requires_improvement",
            "children_in_care": "good",
            "care_leavers": "inadequate",
        },
        "overall": "requires_improvement",
    }
    values.update(changes)
    return ReportSpec(**values)


def test_html_bytes_are_not_a_pdf() -> None:
    page = b"<!DOCTYPE html><html><body><h1>Report not found</h1></body></html>"
    with pytest.raises(ParseError, match="not a PDF"):
        parse_report_pdf(page)


def test_truncated_pdf_is_a_parse_error() -> None:
    data = make_report_pdf(_spec())
    with pytest.raises(ParseError):
        parse_report_pdf(data[: len(data) // 3])


def test_ilacs_title_without_a_judgement_table_is_a_parse_error() -> None:
    data = make_report_pdf(_spec(judgements={}, overall=None))
    with pytest.raises(ParseError, match="judgement table"):
        parse_report_pdf(data)


def test_table_mixing_combined_and_split_rows_is_inconsistent() -> None:
    judgements = {
        "leaders": "good",
        "help_and_protection": "good",
        "children_in_care_and_care_leavers": "good",
        "care_leavers": "good",
    }
    with pytest.raises(ParseError, match="incomplete"):
        parse_report_pdf(make_report_pdf(_spec(judgements=judgements)))


def test_outcome_carries_source_hash_evidence_and_argument_date() -> None:
    data = make_report_pdf(_spec(authority="Southend-on-Sea city council"))
    [outcome] = parse_report_pdf(data, url="https://files.example/1", published=date(2024, 12, 2))
    assert outcome.local_authority == "Southend-on-Sea"
    assert outcome.ons_code == "E06000033"
    assert outcome.name_as_printed == "Southend-on-Sea city council"
    assert outcome.published == date(2024, 12, 2)
    assert outcome.source_url == "https://files.example/1"
    assert dict(outcome.extra) == {"pdf_sha256": hashlib.sha256(data).hexdigest()}
    assert any("care leavers" in line and "Inadequate" in line for line in outcome.evidence)
    assert any(
        line.startswith("Inspection dates: 7 to 18 October 2024") for line in outcome.evidence
    )


def test_trust_named_in_title_resolves_to_its_council() -> None:
    [outcome] = parse_report_pdf(make_report_pdf(_spec(authority="Sandwell Children's Trust")))
    assert outcome.local_authority == "Sandwell"


def test_unknown_council_keeps_name_but_lowers_confidence() -> None:
    [outcome] = parse_report_pdf(make_report_pdf(_spec(authority="Atlantis")))
    assert outcome.local_authority is None and outcome.ons_code is None
    assert outcome.name_as_printed == "Atlantis"
    assert outcome.confidence < 0.7


def test_missing_overall_before_april_2026_is_kept_null_with_less_confidence() -> None:
    [outcome] = parse_report_pdf(make_report_pdf(_spec(overall=None)))
    assert outcome.overall is None
    assert outcome.confidence < 1.0


@pytest.mark.parametrize(("said", "expected"), [(True, True), (False, False), (None, None)])
def test_focused_visit_reports_priority_action(said: bool | None, expected: bool | None) -> None:
    spec = _spec(kind="focused_visit", judgements={}, overall=None, priority_action=said)
    [outcome] = parse_report_pdf(make_report_pdf(spec))
    assert outcome.event_type == "focused_visit"
    assert outcome.priority_action is expected
    assert outcome.overall is None and outcome.judgements == ()


def _letter_pdf(*lines: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


SEND_2016_OPENING = (
    "Joint local area SEND inspection in Bury",
    "Between 6 March 2017 and 10 March 2017, Ofsted and the Care Quality Commission (CQC) "
    "conducted a joint inspection of the local area of Bury to judge how well it meets the "
    "needs of children and young people with special educational needs and/or disabilities.",
)


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (
            "As a result of the findings of this inspection, HMCI has determined that a Written "
            "Statement of Action is required because of significant areas of weakness.",
            "wsoa",
        ),
        ("Leaders have a clear picture of the area's strengths and weaknesses.", "no_wsoa"),
    ],
)
def test_send_2016_letter_gives_written_statement_outcome(finding: str, expected: str) -> None:
    data = _letter_pdf(*SEND_2016_OPENING, finding, "Yours sincerely", "Ruth Okafor", "HMI")
    [outcome] = parse_report_pdf(data)
    assert (outcome.event_type, outcome.framework) == ("send_inspection", "SEND2016")
    assert outcome.send_outcome == expected
    assert outcome.local_authority == "Bury"
    assert (outcome.inspection_start, outcome.inspection_end) == (
        date(2017, 3, 6),
        date(2017, 3, 10),
    )
    assert outcome.lead_inspector == "Ruth Okafor"
    assert outcome.overall is None


def test_jtai_letter_is_an_ungraded_event_for_its_council() -> None:
    data = _letter_pdf(
        "Joint targeted area inspection of the multi-agency response to children living with "
        "domestic abuse in Sheffield",
        "Between 6 and 10 May 2024, Ofsted, the Care Quality Commission and His Majesty's "
        "Inspectorate of Constabulary carried out a joint inspection in Sheffield.",
        "Partners did not identify any areas for priority action and neither did inspectors.",
        "Yours sincerely",
        "Amira Castellano",
        "His Majesty's Inspector",
    )
    [outcome] = parse_report_pdf(data)
    assert outcome.event_type == "jtai"
    assert outcome.local_authority == "Sheffield"
    assert (outcome.inspection_start, outcome.inspection_end) == (
        date(2024, 5, 6),
        date(2024, 5, 10),
    )
    assert outcome.overall is None and outcome.judgements == ()
    assert outcome.priority_action is False


def test_pdf_that_is_no_ofsted_report_is_a_parse_error() -> None:
    data = _letter_pdf("Minutes of the parish council", "Members discussed the village hall roof.")
    with pytest.raises(ParseError, match="not a recognised"):
        parse_report_pdf(data)
