"""Spider for a news listing page and the new articles it links to."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from scrapy.http import Request, Response

from crawler.parsers.listing import article_links
from crawler.spiders.base import SourceReader

logger = logging.getLogger(__name__)

_SCAN_LIMIT = 500  # links read off a listing before the skip filter and max_articles apply


class NewsReader(SourceReader):
    """Fetches the listing, then up to max_articles article links not seen before."""

    def start_requests(self) -> Iterator[Request]:
        yield self.fetch(self.source.url, "listing", self.parse_listing)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        links = article_links(
            response.body, response.url, limit=_SCAN_LIMIT, selector=self.source.link_selector
        )
        self.record(response, entries=len(links))
        fresh = [url for url in links if self.is_new(url)][: self.source.max_articles]
        logger.debug("listing source=%s links=%d new=%d", self.source.name, len(links), len(fresh))
        for url in fresh:
            yield self.fetch(url, "article", self.record_only, {"listing": response.url})
