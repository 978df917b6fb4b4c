"""One pass: lease the due sources, crawl them in one subprocess, parse, compare with history,
queue alerts in the same transaction as the events, deliver them, and record the run.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.channels import build_channel
from alerts.outbox import Delivered, Dispatcher, enqueue
from crawler.crawl import CrawlFailure, CrawlJob, CrawlResult, run_crawl
from crawler.errors import MonitorError, StorageError
from crawler.extract import extract_document
from crawler.records import ChangeEvent, FetchedPage
from crawler.sources import SourceConfig
from db.changes import acknowledge, collect_changes
from db.engine import Database
from db.history import History, Observed
from db.models import PageRow, RunRow, SourceStateRow
from scheduler.atom import write_feed
from scheduler.config import Config
from scheduler.health import SourceOutcome, is_due, lease, settle, state_for
from scheduler.monitors import count_entries, problems

logger = logging.getLogger(__name__)

# Ofsted's own reports are read before press pages so that a story arriving in the same pass joins
# an already confirmed event instead of raising an alert that the report would then "confirm".
ROLE_ORDER = {"report": 0, "provider_page": 1, "article": 2}
RECHECK_AFTER = timedelta(hours=12)
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

    @property
    def exit_code(self) -> int:
        failed = any(not s.ok for s in self.sources) or self.timed_out
        undelivered = any(not d.result.ok for d in self.deliveries)
        return 1 if failed or undelivered else 0


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
    sources, skipped = _claim_sources(db, config, owner, now, all_sources)
    crawl = _crawl(db, config, sources, now)
    outcomes, events = _store(db, config, sources, crawl, run_id, now, baseline)
    queued = _acknowledge(db) if baseline else _queue(db, config, events, now)
    write_feed(db, config, now)
    deliveries = deliver(db, config, now, dry_run=dry_run or config.alerts.dry_run)
    report = PassReport(
        run_id, outcomes, skipped, queued, tuple(deliveries), crawl.timed_out, events
    )
    _finish_run(db, report)
    return report


def _start_run(db: Database, now: datetime) -> int:
    with db.transaction() as session:
        run = RunRow(started_at=now, status="running", counts={}, errors=[])
        session.add(run)
        session.flush()
        return run.id


def _claim_sources(
    db: Database, config: Config, owner: str, now: datetime, all_sources: bool
) -> tuple[list[SourceConfig], tuple[str, ...]]:
    hold = timedelta(seconds=config.crawl.deadline + 300)
    claimed, skipped = [], []
    _ensure_states(db, config)
    with db.transaction() as session:
        for source in config.sources:
            row = session.get_one(SourceStateRow, source.name, with_for_update=True)
            blocked = row.not_before is not None and row.not_before > now  # even with --all
            due = source.enabled and not blocked and (all_sources or is_due(source, row, now))
            if due and lease(session, row, owner, now, hold):
                claimed.append(source)
            else:
                skipped.append(source.name)
    logger.info("pass sources due=%s skipped=%s", [s.name for s in claimed], skipped)
    return claimed, tuple(skipped)


def _ensure_states(db: Database, config: Config) -> None:
    """Create missing source rows one by one, so that a concurrent pass creating the same row
    costs a retry here rather than failing the claim."""
    for source in config.sources:
        try:
            with db.transaction() as session:
                state_for(session, source)
        except StorageError:
            logger.info("source row created concurrently source=%s", source.name)


def _crawl(db: Database, config: Config, sources: list[SourceConfig], now: datetime) -> CrawlResult:
    if not sources:
        return CrawlResult(pages=(), failures=(), timed_out=False, requests={})
    with db.transaction() as session:
        skip = _known_urls(session, sources, now)
    job = CrawlJob(
        sources=tuple(sources),
        skip_urls=frozenset(skip),
        cache_dir=str(Path(config.crawl.cache_dir).expanduser()),
        user_agent=config.crawl.user_agent,
        delay=config.crawl.delay,
        timeout=config.crawl.timeout,
        max_bytes=config.crawl.max_bytes,
        deadline=config.crawl.deadline,
        obey_robots=config.crawl.obey_robots,
    )
    return run_crawl(job)


def _known_urls(session: Session, sources: list[SourceConfig], now: datetime) -> set[str]:
    """Stored articles and reports, less young articles due for an edit re-check."""
    names = [s.name for s in sources]
    recheck = {s.name: timedelta(days=s.recheck_days) for s in sources}
    rows = session.scalars(
        select(PageRow).where(PageRow.source.in_(names), PageRow.role.in_(["article", "report"]))
    )
    # A page that failed to parse is fetched (conditionally) and read again every pass, so the
    # source stays failing until a fixed parser or a fixed file reads it.
    return {
        row.url
        for row in rows
        if row.parse_error is None and not _due_recheck(row, now, recheck[row.source])
    }


def _due_recheck(row: PageRow, now: datetime, window: timedelta) -> bool:
    young = row.role == "article" and now - row.first_seen < window
    return young and now - row.last_fetched >= RECHECK_AFTER


def _store(
    db: Database,
    config: Config,
    sources: list[SourceConfig],
    crawl: CrawlResult,
    run_id: int,
    now: datetime,
    baseline: bool,
) -> tuple[tuple[SourceOutcome, ...], tuple[ChangeEvent, ...]]:
    by_source = _group_pages(crawl.pages)
    failures = _group_failures(crawl.failures)
    results, health = [], []
    for source in sorted(sources, key=lambda s: s.kind != "ofsted"):
        pages, errors = by_source[source.name], failures[source.name]
        result = _store_source(db, source, pages, errors, run_id, now, baseline)
        results.append(result)
        with db.transaction() as session:
            row = state_for(session, source)
            remind = timedelta(seconds=config.alerts.remind_seconds)
            turned = settle(row, result, now, config.alerts.failing_after, remind)
        health += [turned] if turned else []
    return tuple(results), tuple(health)


def _group_pages(pages: tuple[FetchedPage, ...]) -> dict[str, list[FetchedPage]]:
    grouped: dict[str, list[FetchedPage]] = defaultdict(list)
    for page in sorted(pages, key=lambda p: ROLE_ORDER.get(p.role, 3)):
        grouped[page.source].append(page)
    return grouped


def _group_failures(failures: tuple[CrawlFailure, ...]) -> dict[str, list[CrawlFailure]]:
    grouped: dict[str, list[CrawlFailure]] = defaultdict(list)
    for failure in failures:
        grouped[failure.source].append(failure)
    return grouped


def _store_source(
    db: Database,
    source: SourceConfig,
    pages: list[FetchedPage],
    failures: list[CrawlFailure],
    run_id: int,
    now: datetime,
    force_baseline: bool,
) -> SourceOutcome:
    errors = [f"{f.url}: {f.message}" for f in failures]
    found = 0
    for page in pages:
        try:
            with db.transaction() as session:
                baseline = force_baseline or not state_for(session, source).baseline_done
                found += _store_page(session, source, page, run_id, now, baseline)
        except MonitorError as exc:
            errors.append(f"{page.url}: {exc}")
            _remember_error(db, source, page, now, str(exc))
    for error in errors:
        logger.warning("source error source=%s error=%s", source.name, error)
    entries = count_entries(pages)
    with db.transaction() as session:
        errors += problems(session, source, entries, now)
    retry = max((f.retry_after or 0 for f in failures), default=0) or None
    return SourceOutcome(source.name, len(pages), found, tuple(errors), retry, entries)


def _store_page(
    session: Session,
    source: SourceConfig,
    page: FetchedPage,
    run_id: int,
    now: datetime,
    baseline: bool,
) -> int:
    """Parse a changed page and record its outcomes; an unchanged page costs one lookup."""
    digest = hashlib.sha256(page.body).hexdigest()
    row = session.scalar(select(PageRow).where(PageRow.url == page.url))
    if row is not None and row.content_hash == digest and row.parse_error is None:
        row.last_fetched = now
        return 0
    if page.role not in PARSED_ROLES:
        # Listings, feeds and provider pages only lead to the pages that carry outcomes.
        _save_page(session, row, source, page, digest, now, 0)
        return 0
    extracted = extract_document(
        page.body,
        url=page.url,
        article_date=_meta_date(page, "published"),
        published=_meta_date(page, "published"),
        expect_report=page.role == "report",
        home_councils=source.authorities if source.kind != "ofsted" else (),
    )
    history = History(session, run_id, now)
    for outcome in extracted.outcomes:
        observed = Observed(
            outcome, page.url, source.name, source.kind, page.fetched_at or now, extracted.published
        )
        history.record(observed, baseline=baseline)
    _save_page(session, row, source, page, digest, now, len(extracted.outcomes))
    return len(extracted.outcomes)


def _meta_date(page: FetchedPage, key: str) -> date | None:
    value = page.meta_value(key)
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _save_page(
    session: Session,
    row: PageRow | None,
    source: SourceConfig,
    page: FetchedPage,
    digest: str,
    now: datetime,
    count: int,
) -> None:
    if row is None:
        row = PageRow(url=page.url, first_seen=now, last_changed=now)
        session.add(row)
    if row.content_hash != digest:
        row.last_changed = now
    row.source, row.role, row.content_hash = source.name, page.role, digest
    row.last_fetched, row.parse_error, row.outcome_count = now, None, count


def _remember_error(
    db: Database, source: SourceConfig, page: FetchedPage, now: datetime, error: str
) -> None:
    """Keep the failed page known (so it is not refetched every pass) with its error."""
    with db.transaction() as session:
        row = session.scalar(select(PageRow).where(PageRow.url == page.url))
        if row is None:
            row = PageRow(url=page.url, first_seen=now, last_changed=now, last_fetched=now)
            session.add(row)
        row.source, row.role, row.parse_error = source.name, page.role, error[:2000]
        row.content_hash = hashlib.sha256(page.body).hexdigest()
        row.last_fetched = now


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
    with db.transaction() as session:
        run = session.get_one(RunRow, report.run_id)
        run.finished_at = utcnow()
        run.status = "ok" if report.exit_code == 0 else "degraded"
        run.counts = {
            s.name: {"pages": s.pages, "outcomes": s.outcomes, "entries": s.entries}
            for s in report.sources
        }
        run.errors = [f"{s.name}: {e}" for s in report.sources for e in s.errors]
