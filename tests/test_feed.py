"""Tests of the RSS and Atom reader on saved feeds, and its refusal of things that are not feeds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crawler.errors import ParseError
from crawler.parsers.feed import FeedEntry, looks_like_feed, parse_feed

PAGES = Path(__file__).parent / "fixtures" / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_rss_entries() -> None:
    entries = parse_feed(page("feed_rss.xml"), "https://echo.example.co.uk/feed/")
    assert entries[0] == FeedEntry(
        url="https://echo.example.co.uk/2025/03/04/ofsted-rates-childrens-services-good/",
        title="Ofsted rates council\u2019s children\u2019s services good",
        published=date(2025, 3, 4),
        summary="Inspectors praised leaders after a three-week visit.",
    )
    assert entries[1].url == "https://echo.example.co.uk/2025/03/03/roadworks/"
    assert entries[1].published is None
    assert entries[2].url == "https://echo.example.co.uk/2025/03/01/permalink-only/"
    assert entries[2].published == date(2025, 3, 1)
    assert len(entries) == 3  # the item with neither link nor permalink is skipped


def test_atom_entries_prefer_alternate_link_and_published_date() -> None:
    entries = parse_feed(page("feed_atom.xml"), "https://www.example-borough.gov.uk/news/atom")
    assert [e.url for e in entries] == [
        "https://www.example-borough.gov.uk/news/ofsted-focused-visit",
        "https://www.example-borough.gov.uk/news/bin-collections",
    ]
    assert entries[0].title == "Ofsted focused visit & next steps"
    assert entries[0].published == date(2025, 2, 20)
    assert entries[1].published == date(2024, 12, 18)
    assert entries[1].summary == "Collections move by one day ."


def test_sniffing() -> None:
    assert looks_like_feed(page("feed_rss.xml"))
    assert looks_like_feed(page("feed_atom.xml"))
    assert not looks_like_feed(page("council_newsroom.html"))


@pytest.mark.parametrize(
    "data",
    [b"<html><body>Not a feed</body></html>", b"", b"\x00\x01binary"],
    ids=["html", "empty", "binary"],
)
def test_not_a_feed_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed(data, "https://example.org/feed")


def test_a_truncated_feed_gives_what_it_holds() -> None:
    # Its empty listing is then the source's health problem ("lists no items").
    assert parse_feed(b"<rss><channel>", "https://example.org/feed") == []
    cut = b"<rss><channel><item><title>A</title><link>https://example.org/a</link></item><item><ti"
    assert [e.url for e in parse_feed(cut, "https://example.org/feed")] == ["https://example.org/a"]


_ITEM = "<item><title>{title}</title><link>https://example.org/{slug}</link></item>"


@pytest.mark.parametrize(
    ("data", "title"),
    [
        (
            f'<rss version="2.0"><channel>{_ITEM}</channel></rss>'.format(
                title="Fish & chips", slug="a"
            ).encode(),
            "Fish & chips",
        ),
        (
            f'<rss version="2.0"><channel>{_ITEM}</channel></rss>'.format(
                title="Ofsted&nbsp;rates Essex", slug="a"
            ).encode(),
            "Ofsted rates Essex",
        ),
        (
            b'\n  <?xml version="1.0" encoding="utf-8"?>'
            + f'<rss version="2.0"><channel>{_ITEM}</channel></rss>'.format(
                title="Spaces first", slug="a"
            ).encode(),
            "Spaces first",
        ),
        (
            b'<?xml version="1.0" encoding="utf-8"?>'
            + f'<rss version="2.0"><channel>{_ITEM}</channel></rss>'.format(
                title="Caf\xe9 news", slug="a"
            ).encode("latin-1"),
            "Café news",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T &copy; 2024 &amp; more'
            b'</title><link href="https://example.org/a"/></entry></feed>',
            "T © 2024 & more",
        ),
    ],
    ids=["bare-ampersand", "html-entity", "space-before-declaration", "latin1-as-utf8", "atom"],
)
def test_real_feeds_that_are_not_well_formed_are_still_read(data: bytes, title: str) -> None:
    (entry,) = parse_feed(data, "https://example.org/feed")
    assert (entry.title, entry.url) == (title, "https://example.org/a")


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><item><title>x &leak; y</title>
<link>https://example.org/a</link></item></channel></rss>""".encode()
    entries = parse_feed(data, "https://example.org/feed")
    assert entries[0].url == "https://example.org/a"
    assert "TOP-SECRET" not in entries[0].title
