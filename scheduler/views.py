"""What the CLI prints: pass summaries, history, status, config and outbox listings (formatting
only; the queries are db/'s)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from alerts.channels import build_channel
from alerts.digest import next_digest
from crawler.authorities import AuthorityRegistry
from crawler.errors import ConfigError
from crawler.extract import Extracted
from crawler.records import AlertType, ChangeEvent, InspectionOutcome, SourceRef
from crawler.sources import SourceConfig
from db.engine import Database
from db.queries import (
    discard,
    matching_alerts,
    outbox_counts,
    queue_again,
    queued_alerts,
    stored_events,
)
from db.runs import RunRecord, recent_runs
from db.sources import SourceState, all_states
from scheduler.config import Config
from scheduler.run import PassReport, utcnow

HISTORY_COLUMNS = (
    "local_authority",
    "published",
    "event_type",
    "framework",
    "status",
    "overall",
    "judgements",
    "inspection_start",
    "inspection_end",
    "sources",
)


def pass_summary(report: PassReport) -> str:
    lines = [
        f"run {report.run_id}: {len(report.sources)} source(s), {report.queued} alert(s) queued"
    ]
    for source in report.sources:
        state = "ok" if source.ok else f"{len(source.errors)} error(s)"
        lines.append(
            f"  {source.name}: {source.pages} page(s), {source.outcomes} outcome(s), {state}"
        )
        lines += [f"    {error}" for error in source.errors[:5]]
    for delivery in report.deliveries:
        mark = "sent" if delivery.result.ok else f"failed ({delivery.result.error})"
        if delivery.result.dry_run:
            mark = "dry-run"
        lines.append(
            f"  alert {delivery.channel} -> {delivery.recipient}: {delivery.subject} [{mark}]"
        )
    if report.timed_out:
        lines.append("  the crawl hit its deadline and was stopped")
    lines += [f"  skipped {why}" for why in report.waiting]
    if not report.sources and not report.waiting:
        lines.append("  no sources are configured")
    elif not report.sources:
        lines.append("  nothing was due; `run --all` crawls every source now")
    return "\n".join(lines)


def extracted(path: str, result: Extracted, as_json: bool) -> str:
    if as_json:
        body = {
            "input": path,
            "kind": result.kind,
            "outcomes": [o.to_json() for o in result.outcomes],
        }
        if result.reason is not None:
            body["reason"] = result.reason
        return json.dumps(body, ensure_ascii=False)
    why = f" ({result.reason})" if result.reason else ""
    lines = [f"{path}: {result.kind}, {len(result.outcomes)} outcome(s){why}"]
    lines += [f"  {_describe(o)}" for o in result.outcomes]
    return "\n".join(lines)


def _describe(outcome: InspectionOutcome) -> str:
    grades = ", ".join(f"{k}={v}" for k, v in outcome.judgements)
    parts = [outcome.local_authority or "?", outcome.event_type, outcome.framework]
    parts.append(f"overall={outcome.overall}")
    return " ".join(parts) + (f" ({grades})" if grades else "")


def _authority_code(name: str) -> str:
    authority = AuthorityRegistry.load().resolve(name)
    if authority is None:
        raise ConfigError(f"{name!r} is not a known council (or names more than one)")
    return authority.ons_code


@dataclass(frozen=True)
class OutcomeFilter:
    """Which stored events to list: every field narrows the list when set."""

    council: str | None = None
    region: str | None = None
    since: date | None = None
    kind: str | None = None
    status: str | None = None


def outcome_rows(database: Database, wanted: OutcomeFilter) -> list[dict[str, Any]]:
    """Stored events as rows, oldest first, after the filter."""
    code = _authority_code(wanted.council) if wanted.council else None
    with database.transaction() as session:
        events = stored_events(session, code, wanted.kind, wanted.status)
    rows = [_history_row(e.outcome, e.observations) for e in events if _keep(e.outcome, wanted)]
    return sorted(rows, key=lambda row: str(row["published"] or row["inspection_end"] or ""))


def _keep(outcome: InspectionOutcome, wanted: OutcomeFilter) -> bool:
    authority = AuthorityRegistry.load().by_ons(outcome.ons_code or "")
    if wanted.region and (authority is None or authority.region.lower() != wanted.region.lower()):
        return False
    when = outcome.published or outcome.inspection_end or outcome.inspection_start
    return wanted.since is None or (when is not None and when >= wanted.since)


def _history_row(outcome: InspectionOutcome, sources: int) -> dict[str, Any]:
    row = outcome.to_json()
    row["judgements"] = "; ".join(f"{k}={v}" for k, v in outcome.judgements)
    row["sources"] = sources
    return {key: row[key] for key in HISTORY_COLUMNS}


def render_rows(rows: list[dict[str, Any]], fmt: str, empty: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    return _table(rows) if rows else empty


def history(config: Config, name: str, fmt: str) -> str:
    with Database.open(config.database_url) as database:
        rows = outcome_rows(database, OutcomeFilter(council=name))
    return render_rows(rows, fmt, f"no stored events for {name}")


def outcomes(config: Config, wanted: OutcomeFilter, fmt: str) -> str:
    with Database.open(config.database_url) as database:
        rows = outcome_rows(database, wanted)
    return render_rows(rows, fmt, "no stored events match")


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [c for c in HISTORY_COLUMNS if c not in ("inspection_start", "sources")]
    cells = [[str(row[c] if row[c] is not None else "-") for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def status_data(database: Database) -> dict[str, Any]:
    with database.transaction() as session:
        runs = recent_runs(session, 5)
        states = all_states(session)
        counts = outbox_counts(session)
        return {
            "runs": [_run_json(r) for r in runs],
            "sources": [_source_json(s) for s in states],
            "outbox": {
                "pending": counts.get("pending", 0),
                "sent": counts.get("sent", 0),
                "dead": counts.get("dead", 0),
                "discarded": counts.get("discarded", 0),
            },
        }


def _run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "started_at": run.started_at.isoformat(),
        "status": run.status,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "errors": len(run.errors),
        # Typed problems (kind: fetch, parse, storage, refused or health) of this run's sources.
        "problems": [e for e in run.errors if isinstance(e, dict)],
    }


def _source_json(state: SourceState) -> dict[str, Any]:
    return {
        "name": state.name,
        "kind": state.kind,
        "failing": state.failing,
        "consecutive_failures": state.consecutive_failures,
        "last_error": state.last_error,
        "last_run_at": state.last_run_at.isoformat() if state.last_run_at else None,
        "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
    }


def health_code(data: dict[str, Any]) -> int:
    """2 when a source is failing or nothing has ever run; 1 when degraded; else 0."""
    if not data["runs"] or any(s["failing"] for s in data["sources"]):
        return 2
    degraded = data["runs"][0]["status"] != "ok" or data["outbox"]["dead"] > 0
    return 1 if degraded or any(s["consecutive_failures"] for s in data["sources"]) else 0


def status(config: Config, as_json: bool) -> tuple[str, int]:
    with Database.open(config.database_url) as database:
        data = status_data(database)
    code = health_code(data)
    data["health"] = ("healthy", "degraded", "failing")[code]
    if as_json:
        return json.dumps(data, indent=2), code
    lines = [f"health: {data['health']}"]
    lines += [
        f"run {r['id']} {r['started_at']} {r['status']} errors={r['errors']}" for r in data["runs"]
    ]
    for s in data["sources"]:
        flag = "FAILING" if s["failing"] else "ok"
        lines.append(
            f"source {s['name']} {flag} failures={s['consecutive_failures']} "
            f"last_run={s['last_run_at']} {s['last_error'] or ''}".rstrip()
        )
    box = data["outbox"]
    lines.append(f"outbox pending={box['pending']} sent={box['sent']} dead={box['dead']}")
    return "\n".join(lines), code


def config_summary(config: Config) -> str:
    lines = [f"config {config.path}: ok", f"database {config.database_url.split('@')[-1]}"]
    lines += [_source_line(s) for s in config.sources]
    for c in config.channels:
        digest = f" digest '{c.digest}' {c.timezone}" if c.digest else ""
        lines.append(
            f"channel {c.name} ({c.kind}) {build_channel(c).describe()}"
            f" events={','.join(c.events)}{digest}"
        )
    if config.atom.path:
        lines.append(f"atom feed {config.atom.path}")
    return "\n".join(lines)


def _source_line(source: SourceConfig) -> str:
    when = f"cron '{source.cron}'" if source.cron else f"every {source.every_seconds}s"
    registry = AuthorityRegistry.load()
    names = [a.short_name for a in map(registry.by_ons, source.authorities) if a is not None]
    more = " ..." if len(names) > 6 else ""
    role = "watching" if source.kind == "ofsted" else "newsroom of"
    councils = f" {role} {', '.join(names[:6])}{more}" if names else ""
    return f"source {source.name} ({source.kind}) {source.url} {when}{councils}"


def sample_event() -> ChangeEvent:
    """A realistic change, typed `test` so no reader takes it for a real one (`alerts test`)."""
    now = utcnow()
    previous = InspectionOutcome(
        local_authority="Southend-on-Sea",
        ons_code="E06000033",
        event_type="inspection",
        framework="ILACS",
        overall="requires_improvement",
        status="confirmed",
        judgements=(("children_in_care_and_care_leavers", "requires_improvement"),),
    )
    outcome = previous.with_changes(
        overall="good",
        judgements={
            "leaders": "good",
            "help_and_protection": "good",
            "children_in_care": "requires_improvement",
            "care_leavers": "good",
        },
        previous_overall="requires_improvement",
        previous_year=2019,
        status="reported",
        evidence=("This is a test alert from ofsted-watch; no inspection has changed.",),
    )
    return ChangeEvent(
        type=AlertType.TEST,
        key=f"test:{now.isoformat()}",
        timestamp=now,
        outcome=outcome,
        previous=previous,
        sources=(SourceRef("https://example.org/test", "news", "test"),),
    )


def send_sample(config: Config, name: str, dry_run: bool) -> tuple[str, bool]:
    cfg = next((c for c in config.channels if c.name == name), None)
    if cfg is None:
        names = ", ".join(c.name for c in config.channels) or "none"
        raise ConfigError(f"no channel named {name!r}; configured: {names}")
    event = sample_event()
    channel = build_channel(cfg)
    dry_run = dry_run or config.alerts.dry_run
    result = channel.send(
        event, message_key=f"test_{event.timestamp:%Y%m%d%H%M%S}", dry_run=dry_run
    )
    subject = channel.render(event).subject
    state = (
        "rendered (dry run)"
        if result.dry_run
        else "sent"
        if result.ok
        else f"failed: {result.error}"
    )
    return f"{name} -> {channel.describe()}: {subject} [{state}]", result.ok


def outbox(config: Config, state: str) -> str:
    with Database.open(config.database_url) as database, database.transaction() as session:
        rows = queued_alerts(session, None if state == "all" else state)
    lines = [
        f"{r.id:>5} {r.status:8} {r.channel:12} {r.event_type:18} attempts={r.attempts} "
        f"{r.subject or ''}" + (f"  [{r.last_error}]" if r.last_error else "")
        for r in rows
    ]
    return "\n".join(lines) or "no alerts"


def retry(config: Config, alert_id: int | None, dead: bool) -> str:
    """Queue alerts again with their idempotency keys: one by id, or every dead one."""
    now = utcnow()
    due_for = _due_for(config, now)
    with Database.open(config.database_url) as database, database.transaction() as session:
        dues = queue_again(matching_alerts(session, alert_id, dead, None), now, due_for)
    if alert_id is not None and not dues:
        raise ConfigError(f"no alert with id {alert_id}")
    if alert_id is not None and dues[0] > now:
        when = f"{dues[0]:%Y-%m-%d %H:%M} UTC"
        return f"alert {alert_id} queued again for its channel's digest at {when}"
    if alert_id is not None:
        return f"alert {alert_id} queued again; the next run or serve tick delivers it"
    return f"{len(dues)} dead alert(s) queued again; the next run or serve tick delivers them"


def _due_for(config: Config, now: datetime) -> Callable[[str], datetime]:
    digests = {c.name: c for c in config.channels if c.digest}

    def due_for(channel: str) -> datetime:
        # An alert for a digest channel waits for the channel's next digest, as it did at first.
        cfg = digests.get(channel)
        if cfg is None or cfg.digest is None:
            return now - timedelta(seconds=1)
        return next_digest(cfg.digest, cfg.timezone, now)

    return due_for


def discard_alerts(config: Config, alert_id: int | None, dead: bool, channel: str | None) -> str:
    """Give up on undelivered alerts: one by id, every dead one, or all of a channel's."""
    with Database.open(config.database_url) as database, database.transaction() as session:
        rows = matching_alerts(session, alert_id, dead, channel)
        if alert_id is not None and not rows:
            raise ConfigError(f"no alert with id {alert_id}")
        count = discard(rows)
    return f"{count} alert(s) discarded; status no longer counts them"
