"""The prose reader's stages on their own: layout, transitions, relevance and confidence."""

from __future__ import annotations

from datetime import date

import pytest

from crawler.parsers.article import read_article
from crawler.parsers.article.confidence import FEATURES, score, weights
from crawler.parsers.article.layout import restate_layout, spell_out_scores
from crawler.parsers.article.relevance import REASONS
from crawler.parsers.article.story import transitions

# --- layout ------------------------------------------------------------------------------------


def test_a_copied_judgement_table_becomes_one_statement_per_row() -> None:
    table = (
        "The judgements are:\n1. Children who need help and protection\nRequires improvement\n"
        "2. Children looked after and achieving\npermanence\nGood\n2.1 Adoption performance\nGood"
    )
    lines = restate_layout(table).splitlines()
    assert "Children who need help and protection was judged Requires improvement." in lines
    assert "Children looked after and achieving permanence was judged Good." in lines
    assert "Adoption performance was judged Good." in lines


@pytest.mark.parametrize(
    "row",
    [
        "Help and protection: requires improvement to be good",
        "Help and protection | Requires improvement to be good",
        "Help and protection\tRequires improvement to be good",
        "- Help and protection - requires improvement to be good",
    ],
)
def test_inline_rows_with_any_separator(row: str) -> None:
    expected = "help and protection was judged requires improvement to be good."
    assert restate_layout(row).lower() == expected


def test_a_graded_introduction_gives_its_grade_to_each_listed_area() -> None:
    text = (
        "The areas judged good were:\n- the impact of leaders; help and protection\n"
        "- care leavers\n\nThe council welcomed the report."
    )
    lines = restate_layout(text).splitlines()
    assert (
        "help and protection was judged good." in lines and "care leavers was judged good." in lines
    )
    assert lines[-1] == "The council welcomed the report."


def test_short_pieces_of_area_and_grade() -> None:
    text = "Overall effectiveness: good. Help and protection good; care leavers outstanding."
    assert restate_layout(text) == (
        "Overall effectiveness was judged good. Help and protection was judged good. "
        "care leavers was judged outstanding."
    )


def test_league_rows_of_councils_and_marks() -> None:
    assert restate_layout("Trafford - 4 (outstanding)\nRochdale: Adequate") == (
        "Trafford was rated outstanding.\nRochdale was rated Adequate."
    )


def test_ordinary_prose_is_left_alone() -> None:
    text = "The council said: we will keep improving.\nLeaders were praised - and rightly so."
    assert restate_layout(text) == text


def test_apa_marks_are_spelt_out_only_where_an_apa_is_named() -> None:
    named = "In its annual performance assessment the county was given a grade of 1 overall."
    assert "grade of 1 (inadequate)" in spell_out_scores(named)
    assert spell_out_scores("The school was given a grade of 1 by inspectors.").endswith(
        "1 by inspectors."
    )


# --- transitions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Halton leaps from 'requires improvement' to 'outstanding'",
        "services moved from inadequate straight to good",
        "the council has gone from an RI rating to outstanding",
    ],
)
def test_from_one_grade_to_another(text: str) -> None:
    assert sorted(transitions(text).values()) == ["current", "history"]


# --- relevance ---------------------------------------------------------------------------------

_WHY_NOT = [
    ("Bin collections change over Christmas in Leeds.", "no_ofsted_news"),
    ("Ofsted says children's services nationally need more social workers.", "no_council"),
    (
        "Estyn rates Cardiff schools\n\nEstyn and Care Inspectorate Wales inspected Cardiff"
        " Council's education and children's services this spring.",
        "other_jurisdiction",
    ),
    (
        "Youth justice service in Derby rated good\n\nHM Inspectorate of Probation has rated"
        " Derby's youth offending service good after an inspection in May.",
        "other_jurisdiction",
    ),
    (
        "Secure children's home in Lincolnshire rated outstanding\n\nOfsted inspectors rated"
        " the home, run by Lincolnshire County Council, outstanding in every area.",
        "childrens_home",
    ),
    (
        "Independent fostering agency in Kent judged good\n\nOfsted has rated an independent"
        " fostering agency based in Kent good after its inspection.",
        "agency",
    ),
    (
        "Three in ten councils rated inadequate, figures show\n\nMost councils in England were"
        " rated good or better in 2023, and 14 per cent were inadequate, Ofsted data shows.",
        "annual_report",
    ),
    (
        "Plans for a new leisure centre in Rotherham approved\n\nCouncillors approved the plans"
        " on Tuesday. The site will open in 2027.\n\nThe council's children's services were"
        " rated good by Ofsted in 2022.",
        "background_rating",
    ),
]


@pytest.mark.parametrize(("text", "reason"), _WHY_NOT, ids=[r for _, r in _WHY_NOT])
def test_each_reason_a_story_gives_nothing(text: str, reason: str) -> None:
    reading = read_article(text, article_date=date(2024, 6, 1))
    assert (reading.outcomes, reading.reason) == ((), reason)
    assert reason in REASONS


def test_a_neighbours_standing_grade_is_not_an_outcome() -> None:
    text = (
        "Barnsley children's services rated good\n\nBarnsley Council's children's services have"
        " been rated good by Ofsted after an inspection in March. Neighbouring Rotherham, which"
        " remains rated outstanding, was inspected in 2022."
    )
    reading = read_article(text, article_date=date(2024, 5, 2))
    assert [(o.local_authority, o.overall) for o in reading.outcomes] == [("Barnsley", "good")]


# --- confidence --------------------------------------------------------------------------------


def test_confidence_weights_cover_every_signal() -> None:
    assert set(weights()) == set(FEATURES)
    assert 0.0 < score(dict.fromkeys(FEATURES, 0.0)) < 1.0


def test_a_headline_result_is_surer_than_a_grade_buried_in_a_round_up() -> None:
    clear = read_article(
        "Essex children's services rated outstanding\n\nEssex County Council's children's"
        " services have been rated outstanding by Ofsted, in a report published today.",
        article_date=date(2024, 6, 1),
    )
    buried = read_article(
        "Council news in brief\n\nThe library in Harlow reopens on Monday. Roadworks on the A12"
        " start next week. Elsewhere, Ofsted rated Suffolk good. Thurrock was also rated good,"
        " and Southend-on-Sea requires improvement.",
        article_date=date(2024, 6, 1),
    )
    (sure,) = clear.outcomes
    assert buried.outcomes and all(o.confidence < sure.confidence for o in buried.outcomes)
    assert len(clear.signals) == 1 and set(clear.signals[0]) == set(FEATURES)
