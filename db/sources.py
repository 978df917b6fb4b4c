"""The source_state table: each source's schedule, lease and health between passes, as records."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import SourceStateRow


@dataclass(frozen=True)
class SourceState:
    """A source's state as stored; the scheduler decides, `save_state` writes the new state."""

    name: str
    kind: str
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    failing: bool = False
    last_error: str | None = None
    not_before: datetime | None = None
    baseline_done: bool = False
    last_alert_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


_COLUMNS = tuple(f.name for f in fields(SourceState))


def _record(row: SourceStateRow) -> SourceState:
    return SourceState(**{name: getattr(row, name) for name in _COLUMNS})


def state_names(session: Session) -> set[str]:
    return set(session.scalars(select(SourceStateRow.name)))


def read_state(session: Session, name: str, kind: str, *, lock: bool = False) -> SourceState:
    """The source's state, created on first use; `lock` holds the row until the transaction ends
    (FOR UPDATE on PostgreSQL; SQLite's writers are serialised by BEGIN IMMEDIATE)."""
    row = session.get(SourceStateRow, name, with_for_update=lock)
    if row is None:
        row = SourceStateRow(name=name, kind=kind, consecutive_failures=0)
        row.failing, row.baseline_done = False, False
        session.add(row)
        session.flush()
    return _record(row)


def save_state(session: Session, state: SourceState) -> None:
    row = session.get_one(SourceStateRow, state.name)
    for name in _COLUMNS:
        setattr(row, name, getattr(state, name))


def all_states(session: Session) -> list[SourceState]:
    rows = session.scalars(select(SourceStateRow).order_by(SourceStateRow.name))
    return [_record(row) for row in rows]
