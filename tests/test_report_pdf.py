"""The report PDF parser: the labelled real reports in ../shared, and generated edge cases."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from crawler.authorities import AuthorityRegistry
from crawler.errors import ParseError
from crawler.parsers.report_common import LEAD_GUARD, ReportText, StoredPages, squash
from crawler.parsers.report_ilacs import ilacs_grades
from crawler.parsers.report_pages import PageSource
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


# Loud failure: a broken report is a one-line ParseError naming what is wrong, never partial data.


def _one_line_error(data: bytes, match: str) -> str:
    with pytest.raises(ParseError, match=match) as caught:
        parse_report_pdf(data)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("area", ["leaders", "help_and_protection", "care_leavers", "overall"])
def test_grade_outside_the_scale_is_named(area: str) -> None:
    spec = _spec(overall="Excellent") if area == "overall" else _spec()
    if area != "overall":
        spec = _spec(judgements={**spec.judgements, area: "Excellent"})
    message = _one_line_error(make_report_pdf(spec), "no grade on the scale")
    assert "Excellent" in message


def test_grade_outside_the_scale_is_named_when_grades_are_printed_above_labels() -> None:
    page = (
        "Judgement Grade Good The impact of leaders on social work practice with children and "
        "families Very strong The experiences and progress of children who need help and "
        "protection Good The experiences and progress of children in care and care leavers "
        "Good Overall effectiveness Leaders know their services well."
    )
    with pytest.raises(ParseError, match=r"'The impact of leaders .* Very strong'"):
        ilacs_grades(ReportText.of([page]))


@pytest.mark.parametrize(
    ("judgements", "missing"),
    [
        (
            {"leaders": "good", "children_in_care": "good", "care_leavers": "good"},
            "no help_and_protection row",
        ),
        (
            {"leaders": "good", "help_and_protection": "good"},
            "no children_in_care_and_care_leavers",
        ),
        (
            {"leaders": "good", "help_and_protection": "good", "children_in_care": "good"},
            "no care_leavers row",
        ),
    ],
    ids=["no-help-and-protection", "combined-era-without-combined-row", "split-without-leavers"],
)
def test_ilacs_report_missing_a_judgement_names_it(
    judgements: dict[str, str], missing: str
) -> None:
    _one_line_error(make_report_pdf(_spec(judgements=judgements)), f"incomplete: {missing}")


SIF_OPENING = (
    "Leeds City Council",
    "Inspection of services for children in need of help and protection, children looked after "
    "and care leavers",
    "Inspection date: 20 January 2015 - 11 February 2015",
    "Report published: 27 March 2015",
)
SIF_ROWS = (
    "1. Children who need help and protection Good",
    "2. Children looked after and achieving permanence Good",
    "2.1 Adoption performance Not judged",
    "2.2 Experiences and progress of care leavers Good",
    "3. Leadership, management and governance Good",
)


def test_hand_built_sif_summary_parses() -> None:
    data = _letter_pdf(*SIF_OPENING, "Children's services in Leeds are good", *SIF_ROWS)
    [outcome] = parse_report_pdf(data)
    assert (outcome.framework, outcome.overall, outcome.local_authority) == ("SIF", "good", "Leeds")
    assert set(outcome.judgement_map) == {
        "help_and_protection",
        "children_in_care",
        "care_leavers",
        "leaders",
    }


@pytest.mark.parametrize(
    ("dropped", "match"),
    [(0, "no help_and_protection row"), (1, "no children_in_care row"), (4, "no leaders row")],
)
def test_sif_report_missing_a_key_judgement_names_it(dropped: int, match: str) -> None:
    rows = [row for index, row in enumerate(SIF_ROWS) if index != dropped]
    data = _letter_pdf(*SIF_OPENING, "Children's services in Leeds are good", *rows)
    _one_line_error(data, match)


def test_sif_row_with_a_grade_outside_the_scale_is_named() -> None:
    spec = _spec(kind="sif", judgements={"leaders": "Exemplary", "help_and_protection": "good"})
    message = _one_line_error(make_report_pdf(spec), "has no grade")
    assert "Leadership, management and governance" in message and "Exemplary" in message


def test_sif_report_without_its_overall_judgement_is_a_parse_error() -> None:
    _one_line_error(_letter_pdf(*SIF_OPENING, *SIF_ROWS), "no overall judgement")


SEND_2023_OPENING = (
    "Area SEND inspection of Bury Local Area Partnership",
    "Inspection dates: 4 to 8 March 2024",
    "Dates of previous inspection: 6 to 10 March 2017",
    "Inspection outcome",
)
SEND_2023_POSITIVE = (
    "The local area partnership's special educational needs and/or disabilities (SEND) "
    "arrangements typically lead to positive experiences and outcomes for children and young "
    "people with SEND."
)


def test_area_send_report_gives_its_outcome() -> None:
    [outcome] = parse_report_pdf(_letter_pdf(*SEND_2023_OPENING, SEND_2023_POSITIVE))
    assert (outcome.framework, outcome.send_outcome) == ("SEND2023", "positive")
    assert outcome.local_authority == "Bury"


def test_area_send_report_without_its_outcome_phrase_is_a_parse_error() -> None:
    finding = "Leaders know the area well and have plans to improve the support for children."
    _one_line_error(_letter_pdf(*SEND_2023_OPENING, finding), "no recognisable inspection outcome")


@pytest.mark.parametrize("kind", ["sif", "focused_visit"])
def test_unresolved_council_is_kept_with_low_confidence_in_every_family(kind: str) -> None:
    judgements = {"help_and_protection": "good", "leaders": "good"} if kind == "sif" else {}
    spec = _spec(authority="Atlantis", kind=kind, judgements=judgements)
    spec = _spec(**{**spec.__dict__, "overall": "good" if kind == "sif" else None})
    [outcome] = parse_report_pdf(make_report_pdf(spec))
    assert outcome.local_authority is None and outcome.name_as_printed == "Atlantis"
    assert outcome.confidence < 0.7


# Lazy reading: a guard picks the pages a search reads, and the cheap page text is faithful.


class _CountingPages(StoredPages):
    def __init__(self, pages: tuple[str, ...]) -> None:
        super().__init__(pages)
        object.__setattr__(self, "read", [])

    def text(self, index: int) -> str:
        self.read.append(index)  # type: ignore[attr-defined]
        return super().text(index)


def test_guarded_search_reads_only_the_pages_that_can_hold_the_text() -> None:
    pages = _CountingPages(("Title", "Body text.", "The inspection team Lead inspector: Jo Bloggs"))
    text = ReportText(pages)
    assert list(text.pages_where(LEAD_GUARD)) == [pages.pages[2]]
    assert text.flat_where(LEAD_GUARD, spill=1) == "The inspection team Lead inspector: Jo Bloggs"
    assert set(pages.read) == {2}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["ilacs", "sif", "focused_visit"])
def test_cheap_page_text_agrees_with_full_extraction(kind: str) -> None:
    spec = _spec(kind=kind, paragraphs=_spec().paragraphs * 12)
    if kind == "sif":
        spec = _spec(**{**spec.__dict__, "judgements": {"leaders": "good"}, "overall": "good"})
    reader = PdfReader(io.BytesIO(make_report_pdf(spec)))
    source = PageSource(reader, 100)
    assert len(source) >= 3
    for index in range(len(source)):
        hint = source.hint(index)
        assert hint == squash(reader.pages[index].extract_text())


@pytest.mark.parametrize(
    ("printed", "council"),
    [
        ("Metropolitan Borough of Barnsley Council", "Barnsley"),
        ("The Metropolitan Borough of Wirral", "Wirral"),
        ("Royal Borough of Greenwich", "Greenwich"),
        ("City of Wolverhampton Council", "Wolverhampton"),
        ("Leeds City Council", "Leeds"),
        ("Council of the Isles of Scilly", "Isles of Scilly"),
        ("City and County of Bristol", "City of Bristol"),
        ("County of Herefordshire", "Herefordshire"),
        ("Kingston upon Hull City Council", "Kingston upon Hull"),
        ("Telford & Wrekin Council", "Telford and Wrekin"),
    ],
)
def test_every_printed_form_of_a_council_name_resolves(printed: str, council: str) -> None:
    authority = AuthorityRegistry.load().resolve(printed)
    assert authority is not None and authority.short_name == council


def test_the_provider_page_decides_the_council_and_a_disagreement_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    essex = "E10000012"
    unusual = make_report_pdf(_spec(authority="Atlantis"))
    [outcome] = parse_report_pdf(unusual, council=essex)
    assert (outcome.local_authority, outcome.name_as_printed) == ("Essex", "Atlantis")
    other = make_report_pdf(_spec(authority="Thurrock Council"))
    with caplog.at_level("WARNING", logger="crawler.parsers.report_pdf"):
        [listed] = parse_report_pdf(other, url="https://files.example/1", council=essex)
    assert listed.ons_code == essex
    assert any("disagrees" in r.getMessage() and "Essex" in r.getMessage() for r in caplog.records)
