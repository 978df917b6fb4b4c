"""Spider for Ofsted's reports site: each watched council's provider page, then its new reports."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

from scrapy.http import Request, Response

from crawler.authorities import Authority, AuthorityRegistry
from crawler.crawl import CrawlFailure
from crawler.parsers.provider_page import parse_provider_page
from crawler.spiders.base import EXTRA, SourceSpider

logger = logging.getLogger(__name__)


class OfstedSpider(SourceSpider):
    """Fetches /provider/44/<URN> for each watched council and the report files it lists."""

    name = "ofsted"

    def _authority(self, code: str) -> Authority | None:
        registry = AuthorityRegistry.load()
        return registry.by_ons(code) or registry.resolve(code)

    def provider_requests(self) -> Iterator[Request]:
        base = self.source.url.rstrip("/")
        for code in self.source.authorities:
            authority = self._authority(code)
            if authority is None or not authority.ofsted_urn:
                message = f"no Ofsted URN known for council {code!r}"
                self.writer.failure(CrawlFailure(self.source.name, self.source.url, message))
                continue
            url = f"{base}/provider/44/{authority.ofsted_urn}"
            meta = {"ons_code": authority.ons_code}
            yield self.fetch(url, "provider_page", self.parse_provider, meta)

    async def start(self) -> AsyncIterator[Request]:
        for request in self.provider_requests():
            yield request

    def parse_provider(self, response: Response) -> Iterator[Request]:
        self.record(response)
        ons_code = response.meta[EXTRA]["ons_code"]
        for pub in parse_provider_page(response.body, response.url):
            if not self.is_new(pub.url):
                continue
            meta = {
                "ons_code": ons_code,
                "event_type": pub.event_type,
                "label": pub.label,
                "published": pub.published.isoformat() if pub.published else "",
            }
            yield self.fetch(pub.url, "report", self.record_only, meta)
