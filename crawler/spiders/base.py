"""What every source spider shares: building requests, handing responses and errors to the writer.

Also a downloader middleware that remembers what the network really answered, so that a page the
HTTP cache served in place of an error still counts as a failure of its source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.crawl import CrawlFailure, CrawlJob, PageWriter
from crawler.httpdates import parse_retry_after
from crawler.records import FetchedPage
from crawler.sources import SourceConfig

logger = logging.getLogger(__name__)

ROLE = "ow_role"
EXTRA = "ow_meta"
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


class SourceSpider(scrapy.Spider):
    """Base of the three source spiders: they only fetch, and write what they fetch."""

    name = "source"

    def __init__(self, source: SourceConfig, job: CrawlJob, writer: PageWriter, **kwargs: Any):
        super().__init__(**kwargs)
        self.source = source
        self.job = job
        self.writer = writer

    def fetch(
        self, url: str, role: str, callback: Callback, meta: dict[str, str] | None = None
    ) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta={ROLE: role, EXTRA: dict(meta or {}), "dont_cache": role in UNCACHED_ROLES},
        )

    def is_new(self, url: str) -> bool:
        return url not in self.job.skip_urls

    def record(self, response: Response) -> None:
        """Hand one response to the writer; a cached stand-in for an error is a failure too."""
        meta = response.meta
        cached = "cached" in response.flags
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
                meta=tuple(sorted(meta.get(EXTRA, {}).items())),
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
        role = request.meta.get(ROLE, "")
        error = failure.value or Exception(failure.getErrorMessage())
        # IgnoreRequest also means "too large after decompression"; only robots.txt is a skip.
        refused = isinstance(error, IgnoreRequest) and "robots.txt" in str(error)
        if refused and role not in ENTRY_ROLES:
            # robots.txt forbidding one article is policy, not a failing source.
            logger.info("skipped source=%s url=%s reason=%s", self.source.name, request.url, error)
            return
        self.writer.failure(self._failure_row(request.url, error))

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

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats
        count = stats.get_value("downloader/request_count", 0) if stats else 0
        self.writer.stats(self.source.name, int(count), reason)
