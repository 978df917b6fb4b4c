"""One event per inspection however many sources report it: merging, confirmation, grade changes,
mismatches, baselines and old news, asserted on the stored rows and on what real SMTP and webhook
servers received."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from db.engine import Database
from db.models import ChangeRow, InspectionEventRow, ObservationRow, OutboxRow
from scheduler.cli import cli
from scheduler.config import Config, load_config
from scheduler.demo import content
from scheduler.demo.receivers import SmtpSink, WebhookReceiver
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer
from scheduler.run import PassReport, run_pass

SECRET = "whsec_aGlzdG9yeS10ZXN0cy1zZWNyZXQ="
URN = "80571"  # Thurrock


def ilacs(start: date, end: date, overall: str | None, **grades: str) -> ReportSpec:
    return ReportSpec(
        authority="Thurrock Council",
        kind="ilacs",
        start=start,
        end=end,
        lead_inspector="Test Inspector",
        judgements=grades,
        overall=overall,
    )


HISTORY = {
    11: (
        date(2016, 6, 1),
        ReportSpec(
            authority="Thurrock Council",
            kind="sif",
            start=date(2016, 3, 1),
            end=date(2016, 3, 24),
            lead_inspector="Test Inspector",
            overall="requires_improvement",
            judgements={
                "help_and_protection": "requires_improvement",
                "children_in_care": "requires_improvement",
                "adoption": "good",
                "care_leavers": "requires_improvement",
                "leaders": "requires_improvement",
            },
        ),
    ),
    12: (
        date(2019, 10, 10),
        ilacs(
            date(2019, 9, 2),
            date(2019, 9, 6),
            "good",
            leaders="good",
            help_and_protection="good",
            children_in_care_and_care_leavers="good",
        ),
    ),
    13: (
        date(2021, 12, 1),
        ReportSpec(
            authority="Thurrock Council",
            kind="focused_visit",
            start=date(2021, 10, 26),
            end=date(2021, 10, 27),
            lead_inspector="Test Inspector",
            priority_action=False,
        ),
    ),
}
NEW_REPORT = ilacs(
    date(2023, 3, 6),
    date(2023, 3, 17),
    "good",
    leaders="good",
    help_and_protection="good",
    children_in_care="requires_improvement",
    care_leavers="good",
)


def story(path: str, title: str, day: date, *paragraphs: str) -> content.Story:
    return content.Story(path, title, day, paragraphs)


GOOD_STORY = (
    "Ofsted has rated children's services in Thurrock good after an inspection in March.",
    "The council was previously rated good in 2019.",
)


FILLER = content.Story(
    "/news/roadworks",
    "Roadworks on the high street",
    date(2023, 1, 9),
    ("Resurfacing work starts next week and will take a fortnight.",),
)


@dataclass
class Sites:
    ofsted: SiteServer
    council: SiteServer
    paper_a: SiteServer
    paper_b: SiteServer
    reports: dict[int, tuple[date, ReportSpec]] = field(default_factory=dict)
    # Real listings and feeds are never empty; an empty one is reported as a layout change.
    council_news: list[content.Story] = field(default_factory=lambda: [FILLER])
    paper_a_news: list[content.Story] = field(default_factory=lambda: [FILLER])
    paper_b_news: list[content.Story] = field(default_factory=lambda: [FILLER])

    def publish(self) -> None:
        pubs = [
            content.Publication(URN, i, _label(spec), day)
            for i, (day, spec) in self.reports.items()
        ]
        page = content.provider_page("Thurrock", URN, pubs, self.ofsted.url)
        self.ofsted.put(f"/provider/44/{URN}", page)
        for file_id, (_, spec) in self.reports.items():
            pdf = make_report_pdf(spec)
            self.ofsted.put(f"/v1/file/{file_id}", pdf, content_type="application/pdf")
        self.council.put("/news", content.council_listing(self.council_news))
        for item in self.council_news:
            self.council.put(item.path, content.council_article(item))
        for site, items in ((self.paper_a, self.paper_a_news), (self.paper_b, self.paper_b_news)):
            site.put("/rss", content.rss_feed(site.url, items), content_type="application/rss+xml")
            for item in items:
                site.put(item.path, content.paper_article(item))


def _label(spec: ReportSpec) -> str:
    return (
        "Children's services focused visit"
        if spec.kind == "focused_visit"
        else ("Children's services inspection")
    )


@dataclass
class Harness:
    sites: Sites
    smtp: SmtpSink
    hook: WebhookReceiver
    config: Config
    database: Database

    def run(self, now: datetime | None = None) -> PassReport:
        self.sites.publish()
        return run_pass(self.config, all_sources=True, database=self.database, now=now)

    def claim(self, url_end: str) -> str | None:
        with self.database.transaction() as session:
            rows = session.scalars(
                select(ObservationRow).where(ObservationRow.page_url.endswith(url_end))
            ).all()
            assert len(rows) == 1  # edits update the observation, never add one
            overall: str | None = rows[0].payload["overall"]
            return overall

    def count(self, model: type) -> int:
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def hook_types(self) -> list[str]:
        return [r.json["type"] for r in self.hook.requests]


def write_config(tmp_path: Path, url: str, sites: Sites, smtp: SmtpSink, hook: str) -> Path:
    path = tmp_path / "ofsted-watch.toml"
    path.write_text(
        f"""
[database]
url = "{url}"
[crawl]
delay = 0
cache_dir = "{tmp_path / "cache"}"
[atom]
path = "{tmp_path / "feed.xml"}"
url = "https://alerts.test.invalid/feed.xml"
[[source]]
name = "ofsted"
kind = "ofsted"
url = "{sites.ofsted.url}"
authorities = ["Thurrock"]
[[source]]
name = "thurrock-news"
kind = "news"
url = "{sites.council.url}/news"
authorities = ["Thurrock"]
[[source]]
name = "gazette"
kind = "feed"
url = "{sites.paper_a.url}/rss"
[[source]]
name = "courier"
kind = "feed"
url = "{sites.paper_b.url}/rss"
[[channel]]
name = "comms"
kind = "email"
smtp = "{smtp.url}"
from = "watch@test.invalid"
to = ["comms@thurrock.test.invalid"]
[[channel]]
name = "hook"
kind = "webhook"
url = "{hook}/in"
secret = "env:SECRET"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    with (
        SiteServer() as ofsted,
        SiteServer() as council,
        SiteServer() as paper_a,
        SiteServer() as paper_b,
        SmtpSink() as smtp,
        WebhookReceiver(secret=SECRET) as hook,
    ):
        sites = Sites(ofsted, council, paper_a, paper_b, reports=dict(HISTORY))
        config = load_config(
            write_config(tmp_path, database_url, sites, smtp, hook.url), {"SECRET": SECRET}
        )
        database = Database.open(database_url)
        yield Harness(sites, smtp, hook, config, database)
        database.close()


def test_baseline_over_years_of_history_alerts_nothing(harness: Harness) -> None:
    harness.sites.paper_a_news.append(
        story(
            "/news/2019-good",
            "Thurrock children's services rated good",
            date(2019, 10, 11),
            "Ofsted has rated Thurrock's children's services good, up from requires improvement.",
        )
    )
    first = harness.run()
    assert first.queued == 0 and first.deliveries == ()
    assert harness.count(InspectionEventRow) == 3  # SIF 2016, ILACS 2019, focused visit 2021
    assert harness.count(ObservationRow) == 4  # the 2019 story joined the 2019 report
    assert harness.run().deliveries == ()
    assert harness.smtp.messages == [] and harness.hook.requests == []


def test_four_sources_make_one_new_alert_then_one_confirmation(harness: Harness) -> None:
    harness.run()
    day = date(2023, 4, 20)
    harness.sites.council_news.append(
        story(
            "/news/our-rating",
            "Our children's services are good",
            day,
            "Ofsted has judged our children's services good in a report published today.",
            "Services were also rated good in 2019.",
        )
    )
    harness.sites.paper_a_news.append(
        story("/news/thurrock-good", "Thurrock stays good", day, *GOOD_STORY)
    )
    harness.sites.paper_b_news.append(
        story("/news/good-again", "Good again for Thurrock", day, *GOOD_STORY)
    )
    reported = harness.run()
    assert [d.event_type for d in reported.deliveries] == ["outcome.new", "outcome.new"]
    harness.sites.reports[14] = (day, NEW_REPORT)
    confirmed = harness.run()
    assert [d.event_type for d in confirmed.deliveries] == ["outcome.confirmed"] * 2
    assert harness.run().deliveries == ()

    assert harness.hook_types() == ["outcome.new", "outcome.confirmed"]
    assert harness.smtp.wait_for(2) and len(harness.smtp.messages) == 2
    final = harness.hook.requests[-1].json["data"]
    assert {s["name"] for s in final["sources"]} == {
        "thurrock-news",
        "gazette",
        "courier",
        "ofsted",
    }
    assert final["previous"]["overall"] == "good"
    with harness.database.transaction() as session:
        event = session.scalars(
            select(InspectionEventRow).where(
                InspectionEventRow.inspection_start == date(2023, 3, 6)
            )
        ).one()
        assert event.status == "confirmed" and len(event.observations) == 4
        assert {j.area: j.grade for j in event.judgements}[
            "children_in_care"
        ] == "requires_improvement"
    assert harness.count(ChangeRow) == 2


def test_a_grade_change_alerts_with_per_area_before_and_after(harness: Harness) -> None:
    harness.run()
    worse = ilacs(
        date(2023, 3, 6),
        date(2023, 3, 17),
        "requires_improvement",
        leaders="requires_improvement",
        help_and_protection="requires_improvement",
        children_in_care="good",
        care_leavers="good",
    )
    harness.sites.reports[14] = (date(2023, 4, 20), worse)
    report = harness.run()
    assert [d.event_type for d in report.deliveries] == ["outcome.changed"] * 2
    data = harness.hook.requests[0].json["data"]
    assert data["previous"]["judgements"]["children_in_care_and_care_leavers"] == "good"
    assert data["outcome"]["judgements"]["leaders"] == "requires_improvement"
    assert harness.smtp.wait_for(1)
    mail = harness.smtp.messages[0]
    assert mail["Subject"] == (
        "Ofsted: Thurrock children's services now Requires improvement (was Good, 2019)"
    )
    text = mail.get_body(("plain",)).get_content()
    assert "Good" in text and "Requires improvement" in text


def test_press_contradicting_the_report_is_one_mismatch_even_when_it_flips(
    harness: Harness,
) -> None:
    # The passes run on the story's own clock: articles are re-read for edits while they are
    # young by their own date.
    clock = datetime(2023, 4, 21, 8, 0)
    harness.run(now=clock - timedelta(days=2))
    harness.sites.reports[14] = (date(2023, 4, 20), NEW_REPORT)
    harness.run(now=clock - timedelta(hours=12))
    wrong = story(
        "/news/outstanding",
        "Thurrock rated outstanding",
        date(2023, 4, 21),
        "Ofsted has rated children's services in Thurrock outstanding after an"
        " inspection in March.",
    )
    harness.sites.paper_a_news.append(wrong)
    mismatch = harness.run(now=clock)
    assert [d.event_type for d in mismatch.deliveries] == ["coverage.mismatch"] * 2
    # The paper corrects its story, then reverts the correction: no second mismatch alert.
    # Young articles are re-read for edits after 12 hours.
    fixed = story(wrong.path, "Thurrock rated good", wrong.published, *GOOD_STORY)
    harness.sites.paper_a_news[-1] = fixed
    assert harness.run(now=clock + timedelta(hours=13)).deliveries == ()
    assert harness.claim("/news/outstanding") == "good"
    harness.sites.paper_a_news[-1] = wrong
    assert harness.run(now=clock + timedelta(hours=26)).deliveries == ()
    assert harness.claim("/news/outstanding") == "outstanding"
    # Once the story is older than recheck_days by its own date, it is not fetched again.
    harness.sites.paper_a_news[-1] = fixed
    harness.run(now=clock + timedelta(days=5))
    assert harness.claim("/news/outstanding") == "outstanding"
    assert harness.hook_types().count("coverage.mismatch") == 1


def test_old_news_is_recorded_but_not_alerted(harness: Harness) -> None:
    harness.run()
    harness.sites.paper_b_news.append(
        story(
            "/news/looking-back",
            "Looking back: the 2016 inspection",
            date(2023, 5, 2),
            "Thurrock's children's services were judged to require improvement by Ofsted in 2016.",
        )
    )
    harness.sites.paper_b_news.append(
        story(
            "/news/pilot",
            "Thurrock took part in a pilot",
            date(2017, 6, 1),
            "Thurrock's children's services were rated good in a pilot inspection in May 2017.",
        )
    )
    report = harness.run()
    assert report.deliveries == () and harness.count(OutboxRow) == 0
    assert harness.hook.requests == []


def test_atom_feed_and_outcomes_command(harness: Harness, tmp_path: Path) -> None:
    harness.run()
    harness.sites.reports[14] = (date(2023, 4, 20), NEW_REPORT)
    harness.run()
    feed = ET.parse(tmp_path / "feed.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].findtext("a:title", namespaces=ns).startswith("Ofsted: Thurrock")
    (self_link,) = feed.findall("a:link[@rel='self']", ns)
    assert self_link.get("href") == "https://alerts.test.invalid/feed.xml"
    (alternate,) = entries[0].findall("a:link[@rel='alternate']", ns)
    assert alternate.get("href", "").startswith(harness.sites.ofsted.url)
    assert (tmp_path / "feed.xml").stat().st_mode & 0o777 == 0o644
    runner = CliRunner(env={"SECRET": SECRET})
    base = ["--config", harness.config.path, "outcomes"]
    rows = runner.invoke(cli, [*base, "--since", "2019-01-01", "--kind", "inspection", "--json"])
    assert rows.exit_code == 0, rows.output
    assert '"overall": "good"' in rows.output and "2016" not in rows.output
    east = runner.invoke(cli, [*base, "--region", "East of England", "--csv"])
    assert len(east.output.strip().splitlines()) == 1 + 4
    none = runner.invoke(cli, [*base, "--region", "London"])
    assert none.output.strip() == "no stored events match"


def test_baseline_command_records_without_alerting(harness: Harness) -> None:
    harness.sites.reports[14] = (date(2023, 4, 20), NEW_REPORT)
    harness.sites.publish()
    runner = CliRunner(env={"SECRET": SECRET})
    result = runner.invoke(cli, ["--config", harness.config.path, "baseline"])
    assert result.exit_code == 0, result.output
    assert harness.count(InspectionEventRow) == 4 and harness.count(OutboxRow) == 0
    assert harness.run().deliveries == ()


@pytest.mark.parametrize(
    ("day", "wording"),
    [
        (date(2023, 8, 2), "after inspectors visited in June 2023"),
        (date(2023, 7, 12), "after an inspection last month"),
        (date(2023, 9, 4), "after inspectors visited in the summer"),
    ],
    ids=["month", "last-month", "season"],
)
def test_a_month_precise_press_date_joins_the_report_it_describes(
    harness: Harness, day: date, wording: str
) -> None:
    harness.run()
    june = ilacs(
        date(2023, 6, 26),
        date(2023, 6, 30),
        "requires_improvement",
        leaders="good",
        help_and_protection="requires_improvement",
        children_in_care="good",
        care_leavers="requires_improvement",
    )
    harness.sites.reports[15] = (date(2023, 7, 10), june)
    first = harness.run()
    assert [d.event_type for d in first.deliveries] == ["outcome.changed"] * 2
    events = harness.count(InspectionEventRow)
    harness.sites.paper_a_news.append(
        story(
            "/news/thurrock-ri",
            "Thurrock children's services must improve",
            day,
            f"Children's services in Thurrock require improvement to be good, Ofsted has said,"
            f" {wording}.",
        )
    )
    joined = harness.run()
    assert joined.deliveries == ()  # the same inspection: no new event, no false change
    assert harness.count(InspectionEventRow) == events
    with harness.database.transaction() as session:
        event = session.scalars(
            select(InspectionEventRow).where(
                InspectionEventRow.inspection_start == date(2023, 6, 26)
            )
        ).one()
        assert len(event.observations) == 2 and event.inspection_end == date(2023, 6, 30)
