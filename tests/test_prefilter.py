"""The raw-bytes prefilter never drops a page the full reader gets an outcome from, and is cheap.

The proof runs the full extractor (prefilter switched off) and the prefilter over every text and
page fixture, the shared corpus and seeds when ../shared exists, and variants of each: HTML with
escaped and curly apostrophes, upper case, words split across tags, character references, UTF-16,
and 100 KB pages from the benchmark's generator.
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import crawler.extract
from bench.__main__ import big_page
from crawler.extract import extract_document, sniff_kind
from crawler.parsers import article, prefilter
from crawler.parsers.prefilter import may_report_outcome

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"
HOME = ("E10000012",)  # one home council, so that stories naming none still give outcomes
SPLITS = {"Ofsted": "Of<b>sted</b>", "inspect": "in<span>spect</span>", "visit": "<i>visit</i>"}


def _documents(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted(p for pattern in patterns for p in root.glob(pattern))


def _as_html(text: str, quote: Callable[[str], str]) -> str:
    paragraphs = "".join(f"<p>{quote(html.escape(line))}</p>\n" for line in text.splitlines())
    return f"<!doctype html><html><body><article>{paragraphs}</article></body></html>"


def _split_words(page: str) -> str:
    for word, split in SPLITS.items():
        page = re.sub(word, split, page, flags=re.I)
    return page.replace(" visit", "</p><p>visit")


def _references(page: str) -> str:
    """Letters written as character references: &#79;fsted, &#x69;nspection."""
    page = re.sub(r"O(?=fsted)", "&#79;", page)
    return re.sub(r"(?<=[\s>])i(?=nspect)", "&#x69;", page)


def _variants(data: bytes) -> Iterator[tuple[str, bytes]]:
    text = data.decode("utf-8", errors="replace")
    is_html = "<p" in text or "<body" in text
    yield "original", data
    yield "upper", text.upper().encode()
    yield "utf16", text.encode("utf-16")
    page = text if is_html else _as_html(text, lambda s: s.replace("&#x27;", "&#39;"))
    curly = text if is_html else _as_html(text, lambda s: s.replace("&#x27;", "&rsquo;"))
    yield "html", page.encode()
    yield "curly", curly.encode()
    yield "split", _split_words(page).encode()
    yield "references", _references(page).encode("ascii", "xmlcharrefreplace")
    if not is_html:
        lines = [line for line in text.splitlines() if line.strip()] or [""]
        yield "big", big_page("paper", lines[0], lines[1:])


def _corpus() -> list[Path]:
    own = _documents(FIXTURES, ("**/*.txt", "**/*.html", "**/*.htm"))
    shared = _documents(SHARED, ("corpus/texts/*.txt", "seeds/*")) if SHARED.is_dir() else []
    return own + shared


def _full_outcomes(monkeypatch: pytest.MonkeyPatch, data: bytes, home: tuple[str, ...]) -> int:
    with monkeypatch.context() as patch:
        patch.setattr(crawler.extract, "may_report_outcome", lambda raw, html_page=False: True)
        return len(extract_document(data, home_councils=home).outcomes)


def test_ungraded_events_are_the_article_readers() -> None:
    modules = sorted(Path(article.__file__).parent.glob("*.py"))
    found = [
        getattr(importlib.import_module(f"{article.__name__}.{m.stem}"), "UNGRADED_EVENTS", None)
        for m in modules
    ]
    assert {tuple(f) for f in found if f is not None} == {prefilter.UNGRADED_EVENTS}


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_never_drops_a_page_with_an_outcome(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = 0
    for name, data in _variants(path.read_bytes()):
        for home in ((), HOME) if name == "original" else ((),):
            full = _full_outcomes(monkeypatch, data, home)
            kept = may_report_outcome(data, html_page=sniff_kind(data) == "html")
            assert not (full and not kept), f"{name} home={home} dropped (as extract reads it)"
            assert not (full and not may_report_outcome(data)), f"{name} home={home} dropped"
            found += full
    # The fixtures that expect outcomes must give some, or the check above proves nothing.
    expected = path.with_name(path.name.split(".")[0] + ".expected.json")
    if expected.exists() and expected.read_text().strip() not in ("[]", ""):
        assert found


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} not present")
def test_shared_texts_are_covered() -> None:
    assert len(_documents(SHARED, ("corpus/texts/*.txt",))) >= 10


@pytest.mark.parametrize(
    "raw",
    [
        b"<p>Of<b>sted</b> rated Essex good</p>",
        b"&#79;fsted rated Essex good",
        b"OFSTED RATED ESSEX GOOD",
        b"a monitoring\n  visit to Essex",
        b"a two-day <em>visit</em> to Essex",
        "\ufeffOfsted rated Essex good".encode("utf-16"),
        b'<meta property="og:title" content="&#x4F;fsted praises Essex">',
        b"\x1f\x8b\x08\x00compressed",
    ],
)
def test_accepts_disguised_wording(raw: bytes) -> None:
    assert may_report_outcome(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"Bin collections move to Tuesday after the bank holiday.",
        big_page("council", "Winter opening hours", ["Recycling centres open at 8am."] * 6),
        big_page("wordpress", "Library reopens", ["The library on the high street reopens."]),
    ],
    ids=["empty", "text", "council-100kb", "wordpress-100kb"],
)
def test_rejects_ordinary_pages(raw: bytes) -> None:
    assert not may_report_outcome(raw)
    assert extract_document(raw).outcomes == ()
