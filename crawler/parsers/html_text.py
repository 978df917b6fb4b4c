"""The main text, title and publication date of a news or press-release page (HTML or plain text).

Page furniture (navigation, cookie banners, comments, "related" and "read more" blocks) is dropped
so that the article parser only reads the story itself.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from crawler.parsers.prose_dates import find_date_spans, parse_date_text

logger = logging.getLogger(__name__)

_NOISE_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "figure",
)
_NOISE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
_NOISE_HINT = re.compile(
    r"cookie|consent|gdpr|comment|disqus|related|read-?more|more-?stories|recommend|share|social"
    r"|newsletter|breadcrumb|promo|advert|\bads?\b|sidebar|subscribe|paywall|skip|signup|sign-up"
    r"|popular|trending|outbrain|taboola|byline-social|tags|author-bio|site-header|site-footer"
    r"|masthead|menu",
    re.I,
)
_MAIN_HINT = re.compile(
    r"article-?body|story-?body|post-?content|entry-?content|main-?content", re.I
)
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "dt", "dd")
_META_DATES = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "publish-date",
    "publish_date",
    "pubdate",
    "publication_date",
    "parsely-pub-date",
    "sailthru.date",
    "article.published",
)
_BREAK = "\x00"
_DATE_LINE = re.compile(r"^(?:published|posted|updated|date)?[:\s]*(.{6,40})$", re.I)


@dataclass(frozen=True)
class ArticleText:
    """The readable part of a story page."""

    title: str | None
    text: str
    published: date | None


@cache
def _boilerplate_starts() -> tuple[str, ...]:
    raw = resources.files("crawler").joinpath("data/prose.toml").read_text("utf-8")
    starts: list[str] = tomllib.loads(raw)["boilerplate"]["line_starts"]
    return tuple(starts)


def is_boilerplate_line(line: str) -> bool:
    """Whether a line is page furniture ('Read more: ...', 'Skip to main content', comments)."""
    folded = line.strip().lower().lstrip("-•*> ")
    return folded.startswith(_boilerplate_starts())


def _clean_line(line: str) -> str:
    return " ".join(line.replace("\u00a0", " ").split())


def _json_ld_dates(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        value = node.get("datePublished")
        if isinstance(value, str):
            yield value
        for child in node.values():
            yield from _json_ld_dates(child)
    elif isinstance(node, list):
        for child in node:
            yield from _json_ld_dates(child)


def _date_from_json_ld(soup: BeautifulSoup) -> date | None:
    for script in soup.find_all("script", attrs={"type": re.compile("ld\\+json", re.I)}):
        try:
            data = json.loads(script.get_text())
        except ValueError:
            logger.debug("skipping unreadable json-ld block")
            continue
        for value in _json_ld_dates(data):
            found = parse_date_text(value)
            if found:
                return found
    return None


def _date_from_meta(soup: BeautifulSoup) -> date | None:
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        if key in _META_DATES:
            found = parse_date_text(str(tag.get("content") or ""))
            if found:
                return found
    return None


def _date_from_time(root: Tag) -> date | None:
    for tag in root.find_all("time"):
        found = parse_date_text(str(tag.get("datetime") or tag.get_text()))
        if found:
            return found
    return None


def date_near_title(lines: list[str]) -> date | None:
    """A line that holds only a date ('12 October 2017', 'Published: 3 May 2024') near the top."""
    for line in lines[:6]:
        match = _DATE_LINE.match(line.strip())
        if not match:
            continue
        spans = [s for s in find_date_spans(match[1]) if s.precision == "day"]
        if spans and len(spans[0].text) >= len(match[1].strip()) - 12:
            return spans[0].start
    return None


def _title(soup: BeautifulSoup) -> str | None:
    for tag in (soup.find("meta", property="og:title"), soup.find("h1"), soup.find("title")):
        if isinstance(tag, Tag):
            text = str(tag.get("content")) if tag.name == "meta" else tag.get_text(" ")
            text = _clean_line(text)
            if text:
                return text
    return None


def _is_noise(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if str(tag.get("role") or "").lower() in _NOISE_ROLES:
        return True
    if tag.name == "header" and tag.find_parent("article") is None:
        return True
    hints = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
    return bool(hints) and bool(_NOISE_HINT.search(hints)) and not _MAIN_HINT.search(hints)


def _drop_noise(root: Tag) -> None:
    for tag in root.find_all(_NOISE_TAGS):
        tag.decompose()
    for tag in root.find_all(True):
        if not tag.decomposed and _is_noise(tag):
            tag.decompose()


def _main_root(soup: BeautifulSoup) -> Tag:
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text()))
    for found in (
        soup.find("main"),
        soup.find(role="main"),
        soup.find(class_=_MAIN_HINT),
        soup.find(id=_MAIN_HINT),
    ):
        if isinstance(found, Tag):
            return found
    return soup.body if isinstance(soup.body, Tag) else soup


def _lines(root: Tag) -> list[str]:
    # Line breaks in the HTML source are layout only; a sentinel marks the real block breaks.
    for tag in root.find_all(_BLOCKS):
        prefix = "- " if tag.name == "li" else ""
        tag.insert_before(NavigableString(_BREAK + prefix))
        tag.insert_after(NavigableString(_BREAK))
    for br in root.find_all("br"):
        br.replace_with(NavigableString(_BREAK))
    lines = [_clean_line(chunk) for chunk in root.get_text().split(_BREAK)]
    return [line for line in lines if line and line != "-" and not is_boilerplate_line(line)]


def article_text(html: bytes | str, url: str | None = None) -> ArticleText:
    """Title, main text (one block per line) and publication date of an HTML story page."""
    soup = BeautifulSoup(html, "lxml")
    title = _title(soup)
    published = _date_from_json_ld(soup) or _date_from_meta(soup)
    root = _main_root(soup)
    published = published or _date_from_time(root)
    _drop_noise(root)
    lines = _lines(root)
    if lines and title and lines[0] == title:
        lines = lines[1:]
    published = published or date_near_title(lines)
    logger.debug("article text url=%s lines=%d published=%s", url, len(lines), published)
    return ArticleText(title=title, text="\n".join(lines), published=published)


def plain_text_article(text: str) -> ArticleText:
    """The same for plain text: furniture lines dropped, a short first line taken as the title."""
    lines = [_clean_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line and not is_boilerplate_line(line)]
    title: str | None = None
    if len(lines) > 1 and len(lines[0]) <= 150 and not lines[0].endswith((".", ":", ",")):
        title, lines = lines[0], lines[1:]
    published = date_near_title(lines)
    return ArticleText(title=title, text="\n".join(lines), published=published)
