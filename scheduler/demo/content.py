"""The demo's three sites, written for this project: an Ofsted-like reports site, an Essex-like
council newsroom and a Southend-like local paper with an RSS feed. Each story has a "before" state
(the baseline) and pages that are published later, modelled on real outcomes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime


@dataclass(frozen=True)
class Story:
    """One article: where it lives, when it was published, and its paragraphs."""

    path: str
    title: str
    published: date
    paragraphs: tuple[str, ...]


COUNCIL_CHROME_TOP = """<header class="site-header"><a href="/">Essex-like County Council</a>
<nav><ul><li><a href="/bins">Bins and recycling</a></li><li><a href="/schools">Schools</a></li>
<li><a href="/news">News</a></li><li><a href="/jobs">Jobs</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to make this site work. <button>Accept</button></div>"""

COUNCIL_CHROME_BOTTOM = """<aside class="related"><h2>Related news</h2><ul>
<li><a href="/news/primary-school-outstanding">Village primary school rated outstanding</a></li>
</ul></aside><footer><p>Essex-like County Council, County Hall. Accessibility statement.</p>
<a href="/privacy">Privacy</a></footer>"""

PAPER_CHROME_TOP = """<header><a href="/">The Estuary Echo (demo)</a><nav><a href="/news">News</a>
<a href="/sport">Sport</a><a href="/whats-on">What's on</a></nav></header>"""

PAPER_CHROME_BOTTOM = """<section class="comments"><h3>Comments: our rules</h3><p>We want
comments to
be a lively part of our community. Please report any comment that breaks our rules.</p></section>
<div class="read-more"><h3>Read more</h3><a href="/news/nursery-rated-inadequate">Nursery given
inadequate rating by Ofsted</a></div><footer>Copyright The Estuary Echo demo site</footer>"""


ESSEX_OLD = (
    Story(
        "/news/care-leavers-focused-visit",
        "Inspectors praise Essex support for care leavers",
        date(2021, 11, 24),
        (
            "A focused visit by Ofsted inspectors on 18 and 19 October looked at how Essex County"
            " Council supports young people leaving care.",
            "The inspectors' letter, published this week, describes a creative culture in which"
            " staff find their own solutions for the young people they work with.",
            "The county's children's social care services were rated outstanding by Ofsted in"
            " 2018. A focused visit does not change that rating.",
        ),
    ),
    Story(
        "/news/recycling-centre-hours",
        "Winter opening hours for recycling centres",
        date(2021, 12, 1),
        (
            "Recycling centres across the county move to winter opening hours from Monday.",
            "Sites will open at 8am and close at 4pm until the end of February.",
        ),
    ),
)

ESSEX_NEW = Story(
    "/news/childrens-services-outstanding-again",
    "Essex children's social care services rated 'Outstanding' again",
    date(2022, 8, 2),
    (
        "Ofsted has judged our children's social care services 'Outstanding' once more, in"
        " every area it assessed. The inspectors' report, published today, follows their visit"
        " in June this year.",
        "Inspectors said help for families is timely and creative, and that children's needs"
        " drive decisions at every level.",
        "The council was last rated outstanding by Ofsted in 2018.",
        "The cabinet member for children's services thanked social workers, foster carers and"
        " partners for their work.",
    ),
)

SOUTHEND_OLD = (
    Story(
        "/news/primary-school-good",
        "Seafront primary school rated good by inspectors",
        date(2024, 10, 3),
        (
            "A primary school near the seafront has been rated good by Ofsted after a two-day"
            " visit.",
            "The headteacher said pupils and staff were delighted with the report.",
        ),
    ),
    Story(
        "/news/pier-repairs",
        "Pier repairs to start in the spring",
        date(2024, 10, 20),
        ("Repairs to the pier's timber decking will begin in March and last about six weeks.",),
    ),
)

SOUTHEND_NEW = Story(
    "/news/southend-childrens-services-good",
    "Southend children's services now rated good by Ofsted",
    date(2024, 12, 6),
    (
        "Inspectors have rated children's services in Southend good, five years after the"
        " council was told to make improvements.",
        "The rating follows an inspection last month and is up from the requires improvement"
        " rating the council received in 2019.",
        "The impact of leaders on social work practice, the experiences and progress of children"
        " who need help and protection, and the experiences and progress of care leavers were all"
        " judged to be good.",
        "Inspectors said more work is needed on planning for some children in care, and the"
        " council's lead member for children said that work had already started.",
    ),
)


def _article_page(story: Story, top: str, bottom: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(story.title)}</title>
<meta property="article:published_time" content="{story.published.isoformat()}T09:00:00Z">
</head><body>{top}<main><article><h1>{html.escape(story.title)}</h1>
<p class="date"><time datetime="{story.published.isoformat()}">{story.published:%d %B %Y}</time></p>
{body}</article></main>{bottom}</body></html>"""


def council_article(story: Story) -> str:
    return _article_page(story, COUNCIL_CHROME_TOP, COUNCIL_CHROME_BOTTOM)


def paper_article(story: Story) -> str:
    return _article_page(story, PAPER_CHROME_TOP, PAPER_CHROME_BOTTOM)


def council_listing(stories: list[Story]) -> str:
    items = "".join(
        f'<li><a href="{s.path}">{html.escape(s.title)}</a> '
        f"<span>{s.published:%d %B %Y}</span></li>"
        for s in sorted(stories, key=lambda s: s.published, reverse=True)
    )
    return f"""<!doctype html><html><head><title>News</title></head><body>{COUNCIL_CHROME_TOP}
<main><h1>News</h1><ul class="news-list">{items}</ul>
<nav class="pagination"><a href="/news?page=2">Next page</a></nav></main>
<footer><a href="/privacy">Privacy</a></footer></body></html>"""


def rss_feed(base_url: str, stories: list[Story]) -> str:
    items = "".join(
        f"<item><title>{html.escape(s.title)}</title><link>{base_url}{s.path}</link>"
        f"<guid>{base_url}{s.path}</guid><pubDate>{_rfc822(s.published)}</pubDate>"
        f"<description>{html.escape(s.paragraphs[0])}</description></item>"
        for s in sorted(stories, key=lambda s: s.published, reverse=True)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>The Estuary Echo (demo)</title><link>{base_url}/news</link>
<description>Local news</description>{items}</channel></rss>"""


def _rfc822(day: date) -> str:
    return format_datetime(datetime(day.year, day.month, day.day, 9, tzinfo=UTC))


@dataclass(frozen=True)
class Publication:
    """One report on the Ofsted-like site: which council, what kind, when, and its file id."""

    urn: str
    file_id: int
    label: str
    published: date


def provider_page(name: str, urn: str, publications: list[Publication], files_base: str) -> str:
    # As Ofsted's site writes them: the file on its own host, a new tab, and a hidden label
    # "<type>, pdf - 15 July 2024" with a lowercase "pdf".
    links = "".join(
        f'<li><a class="publication-link" href="{files_base}/v1/file/{p.file_id}" target="_blank">'
        f'{html.escape(p.label)}<span class="nonvisual">{html.escape(p.label)}, pdf - '
        f"{p.published.day} {p.published:%B %Y}</span></a></li>"
        for p in sorted(publications, key=lambda p: p.published, reverse=True)
    )
    return f"""<!doctype html><html><head><title>{html.escape(name)} - Ofsted-like reports</title>
</head><body><header><a href="/">Find an inspection report (demo)</a></header><main>
<h1>{html.escape(name)}</h1><p>URN: {urn}</p><p>Local authority children's services</p>
<h2>Reports</h2><ul>{links}</ul></main><footer>Demo site</footer></body></html>"""


def search_listing(rows: list[tuple[str, str]], next_href: str | None) -> str:
    """A page of the Ofsted-like search listing: (provider name, URN) rows and a next link."""
    items = "".join(
        f'<li class="search-result"><h3><a href="/provider/44/{urn}">{html.escape(name)}</a></h3>'
        f"<p>Local authority children's services</p></li>"
        for name, urn in rows
    )
    pager = f'<a rel="next" href="{next_href}">Next page</a>' if next_href else ""
    return f"""<!doctype html><html><head><title>Search results</title></head><body>
<main><h1>Search results</h1><ul>{items}</ul><nav class="pagination">{pager}</nav></main>
</body></html>"""
