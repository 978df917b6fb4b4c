"""Subjects and bodies rendered from change events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alerts.render import EVENT_TYPE_LABELS, render, subject, summary_facts
from crawler.records import AlertType, ChangeEvent, InspectionOutcome, SourceRef

NOW = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
NEWS = SourceRef("https://www.southend.gov.uk/news/ofsted-2024", "news", "southend-news")
OFSTED = SourceRef("https://reports.ofsted.gov.uk/provider/44/80549", "ofsted", "ofsted")


def ilacs_outcome(**changes: object) -> InspectionOutcome:
    base = InspectionOutcome(
        local_authority="Southend-on-Sea",
        ons_code="E06000033",
        event_type="inspection",
        framework="ILACS",
        overall="good",
        judgements=(
            ("care_leavers", "good"),
            ("children_in_care", "outstanding"),
            ("help_and_protection", "good"),
            ("leaders", "good"),
        ),
        inspection_start=date(2024, 1, 15),
        inspection_end=date(2024, 1, 26),
        published=date(2024, 3, 4),
        confidence=0.95,
        evidence=("Overall effectiveness: Good",),
        source_url=NEWS.url,
    )
    return base.with_changes(**changes)


def earlier_outcome(year: int = 2019) -> InspectionOutcome:
    return InspectionOutcome(
        local_authority="Southend-on-Sea",
        ons_code="E06000033",
        event_type="inspection",
        framework="ILACS",
        overall="requires_improvement",
        judgements=(
            ("children_in_care_and_care_leavers", "requires_improvement"),
            ("help_and_protection", "good"),
            ("leaders", "requires_improvement"),
        ),
        inspection_end=date(year, 2, 8),
        published=date(year, 3, 20),
        status="confirmed",
    )


def outcome_event(
    kind: str = "outcome.changed",
    outcome: InspectionOutcome | None = None,
    previous: InspectionOutcome | None = None,
    sources: tuple[SourceRef, ...] = (NEWS,),
    key: str = "evt-1",
) -> ChangeEvent:
    return ChangeEvent(kind, key, NOW, outcome or ilacs_outcome(), previous, sources)


def source_event(kind: str = "source.failing", name: str = "essex-news") -> ChangeEvent:
    return ChangeEvent(
        kind, f"{kind}:{name}", NOW, source_name=name, message="HTTP 503 three times"
    )


@pytest.mark.parametrize("year", [2017, 2019, 2021])
def test_changed_subject_names_new_grade_and_previous_from_stored_outcome(year: int) -> None:
    event = outcome_event(previous=earlier_outcome(year))
    assert subject(event) == (
        "Southend-on-Sea City Council says: Southend-on-Sea children's services now Good"
        f" (was Requires improvement, {year})"
    )


def test_changed_subject_falls_back_to_what_the_page_said_about_the_past() -> None:
    outcome = ilacs_outcome(overall="inadequate", previous_overall="good", previous_year=2018)
    text = subject(outcome_event(outcome=outcome))
    assert text.endswith("now Inadequate (was Good, 2018)")


def test_subjects_say_who_says_it() -> None:
    outcome = ilacs_outcome(local_authority="Essex", overall="outstanding")
    story = "Essex children's services rated Outstanding"
    paper = SourceRef("https://www.echo-news.example/news/123", "feed", "echo")
    assert subject(outcome_event("outcome.new", outcome, sources=(paper,))) == (
        f"Reported by Echo: {story}"
    )
    essex = SourceRef("https://www.essex.gov.uk/news/ofsted", "news", "essex-news")
    assert subject(outcome_event("outcome.new", outcome, sources=(essex,))) == (
        f"Essex County Council says: {story}"
    )
    report = outcome.with_changes(status="confirmed")
    assert subject(outcome_event("outcome.new", report, sources=(OFSTED,))) == f"Ofsted: {story}"
    confirmed = subject(outcome_event("outcome.confirmed", outcome, sources=(OFSTED,)))
    assert confirmed == f"Ofsted confirms: {story}"


def test_areas_one_side_never_judged_say_so_rather_than_look_lost() -> None:
    earlier = earlier_outcome().with_changes(judgements={"leaders": "good"})
    later = ilacs_outcome(judgements={"leaders": "good", "help_and_protection": "good"})
    rows = render(outcome_event(outcome=later, previous=earlier)).text.splitlines()
    assert "  - Help and protection: not judged -> Good" in rows
    first = render(outcome_event("outcome.new", later)).text.splitlines()
    assert "  - Impact of leaders: none stored -> Good" in first


def test_evidence_is_the_quotes_that_state_grades_not_the_header() -> None:
    padded = ilacs_outcome(
        evidence=(
            "Southend-on-Sea City Council",
            "Inspection dates: 15 January to 26 January 2024",
            "Overall effectiveness: Good",
            "The experiences and progress of children in care: Outstanding",
        )
    )
    text = render(outcome_event(outcome=padded)).text
    assert "> Overall effectiveness: Good" in text and "> The experiences" in text
    assert "> Inspection dates" not in text and "> Southend-on-Sea City Council" not in text
    visit = ilacs_outcome(
        event_type="focused_visit", overall=None, judgements=(), evidence=("Focused visit letter",)
    )
    assert "> Focused visit letter" in render(outcome_event("outcome.new", visit)).text


def test_test_alerts_are_marked_but_otherwise_read_like_the_change() -> None:
    real = outcome_event(previous=earlier_outcome())
    trial = outcome_event("test", previous=earlier_outcome())
    assert subject(trial) == "[TEST] " + subject(real)
    assert "Overall effectiveness: Requires improvement -> Good" in render(trial).text
    assert "· test alert · reference evt-1" in render(trial).text


@pytest.mark.parametrize("swap", [False, True])
def test_mismatch_subject_says_which_side_said_what(swap: bool) -> None:
    claimed = ilacs_outcome(overall="good")
    official = ilacs_outcome(overall="requires_improvement", status="confirmed")
    outcome, previous = (claimed, official) if swap else (official, claimed)
    event = outcome_event("coverage.mismatch", outcome, previous, sources=(NEWS, OFSTED))
    assert subject(event) == (
        "Coverage mismatch: southend-news says Southend-on-Sea is Good, "
        "Ofsted's report says Requires improvement"
    )


@pytest.mark.parametrize(
    ("event_type", "phrase"),
    [("focused_visit", "focused visit"), ("monitoring_visit", "monitoring visit")],
)
def test_ungraded_visits_are_named_without_a_grade(event_type: str, phrase: str) -> None:
    visit = InspectionOutcome("Essex", "E10000012", event_type, published=date(2024, 5, 1))
    text = subject(outcome_event("outcome.new", visit))
    assert phrase in text
    assert "Essex" in text and "1 May 2024" in text
    assert "rated" not in text


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("source.failing", "Source failing: essex-news"),
        ("source.recovered", "Source recovered: essex-news"),
    ],
)
def test_source_health_subjects(kind: str, expected: str) -> None:
    message = render(source_event(kind))
    assert message.subject == expected
    assert "HTTP 503 three times" in message.text
    assert "HTTP 503 three times" in message.html


def test_body_has_before_and_after_per_area_with_human_labels() -> None:
    message = render(outcome_event(previous=earlier_outcome()))
    lines = message.text.splitlines()
    assert any("Help and protection: Good -> Good" in line for line in lines)
    assert any("Impact of leaders: Requires improvement -> Good" in line for line in lines)
    joint = "Requires improvement (judged together)"
    assert f"  * Children in care: {joint} -> Outstanding" in lines
    assert f"  * Care leavers: {joint} -> Good" in lines
    assert "Children in care and care leavers" not in message.text  # no row left empty
    assert "–" not in message.text
    assert "15 January 2024 to 26 January 2024" in message.text
    assert "4 March 2024" in message.html


def test_body_tells_reported_from_confirmed_and_lists_sources() -> None:
    reported = render(outcome_event())
    confirmed = render(outcome_event("outcome.confirmed", ilacs_outcome(status="confirmed")))
    assert "not yet confirmed" in reported.text
    assert "not yet confirmed" not in confirmed.text
    assert "Confirmed by Ofsted's report" in confirmed.text
    assert "Confidence: 95%" in reported.text
    assert "Confidence" not in confirmed.text and "Confidence" not in confirmed.html
    assert f'<a href="{NEWS.url}">southend-news</a>' in reported.html
    assert NEWS.url in reported.text


def test_a_councils_release_is_not_called_the_press() -> None:
    paper = SourceRef("https://www.echo-news.example/news/9", "feed", "echo")
    council = render(outcome_event())  # NEWS is the council's own newsroom
    press = render(outcome_event(sources=(paper,)))
    assert "Announced by the council; not yet confirmed" in council.text
    assert "Reported by the press" not in council.text
    assert "Reported by the press; not yet confirmed" in press.text


def test_scraped_text_is_escaped_in_html_but_kept_in_text() -> None:
    nasty = '<script>alert("x")</script> & Good'
    outcome = ilacs_outcome(evidence=(nasty,), local_authority="Essex <b>")
    event = outcome_event(outcome=outcome, sources=(SourceRef("javascript:alert(1)", "news"),))
    message = render(event)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "Essex &lt;b&gt;" in message.html
    assert 'href="javascript:' not in message.html
    assert nasty in message.text


def test_sif_areas_use_the_frameworks_own_names() -> None:
    sif = ilacs_outcome(
        framework="SIF", judgements=(("children_in_care", "good"), ("leaders", "good"))
    )
    message = render(outcome_event("outcome.new", sif))
    assert "Children looked after and achieving permanence" in message.text
    assert "Leadership, management and governance" in message.html


def test_summary_facts_show_changes_as_arrows() -> None:
    facts = dict(summary_facts(outcome_event(previous=earlier_outcome())))
    assert facts["Overall effectiveness"] == "Requires improvement → Good"
    assert facts["Help and protection"] == "Good"
    assert facts["Council"] == "Southend-on-Sea"


def test_dates_are_shown_at_the_precision_stated() -> None:
    from alerts.render import date_range

    assert date_range(date(2023, 6, 1), date(2023, 6, 30)) == "June 2023"
    assert date_range(date(2022, 12, 1), date(2023, 1, 31)) == "December 2022 to January 2023"
    assert date_range(date(2023, 6, 26), date(2023, 6, 30)) == "26 June 2023 to 30 June 2023"
    month = outcome_event(
        outcome=ilacs_outcome(inspection_start=date(2024, 11, 1), inspection_end=date(2024, 11, 30))
    )
    assert "Inspected:  November 2024" in render(month).text.splitlines()


def test_every_alert_type_has_words_for_the_footer() -> None:
    assert set(EVENT_TYPE_LABELS) == set(AlertType)
