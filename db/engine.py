"""Open the database: SQLite tuned for one writer at a time, or PostgreSQL by URL; then migrate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.authorities import AuthorityRegistry
from crawler.errors import StorageError
from db.models import AuthorityRow

logger = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE."""
    try:
        if url.startswith("sqlite"):
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        raise StorageError(f"database {_safe(url)}: {exc}") from None


def url_problem(url: str) -> str | None:
    """Why this database URL cannot work (a typo in the dialect or driver), or None.

    Checked at config load, so `check-config` catches it before the first run does."""
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        return f"{_safe(url)}: {exc}"
    return None


def _sqlite_engine(url: str) -> Engine:
    _make_parent(url)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level so that SQLAlchemy's "begin" below decides the lock mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: two writers then queue instead of failing mid-transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _make_parent(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, creds = head.partition("://")
    return f"{scheme}://{creds.split(':')[0]}:***@{tail}"


def migrate(engine: Engine) -> None:
    """Apply every migration not yet applied (Alembic records what ran)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("db") / "migrations"))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"database {_safe(str(engine.url))}: migration failed: {exc}") from None


def seed_authorities(session: Session) -> int:
    """Insert councils missing from the table; returns how many were added."""
    known = set(session.scalars(select(AuthorityRow.ons_code)))
    added = 0
    for a in AuthorityRegistry.load().all():
        if a.ons_code in known:
            continue
        session.add(
            AuthorityRow(
                ons_code=a.ons_code,
                name=a.name,
                short_name=a.short_name,
                region=a.region,
                ofsted_urn=a.ofsted_urn,
                dfe_code=a.dfe_code,
                status=a.status,
                aliases=[*a.aliases, *a.delivery_bodies],
                successors=list(a.successors),
            )
        )
        added += 1
    return added


class Database:
    """An engine plus a session factory, migrated and seeded on open."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Database:
        database = cls(url)
        migrate(database.engine)
        with database.transaction() as session:
            added = seed_authorities(session)
        if added:
            logger.info("seeded authorities count=%d", added)
        return database

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StorageError(
                f"database {_safe(self.url)}: {exc.__class__.__name__}: {exc}"
            ) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
