"""Parse-stage benchmarks: report PDFs and article prose, as ratios to a floor measured in the
same run, so the numbers hold on a noisy machine. The crawl-level suite is still to come."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import lxml.html

from crawler.errors import ParseError
from crawler.extract import extract_document
from crawler.parsers.report_pdf import parse_report_pdf
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf

REPEATS = 7
SHARED_REPORTS = Path(__file__).resolve().parents[2] / "shared" / "ofsted-reports"
REPORT_TARGET = 0.3  # seconds: the median parse time of one real report


def timed(func: Callable[[], object], inner: int) -> tuple[float, float, float]:
    """Median, min and max seconds per call over REPEATS rounds of `inner` calls."""
    rounds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(inner):
            func()
        rounds.append((time.perf_counter() - start) / inner)
    return statistics.median(rounds), min(rounds), max(rounds)


def show(name: str, value: tuple[float, float, float], floor: tuple[float, float, float]) -> None:
    median, low, high = value
    print(
        f"{name:44} {median * 1000:8.2f} ms  (range {low * 1000:.2f}-{high * 1000:.2f})"
        f"  ratio to floor {median / floor[0]:6.1f}x"
    )


def main() -> None:
    spec = ReportSpec(
        authority="Essex County Council",
        kind="ilacs",
        start=date(2022, 6, 13),
        end=date(2022, 6, 24),
        lead_inspector="Bench Mark",
        judgements={
            "leaders": "outstanding",
            "help_and_protection": "outstanding",
            "children_in_care_and_care_leavers": "outstanding",
        },
        overall="outstanding",
    )
    pdf = make_report_pdf(spec)
    page = content.council_article(content.ESSEX_NEW).encode()
    floor = timed(lambda: lxml.html.fromstring(page), 200)
    print(f"python benchmarks, {REPEATS} rounds each; floor = lxml parse of one article page")
    show("floor: lxml.html parse of an article page", floor, floor)
    show(
        "article page -> outcomes (extract_document)",
        timed(lambda: extract_document(page), 50),
        floor,
    )
    show("generated ILACS report PDF -> outcomes", timed(lambda: parse_report_pdf(pdf), 10), floor)
    real_reports()


def real_reports() -> None:
    """Median and worst parse time over the sample of real reports, against the target."""
    files = sorted(SHARED_REPORTS.glob("*.pdf"))
    if not files:
        print(f"real reports: {SHARED_REPORTS} not present, skipped")
        return
    times = []
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        # A file that is not a report still costs its parse time.
        with contextlib.suppress(ParseError):
            parse_report_pdf(data)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"real report PDFs ({len(files)}): median {median:.3f} s, max {max(times):.3f} s;"
        f" median / target {median / REPORT_TARGET:.2f} (target {REPORT_TARGET} s)"
    )


if __name__ == "__main__":
    main()
