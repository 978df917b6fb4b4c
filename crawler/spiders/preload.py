"""Imported once by the crawl fork server, so that each forked crawl starts with Scrapy's
components already loaded rather than importing them on every pass."""

from __future__ import annotations

from importlib import import_module

from scrapy.settings import default_settings

import crawler.spiders.feed
import crawler.spiders.news
import crawler.spiders.ofsted
from crawler.parsers.feed import parse_feed
from crawler.parsers.listing import article_links
from crawler.parsers.provider_page import parse_provider_page

__all__ = ["crawler"]

_TABLES = (
    default_settings.EXTENSIONS_BASE,
    default_settings.DOWNLOADER_MIDDLEWARES_BASE,
    default_settings.SPIDER_MIDDLEWARES_BASE,
    dict.fromkeys(default_settings.DOWNLOAD_HANDLERS_BASE.values()),
)
_SINGLES = (
    default_settings.SCHEDULER,
    default_settings.DUPEFILTER_CLASS,
    default_settings.STATS_CLASS,
    default_settings.ROBOTSTXT_PARSER,
    default_settings.SCHEDULER_PRIORITY_QUEUE,
    default_settings.HTTPCACHE_POLICY,
    default_settings.LOG_FORMATTER,
    default_settings.SCHEDULER_DISK_QUEUE,
    "scrapy.extensions.httpcache.RFC2616Policy",
    "scrapy.extensions.httpcache.FilesystemCacheStorage",
)

# Scrapy imports every default component while it builds a crawler, switched off or not.
for _path in [p for table in _TABLES for p in table] + list(_SINGLES):
    import_module(_path.rsplit(".", 1)[0])

# The parsers compile their patterns on first use; a first use here is shared by every fork.
_SAMPLE = b"<html><body><main><a href='/news/a'>A</a></main></body></html>"
article_links(_SAMPLE, "http://localhost/news")
parse_provider_page(_SAMPLE, "http://localhost/provider/44/1")
parse_feed(b"<rss version='2.0'><channel></channel></rss>", "http://localhost/feed")
