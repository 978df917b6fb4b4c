"""Run every source's spider in one child process under a hard deadline, and read back what it got.

The parent never imports Scrapy. The child appends each response body to one spool file and a
JSON line (with the body's offset) per response or failure as it goes, so whatever was fetched
before a kill is kept. The parent reads the lines, then loads bodies one at a time: a pass over
2,000 pages never holds them all in memory.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

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
FORK_CRAWLS = hasattr(os, "fork")  # crawls are forked by crawler/zygote.py where possible


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


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The child must import this package even when it is not installed (a plain checkout).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
    return env


class _Child(Protocol):
    """A running crawl process, however it was started."""

    @property
    def pid(self) -> int: ...

    def finished_within(self, seconds: float | None) -> bool: ...

    def exit_code(self) -> int | None: ...


class _SpawnedChild:
    """A fresh interpreter: pays for importing Scrapy on every crawl."""

    def __init__(self, proc: subprocess.Popen[bytes]):
        self.proc = proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    def finished_within(self, seconds: float | None) -> bool:
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_code(self) -> int | None:
        return self.proc.poll()


class _ForkedChild:
    """A crawl forked by the launcher (crawler/zygote.py), which imported Scrapy once: a
    long-running `serve`, or a test session, pays for the import once rather than every pass."""

    def __init__(self, launcher: _Launcher, pid: int):
        self.launcher, self._pid = launcher, pid
        self._exit: int | None = None

    @property
    def pid(self) -> int:
        return self._pid

    def finished_within(self, seconds: float | None) -> bool:
        if self._exit is None:
            self._exit = self.launcher.exit_code(seconds)
        return self._exit is not None

    def exit_code(self) -> int | None:
        return self._exit


class _Launcher:
    """The parent's side of crawler/zygote.py: started on first use, restarted if it died."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self._buffer = b""

    def close(self) -> None:
        """Close the pipes; the launcher leaves when it sees its input end."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        try:
            proc.wait(KILL_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self.proc is not None and self.proc.poll() is not None:
            self.close()
        if self.proc is None:
            self._buffer = b""
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.zygote"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=_child_env(),
            )
        return self.proc

    def fork(self, job_path: Path, outdir: Path, log_path: Path) -> _ForkedChild:
        """Start one crawl; the caller holds `lock` until it has the crawl's exit code."""
        proc = self._ensure()
        request = {"job": str(job_path), "out": str(outdir), "log": str(log_path)}
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(request) + "\n").encode())
        proc.stdin.flush()
        answer = self._line(None)
        if answer is None or "pid" not in answer:
            raise OSError("the crawl launcher did not start the crawl")
        return _ForkedChild(self, int(answer["pid"]))

    def exit_code(self, seconds: float | None) -> int | None:
        """The running crawl's exit code once it ends within `seconds`; None if still running."""
        answer = self._line(seconds)
        if answer is None:
            return None if self.proc and self.proc.poll() is None else -1
        return int(answer["exit"])

    def _line(self, seconds: float | None) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ends = None if seconds is None else time.monotonic() + seconds
        while b"\n" not in self._buffer:
            left = None if ends is None else max(0.0, ends - time.monotonic())
            ready, _, _ = select.select([fd], [], [], left)
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                return None  # timed out, or the launcher is gone
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        data: dict[str, Any] = json.loads(line)
        return data


_LAUNCHER = _Launcher()
atexit.register(_LAUNCHER.close)


def _signal_child(child: _Child, sig: signal.Signals) -> None:
    # The pid as well as its group: a forked child may not have made its group yet.
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(child.pid, sig)


def _stop(child: _Child) -> None:
    _signal_child(child, signal.SIGTERM)
    if not child.finished_within(KILL_GRACE):
        _signal_child(child, signal.SIGKILL)
        child.finished_within(None)


def _spawn_child(job_path: Path, outdir: Path, log_path: Path) -> _Child:
    command = [sys.executable, "-m", "crawler.crawl", str(job_path), str(outdir)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=_child_env(),
            start_new_session=True,  # its own process group, so a kill reaches every descendant
        )
    return _SpawnedChild(proc)


def _fork_child(job_path: Path, outdir: Path, log_path: Path) -> _Child:
    return _LAUNCHER.fork(job_path, outdir, log_path)


def _start_child(job_path: Path, outdir: Path, log_path: Path) -> _Child:
    start = _fork_child if FORK_CRAWLS else _spawn_child
    try:
        return start(job_path, outdir, log_path)
    except (OSError, ValueError) as exc:
        raise FetchError(f"could not start the crawl process: {exc}") from exc


def _run_child(
    job_path: Path, outdir: Path, deadline: float, log_path: Path
) -> tuple[bool, int | None]:
    """Run the child: (whether it was stopped at the deadline, its exit code)."""
    # The launcher runs one crawl at a time and its answers are read in order.
    with _LAUNCHER.lock if FORK_CRAWLS else contextlib.nullcontext():
        return _wait_child(_start_child(job_path, outdir, log_path), deadline)


def _wait_child(child: _Child, deadline: float) -> tuple[bool, int | None]:
    try:
        if not child.finished_within(deadline):
            logger.warning("crawl deadline reached deadline=%.1fs pid=%d", deadline, child.pid)
            _stop(child)
            return True, None
    finally:
        if child.exit_code() is None:
            _stop(child)  # an exception (Ctrl-C) in the parent must not leave the child running
    code = child.exit_code()
    if code != 0:
        logger.warning("crawl child failed returncode=%s", code)
    return False, code


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
        killed, code = _run_child(job_path, outdir, job.deadline, log_path)
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
