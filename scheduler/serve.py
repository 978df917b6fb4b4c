"""`serve`: an APScheduler service that runs the same pass as `run` on each source's schedule."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.errors import MonitorError
from db.engine import Database
from scheduler.config import Config
from scheduler.run import deliver, log_components, run_pass, utcnow

logger = logging.getLogger(__name__)


def serve_forever(config: Config, *, tick_seconds: int = 60) -> None:
    """Check schedules every tick and deliver the outbox, until SIGTERM or SIGINT."""
    database = Database.open(config.database_url)
    scheduler = BlockingScheduler(timezone="UTC")
    job_defaults = {"max_instances": 1, "coalesce": True, "misfire_grace_time": tick_seconds * 5}
    scheduler.add_job(
        _pass,
        "interval",
        seconds=tick_seconds,
        args=(config, database),
        id="pass",
        next_run_time=utcnow(),
        **job_defaults,
    )
    scheduler.add_job(
        _deliver,
        "interval",
        seconds=max(10, tick_seconds // 2),
        args=(config, database),
        id="outbox",
        **job_defaults,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Let a running pass finish, so its leases are released and its alerts are queued.
        logger.info("serve stopping signal=%d", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("serve started sources=%d tick=%ds", len(config.sources), tick_seconds)
    log_components(config)
    scheduler.start()
    database.close()


def _pass(config: Config, database: Database) -> None:
    try:
        report = run_pass(config, database=database)
        logger.info("pass done run=%d exit=%d", report.run_id, report.exit_code)
    except MonitorError as exc:
        logger.error("pass failed error=%s", exc)


def _deliver(config: Config, database: Database) -> None:
    try:
        deliver(database, config, utcnow(), dry_run=config.alerts.dry_run)
    except MonitorError as exc:
        logger.error("delivery failed error=%s", exc)
