"""One Scrapy spider per crawl job, and what every source's reader shares: building requests,
handing responses and errors to the writer.

A source is not a spider of its own: forty sources as forty crawlers would build forty engines,
middleware stacks and heartbeats for a handful of requests each. Each source's requests carry
its name and use their own download slot, so politeness is still per source.

Also a downloader middleware that remembers what the network really answered, so that a page the
HTTP cache served in place of an error still counts as a failure of its source.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.httpdates import parse_retry_after
from crawler.records import FetchedPage
from crawler.sources import SourceConfig
from crawler.spool import CrawlFailure, CrawlJob, PageWriter

logger = logging.getLogger(__name__)

ROLE = "ow_role"
SOURCE = "ow_source"
EXTRA = "ow_meta"
ENTRIES = "entries"  # FetchedPage.meta key: items an entry page lists
NET_STATUS = "ow_network_status"
NET_ERROR = "ow_network_error"
NET_RETRY_AFTER = "ow_retry_after"
ENTRY_ROLES = ("provider_page", "listing", "feed")  # a source is down when these fail
# Entry pages are revalidated every pass, so the HTTP cache earns its keep there. Articles and
# reports are fetched once (or re-checked rarely): caching them would write every body to disk
# a second time for nothing.
UNCACHED_ROLES = ("article", "report")

Callback = Callable[[Response], Iterable[Request] | None]


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """A Retry-After header as seconds from now; None if absent or bad."""
    return parse_retry_after(value)


class NetworkStatusMiddleware:
    """Notes the status or error the network gave before the HTTP cache may replace it."""

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= 400:
            request.meta[NET_STATUS] = response.status
            request.meta[NET_RETRY_AFTER] = retry_after_seconds(
                response.headers.get(b"Retry-After")
            )
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.meta[NET_ERROR] = f"{type(exception).__name__}: {exception}"


def _header(response: Response, name: bytes) -> str:
    value = response.headers.get(name) or b""
    return value.decode("latin-1")


class SourceReader:
    """Base of the three kinds of source: they only fetch, and write what they fetch."""

    def __init__(self, source: SourceConfig, job: CrawlJob, writer: PageWriter):
        self.source = source
        self.job = job
        self.writer = writer
        self.settled: Callable[[Request], None] = lambda request: None  # set by JobSpider

    def start_requests(self) -> Iterator[Request]:
        """The source's first requests; callbacks lead on from there."""
        raise NotImplementedError

    def fetch(
        self, url: str, role: str, callback: Callback, meta: dict[str, str] | None = None
    ) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta={
                ROLE: role,
                SOURCE: self.source.name,
                EXTRA: dict(meta or {}),
                "dont_cache": role in UNCACHED_ROLES,
                "download_slot": f"{self.source.name}@{urlsplit(url).hostname}",
            },
        )

    def is_new(self, url: str) -> bool:
        return url not in self.job.skip_urls

    def record(self, response: Response, entries: int | None = None) -> None:
        """Hand one response to the writer; a cached stand-in for an error is a failure too.

        `entries` is how many items an entry page lists, read here so the pass need not parse
        the page again for its health check."""
        meta = response.meta
        if (
            meta.get("redirect_urls")
            and self.source.kind != "ofsted"
            and not self.source.allows(response.url)
        ):
            self.writer.failure(self._redirected_off(meta["redirect_urls"][0], response.url))
            return
        cached = "cached" in response.flags
        extra = dict(meta.get(EXTRA, {}))
        if entries is not None:
            extra[ENTRIES] = str(entries)
        self.writer.page(
            FetchedPage(
                source=self.source.name,
                source_kind=self.source.kind,
                role=meta.get(ROLE, "article"),
                url=response.url,
                status=response.status,
                body=response.body,
                content_type=_header(response, b"Content-Type"),
                fetched_at=datetime.now(UTC),
                from_cache=cached,
                meta=tuple(sorted(extra.items())),
            )
        )
        if cached and (meta.get(NET_ERROR) or meta.get(NET_STATUS)):
            self._stale_failure(response)

    def _stale_failure(self, response: Response) -> None:
        meta = response.meta
        reason = meta.get(NET_ERROR) or f"HTTP {meta.get(NET_STATUS)}"
        self.writer.failure(
            CrawlFailure(
                self.source.name,
                response.url,
                f"{reason} (served the cached copy)",
                meta.get(NET_STATUS),
                meta.get(NET_RETRY_AFTER),
            )
        )

    def record_only(self, response: Response) -> None:
        self.record(response)

    def on_error(self, failure: Failure) -> None:
        request: Request = failure.request  # type: ignore[attr-defined]
        self.settled(request)  # a request refused before download never leaves the downloader
        error = failure.value or Exception(failure.getErrorMessage())
        # IgnoreRequest also means "too large after decompression"; robots.txt is a refusal.
        if isinstance(error, IgnoreRequest) and "robots.txt" in str(error):
            self.writer.failure(self._refusal(request.url))
            return
        self.writer.failure(self._failure_row(request.url, error))

    def _redirected_off(self, url: str, landed: str) -> CrawlFailure:
        """A page that redirects off the source's hosts is not read as the source's own."""
        host = urlsplit(landed).netloc
        message = (
            f"redirected off the source's hosts to {host} (add it to allowed_hosts to read it)"
        )
        logger.warning("redirected off source=%s url=%s to=%s", self.source.name, url, landed)
        return CrawlFailure(self.source.name, url, message, kind="refused")

    def _refusal(self, url: str) -> CrawlFailure:
        """A page robots.txt forbids: never read, so the source is failing until the site or the
        source changes; the message names the host whose rule refused it."""
        parts = urlsplit(url)
        rules = f"{parts.scheme}://{parts.netloc}/robots.txt"
        message = f"refused by {rules}: its rules forbid this URL to our user agent"
        logger.warning("refused source=%s url=%s robots=%s", self.source.name, url, rules)
        return CrawlFailure(self.source.name, url, message, kind="refused")

    def _failure_row(self, url: str, error: BaseException) -> CrawlFailure:
        if isinstance(error, HttpError):
            response = error.response
            return CrawlFailure(
                self.source.name,
                url,
                f"HTTP {response.status}",
                response.status,
                retry_after_seconds(response.headers.get(b"Retry-After")),
            )
        logger.warning("fetch failed source=%s url=%s error=%r", self.source.name, url, error)
        return CrawlFailure(self.source.name, url, f"{type(error).__name__}: {error}")


class JobSpider(scrapy.Spider):
    """The one spider of a crawl job: starts every source's requests and keeps, per source, the
    requests not yet answered, so that a deadline marks only unfinished sources as cut short."""

    name = "ofsted-watch"

    def __init__(self, readers: list[SourceReader], writer: PageWriter, **kwargs: Any):
        super().__init__(**kwargs)
        self.readers, self.writer = readers, writer
        self.requests: Counter[str] = Counter()
        self.waiting: dict[str, set[int]] = defaultdict(set)
        self.finished: set[str] = set()
        for reader in readers:
            reader.settled = self.settle

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> JobSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        connect = crawler.signals.connect
        connect(spider.wait_for, signal=signals.request_scheduled)
        connect(spider.settle, signal=signals.request_dropped)
        connect(spider.settle, signal=signals.request_left_downloader)
        return spider

    def wait_for(self, request: Request) -> None:
        name = request.meta.get(SOURCE)
        if name is None:
            return  # robots.txt: the site's request, not a source's
        self.requests[name] += 1  # retries are scheduled again, so they count
        if not self.waiting[name] and name in self.finished:
            self._report(name, "running")  # a callback asked for more after all looked done
        self.waiting[name].add(id(request))

    def settle(self, request: Request) -> None:
        name = request.meta.get(SOURCE, "")
        waiting = self.waiting[name]
        if id(request) in waiting:
            waiting.discard(id(request))
            if not waiting:
                # Said now, not at close: closing waits for a hung download, and the parent may
                # kill the process first.
                self._report(name, "finished")

    def _report(self, name: str, reason: str) -> None:
        self.writer.stats(name, self.requests[name], reason)
        if reason == "finished":
            self.finished.add(name)
        else:
            self.finished.discard(name)

    async def start(self) -> AsyncIterator[Request]:
        for reader in self.readers:
            for request in reader.start_requests():
                yield request

    def closed(self, reason: str) -> None:
        for reader in self.readers:
            name = reader.source.name
            done = reason == "finished" or not self.waiting[name]
            self._report(name, "finished" if done else reason)
