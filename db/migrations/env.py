"""Alembic environment: runs migrations on the connection that db.engine.migrate() passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from db.models import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Called from the alembic command line: build an engine from sqlalchemy.url.
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _migrate(conn)
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
