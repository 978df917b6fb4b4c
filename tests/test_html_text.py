"""Main text, title and date of story pages: furniture dropped, blocks kept as lines."""

from __future__ import annotations

from datetime import date

import pytest

from bench.__main__ import big_page
from crawler.extract import extract_document
from crawler.parsers.html_text import (
    ArticleText,
    article_text,
    is_boilerplate_line,
    needs_javascript,
    plain_text_article,
)

PAGE = """<!doctype html><html><head>
<title>Site | Council news</title>
<meta property="og:title" content="Ofsted praises fostering team">
{meta}
</head><body>
<header><nav><a href="/">Home</a></nav></header>
<div id="cookie-consent">We use cookies on this site.</div>
<main>
  <h1>Ofsted praises fostering team</h1>
  {time}
  <p>First paragraph of the story.</p>
  <p>Second   paragraph,
     over two lines.</p>
  <ul><li>One point</li><li>Another point</li></ul>
  <div class="related-links"><h2>Related</h2><a href="/a">A school rated good</a></div>
  <p>Read more: Another story about a nursery</p>
  <div class="comments"><p>A reader's comment</p></div>
  <form><input name="q"><p>Search the site</p></form>
</main>
<aside><p>Most popular stories</p></aside>
<footer><p>Copyright</p></footer>
<script>var x = "script text";</script>
</body></html>"""


def _page(meta: str = "", time: str = "") -> str:
    return PAGE.format(meta=meta, time=time)


def test_keeps_story_blocks_and_drops_furniture() -> None:
    result = article_text(_page())
    assert result.title == "Ofsted praises fostering team"
    assert result.text.splitlines() == [
        "First paragraph of the story.",
        "Second paragraph, over two lines.",
        "- One point",
        "- Another point",
    ]


@pytest.mark.parametrize(
    ("meta", "time", "expected"),
    [
        (
            '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle",'
            ' "datePublished": "2023-08-18T10:00:00Z"}]}</script>'
            '<meta property="article:published_time" content="2020-01-01">',
            "",
            date(2023, 8, 18),
        ),
        ('<meta property="article:published_time" content="2021-06-04T09:00:00">', "", None),
        ('<meta name="DC.date" content="2019-03-02">', "", date(2019, 3, 2)),
        ("", '<time datetime="2017-10-12">12 Oct</time>', date(2017, 10, 12)),
        ("", "<p>12 October 2017</p>", date(2017, 10, 12)),
        ("", "", None),
    ],
)
def test_publication_date_sources_in_priority_order(
    meta: str, time: str, expected: date | None
) -> None:
    if expected is None and meta:
        expected = date(2021, 6, 4)
    assert article_text(_page(meta, time)).published == expected


def test_bad_json_ld_falls_back_to_meta() -> None:
    meta = (
        '<script type="application/ld+json">{not json</script>'
        '<meta name="date" content="2022-02-01">'
    )
    assert article_text(_page(meta)).published == date(2022, 2, 1)


def test_article_element_wins_over_body_noise() -> None:
    html = (
        "<html><body><div class='menu'>Menu</div><p>Outside text</p>"
        "<article><header><h1>Inside title</h1><time datetime='2024-05-01'></time></header>"
        "<p>Inside text.</p><div class='share-buttons'>Share on X</div></article></body></html>"
    )
    result = article_text(html.encode())
    assert result.text.splitlines() == ["Inside text."]
    assert result.title == "Inside title"
    assert result.published == date(2024, 5, 1)


def test_plain_text_title_date_and_furniture() -> None:
    text = (
        "Skip to main content\n\nCouncil services rated good\n\n3 March 2024\n\n"
        "The story starts here.\nRead more: something else\n"
    )
    result = plain_text_article(text)
    assert result.title == "Council services rated good"
    assert result.published == date(2024, 3, 3)
    assert result.text.splitlines() == ["3 March 2024", "The story starts here."]


def test_plain_text_without_title_line() -> None:
    result = plain_text_article("A full sentence that ends with a stop.\nAnother one.")
    assert result.title is None
    assert result.published is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("READ MORE: Nursery rated inadequate", True),
        ("- Read more about this", True),
        ("Comments: Our rules", True),
        ("Readers were pleased with the result.", False),
    ],
)
def test_boilerplate_lines(line: str, expected: bool) -> None:
    assert is_boilerplate_line(line) is expected


@pytest.mark.parametrize(
    "data",
    [
        "<p>Ofsted’s verdict: good</p>".encode(),
        "<p>Ofsted’s verdict: good</p>".encode("cp1252"),
        '<meta charset="windows-1252"><p>Ofsted’s verdict: good</p>'.encode("cp1252"),
        "<p>Ofsted’s verdict: good</p>".encode("utf-16"),
        '<?xml version="1.0" encoding="utf-8"?><p>Ofsted’s verdict: good</p>',
    ],
    ids=["utf8", "cp1252-undeclared", "cp1252-declared", "utf16-bom", "xml-declaration"],
)
def test_encodings_are_read(data: bytes | str) -> None:
    assert article_text(data).text == "Ofsted’s verdict: good"


@pytest.mark.parametrize("data", [b"", b"   ", "\x00"])
def test_empty_documents_give_empty_text(data: bytes | str) -> None:
    assert article_text(data) == ArticleText(title=None, text="", published=None)


@pytest.mark.parametrize("layout", ["council", "paper", "wordpress"])
def test_big_generated_page_keeps_only_the_story(layout: str) -> None:
    story = ["Ofsted rated Essex good.", "The report was published today."]
    result = article_text(big_page(layout, "Essex rated good", story))
    assert result.title == "Essex rated good"
    assert result.text.splitlines() == story
    assert result.published == date(2024, 3, 5)


def test_text_after_a_dropped_tag_is_kept() -> None:
    html = "<body><main><p>Rated <button>x</button>good<br>by Ofsted</p></main></body>"
    assert article_text(html).text.splitlines() == ["Rated good", "by Ofsted"]


# --- other stories' headlines and the story's own container -------------------------------------

_ORDINARY = """<html><head><title>Road closure in Colchester</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
{before}<div class="content"><h1>Road closure in Colchester this weekend</h1>
<p>Essex County Council will close the High Street in Colchester on Saturday for resurfacing
works, with diversions in place for buses and cars.</p>
<p>The works are expected to finish by Sunday evening, the council said.</p></div>
{after}<footer>Copyright</footer></body></html>"""
_OTHER_STORIES = {
    "most-read": '<div class="most-read"><h3>Most read</h3><ul><li><a href="/1">Essex children\'s'
    " services rated outstanding by Ofsted</a></li><li><a href='/2'>Thurrock services judged"
    " inadequate after inspection</a></li></ul></div>",
    "aria-related": '<section aria-label="Related stories"><h2>You may also like</h2><ul><li>'
    "<a href='/x'>Ofsted rates Essex children's services outstanding again</a></li></ul></section>",
    "unmarked-link-list": "<div><h4>More from the Gazette</h4><ul><li><a href='/y'>Ofsted:"
    " Thurrock children's services inadequate</a></li><li><a href='/z'>Council tax to rise</a>"
    "</li></ul></div>",
    "teaser-card": '<div class="teasers"><article class="card"><h3><a href="/a">Essex children\'s'
    " services rated outstanding by Ofsted inspectors</a></h3><p>Praise for the council.</p>"
    "</article></div>",
}


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("block", list(_OTHER_STORIES))
def test_other_stories_headlines_are_not_this_pages_news(block: str, where: str) -> None:
    html = _ORDINARY.format(
        before=_OTHER_STORIES[block] if where == "before" else "",
        after=_OTHER_STORIES[block] if where == "after" else "",
    )
    text = article_text(html).text
    assert "Ofsted" not in text and "High Street in Colchester" in text
    assert extract_document(html.encode()).outcomes == ()


def test_an_empty_skip_link_anchor_and_a_promoted_node_keep_the_story() -> None:
    html = """<html><body><div id="page"><a id="main-content"></a>
    <div id="content"><div class="node node-news node-promoted">
    <h1>Children's services in Rutland rated good</h1>
    <p>Rutland County Council's children's services have been rated good by Ofsted after an
    inspection in March, the council said today.</p>
    <p>Inspectors praised the support given to care leavers.</p></div></div></div></body></html>"""
    text = article_text(html).text
    assert "rated good by Ofsted" in text and "care leavers" in text


def test_a_content_selector_names_the_story_outright() -> None:
    html = """<html><body><div class="x1"><p>Cookie notice and other furniture here.</p></div>
    <div class="x2"><p>Rutland's children's services have been rated good by Ofsted.</p></div>
    </body></html>"""
    assert article_text(html, content_selector="div.x2").text == (
        "Rutland's children's services have been rated good by Ofsted."
    )


@pytest.mark.parametrize(
    ("html", "why"),
    [
        (
            b"<html><body><div id='app'></div><script src='/app.js'></script><noscript>Please"
            b" enable JavaScript to read this page.</noscript></body></html>",
            "its <noscript> says: 'Please enable JavaScript to read this page.'",
        ),
        (b"<html><body><div id='root'></div><script>render()</script></body></html>", "scripts"),
        (
            b"<html><head><script>ga()</script></head><body><p>" + b"news " * 30 + b"</p></body>"
            b"</html>",
            None,
        ),
        (b"<html><body><p>Bins</p></body></html>", None),
    ],
    ids=["noscript-notice", "empty-shell", "story-with-analytics", "no-scripts"],
)
def test_pages_that_need_javascript_say_so(html: bytes, why: str | None) -> None:
    reason = needs_javascript(html)
    assert (reason is None) == (why is None)
    if why is not None:
        assert reason is not None and why in reason
