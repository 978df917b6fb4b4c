"""Pure reader of RSS 2.0, RSS 1.0 and Atom feeds into FeedEntry records.

XML is parsed with entities, DTDs and network access all switched off. Real feeds are often not
well-formed (a bare '&', an HTML '&nbsp;', white space before the XML declaration, Latin-1 bytes
labelled UTF-8): such a feed is repaired and read with lxml's recovery, and only a feed that
still yields no feed document is an error.
"""

from __future__ import annotations

import html.entities
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from lxml import etree

from crawler.errors import ParseError

logger = logging.getLogger(__name__)

_SNIFF = re.compile(rb"<(rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
_FEED_ROOTS = {"rss", "feed", "RDF"}


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: where the article is, its title, when and what it says in brief."""

    url: str
    title: str
    published: date | None
    summary: str


def looks_like_feed(data: bytes) -> bool:
    """Whether the start of `data` is an RSS, RDF or Atom document (a cheap sniff, no parse)."""
    return bool(_SNIFF.search(data[:2048]))


def _parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=recover
    )


_BARE_AMPERSAND = re.compile(rb"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_DECLARED = re.compile(rb"^<\?xml[^>]*?encoding=[\"']([\w.:-]+)[\"']")


def _numeric(match: re.Match[bytes]) -> bytes:
    """An HTML named entity as a numeric reference, which XML reads without a DTD."""
    name = match[1]
    if name in _XML_ENTITIES:
        return match[0]
    code = html.entities.name2codepoint.get(name.decode("ascii"))
    return f"&#{code};".encode("ascii") if code else b"&amp;" + name + b";"


def repaired(data: bytes) -> bytes:
    """The feed's bytes as well-formed UTF-8 as cheap repairs can make them."""
    text = data.lstrip(b"\xef\xbb\xbf").lstrip()
    declared = _DECLARED.match(text)
    codec = declared[1].decode("ascii") if declared else "utf-8"
    try:
        decoded = text.decode(codec)
    except (UnicodeDecodeError, LookupError):
        decoded = text.decode("cp1252", errors="replace")  # bytes that are not what they claim
    body = _DECLARATION.sub("", decoded, count=1).encode("utf-8")
    body = _NAMED_ENTITY.sub(_numeric, _BARE_AMPERSAND.sub(b"&amp;", body))
    return b'<?xml version="1.0" encoding="utf-8"?>' + body


def _root(data: bytes, url: str) -> etree._Element:
    try:
        return etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as strict:
        root = etree.fromstring(repaired(data), parser=_parser(recover=True))
        if root is None:
            raise ParseError(
                f"{url}: not well-formed XML, even after repair ({strict})"
            ) from strict
        logger.info("feed repaired url=%s problem=%s", url, strict)
        return root


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _child(node: etree._Element, *names: str) -> etree._Element | None:
    for name in names:
        for child in node:
            if _local(child) == name:
                return child
    return None


def _text(node: etree._Element | None) -> str:
    if node is None:
        return ""
    return " ".join("".join(node.itertext()).split())


def _plain(markup: str) -> str:
    # Titles and summaries often carry escaped HTML; keep only its words.
    if "<" not in markup and "&" not in markup:
        return markup
    return " ".join(BeautifulSoup(markup, "lxml").get_text(" ").split())


def _parse_date(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).date()
    except (TypeError, ValueError, IndexError):
        logger.debug("feed date unreadable value=%r", raw)
        return None


def _atom_link(entry: etree._Element) -> str:
    links = [c for c in entry if _local(c) == "link" and c.get("href")]
    for link in links:
        if link.get("rel", "alternate") == "alternate":
            return str(link.get("href"))
    return str(links[0].get("href")) if links else ""


def _entry(node: etree._Element, feed_url: str) -> FeedEntry | None:
    atom = _local(node) == "entry"
    link = _atom_link(node) if atom else _text(_child(node, "link"))
    if not link:
        guid = _child(node, "guid")
        link = _text(guid) if guid is not None and guid.get("isPermaLink") != "false" else ""
    if not link:
        return None
    published = _child(node, "published", "updated") if atom else _child(node, "pubDate", "date")
    summary = _child(node, "summary", "content") if atom else _child(node, "description")
    return FeedEntry(
        url=urljoin(feed_url, link),
        title=_plain(_text(_child(node, "title"))),
        published=_parse_date(_text(published)),
        summary=_plain(_text(summary)),
    )


def parse_feed(data: bytes, url: str) -> list[FeedEntry]:
    """The entries of an RSS or Atom feed, in feed order. Raises ParseError for anything else."""
    root = _root(data, url)
    if _local(root) not in _FEED_ROOTS:
        raise ParseError(f"{url}: not an RSS or Atom feed (root element <{_local(root)}>)")
    nodes = [n for n in root.iter() if _local(n) in ("item", "entry")]
    entries = [e for e in (_entry(n, url) for n in nodes) if e is not None]
    logger.debug("feed url=%s entries=%d", url, len(entries))
    return entries
