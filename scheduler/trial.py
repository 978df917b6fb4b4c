"""`try`: fetch one configured source now, from the real site, and say what each page gives.

Nothing is written to the database: the crawl runs in a temporary folder with no known pages, so
an operator adding a newsroom sees exactly what a first pass would read, and why.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from crawler.errors import ConfigError, ParseError
from crawler.extract import Extracted
from crawler.launcher import run_crawl
from crawler.records import FetchedPage
from crawler.sources import SourceConfig
from scheduler.config import Config
from scheduler.monitors import entry_count
from scheduler.run import crawl_job, read_page

_READ_ROLES = ("article", "report")


@dataclass(frozen=True)
class TrialPage:
    """One fetched page and what the parse stage made of it."""

    page: FetchedPage
    entries: int | None = None
    extracted: Extracted | None = None
    error: str | None = None


@dataclass(frozen=True)
class Trial:
    """What one source gave: its pages, its fetch failures, and whether it would be failing."""

    source: SourceConfig
    pages: tuple[TrialPage, ...]
    failures: tuple[str, ...]
    timed_out: bool

    @property
    def problems(self) -> list[str]:
        found = list(self.failures)
        found += [f"{p.page.url}: lists no items" for p in self.pages if p.entries == 0]
        found += [f"{p.page.url}: {p.error}" for p in self.pages if p.error]
        if not self.pages:
            found.append("nothing was fetched")
        if self.timed_out:
            found.append("the crawl hit its deadline")
        return found


def try_source(config: Config, name: str, limit: int) -> Trial:
    """Crawl one source, following at most `limit` articles, and read every page it got."""
    source = config.source(name)
    if source is None:
        names = ", ".join(s.name for s in config.sources) or "none"
        raise ConfigError(f"no source named {name!r}; configured: {names}")
    source = replace(source, max_articles=limit)
    with tempfile.TemporaryDirectory(prefix="ofsted-watch-try-") as work:
        result = run_crawl(crawl_job(config, [source], set(), Path(work) / "cache"))
    pages = tuple(_read(page, source) for page in result.pages)
    failures = tuple(f"{f.url}: {f.message}" for f in result.failures)
    return Trial(source, pages, failures, result.timed_out)


def _read(page: FetchedPage, source: SourceConfig) -> TrialPage:
    if page.role not in _READ_ROLES:
        return TrialPage(page, entries=entry_count(page))
    try:
        extracted = read_page(page, source)
    except ParseError as exc:
        return TrialPage(page, error=str(exc))
    return TrialPage(page, extracted=extracted)


def describe(trial: Trial) -> str:
    """The trial as an operator reads it: entry pages, then each page followed."""
    source = trial.source
    lines = [f"source {source.name} ({source.kind}) {source.url}"]
    for item in trial.pages:
        lines += _page_lines(item)
    problems = trial.problems
    lines.append("")
    lines.append("would be reported failing:" if problems else "healthy: nothing to report")
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def _page_lines(item: TrialPage) -> list[str]:
    page = item.page
    if item.entries is not None:
        return [f"{page.role} {page.url}: {item.entries} item(s) listed"]
    if item.error is not None:
        return [f"{page.role} {page.url}: unreadable: {item.error}"]
    extracted = item.extracted
    assert extracted is not None
    title = extracted.title or "(no title)"
    when = extracted.published.isoformat() if extracted.published else "no date"
    lines = [f"{page.role} {page.url}", f"  title: {title}", f"  date: {when}"]
    if not extracted.outcomes:
        lines.append(f"  no outcome ({extracted.reason or 'nothing read'})")
    for outcome in extracted.outcomes:
        grades = ", ".join(f"{k}={v}" for k, v in outcome.judgements)
        lines.append(
            f"  outcome: {outcome.local_authority or '?'} {outcome.event_type} "
            f"overall={outcome.overall} confidence={outcome.confidence:.2f}"
            + (f" ({grades})" if grades else "")
        )
    return lines
