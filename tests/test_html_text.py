"""Main text, title and date of story pages: furniture dropped, blocks kept as lines."""

from __future__ import annotations

from datetime import date

import pytest

from bench.__main__ import big_page
from crawler.parsers.html_text import (
    ArticleText,
    article_text,
    is_boilerplate_line,
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
