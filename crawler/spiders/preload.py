"""Imported once by the crawl fork server, so that each forked crawl starts with Scrapy's
components already loaded rather than importing them on every pass."""

from __future__ import annotations

from importlib import import_module

from scrapy.settings import default_settings

import crawler.spiders.feed
import crawler.spiders.news
import crawler.spiders.ofsted
from crawler.settings import DISABLED_COMPONENTS

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
    "scrapy.extensions.httpcache.RFC2616Policy",
    "scrapy.extensions.httpcache.FilesystemCacheStorage",
)

for _path in [p for table in _TABLES for p in table] + list(_SINGLES):
    if _path not in DISABLED_COMPONENTS:
        import_module(_path.rsplit(".", 1)[0])
