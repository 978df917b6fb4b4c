"""The controlled vocabulary (grades, judgement areas, publication kinds), loaded from data."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Lower-case, with curly quotes made straight and all white space folded to one space."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip().lower()


@cache
def _load() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("crawler").joinpath("data/vocabulary.toml").read_text("utf-8")
    return tomllib.loads(raw)


def phrases(section: str) -> list[tuple[str, str]]:
    """(phrase, key) pairs of a section, longest phrase first so that the most specific wins."""
    pairs = [(p, key) for key, words in _load()[section].items() for p in words]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def normalise_grade(text: str | None) -> str | None:
    """Map a printed or reported grade ('Requires improvement to be good', 'RI') to its key."""
    if not text:
        return None
    wanted = squash(text).strip(" '\".:;,!")
    for phrase, key in phrases("grades"):
        if wanted == phrase:
            return key
    return None


def grade_pattern() -> str:
    """A regex alternation of every grade phrase (without 'RI', which is too short to search)."""
    words = [re.escape(p) for p, _ in phrases("grades") if p != "ri"]
    return "|".join(words)


def publication_kind(label: str) -> str:
    """The event type of a provider-page publication label; unknown labels are 'other'."""
    text = squash(label)
    for phrase, key in phrases("publication_kinds"):
        if phrase in text:
            return key
    return "other"
