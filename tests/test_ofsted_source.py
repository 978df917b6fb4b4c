"""The Ofsted source: search-listing discovery, predecessors' pages, and loud failures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from crawler.authorities import AuthorityRegistry
from crawler.launcher import run_crawl
from crawler.sources import SourceConfig
from crawler.spiders.ofsted import SEARCH_ROWS, search_page
from crawler.spool import CrawlJob, CrawlResult
from db.engine import Database
from scheduler.config import load_config, resolve_authorities
from scheduler.demo import content
from scheduler.demo.receivers import WebhookReceiver
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer
from scheduler.run import run_pass

THURROCK = ReportSpec(
    authority="Thurrock Council",
    kind="ilacs",
    start=date(2023, 3, 6),
    end=date(2023, 3, 17),
    lead_inspector="Test Inspector",
    judgements={
        "leaders": "good",
        "help_and_protection": "good",
        "children_in_care": "good",
        "care_leavers": "good",
    },
    overall="good",
)


def crawl(
    site: SiteServer, tmp_path: Path, names: list[str], discover: bool = False
) -> CrawlResult:
    source = SourceConfig(
        name="ofsted",
        kind="ofsted",
        url=site.url,
        authorities=resolve_authorities(names, "test"),
        discover=discover,
    )
    job = CrawlJob(
        sources=(source,),
        skip_urls=frozenset(),
        cache_dir=str(tmp_path / "cache"),
        user_agent="ofsted-watch-test",
        delay=0,
        timeout=10,
        max_bytes=10_000_000,
        deadline=60,
    )
    return run_crawl(job)


def provider(site: SiteServer, name: str, urn: str, file_id: int) -> None:
    pub = content.Publication(urn, file_id, "Children's services inspection", date(2023, 4, 20))
    site.put(f"/provider/44/{urn}", content.provider_page(name, urn, [pub], site.url))
    site.put(f"/v1/file/{file_id}", b"%PDF-1.4 placeholder", content_type="application/pdf")


def _filler(count: int, skip: set[str]) -> list[tuple[str, str]]:
    """Rows of real councils that nobody watches, to fill a page of the listing."""
    registry = AuthorityRegistry.load()
    rows = [
        (a.name, a.ofsted_urn)
        for a in registry.all()
        if a.is_current and a.ofsted_urn and a.short_name not in skip
    ]
    return rows[:count]


def test_discovery_steps_through_the_listing_and_maps_providers_by_urn_or_name(
    site: SiteServer, tmp_path: Path
) -> None:
    skip = {"Essex", "Southend-on-Sea", "Thurrock", "Medway"}
    first = [("Essex County Council", "80468"), ("Atlantis Borough Council", "999999")]
    first += _filler(SEARCH_ROWS - len(first), skip)
    # No pager at all: the listing is stepped by start= until a page comes back short.
    site.put(search_page("", 0), content.search_listing(first, None))
    # A URN the registry has never seen: the provider is still found by its name.
    second = [("Southend-on-Sea City Council", "7777001"), ("Thurrock Council", "80571")]
    site.put(search_page("", SEARCH_ROWS), content.search_listing(second, None))
    provider(site, "Essex", "80468", 1)
    provider(site, "Southend-on-Sea", "7777001", 2)
    provider(site, "Thurrock", "80571", 3)
    result = crawl(site, tmp_path, ["Essex", "Southend", "Medway"], discover=True)
    roles = sorted((p.role, p.url.split("/", 3)[3]) for p in result.pages)
    assert ("provider_page", "provider/44/80468") in roles
    assert ("provider_page", "provider/44/7777001") in roles
    assert site.hits("/provider/44/80571") == 0  # listed, but not watched
    assert [f.message for f in result.failures] == [
        "provider 'Atlantis Borough Council' (URN 999999) is not in the council registry",
        "watched council Medway is not in the search listing",
    ]
    southend = next(p for p in result.pages if p.url.endswith("/7777001"))
    assert southend.meta_value("ons_code") == "E06000033"
    assert site.hits(search_page("", 2 * SEARCH_ROWS)) == 0  # the short page was the last


def test_a_successor_also_reads_its_predecessors_page(site: SiteServer, tmp_path: Path) -> None:
    provider(site, "Cumberland", "2733690", 1)
    provider(site, "Cumbria", "135513", 2)
    result = crawl(site, tmp_path, ["Cumberland"])
    codes = {
        p.url.rsplit("/", 1)[1]: p.meta_value("ons_code")
        for p in result.pages
        if p.role == "provider_page"
    }
    assert codes == {"2733690": "E06000063", "135513": "E10000006"}


def test_a_provider_page_with_no_reports_is_a_failure(site: SiteServer, tmp_path: Path) -> None:
    site.put("/provider/44/80571", "<html><body><h1>Thurrock</h1><p>Nothing here</p></body></html>")
    result = crawl(site, tmp_path, ["Thurrock"])
    assert [f.message for f in result.failures] == [
        "provider page lists no reports (has the layout changed?)"
    ]


def test_an_unreadable_report_keeps_the_source_failing_until_it_reads(
    site: SiteServer, tmp_path: Path
) -> None:
    pub = content.Publication("80571", 9, "Children's services inspection", date(2023, 4, 20))
    site.put("/provider/44/80571", content.provider_page("Thurrock", "80571", [pub], site.url))
    site.put("/v1/file/9", b"<html>Report not found</html>", content_type="application/pdf")
    with WebhookReceiver() as ops:
        path = tmp_path / "c.toml"
        path.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n'
            f'[crawl]\ndelay = 0\ncache_dir = "{tmp_path / "cache"}"\n[alerts]\nfailing_after = 2\n'
            f'[[source]]\nname = "ofsted"\nkind = "ofsted"\nurl = "{site.url}"\n'
            'authorities = ["Thurrock"]\n'
            f'[[channel]]\nname = "ops"\nkind = "webhook"\nurl = "{ops.url}/ops"\n'
            'events = ["source.failing", "source.recovered"]\n'
        )
        config = load_config(path, {})
        database = Database.open(config.database_url)
        reports = [run_pass(config, all_sources=True, database=database) for _ in range(3)]
        assert all(r.exit_code == 1 for r in reports)
        assert all("/v1/file/9" in r.sources[0].errors[0] for r in reports)
        assert [d.event_type for r in reports for d in r.deliveries] == ["source.failing"]
        assert "/v1/file/9" in ops.requests[0].json["data"]["message"]
        site.put("/v1/file/9", make_report_pdf(THURROCK), content_type="application/pdf")
        fixed = run_pass(config, all_sources=True, database=database)
        assert fixed.exit_code == 0 and fixed.sources[0].outcomes == 1
        assert [d.event_type for d in fixed.deliveries] == ["source.recovered"]
        database.close()
