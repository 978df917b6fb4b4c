"""The Atom feed document: what a feed reader makes clickable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from alerts.atom import atom_document
from db.queries import DecidedChange

NS = {"a": "http://www.w3.org/2005/Atom"}
WHEN = datetime(2024, 3, 5, 9, 30)


def change(*sources: tuple[str, str]) -> DecidedChange:
    payload = {"sources": [{"url": url, "kind": kind} for url, kind in sources]}
    return DecidedChange("outcome.new:3", "outcome.new", "Ofsted: Essex rated Good", WHEN, payload)


def links(document: bytes) -> list[tuple[str | None, str | None]]:
    entry = ET.fromstring(document).find("a:entry", NS)
    assert entry is not None
    return [(link.get("rel"), link.get("href")) for link in entry.findall("a:link", NS)]


def test_the_report_is_the_link_a_reader_opens_and_the_press_is_related() -> None:
    paper = ("https://paper.example/news/1", "feed")
    report = ("https://reports.example/provider/44/1", "ofsted")
    document = atom_document([change(paper, report)], "Outcomes", WHEN)
    assert links(document) == [("alternate", report[0]), ("related", paper[0])]


def test_links_that_are_not_web_addresses_are_left_out() -> None:
    document = atom_document([change(("javascript:alert(1)", "feed"))], "Outcomes", WHEN)
    assert links(document) == []


def test_the_feed_names_itself_only_when_told_its_address() -> None:
    told = ET.fromstring(atom_document([], "Outcomes", WHEN, "https://x.example/feed.xml"))
    untold = ET.fromstring(atom_document([], "Outcomes", WHEN))
    assert [link.get("rel") for link in told.findall("a:link", NS)] == ["self"]
    assert untold.findall("a:link", NS) == []


def test_the_summary_quotes_the_grades_not_the_header() -> None:
    from tests.test_render import ilacs_outcome

    outcome = ilacs_outcome(
        evidence=("Essex County Council", "Inspection dates: 4 to 15 March", "Overall: Good")
    )
    entry = DecidedChange("k:1", "outcome.new", "Essex", WHEN, {"outcome": outcome.to_json()})
    summary = ET.fromstring(atom_document([entry], "Outcomes", WHEN)).find("a:entry/a:summary", NS)
    assert summary is not None and summary.text == "Overall: Good"


def test_a_feed_reader_opens_the_report_and_finds_the_feed_itself() -> None:
    import feedparser

    paper = ("https://paper.example/news/1", "feed")
    report = ("https://reports.example/provider/44/1", "ofsted")
    document = atom_document([change(paper, report)], "Outcomes", WHEN, "https://x.example/f.xml")
    parsed = feedparser.parse(document)
    assert not parsed.bozo
    assert [link["rel"] for link in parsed.feed.links] == ["self"]
    (entry,) = parsed.entries
    assert entry.link == report[0] and entry.id == "urn:ofsted-watch:outcome.new:3"
