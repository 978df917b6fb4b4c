"""Alerts are never lost and never doubled: retries, dead letters, 410, a killed process, and the
alert commands, against real SMTP and webhook servers and a real database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from alerts.config import ChannelConfig
from crawler.records import ChangeEvent, InspectionOutcome
from db.engine import Database
from db.models import DeliveryAttemptRow, OutboxRow
from scheduler.cli import cli
from scheduler.config import Config, load_config
from scheduler.demo.receivers import Reply, SmtpSink, WebhookReceiver
from scheduler.run import deliver, utcnow
from tests.conftest import WEBHOOK_SECRET

SECRET = WEBHOOK_SECRET


def outcome_event(key: str = "outcome.new:1") -> ChangeEvent:
    outcome = InspectionOutcome(
        local_authority="Thurrock",
        ons_code="E06000034",
        event_type="inspection",
        framework="ILACS",
        overall="good",
        status="confirmed",
    )
    return ChangeEvent("outcome.new", key, datetime(2025, 1, 1), outcome=outcome)


def write_config(tmp_path: Path, url: str, channels: str) -> Config:
    path = tmp_path / "ofsted-watch.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n[alerts]\nlease = "1s"\n{channels}', encoding="utf-8"
    )
    return load_config(path, {"SECRET": SECRET})


def hook_channel(name: str, url: str, events: str = "") -> str:
    line = f"events = [{events}]\n" if events else ""
    head = f'[[channel]]\nname = "{name}"\nkind = "webhook"\nurl = "{url}"\n'
    return head + f'secret = "env:SECRET"\n{line}'


def mail_channel(smtp: str) -> str:
    return f'[[channel]]\nname = "mail"\nkind = "email"\nsmtp = "{smtp}"\nto = ["c@test.invalid"]\n'


def queue(database: Database, config: Config, event: ChangeEvent) -> None:
    from alerts.outbox import enqueue

    with database.transaction() as session:
        enqueue(session, [event], config.channels, utcnow())


def rows(database: Database) -> list[OutboxRow]:
    with database.transaction() as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def later(minutes: float) -> datetime:
    """A dispatcher clock past any backoff, so retries are due without waiting."""
    return utcnow() + timedelta(minutes=minutes)


@pytest.fixture
def hook(webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    return webhook_receiver


def test_smtp_down_for_three_passes_then_up_delivers_exactly_once(
    tmp_path: Path, database: Database
) -> None:
    smtp = SmtpSink().start()
    config = write_config(tmp_path, database.url, mail_channel(smtp.url))
    smtp.stop()  # the mail server is down: connections to its port are refused
    queue(database, config, outcome_event())
    for attempt in range(3):
        (result,) = deliver(database, config, later(60 * (attempt + 1)), dry_run=False)
        assert not result.result.ok
    assert rows(database)[0].status == "pending" and rows(database)[0].attempts == 3
    with SmtpSink() as up:
        config = write_config(tmp_path, database.url, mail_channel(up.url))
        (sent,) = deliver(database, config, later(600), dry_run=False)
        assert sent.result.ok and up.wait_for(1)
        assert deliver(database, config, later(900), dry_run=False) == []
        assert len(up.messages) == 1
    with database.transaction() as session:
        attempts = session.scalars(select(DeliveryAttemptRow)).all()
        assert [a.ok for a in attempts] == [False, False, False, True]


def test_webhook_errors_then_success_is_one_accepted_delivery(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    hook.script(500, Reply(503, headers={"Retry-After": "120"}), 200)
    queue(database, config, outcome_event())
    first = deliver(database, config, later(1), dry_run=False)
    assert first[0].result.code == "500"
    second = deliver(database, config, later(60), dry_run=False)
    assert second[0].result.code == "503"
    row = rows(database)[0]
    assert row.next_attempt_at >= later(60) + timedelta(seconds=119)  # Retry-After honoured
    third = deliver(database, config, later(120), dry_run=False)
    assert third[0].result.ok
    ids = {r.headers["webhook-id"] for r in hook.requests}
    accepted = [r for r in hook.requests if r.status == 200]
    assert len(ids) == 1 and len(accepted) == 1 and len(hook.requests) == 3
    assert all(r.verified for r in hook.requests)


def test_permanent_failure_is_dead_lettered_and_operators_hear(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    with WebhookReceiver() as ops:
        channels = hook_channel("comms", hook.url + "/in") + hook_channel(
            "ops", ops.url + "/ops", '"source.failing", "source.recovered"'
        )
        config = write_config(tmp_path, database.url, channels)
        hook.script(404)
        queue(database, config, outcome_event())
        (failed,) = deliver(database, config, later(1), dry_run=False)
        assert failed.result.permanent and rows(database)[0].status == "dead"
        (notice,) = deliver(database, config, later(2), dry_run=False)
        assert notice.channel == "ops" and notice.event_type == "delivery.failed"
        assert ops.wait_for(1)
        body = ops.requests[0].json
        assert body["type"] == "delivery.failed" and body["data"]["source"] == "comms"
        assert "HTTP 404" in body["data"]["message"]
        assert deliver(database, config, later(3), dry_run=False) == []


def test_410_gone_kills_the_endpoints_queue(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    hook.script(410)
    for n in range(3):
        queue(database, config, outcome_event(f"outcome.new:{n}"))
    delivered = deliver(database, config, later(1), dry_run=False)
    assert len(hook.requests) == 1 and len(delivered) == 1
    assert [r.status for r in rows(database)] == ["dead", "dead", "dead"]


def test_kill_between_send_and_mark_resends_with_the_same_id(
    tmp_path: Path, database_url: str, hook: WebhookReceiver
) -> None:
    database = Database.open(database_url)
    config = write_config(tmp_path, database_url, hook_channel("comms", hook.url + "/in"))
    queue(database, config, outcome_event())
    hook.script(Reply(200, delay=60))  # the receiver takes it, then the sender dies waiting
    script = Path(sys.executable).parent / "ofsted-watch"
    env = {**os.environ, "SECRET": SECRET}
    proc = subprocess.Popen([str(script), "--config", config.path, "run"], env=env)
    try:
        assert hook.wait_for(1, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rows(database)[0].status == "pending"  # sent but never marked: not lost
    hook.script(200)
    (resent,) = deliver(database, config, later(1), dry_run=False)  # after the 1 s lease
    assert resent.result.ok and rows(database)[0].status == "sent"
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert len(ids) == 2 and ids[0] == ids[1]
    database.close()


def test_dry_run_sends_nothing_and_keeps_the_alert_queued(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    queue(database, config, outcome_event())
    (rendered,) = deliver(database, config, later(1), dry_run=True)
    assert rendered.result.dry_run and hook.requests == []
    assert rows(database)[0].status == "pending" and rows(database)[0].attempts == 0
    (sent,) = deliver(database, config, later(2), dry_run=False)
    assert sent.result.ok and hook.wait_for(1)


def test_alert_commands(tmp_path: Path, database: Database, hook: WebhookReceiver) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    hook.script(400)
    queue(database, config, outcome_event())
    deliver(database, config, later(1), dry_run=False)
    runner = CliRunner(env={"SECRET": SECRET})
    base = ["--config", config.path, "alerts"]
    dead = runner.invoke(cli, [*base, "list", "--status", "dead"])
    assert dead.exit_code == 0 and "dead" in dead.output and "HTTP 400" in dead.output
    alert_id = str(rows(database)[0].id)
    again = runner.invoke(cli, [*base, "redeliver", alert_id])
    assert again.exit_code == 0 and f"alert {alert_id} queued again" in again.output
    (sent,) = deliver(database, config, later(2), dry_run=False)
    assert sent.result.ok
    sample = runner.invoke(cli, [*base, "test", "--channel", "comms"])
    assert sample.exit_code == 0 and "[sent]" in sample.output and "[TEST] " in sample.output
    assert hook.requests[-1].json["type"] == "test" and hook.requests[-1].verified
    sent_so_far = len(hook.requests)
    quiet = CliRunner(env={"SECRET": SECRET, "OFSTED_WATCH_DRY_RUN": "1"})
    rehearsal = quiet.invoke(cli, [*base, "test", "--channel", "comms"])
    assert rehearsal.exit_code == 0 and "[rendered (dry run)]" in rehearsal.output
    assert len(hook.requests) == sent_so_far  # the configured dry run holds for tests too
    missing = runner.invoke(cli, [*base, "test", "--channel", "nope"])
    assert missing.exit_code == 2 and "no channel named 'nope'" in missing.output


def test_retry_and_discard_clear_dead_and_orphaned_alerts(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    hook.script(400, 400)
    for number in (1, 2):
        queue(database, config, outcome_event(f"outcome.new:{number}"))
    deliver(database, config, later(1), dry_run=False)
    assert [r.status for r in rows(database)] == ["dead", "dead"]
    runner = CliRunner(env={"SECRET": SECRET})
    base = ["--config", config.path, "alerts"]
    both = runner.invoke(cli, [*base, "retry", "5", "--dead"])
    assert both.exit_code == 2 and "give exactly one of an ID or --dead" in both.output
    retried = runner.invoke(cli, [*base, "retry", "--dead"])
    assert retried.exit_code == 0 and "2 dead alert(s) queued again" in retried.output
    hook.script(400)
    deliver(database, config, later(2), dry_run=False)
    assert sorted(r.status for r in rows(database)) == ["dead", "sent"]
    discarded = runner.invoke(cli, [*base, "discard", "--dead"])
    assert discarded.exit_code == 0 and "1 alert(s) discarded" in discarded.output
    status = runner.invoke(cli, ["--config", config.path, "status", "--json"])
    assert json.loads(status.output)["outbox"] == {
        "pending": 0,
        "sent": 1,
        "dead": 0,
        "discarded": 1,
    }
    queue(database, config, outcome_event("outcome.new:3"))
    gone = runner.invoke(cli, [*base, "discard", "--channel", "comms"])
    assert "1 alert(s) discarded" in gone.output  # the pending one; the sent one stays sent
    assert sorted(r.status for r in rows(database)) == ["discarded", "discarded", "sent"]
    missing = runner.invoke(cli, [*base, "discard", "999"])
    assert missing.exit_code == 2 and "no alert with id 999" in missing.output


def test_channel_config_is_not_needed_for_unrouted_events() -> None:
    cfg = ChannelConfig(name="comms", kind="webhook", url="http://127.0.0.1:9/")
    notice = ChangeEvent("delivery.failed", "k", datetime.now(UTC), source_name="x", message="m")
    from alerts.routing import channel_wants

    assert not channel_wants(cfg, notice, None)  # comms channels never hear about deliveries


def test_digest_channel_gathers_alerts_into_one_message_at_its_local_time(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    with SmtpSink() as smtp:
        channels = (
            hook_channel("daily", hook.url + "/in")
            + 'digest = "daily 08:00"\ntimezone = "Europe/London"\n'
            + mail_channel(smtp.url)
            + 'digest = "weekly monday 09:30"\n'
        )
        config = write_config(tmp_path, database.url, channels)
        queued_at = datetime(2025, 7, 1, 10, 0)  # a Tuesday, in British Summer Time
        from alerts.outbox import enqueue

        with database.transaction() as session:
            events = [outcome_event("outcome.new:1"), outcome_event("outcome.new:2")]
            enqueue(session, events, config.channels, queued_at)
        assert deliver(database, config, datetime(2025, 7, 2, 6, 59), dry_run=False) == []
        (daily,) = deliver(database, config, datetime(2025, 7, 2, 7, 0), dry_run=False)
        assert daily.event_type == "digest" and daily.result.ok
        body = hook.requests[0].json
        assert body["type"] == "digest" and body["data"]["count"] == 2
        assert [e["type"] for e in body["data"]["events"]] == ["outcome.new", "outcome.new"]
        assert deliver(database, config, datetime(2025, 7, 6, 23, 0), dry_run=False) == []
        (weekly,) = deliver(database, config, datetime(2025, 7, 7, 8, 30), dry_run=False)
        assert weekly.channel == "mail" and smtp.wait_for(1)
        assert smtp.messages[0]["Subject"] == "Ofsted digest: 2 alert(s), 2 about outcomes"
        assert len(hook.requests) == 1


def test_redelivering_a_digest_item_waits_for_the_next_digest(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    channels = hook_channel("weekly", hook.url + "/in") + 'digest = "weekly monday 09:30"\n'
    config = write_config(tmp_path, database.url, channels)
    queue(database, config, outcome_event())
    first_due = rows(database)[0].next_attempt_at
    (digest,) = deliver(database, config, first_due, dry_run=False)
    assert digest.result.ok and hook.wait_for(1)
    alert_id = rows(database)[0].id
    from scheduler.views import retry

    said = retry(config, alert_id, dead=False)
    due = rows(database)[0].next_attempt_at
    assert "queued again for its channel's digest at" in said and due > utcnow()
    assert due.weekday() == 0 and deliver(database, config, utcnow(), dry_run=False) == []
    (again,) = deliver(database, config, due, dry_run=False)
    assert again.event_type == "digest" and hook.wait_for(2)


def test_bad_digest_spec_is_a_config_error(tmp_path: Path) -> None:
    from crawler.errors import ConfigError

    with pytest.raises(ConfigError, match=r"channel\[0\].digest: 'hourly' is not"):
        write_config(
            tmp_path, "sqlite://", hook_channel("d", "http://127.0.0.1:9/") + 'digest = "hourly"\n'
        )


def test_webhook_timeout_then_success_keeps_one_id(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    channel = hook_channel("comms", hook.url + "/in") + 'timeout = "1s"\n'
    config = write_config(tmp_path, database.url, channel)
    hook.script(Reply(200, delay=3), 200)  # the first answer comes too late for the sender
    queue(database, config, outcome_event())
    (late,) = deliver(database, config, later(1), dry_run=False)
    assert late.result.code == "timeout" and rows(database)[0].status == "pending"
    (ok,) = deliver(database, config, later(60), dry_run=False)
    assert ok.result.ok
    assert {r.headers["webhook-id"] for r in hook.requests} == {rows(database)[0].message_key}


def test_a_crash_right_after_claiming_loses_nothing(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    from alerts.channels import build_channel
    from alerts.outbox import Dispatcher

    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    queue(database, config, outcome_event())
    senders = {c.name: build_channel(c) for c in config.channels}
    crashed = Dispatcher(database, senders, configs=config.channels, lease=timedelta(minutes=5))
    crashed._claim(later(1), 10)  # the process dies here: the row is leased, nothing was sent
    assert deliver(database, config, later(2), dry_run=False) == []  # the lease still holds
    (sent,) = deliver(database, config, later(7), dry_run=False)
    assert sent.result.ok and len(hook.requests) == 1
    assert deliver(database, config, later(20), dry_run=False) == []


def test_run_dry_run_prints_each_rendered_message(
    tmp_path: Path, database: Database, hook: WebhookReceiver
) -> None:
    config = write_config(tmp_path, database.url, hook_channel("comms", hook.url + "/in"))
    queue(database, config, outcome_event())
    script = Path(sys.executable).parent / "ofsted-watch"
    env = {**os.environ, "SECRET": SECRET}
    result = subprocess.run(
        [str(script), "--config", config.path, "run", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "[dry-run]" in result.stdout
    assert "dry run channel=comms" in result.stderr and "Thurrock" in result.stderr
    assert hook.requests == [] and rows(database)[0].status == "pending"


def test_three_broken_operator_channels_are_told_once_each_then_recover(
    tmp_path: Path, database: Database
) -> None:
    from db.models import ChangeRow

    source_events = '"source.failing", "source.recovered"'
    with WebhookReceiver() as a, WebhookReceiver() as b, WebhookReceiver() as c:
        receivers = {"a": a, "b": b, "c": c}
        channels = "".join(
            hook_channel(name, server.url + "/ops", source_events)
            for name, server in receivers.items()
        )
        config = write_config(tmp_path, database.url, channels)
        for server in receivers.values():
            server.script(*([404] * 500))
        for n in range(20):
            failing = ChangeEvent(
                "source.failing", f"source.failing:news:{n}", utcnow(), source_name="news",
                message="HTTP 503",
            )  # fmt: skip
            queue(database, config, failing)
            deliver(database, config, later(n + 1), dry_run=False)
            deliver(database, config, later(n + 1.5), dry_run=False)

        def told(kind: str) -> list[str]:
            with database.transaction() as session:
                keys = session.scalars(select(ChangeRow.key).where(ChangeRow.type == kind))
                return sorted(k.split(":")[1] for k in keys)

        assert told("delivery.failed") == ["a", "b", "c"]  # once per channel, not once a pass
        a.mend()
        queue(database, config, ChangeEvent(
            "source.recovered", "source.recovered:news", utcnow(), source_name="news",
            message="back",
        ))  # fmt: skip
        deliver(database, config, later(30), dry_run=False)
        deliver(database, config, later(31), dry_run=False)
        assert told("delivery.recovered") == ["a"]
        assert told("delivery.failed") == ["a", "b", "c"]
        got = [r.json["type"] for r in a.requests if r.status == 200]
        assert "source.recovered" in got
