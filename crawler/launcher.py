"""Run one crawl in a child process under a hard deadline, and hand back what it fetched.

The parent never imports Scrapy: the child is forked by the launcher (crawler/zygote.py, which
imported Scrapy once) or, where there is no fork, spawned as `python -m crawler.child`. A child
that overruns the deadline gets SIGTERM, then SIGKILL, to its whole process group.
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
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Protocol

from crawler.errors import FetchError
from crawler.records import FetchedPage
from crawler.sources import SOURCE_KINDS, SourceConfig
from crawler.spool import (
    BODIES_FILE,
    CrawlFailure,
    CrawlJob,
    CrawlResult,
    PageEntry,
    read_output,
    unknown_kind,
)

logger = logging.getLogger(__name__)

CRAWLABLE_KINDS = tuple(SOURCE_KINDS)
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
FORK_CRAWLS = hasattr(os, "fork")  # crawls are forked by crawler/zygote.py where possible


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
    command = [sys.executable, "-m", "crawler.child", str(job_path), str(outdir)]
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
    unknown = [unknown_kind(s) for s in job.sources if s.kind not in CRAWLABLE_KINDS]
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
