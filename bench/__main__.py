"""`make bench`: every benchmark, each printing ratios measured within the same run.

1. Parse stage: report PDFs and article prose, as ratios to a floor measured in the same run, and
   articles a second on one core for generated 100 KB pages, against the 50 a second target.
2. Whole passes over the standard workload (bench/passes.py): cold, unchanged and generation-2
   passes against a plain Scrapy floor and urlwatch, and peak memory as the history grows.
3. Memory growth of one long-running process over 200 passes (bench/serve_memory.py).

`python -m bench parse|passes|serve` runs one of them."""

from __future__ import annotations

import contextlib
import html
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import lxml.html

from crawler.errors import ParseError
from crawler.extract import extract_document
from crawler.parsers.prefilter import may_report_outcome
from crawler.parsers.report_pdf import parse_report_pdf
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf

REPEATS = 7
SHARED_REPORTS = Path(__file__).resolve().parents[2] / "shared" / "ofsted-reports"
REPORT_TARGET = 0.3  # seconds: the median parse time of one real report
PAGES_TARGET = 50  # articles a second on one core for 100 KB pages
ARTICLES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "articles"
LAYOUTS = ("council", "paper", "wordpress")
_WORDS = [
    "bins",
    "recycling",
    "parking",
    "permits",
    "library",
    "opening",
    "hours",
    "council",
    "tax",
    "planning",
    "roads",
    "events",
    "leisure",
    "centre",
    "consultation",
    "housing",
    "benefits",
    "elections",
    "jobs",
    "licences",
    "travel",
    "weather",
    "sport",
    "business",
    "community",
    "family",
    "notices",
    "what's",
    "on",
    "the",
    "a",
    "of",
    "to",
    "and",
    "for",
    "from",
    "new",
]


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
    pages_per_second()


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


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."


def _links(rng: random.Random, count: int, section: str) -> str:
    return "".join(
        f'<li class="menu-item"><a href="/{section}/{rng.choice(_WORDS)}-{i}" data-track="{i}">'
        f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS)}</a></li>"
        for i in range(count)
    )


def _head(rng: random.Random, title: str, published: str) -> str:
    css = "".join(
        f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i % 999:03d}}}" for i in range(300)
    )
    items = [{"id": i, "title": _sentence(rng), "tags": rng.sample(_WORDS, 4)} for i in range(200)]
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": published}
    return (
        f'<head><meta charset="utf-8"><title>{title} | News</title>'
        f'<meta property="og:title" content="{title}"><style>{css}</style>'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        f"<script>window.__DATA__ = {json.dumps({'items': items})};</script></head>"
    )


def _furniture(rng: random.Random) -> tuple[str, str, str]:
    """Related links, comments and footer: the blocks the reader must drop."""
    related = "".join(f'<li><a href="/n/{i}">{_sentence(rng)}</a></li>' for i in range(25))
    comments = "".join(
        f'<li class="comment"><b>reader{i}</b><p>{_sentence(rng)} {_sentence(rng)}</p></li>'
        for i in range(40)
    )
    script = "".join(f"function f{i}(a){{return a*{i}+window.x{i % 10};}}" for i in range(400))
    footer = f'<footer class="site-footer"><ul>{_links(rng, 60, "footer")}</ul></footer>'
    return (
        f'<div class="related-links"><h2>Related stories</h2><ul>{related}</ul></div>',
        f'<section id="comments"><h3>Comments</h3><ol>{comments}</ol></section>',
        f"{footer}<script>{script}</script>",
    )


def big_page(layout: str, title: str, paragraphs: list[str], seed: int = 0) -> bytes:
    """A ~100 KB council CMS, local paper or WordPress page around one story."""
    rng = random.Random(seed)
    title = html.escape(title)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    related, comments, footer = _furniture(rng)
    story = {
        "council": f'<main id="main-content"><h1>{title}</h1><div class="content">{body}</div>'
        f'<div class="on-this-page">{related}</div></main>',
        "paper": f'<article class="story"><h1>{title}</h1><div class="article-body">{body}'
        f"<p>Read more: {_sentence(rng)}</p></div>{related}{comments}</article>",
        "wordpress": f'<div id="primary"><div class="post"><h1 class="entry-title">{title}</h1>'
        f'<div class="entry-content">{body}</div>{related}{comments}</div></div>',
    }[layout]
    return (
        f"<!DOCTYPE html><html lang='en'>{_head(rng, title, '2024-03-05T09:00:00Z')}<body>"
        '<div id="cookie-consent"><p>We use cookies on this site.</p><button>Accept</button></div>'
        f'<header class="site-header"><nav><ul>{_links(rng, 240, "nav")}</ul></nav></header>'
        f'{story}<aside class="sidebar"><ul>{_links(rng, 30, "popular")}</ul></aside>{footer}'
        "</body></html>"
    ).encode()


def _stories(ofsted: bool) -> list[tuple[str, list[str]]]:
    """Fixture stories that name Ofsted, or ordinary council news made from filler sentences."""
    if not ofsted:
        rng = random.Random(7)
        return [("Winter opening hours", [_sentence(rng) for _ in range(8)]) for _ in range(3)]
    stories = []
    for path in sorted(ARTICLES.glob("*.txt")):
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        stories.append((lines[0], lines[1:]))
    return stories


def pages_per_second() -> None:
    """Whole-document extraction of 100 KB pages, as articles a second on one core."""
    for ofsted, label in ((False, "ordinary (prefiltered out)"), (True, "naming Ofsted")):
        pages = [
            big_page(layout, title, paragraphs, seed)
            for seed, (title, paragraphs) in enumerate(_stories(ofsted))
            for layout in LAYOUTS
        ]
        assert all(may_report_outcome(page) is ofsted for page in pages)

        def run_all(pages: list[bytes] = pages) -> None:
            for page in pages:
                extract_document(page)

        median, low, high = timed(run_all, 1)
        rates = [len(pages) / t for t in (median, high, low)]
        size = sum(map(len, pages)) // len(pages) // 1024
        print(
            f"{len(pages)} pages {label}, ~{size} KB: {rates[0]:.0f} articles/s"
            f" (range {rates[1]:.0f}-{rates[2]:.0f}); / target {rates[0] / PAGES_TARGET:.1f}x"
            f" (target {PAGES_TARGET}/s)"
        )


def run_all(which: list[str]) -> None:
    from bench.passes import ROUNDS
    from bench.passes import main as passes
    from bench.serve_memory import main as serve_memory

    if not which or "parse" in which:
        main()
    if not which or "passes" in which:
        print("\n== whole passes ==", flush=True)
        passes(ROUNDS)
    if not which or "serve" in which:
        print("\n== serve memory ==", flush=True)
        serve_memory(200)


if __name__ == "__main__":
    import sys

    run_all(sys.argv[1:])
