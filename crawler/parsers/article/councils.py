"""Which councils a piece of prose names, and where: names, aliases, initialisms and trusts.

Names must start with a capital (initialisms match exactly); short names that are also common words
or other places ('Reading', 'Kingston') count only with a council word after them or another,
unambiguous mention of the same council in the text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from crawler.authorities import Authority, AuthorityRegistry, name_key

_LIST_GAP = re.compile(r"(?:'s)?\s*(?:,|and|&|or|,\s*and)\s*")


@dataclass(frozen=True)
class CouncilMatch:
    """One mention of a council in a text: the council, the span and the words as printed."""

    authority: Authority
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Index:
    pattern: re.Pattern[str]
    initialisms: frozenset[str]
    ambiguous: frozenset[str]
    blockers: frozenset[str]
    council_words: re.Pattern[str]


@cache
def _prose_councils() -> dict[str, list[str]]:
    raw = resources.files("crawler").joinpath("data/prose.toml").read_text("utf-8")
    section: dict[str, list[str]] = tomllib.loads(raw)["councils"]
    return section


def _is_initialism(name: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", name)
    return len(name) <= 6 and letters.isupper()


@cache
def _index() -> _Index:
    data = _prose_councils()
    names = {n for a in AuthorityRegistry.load().all() for n in a.all_names() if len(n) > 1}
    names.update(data["not_councils"])
    initialisms = frozenset(n for n in names if _is_initialism(n))
    # "Brighton & Hove", "Bath & North East Somerset": an ampersand stands for "and" in any name.
    alternation = "|".join(
        re.escape(n).replace(r"\ and\ ", r"\s+(?:and|&)\s+")
        for n in sorted(names, key=len, reverse=True)
    )
    words = "|".join(re.escape(w) for w in data["council_words"])
    return _Index(
        pattern=re.compile(rf"(?<![\w&-])(?:the\s+)?({alternation})(?![\w&]|-\w)", re.I),
        initialisms=initialisms,
        ambiguous=frozenset(name_key(n) for n in data["ambiguous"]),
        blockers=frozenset(name_key(n) for n in data["not_councils"]),
        council_words=re.compile(rf"^(?:'s)?\s+(?:{words})\b"),
    )


def _case_ok(printed: str, index: _Index) -> bool:
    if printed in index.initialisms:
        return True
    if any(printed.lower() == i.lower() for i in index.initialisms):
        return False
    return printed[:1].isupper()


def _raw_matches(text: str, registry: AuthorityRegistry) -> list[tuple[CouncilMatch, bool]]:
    """Every capitalised name that means one council, flagged when it is ambiguous on its own."""
    index = _index()
    found: list[tuple[CouncilMatch, bool]] = []
    for match in index.pattern.finditer(text):
        printed = match[1]
        key = name_key(printed)
        if key in index.blockers or not _case_ok(printed, index):
            continue
        authority = registry.resolve(printed)
        if authority is None:
            continue
        followed = bool(index.council_words.match(text[match.end(1) :]))
        needs_context = key in index.ambiguous and not followed
        found.append(
            (CouncilMatch(authority, match.start(1), match.end(1), printed), needs_context)
        )
    return found


def find_councils(
    text: str, registry: AuthorityRegistry | None = None, backed: frozenset[str] = frozenset()
) -> list[CouncilMatch]:
    """Mentions of councils in text order; ambiguous short names only when the text backs them.

    `backed` holds ONS codes the surrounding story has already named plainly.
    """
    registry = registry or AuthorityRegistry.load()
    raw = _raw_matches(text, registry)
    backed = backed | {m.authority.ons_code for m, needs_context in raw if not needs_context}
    return [
        m
        for i, (m, needs_context) in enumerate(raw)
        if not needs_context or m.authority.ons_code in backed or _listed_with_council(text, raw, i)
    ]


def _listed_with_council(text: str, raw: list[tuple[CouncilMatch, bool]], i: int) -> bool:
    """'Camden and Sutton': an ambiguous name in a list with a plain council name is a council."""
    match = raw[i][0]
    for j in (i - 1, i + 1):
        if not 0 <= j < len(raw) or raw[j][1]:
            continue
        other = raw[j][0]
        gap = text[other.end : match.start] if j < i else text[match.end : other.start]
        if _LIST_GAP.fullmatch(gap):
            return True
    return False


def councils_named(text: str, registry: AuthorityRegistry | None = None) -> list[Authority]:
    """The distinct councils a text names, in order of first mention."""
    seen: dict[str, Authority] = {}
    for match in find_councils(text, registry):
        seen.setdefault(match.authority.ons_code, match.authority)
    return list(seen.values())


_HOST_NOISE = {
    "www",
    "democracy",
    "democratic",
    "moderngov",
    "modgov",
    "committee",
    "committees",
    "mycouncil",
    "edemocracy",
    "news",
    "newsroom",
    "minutes",
    "cmis",
    "gov",
    "uk",
    "co",
    "org",
    "com",
    "net",
    "internet",
    "council",
    "feeds",
}
_MIN_PREFIX = 8


def _compact(name: str) -> str:
    return name_key(name).replace(" ", "")


@cache
def _compact_names() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for authority in AuthorityRegistry.load().current():
        for name in authority.all_names():
            index.setdefault(_compact(name), set()).add(authority.ons_code)
    return {key: frozenset(codes) for key, codes in index.items()}


def _from_host_label(label: str, official: bool) -> str | None:
    """The council a host label names: 'stockton' on gov.uk, 'warwickshireparents' elsewhere."""
    names = _compact_names()
    exact = names.get(label)
    if exact and len(exact) == 1:
        return next(iter(exact))
    if official:
        hits = {c for key, codes in names.items() if key.startswith(label) for c in codes}
    else:
        hits = {
            c
            for key, codes in names.items()
            if len(key) >= _MIN_PREFIX and label.startswith(key)
            for c in codes
        }
    return next(iter(hits)) if len(hits) == 1 else None


def councils_in_url(url: str | None, registry: AuthorityRegistry | None = None) -> list[Authority]:
    """Councils a page's address names, for stories that only say 'the council'."""
    if not url:
        return []
    registry = registry or AuthorityRegistry.load()
    parts = urlsplit(url)
    host = parts.hostname or ""
    official = host.endswith((".gov.uk", "moderngov.co.uk"))
    codes: list[str] = []
    for label in host.split("."):
        if label not in _HOST_NOISE and len(label) >= 4:
            code = _from_host_label(label, official)
            if code:
                codes.append(code)
    slug = " ".join(w.capitalize() for w in re.split(r"[-_/.]+", parts.path) if w.isalpha())
    codes += [m.authority.ons_code for m in find_councils(slug, registry)]
    found = [registry.by_ons(c) for c in dict.fromkeys(codes)]
    return [a for a in found if a is not None]
