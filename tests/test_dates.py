"""Printed dates and fieldwork ranges as Ofsted reports and letters write them."""

from __future__ import annotations

from datetime import date

import pytest

from crawler.parsers.dates import parse_date, parse_date_range
from crawler.parsers.prose_dates import find_date_spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 August 2013", date(2013, 8, 23)),
        ("Published: 3 February 2015", date(2015, 2, 3)),
        ("the 18th October 2024 meeting", date(2024, 10, 18)),
        ("1st Sept 2022", date(2022, 9, 1)),
        ("2 Dec. 2019", date(2019, 12, 2)),
        ("Monday, 7 October 2024", date(2024, 10, 7)),
        ("2024-10-07", date(2024, 10, 7)),
        ("07/10/2024", date(2024, 10, 7)),
        ("12\nJune\n2023", date(2023, 6, 12)),
        ("9\u00a0May\u00a02022", date(2022, 5, 9)),
    ],
)
def test_parse_date_reads_printed_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "no date here", "31 February 2020", "October 2024", "2019", "13/13/2020", "7 to 18"],
)
def test_parse_date_gives_none_without_a_whole_valid_date(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("29 April \u2013 22 May 2014", date(2014, 4, 29), date(2014, 5, 22)),
        ("8 October 2018 to 19 October 2018", date(2018, 10, 8), date(2018, 10, 19)),
        ("7 to 18 October 2024", date(2024, 10, 7), date(2024, 10, 18)),
        ("19 November\u201330 November 2018", date(2018, 11, 19), date(2018, 11, 30)),
        ("15 \u2013 19 July 2013", date(2013, 7, 15), date(2013, 7, 19)),
        ("22 February 2016\u201318 March 2016", date(2016, 2, 22), date(2016, 3, 18)),
        ("20 June 2017 \u2500 13 July 2017", date(2017, 6, 20), date(2017, 7, 13)),
        ("4 July 2016\u201428 July 2016", date(2016, 7, 4), date(2016, 7, 28)),
        ("4 - 15 March 2024", date(2024, 3, 4), date(2024, 3, 15)),
        ("18th to 20th Sept 2022", date(2022, 9, 18), date(2022, 9, 20)),
        ("11 and 12 July 2023", date(2023, 7, 11), date(2023, 7, 12)),
        ("30 December to 3 January 2025", date(2024, 12, 30), date(2025, 1, 3)),
        ("28 July 2016", date(2016, 7, 28), date(2016, 7, 28)),
        (
            "5 to 9 December 2022 and 14 to 15 February 2023",
            date(2022, 12, 5),
            date(2023, 2, 15),
        ),
        (
            "8 July 2019 to 12 July 2019 and 7 August 2019 to \n8 August 2019",
            date(2019, 7, 8),
            date(2019, 8, 8),
        ),
        (
            "30 September to 11 October 2024 and 13 to 16 January 2025",
            date(2024, 9, 30),
            date(2025, 1, 16),
        ),
        # A footnote digit glued to a word is not a day of the range.
        (
            "Board1 Inspection date: 14 January 2014 \u2013 5 February 2014",
            date(2014, 1, 14),
            date(2014, 2, 5),
        ),
    ],
)
def test_parse_date_range_reads_every_printed_form(text: str, start: date, end: date) -> None:
    assert parse_date_range(text) == (start, end)


def test_parse_date_range_folds_line_breaks_inside_a_range() -> None:
    assert parse_date_range("3 December 2018 to\n14\nDecember 2018") == (
        date(2018, 12, 3),
        date(2018, 12, 14),
    )


@pytest.mark.parametrize("text", ["", "Inspection dates: to be confirmed", "7 to 18", "May 2024"])
def test_parse_date_range_without_dates_is_none_none(text: str) -> None:
    assert parse_date_range(text) == (None, None)


def test_parse_date_range_accepts_numeric_single_date() -> None:
    assert parse_date_range("14/01/2014") == (date(2014, 1, 14), date(2014, 1, 14))


def test_parse_date_range_skips_an_impossible_day() -> None:
    assert parse_date_range("30 February to 3 March 2021") == (
        date(2021, 3, 3),
        date(2021, 3, 3),
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("inspected in the summer of 2023", date(2023, 6, 1), date(2023, 8, 31)),
        ("a visit in spring 2021", date(2021, 3, 1), date(2021, 5, 31)),
        ("during the winter of 2022", date(2022, 12, 1), date(2023, 2, 28)),
        ("inspectors came in the summer", date(2023, 6, 1), date(2023, 8, 31)),
        ("last autumn's visit", date(2022, 9, 1), date(2022, 11, 30)),
    ],
)
def test_seasons_are_spans_of_their_months(text: str, start: date, end: date) -> None:
    (span,) = find_date_spans(text, date(2023, 10, 1))
    assert (span.start, span.end, span.precision) == (start, end, "month")
