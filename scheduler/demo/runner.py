"""`ofsted-watch demo`: three local sites, a real SMTP server and a webhook receiver, three passes.

Pass 1 records the baseline and alerts nothing. Then Essex's new report and the council's story
appear, and a local paper reports Southend's new grade (pass 2). Then Ofsted publishes Southend's
report, which confirms what the paper said (pass 3).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from crawler.errors import MonitorError
from scheduler.config import Config, load_config
from scheduler.demo import content
from scheduler.demo.receivers import SmtpSink, WebhookReceiver
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer
from scheduler.run import PassReport, run_pass

WEBHOOK_SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLW9mc3RlZC13YXRjaA=="
Echo = Callable[[str], None]

ESSEX, SOUTHEND, THURROCK = "80468", "80559", "80571"
NAMES = {ESSEX: "Essex", SOUTHEND: "Southend-on-Sea", THURROCK: "Thurrock"}

REPORTS: dict[int, tuple[content.Publication, ReportSpec]] = {
    101: (
        content.Publication(ESSEX, 101, "Children's services inspection", date(2018, 12, 4)),
        ReportSpec(
            authority="Essex County Council",
            kind="ilacs",
            start=date(2018, 10, 8),
            end=date(2018, 10, 19),
            lead_inspector="Alison Demo",
            judgements={
                "leaders": "outstanding",
                "help_and_protection": "outstanding",
                "children_in_care_and_care_leavers": "good",
            },
            overall="outstanding",
        ),
    ),
    102: (
        content.Publication(ESSEX, 102, "Children's services focused visit", date(2021, 11, 22)),
        ReportSpec(
            authority="Essex County Council",
            kind="focused_visit",
            start=date(2021, 10, 18),
            end=date(2021, 10, 19),
            lead_inspector="Brian Example",
        ),
    ),
    201: (
        content.Publication(SOUTHEND, 201, "Children's services inspection", date(2020, 1, 28)),
        ReportSpec(
            authority="Southend-on-Sea Borough Council",
            kind="ilacs",
            start=date(2019, 11, 25),
            end=date(2019, 12, 6),
            lead_inspector="Carol Sample",
            judgements={
                "leaders": "requires_improvement",
                "help_and_protection": "requires_improvement",
                "children_in_care_and_care_leavers": "requires_improvement",
            },
            overall="requires_improvement",
        ),
    ),
    301: (
        content.Publication(THURROCK, 301, "Children's services inspection", date(2019, 10, 10)),
        ReportSpec(
            authority="Thurrock Council",
            kind="ilacs",
            start=date(2019, 9, 2),
            end=date(2019, 9, 6),
            lead_inspector="Dev Placeholder",
            judgements={
                "leaders": "good",
                "help_and_protection": "good",
                "children_in_care_and_care_leavers": "good",
            },
            overall="good",
        ),
    ),
}

ESSEX_2022 = (
    content.Publication(ESSEX, 103, "Children's services inspection", date(2022, 8, 2)),
    ReportSpec(
        authority="Essex County Council",
        kind="ilacs",
        start=date(2022, 6, 13),
        end=date(2022, 6, 24),
        lead_inspector="Alison Demo",
        judgements={
            "leaders": "outstanding",
            "help_and_protection": "outstanding",
            "children_in_care_and_care_leavers": "outstanding",
        },
        overall="outstanding",
    ),
)

SOUTHEND_2024 = (
    content.Publication(SOUTHEND, 202, "Children's services inspection", date(2024, 12, 10)),
    ReportSpec(
        authority="Southend-on-Sea City Council",
        kind="ilacs",
        start=date(2024, 11, 11),
        end=date(2024, 11, 22),
        lead_inspector="Carol Sample",
        judgements={
            "leaders": "good",
            "help_and_protection": "good",
            "children_in_care": "requires_improvement",
            "care_leavers": "good",
        },
        overall="good",
    ),
)


class DemoSites:
    """The three demo sites on 127.0.0.1 and the pages each has published so far."""

    def __init__(self) -> None:
        self.ofsted = SiteServer().start()
        self.council = SiteServer().start()
        self.paper = SiteServer().start()
        self.reports = dict(REPORTS)
        self.essex_stories = list(content.ESSEX_OLD)
        self.paper_stories = list(content.SOUTHEND_OLD)
        self.publish()

    def stop(self) -> None:
        for site in (self.ofsted, self.council, self.paper):
            site.stop()

    def add_report(self, item: tuple[content.Publication, ReportSpec]) -> None:
        self.reports[item[0].file_id] = item
        self.publish()

    def publish(self) -> None:
        self._publish_ofsted()
        self.council.put("/news", content.council_listing(self.essex_stories))
        for story in self.essex_stories:
            self.council.put(story.path, content.council_article(story))
        feed = content.rss_feed(self.paper.url, self.paper_stories)
        self.paper.put("/news/rss", feed, content_type="application/rss+xml")
        for story in self.paper_stories:
            self.paper.put(story.path, content.paper_article(story))

    def _publish_ofsted(self) -> None:
        for urn, name in NAMES.items():
            pubs = [p for p, _ in self.reports.values() if p.urn == urn]
            page = content.provider_page(name, urn, pubs, self.ofsted.url)
            self.ofsted.put(f"/provider/44/{urn}", page)
        for file_id, (_, spec) in self.reports.items():
            pdf = make_report_pdf(spec)
            self.ofsted.put(f"/v1/file/{file_id}", pdf, content_type="application/pdf")


def demo_config(work: Path, sites: DemoSites, smtp: SmtpSink, hook: WebhookReceiver) -> Config:
    text = f"""
[database]
url = "sqlite:///{work / "ofsted-watch.db"}"

[crawl]
delay = 0
deadline = "2m"
cache_dir = "{work / "httpcache"}"

[[source]]
name = "ofsted"
kind = "ofsted"
url = "{sites.ofsted.url}"
authorities = ["Essex", "Southend-on-Sea", "Thurrock"]

[[source]]
name = "essex-news"
kind = "news"
authorities = ["Essex"]
url = "{sites.council.url}/news"

[[source]]
name = "echo"
kind = "feed"
url = "{sites.paper.url}/news/rss"

[[channel]]
name = "comms"
kind = "email"
smtp = "{smtp.url}"
from = "ofsted-watch@demo.invalid"
to = ["comms@essex.demo.invalid", "press-office@southend.demo.invalid"]

[[channel]]
name = "newsroom-hook"
kind = "webhook"
url = "{hook.url}/ofsted"
format = "standard"
secret = "env:OW_DEMO_WEBHOOK_SECRET"
"""
    path = work / "ofsted-watch.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {"OW_DEMO_WEBHOOK_SECRET": WEBHOOK_SECRET})


def _show(echo: Echo, title: str, report: PassReport) -> int:
    echo(f"\n== {title}")
    for source in report.sources:
        state = "ok" if source.ok else "; ".join(source.errors[:2])
        echo(
            f"   {source.name:11} {source.pages:3} page(s) {source.outcomes:3} outcome(s)  {state}"
        )
    if not report.deliveries:
        echo("   no alerts")
    for d in report.deliveries:
        mark = "delivered" if d.result.ok else f"FAILED: {d.result.error}"
        echo(f"   [{d.event_type}] {d.channel} -> {d.recipient}\n      {d.subject}  ({mark})")
    return len([d for d in report.deliveries if d.result.ok])


def run_demo(*, keep: bool = False, echo: Echo = print) -> int:
    """Run the whole demo; returns 0 when every expected alert arrived through both channels."""
    work = Path(tempfile.mkdtemp(prefix="ofsted-watch-demo-"))
    sites = DemoSites()
    try:
        with SmtpSink() as smtp, WebhookReceiver(secret=WEBHOOK_SECRET) as hook:
            config = demo_config(work, sites, smtp, hook)
            delivered = _passes(config, sites, echo)
            return _verdict(echo, delivered, smtp, hook)
    except MonitorError as exc:
        echo(f"Error: {exc}")
        return 1
    finally:
        sites.stop()
        if keep:
            echo(f"\ndemo files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _passes(config: Config, sites: DemoSites, echo: Echo) -> int:
    echo(
        "ofsted-watch demo: local sites for Ofsted, an Essex-like council and a Southend-like paper"
    )
    _show(echo, "Pass 1: baseline (history is recorded, nothing is alerted)", run_pass(config))
    sites.add_report(ESSEX_2022)
    sites.essex_stories.append(content.ESSEX_NEW)
    sites.paper_stories.append(content.SOUTHEND_NEW)
    sites.publish()
    title = "Pass 2: Ofsted publishes Essex's report, the council and a paper publish stories"
    delivered = _show(echo, title, run_pass(config, all_sources=True))
    sites.add_report(SOUTHEND_2024)
    title = "Pass 3: Ofsted publishes Southend's report"
    delivered += _show(echo, title, run_pass(config, all_sources=True))
    delivered += _show(echo, "Pass 4: nothing new", run_pass(config, all_sources=True))
    return delivered


def _verdict(echo: Echo, delivered: int, smtp: SmtpSink, hook: WebhookReceiver) -> int:
    smtp.wait_for(delivered // 2, timeout=5)
    signed = [r for r in hook.requests if r.verified]
    echo(
        f"\nSMTP server received {len(smtp.messages)} message(s); webhook receiver accepted"
        f" {len(hook.requests)} delivery(ies), {len(signed)} with a valid signature."
    )
    return 0 if delivered and len(signed) == len(hook.requests) else 1
