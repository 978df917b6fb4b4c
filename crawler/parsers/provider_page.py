"""Pure readers of Ofsted's reports site: a council's provider page and the search listing.

They return links and labels only; what a report says is read elsewhere.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.parsers.html_text import parse_html
from crawler.records import Publication
from crawler.vocabulary import publication_kind

logger = logging.getLogger(__name__)

# Labels read "Area SEND full inspection, pdf - 15 July 2024" or, on older pages,
# "Children's services inspection as pdf - 14 february 2014", in any case.
_LABEL_DATE = re.compile(
    r"(?:,|\s+as)\s*(?:PDF|HTML|DOCX?)\b[^-–]*[-–]\s*(\d{1,2}\s+[A-Za-z]+\.?\s+\d{4})", re.I
)
_FILE_PATH = re.compile(r"/v1/file/\d+")
_PROVIDER_PATH = re.compile(r"/provider/44/(\d+)")
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y")


def parse_label_date(label: str) -> date | None:
    """The date after ', pdf - ' or ' as pdf - ' in a publication label (any case), or None."""
    match = _LABEL_DATE.search(label)
    if not match:
        return None
    raw = match.group(1).replace(".", "")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _words(node: HtmlElement) -> str:
    return " ".join(" ".join(node.itertext()).split())


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _label(link: HtmlElement) -> str:
    # The hidden span holds the full label; the visible text is sometimes only the title.
    for hidden in link.xpath(f".//span[{_has_class('nonvisual')}]"):
        if _words(hidden):
            return _words(hidden)
    return _words(link)


def _kind_text(label: str) -> str:
    match = _LABEL_DATE.search(label)
    return label[: match.start()] if match else label


def _candidate_links(doc: HtmlElement) -> list[HtmlElement]:
    marked: list[HtmlElement] = doc.xpath(f"//a[{_has_class('publication-link')}][@href != '']")
    if marked:
        return marked
    # Without the class, trust either the label's shape or Ofsted's file URL form.
    return [
        a
        for a in doc.iter("a")
        if a.get("href") and (_LABEL_DATE.search(_label(a)) or _FILE_PATH.search(a.get("href")))
    ]


def parse_provider_page(html: bytes | str, url: str) -> list[Publication]:
    """The publications listed on a provider page, in page order (Ofsted lists newest first)."""
    found: list[Publication] = []
    seen: set[str] = set()
    doc = parse_html(html)
    for link in _candidate_links(doc) if doc is not None else []:
        href = urljoin(url, str(link.get("href")).strip())
        if href in seen:
            continue
        seen.add(href)
        label = _label(link)
        kind = publication_kind(_kind_text(label))
        found.append(Publication(kind, label, parse_label_date(label), href))
    logger.debug("provider page url=%s publications=%d", url, len(found))
    return found


def provider_name(html: bytes | str) -> str | None:
    """The provider's name as the page heading prints it."""
    doc = parse_html(html)
    heading = doc.find(".//h1") if doc is not None else None
    return (_words(heading) or None) if heading is not None else None


def _next_page(doc: HtmlElement, url: str) -> str | None:
    marked = doc.xpath(
        "//*[self::a or self::link][@href][contains(concat(' ', @rel, ' '), ' next ')]"
    )
    link = marked[0] if marked else None
    if link is None:
        texts = (a for a in doc.iter("a") if a.get("href") is not None)
        link = next((a for a in texts if _words(a).lower().startswith("next")), None)
    return urljoin(url, str(link.get("href"))) if link is not None else None


def search_results(html: bytes | str, url: str) -> tuple[list[tuple[str, str]], str | None]:
    """(provider name, provider page URL) pairs of a search listing, and the next page's URL."""
    doc = parse_html(html)
    if doc is None:
        return [], None
    results: list[tuple[str, str]] = []
    seen: set[str] = set()
    for link in doc.iter("a"):
        if link.get("href") is None:
            continue
        href = urljoin(url, str(link.get("href")))
        name = _words(link)
        if not _PROVIDER_PATH.search(href) or href in seen or not name:
            continue
        seen.add(href)
        results.append((name, href))
    return results, _next_page(doc, url)
