"""One pass: lease the due sources, crawl them in one subprocess, parse, compare with history,
queue alerts in the same transaction as the events, deliver them, and record the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.atom import write_feed
from alerts.channels import build_channel
from alerts.outbox import Delivered, Dispatcher, enqueue
from crawler.errors import ParseError, StorageError
from crawler.extract import Extracted, extract_document
from crawler.launcher import CrawlOutput, open_crawl
from crawler.parsers.html_text import needs_javascript, published_hint
from crawler.records import ChangeEvent, FetchedPage, InspectionOutcome, SourceProblem
from crawler.sources import SourceConfig
from crawler.spool import CrawlFailure, CrawlJob, PageEntry
from db import pages, runs
from db.changes import acknowledge, collect_changes
from db.engine import Database
from db.history import History, Observed
from db.pages import SeenPage
from db.sources import read_state, save_state, state_names
from scheduler.config import AlertSettings, Config
from scheduler.health import SourceOutcome, is_due, lease, settle, skip_reason
from scheduler.monitors import entry_count, problems

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

# Ofsted's own reports are read before press pages so that a story arriving in the same pass joins
# an already confirmed event instead of raising an alert that the report would then "confirm".
ROLE_ORDER = {"report": 0, "provider_page": 1, "article": 2}
PARSED_ROLES = ("report", "article")


@dataclass(frozen=True)
class PassReport:
    """What a pass did, source by source, and what it delivered."""

    run_id: int
    sources: tuple[SourceOutcome, ...]
    skipped: tuple[str, ...]
    queued: int
    deliveries: tuple[Delivered, ...]
    timed_out: bool = False
    events: tuple[ChangeEvent, ...] = field(default=())
    waiting: tuple[str, ...] = field(default=())  # "name: why it was skipped", per skipped

    @property
    def exit_code(self) -> int:
        failed = any(not s.ok for s in self.sources) or self.timed_out
        undelivered = any(not d.result.ok for d in self.deliveries)
        return 1 if failed or undelivered else 0


def log_components(config: Config) -> None:
    """Say at start-up which sources and channels are on, and why any is off (Scrapy's habit)."""
    for source in config.sources:
        if source.enabled:
            logger.info(
                "source enabled name=%s kind=%s url=%s", source.name, source.kind, source.url
            )
        else:
            logger.info("source disabled name=%s reason=%s", source.name, "enabled = false")
    for channel in config.channels:
        where = build_channel(channel).describe()
        if config.alerts.dry_run:
            reason = "[alerts] dry_run = true: rendered into the log, never sent"
            logger.info("channel disabled name=%s to=%s reason=%s", channel.name, where, reason)
        else:
            logger.info("channel enabled name=%s kind=%s to=%s", channel.name, channel.kind, where)
    if not config.channels:
        logger.warning("no channels configured: alerts are stored but go to nobody")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def run_pass(
    config: Config,
    *,
    all_sources: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    database: Database | None = None,
    baseline: bool = False,
) -> PassReport:
    """Run one whole pass and return its report. Failing sources never stop the others.

    With `baseline`, everything read is recorded as history and nothing is alerted.
    """
    if database is None:
        with Database.open(config.database_url) as opened:
            return run_pass(
                config,
                all_sources=all_sources,
                dry_run=dry_run,
                now=now,
                database=opened,
                baseline=baseline,
            )
    now = now or utcnow()
    db = database
    owner = uuid.uuid4().hex
    run_id = _start_run(db, now)
    sources, skipped, waiting = _claim_sources(db, config, owner, now, all_sources)
    with _crawl(db, config, sources, now) as crawl:
        outcomes, events = _store(db, config, sources, crawl, run_id, now, baseline)
    queued = _acknowledge(db) if baseline else _queue(db, config, events, now)
    write_feed(db, config.atom, now)
    deliveries = deliver(db, config, now, dry_run=dry_run or config.alerts.dry_run)
    report = PassReport(
        run_id, outcomes, skipped, queued, tuple(deliveries), crawl.timed_out, events, waiting
    )
    _finish_run(db, report)
    return report


def _start_run(db: Database, now: datetime) -> int:
    with db.transaction() as session:
        return runs.start_run(session, now)


def _claim_sources(
    db: Database, config: Config, owner: str, now: datetime, all_sources: bool
) -> tuple[list[SourceConfig], tuple[str, ...], tuple[str, ...]]:
    hold = timedelta(seconds=config.crawl.deadline + 300)
    claimed, skipped, waiting = [], [], []
    _ensure_states(db, config)
    with db.transaction() as session:
        for source in config.sources:
            state = read_state(session, source.name, source.kind, lock=True)
            blocked = state.not_before is not None and state.not_before > now  # even with --all
            due = source.enabled and not blocked and (all_sources or is_due(source, state, now))
            leased = lease(state, owner, now, hold) if due else None
            if leased is not None:
                save_state(session, leased)
                claimed.append(source)
            else:
                skipped.append(source.name)
                waiting.append(f"{source.name}: {skip_reason(source, state, now)}")
    logger.info("pass sources due=%s skipped=%s", [s.name for s in claimed], skipped)
    return claimed, tuple(skipped), tuple(waiting)


def any_due(db: Database, config: Config, now: datetime) -> bool:
    """Whether a pass now would crawl anything (read without locking; the pass itself claims)."""
    with db.transaction() as session:
        known = state_names(session)
        enabled = [source for source in config.sources if source.enabled]
        if any(source.name not in known for source in enabled):
            return True  # never run: due at once
        return any(is_due(s, read_state(session, s.name, s.kind), now) for s in enabled)


def _ensure_states(db: Database, config: Config) -> None:
    """Create missing source rows one by one, so that a concurrent pass creating the same row
    costs a retry here rather than failing the claim."""
    with db.transaction() as session:
        existing = state_names(session)
    for source in config.sources:
        if source.name in existing:
            continue
        try:
            with db.transaction() as session:
                read_state(session, source.name, source.kind)
        except StorageError:
            logger.info("source row created concurrently source=%s", source.name)


@contextlib.contextmanager
def _crawl(
    db: Database, config: Config, sources: list[SourceConfig], now: datetime
) -> Iterator[CrawlOutput]:
    if not sources:
        yield CrawlOutput.empty()
        return
    recheck = {s.name: timedelta(days=s.recheck_days) for s in sources}
    with db.transaction() as session:
        skip = pages.known_urls(session, recheck, now)
    job = crawl_job(config, sources, skip, Path(config.crawl.cache_dir).expanduser())
    with open_crawl(job) as output:
        yield output


def crawl_job(
    config: Config, sources: list[SourceConfig], skip: set[str], cache_dir: Path
) -> CrawlJob:
    """The crawl of these sources under the config's politeness, size and time limits."""
    crawl = config.crawl
    return CrawlJob(
        sources=tuple(sources),
        skip_urls=frozenset(skip),
        cache_dir=str(cache_dir),
        user_agent=crawl.user_agent,
        delay=crawl.delay,
        timeout=crawl.timeout,
        max_bytes=crawl.max_bytes,
        deadline=crawl.deadline,
        obey_robots=crawl.obey_robots,
    )


def _store(
    db: Database,
    config: Config,
    sources: list[SourceConfig],
    crawl: CrawlOutput,
    run_id: int,
    now: datetime,
    baseline: bool,
) -> tuple[tuple[SourceOutcome, ...], tuple[ChangeEvent, ...]]:
    by_source = _group_entries(crawl.entries)
    failures = _group_failures(crawl.failures)
    results, health = [], []
    for source in sorted(sources, key=lambda s: s.kind != "ofsted"):
        stored = _SourceStore(db, source, crawl, run_id, now)
        result, turned = stored.run(
            by_source[source.name], failures[source.name], baseline, config.alerts
        )
        results.append(result)
        health += [turned] if turned else []
    return tuple(results), tuple(health)


def _group_entries(entries: tuple[PageEntry, ...]) -> dict[str, list[PageEntry]]:
    grouped: dict[str, list[PageEntry]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: ROLE_ORDER.get(e.role, 3)):
        grouped[entry.source].append(entry)
    return grouped


def _group_failures(failures: tuple[CrawlFailure, ...]) -> dict[str, list[CrawlFailure]]:
    grouped: dict[str, list[CrawlFailure]] = defaultdict(list)
    for failure in failures:
        grouped[failure.source].append(failure)
    return grouped


def _seen(page: FetchedPage, digest: str, changed: bool, outcomes: int = 0) -> SeenPage:
    return SeenPage(page.url, page.role, digest, changed, _page_date(page), outcomes)


class _SourceStore:
    """Stores one source's pages: bodies loaded one at a time, quiet pages written in batches.

    Only a page that yields outcomes gets a transaction of its own (with its history); every
    other page is one row in a batched write at the end, so 2,000 articles cost a few statements
    rather than 2,000 transactions.
    """

    def __init__(
        self, db: Database, source: SourceConfig, crawl: CrawlOutput, run_id: int, now: datetime
    ):
        self.db, self.source, self.crawl = db, source, crawl
        self.run_id, self.now = run_id, now
        self.known: dict[str, str] = {}
        self.seen: list[SeenPage] = []
        self.problems: list[SourceProblem] = []

    def run(
        self,
        entries: list[PageEntry],
        failures: list[CrawlFailure],
        force_baseline: bool,
        alerts: AlertSettings,
    ) -> tuple[SourceOutcome, ChangeEvent | None]:
        """Store the source's pages; its outcome, and the health event if its state turned."""
        self.problems = [SourceProblem(f.kind, f.message, f.url) for f in failures]
        with self.db.transaction() as session:
            state = read_state(session, self.source.name, self.source.kind)
            baseline = force_baseline or not state.baseline_done
            self.known = pages.known_hashes(session, [e.page.url for e in entries])
        found, listed = 0, []
        for entry in entries:
            page = self.crawl.page(entry)
            listed.append(entry_count(page))
            found += self._page(page, baseline)
        counts = [n for n in listed if n is not None]
        tally = _Tally(sum(counts) if counts else None, len(entries), found, tuple(failures))
        return self._finish(tally, alerts)

    def _page(self, page: FetchedPage, baseline: bool) -> int:
        digest = hashlib.sha256(page.body).hexdigest()
        if self.known.get(page.url) == digest:
            # Only its last_fetched is written; its date was stored when it was read.
            self.seen.append(SeenPage(page.url, page.role, digest, changed=False))
            return 0
        if page.role not in PARSED_ROLES:
            # Listings, feeds and provider pages only lead to the pages that carry outcomes.
            self.seen.append(_seen(page, digest, changed=True))
            return 0
        try:
            extracted = read_page(page, self.source)
        except ParseError as exc:
            self._unreadable(page, exc)
            return 0
        if not extracted.outcomes:
            self.seen.append(_seen(page, digest, changed=True))
            return 0
        try:
            return self._store(page, digest, extracted, baseline)
        except StorageError as exc:
            # Not the page's fault: it is read again next pass, when the database may take it.
            self.problems.append(SourceProblem("storage", str(exc), page.url))
            return 0

    def _unreadable(self, page: FetchedPage, exc: ParseError) -> None:
        """Keep the page known with its parse error, so its source stays failing until it reads."""
        self.problems.append(SourceProblem("parse", str(exc), page.url))
        with self.db.transaction() as session:
            pages.remember_error(
                session, self.source.name, page.url, page.role, page.body, self.now, str(exc)
            )

    def _store(self, page: FetchedPage, digest: str, extracted: Extracted, baseline: bool) -> int:
        with self.db.transaction() as session:
            history = History(session, self.run_id, self.now)
            for outcome in extracted.outcomes:
                history.record(
                    self._observed(outcome, page, extracted.published), baseline=baseline
                )
            seen = _seen(page, digest, changed=True, outcomes=len(extracted.outcomes))
            pages.save_page(session, self.source.name, seen, self.now)
        return len(extracted.outcomes)

    def _observed(
        self, outcome: InspectionOutcome, page: FetchedPage, published: date | None
    ) -> Observed:
        fetched = page.fetched_at or self.now
        return Observed(outcome, page.url, self.source.name, self.source.kind, fetched, published)

    def _finish(
        self, tally: _Tally, alerts: AlertSettings
    ) -> tuple[SourceOutcome, ChangeEvent | None]:
        """The batch of quiet pages, the health checks and the source's state, in one
        transaction; if the batch cannot be written, the rest still is."""
        for problem in self.problems:
            logger.warning(
                "source problem source=%s kind=%s url=%s error=%s",
                self.source.name, problem.kind, problem.url, problem.message,
            )  # fmt: skip
        try:
            with self.db.transaction() as session:
                pages.write_seen(session, self.source.name, self.seen, self.now)
                return self._settle(session, tally, alerts)
        except StorageError as exc:
            message = f"could not store {len(self.seen)} page(s): {exc}"
            self.problems.append(SourceProblem("storage", message))
            with self.db.transaction() as session:
                return self._settle(session, tally, alerts)

    def _settle(
        self, session: Session, tally: _Tally, alerts: AlertSettings
    ) -> tuple[SourceOutcome, ChangeEvent | None]:
        checks = problems(session, self.source, tally.entries, self.now)
        found = self.problems + [SourceProblem("health", text) for text in checks]
        retry = max((f.retry_after or 0 for f in tally.failures), default=0) or None
        result = SourceOutcome(
            self.source.name, tally.pages, tally.found, tuple(found), retry, tally.entries
        )
        remind = timedelta(seconds=alerts.remind_seconds)
        state = read_state(session, self.source.name, self.source.kind)
        settled, event = settle(state, result, self.now, alerts.failing_after, remind)
        save_state(session, settled)
        return result, event


@dataclass(frozen=True)
class _Tally:
    """What one source's pages came to, for its outcome."""

    entries: int | None
    pages: int
    found: int
    failures: tuple[CrawlFailure, ...]


def read_page(page: FetchedPage, source: SourceConfig) -> Extracted:
    """Read one page; an article that shows no text without JavaScript is unreadable, not empty."""
    extracted = _extract_document(page, source)
    if page.role == "article" and not extracted.outcomes:
        reason = needs_javascript(page.body)
        if reason:
            raise ParseError(reason)
    return extracted


def _extract_document(page: FetchedPage, source: SourceConfig) -> Extracted:
    published = _meta_date(page, "published")
    return extract_document(
        page.body,
        url=page.url,
        article_date=published,
        published=published,
        expect_report=page.role == "report",
        home_councils=source.authorities if source.kind != "ofsted" else (),
        listed_council=page.meta_value("ons_code") if page.role == "report" else None,
        content_selector=source.content_selector,
    )


def _meta_date(page: FetchedPage, key: str) -> date | None:
    value = page.meta_value(key)
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _page_date(page: FetchedPage) -> date | None:
    """An article's own date: from its feed entry, else from its machine-readable marks."""
    if page.role != "article":
        return None
    return _meta_date(page, "published") or published_hint(page.body)


def _queue(db: Database, config: Config, health: tuple[ChangeEvent, ...], now: datetime) -> int:
    """Decide the pass's alerts and queue them, in one transaction with the decisions' flags."""
    with db.transaction() as session:
        changes = collect_changes(session, now) + list(health)
        for change in changes:
            logger.info("change type=%s key=%s", change.type, change.key)
        return enqueue(session, changes, config.channels, now)


def _acknowledge(db: Database) -> int:
    with db.transaction() as session:
        logger.info("baseline acknowledged events=%d", acknowledge(session))
    return 0


def deliver(db: Database, config: Config, now: datetime, *, dry_run: bool) -> list[Delivered]:
    """Send what is due in the outbox through the configured channels."""
    senders = {cfg.name: build_channel(cfg) for cfg in config.channels}
    dispatcher = Dispatcher(
        db,
        senders,
        retry_hours=config.alerts.retry_hours,
        dry_run=dry_run,
        configs=config.channels,
        lease=timedelta(seconds=config.alerts.lease_seconds),
    )
    return dispatcher.run(now)


def _finish_run(db: Database, report: PassReport) -> None:
    counts = {
        s.name: {"pages": s.pages, "outcomes": s.outcomes, "entries": s.entries}
        for s in report.sources
    }
    errors = [{"source": s.name, **p.to_json()} for s in report.sources for p in s.problems]
    status = "ok" if report.exit_code == 0 else "degraded"
    with db.transaction() as session:
        runs.finish_run(session, report.run_id, utcnow(), status, counts, errors)
