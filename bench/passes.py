"""Crawl-level benchmark: whole passes over the standard workload, against a plain Scrapy floor.

    python -m bench.passes [ROUNDS]

Serves generation 1 of `bench.workload` from a SiteServer in its own process (so the 160 MB of
pages it holds count neither in our CPU nor in our peak RSS), then, ROUNDS times (default 3):
  (a) floor: a plain Scrapy spider in a subprocess fetching the same 2,000 article URLs;
  (b) cold: a pass on an empty SQLite database (one `news` source per site listing);
  (c) unchanged: a second pass on the same database, nothing changed.
Then (d) switches the server to generation 2 and runs one pass on the last database, checking
every new outcome of the ground truth was stored. CPU is user+sys of this process plus its
children (getrusage deltas); everything runs on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.workload import ARTICLES, FIRST_DAY, generate

ROUNDS = 3
MAX_ARTICLES = 60
RSS_TARGET_MB = 160.0
OFSTED_COUNCILS = 10  # councils the `ofsted` source watches: provider pages and report PDFs
HISTORY_FACTOR = 10
# The passes' clock, set by the workload's dates: the newest article is a day old at GEN1_NOW, and
# generation 2 comes a day later, when the two newest of each site are young enough (recheck_days,
# by their own date) to be re-read for edits.
GEN1_NOW = datetime.combine(FIRST_DAY + timedelta(days=ARTICLES), datetime.min.time()) + timedelta(
    hours=9
)
GEN2_NOW = GEN1_NOW + timedelta(days=1)
FLOOR_CONCURRENCY = 16


@dataclass
class Sample:
    cpu: float  # user+sys seconds, this process and its children
    wall: float
    pages: int = 0
    outcomes: int = 0
    errors: int = 0


class ChildMemory:
    """Peak resident memory (VmHWM) of this process's children, sampled while a phase runs.

    getrusage(RUSAGE_CHILDREN).ru_maxrss is not used for the children: on Linux a child's figure
    starts from its parent's RSS at fork time, so it reports this process, not the crawl.
    """

    def __init__(self, ignore: int):
        self.ignore, self.phase = ignore, ""
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _children(self) -> list[int]:
        # A pass run in a subprocess reports its own peak; this samples the crawl's processes.
        return [pid for pid in descendants(os.getpid(), self.ignore) if not _is_pass(pid)]

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            if not self.phase:
                continue
            for pid in self._children():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    kb = int(status.split("VmHWM:")[1].split()[0])
                    self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), kb / 1024)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


MEMORY: ChildMemory | None = None
SERVER_PID = -1


def _children_of(pid: int) -> list[int]:
    pids = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _is_pass(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return b"--pass" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return False


def descendants(pid: int, ignore: int) -> list[int]:
    """Every live process below `pid` (the crawl's fork server and its crawls), less `ignore`."""
    found, todo = [], [c for c in _children_of(pid) if c != ignore]
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children_of(child)
    return found


def live_children_cpu(ignore: int) -> float:
    """User+system seconds of this process's live children, with the children they have reaped.

    Crawls are forked from a fork server, so they are its children, not ours: their CPU reaches
    our RUSAGE_CHILDREN only when the server exits, but it is in the server's cutime/cstime as
    soon as each crawl ends."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _children_of(os.getpid()):
        if pid == ignore:
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def measure(phase: str, func: Callable[[], tuple[int, int, int]]) -> Sample:
    if MEMORY is not None:
        MEMORY.phase = phase
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    live0 = live_children_cpu(SERVER_PID)
    start = time.perf_counter()
    pages, outcomes, errors = func()
    wall = time.perf_counter() - start
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    live1 = live_children_cpu(SERVER_PID)
    if MEMORY is not None:
        MEMORY.phase = ""
    cpu = sum(
        getattr(b, f) - getattr(a, f)
        for a, b in ((self0, self1), (kids0, kids1))
        for f in ("ru_utime", "ru_stime")
    )
    cpu += max(0.0, live1 - live0)
    return Sample(cpu, wall, pages, outcomes, errors)


# --- the server, in its own process ------------------------------------------------------------


def _serve(conn: Any, seed: int) -> None:
    from scheduler.demo.sites import SiteServer

    site = SiteServer()
    generations = {
        name: generate(n, seed, site.url).routes for n, name in ((1, "gen1"), (2, "gen2"))
    }
    site.routes = generations["gen1"]
    site.start()
    conn.send(site.url)
    while True:
        command = conn.recv()
        if command == "stop":
            break
        with site._lock:
            site.routes = generations.get(command, site.routes)
            site.requests.clear()  # the request log would otherwise grow by 2,000 rows a pass
        conn.send("ok")
    site.stop()
    conn.send("stopped")


class Server:
    def __init__(self, seed: int):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, seed), daemon=True)
        self.process.start()
        self.url: str = self.conn.recv()

    def command(self, name: str) -> None:
        self.conn.send(name)
        self.conn.recv()

    def stop(self) -> None:
        self.command("stop")
        self.process.join(10)


# --- the floor: a plain Scrapy spider ------------------------------------------------------------


def floor_child(urls_path: str) -> None:
    """Run in a subprocess: fetch every URL once with stock Scrapy, keep and parse nothing.

    One crawler with 16 requests in flight: the fastest plain Scrapy gets through these pages
    here, so the floor is what fetching alone costs, not time spent waiting.
    """
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls: list[str] = json.loads(Path(urls_path).read_text("utf-8"))

    class FloorSpider(scrapy.Spider):
        name = "floor"

        async def start(self) -> Any:
            for url in urls:
                yield scrapy.Request(url, callback=self.parse)

        def parse(self, response: Any) -> None:
            return None

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS": FLOOR_CONCURRENCY,
            "CONCURRENT_REQUESTS_PER_DOMAIN": FLOOR_CONCURRENCY,
            "DOWNLOAD_DELAY": 0,
            "RETRY_ENABLED": False,
        }
    )
    process.crawl(FloorSpider)
    process.start()


def run_floor(urls_path: Path) -> tuple[int, int, int]:
    subprocess.run(
        [sys.executable, "-m", "bench.passes", "--floor", str(urls_path)],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return 0, 0, 0


# --- passes ---------------------------------------------------------------------------------------


def ofsted_councils(truth: dict[str, Any]) -> list[str]:
    """Names of the councils the benchmark's `ofsted` source watches."""
    from crawler.authorities import AuthorityRegistry

    registry = AuthorityRegistry.load()
    found = [registry.by_ons(code) for code in sorted({t.ons_code for t in truth.values()})]
    return [a.name for a in found if a is not None and a.ofsted_urn][:OFSTED_COUNCILS]


def write_config(work: Path, name: str, url: str, listings: list[str], councils: list[str]) -> Path:
    lines = [
        f'[database]\nurl = "sqlite:///{work / (name + ".db")}"',
        f'[crawl]\ndelay = 0\ndeadline = 1800\ncache_dir = "{work / (name + "-cache")}"',
        f'[[source]]\nname = "ofsted"\nkind = "ofsted"\nurl = "{url}"\n'
        f"authorities = {json.dumps(councils)}",
    ]
    for n, listing in enumerate(listings):
        lines.append(
            f'[[source]]\nname = "site{n:02d}"\nkind = "news"\nurl = "{url}{listing}"\n'
            f"max_articles = {MAX_ARTICLES}"
        )
    path = work / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def one_pass(config: Any, database: Any, now: datetime) -> tuple[int, int, int]:
    from scheduler.run import run_pass

    report = run_pass(config, all_sources=True, database=database, now=now)
    pages = sum(s.pages for s in report.sources)
    outcomes = sum(s.outcomes for s in report.sources)
    errors = sum(len(s.errors) for s in report.sources)
    for source in report.sources:
        for error in source.errors[:2]:
            print(f"  source error: {source.name}: {error}", flush=True)
    return pages, outcomes, errors


def fetched_urls(database: Any) -> list[str]:
    """Every URL the cold pass stored: what the floor fetches."""
    from db.models import PageRow

    with database.transaction() as session:
        return sorted(session.scalars(select(PageRow.url)))


def found_outcomes(database: Any, url: str, truth: dict[str, Any]) -> int:
    """How many (article URL, council, overall grade) of `truth` the database holds."""
    from db.models import InspectionEventRow, ObservationRow

    with database.transaction() as session:
        rows = session.execute(
            select(ObservationRow.page_url, InspectionEventRow.authority_code)
            .add_columns(InspectionEventRow.overall)
            .join(InspectionEventRow, ObservationRow.event_id == InspectionEventRow.id)
        ).all()
    stored = {(page, code, overall) for page, code, overall in rows}
    return sum((url + path, t.ons_code, t.overall) in stored for path, t in truth.items())


def pass_child(config_path: str, now: str) -> None:
    """Run in a subprocess: one pass, then this process's peak RSS as a JSON line."""
    from scheduler.config import load_config
    from scheduler.run import run_pass

    run_pass(load_config(Path(config_path), {}), all_sources=True, now=datetime.fromisoformat(now))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": peak}), flush=True)


def pass_in_subprocess(config_path: Path, now: datetime) -> float:
    """Peak RSS in MB of a fresh process running one pass (the crawl's peak is sampled apart)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.passes", "--pass", str(config_path), now.isoformat()],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_mb"])


# --- report ---------------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}  ({min(values):.2f}-{max(values):.2f})"


def self_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    found: list[tuple[int, int]] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)
    history: dict[str, int] = field(default_factory=dict)
    urlwatch_note: str = ""

    def add(self, name: str, sample: Sample) -> None:
        self.samples.setdefault(name, []).append(sample)


class Bench:
    """The whole run: one server, ROUNDS rounds of passes and the floor, urlwatch, memory."""

    def __init__(self, rounds: int):
        self.rounds, self.began = rounds, time.perf_counter()
        self.gen1, self.gen2 = generate(1, bodies=False), generate(2, bodies=False)
        self.new_truth = {p: t for p, t in self.gen2.truth.items() if p not in self.gen1.truth}
        self.work = Path(tempfile.mkdtemp(prefix="ofsted-watch-passes-"))
        self.councils = ofsted_councils(self.gen1.truth)
        self.results = Results()
        self.server: Server | None = None

    def log(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.began:5.0f} s] {text}", flush=True)

    def config(self, name: str) -> tuple[Any, Path]:
        from scheduler.config import load_config

        assert self.server is not None
        path = write_config(self.work, name, self.server.url, self.gen1.listings, self.councils)
        return load_config(path, {}), path

    def round(self, n: int) -> None:
        from db.engine import Database

        assert self.server is not None
        self.server.command("gen1")
        config, _ = self.config(f"r{n}")
        with Database.open(config.database_url) as database:
            for phase, now in (("cold", GEN1_NOW), ("unchanged", GEN1_NOW + timedelta(hours=1))):
                self.results.add(phase, measure(phase, partial(one_pass, config, database, now)))
                self.server.command("gen1")
            urls = fetched_urls(database)
            self.server.command("gen2")
            self.results.add("gen2", measure("gen2", lambda: one_pass(config, database, GEN2_NOW)))
            found = found_outcomes(database, self.server.url, self.new_truth)
            self.results.found.append((found, len(self.new_truth)))
        self.server.command("gen1")
        urls_path = self.work / "urls.json"
        urls_path.write_text(json.dumps(urls), "utf-8")
        self.results.add("floor", measure("floor", lambda: run_floor(urls_path)))
        self.floor_urls = len(urls)
        self.log(f"round {n + 1}/{self.rounds} done")

    def urlwatch(self) -> None:
        from bench.urlwatch_peer import DEFAULT_VENV, ensure_urlwatch, measure_urlwatch

        assert self.server is not None
        self.server.command("gen1")
        urls = [self.server.url + p for p in self.gen1.articles]
        try:
            ensure_urlwatch(DEFAULT_VENV)
            cycles = measure_urlwatch(urls, self.work / "urlwatch", DEFAULT_VENV, self.rounds)
        except RuntimeError as exc:
            self.results.urlwatch_note = f"urlwatch not measured: {exc}"
            self.log(self.results.urlwatch_note)
            return
        for name, rows in (
            ("urlwatch first", cycles["first"]),
            ("urlwatch recheck", cycles["recheck"]),
        ):
            for row in rows:
                self.results.add(name, Sample(row.cpu, row.wall, row.jobs, 0, row.errors))
        self.log("urlwatch done")

    def memory(self) -> None:
        """Peak RSS of a fresh pass process: cold at 2,000 URLs, then unchanged passes over the
        stored history as it is and grown tenfold."""
        from bench.history import inflate

        assert self.server is not None and MEMORY is not None
        self.server.command("gen1")
        _, path = self.config("mem")
        peaks = self.results.memory
        for name, now in (("cold", GEN1_NOW), ("history x1", GEN1_NOW + timedelta(hours=1))):
            MEMORY.phase = f"mem {name}"
            peaks[f"pass, {name}"] = pass_in_subprocess(path, now)
            MEMORY.phase = ""
        self.results.history = inflate(f"sqlite:///{self.work / 'mem.db'}", HISTORY_FACTOR)
        MEMORY.phase = "mem history x10"
        peaks["pass, history x10"] = pass_in_subprocess(path, GEN1_NOW + timedelta(hours=2))
        MEMORY.phase = ""
        for name in ("cold", "history x1", "history x10"):
            peaks[f"crawl, {name}"] = MEMORY.peaks.get(f"mem {name}", 0.0)
        self.log("memory done")

    def run(self) -> Results:
        global MEMORY, SERVER_PID
        self.server = Server(seed=1)
        SERVER_PID = self.server.process.pid or -1
        MEMORY = ChildMemory(ignore=SERVER_PID)
        self.log(f"workload served at {self.server.url}; this process {self_rss_mb():.0f} MB")
        try:
            for n in range(self.rounds):
                self.round(n)
            self.urlwatch()
            self.memory()
        finally:
            MEMORY.stop()
            self.server.stop()
            shutil.rmtree(self.work, ignore_errors=True)
        return self.results


def ratio_rows(results: Results) -> list[tuple[str, list[float], float]]:
    """(name, per-round values, target) of every CPU ratio, each taken within one round."""
    s = results.samples

    def by_round(a: str, b: str) -> list[float]:
        return [x.cpu / y.cpu for x, y in zip(s[a], s[b], strict=False)]

    rows = [
        ("cold / floor", by_round("cold", "floor"), 1.5),
        ("unchanged / cold", by_round("unchanged", "cold"), 0.05),
        ("gen2 / cold", by_round("gen2", "cold"), 0.30),
    ]
    if "urlwatch first" in s:
        rows += [
            ("cold / urlwatch first", by_round("cold", "urlwatch first"), 1.3),
            ("unchanged / urlwatch recheck", by_round("unchanged", "urlwatch recheck"), 0.1),
        ]
    return rows


def report(results: Results, rounds: int, floor_urls: int) -> None:
    print(f"\n{'measure':18} {'CPU s median (range)':>24} {'wall s median (range)':>24}  pages")
    for name, rows in results.samples.items():
        pages = "/".join(str(r.pages) for r in rows) if name != "floor" else str(floor_urls)
        cpu, wall = spread([r.cpu for r in rows]), spread([r.wall for r in rows])
        print(f"{name:18} {cpu:>24} {wall:>24}  {pages}")
    print(f"\nCPU ratios within each round ({rounds} rounds): median (range)")
    for name, values, target in ratio_rows(results):
        median = statistics.median(values)
        verdict = "met" if median <= target else "MISSED"
        low, high = min(values), max(values)
        print(f"  {name:30} {median:6.3f}  ({low:.3f}-{high:.3f})  target <= {target}  {verdict}")
    if results.urlwatch_note:
        print(f"  {results.urlwatch_note}")
    found = ", ".join(f"{f}/{e}" for f, e in results.found)
    every = all(f == e for f, e in results.found)
    print(f"  gen2 new outcomes found per round: {found}  {'met' if every else 'MISSED'}")
    report_memory(results)


def report_memory(results: Results) -> None:
    mem, hist = results.memory, results.history
    print(f"\nPeak RSS (MB), each pass in a fresh process; target <= {RSS_TARGET_MB:.0f}, flat:")
    for name in ("cold", "history x1", "history x10"):
        pass_mb, crawl_mb = mem.get(f"pass, {name}", 0.0), mem.get(f"crawl, {name}", 0.0)
        verdict = "met" if max(pass_mb, crawl_mb) <= RSS_TARGET_MB else "MISSED"
        print(
            f"  {name:12} pass process {pass_mb:6.0f}   crawl processes {crawl_mb:6.0f}  {verdict}"
        )
    if hist:
        grown = mem.get("pass, history x10", 0.0) / max(mem.get("pass, history x1", 1.0), 1.0)
        print(
            f"  history x10 = {hist['pages']} pages, {hist['events']} events, {hist['runs']} runs;"
            f" pass peak x10 / x1 = {grown:.2f}"
        )


def main(rounds: int) -> None:
    bench = Bench(rounds)
    results = bench.run()
    report(results, rounds, getattr(bench, "floor_urls", 0))
    print(f"total {time.perf_counter() - bench.began:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        floor_child(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "--pass":
        pass_child(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
