"""Pure reader of news listing pages: which links on the page are articles worth fetching.

It keeps same-site links from the main content and drops navigation, paging, taxonomy and files.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

logger = logging.getLogger(__name__)

_NOISE_TAGS = ("nav", "header", "footer", "aside", "form", "script", "style", "noscript")
_NOISE_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
_NOISE_NAMES = re.compile(
    r"(^|[-_ ])(breadcrumbs?|pagination|pager|paging|nav|navbar|navigation|menu|sidebar|"
    r"cookies?|share|sharing|social|skip)([-_ ]|$)",
    re.IGNORECASE,
)
_MAIN_SELECTORS = ("main", "[role=main]", "#main-content", "#content", ".main-content")
_TAXONOMY = {"tag", "tags", "category", "categories", "topic", "topics", "author", "authors"}
_PAGE_PARAMS = {"page", "paged", "start", "offset", "pg"}  # not "p": WordPress post ids
_PAGE_PATH = re.compile(r"/page/\d+/?$")
_FILE_EXT = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|csv|zip|jpe?g|png|gif|svg|webp|mp3|mp4|ics|xml|rss)$",
    re.IGNORECASE,
)
_SCHEMES = ("http", "https")


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/") or "/"


def _is_noise(node: Tag) -> bool:
    if node.name in ("header", "footer") and node.find_parent("article") is not None:
        return False  # an article card's own header holds its title link
    if node.name in _NOISE_TAGS or node.get("role") in _NOISE_ROLES:
        return True
    names = " ".join([*node.get_attribute_list("class"), str(node.get("id") or "")])
    return bool(names.strip()) and bool(_NOISE_NAMES.search(names))


def _content_root(soup: BeautifulSoup) -> Tag:
    for selector in _MAIN_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            return found
    return soup.body or soup


def _strip_noise(root: Tag) -> None:
    # Collect first, then remove: decomposing while iterating skips siblings.
    doomed = [node for node in root.find_all(True) if _is_noise(node)]
    for node in doomed:
        if not node.decomposed:
            node.decompose()


def _is_paging(url: str) -> bool:
    parts = urlsplit(url)
    params = {key.lower() for key, _ in parse_qsl(parts.query)}
    return bool(params & _PAGE_PARAMS) or bool(_PAGE_PATH.search(parts.path))


def _is_taxonomy(url: str) -> bool:
    segments = [s.lower() for s in urlsplit(url).path.split("/") if s]
    return any(segment in _TAXONOMY for segment in segments)


def _keep(url: str, base_url: str) -> bool:
    if urlsplit(url).scheme not in _SCHEMES or _host(url) != _host(base_url):
        return False
    path, listing = _path(url), _path(base_url)
    is_parent = path == "/" or listing.startswith(path + "/")
    if path == listing or (is_parent and not urlsplit(url).query):
        return False  # the listing itself or a parent (home, section root); "/?p=9" is a post
    return not (_is_paging(url) or _is_taxonomy(url) or _FILE_EXT.search(path))


def article_links(html: bytes | str, base_url: str, limit: int = 50) -> list[str]:
    """Absolute article URLs of a news listing, de-duplicated, in page order, at most `limit`."""
    soup = BeautifulSoup(html, "lxml")
    root = _content_root(soup)
    _strip_noise(root)
    found: list[str] = []
    for link in root.find_all("a", href=True):
        href = str(link["href"]).strip()
        if not href or href.startswith("#"):
            continue
        url = urldefrag(urljoin(base_url, href)).url
        if url not in found and _keep(url, base_url):
            found.append(url)
        if len(found) >= limit:
            break
    logger.debug("listing url=%s articles=%d", base_url, len(found))
    return found
