"""End to end: real local sites, a real Scrapy crawl, a real SMTP server and webhook receiver,
and a real database (a SQLite file, and PostgreSQL when present)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.engine import Database
from db.models import InspectionEventRow, ObservationRow, OutboxRow, PageRow
from scheduler.config import Config, load_config
from scheduler.demo import content
from scheduler.demo.receivers import SmtpSink, WebhookReceiver
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer
from scheduler.run import PassReport, run_pass
from scheduler.views import status_data

SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXBhc3Nlcw=="
SOUTHEND_URN = "80559"

SOUTHEND_2019 = ReportSpec(
    authority="Southend-on-Sea Borough Council",
    kind="ilacs",
    start=date(2019, 11, 25),
    end=date(2019, 12, 6),
    lead_inspector="Test Inspector",
    judgements={
        "leaders": "requires_improvement",
        "help_and_protection": "requires_improvement",
        "children_in_care_and_care_leavers": "requires_improvement",
    },
    overall="requires_improvement",
)
SOUTHEND_2024 = ReportSpec(
    authority="Southend-on-Sea City Council",
    kind="ilacs",
    start=date(2024, 11, 11),
    end=date(2024, 11, 22),
    lead_inspector="Test Inspector",
    judgements={
        "leaders": "good",
        "help_and_protection": "good",
        "children_in_care": "requires_improvement",
        "care_leavers": "good",
    },
    overall="good",
)


@dataclass
class World:
    """Two local sites (Ofsted-like and a paper with a feed), SMTP, a webhook and a config."""

    ofsted: SiteServer
    paper: SiteServer
    smtp: SmtpSink
    hook: WebhookReceiver
    config: Config
    database: Database
    reports: dict[int, tuple[content.Publication, ReportSpec]]
    stories: list[content.Story]

    def publish(self) -> None:
        pubs = [p for p, _ in self.reports.values()]
        page = content.provider_page("Southend-on-Sea", SOUTHEND_URN, pubs, self.ofsted.url)
        self.ofsted.put(f"/provider/44/{SOUTHEND_URN}", page)
        for file_id, (_, spec) in self.reports.items():
            self.ofsted.put(
                f"/v1/file/{file_id}", make_report_pdf(spec), content_type="application/pdf"
            )
        self.paper.put(
            "/rss",
            content.rss_feed(self.paper.url, self.stories),
            content_type="application/rss+xml",
        )
        for story in self.stories:
            self.paper.put(story.path, content.paper_article(story))

    def add_report(self, file_id: int, published: date, spec: ReportSpec) -> None:
        label = "Children's services inspection"
        self.reports[file_id] = (content.Publication(SOUTHEND_URN, file_id, label, published), spec)
        self.publish()

    def add_story(self, story: content.Story) -> None:
        self.stories.append(story)
        self.publish()

    def run(self, **kwargs: object) -> PassReport:
        return run_pass(self.config, all_sources=True, database=self.database, **kwargs)  # type: ignore[arg-type]

    def count(self, model: type) -> int:
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


def make_config(tmp_path: Path, url: str, ofsted: str, paper: str, smtp: str, hook: str) -> Config:
    path = tmp_path / "ofsted-watch.toml"
    path.write_text(
        f"""
[database]
url = "{url}"
[crawl]
delay = 0
deadline = "90s"
cache_dir = "{tmp_path / "cache"}"
[alerts]
failing_after = 2
[[source]]
name = "ofsted"
kind = "ofsted"
url = "{ofsted}"
authorities = ["Southend"]
[[source]]
name = "echo"
kind = "feed"
url = "{paper}/rss"
[[channel]]
name = "comms"
kind = "email"
smtp = "{smtp}"
from = "watch@test.invalid"
to = ["comms@test.invalid"]
[[channel]]
name = "hook"
kind = "webhook"
url = "{hook}/in"
secret = "env:SECRET"
events = ["outcome.new", "outcome.changed", "outcome.confirmed", "coverage.mismatch",
          "source.failing", "source.recovered"]
""",
        encoding="utf-8",
    )
    return load_config(path, {"SECRET": SECRET})


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    with (
        SiteServer() as ofsted,
        SiteServer() as paper,
        SmtpSink() as smtp,
        WebhookReceiver(secret=SECRET) as hook,
    ):
        config = make_config(tmp_path, database_url, ofsted.url, paper.url, smtp.url, hook.url)
        database = Database.open(database_url)
        w = World(ofsted, paper, smtp, hook, config, database, {}, list(content.SOUTHEND_OLD))
        w.add_report(201, date(2020, 1, 28), SOUTHEND_2019)
        yield w
        database.close()


def test_first_pass_is_a_baseline_and_reruns_change_nothing(world: World) -> None:
    first = world.run()
    assert first.exit_code == 0
    assert first.deliveries == () and world.count(OutboxRow) == 0
    assert world.count(InspectionEventRow) == 1
    rows = (world.count(InspectionEventRow), world.count(ObservationRow), world.count(PageRow))
    again = world.run()
    assert again.deliveries == () and again.queued == 0
    assert (
        world.count(InspectionEventRow),
        world.count(ObservationRow),
        world.count(PageRow),
    ) == rows
    assert world.smtp.messages == [] and world.hook.requests == []


def test_press_first_then_ofsted_confirms_once(world: World) -> None:
    world.run()
    world.add_story(content.SOUTHEND_NEW)
    reported = world.run()
    assert [d.event_type for d in reported.deliveries] == ["outcome.changed"] * 2
    assert world.smtp.wait_for(1) and world.hook.wait_for(1)
    mail = world.smtp.messages[0]
    assert "Southend-on-Sea" in mail["Subject"] and "Good" in mail["Subject"]
    body = world.hook.requests[0].json
    assert body["type"] == "outcome.changed" and world.hook.requests[0].verified
    assert body["data"]["outcome"]["status"] == "reported"
    assert body["data"]["previous"]["overall"] == "requires_improvement"

    world.add_report(202, date(2024, 12, 10), SOUTHEND_2024)
    confirmed = world.run()
    assert [d.event_type for d in confirmed.deliveries] == ["outcome.confirmed"] * 2
    assert world.count(InspectionEventRow) == 2  # the story and the report are one event
    final = world.hook.requests[-1].json["data"]
    assert final["outcome"]["status"] == "confirmed"
    assert final["outcome"]["judgements"]["children_in_care"] == "requires_improvement"
    assert {s["kind"] for s in final["sources"]} == {"ofsted", "feed"}

    assert world.run().deliveries == ()
    ids = [r.headers["webhook-id"] for r in world.hook.requests]
    assert len(ids) == len(set(ids)) == 2


def test_report_and_story_in_one_pass_make_one_alert(world: World) -> None:
    world.run()
    world.add_report(202, date(2024, 12, 10), SOUTHEND_2024)
    world.add_story(content.SOUTHEND_NEW)
    report = world.run()
    assert [d.event_type for d in report.deliveries] == ["outcome.changed"] * 2
    data = world.hook.requests[0].json["data"]
    assert data["outcome"]["status"] == "confirmed"
    assert len(data["sources"]) == 2


def test_press_contradicting_ofsted_raises_one_mismatch(world: World) -> None:
    world.run()
    wrong = content.Story(
        "/news/southend-outstanding",
        "Southend children's services rated outstanding",
        date(2024, 12, 11),
        (
            "Ofsted has rated children's services in Southend outstanding after an inspection"
            " last month.",
        ),
    )
    world.add_report(202, date(2024, 12, 10), SOUTHEND_2024)
    world.run()
    world.add_story(wrong)
    report = world.run()
    assert [d.event_type for d in report.deliveries] == ["coverage.mismatch"] * 2
    data = world.hook.requests[-1].json["data"]
    assert data["claim"]["overall"] == "outstanding" and data["outcome"]["overall"] == "good"
    assert world.run().deliveries == ()


def test_mail_server_down_loses_nothing_and_sends_once(world: World, tmp_path: Path) -> None:
    world.run()
    world.smtp.stop()
    world.add_report(202, date(2024, 12, 10), SOUTHEND_2024)
    down = world.run()
    email = [d for d in down.deliveries if d.channel == "comms"]
    assert email and not email[0].result.ok and down.exit_code == 1
    with world.database.transaction() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.channel == "comms")).one()
        assert row.status == "pending" and row.attempts == 1
        row.next_attempt_at = row.created_at  # the backoff has passed
    with SmtpSink() as smtp:
        config = make_config(
            tmp_path,
            world.config.database_url,
            world.ofsted.url,
            world.paper.url,
            smtp.url,
            world.hook.url,
        )
        up = run_pass(config, all_sources=True, database=world.database)
        assert [d.channel for d in up.deliveries] == ["comms"]
        assert smtp.wait_for(1) and len(smtp.messages) == 1
        assert run_pass(config, all_sources=True, database=world.database).deliveries == ()
    assert len(world.hook.requests) == 1


def test_broken_pdf_and_dead_source_do_not_stop_the_others(world: World) -> None:
    world.run()
    world.ofsted.put(
        "/v1/file/999", b"<html>Report not found</html>", content_type="application/pdf"
    )
    pubs = [p for p, _ in world.reports.values()]
    pubs.append(
        content.Publication(SOUTHEND_URN, 999, "Children's services inspection", date(2025, 1, 1))
    )
    world.ofsted.put(
        f"/provider/44/{SOUTHEND_URN}",
        content.provider_page("Southend", SOUTHEND_URN, pubs, world.ofsted.url),
    )
    world.paper.put("/rss", b"gone", status=500)
    report = world.run()
    by_name = {s.name: s for s in report.sources}
    assert report.exit_code == 1
    assert any("/v1/file/999" in e for e in by_name["ofsted"].errors)
    assert by_name["echo"].errors
    # Failures are typed: a report that does not read is a parse problem, a 500 a fetch problem.
    assert ("parse", True) in {
        (p.kind, "/v1/file/999" in (p.url or "")) for p in by_name["ofsted"].problems
    }
    assert {p.kind for p in by_name["echo"].problems} == {"fetch"}
    with world.database.transaction() as session:
        page = session.scalars(select(PageRow).where(PageRow.url.endswith("/v1/file/999"))).one()
        assert page.parse_error
    assert world.count(InspectionEventRow) == 1
    problems = status_data(world.database)["runs"][0]["problems"]
    assert {"source": "echo", "kind": "fetch"}.items() <= problems[-1].items()


def test_failing_source_alerts_operators_once_then_recovers(world: World) -> None:
    world.run()
    world.paper.put("/rss", b"down", status=503)
    first, second, third = world.run(), world.run(), world.run()
    failing = [d for r in (first, second, third) for d in r.deliveries]
    assert [d.event_type for d in failing] == ["source.failing"]
    world.publish()
    recovered = world.run()
    assert [d.event_type for d in recovered.deliveries] == ["source.recovered"]
    assert world.smtp.messages == []  # comms hear only about outcomes


def test_history_shows_the_merged_timeline(world: World) -> None:
    from click.testing import CliRunner

    from scheduler.cli import cli

    world.run()
    world.add_story(content.SOUTHEND_NEW)
    world.run()
    runner = CliRunner(env={"SECRET": SECRET})
    args = ["--config", world.config.path, "history", "Southend-on-Sea City Council"]
    rows = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert [(r["overall"], r["status"]) for r in rows] == [
        ("requires_improvement", "confirmed"),
        ("good", "reported"),
    ]
    csv_text = runner.invoke(cli, [*args, "--csv"]).output
    assert csv_text.splitlines()[0].startswith("local_authority,published,event_type,framework")
    table = runner.invoke(cli, [*args]).output
    assert "requires_improvement" in table and "reported" in table
