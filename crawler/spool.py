"""The spool of one crawl: the job the parent hands the child, and the files the child writes.

The child appends each response body to one file and a JSON line (with the body's offset) per
response or failure as it goes, so whatever was fetched before a kill is kept; the parent reads
the lines, then loads bodies one at a time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from crawler.records import FetchedPage
from crawler.sources import SourceConfig

PAGES_FILE = "pages.jsonl"
BODIES_FILE = "bodies.bin"
FAILURES_FILE = "failures.jsonl"
STATS_FILE = "stats.jsonl"

logger = logging.getLogger(__name__)


def _tupled(row: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in row.items()}


@dataclass(frozen=True)
class CrawlJob:
    """Everything the child needs for one crawl of several sources."""

    sources: tuple[SourceConfig, ...]
    skip_urls: frozenset[str]
    cache_dir: str
    user_agent: str
    delay: float
    timeout: float
    max_bytes: int
    deadline: float
    obey_robots: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = [asdict(s) for s in self.sources]
        data["skip_urls"] = sorted(self.skip_urls)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlJob:
        # JSON turns tuples into lists; SourceConfig is frozen and hashable, so turn them back.
        sources = tuple(SourceConfig(**_tupled(s)) for s in data["sources"])
        return cls(**{**data, "sources": sources, "skip_urls": frozenset(data["skip_urls"])})


@dataclass(frozen=True)
class CrawlFailure:
    """One URL of one source that could not be fetched, with what the server said if anything."""

    source: str
    url: str
    message: str
    status: int | None = None
    retry_after: float | None = None
    kind: str = "fetch"  # a SourceProblem kind: fetch, parse or refused


@dataclass(frozen=True)
class CrawlResult:
    """What one crawl produced: pages, failures, whether the deadline cut it short, requests."""

    pages: tuple[FetchedPage, ...]
    failures: tuple[CrawlFailure, ...]
    timed_out: bool
    requests: dict[str, int] = field(default_factory=dict)

    def pages_for(self, source: str) -> list[FetchedPage]:
        return [p for p in self.pages if p.source == source]


@dataclass(frozen=True)
class PageEntry:
    """A fetched page as listed by the child: everything but the body, and where the body lies."""

    page: FetchedPage  # with an empty body
    offset: int
    length: int

    @property
    def source(self) -> str:
        return self.page.source

    @property
    def role(self) -> str:
        return self.page.role


class PageWriter:
    """The child's side of the hand-over: bodies appended to one file, one flushed line each."""

    def __init__(self, outdir: str | Path):
        self.outdir = Path(outdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}
        self._bodies = (self.outdir / BODIES_FILE).open("ab")

    def _append(self, name: str, row: dict[str, Any]) -> None:
        handle = self._files.get(name)
        if handle is None:
            handle = self._files[name] = (self.outdir / name).open("a", encoding="utf-8")
        handle.write(json.dumps(row, sort_keys=True) + "\n")
        handle.flush()

    def page(self, page: FetchedPage) -> None:
        offset = self._bodies.tell()
        self._bodies.write(page.body)
        # The body is on disk before its line, so a line never points past the end of the file.
        self._bodies.flush()
        row = {
            "source": page.source,
            "source_kind": page.source_kind,
            "role": page.role,
            "url": page.url,
            "status": page.status,
            "content_type": page.content_type,
            "fetched_at": page.fetched_at.isoformat() if page.fetched_at else None,
            "from_cache": page.from_cache,
            "meta": dict(page.meta),
            "offset": offset,
            "length": len(page.body),
        }
        self._append(PAGES_FILE, row)

    def failure(self, failure: CrawlFailure) -> None:
        self._append(FAILURES_FILE, asdict(failure))

    def stats(self, source: str, requests: int, reason: str) -> None:
        self._append(STATS_FILE, {"source": source, "requests": requests, "reason": reason})

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._bodies.close()


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                # A kill can cut the last line short; everything before it is intact.
                logger.warning("crawl output line unreadable file=%s", path.name)


def _entry_from_row(row: dict[str, Any]) -> PageEntry:
    fetched = row.get("fetched_at")
    page = FetchedPage(
        source=row["source"],
        source_kind=row["source_kind"],
        role=row["role"],
        url=row["url"],
        status=int(row["status"]),
        body=b"",
        content_type=row.get("content_type", ""),
        fetched_at=datetime.fromisoformat(fetched) if fetched else None,
        from_cache=bool(row.get("from_cache")),
        meta=tuple(sorted((row.get("meta") or {}).items())),
    )
    return PageEntry(page, int(row["offset"]), int(row["length"]))


def read_output(outdir: str | Path) -> tuple[list[PageEntry], list[CrawlFailure], dict[str, Any]]:
    """Page entries, failures and per-source stats rows that a child wrote to `outdir`."""
    out = Path(outdir)
    bodies = out / BODIES_FILE
    size = bodies.stat().st_size if bodies.exists() else 0
    entries = [_entry_from_row(row) for row in _rows(out / PAGES_FILE)]
    complete = [e for e in entries if e.offset + e.length <= size]
    failures = [CrawlFailure(**row) for row in _rows(out / FAILURES_FILE)]
    stats = {row["source"]: row for row in _rows(out / STATS_FILE)}
    return complete, failures, stats


def unknown_kind(source: SourceConfig) -> CrawlFailure:
    return CrawlFailure(source.name, source.url, f"unknown source kind {source.kind!r}")
