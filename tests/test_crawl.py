"""End-to-end crawl tests: real local HTTP servers, the real child process, a temporary cache."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler import launcher as crawl
from crawler.launcher import run_crawl
from crawler.records import FetchedPage
from crawler.settings import closespider_timeout, scrapy_settings
from crawler.sources import SourceConfig
from crawler.spool import CrawlJob, CrawlResult
from scheduler.demo.sites import SiteServer

ESSEX = "E10000012"  # Ofsted URN 80468
ALLOW_ALL = "User-agent: *\nAllow: /\n"


def provider_page() -> str:
    return """<html><body><h1>Essex County Council</h1><ul>
    <li><a class="publication-link" href="/v1/file/1001">Report
      <span class="nonvisual">Children's services inspection, PDF - 10 March 2025</span></a></li>
    <li><a class="publication-link" href="/v1/file/1002">Letter <span class="nonvisual">
      Children's services focused visit, PDF - 01 August 2024</span></a></li>
    </ul></body></html>"""


def listing_page() -> str:
    return """<html><body><nav><a href="/news/menu">Menu</a></nav><main>
    <h2><a href="/news/ofsted-good">Rated good</a></h2>
    <h2><a href="/news/bins">Bins</a></h2>
    <h2><a href="/news/private-briefing">Briefing</a></h2>
    </main></body></html>"""


def rss(*slugs: str) -> str:
    items = "".join(
        f"<item><title>{s}</title><link>/stories/{s}</link>"
        "<pubDate>Tue, 04 Mar 2025 09:15:00 +0000</pubDate></item>"
        for s in slugs
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'


@pytest.fixture
def ofsted_site() -> Iterator[SiteServer]:
    with SiteServer() as site:
        site.put("/robots.txt", ALLOW_ALL, content_type="text/plain")
        site.put("/provider/44/80468", provider_page())
        site.put("/v1/file/1001", b"%PDF-1.4 report", content_type="application/pdf")
        site.put("/v1/file/1002", b"%PDF-1.4 letter", content_type="application/pdf")
        yield site


@pytest.fixture
def news_site() -> Iterator[SiteServer]:
    with SiteServer() as site:
        site.put(
            "/robots.txt", "User-agent: *\nDisallow: /news/private\n", content_type="text/plain"
        )
        site.put("/news", listing_page())
        for slug in ("ofsted-good", "bins", "private-briefing"):
            site.put(f"/news/{slug}", f"<html><body><h1>{slug}</h1></body></html>")
        yield site


@pytest.fixture
def feed_site() -> Iterator[SiteServer]:
    with SiteServer() as site:
        site.put("/robots.txt", ALLOW_ALL, content_type="text/plain")
        site.put("/feed.xml", rss("s1", "s2"), content_type="application/rss+xml")
        for slug in ("s1", "s2", "s3"):
            site.put(f"/stories/{slug}", f"<html><body><p>{slug}</p></body></html>")
        yield site


@pytest.fixture
def open_news_site(news_site: SiteServer) -> SiteServer:
    """The same newsroom, listing only the stories its robots.txt lets us read."""
    news_site.put("/news", listing_page().replace('<a href="/news/private-briefing">', "<a>"))
    return news_site


def make_job(
    tmp_path: Path, *sources: SourceConfig, skip: frozenset[str] = frozenset(), **options: float
) -> CrawlJob:
    settings: dict[str, float] = {"timeout": 10.0, "max_bytes": 1_000_000, "deadline": 30.0}
    settings.update(options)
    return CrawlJob(
        sources=sources,
        skip_urls=skip,
        cache_dir=str(tmp_path / "cache"),
        user_agent="ofsted-watch-test/1.0 (+https://example.org/bot)",
        delay=0.0,
        timeout=settings["timeout"],
        max_bytes=int(settings["max_bytes"]),
        deadline=settings["deadline"],
    )


def three_sources(ofsted: SiteServer, news: SiteServer, feed: SiteServer) -> list[SourceConfig]:
    return [
        SourceConfig("ofsted", "ofsted", ofsted.url, authorities=(ESSEX,)),
        SourceConfig("council-news", "news", news.url + "/news"),
        SourceConfig("echo", "feed", feed.url + "/feed.xml"),
    ]


def by_role(result: CrawlResult, source: str, role: str) -> list[FetchedPage]:
    return [p for p in result.pages_for(source) if p.role == role]


def test_no_sources_is_empty_without_a_process(tmp_path: Path) -> None:
    result = run_crawl(make_job(tmp_path))
    assert result == CrawlResult((), (), False, {})
    assert not (tmp_path / "cache").exists()


def test_unknown_kind_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    result = run_crawl(make_job(tmp_path, SourceConfig("odd", "gopher", "gopher://x")))
    assert [(f.source, f.message) for f in result.failures] == [
        ("odd", "unknown source kind 'gopher'")
    ]
    assert result.pages == ()


def test_settings_are_polite_and_revalidate(tmp_path: Path) -> None:
    settings = scrapy_settings(make_job(tmp_path, deadline=60.0))
    assert settings["DEFAULT_REQUEST_HEADERS"]["Cache-Control"] == "max-age=0"
    assert settings["HTTPCACHE_POLICY"].endswith("RFC2616Policy")
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["CLOSESPIDER_TIMEOUT"] == closespider_timeout(60.0) == 54.0
    assert closespider_timeout(3.0) == 2.0


def test_all_kinds_in_one_run_then_revalidate(
    tmp_path: Path, ofsted_site: SiteServer, news_site: SiteServer, feed_site: SiteServer
) -> None:
    sources = three_sources(ofsted_site, news_site, feed_site)
    first = run_crawl(make_job(tmp_path, *sources))

    # robots.txt refuses one article: a typed failure that names the refusing host, and the
    # page is never fetched.
    (refusal,) = first.failures
    assert refusal.kind == "refused" and refusal.url.endswith("/news/private-briefing")
    assert f"refused by {news_site.url}/robots.txt" in refusal.message
    assert not first.timed_out
    reports = by_role(first, "ofsted", "report")
    assert sorted(p.url for p in reports) == [
        ofsted_site.url + "/v1/file/1001",
        ofsted_site.url + "/v1/file/1002",
    ]
    report = next(p for p in reports if p.url.endswith("1001"))
    assert report.body == b"%PDF-1.4 report"
    assert report.meta_value("ons_code") == ESSEX
    assert report.meta_value("event_type") == "inspection"
    assert report.meta_value("published") == "2025-03-10"
    assert by_role(first, "ofsted", "provider_page")[0].meta_value("ons_code") == ESSEX
    articles = {p.url for p in by_role(first, "council-news", "article")}
    assert articles == {news_site.url + "/news/ofsted-good", news_site.url + "/news/bins"}
    assert news_site.hits("/news/private-briefing") == 0  # robots.txt said no
    assert {p.url for p in by_role(first, "echo", "article")} == {
        feed_site.url + "/stories/s1",
        feed_site.url + "/stories/s2",
    }
    assert not any(p.from_cache for p in first.pages)
    assert first.requests["ofsted"] == 3  # provider page, two reports (robots.txt is the site's)
    ua = news_site.requests[-1][2]["user-agent"]
    assert ua.startswith("ofsted-watch-test/1.0")

    # Second pass: known documents are skipped, unchanged entry pages revalidate to 304.
    feed_site.put("/feed.xml", rss("s3", "s1", "s2"), content_type="application/rss+xml")
    known = frozenset(p.url for p in first.pages if p.role in ("report", "article"))
    second = run_crawl(make_job(tmp_path, *sources, skip=known))

    assert [f.kind for f in second.failures] == ["refused"]  # refused again: still failing
    assert {(p.source, p.role, p.from_cache) for p in second.pages} == {
        ("ofsted", "provider_page", True),
        ("council-news", "listing", True),
        ("echo", "feed", False),  # it changed, so the server sent it in full
        ("echo", "article", False),
    }
    assert [p.url for p in by_role(second, "echo", "article")] == [feed_site.url + "/stories/s3"]
    etag = news_site.route("/news").etag  # type: ignore[union-attr]
    listing_requests = [h for _, path, h in news_site.requests if path == "/news"]
    assert listing_requests[-1].get("if-none-match") == etag
    assert listing_requests[-1].get("cache-control") == "max-age=0"
    assert second.pages_for("council-news")[0].body == first.pages_for("council-news")[0].body
    for url in known:
        site = next(s for s in (ofsted_site, news_site, feed_site) if url.startswith(s.url))
        assert site.hits(url.removeprefix(site.url)) == 1


def noise(size: int) -> bytes:
    """Bytes that gzip cannot shrink, so the size limit bites on the wire."""
    out, seed = bytearray(), b"seed"
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_failures_are_reported_while_other_sources_still_work(
    tmp_path: Path, open_news_site: SiteServer
) -> None:
    with SiteServer() as bad:
        bad.put("/robots.txt", ALLOW_ALL, content_type="text/plain")
        bad.put("/broken", "oops", status=500)
        bad.put("/busy.xml", "slow down", status=429, headers={"Retry-After": "120"})
        bad.put("/huge", noise(200_000))  # too big on the wire
        bad.put("/bomb", b"<html>" + b" " * 200_000 + b"</html>")  # small gzipped, big inflated
        sources = [
            SourceConfig("good", "news", open_news_site.url + "/news"),
            SourceConfig("broken", "news", bad.url + "/broken"),
            SourceConfig("refused", "feed", f"http://127.0.0.1:{closed_port()}/feed"),
            SourceConfig("busy", "feed", bad.url + "/busy.xml"),
            SourceConfig("huge", "news", bad.url + "/huge"),
            SourceConfig("bomb", "news", bad.url + "/bomb"),
        ]
        result = run_crawl(make_job(tmp_path, *sources, max_bytes=50_000))

    failures = {f.source: f for f in result.failures}
    assert set(failures) == {"broken", "refused", "busy", "huge", "bomb"}
    assert (failures["broken"].status, failures["broken"].message) == (500, "HTTP 500")
    assert failures["busy"].status == 429 and failures["busy"].retry_after == 120.0
    assert bad.hits("/busy.xml") == 1  # a 429 is not retried at once
    assert failures["refused"].status is None
    assert "refused" in failures["refused"].message.lower()
    assert "max size" in failures["huge"].message or "Cancelled" in failures["huge"].message
    assert "DOWNLOAD_MAXSIZE" in failures["bomb"].message
    assert not any(result.pages_for(name) for name in ("huge", "bomb", "broken"))
    assert len(by_role(result, "good", "article")) == 2
    assert not result.timed_out


def test_hanging_site_is_cut_off_at_the_deadline(
    tmp_path: Path, open_news_site: SiteServer, feed_site: SiteServer
) -> None:
    with SiteServer() as slow:
        slow.put("/robots.txt", ALLOW_ALL, content_type="text/plain")
        slow.put("/news", listing_page(), hang=60.0)
        sources = [
            SourceConfig("slow", "news", slow.url + "/news"),
            SourceConfig("council-news", "news", open_news_site.url + "/news"),
            SourceConfig("echo", "feed", feed_site.url + "/feed.xml"),
        ]
        job = make_job(tmp_path, *sources, deadline=6.0, timeout=60.0)
        started = time.monotonic()
        result = run_crawl(job)
        elapsed = time.monotonic() - started

    assert result.timed_out
    assert elapsed < job.deadline + 4.0
    assert result.pages_for("slow") == []
    assert [(f.source, f.message) for f in result.failures] == [
        ("slow", "stopped at the crawl deadline before finishing")
    ]
    assert len(by_role(result, "council-news", "article")) == 2
    assert len(by_role(result, "echo", "article")) == 2


def test_server_error_after_a_good_pass_is_a_failure_even_if_cache_answers(
    tmp_path: Path, open_news_site: SiteServer
) -> None:
    source = SourceConfig("council-news", "news", open_news_site.url + "/news", max_articles=1)
    first = run_crawl(make_job(tmp_path, source))
    assert len(by_role(first, "council-news", "article")) == 1  # max_articles caps the list

    open_news_site.put("/news", "down for maintenance", status=503, headers={"Retry-After": "30"})
    second = run_crawl(make_job(tmp_path, source, skip=frozenset(p.url for p in first.pages)))

    [listing] = by_role(second, "council-news", "listing")
    assert listing.from_cache and listing.body == first.pages_for("council-news")[0].body
    [failure] = second.failures
    assert (failure.status, failure.retry_after) == (503, 30.0)
    assert failure.message == "HTTP 503 (served the cached copy)"


@pytest.mark.skipif(not crawl.FORK_CRAWLS, reason="crawls are forked only where os.fork exists")
def test_crawls_are_forked_by_one_launcher_that_comes_back_if_killed(
    tmp_path: Path, open_news_site: SiteServer
) -> None:
    source = SourceConfig("council-news", "news", open_news_site.url + "/news")
    first = run_crawl(make_job(tmp_path, source))
    launcher = crawl._LAUNCHER.proc
    assert launcher is not None and launcher.poll() is None
    run_crawl(make_job(tmp_path, source))
    assert crawl._LAUNCHER.proc is launcher  # the same process forked the second crawl

    launcher.kill()
    launcher.wait()
    third = run_crawl(make_job(tmp_path, source))
    assert crawl._LAUNCHER.proc is not launcher
    assert [p.url for p in third.pages] == [p.url for p in first.pages] and not third.failures


def test_redirects_and_feed_links_off_the_sources_hosts_are_not_read(
    tmp_path: Path, open_news_site: SiteServer
) -> None:
    with SiteServer() as elsewhere:
        elsewhere.put("/robots.txt", ALLOW_ALL, content_type="text/plain")
        elsewhere.put("/landing", "<html><body><p>Somebody else's page.</p></body></html>")
        elsewhere.put("/story", "<html><body><p>Another site's story.</p></body></html>")
        open_news_site.put(
            "/news/bins", b"", status=301, headers={"Location": elsewhere.url + "/landing"}
        )
        feed = (
            '<rss version="2.0"><channel><item><title>here</title><link>/stories/fed</link>'
            f"</item><item><title>there</title><link>{elsewhere.url}/story</link></item>"
            "<item><title>mail</title><link>mailto:desk@example.org</link></item></channel></rss>"
        )
        open_news_site.put("/rss", feed, content_type="application/rss+xml")
        open_news_site.put("/stories/fed", "<html><body><p>Our own story.</p></body></html>")
        sources = [
            SourceConfig("council-news", "news", open_news_site.url + "/news"),
            SourceConfig("council-feed", "feed", open_news_site.url + "/rss"),
        ]
        result = run_crawl(make_job(tmp_path, *sources))
        assert elsewhere.hits("/story") == 0  # an off-site feed link is not followed
    (moved,) = [f for f in result.failures if f.source == "council-news"]
    assert moved.kind == "refused" and moved.url.endswith("/news/bins")
    assert "redirected off the source's hosts" in moved.message
    assert not any(p.url.endswith("/landing") for p in result.pages)
    fed = {p.url for p in result.pages if p.source == "council-feed" and p.role == "article"}
    assert fed == {open_news_site.url + "/stories/fed"}
    allowed = SourceConfig("x", "news", open_news_site.url + "/news", allowed_hosts=("a.example",))
    assert allowed.allows("https://www.a.example/story") and not allowed.allows("ftp://a.example/")
