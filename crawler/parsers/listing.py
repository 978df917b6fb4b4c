"""Pure reader of news listing pages: which links on the page are articles worth fetching.

It keeps same-site links from the main content and drops navigation, paging, taxonomy and files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import SplitResult, parse_qsl, urldefrag, urljoin, urlsplit

from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from crawler.parsers.html_text import parse_html

logger = logging.getLogger(__name__)

_NOISE_TAGS = ("nav", "header", "footer", "aside", "form", "script", "style", "noscript")
_NOISE_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
_NOISE_NAMES = re.compile(
    r"(^|[-_ ])(breadcrumbs?|pagination|pager|paging|nav|navbar|navigation|menu|sub-?nav|"
    r"sidebar|rail|cookies?|share|sharing|social|skip|most-?read|most-?popular|most-?viewed|"
    r"popular|trending|related|newsletters?|sign-?up)([-_ ]|$)",
    re.IGNORECASE,
)
# A block named like furniture that holds at least this share of the page's links is the content
# itself: "layout--sidebar-right" names a layout, not a sidebar.
_MOST_LINKS = 0.5
_TAXONOMY = {
    "tag", "tags", "category", "categories", "topic", "topics", "author", "authors", "all-about",
}  # fmt: skip
_MODIFIER = re.compile(r"--[\w-]+")
# A section front under the listing ("/news/worcester/", "/news/local-news/"): one or two plain
# words and a trailing slash, linked by a short label rather than a headline.
_SECTION = re.compile(r"^[a-z]+(?:-[a-z]+)?$")
_LABEL_WORDS = 3
_PAGE_PARAMS = {"page", "paged", "start", "offset", "pg"}  # not "p": WordPress post ids
_PAGE_PATH = re.compile(r"/page/\d+/?$")
_FILE_EXT = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|csv|zip|jpe?g|png|gif|svg|webp|mp3|mp4|ics|xml|rss)$",
    re.IGNORECASE,
)
_SCHEMES = ("http", "https")


def _is_noise(node: HtmlElement) -> bool:
    tag = node.tag if isinstance(node.tag, str) else ""
    if tag in ("header", "footer") and next(node.iterancestors("article"), None) is not None:
        return False  # an article card's own header holds its title link
    if tag in _NOISE_TAGS or node.get("role") in _NOISE_ROLES:
        return True
    names = f"{node.get('class') or ''} {node.get('id') or ''}"
    # A BEM modifier ("layout--sidebar-right") says how a block is laid out, not what it is.
    names = _MODIFIER.sub("", names)
    return bool(names.strip()) and bool(_NOISE_NAMES.search(names))


_MAIN_XPATHS = (
    "//main",
    "//*[@role='main']",
    "//*[@id='main-content']",
    "//*[@id='content']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' main-content ')]",
)


def _content_root(doc: HtmlElement) -> HtmlElement:
    """The first main-content candidate that holds links: Drupal 7 themes put an empty skip-link
    anchor (`<a id="main-content"></a>`) ahead of the real content, which must not win."""
    for xpath in _MAIN_XPATHS:
        for found in doc.xpath(xpath):
            if found.tag != "a" and any(a.get("href") for a in found.iter("a")):
                return found
    body = doc.find("body")
    return body if body is not None else doc


def _in_noise(link: HtmlElement, root: HtmlElement, total: int) -> bool:
    """Whether the link or any ancestor up to the content root is navigation or the like."""
    node: HtmlElement | None = link
    while node is not None and node is not root:
        if _is_noise(node) and not _holds_most_links(node, total):
            return True
        node = node.getparent()
    return False


def _holds_most_links(node: HtmlElement, total: int) -> bool:
    if node.tag in _NOISE_TAGS:
        return False
    return total > 0 and sum(1 for _ in node.iter("a")) >= _MOST_LINKS * total


def _is_paging(parts: SplitResult) -> bool:
    params = {key.lower() for key, _ in parse_qsl(parts.query)}
    return bool(params & _PAGE_PARAMS) or bool(_PAGE_PATH.search(parts.path))


def _is_taxonomy(parts: SplitResult) -> bool:
    segments = [s.lower() for s in parts.path.split("/") if s]
    return any(segment in _TAXONOMY for segment in segments)


def _keep(url: str, base: SplitResult) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if parts.scheme not in _SCHEMES or host != (base.hostname or "").removeprefix("www."):
        return False
    path, listing = parts.path.rstrip("/") or "/", base.path.rstrip("/") or "/"
    is_parent = path == "/" or listing.startswith(path + "/")
    if path == listing or (is_parent and not parts.query):
        return False  # the listing itself or a parent (home, section root); "/?p=9" is a post
    return not (_is_paging(parts) or _is_taxonomy(parts) or _FILE_EXT.search(path))


def _is_section(url: str, label: str, base: SplitResult) -> bool:
    """A section front: a short label linking one or two plain words under the listing's path,
    with a trailing slash."""
    path, listing = urlsplit(url).path, base.path.rstrip("/")
    if not path.endswith("/") or not path.startswith(listing + "/"):
        return False
    rest = path[len(listing) + 1 :].rstrip("/")
    short = len(label.split()) <= _LABEL_WORDS
    return short and "/" not in rest and _SECTION.match(rest) is not None


def _links(html: bytes | str) -> Iterator[tuple[HtmlElement, HtmlElement]]:
    doc = parse_html(html)
    if doc is None:
        return
    root = _content_root(doc)
    for link in root.iter("a"):
        if link.get("href") is not None:
            yield link, root


def _selected_links(html: bytes | str, selector: str) -> Iterator[HtmlElement]:
    """The links a source's own `link_selector` picks: matched links, or the links inside."""
    doc = parse_html(html)
    if doc is None:
        return
    for match in CSSSelector(selector)(doc):
        links = [match] if match.tag == "a" else list(match.iter("a"))
        yield from (link for link in links if link.get("href") is not None)


def article_links(
    html: bytes | str, base_url: str, limit: int = 50, selector: str | None = None
) -> list[str]:
    """Absolute article URLs of a news listing, de-duplicated, in page order, at most `limit`.

    With `selector` (a source's CSS `link_selector`), only the links it picks are read, and the
    noise filter is left to the operator who chose it.
    """
    found: list[str] = []
    base = urlsplit(base_url)
    if selector:
        chosen: list[tuple[HtmlElement, HtmlElement | None]] = [
            (link, None) for link in _selected_links(html, selector)
        ]
    else:
        chosen = list(_links(html))
    total = len(chosen)
    for link, root in chosen:
        href = str(link.get("href")).strip()
        noise = root is not None and _in_noise(link, root, total)
        if not href or href.startswith("#") or noise:
            continue
        url = urldefrag(urljoin(base_url, href)).url
        label = " ".join(" ".join(link.itertext()).split())
        if url not in found and _keep(url, base) and not _is_section(url, label, base):
            found.append(url)
        if len(found) >= limit:
            break
    logger.debug("listing url=%s articles=%d", base_url, len(found))
    return found
