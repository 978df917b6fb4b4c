"""Run-health rules for each source, after Spidermon's monitors: small declarative checks that
catch the silent zero (a page that still answers but no longer shows anything) and silence."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crawler.errors import ParseError
from crawler.parsers.feed import parse_feed
from crawler.parsers.listing import article_links
from crawler.parsers.provider_page import parse_provider_page, search_results
from crawler.records import FetchedPage
from crawler.sources import SourceConfig
from db.pages import item_span
from db.runs import usual_entries

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


def _feed_entries(page: FetchedPage) -> int:
    try:
        return len(parse_feed(page.body, page.url))
    except ParseError:
        return 0


ENTRY_COUNTERS: dict[str, Callable[[FetchedPage], int]] = {
    "listing": lambda page: len(article_links(page.body, page.url)),
    "feed": _feed_entries,
    "provider_page": lambda page: len(parse_provider_page(page.body, page.url)),
    "search": lambda page: len(search_results(page.body, page.url)[0]),
}


def entry_count(page: FetchedPage) -> int | None:
    """How many items an entry page lists (as the spider counted them, or read now); None for
    pages that list nothing by design, such as articles."""
    if page.role not in ENTRY_COUNTERS:
        return None
    counted = page.meta_value("entries")
    return int(counted) if counted and counted.isdigit() else ENTRY_COUNTERS[page.role](page)


@dataclass(frozen=True)
class Check:
    """One rule: what it looks at, and the problem it reports (None when healthy)."""

    name: str
    problem: Callable[[Session, SourceConfig, int | None, datetime], str | None]


def _zero_entries(
    session: Session, source: SourceConfig, entries: int | None, now: datetime
) -> str | None:
    if entries != 0:
        return None
    usual = usual_entries(session, source.name)
    history = f" where the last passes averaged {usual:.0f}" if usual else ""
    return f"the source's pages list no items{history} (has the layout changed?)"


def _silence(
    session: Session, source: SourceConfig, entries: int | None, now: datetime
) -> str | None:
    if not source.silence_days:
        return None
    oldest, newest = item_span(session, source.name)
    limit = now - timedelta(days=source.silence_days)
    if oldest is None or oldest > limit or (newest is not None and newest > limit):
        return None
    return f"no new item for {source.silence_days} days"


CHECKS = (Check("zero entries", _zero_entries), Check("silence", _silence))


def problems(
    session: Session, source: SourceConfig, entries: int | None, now: datetime
) -> list[str]:
    """Every problem the checks find with one source after a pass."""
    found = [check.problem(session, source, entries, now) for check in CHECKS]
    for text in filter(None, found):
        logger.warning("source check failed source=%s problem=%s", source.name, text)
    return [text for text in found if text]
