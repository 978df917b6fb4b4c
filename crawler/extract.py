"""Read outcomes out of one document: a report PDF, a provider page, a feed, HTML or text.

This is the parse stage on its own: no network and no database, so `extract` and the pass share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from crawler.parsers.article import read_article
from crawler.parsers.feed import looks_like_feed
from crawler.parsers.html_text import ArticleText, article_text, plain_text_article
from crawler.parsers.prefilter import may_report_outcome
from crawler.parsers.provider_page import parse_provider_page
from crawler.parsers.report_pdf import parse_report_pdf
from crawler.records import InspectionOutcome


@dataclass(frozen=True)
class Extracted:
    """What one document is, and the outcomes read from it."""

    kind: str  # article | ofsted_report | ofsted_provider_page | feed | other
    outcomes: tuple[InspectionOutcome, ...]
    title: str | None = None
    published: date | None = None
    reason: str | None = None  # why an article gave no outcome (parsers/article/relevance.py)
    # What each article outcome's confidence was scored on (parsers/article/confidence.py).
    signals: tuple[Mapping[str, float], ...] = ()


def sniff_kind(data: bytes) -> str:
    """Tell a PDF, a provider page, a feed, HTML and plain text apart by their bytes."""
    head = data[:4096].lstrip().lower()
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if looks_like_feed(data):
        return "feed"
    if head.startswith((b"<!doctype", b"<html")) or b"<body" in head or b"<p>" in head:
        return "provider" if b"publication-link" in data or b"/provider/" in head else "html"
    return "text"


def extract_document(
    data: bytes,
    *,
    url: str | None = None,
    article_date: date | None = None,
    published: date | None = None,
    expect_report: bool = False,
    home_councils: tuple[str, ...] = (),
    listed_council: str | None = None,
    content_selector: str | None = None,
) -> Extracted:
    """Parse one document; raises ParseError when a report PDF cannot be read.

    With `expect_report` (a link Ofsted lists as a report) anything but a readable report is an
    error: the site sometimes serves an HTML "not found" page where the PDF should be.
    """
    kind = sniff_kind(data)
    if kind == "pdf" or expect_report:
        outcomes = parse_report_pdf(data, url=url, published=published, council=listed_council)
        return Extracted("ofsted_report", tuple(outcomes))
    if kind == "feed":
        return Extracted("feed", ())
    if kind == "provider" and parse_provider_page(data, url or "http://localhost/"):
        return Extracted("ofsted_provider_page", ())
    if not may_report_outcome(data, html_page=kind == "html"):
        # No Ofsted or inspection wording anywhere: the article reader could find nothing.
        return Extracted("article" if data.strip() else "other", (), reason="no_ofsted_news")
    html_page = kind in ("html", "provider")
    text = article_text(data, url, content_selector) if html_page else _plain(data)
    return _article(text, url, article_date, home_councils)


def _plain(data: bytes) -> ArticleText:
    return plain_text_article(data.decode("utf-8", errors="replace"))


def _article(
    text: ArticleText, url: str | None, article_date: date | None, home: tuple[str, ...]
) -> Extracted:
    when = article_date or text.published
    reading = read_article(
        text.text, title=text.title, url=url, article_date=when, home_councils=home
    )
    kind = "article" if reading.outcomes or text.text.strip() else "other"
    return Extracted(kind, reading.outcomes, text.title, when, reading.reason, reading.signals)
