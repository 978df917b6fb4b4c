"""Scrapy settings for a crawl job: polite defaults, a deadline, and revalidating HTTP cache.

Every request carries `Cache-Control: max-age=0`: Scrapy's RFC2616Policy then treats the cached
copy as stale and sends If-None-Match / If-Modified-Since. (`no-cache` would skip those validators.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.spool import CrawlJob

# 429 is left out on purpose: the caller honours Retry-After on the next pass instead.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
NETWORK_STATUS_MIDDLEWARE = "crawler.spiders.base.NetworkStatusMiddleware"
# Components a crawl never uses, switched off so that they do no work for any request.
UNUSED_EXTENSIONS = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.spiderstate.SpiderState",
)
UNUSED_HANDLERS = {
    "s3": "scrapy.core.downloader.handlers.s3.S3DownloadHandler",
    "ftp": "scrapy.core.downloader.handlers.ftp.FTPDownloadHandler",
    "file": "scrapy.core.downloader.handlers.file.FileDownloadHandler",
    "data": "scrapy.core.downloader.handlers.datauri.DataURIDownloadHandler",
}
# Middlewares whose work no source needs: no allowed_domains, no HTTP auth, no depth limits.
UNUSED_DOWNLOADER_MIDDLEWARES = (
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware",
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
)
UNUSED_SPIDER_MIDDLEWARES = (
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware",
    "scrapy.spidermiddlewares.depth.DepthMiddleware",
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware",
)


def closespider_timeout(deadline: float) -> float:
    """Let the spiders stop themselves a little before the parent's hard kill."""
    margin = max(1.0, min(10.0, deadline * 0.1))
    return max(1.0, deadline - margin)


def scrapy_settings(job: CrawlJob) -> dict[str, Any]:
    """The Scrapy settings dict for `job`."""
    return {
        "BOT_NAME": "ofsted-watch",
        "ROBOTSTXT_OBEY": job.obey_robots,
        "USER_AGENT": job.user_agent,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-GB,en;q=0.8",
            "Cache-Control": "max-age=0",
        },
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": job.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(job.delay * 10, 10.0),
        "DOWNLOAD_DELAY": job.delay,
        "DOWNLOAD_TIMEOUT": job.timeout,
        "DOWNLOAD_MAXSIZE": job.max_bytes,
        "DOWNLOAD_WARNSIZE": job.max_bytes,
        # Every source has its own download slot (see crawler/spiders/base.py), so this is two
        # requests at a time per source; CONCURRENT_REQUESTS caps the whole job.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "CONCURRENT_REQUESTS": 32,
        # Callbacks yield requests, never items; Scrapy's default of 100 would start 100 asyncio
        # workers for every response.
        "CONCURRENT_ITEMS": 4,
        # A development aid that reads each generator callback's source with inspect and ast,
        # again in every forked crawl: our callbacks return nothing.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 1,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "CLOSESPIDER_TIMEOUT": closespider_timeout(job.deadline),
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(Path(job.cache_dir).resolve()),  # relative would go under .scrapy/
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
        "HTTPCACHE_STORAGE": "scrapy.extensions.httpcache.FilesystemCacheStorage",
        "HTTPCACHE_ALWAYS_STORE": True,
        "DOWNLOADER_MIDDLEWARES": {
            NETWORK_STATUS_MIDDLEWARE: 950,
            **dict.fromkeys(UNUSED_DOWNLOADER_MIDDLEWARES),
        },
        "SPIDER_MIDDLEWARES": dict.fromkeys(UNUSED_SPIDER_MIDDLEWARES),
        "EXTENSIONS": dict.fromkeys(UNUSED_EXTENSIONS),
        "DOWNLOAD_HANDLERS": dict.fromkeys(UNUSED_HANDLERS),
    }
