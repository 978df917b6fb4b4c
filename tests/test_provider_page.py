"""Tests of the Ofsted provider page and search listing readers on saved pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crawler.parsers.provider_page import (
    parse_label_date,
    parse_provider_page,
    provider_name,
    search_results,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
BASE = "https://reports.ofsted.gov.uk/provider/44/80468"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_provider_page_lists_every_kind_in_page_order() -> None:
    pubs = parse_provider_page(page("ofsted_provider.html"), BASE)
    assert [p.event_type for p in pubs] == [
        "inspection",
        "focused_visit",
        "jtai",
        "send_inspection",
        "other",
        "inspection",
    ]
    assert [p.published for p in pubs] == [
        date(2025, 3, 10),
        date(2024, 8, 1),
        date(2024, 1, 30),
        date(2023, 7, 15),
        date(2022, 11, 3),
        date(2018, 1, 19),
    ]


def test_provider_page_urls_are_absolute_and_deduplicated() -> None:
    pubs = parse_provider_page(page("ofsted_provider.html"), BASE)
    urls = [p.url for p in pubs]
    assert urls[1] == "https://reports.ofsted.gov.uk/v1/file/50230002"
    assert urls.count("https://files.ofsted.gov.uk/v1/file/50200005") == 1
    assert all(u.startswith("https://") for u in urls)


def test_provider_page_label_is_the_hidden_span() -> None:
    first = parse_provider_page(page("ofsted_provider.html"), BASE)[0]
    assert first.label == "Children\u2019s services inspection, PDF - 10 March 2025"


def test_provider_page_without_class_falls_back_to_file_urls_and_labels() -> None:
    url = "https://reports.ofsted.gov.uk/provider/44/80569"
    pubs = parse_provider_page(page("ofsted_provider_noclass.html"), url)
    assert [p.url for p in pubs] == [
        "https://files.ofsted.gov.uk/v1/file/50111111",
        "https://reports.ofsted.gov.uk/downloads/letter-2023.pdf",
    ]
    assert pubs[0].published is None
    assert (pubs[1].event_type, pubs[1].published) == ("focused_visit", date(2023, 6, 12))


def test_page_without_publications_gives_empty_list() -> None:
    assert parse_provider_page("<html><body><h1>Nothing</h1></body></html>", BASE) == []


def test_label_date_forms() -> None:
    assert parse_label_date("Children's services inspection, PDF - 5 Sept. 2019") is None
    assert parse_label_date("Children's services inspection, PDF - 5 Sep 2019") == date(2019, 9, 5)
    assert parse_label_date("Monitoring visit, PDF \u2013 02 February 2021") == date(2021, 2, 2)
    assert parse_label_date("no date here") is None


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("Area SEND full inspection, pdf - 15 July 2024", date(2024, 7, 15)),
        ("Children's services inspection as pdf - 14 february 2014", date(2014, 2, 14)),
        ("Focused visit, Pdf - 3 MARCH 2022", date(2022, 3, 3)),
        ("Monitoring visit as PDF \u2013 28 Nov 2019", date(2019, 11, 28)),
        ("Joint targeted area inspection, html - 9 may 2023", date(2023, 5, 9)),
    ],
)
def test_label_dates_in_every_case_and_form(label: str, day: date) -> None:
    assert parse_label_date(label) == day


def test_real_anchor_markup_gives_each_report_its_date() -> None:
    html = """<html><body><h1>Southend-on-Sea City Council</h1><ul>
    <li><a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/50260111"
    target="_blank">Area SEND full inspection<span class="nonvisual">Area SEND full inspection,
    pdf - 15 July 2024</span></a></li>
    <li><a class="publication-link" href="https://files.ofsted.gov.uk/v1/file/2345678"
    target="_blank">Children's services inspection<span class="nonvisual">Children's services
    inspection as pdf - 14 february 2014</span></a></li></ul></body></html>"""
    pubs = parse_provider_page(html, BASE)
    assert [(p.url.split("/")[-1], p.published) for p in pubs] == [
        ("50260111", date(2024, 7, 15)),
        ("2345678", date(2014, 2, 14)),
    ]
    assert all(p.url.startswith("https://files.ofsted.gov.uk/") for p in pubs)
    assert pubs[0].event_type == "send_inspection"


def test_provider_name_is_heading_text() -> None:
    assert provider_name(page("ofsted_provider.html")) == "Essex County Council"
    assert provider_name("<html><body><p>none</p></body></html>") is None


def test_search_results_pairs_and_next_page() -> None:
    url = "https://reports.ofsted.gov.uk/search?q=&level_1_types=3"
    results, next_url = search_results(page("ofsted_search.html"), url)
    assert results == [
        ("Essex County Council", "https://reports.ofsted.gov.uk/provider/44/80468"),
        (
            "Tameside Metropolitan Borough Council",
            "https://reports.ofsted.gov.uk/provider/44/80569",
        ),
        (
            "Bournemouth, Christchurch and Poole Council",
            "https://reports.ofsted.gov.uk/provider/44/2532287",
        ),
    ]
    assert next_url == "https://reports.ofsted.gov.uk/search?q=&level_1_types=3&start=20&rows=10"


def test_search_last_page_has_no_next() -> None:
    results, next_url = search_results(
        page("ofsted_search_last.html"), "https://reports.ofsted.gov.uk/search?start=20"
    )
    assert results == [
        ("Buckinghamshire Council", "https://reports.ofsted.gov.uk/provider/44/80442")
    ]
    assert next_url is None
