"""Running unattended: source health (silent zero, 429, reminders), overlapping runs, and the
status exit codes a monitoring probe reads."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from db.engine import Database
from scheduler import views
from scheduler.cli import cli
from scheduler.config import Config, load_config
from scheduler.demo import content
from scheduler.demo.receivers import WebhookReceiver
from scheduler.demo.sites import SiteServer
from scheduler.run import PassReport, log_components, run_pass, utcnow

STORIES = [
    content.Story("/news/a", "Pier repairs", date(2025, 3, 1), ("Repairs start soon.",)),
    content.Story("/news/b", "Library hours", date(2025, 3, 2), ("New opening hours.",)),
]


@pytest.fixture
def newsroom(site: SiteServer) -> SiteServer:
    """The shared local site, serving a council newsroom's listing and stories."""
    site.put("/news", content.council_listing(STORIES))
    for story in STORIES:
        site.put(story.path, content.council_article(story))
    return site


@pytest.fixture
def ops(webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    return webhook_receiver


def make_config(tmp_path: Path, url: str, newsroom: SiteServer, ops: WebhookReceiver) -> Config:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n[crawl]\ndelay = 0\ncache_dir = "{tmp_path / "cache"}"\n'
        '[alerts]\nfailing_after = 2\nremind_every = "6h"\n'
        f'[[source]]\nname = "newsroom"\nkind = "news"\nurl = "{newsroom.url}/news"\nevery = "1h"\n'
        f'[[channel]]\nname = "ops"\nkind = "webhook"\nurl = "{ops.url}/ops"\n'
        'events = ["source.failing", "source.recovered"]\n',
        encoding="utf-8",
    )
    return load_config(path, {})


def test_a_listing_that_goes_empty_fails_loudly_then_recovers(
    tmp_path: Path, database_url: str, newsroom: SiteServer, ops: WebhookReceiver
) -> None:
    config = make_config(tmp_path, database_url, newsroom, ops)
    database = Database.open(database_url)

    def run(hours: float) -> PassReport:
        return run_pass(config, database=database, now=utcnow() + timedelta(hours=hours))

    assert run(0).exit_code == 0
    newsroom.put("/news", "<html><body><main><p>Our news has moved.</p></main></body></html>")
    first, second = run(1.1), run(2.2)
    assert "list no items where the last passes averaged 2" in first.sources[0].errors[0]
    assert [d.event_type for d in (*first.deliveries, *second.deliveries)] == ["source.failing"]
    assert [d.event_type for d in run(4).deliveries] == []  # no reminder within 6 hours
    reminder = run(9)
    assert [d.event_type for d in reminder.deliveries] == ["source.failing"]
    assert "still failing after 4 passes" in ops.requests[-1].json["data"]["message"]
    newsroom.put("/news", content.council_listing(STORIES))
    assert [d.event_type for d in run(10.5).deliveries] == ["source.recovered"]
    database.close()


def test_429_with_retry_after_is_honoured(
    tmp_path: Path, newsroom: SiteServer, ops: WebhookReceiver
) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", newsroom, ops)
    newsroom.put("/news", b"slow down", status=429, headers={"Retry-After": "7200"})
    database = Database.open(config.database_url)
    limited = run_pass(config, database=database)
    assert limited.exit_code == 1 and "HTTP 429" in limited.sources[0].errors[0]
    newsroom.put("/news", content.council_listing(STORIES))
    hits = newsroom.hits("/news")
    for hours in (1.1, 1.9):  # due by its schedule, but not before the server allowed
        later = run_pass(
            config, database=database, all_sources=True, now=utcnow() + timedelta(hours=hours)
        )
        assert later.sources == () and "newsroom" in later.skipped
        assert "held until" in views.pass_summary(later)
    assert newsroom.hits("/news") == hits
    after = run_pass(config, database=database, now=utcnow() + timedelta(hours=2.1))
    assert after.exit_code == 0 and newsroom.hits("/news") == hits + 1
    database.close()


def test_overlapping_runs_never_crawl_a_source_twice(
    tmp_path: Path, database_url: str, newsroom: SiteServer, ops: WebhookReceiver
) -> None:
    config = make_config(tmp_path, database_url, newsroom, ops)
    Database.open(database_url).close()
    newsroom.put("/news", content.council_listing(STORIES), hang=3)  # a slow listing
    script = Path(sys.executable).parent / "ofsted-watch"
    command = [str(script), "--config", config.path, "run"]
    runs = [subprocess.Popen(command, env=dict(os.environ)) for _ in range(2)]
    codes = sorted(proc.wait(timeout=120) for proc in runs)
    assert codes == [0, 0]
    assert newsroom.hits("/news") == 1


def test_status_exit_codes_follow_health(
    tmp_path: Path, newsroom: SiteServer, ops: WebhookReceiver
) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", newsroom, ops)
    runner = CliRunner()

    def status() -> tuple[int, dict[str, object]]:
        result = runner.invoke(cli, ["--config", config.path, "status", "--json"])
        return result.exit_code, json.loads(result.output)

    assert status()[0] == 2  # never run
    assert runner.invoke(cli, ["--config", config.path, "run"]).exit_code == 0
    code, data = status()
    assert code == 0 and data["health"] == "healthy"
    newsroom.put("/news", b"oops", status=500)
    assert runner.invoke(cli, ["--config", config.path, "run", "--all"]).exit_code == 1
    assert status()[0] == 1  # degraded: one failure
    assert runner.invoke(cli, ["--config", config.path, "run", "--all"]).exit_code == 1
    code, data = status()
    assert code == 2 and data["health"] == "failing"
    assert data["sources"][0]["failing"] is True  # type: ignore[index]


def test_start_up_says_what_is_on_and_why_anything_is_off(
    tmp_path: Path, newsroom: SiteServer, ops: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", newsroom, ops)
    off = dataclasses.replace(config.sources[0], name="paused", enabled=False)
    config = dataclasses.replace(config, sources=(*config.sources, off))
    with caplog.at_level(logging.INFO, logger="scheduler.run"):
        log_components(config)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("source enabled name=newsroom kind=news") for line in lines)
    assert "source disabled name=paused reason=enabled = false" in lines
    assert any(line.startswith("channel enabled name=ops kind=webhook") for line in lines)
    quiet = dataclasses.replace(config, alerts=dataclasses.replace(config.alerts, dry_run=True))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="scheduler.run"):
        log_components(quiet)
    assert any("channel disabled name=ops" in r.getMessage() for r in caplog.records)


def test_a_run_with_nothing_due_says_why_and_when(
    tmp_path: Path, newsroom: SiteServer, ops: WebhookReceiver
) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path / 'w.db'}", newsroom, ops)
    newsroom.put("/news", content.council_listing(STORIES))
    database = Database.open(config.database_url)
    first = run_pass(config, database=database)
    soon = run_pass(config, database=database, now=utcnow() + timedelta(minutes=20))
    text = views.pass_summary(soon)
    due = (first_run_time(database) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert first.sources and soon.sources == ()
    assert f"skipped newsroom: next due {due} UTC" in text
    assert "nothing was due; `run --all` crawls every source now" in text
    database.close()


def first_run_time(database: Database) -> datetime:
    from db.sources import read_state

    with database.transaction() as session:
        last = read_state(session, "newsroom", "news").last_run_at
    assert last is not None
    return last
