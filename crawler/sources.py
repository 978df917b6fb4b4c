"""Source kinds (the SOURCE_KINDS registry, each with the config keys it takes) and the settings
of one configured source."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# Keys every `[[source]]` table may carry; each kind adds its own.
COMMON_SOURCE_KEYS = (
    "name",
    "kind",
    "url",
    "authorities",
    "every",
    "cron",
    "max_articles",
    "recheck_days",
    "enabled",
    "silence_days",
)


@dataclass(frozen=True)
class SourceKind:
    """One kind of source: what it reads, and the config keys only it takes."""

    summary: str
    keys: tuple[str, ...] = ()

    @property
    def all_keys(self) -> tuple[str, ...]:
        return (*COMMON_SOURCE_KEYS, *self.keys)


SOURCE_KINDS: dict[str, SourceKind] = {
    "ofsted": SourceKind(
        "Ofsted's reports site: the watched councils' provider pages and report PDFs.",
        keys=("discover",),
    ),
    "news": SourceKind(
        "A news listing page (a council newsroom or a paper) and the articles it links to.",
        keys=("content_selector", "link_selector", "allowed_hosts"),
    ),
    "feed": SourceKind(
        "An RSS or Atom feed and the articles its entries link to.",
        keys=("content_selector", "allowed_hosts"),
    ),
}


def _site(host: str) -> str:
    """A host (with its port, if any) as sites are compared: lower case, without 'www.'."""
    return host.lower().rsplit("@", 1)[-1].removeprefix("www.")


@dataclass(frozen=True)
class SourceConfig:
    """One `[[source]]` table of the config, validated."""

    name: str
    kind: str
    url: str
    # ONS codes. For "ofsted": the councils to watch. For "news" and "feed": the council(s) the
    # newsroom belongs to, so a release that says only "our children's services" is read as theirs.
    authorities: tuple[str, ...] = ()
    every_seconds: int | None = 3600
    cron: str | None = None
    max_articles: int = 50
    recheck_days: int = 3
    enabled: bool = True
    discover: bool = False  # ofsted: walk the search listing to find provider pages by name
    silence_days: int | None = None  # report the source when nothing new appears for this long
    # CSS overrides for sites that generic reading misses: the story's container on an article
    # page, and the links on a listing that lead to articles.
    content_selector: str | None = None
    link_selector: str | None = None
    # Hosts besides the source's own that its articles may live on or redirect to.
    allowed_hosts: tuple[str, ...] = ()

    def allows(self, url: str) -> bool:
        """Whether a link or redirect stays on the source's own site or its allowed hosts, over
        http or https."""
        parts = urlsplit(url)
        names = {_site(parts.netloc), _site(parts.hostname or "")}
        allowed = {_site(urlsplit(self.url).netloc), *(_site(h) for h in self.allowed_hosts)}
        return parts.scheme in ("http", "https") and bool(names & allowed)
