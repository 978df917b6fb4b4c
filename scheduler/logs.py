"""Logging set-up for the command line: one line per event, key=value text or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger and the formatted message."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data)


def configure_logging(*, verbosity: int = 0, json_lines: bool = False) -> None:
    """Handlers are configured here only, in the entry point."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # -v says what the tool does, -vv how; the libraries' own chatter needs -vvv.
    root.setLevel((logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)])
    library_level = logging.DEBUG if verbosity >= 3 else logging.WARNING
    for noisy in ("scrapy", "twisted", "alembic", "apscheduler", "httpx", "mail.log", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(library_level)
