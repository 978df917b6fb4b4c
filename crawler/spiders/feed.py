"""Spider for an RSS or Atom feed and the new articles its entries link to."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from scrapy.http import Request, Response

from crawler.errors import ParseError
from crawler.parsers.feed import parse_feed
from crawler.spiders.base import SourceReader
from crawler.spool import CrawlFailure

logger = logging.getLogger(__name__)


class FeedReader(SourceReader):
    """Fetches the feed, then each entry's link not seen before (up to max_articles)."""

    def start_requests(self) -> Iterator[Request]:
        yield self.fetch(self.source.url, "feed", self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        try:
            entries = parse_feed(response.body, response.url)
        except ParseError as exc:
            self.record(response, entries=0)
            failure = CrawlFailure(self.source.name, response.url, str(exc), kind="parse")
            self.writer.failure(failure)
            return
        self.record(response, entries=len(entries))
        offsite = [e.url for e in entries if not self.source.allows(e.url)]
        if offsite:
            logger.info(
                "feed links off the source's hosts not followed source=%s count=%d first=%s",
                self.source.name, len(offsite), offsite[0],
            )  # fmt: skip
        onsite = [e for e in entries if self.source.allows(e.url)]
        fresh = [e for e in onsite if self.is_new(e.url)][: self.source.max_articles]
        for entry in fresh:
            meta = {
                "title": entry.title,
                "published": entry.published.isoformat() if entry.published else "",
                "feed": response.url,
            }
            yield self.fetch(entry.url, "article", self.record_only, meta)
