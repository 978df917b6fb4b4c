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

from crawler.authorities import Authority, AuthorityRegistry, name_key


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
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
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


def find_councils(text: str, registry: AuthorityRegistry | None = None) -> list[CouncilMatch]:
    """Mentions of councils in text order; ambiguous short names only when the text backs them."""
    registry = registry or AuthorityRegistry.load()
    raw = _raw_matches(text, registry)
    backed = {m.authority.ons_code for m, needs_context in raw if not needs_context}
    return [m for m, needs_context in raw if not needs_context or m.authority.ons_code in backed]


def councils_named(text: str, registry: AuthorityRegistry | None = None) -> list[Authority]:
    """The distinct councils a text names, in order of first mention."""
    seen: dict[str, Authority] = {}
    for match in find_councils(text, registry):
        seen.setdefault(match.authority.ons_code, match.authority)
    return list(seen.values())
