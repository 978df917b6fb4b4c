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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.workload import generate

ROUNDS = 3
MAX_ARTICLES = 60
RSS_TARGET_MB = 160.0
TARGETS = {"cold/floor": 1.5, "unchanged/cold": 0.05, "gen2/cold": 0.30}


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
        pids = []
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        return [pid for pid in pids if pid != self.ignore]

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


def measure(phase: str, func: Callable[[], tuple[int, int, int]]) -> Sample:
    if MEMORY is not None:
        MEMORY.phase = phase
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    pages, outcomes, errors = func()
    wall = time.perf_counter() - start
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if MEMORY is not None:
        MEMORY.phase = ""
    cpu = sum(
        getattr(b, f) - getattr(a, f)
        for a, b in ((self0, self1), (kids0, kids1))
        for f in ("ru_utime", "ru_stime")
    )
    return Sample(cpu, wall, pages, outcomes, errors)


# --- the server, in its own process ------------------------------------------------------------


def _serve(conn: Any, seed: int) -> None:
    from scheduler.demo.sites import SiteServer

    site = SiteServer()
    site.routes = generate(1, seed, site.url).routes
    site.start()
    conn.send(site.url)
    while True:
        command = conn.recv()
        if command == "stop":
            break
        if command == "gen2":
            routes = generate(2, seed, site.url).routes
            with site._lock:
                site.routes = routes
        with site._lock:
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
    """Run in a subprocess: fetch every URL once with stock Scrapy, parse nothing.

    Like the tool's crawl process, it runs one crawler per site (so the same 2 requests at a time
    per crawler); each crawler only requests its site's article URLs.
    """
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls: list[str] = json.loads(Path(urls_path).read_text("utf-8"))
    by_site: dict[str, list[str]] = {}
    for url in urls:
        by_site.setdefault(url.split("/news/")[0], []).append(url)

    class FloorSpider(scrapy.Spider):
        name = "floor"
        site_urls: tuple[str, ...] = ()

        async def start(self) -> Any:
            # One start request whose callback queues the rest, as the tool's listing does:
            # Scrapy feeds start requests lazily, which would make the floor latency-bound.
            yield scrapy.Request(self.site_urls[0], callback=self.first)

        def first(self, response: Any) -> Any:
            for url in self.site_urls[1:]:
                yield scrapy.Request(url, callback=self.parse)

        def parse(self, response: Any) -> None:
            return None

    process = CrawlerProcess(
        {
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 2,  # as crawler/settings.py
            "DOWNLOAD_DELAY": 0,
            "RETRY_ENABLED": False,
        }
    )
    for site_urls in by_site.values():
        process.crawl(FloorSpider, site_urls=tuple(site_urls))
    process.start()


def run_floor(urls_path: Path) -> tuple[int, int, int]:
    subprocess.run(
        [sys.executable, "-m", "bench.passes", "--floor", str(urls_path)],
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return 0, 0, 0


# --- passes ---------------------------------------------------------------------------------------


def write_config(work: Path, name: str, url: str, listings: list[str]) -> Path:
    lines = [
        f'[database]\nurl = "sqlite:///{work / (name + ".db")}"',
        f'[crawl]\ndelay = 0\ndeadline = 1800\ncache_dir = "{work / (name + "-cache")}"',
    ]
    for n, listing in enumerate(listings):
        lines.append(
            f'[[source]]\nname = "site{n:02d}"\nkind = "news"\nurl = "{url}{listing}"\n'
            f"max_articles = {MAX_ARTICLES}"
        )
    path = work / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def one_pass(config: Any, database: Any) -> tuple[int, int, int]:
    from scheduler.run import run_pass

    report = run_pass(config, all_sources=True, database=database)
    pages = sum(s.pages for s in report.sources)
    outcomes = sum(s.outcomes for s in report.sources)
    errors = sum(len(s.errors) for s in report.sources)
    return pages, outcomes, errors


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


# --- report ---------------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}  ({min(values):.2f}-{max(values):.2f})"


def self_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576


def main(rounds: int) -> None:
    from db.engine import Database
    from scheduler.config import load_config

    global MEMORY
    began = time.perf_counter()
    gen1, gen2 = generate(1, bodies=False), generate(2, bodies=False)
    new_truth = {p: t for p, t in gen2.truth.items() if p not in gen1.truth}
    work = Path(tempfile.mkdtemp(prefix="ofsted-watch-passes-"))
    server = Server(seed=1)
    MEMORY = ChildMemory(ignore=server.process.pid or -1)
    print(
        f"workload served at {server.url} ({time.perf_counter() - began:.1f} s to start);"
        f" this process {self_rss_mb():.0f} MB before the first pass"
    )
    urls_path = work / "urls.json"
    urls_path.write_text(json.dumps([server.url + p for p in gen1.articles]), "utf-8")
    samples: dict[str, list[Sample]] = {"floor": [], "cold": [], "unchanged": []}
    gen2_sample, found = None, 0
    try:
        for n in range(rounds):
            samples["floor"].append(measure("floor", lambda: run_floor(urls_path)))
            config = load_config(write_config(work, f"r{n}", server.url, gen1.listings), {})
            with Database.open(config.database_url) as database:

                def run(database: Any = database, config: Any = config) -> tuple[int, int, int]:
                    return one_pass(config, database)

                samples["cold"].append(measure("cold", run))
                server.command("clear")
                samples["unchanged"].append(measure("unchanged", run))
                server.command("clear")
                if n == rounds - 1:
                    server.command("gen2")
                    gen2_sample = measure("gen2", run)
                    found = found_outcomes(database, server.url, new_truth)
            print(f"round {n + 1}/{rounds} done ({time.perf_counter() - began:.0f} s)", flush=True)
    finally:
        MEMORY.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert gen2_sample is not None
    report(samples, gen2_sample, found, len(new_truth), self_peak, MEMORY.peaks)
    print(f"total {time.perf_counter() - began:.0f} s")


def report(
    samples: dict[str, list[Sample]],
    gen2: Sample,
    found: int,
    expected: int,
    self_peak: float,
    child_peaks: dict[str, float],
) -> None:
    rounds = len(samples["cold"])
    print(f"\n{'measure':14} {'CPU s median (range)':>24} {'wall s median (range)':>24}  pages")
    for name, rows in samples.items():
        pages = "/".join(str(r.pages) for r in rows) if name != "floor" else "2000"
        print(
            f"{name:14} {spread([r.cpu for r in rows]):>24} {spread([r.wall for r in rows]):>24}"
            f"  {pages}"
        )
    print(f"{'gen2 (once)':14} {gen2.cpu:8.2f}{'':16} {gen2.wall:8.2f}{'':16}  {gen2.pages}")
    cold = statistics.median(r.cpu for r in samples["cold"])
    pairs = zip(samples["cold"], samples["floor"], strict=True)
    again = zip(samples["unchanged"], samples["cold"], strict=True)
    ratios = {
        "cold/floor": [c.cpu / f.cpu for c, f in pairs],
        "unchanged/cold": [u.cpu / c.cpu for u, c in again],
        "gen2/cold": [gen2.cpu / cold],
    }
    print(f"\nCPU ratios, per round ({rounds} rounds), median (range):")
    for name, values in ratios.items():
        median, target = statistics.median(values), TARGETS[name]
        verdict = "met" if median <= target else "MISSED"
        print(
            f"  {name:16} {median:6.3f}  ({min(values):.3f}-{max(values):.3f})"
            f"  target <= {target:.2f}  {verdict}"
        )
    errors = sum(r.errors for rows in samples.values() for r in rows) + gen2.errors
    verdict = "met" if found == expected else "MISSED"
    print(f"  gen2 new outcomes found {found}/{expected}  {verdict}")
    crawl_peak = max((v for k, v in child_peaks.items() if k != "floor"), default=0.0)
    peak = max(self_peak, crawl_peak)
    print(
        f"  peak RSS: pass process (this one) {self_peak:.0f} MB, crawl child {crawl_peak:.0f} MB"
        f" (floor child {child_peaks.get('floor', 0.0):.0f} MB); {peak / RSS_TARGET_MB:.2f} of the"
        f" {RSS_TARGET_MB:.0f} MB target  {'met' if peak <= RSS_TARGET_MB else 'MISSED'}"
    )
    print(f"  source errors over all passes: {errors}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        floor_child(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
