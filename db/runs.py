"""The run table: one row per pass, with its times, its status, counts and errors per source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import RunRow

HISTORY_RUNS = 10


@dataclass(frozen=True)
class RunRecord:
    """One pass as stored."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: Mapping[str, Any]
    errors: tuple[Any, ...]  # problems as {source, kind, url, message}; older runs kept strings


def start_run(session: Session, now: datetime) -> int:
    run = RunRow(started_at=now, status="running", counts={}, errors=[])
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    finished_at: datetime,
    status: str,
    counts: Mapping[str, Any],
    errors: Sequence[Mapping[str, Any]],
) -> None:
    run = session.get_one(RunRow, run_id)
    run.finished_at, run.status = finished_at, status
    run.counts, run.errors = dict(counts), [dict(e) for e in errors]


def recent_runs(session: Session, limit: int) -> list[RunRecord]:
    """The newest runs first."""
    rows = session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit))
    return [
        RunRecord(r.id, r.started_at, r.finished_at, r.status, r.counts, tuple(r.errors))
        for r in rows
    ]


def usual_entries(session: Session, source: str) -> float:
    """How many items a source's entry pages listed, on average, in the last passes that ran it."""
    runs = recent_runs(session, HISTORY_RUNS)
    seen = [
        r.counts[source]["entries"] for r in runs if (r.counts.get(source) or {}).get("entries")
    ]
    return sum(seen) / len(seen) if seen else 0.0
