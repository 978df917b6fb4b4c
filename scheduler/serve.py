"""`serve`: an APScheduler service that runs the same pass as `run` on each source's schedule."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.errors import MonitorError
from db.engine import Database
from scheduler.config import Config
from scheduler.run import any_due, deliver, log_components, run_pass, utcnow

logger = logging.getLogger(__name__)


@dataclass
class _Live:
    """The config the jobs read; SIGHUP swaps it for a freshly loaded one."""

    config: Config


def serve_forever(
    config: Config, *, tick_seconds: int = 60, reload: Callable[[], Config] | None = None
) -> None:
    """Check schedules every tick and deliver the outbox, until SIGTERM or SIGINT; SIGHUP
    reloads the config through `reload`, keeping the old one if the new one is invalid."""
    database = Database.open(config.database_url)
    live = _Live(config)
    scheduler = BlockingScheduler(timezone="UTC")
    job_defaults = {"max_instances": 1, "coalesce": True, "misfire_grace_time": tick_seconds * 5}
    scheduler.add_job(
        _pass,
        "interval",
        seconds=tick_seconds,
        args=(live, database),
        id="pass",
        next_run_time=utcnow(),
        **job_defaults,
    )
    scheduler.add_job(
        _deliver,
        "interval",
        seconds=max(10, tick_seconds // 2),
        args=(live, database),
        id="outbox",
        **job_defaults,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Let a running pass finish, so its leases are released and its alerts are queued.
        logger.info("serve stopping signal=%d", signum)
        scheduler.shutdown(wait=True)

    def hang_up(_signum: int, _frame: FrameType | None) -> None:
        if reload is not None:
            _reload(live, reload)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, hang_up)
    logger.info("serve started sources=%d tick=%ds", len(config.sources), tick_seconds)
    log_components(config)
    scheduler.start()
    database.close()


def _reload(live: _Live, reload: Callable[[], Config]) -> None:
    try:
        fresh = reload()
    except MonitorError as exc:
        logger.error("reload refused, keeping the running config: %s", exc)
        return
    if fresh.database_url != live.config.database_url:
        logger.error("reload refused: a new database URL needs a restart")
        return
    live.config = fresh
    logger.warning(
        "config reloaded sources=%d channels=%d", len(fresh.sources), len(fresh.channels)
    )
    log_components(fresh)


def _pass(live: _Live, database: Database) -> None:
    config = live.config
    try:
        if not any_due(database, config, utcnow()):
            return  # an idle tick writes no run row and leaves the feed alone
        report = run_pass(config, database=database)
        logger.info("pass done run=%d exit=%d", report.run_id, report.exit_code)
    except MonitorError as exc:
        logger.error("pass failed error=%s", exc)


def _deliver(live: _Live, database: Database) -> None:
    try:
        deliver(database, live.config, utcnow(), dry_run=live.config.alerts.dry_run)
    except MonitorError as exc:
        logger.error("delivery failed error=%s", exc)
