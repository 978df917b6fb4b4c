"""Grow a benchmark database's stored history tenfold, to see whether a pass's memory stays flat.

Each copy k of the history holds every stored page under a new URL (as an archive of older
articles would), and every inspection event moved k * 3 years back with its judgements,
versions and observations, already alerted, as a council's earlier inspections would be.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from db.engine import Database
from db.models import (
    InspectionEventRow,
    InspectionVersionRow,
    JudgementRow,
    ObservationRow,
    PageRow,
    RunRow,
)

YEARS_BACK = 3


def _rows(conn: Connection, model: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(select(model.__table__))]


def _moved(value: date | None, k: int) -> date | None:
    return value - timedelta(days=365 * YEARS_BACK * k) if value else None


def _copy_pages(conn: Connection, pages: list[dict[str, Any]], k: int) -> None:
    copies = [{**p, "url": f"{p['url']}?archive={k}"} for p in pages]
    for row in copies:
        row.pop("id")
    if copies:
        conn.execute(insert(PageRow), copies)


def _copy_event(conn: Connection, event: dict[str, Any], k: int, children: dict[str, Any]) -> None:
    row = {key: value for key, value in event.items() if key != "id"}
    for column in ("inspection_start", "inspection_end", "published"):
        row[column] = _moved(row[column], k)
    row.update(historical=True, alerted=True, confirmation_alerted=True)
    new_id = conn.execute(insert(InspectionEventRow).values(**row)).inserted_primary_key
    event_id = new_id[0] if new_id else None
    for model, key in ((JudgementRow, "judgements"), (InspectionVersionRow, "versions")):
        rows = [{**r, "event_id": event_id} for r in children[key].get(event["id"], [])]
        for r in rows:
            r.pop("id", None)
        if rows:
            conn.execute(insert(model), rows)
    observed = [
        {**r, "event_id": event_id, "page_url": f"{r['page_url']}?archive={k}"}
        for r in children["observations"].get(event["id"], [])
    ]
    for r in observed:
        r.pop("id")
    if observed:
        conn.execute(insert(ObservationRow), observed)


def _by_event(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["event_id"], []).append(row)
    return grouped


def inflate(database_url: str, factor: int) -> dict[str, int]:
    """Make the stored history `factor` times as large; returns the row counts afterwards."""
    with Database.open(database_url) as db, db.engine.begin() as conn:
        pages, events = _rows(conn, PageRow), _rows(conn, InspectionEventRow)
        runs = _rows(conn, RunRow)
        children = {
            "judgements": _by_event(_rows(conn, JudgementRow)),
            "versions": _by_event(_rows(conn, InspectionVersionRow)),
            "observations": _by_event(_rows(conn, ObservationRow)),
        }
        for k in range(1, factor):
            _copy_pages(conn, pages, k)
            for event in events:
                _copy_event(conn, event, k, children)
            if runs:
                conn.execute(insert(RunRow), [{**r, "id": None} for r in runs])
        return {
            "pages": len(pages) * factor,
            "events": len(events) * factor,
            "runs": len(runs) * factor,
        }
