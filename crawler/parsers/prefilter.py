"""A cheap test on a page's raw bytes: can it hold an outcome at all? Most crawled pages cannot.

The article reader only reads stories that use Ofsted's or inspection wording, or name an ungraded
event (its out-of-scope check). This module looks for exactly that wording in the raw bytes, so a
page it rejects is one the full reader would give no outcome for.
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import resources

from crawler.parsers.html_text import decode_page

# The story-level words parse_article requires ("inspect" covers inspector, inspectorate,
# inspection and inspected); the ungraded events' own phrases are read from prose.toml below.
_CONTEXT = ("ofsted", "inspect")
# The article reader's UNGRADED_EVENTS (a test keeps them equal).
UNGRADED_EVENTS = ("focused_visit", "monitoring_visit", "jtai", "send_inspection")
_GZIP = b"\x1f\x8b"
_NON_LETTERS = bytes(b for b in range(256) if chr(b) not in string.ascii_letters)
_LOWER = bytes.maketrans(string.ascii_uppercase.encode(), string.ascii_lowercase.encode())
_TAG_BYTES = re.compile(rb"<[a-zA-Z/!?][^>]*>")
_OG_TITLE_BYTES = re.compile(rb"""<meta[^>]+og:title[^>]+content=("[^"]*"|'[^']*')""", re.I)
# Encodings in which '<', '>' and '&' are not single ASCII bytes: decoded and re-encoded first.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _letters(data: bytes) -> bytes:
    """Lower-case ASCII letters only: spaces, hyphens, quotes and all else go.

    Dropping non-ASCII before lower-casing loses nothing: the only characters whose lower case is
    an ASCII letter are the Kelvin sign (k, in no stem) and dotted capital I, whose lower case
    carries a combining dot that the article reader does not see through either.
    """
    return data.translate(_LOWER, _NON_LETTERS)  # one pass: drop non-letters, lower the rest


@cache
def stems() -> tuple[bytes, ...]:
    """The words an outcome needs, as letters only, with any word that holds another left out."""
    raw = resources.files("crawler").joinpath("data/prose.toml").read_text("utf-8")
    events = tomllib.loads(raw)["events"]
    words = [*_CONTEXT, *(w for kind in UNGRADED_EVENTS for w in events[kind])]
    letters = sorted({_letters(w.encode()) for w in words}, key=len)
    kept: list[bytes] = []
    for word in letters:
        if word and not any(stem in word for stem in kept):
            kept.append(word)
    return tuple(kept)


@cache
def _stem_groups() -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    """Stems grouped by their last five letters: a page without 'visit' needs no look for
    'focusedvisit', 'monitoringvisit' and the rest, so most pages cost one scan per group."""
    groups: dict[bytes, list[bytes]] = {}
    for stem in stems():
        groups.setdefault(stem[-5:], []).append(stem)
    # A stem alone is its own key: a long needle is scanned faster than a common five letters.
    return tuple(
        (tail if len(members) > 1 else members[0], tuple(members))
        for tail, members in groups.items()
    )


def _found(letters: bytes) -> bool:
    return any(
        tail in letters and any(stem in letters for stem in members)
        for tail, members in _stem_groups()
    )


def _unescaped(data: bytes) -> bytes:
    # Only numeric references can spell ASCII letters; named ones are punctuation or non-ASCII,
    # which the letters-only view drops anyway.
    if b"&#" not in data:
        return data
    # Latin-1 keeps every byte; a multi-byte character only becomes non-letters, dropped anyway.
    return html.unescape(data.decode("latin-1")).encode("ascii", "ignore")


def _html_views(raw: bytes) -> Iterator[bytes]:
    """The page's text as an HTML reader sees it (tags gone, numeric references read), then its
    og:title, as ASCII-compatible bytes."""
    if raw.startswith(_WIDE_BOMS):
        raw = decode_page(raw).encode("utf-8")
    yield _unescaped(_TAG_BYTES.sub(b"", raw))
    yield from (_unescaped(m[1]) for m in _OG_TITLE_BYTES.finditer(raw))


def may_report_outcome(raw: bytes, *, html_page: bool = False) -> bool:
    """False only when no reader could find an outcome in `raw` (a page or plain text).

    Stems are searched in letters-only views of the page, so that 'Of<b>sted</b>', '&#79;fsted',
    'OFSTED', 'monitoring\\nvisit' and UTF-16 pages are caught too. Compressed bytes cannot be read
    here and pass, for the full reader to decide. With `html_page` (the caller sniffed HTML, which
    only the HTML reader will read) the plain-text reader's view of the raw bytes is skipped:
    the HTML reader sees no more than the page's text and og:title.
    """
    if raw.startswith(_GZIP):
        return True
    # The plain-text reader's view, letters only: 'monitoring\nvisit' and UTF-16 are caught too.
    if not html_page and _found(_letters(raw)):
        return True
    return any(_found(_letters(view)) for view in _html_views(raw))
