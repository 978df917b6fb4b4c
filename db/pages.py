"""The page table: every page a source has fetched, its content hash, its date and its last error.

A page that parsed is not fetched again unless it is a young article due for an edit re-check; a
page whose parser failed is read again every pass, so its source stays failing until it reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import PageRow

RECHECK_AFTER = timedelta(hours=12)
BATCH = 500  # URLs per IN (...) list, well inside every database's parameter limit


@dataclass(frozen=True)
class SeenPage:
    """A page read in this pass: unchanged (only its fetch time is written), or read anew."""

    url: str
    role: str
    digest: str
    changed: bool
    published: date | None = None
    outcomes: int = 0


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def known_urls(session: Session, recheck: Mapping[str, timedelta], now: datetime) -> set[str]:
    """Stored articles and reports of these sources (name -> re-check window), less young
    articles due for an edit re-check and pages that failed to parse."""
    # Columns, not ORM rows: a long history means tens of thousands of pages.
    rows = session.execute(
        select(
            PageRow.url,
            PageRow.source,
            PageRow.role,
            PageRow.first_seen,
            PageRow.last_fetched,
            PageRow.published,
        ).where(
            PageRow.source.in_(list(recheck)),
            PageRow.role.in_(["article", "report"]),
            PageRow.parse_error.is_(None),
        )
    )
    return {
        url
        for url, source, role, first_seen, last_fetched, published in rows
        if not due_recheck(role, first_seen, last_fetched, published, now, recheck[source])
    }


def due_recheck(
    role: str,
    first_seen: datetime,
    last_fetched: datetime,
    published: date | None,
    now: datetime,
    window: timedelta,
) -> bool:
    """An article young enough to be re-read for edits, last read at least 12 hours ago.

    Young is by the article's own date when it has one: a first pass over a listing's back
    catalogue must not re-fetch months-old stories twice a day."""
    if role != "article" or now - last_fetched < RECHECK_AFTER:
        return False
    if published is not None:
        return now.date() - published < window
    return now - first_seen < window


def known_hashes(session: Session, urls: Sequence[str]) -> dict[str, str]:
    """Stored hashes of the pages that parsed; a page with a parse error is read again."""
    known: dict[str, str] = {}
    for chunk in chunks(urls):
        rows = session.execute(
            select(PageRow.url, PageRow.content_hash).where(
                PageRow.url.in_(chunk), PageRow.parse_error.is_(None)
            )
        )
        known.update({url: digest for url, digest in rows if digest})
    return known


def write_seen(session: Session, source: str, seen: Sequence[SeenPage], now: datetime) -> None:
    """One batch for a source's quiet pages: fetch times of unchanged ones, rows of changed ones."""
    unchanged = [s.url for s in seen if not s.changed]
    for chunk in chunks(unchanged):
        session.execute(update(PageRow).where(PageRow.url.in_(chunk)).values(last_fetched=now))
    changed = {s.url: s for s in seen if s.changed}
    rows: dict[str, PageRow] = {}
    for chunk in chunks(list(changed)):
        rows.update(
            {r.url: r for r in session.scalars(select(PageRow).where(PageRow.url.in_(chunk)))}
        )
    for url, item in changed.items():
        _save(session, rows.get(url), source, item, now)


def save_page(session: Session, source: str, seen: SeenPage, now: datetime) -> None:
    """The row of one page read with outcomes, written with its history."""
    row = session.scalar(select(PageRow).where(PageRow.url == seen.url))
    _save(session, row, source, seen, now)


def _save(
    session: Session, row: PageRow | None, source: str, seen: SeenPage, now: datetime
) -> None:
    if row is None:
        row = PageRow(url=seen.url, first_seen=now, last_changed=now)
        session.add(row)
    if row.content_hash != seen.digest:
        row.last_changed = now
    row.source, row.role, row.content_hash = source, seen.role, seen.digest
    row.last_fetched, row.parse_error, row.outcome_count = now, None, seen.outcomes
    row.published = seen.published or row.published


def remember_error(
    session: Session, source: str, url: str, role: str, body: bytes, now: datetime, error: str
) -> None:
    """Keep the failed page known (so it is not refetched every pass) with its error."""
    row = session.scalar(select(PageRow).where(PageRow.url == url))
    if row is None:
        row = PageRow(url=url, first_seen=now, last_changed=now, last_fetched=now)
        session.add(row)
    row.source, row.role, row.parse_error = source, role, error[:2000]
    row.content_hash = hashlib.sha256(body).hexdigest()
    row.last_fetched = now


def item_span(session: Session, source: str) -> tuple[datetime | None, datetime | None]:
    """When the source's first page was seen, and its newest article or report."""
    newest = session.scalar(
        select(func.max(PageRow.first_seen)).where(
            PageRow.source == source, PageRow.role.in_(["article", "report"])
        )
    )
    oldest = session.scalar(select(func.min(PageRow.first_seen)).where(PageRow.source == source))
    return oldest, newest
