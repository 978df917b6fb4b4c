"""The standard crawl workload, generated deterministically from a seed.

40 sites in three templates (council CMS, local paper, WordPress-like), each with a listing page
(and a second, archive page), an RSS feed and 50 articles of 30-120 KB with navigation, scripts,
related links and comments. About 4 % of the articles announce an Ofsted outcome for a real
council, in varied wording; the councils concerned get an Ofsted-like provider page and a report
PDF. Generation 2 edits 10 % of the articles (some only in their boilerplate), adds 2 articles a
site, some of which announce new outcomes, and updates the newest story of a few sites to announce
an outcome it did not carry before.

`generate(generation)` returns a `Workload`: SiteServer routes (path -> Route) and the ground truth
(article path -> council and overall grade). Every article draws from its own seeded random stream,
so `generate(..., bodies=False)` gives the same truth and paths without building the pages.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from crawler.authorities import Authority, AuthorityRegistry
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import Route

SITES = 40
ARTICLES = 50
NEW_PER_SITE = 2
OUTCOME_SHARE = 0.04
EDIT_SHARE = 0.10
NEW_OUTCOMES = 6  # outcome articles among generation 2's 80 new articles
CORRECTIONS = 3  # generation 2 adds an outcome to a recent story on this many sites
TEMPLATES = ("council", "paper", "wordpress")
MIN_KB, MAX_KB = 30, 120
BASE_TIME = 1_700_000_000.0
GEN2_TIME = BASE_TIME + 86_400.0
FIRST_DAY = date(2025, 1, 6)

GRADES = ("outstanding", "good", "requires_improvement", "inadequate")  # the extractor's words
_GRADE_TEXT = {
    "outstanding": "outstanding",
    "good": "good",
    "requires_improvement": "requires improvement to be good",
    "inadequate": "inadequate",
}

_FILLER_TEXT = """bins recycling parking permits library opening hours council tax planning roads
events leisure centre consultation housing benefits elections jobs licences travel weather sport
business community family notices residents ward budget scheme park bridge bus route market
festival volunteers museum street lighting flood defence grant funding pavement cycle lane school
holiday club allotment garden trees river walk meeting cabinet members report"""
_GLUE_TEXT = "the a of to and for from new with on at in by this next week"


def _words(text: str) -> list[str]:
    return text.split()


_FILLER_WORDS = _words(_FILLER_TEXT)
_GLUE = _words(_GLUE_TEXT)


@dataclass(frozen=True)
class Truth:
    """One outcome announced by one article: the council and its overall grade."""

    path: str
    authority: str
    ons_code: str
    overall: str


@dataclass
class Workload:
    generation: int
    routes: dict[str, Route] = field(default_factory=dict)
    listings: list[str] = field(default_factory=list)  # one per site, in site order
    articles: list[str] = field(default_factory=list)  # every article path
    truth: dict[str, Truth] = field(default_factory=dict)  # article path -> outcome
    edited: list[str] = field(default_factory=list)  # generation 2: changed article paths
    boilerplate_only: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(route.body) for route in self.routes.values())


class _Pool:
    """Shared filler text drawn once from the seed: sentences, CSS and script blocks."""

    def __init__(self, seed: int):
        rng = random.Random(f"pool:{seed}")
        words = _FILLER_WORDS + _GLUE * 3
        self.sentences = [
            " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + "."
            for _ in range(800)
        ]
        self.titles = [
            " ".join(rng.choice(_FILLER_WORDS) for _ in range(rng.randint(4, 8))).capitalize()
            for _ in range(400)
        ]
        self.css = [
            "".join(
                f".{t}-{i}{{margin:{i % 13}px;padding:{i % 7}px;color:#{(i * 37) % 4096:03x}}}"
                for i in range(n)
            )
            for t, n in (("council", 130), ("paper", 100), ("wp", 160))
        ]
        self.script = "".join(
            f"function t{i}(e){{var d=window.dl||[];d.push({{e:e,n:{i}}});return d.length;}}"
            for i in range(120)
        )


@dataclass(frozen=True)
class _Article:
    site: int
    index: int
    path: str
    title: str
    published: date
    paragraphs: tuple[str, ...]
    outcome: Truth | None
    size: int  # target bytes
    variant: int = 0  # boilerplate version: comments and related links


def _site_name(site: int) -> str:
    place = ("Northmere", "Eastvale", "Southby", "Westbrook", "Highcross", "Lowfield", "Ashdown",
             "Kingsford")[site % 8]  # fmt: skip
    template = TEMPLATES[site % 3]
    return {
        "council": f"{place} Borough Council ({site})",
        "paper": f"The {place} Courier ({site})",
        "wordpress": f"{place} Community News ({site})",
    }[template]


def _outcome_paragraphs(rng: random.Random, who: Authority, grade: str) -> tuple[str, str]:
    """A title and the story's opening paragraph, in one of several wordings."""
    g = _GRADE_TEXT[grade]
    short, full = who.short_name, who.name
    month = rng.choice(("January", "February", "March", "April", "May", "June", "September"))
    forms = [
        (
            f"{short} children's services rated {g} by Ofsted",
            f"Ofsted has rated children's services in {short} {g} following an inspection"
            f" in {month}.",
        ),
        (
            f"Inspectors judge {short} services for children {g}",
            f"Ofsted inspectors have judged the children's services provided by {full} to be"
            f" {g} overall, the council said.",
        ),
        (
            f"Children's social care in {short} judged '{g}'",
            f"Children's social care services in {short} have been judged '{g}' by Ofsted"
            f" after a three-week inspection in {month}.",
        ),
        (
            f"Ofsted report on {short} children's services published",
            f"Children's services at {full} are {g}, according to an Ofsted report published"
            f" this week after inspectors visited in {month}.",
        ),
        (
            f"'{g.capitalize()}' rating for {short} children's services",
            f"An Ofsted inspection of {full}'s children's services has found them to be {g}"
            " overall.",
        ),
    ]
    return forms[rng.randrange(len(forms))]


def _article(
    seed: int,
    pool: _Pool,
    site: int,
    index: int,
    outcome: tuple[Authority, str] | None,
) -> _Article:
    rng = random.Random(f"article:{seed}:{site}:{index}")
    slug_title = rng.choice(pool.titles)
    path = f"/s{site:02d}/news/{index:03d}-{slug_title.lower().replace(' ', '-')[:40]}"
    published = FIRST_DAY + timedelta(days=index)
    body = [rng.choice(pool.sentences) + " " + rng.choice(pool.sentences) for _ in range(6)]
    truth = None
    if outcome is not None:
        who, grade = outcome
        title, lead = _outcome_paragraphs(rng, who, grade)
        body = [
            lead,
            "Inspectors praised the way social workers listen to children and their families.",
            *body[:3],
            "The council's lead member for children said the report reflected hard work by staff.",
        ]
        truth = Truth(path, who.name, who.ons_code, grade)
    else:
        title = slug_title
    size = rng.randint(MIN_KB, MAX_KB) * 1024
    return _Article(site, index, path, title, published, tuple(body), truth, size)


def _links(rng: random.Random, pool: _Pool, section: str, count: int) -> str:
    return "".join(
        f'<li class="menu-item"><a href="/{section}/{i}-{rng.randrange(999)}">{t}</a></li>'
        for i, t in enumerate(rng.choices(pool.titles, k=count))
    )


def render_article(article: _Article, pool: _Pool, seed: int) -> bytes:
    """The page around one story, padded to its target size with comments."""
    template = TEMPLATES[article.site % 3]
    rng = random.Random(f"page:{seed}:{article.site}:{article.index}:{article.variant}")
    name = html.escape(_site_name(article.site))
    title = html.escape(article.title)
    day = article.published.isoformat()
    css = pool.css[article.site % 3]
    data = {"page": article.path, "related": rng.choices(pool.titles, k=40), "v": article.variant}
    head = (
        f'<head><meta charset="utf-8"><title>{title} | {name}</title>'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{day}T09:00:00Z">'
        f"<style>{css}</style>"
        f"<script>window.__STATE__={json.dumps(data)};</script></head>"
    )
    menu = _links(random.Random(f"nav:{article.site}"), pool, "section", 80)
    nav = f'<header class="site-header"><a href="/">{name}</a><nav><ul>{menu}</ul></nav></header>'
    body = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    dated = f'<p class="date"><time datetime="{day}">{article.published:%d %B %Y}</time></p>'
    related = "".join(
        f'<li><a href="/s{article.site:02d}/news/r{rng.randrange(9999)}">{t}</a></li>'
        for t in rng.choices(pool.titles, k=20)
    )
    related = f'<div class="related-links"><h2>Related stories</h2><ul>{related}</ul></div>'
    story = {
        "council": f'<main id="main-content"><h1>{title}</h1>{dated}<div class="content">{body}'
        f"</div></main><aside>{related}</aside>",
        "paper": f'<article class="story"><h1>{title}</h1>{dated}<div class="article-body">{body}'
        f"</div></article>{related}",
        "wordpress": f'<div id="primary"><article class="post"><h1 class="entry-title">{title}'
        f'</h1>{dated}<div class="entry-content">{body}</div></article>{related}</div>',
    }[template]
    footer = (
        f'<footer class="site-footer"><ul>{_links(rng, pool, "footer", 30)}</ul>'
        f"<p>{name}. All rights reserved.</p></footer><script>{pool.script}</script>"
    )
    fixed = (
        f"<!DOCTYPE html><html lang='en'>{head}<body>"
        '<div id="cookie-consent"><p>We use cookies on this site.</p><button>Accept</button></div>'
        f"{nav}{story}"
    )
    room = article.size - len(fixed) - len(footer) - 80
    comments, used, n = [], 0, 0
    while used < room:
        text = " ".join(rng.choices(pool.sentences, k=3))
        item = f'<li class="comment"><b>reader{rng.randrange(99999)}</b><p>{text}</p></li>'
        comments.append(item)
        used += len(item)
        n += 1
    block = f'<section id="comments"><h3>Comments ({n})</h3><ol>{"".join(comments)}</ol></section>'
    return f"{fixed}{block}{footer}</body></html>".encode()


def _listing(site: int, articles: list[_Article], base_url: str) -> tuple[str, str, str]:
    """Listing page 1 (every article, newest first), page 2 (the oldest 20) and the RSS feed."""
    stories = [content.Story(a.path, a.title, a.published, (a.title,)) for a in articles]
    name = html.escape(_site_name(site))
    ordered = sorted(articles, key=lambda a: a.published, reverse=True)

    def items(chosen: list[_Article]) -> str:
        return "".join(
            f'<li><a href="{a.path}">{html.escape(a.title)}</a> '
            f"<span>{a.published:%d %B %Y}</span></li>"
            for a in chosen
        )

    def page(chosen: list[_Article], pager: str) -> str:
        return (
            f"<!doctype html><html><head><title>News - {name}</title></head><body>"
            f'<header><a href="/">{name}</a></header><main><h1>News</h1>'
            f'<ul class="news-list">{items(chosen)}</ul><nav class="pagination">{pager}</nav>'
            "</main><footer><a href='/privacy'>Privacy</a></footer></body></html>"
        )

    first = page(ordered, f'<a href="/s{site:02d}/news?page=2">Next page</a>')
    second = page(ordered[-20:], f'<a href="/s{site:02d}/news">Previous page</a>')
    feed = content.rss_feed(base_url, stories).replace("The Estuary Echo (demo)", name)
    return first, second, feed


def _outcome_plan(
    seed: int, authorities: list[Authority]
) -> dict[tuple[int, int], tuple[Authority, str]]:
    """Which (site, index) articles announce which council and grade, for both generations."""
    rng = random.Random(f"plan:{seed}")
    total = SITES * ARTICLES
    chosen = rng.sample(range(total), round(total * OUTCOME_SHARE))
    new_slots = rng.sample(range(SITES * NEW_PER_SITE), NEW_OUTCOMES)
    councils = rng.sample(authorities, len(chosen) + NEW_OUTCOMES + CORRECTIONS)
    plan: dict[tuple[int, int], tuple[Authority, str]] = {}
    for n, slot in enumerate(chosen):
        plan[divmod(slot, ARTICLES)] = (councils[n], rng.choice(GRADES))
    for n, slot in enumerate(new_slots):
        site, extra = divmod(slot, NEW_PER_SITE)
        plan[(site, ARTICLES + extra)] = (councils[len(chosen) + n], rng.choice(GRADES))
    corrected = [site for site in range(SITES) if (site, ARTICLES - 1) not in plan]
    for n, site in enumerate(corrected[:CORRECTIONS]):
        who = councils[len(chosen) + NEW_OUTCOMES + n]
        plan[(site, CORRECTION_KEY)] = (who, rng.choice(GRADES))
    return plan


CORRECTION_KEY = -1  # plan key: the outcome a site's newest story gains in generation 2


def _corrected(article: _Article, outcome: tuple[Authority, str]) -> _Article:
    """The site's newest story, updated to announce an outcome it did not carry before."""
    who, grade = outcome
    lead = (
        f"Update: Ofsted has since rated children's services at {who.name}"
        f" {_GRADE_TEXT[grade]} after an inspection this month."
    )
    truth = Truth(article.path, who.name, who.ons_code, grade)
    return replace(article, paragraphs=(lead, *article.paragraphs), outcome=truth, variant=2)


def _provider_routes(seed: int, truths: list[Truth], base_url: str) -> dict[str, Route]:
    """An Ofsted-like provider page and a report PDF for each council concerned."""
    registry = AuthorityRegistry.load()
    routes = {}
    for n, truth in enumerate(sorted(truths, key=lambda t: t.path)):
        who = registry.by_ons(truth.ons_code)
        urn = (who.ofsted_urn if who else None) or str(90000 + n)
        rng = random.Random(f"report:{seed}:{truth.path}")
        start = date(2025, 1, 6) + timedelta(days=7 * rng.randrange(30))
        spec = ReportSpec(
            authority=truth.authority,
            kind="ilacs",
            start=start,
            end=start + timedelta(days=11),
            lead_inspector="Bench Inspector",
            overall=truth.overall,
            judgements={
                "leaders": truth.overall,
                "help_and_protection": truth.overall,
                "children_in_care": truth.overall,
                "care_leavers": truth.overall,
            },
        )
        file_id = 1000 + n
        pub = content.Publication(urn, file_id, "Children's services inspection", spec.end)
        page = content.provider_page(truth.authority, urn, [pub], base_url)
        routes[f"/provider/44/{urn}"] = Route(page.encode(), modified=BASE_TIME)
        routes[f"/v1/file/{file_id}"] = Route(
            make_report_pdf(spec), content_type="application/pdf", modified=BASE_TIME
        )
    return routes


def generate(
    generation: int = 1, seed: int = 1, base_url: str = "", bodies: bool = True
) -> Workload:
    """Generation 1 or 2 of the workload. `base_url` is only used in feeds and provider pages."""
    authorities = sorted(AuthorityRegistry.load().current(), key=lambda a: a.ons_code)
    plan = _outcome_plan(seed, authorities)
    pool = _Pool(seed)
    work = Workload(generation)
    edit_rng = random.Random(f"edits:{seed}")
    per_site = ARTICLES + (NEW_PER_SITE if generation == 2 else 0)
    for site in range(SITES):
        articles = [_article(seed, pool, site, i, plan.get((site, i))) for i in range(per_site)]
        if generation == 2:
            edits = sorted(edit_rng.sample(range(ARTICLES), round(ARTICLES * EDIT_SHARE)))
            for k, i in enumerate(edits):
                old = articles[i]
                if k % 2 == 0:  # boilerplate only: new comments and related links
                    articles[i] = replace(old, variant=1)
                    work.boilerplate_only.append(old.path)
                else:  # a correction to the story itself
                    extra = f"Update: this story was corrected on {old.published:%d %B}."
                    articles[i] = replace(old, paragraphs=(*old.paragraphs, extra), variant=1)
                work.edited.append(old.path)
            correction = plan.get((site, CORRECTION_KEY))
            if correction is not None:
                articles[ARTICLES - 1] = _corrected(articles[ARTICLES - 1], correction)
                work.edited.append(articles[ARTICLES - 1].path)
        for article in articles:
            work.articles.append(article.path)
            if article.outcome is not None:
                work.truth[article.path] = article.outcome
            if bodies:
                modified = GEN2_TIME if article.variant or article.index >= ARTICLES else BASE_TIME
                page = render_article(article, pool, seed)
                work.routes[article.path] = Route(page, modified=modified)
        listing = f"/s{site:02d}/news"
        work.listings.append(listing)
        if bodies:
            first, second, feed = _listing(site, articles, base_url)
            modified = GEN2_TIME if generation == 2 else BASE_TIME
            work.routes[listing] = Route(first.encode(), modified=modified)
            work.routes[f"{listing}?page=2"] = Route(second.encode(), modified=BASE_TIME)
            work.routes[f"/s{site:02d}/feed"] = Route(
                feed.encode(), content_type="application/rss+xml", modified=modified
            )
    if bodies:
        work.routes.update(_provider_routes(seed, list(work.truth.values()), base_url))
    return work


if __name__ == "__main__":
    import time

    for gen in (1, 2):
        began = time.perf_counter()
        w = generate(gen, base_url="http://127.0.0.1:1")
        sizes = [len(w.routes[p].body) for p in w.articles]
        print(
            f"generation {gen}: {len(w.articles)} articles, {len(w.truth)} outcomes,"
            f" {len(w.edited)} edited, {len(w.routes)} routes, {w.size / 1e6:.0f} MB,"
            f" {min(sizes) // 1024}-{max(sizes) // 1024} KB,"
            f" {time.perf_counter() - began:.1f} s"
        )
