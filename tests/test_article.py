"""Outcomes read from press and council prose: own fixtures, the shared seeds, the shared corpus."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crawler.authorities import AuthorityRegistry
from crawler.parsers.article import parse_article
from crawler.parsers.article.councils import councils_in_url, find_councils
from crawler.parsers.html_text import article_text, plain_text_article
from crawler.parsers.prose_dates import find_date_spans, parse_date_text
from crawler.records import InspectionOutcome

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def _read_case(case: str) -> tuple[str, dict[str, Any]]:
    meta_path = FIXTURES / f"{case}.meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    source = next(p for p in FIXTURES.glob(f"{case}.*") if p.suffix in (".txt", ".html"))
    return source.name, meta


def _extract(name: str, meta: dict[str, Any]) -> list[InspectionOutcome]:
    raw = (FIXTURES / name).read_text("utf-8")
    article = article_text(raw) if name.endswith(".html") else plain_text_article(raw)
    given = meta.get("article_date")
    when = date.fromisoformat(given) if given else article.published
    return parse_article(article.text, title=article.title, url=meta.get("url"), article_date=when)


def _assert_matches(outcomes: list[InspectionOutcome], expected: list[dict[str, Any]]) -> None:
    got = {str(o.local_authority): o.to_json() for o in outcomes}
    assert sorted(got) == sorted(e["local_authority"] for e in expected)
    for wanted in expected:
        actual = got[wanted["local_authority"]]
        for key, value in wanted.items():
            assert actual[key] == value, f"{wanted['local_authority']}.{key}: {actual[key]!r}"


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    name, meta = _read_case(case)
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text())
    outcomes = _extract(name, meta)
    _assert_matches(outcomes, expected)
    for outcome in outcomes:
        assert outcome.status == "reported"
        assert 0.0 < outcome.confidence <= 1.0
        assert outcome.evidence, "every outcome cites the sentences it came from"


def test_fixture_folder_has_negatives_and_positives() -> None:
    expectations = [json.loads((FIXTURES / f"{c}.expected.json").read_text()) for c in CASES]
    assert sum(1 for e in expectations if not e) >= 3
    assert sum(1 for e in expectations if e) >= 6


def test_evidence_quotes_the_grade_sentence() -> None:
    text = "Children's services in Rotherham are now good, Ofsted said in a report published today."
    [outcome] = parse_article(text, article_date=date(2018, 12, 3))
    assert outcome.overall == "good"
    assert outcome.published == date(2018, 12, 3)
    assert outcome.evidence == (text,)


def test_yesterday_and_last_month_resolve_against_the_story_date() -> None:
    text = (
        "Ofsted rated children's services in Dudley requires improvement to be good "
        "after an inspection last month. The report was published yesterday."
    )
    [outcome] = parse_article(text, article_date=date(2024, 3, 6))
    assert (outcome.inspection_start, outcome.inspection_end) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert outcome.published == date(2024, 3, 5)
    [undated] = parse_article(text)
    assert undated.published is None and undated.inspection_start is None


def test_old_grade_only_in_passing_gives_nothing() -> None:
    text = (
        "Walsall Council is preparing for its next Ofsted inspection. "
        "The council was rated good at its previous inspection in 2019."
    )
    assert parse_article(text, article_date=date(2023, 1, 10)) == []


def test_story_without_ofsted_gives_nothing() -> None:
    text = "Norfolk County Council was rated good by the Care Quality Commission for adult care."
    assert parse_article(text) == []


def test_council_named_only_in_the_address() -> None:
    text = "Ofsted judged the council's children's services good, in a report published today."
    [outcome] = parse_article(
        text, url="https://democracy.stockport.gov.uk/item/1", article_date=date(2024, 1, 5)
    )
    assert outcome.local_authority == "Stockport"


# --- councils in text ------------------------------------------------------------------------


def test_councils_found_with_positions_possessives_and_aliases() -> None:
    text = "Essex's social workers, Essex County Council (ECC) and Southend."
    found = find_councils(text)
    assert [(m.text, m.authority.short_name) for m in found] == [
        ("Essex", "Essex"),
        ("Essex County Council", "Essex"),
        ("ECC", "Essex"),
        ("Southend", "Southend-on-Sea"),
    ]
    assert text[found[1].start : found[1].end] == "Essex County Council"


def test_ambiguous_names_need_context() -> None:
    assert find_councils("Reading the letter, staff in Kingston said SCC was fine.") == []
    backed = find_councils("Kingston upon Thames was praised. Kingston said so.")
    assert {m.authority.short_name for m in backed} == {"Kingston upon Thames"}
    assert len(backed) == 2
    assert [m.authority.short_name for m in find_councils("Reading Borough Council")] == ["Reading"]


def test_lower_case_words_and_other_places_are_not_councils() -> None:
    assert find_councils("an essex girl") == []
    assert [m.authority.short_name for m in find_councils("Mid Devon and Devon")] == ["Devon"]


def test_trust_names_resolve_to_their_council() -> None:
    found = find_councils("Birmingham Children's Trust was rated good.")
    assert [m.authority.short_name for m in found] == ["Birmingham"]


def test_councils_in_url() -> None:
    names = [a.short_name for a in councils_in_url("https://moderngov.stockton.gov.uk/x")]
    assert names == ["Stockton-on-Tees"]
    assert councils_in_url("https://www.buryfreepress.co.uk/news/a") == []
    assert councils_in_url(None) == []


# --- dates in prose --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("7 to 18 October 2024", date(2024, 10, 7), date(2024, 10, 18)),
        ("9 October to 2 November 2017", date(2017, 10, 9), date(2017, 11, 2)),
        ("19 November–30 November 2018", date(2018, 11, 19), date(2018, 11, 30)),
        ("October 18 and October 19", date(2021, 10, 18), date(2021, 10, 19)),
        ("27 February - 14 March", date(2021, 2, 27), date(2021, 3, 14)),
        ("in June this year", date(2021, 6, 1), date(2021, 6, 30)),
        ("in November and December 2015", date(2015, 11, 1), date(2015, 12, 31)),
        ("last month", date(2021, 11, 1), date(2021, 11, 30)),
    ],
)
def test_date_spans(text: str, start: date, end: date) -> None:
    [span] = find_date_spans(text, date(2021, 12, 1))
    assert (span.start, span.end) == (start, end)


def test_dates_without_year_need_a_reference() -> None:
    assert find_date_spans("on 7 and 8 December") == []
    [span] = find_date_spans("on 7 and 8 December", date(2022, 1, 20))
    assert span.start == date(2021, 12, 7)


def test_parse_date_text() -> None:
    assert parse_date_text("2017-10-12T09:00:00Z") == date(2017, 10, 12)
    assert parse_date_text("12 October 2017") == date(2017, 10, 12)
    assert parse_date_text("not a date") is None


# --- the shared seeds and corpus -------------------------------------------------------------

SEEDS: dict[str, dict[str, Any]] = {
    "000": {
        "event_type": "inspection",
        "framework": "ILACS",
        "overall": "outstanding",
        "previous_overall": "outstanding",
        "previous_year": 2018,
    },
    "001": {
        "event_type": "inspection",
        "pilot": True,
        "overall": "good",
        "previous_overall": "good",
        "previous_year": 2014,
    },
    "002": {
        "event_type": "inspection",
        "framework": "ILACS",
        "overall": "outstanding",
        "judgements": {
            "help_and_protection": "outstanding",
            "children_in_care_and_care_leavers": "good",
            "leaders": "outstanding",
        },
    },
    "003": {
        "event_type": "focused_visit",
        "overall": None,
        "previous_overall": "outstanding",
        "previous_year": 2018,
    },
    "004": {
        "event_type": "inspection",
        "framework": "ILACS",
        "overall": "good",
        "judgements": {"leaders": "good", "help_and_protection": "good", "care_leavers": "good"},
        "previous_overall": "requires_improvement",
        "previous_year": 2019,
    },
}
SEED_COUNCILS = {"004": ("Southend-on-Sea", "E06000033")}


def _seed_path(prefix: str) -> Path:
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"shared seeds not found at {SHARED / 'seeds'}")
    found = sorted((SHARED / "seeds").glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"seed {prefix} not found in {SHARED / 'seeds'}")
    return found[0]


@pytest.mark.shared
@pytest.mark.parametrize("prefix", sorted(SEEDS))
def test_seed(prefix: str) -> None:
    raw = _seed_path(prefix).read_text("utf-8")
    article = plain_text_article(raw)
    [outcome] = parse_article(article.text, title=article.title, article_date=article.published)
    name, code = SEED_COUNCILS.get(prefix, ("Essex", "E10000012"))
    assert (outcome.local_authority, outcome.ons_code) == (name, code)
    got = outcome.to_json()
    for key, value in SEEDS[prefix].items():
        assert got[key] == value, f"{key}: {got[key]!r}"
    if prefix == "000":
        assert outcome.judgements == ()
    [raw_outcome] = parse_article(raw)
    assert raw_outcome.overall == outcome.overall


_EVENTS = {
    "full_inspection": "inspection",
    "short_inspection": "inspection",
    "pilot_inspection": "inspection",
    "send_area": "send_inspection",
}


def _corpus() -> list[dict[str, Any]]:
    root = SHARED / "corpus"
    if not (root / "gold.jsonl").is_file():
        pytest.skip(f"shared corpus not found at {root}")
    return [json.loads(line) for line in (root / "gold.jsonl").read_text().splitlines() if line]


def _score_record(record: dict[str, Any], counts: dict[str, int]) -> None:
    registry = AuthorityRegistry.load()
    article = plain_text_article((SHARED / "corpus" / "texts" / f"{record['id']}.txt").read_text())
    when = date.fromisoformat(record["article_date"]) if record["article_date"] else None
    outcomes = parse_article(
        article.text, title=article.title, url=record["url"], article_date=when or article.published
    )
    gold = {}
    for item in record["outcomes"]:
        authority = registry.resolve(item["local_authority"])
        gold[authority.ons_code if authority else item["local_authority"]] = item
    for outcome in outcomes:
        item = gold.get(outcome.ons_code or "")
        counts["predicted"] += 1
        if item is None:
            continue
        counts["matched"] += 1
        counts["grade_ok"] += item["overall"] == outcome.overall
        counts["event_ok"] += _EVENTS.get(item["event_type"], item["event_type"]) == (
            outcome.event_type
        )
    counts["gold"] += len(gold)


@pytest.mark.shared
def test_corpus_scores() -> None:
    counts = dict.fromkeys(("predicted", "matched", "gold", "grade_ok", "event_ok"), 0)
    for record in _corpus():
        _score_record(record, counts)
    precision = counts["matched"] / max(counts["predicted"], 1)
    recall = counts["matched"] / max(counts["gold"], 1)
    grades = counts["grade_ok"] / max(counts["matched"], 1)
    events = counts["event_ok"] / max(counts["matched"], 1)
    print(
        f"corpus precision={precision:.2f} recall={recall:.2f} "
        f"grade_accuracy={grades:.2f} event_accuracy={events:.2f} counts={counts}"
    )
    assert precision >= 0.85
    assert recall >= 0.75
    assert grades >= 0.85


def test_one_council_with_two_events() -> None:
    text = (
        "Ofsted and the CQC found that York's arrangements lead to inconsistent experiences and "
        "outcomes for children with SEND.\n\n"
        "The verdict follows the council's children's social care services being rated good in "
        "their latest full inspection last month."
    )
    outcomes = parse_article(text, title="Mixed news for York", article_date=date(2024, 5, 2))
    got = sorted((o.event_type, o.overall, o.send_outcome) for o in outcomes)
    assert got == [("inspection", "good", None), ("send_inspection", None, "inconsistent")]


def test_a_standing_grade_beside_a_visit_is_not_a_second_event() -> None:
    text = (
        "Inspectors found progress at Slough's latest monitoring visit in May.\n\n"
        "Slough's children's social care services remain rated inadequate since the full "
        "inspection in 2022."
    )
    outcomes = parse_article(text, title="Slough visit", article_date=date(2024, 6, 20))
    assert [(o.event_type, o.overall) for o in outcomes] == [("monitoring_visit", None)]
