"""Memory of one long-running process over many passes: the `serve` job, run back to back.

Prints resident memory after warm-up and at the end, and the growth against the 20 MB target.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from crawler import launcher as crawl
from db.engine import Database
from scheduler.config import load_config
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer
from scheduler.run import run_pass

TARGET_MB = 20.0
WARM_UP = 10


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1_048_576


def launcher_mb() -> float:
    """Resident memory of the crawl launcher, which lives as long as the serving process."""
    proc = crawl._LAUNCHER.proc
    return rss_mb(proc.pid) if proc is not None and proc.poll() is None else 0.0


def serve_sites(site: SiteServer) -> None:
    stories = [
        content.Story(f"/news/{n}", f"Council news {n}", date(2025, 1, n + 1), ("Nothing new.",))
        for n in range(10)
    ]
    site.put("/news", content.council_listing(stories))
    for story in stories:
        site.put(story.path, content.council_article(story))
    spec = ReportSpec(
        authority="Thurrock Council",
        kind="ilacs",
        start=date(2023, 3, 6),
        end=date(2023, 3, 17),
        lead_inspector="Bench",
        overall="good",
        judgements={
            "leaders": "good",
            "help_and_protection": "good",
            "children_in_care": "good",
            "care_leavers": "good",
        },
    )
    pub = content.Publication("80571", 1, "Children's services inspection", date(2023, 4, 20))
    site.put("/provider/44/80571", content.provider_page("Thurrock", "80571", [pub], site.url))
    site.put("/v1/file/1", make_report_pdf(spec), content_type="application/pdf")


def main(passes: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ofsted-watch-bench-"))
    with SiteServer() as site:
        serve_sites(site)
        path = work / "c.toml"
        path.write_text(
            f'[database]\nurl = "sqlite:///{work / "b.db"}"\n'
            f'[crawl]\ndelay = 0\ncache_dir = "{work / "cache"}"\n'
            f'[[source]]\nname = "ofsted"\nkind = "ofsted"\nurl = "{site.url}"\n'
            'authorities = ["Thurrock"]\n'
            f'[[source]]\nname = "news"\nkind = "news"\nurl = "{site.url}/news"\n'
        )
        config = load_config(path, {})
        with Database.open(config.database_url) as database:
            start, base, base_launcher = time.perf_counter(), 0.0, 0.0
            for n in range(passes):
                run_pass(config, all_sources=True, database=database)
                if n + 1 == WARM_UP:
                    base, base_launcher = rss_mb(), launcher_mb()
            end, end_launcher = rss_mb(), launcher_mb()
    growth = end - base
    print(
        f"serve memory over {passes} passes: {base:.1f} MB after {WARM_UP} passes, {end:.1f} MB"
        f" at the end; growth {growth:+.1f} MB, {growth / TARGET_MB:.2f} of the {TARGET_MB:.0f} MB"
        f" target ({time.perf_counter() - start:.0f} s)"
    )
    print(
        f"crawl launcher over the same passes: {base_launcher:.1f} MB -> {end_launcher:.1f} MB"
        f" ({end_launcher - base_launcher:+.1f} MB)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
