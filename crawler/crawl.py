"""Run every source's spider in one child process under a hard deadline, and read back what it got.

The parent never imports Scrapy. The child appends each response body to one spool file and a
JSON line (with the body's offset) per response or failure as it goes, so whatever was fetched
before a kill is kept. The parent reads the lines, then loads bodies one at a time: a pass over
2,000 pages never holds them all in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from crawler.errors import FetchError
from crawler.records import FetchedPage
from crawler.sources import SourceConfig

logger = logging.getLogger(__name__)

CRAWLABLE_KINDS = ("ofsted", "news", "feed")
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
PAGES_FILE = "pages.jsonl"
BODIES_FILE = "bodies.bin"
FAILURES_FILE = "failures.jsonl"
STATS_FILE = "stats.jsonl"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


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
        row = {**asdict(page), "body": None, "offset": offset, "length": len(page.body)}
        row["fetched_at"] = page.fetched_at.isoformat() if page.fetched_at else None
        row["meta"] = dict(page.meta)
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


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import this package even when it is not installed (a plain checkout).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
    return env


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have finished in the meantime
        os.killpg(proc.pid, sig)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(KILL_GRACE)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _start_child(job_path: Path, outdir: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "crawler.crawl", str(job_path), str(outdir)]
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=_child_env(),
            start_new_session=True,  # its own process group, so a kill reaches every descendant
        )
    except OSError as exc:
        raise FetchError(f"could not start the crawl process: {exc}") from exc


def _run_child(
    job_path: Path, outdir: Path, deadline: float, log: IO[bytes]
) -> tuple[bool, int | None]:
    """Run the child: (whether it was stopped at the deadline, its exit code)."""
    proc = _start_child(job_path, outdir, log)
    try:
        proc.wait(deadline)
    except subprocess.TimeoutExpired:
        logger.warning("crawl deadline reached deadline=%.1fs pid=%d", deadline, proc.pid)
        _stop(proc)
        return True, None
    finally:
        if proc.poll() is None:
            _stop(proc)  # an exception (Ctrl-C) in the parent must not leave the child running
    if proc.returncode != 0:
        logger.warning("crawl child failed returncode=%d", proc.returncode)
    return False, proc.returncode


def _unknown_kind(source: SourceConfig) -> CrawlFailure:
    return CrawlFailure(source.name, source.url, f"unknown source kind {source.kind!r}")


def _request_counts(
    job: CrawlJob, pages: list[PageEntry], failures: list[CrawlFailure], stats: dict[str, Any]
) -> dict[str, int]:
    # A killed child writes no stats; then responses plus failures is the best count there is.
    seen = Counter([p.source for p in pages] + [f.source for f in failures])
    return {
        s.name: int(stats[s.name]["requests"]) if s.name in stats else seen[s.name]
        for s in job.sources
        if s.kind in CRAWLABLE_KINDS
    }


def _unfinished(
    sources: tuple[SourceConfig, ...], stats: dict[str, Any], why: str
) -> list[CrawlFailure]:
    # A spider that never reported a normal finish did not fetch all it meant to.
    return [
        CrawlFailure(s.name, s.url, why)
        for s in sources
        if stats.get(s.name, {}).get("reason") != "finished"
    ]


def _child_log_tail(path: Path) -> str:
    text = path.read_text("utf-8", errors="replace") if path.exists() else ""
    return text[-2000:]


class CrawlOutput:
    """A finished crawl whose bodies are still in the spool file; `page()` loads one at a time."""

    def __init__(
        self,
        entries: list[PageEntry],
        failures: list[CrawlFailure],
        timed_out: bool,
        requests: dict[str, int],
        bodies: IO[bytes] | None = None,
    ):
        self.entries, self.failures = tuple(entries), tuple(failures)
        self.timed_out, self.requests = timed_out, requests
        self._bodies = bodies

    @classmethod
    def empty(cls, failures: list[CrawlFailure] | None = None) -> CrawlOutput:
        return cls([], failures or [], False, {})

    def page(self, entry: PageEntry) -> FetchedPage:
        if self._bodies is None or not entry.length:
            return entry.page
        self._bodies.seek(entry.offset)
        return replace(entry.page, body=self._bodies.read(entry.length))

    def pages(self) -> Iterator[FetchedPage]:
        return (self.page(entry) for entry in self.entries)

    def result(self) -> CrawlResult:
        """Everything in memory at once: for small crawls and tests."""
        return CrawlResult(tuple(self.pages()), self.failures, self.timed_out, self.requests)


def run_crawl(job: CrawlJob) -> CrawlResult:
    """Fetch every source of `job` in one child process and return all it got, bodies included."""
    with open_crawl(job) as output:
        return output.result()


@contextlib.contextmanager
def open_crawl(job: CrawlJob) -> Iterator[CrawlOutput]:
    """Fetch every source of `job` in one child process; never longer than about job.deadline.

    The output's bodies stay readable until the block ends. Raises FetchError only when the child
    cannot be started; a source's troubles are failures.
    """
    crawlable = tuple(s for s in job.sources if s.kind in CRAWLABLE_KINDS)
    unknown = [_unknown_kind(s) for s in job.sources if s.kind not in CRAWLABLE_KINDS]
    if not crawlable:
        yield CrawlOutput.empty(unknown)
        return
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ofsted-watch-crawl-") as tmp:
        work = Path(tmp)
        job_path, outdir, log_path = work / "job.json", work / "out", work / "child.log"
        job_path.write_text(json.dumps(job.to_json()), "utf-8")
        with log_path.open("wb") as log:
            killed, code = _run_child(job_path, outdir, job.deadline, log)
        entries, failures, stats = read_output(outdir)
        if code not in (0, None):
            logger.warning("crawl child log tail:\n%s", _child_log_tail(log_path))
        cut_short = killed or any(r.get("reason") == "closespider_timeout" for r in stats.values())
        failures += _end_failures(crawlable, stats, cut_short, code)
        logger.info(
            "crawl done sources=%d pages=%d failures=%d timed_out=%s seconds=%.1f",
            len(crawlable),
            len(entries),
            len(failures) + len(unknown),
            cut_short,
            time.monotonic() - started,
        )
        requests = _request_counts(job, entries, failures, stats)
        with _open_bodies(outdir) as bodies:
            yield CrawlOutput(entries, unknown + failures, cut_short, requests, bodies)


def _end_failures(
    crawlable: tuple[SourceConfig, ...], stats: dict[str, Any], cut_short: bool, code: int | None
) -> list[CrawlFailure]:
    if cut_short:
        return _unfinished(crawlable, stats, "stopped at the crawl deadline before finishing")
    if code != 0:
        return _unfinished(crawlable, stats, f"crawl process failed (exit code {code})")
    return []


@contextlib.contextmanager
def _open_bodies(outdir: Path) -> Iterator[IO[bytes] | None]:
    path = outdir / BODIES_FILE
    if not path.exists():
        yield None
        return
    with path.open("rb") as handle:
        yield handle


def _reader_classes() -> dict[str, type[Any]]:
    # Imported here so that Scrapy (and its reactor) only ever load in the child.
    from crawler.spiders.feed import FeedReader
    from crawler.spiders.news import NewsReader
    from crawler.spiders.ofsted import OfstedReader

    return {"ofsted": OfstedReader, "news": NewsReader, "feed": FeedReader}


def child_main(job_path: str, outdir: str) -> int:
    """The child: one CrawlerProcess running one spider for every source, writing to `outdir`."""
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings
    from crawler.spiders.base import JobSpider

    job = CrawlJob.from_json(json.loads(Path(job_path).read_text("utf-8")))
    writer = PageWriter(outdir)
    kinds = _reader_classes()
    readers = []
    for source in job.sources:
        reader = kinds.get(source.kind)
        if reader is None:
            writer.failure(_unknown_kind(source))
            continue
        readers.append(reader(source, job, writer))
    process = CrawlerProcess(scrapy_settings(job))
    process.crawl(JobSpider, readers=readers, writer=writer)
    process.start()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.argv[2]))
