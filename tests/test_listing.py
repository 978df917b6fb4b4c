"""Tests of the news listing reader on saved council and WordPress pages."""

from __future__ import annotations

from pathlib import Path

from crawler.parsers.listing import article_links

PAGES = Path(__file__).parent / "fixtures" / "pages"
COUNCIL = "https://www.example-county.gov.uk/news"
ECHO = "https://echo.example.co.uk/category/local-news/"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_council_newsroom_keeps_only_articles_in_page_order() -> None:
    assert article_links(page("council_newsroom.html"), COUNCIL) == [
        "https://www.example-county.gov.uk/news/childrens-services-rated-good-by-ofsted",
        "https://www.example-county.gov.uk/news/new-recycling-centre-opens",
        "https://www.example-county.gov.uk/news/library-opening-hours-change",
    ]


def test_wordpress_listing_drops_taxonomy_paging_files_and_sidebar() -> None:
    assert article_links(page("wordpress_listing.html"), ECHO) == [
        "https://echo.example.co.uk/2025/02/14/council-childrens-services-inadequate/",
        "https://echo.example.co.uk/?p=809",
        "https://www.echo.example.co.uk/2025/02/10/school-wins-award/",
    ]


def test_limit_caps_the_list() -> None:
    assert len(article_links(page("wordpress_listing.html"), ECHO, limit=2)) == 2


def test_listing_without_main_uses_body_minus_navigation() -> None:
    html = """<html><body><nav><a href="/news/menu-item">Menu</a></nav>
    <div><a href="/news/one">One</a><a href="/news">All news</a><a href="/">Home</a>
    <a href="/news/page/2">Older</a><a href="/news/two?utm=x#c">Two</a></div>
    <footer><a href="/news/footer-link">F</a></footer></body></html>"""
    assert article_links(html, "https://council.example.gov.uk/news/") == [
        "https://council.example.gov.uk/news/one",
        "https://council.example.gov.uk/news/two?utm=x",
    ]


def test_empty_page_gives_no_links() -> None:
    assert article_links(b"", COUNCIL) == []


def test_a_link_selector_picks_the_articles_a_generic_reading_misses() -> None:
    html = """<html><body><div class="nav-like"><h3><a href="/news/one">One</a></h3>
    <h3><a href="/news/two">Two</a></h3></div><div><a href="/about">About</a></div></body></html>"""
    assert article_links(html, COUNCIL, selector="div.nav-like h3") == [
        "https://www.example-county.gov.uk/news/one",
        "https://www.example-county.gov.uk/news/two",
    ]


def test_an_empty_skip_link_anchor_is_not_the_listings_content() -> None:
    html = """<html><body><div id="page"><a id="main-content"></a><div id="content">
    <div class="view-content"><div class="views-row"><h2><a href="/news/rated-good">Rated good</a>
    </h2></div><div class="views-row"><h2><a href="/news/bins">Bins</a></h2></div></div>
    </div></div></body></html>"""
    assert article_links(html, COUNCIL) == [
        "https://www.example-county.gov.uk/news/rated-good",
        "https://www.example-county.gov.uk/news/bins",
    ]
