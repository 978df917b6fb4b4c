"""Spider for Ofsted's reports site: each watched council's provider page, then its new reports.

With `discover`, it first walks the search listing of local authority children's services, stepping
`start=` a page of rows at a time until a page comes back short (whatever the pager shows), so a
provider whose URN the registry does not know yet is still found by its name, and a watched
council that the listing never shows is a failure that names it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from scrapy.http import Request, Response

from crawler.authorities import Authority, AuthorityRegistry
from crawler.parsers.provider_page import parse_provider_page, search_results
from crawler.spiders.base import EXTRA, SourceReader
from crawler.spool import CrawlFailure

logger = logging.getLogger(__name__)

# Local authority children's services in Ofsted's search (DOMAIN §2.1); 100 rows is the maximum.
SEARCH_ROWS = 100
SEARCH_PATH = (
    "/search?q=&location=&lat=&lon=&radius=&level_1_types=3&level_2_types%5B%5D=12"
    f"&rows={SEARCH_ROWS}"
)


def search_page(base: str, start: int) -> str:
    """The search listing's page that begins at row `start`."""
    return f"{base.rstrip('/')}{SEARCH_PATH}&start={start}"


_URN = re.compile(r"/provider/\d+/(\d+)")


def provider_urns(authority: Authority, registry: AuthorityRegistry) -> list[tuple[str, str]]:
    """(URN, ONS code) of a council's provider pages: its own, then its predecessors' with their
    own URNs, whose reports stay attached to the predecessor."""
    pairs = [(authority.ofsted_urn, authority.ons_code)] if authority.ofsted_urn else []
    for former in registry.all():
        urn = former.ofsted_urn
        if authority.ons_code in former.successors and urn and urn != authority.ofsted_urn:
            pairs.append((urn, former.ons_code))
    return pairs


class OfstedReader(SourceReader):
    """Fetches /provider/44/<URN> for each watched council and the report files it lists."""

    def _authority(self, code: str) -> Authority | None:
        registry = AuthorityRegistry.load()
        return registry.by_ons(code) or registry.resolve(code)

    def watched_urns(self) -> dict[str, str]:
        """URN -> ONS code of every provider page to read, predecessors included."""
        registry = AuthorityRegistry.load()
        urns: dict[str, str] = {}
        for code in self.source.authorities:
            authority = self._authority(code)
            pairs = provider_urns(authority, registry) if authority else []
            if not pairs:
                message = f"no Ofsted URN known for council {code!r}"
                self.writer.failure(CrawlFailure(self.source.name, self.source.url, message))
            urns.update(dict(pairs))
        return urns

    def provider_request(self, urn: str, ons_code: str) -> Request:
        url = f"{self.source.url.rstrip('/')}/provider/44/{urn}"
        return self.fetch(url, "provider_page", self.parse_provider, {"ons_code": ons_code})

    def start_requests(self) -> Iterator[Request]:
        if self.source.discover:
            self.listed: set[str] = set()
            yield self.search_request(0)
            return
        for urn, code in self.watched_urns().items():
            yield self.provider_request(urn, code)

    def search_request(self, start: int) -> Request:
        url = search_page(self.source.url, start)
        return self.fetch(url, "search", self.parse_search, {"start": str(start)})

    def parse_search(self, response: Response) -> Iterator[Request]:
        """Follow each listed provider that maps to a watched council, then the next page."""
        results, _ = search_results(response.body, response.url)
        start = int(response.meta[EXTRA].get("start") or 0)
        self.record(response, entries=len(results))
        if not results and start == 0:
            self._loud(response.url, "search listing shows no providers (has the layout changed?)")
        watched = self.watched_urns()
        for name, link in results:
            request = self._provider_from_listing(name, link, watched)
            if request is not None:
                self.listed.add(request.meta[EXTRA]["ons_code"])
                yield request
        if len(results) >= SEARCH_ROWS:
            yield self.search_request(start + SEARCH_ROWS)
        else:
            self._unlisted(watched)

    def _unlisted(self, watched: dict[str, str]) -> None:
        """Each watched council the whole listing never showed: its reports would go unread."""
        registry = AuthorityRegistry.load()
        for code in dict.fromkeys(self.source.authorities):
            if code not in self.listed and code in watched.values():
                authority = registry.by_ons(code)
                name = authority.short_name if authority else code
                self._loud(self.source.url, f"watched council {name} is not in the search listing")

    def _provider_from_listing(
        self, name: str, link: str, watched: dict[str, str]
    ) -> Request | None:
        match = _URN.search(link)
        urn = match.group(1) if match else ""
        registry = AuthorityRegistry.load()
        authority = registry.by_urn(urn) or registry.resolve(name)
        if authority is None:
            self._loud(link, f"provider {name!r} (URN {urn}) is not in the council registry")
            return None
        code = watched.get(urn) or (
            authority.ons_code if authority.ons_code in watched.values() else ""
        )
        return self.provider_request(urn, code) if code else None

    def parse_provider(self, response: Response) -> Iterator[Request]:
        ons_code = response.meta[EXTRA]["ons_code"]
        publications = parse_provider_page(response.body, response.url)
        self.record(response, entries=len(publications))
        if not publications:
            self._loud(response.url, "provider page lists no reports (has the layout changed?)")
        for pub in publications:
            if not self.is_new(pub.url):
                continue
            meta = {
                "ons_code": ons_code,
                "event_type": pub.event_type,
                "label": pub.label,
                "published": pub.published.isoformat() if pub.published else "",
            }
            yield self.fetch(pub.url, "report", self.record_only, meta)

    def _loud(self, url: str, message: str) -> None:
        logger.warning("ofsted source=%s url=%s problem=%s", self.source.name, url, message)
        self.writer.failure(CrawlFailure(self.source.name, url, message, kind="parse"))
