"""Shared fixtures: real SQLite files, the PostgreSQL server when present, and the sample data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.engine import Database
from scheduler.demo.receivers import SmtpSink, WebhookReceiver
from scheduler.demo.sites import SiteServer

SHARED = Path(__file__).resolve().parents[2] / "shared"
# The signing secret of the shared webhook receiver (Standard Webhooks' whsec_ form).
WEBHOOK_SECRET = "whsec_ZGVsaXZlcnktdGVzdHMtc2VjcmV0"
PG_URL = os.environ.get(
    "OFSTED_WATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OFSTED_WATCH_* setting from the developer's shell leaks into a test."""
    for name in list(os.environ):
        keep = name in ("OFSTED_WATCH_TEST_PG_URL", "OFSTED_WATCH_REQUIRE_PG")
        if name.startswith("OFSTED_WATCH_") and not keep:
            monkeypatch.delenv(name)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the labelled sample data folder {SHARED} is not present")
    return SHARED


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network error means "no server here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


def _reset_pg() -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def pg_url() -> str:
    """A PostgreSQL URL with an empty schema; skipped without a server unless CI requires it."""
    problem = _pg_available()
    if problem:
        if os.environ.get("OFSTED_WATCH_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (OFSTED_WATCH_REQUIRE_PG=1) but: {problem}")
        pytest.skip(f"no PostgreSQL server at {PG_URL}: {problem}")
    _reset_pg()
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs on a real SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ofsted-watch.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.open(database_url)
    yield db
    db.close()


# --- real local servers, shared by every test module ---------------------------------------------


@pytest.fixture
def site() -> Iterator[SiteServer]:
    """An HTTP server on 127.0.0.1 that serves whatever the test puts on it."""
    with SiteServer() as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""
    with SmtpSink() as server:
        yield server


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """An HTTP receiver that records every delivery and checks its signature (WEBHOOK_SECRET)."""
    with WebhookReceiver(secret=WEBHOOK_SECRET) as server:
        yield server
