"""Source kinds and the settings of one configured source."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_KINDS = {
    "ofsted": "Ofsted's reports site: the watched councils' provider pages and report PDFs.",
    "news": "A news listing page (a council newsroom or a paper) and the articles it links to.",
    "feed": "An RSS or Atom feed and the articles its entries link to.",
}


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
