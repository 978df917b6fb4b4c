"""Phrase lists for the prose reader (crawler/data/prose.toml) and the matching helpers over them.

Kept apart so that every other article_* module reads wording as data, never as code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources

from crawler.vocabulary import grade_pattern, normalise_grade, phrases, squash


@cache
def prose() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("crawler").joinpath("data/prose.toml").read_text("utf-8")
    loaded: dict[str, dict[str, list[str]]] = tomllib.loads(raw)
    return loaded


def words(section: str, key: str) -> list[str]:
    return prose()[section][key]


def has_any(text: str, phrases_: Iterable[str]) -> bool:
    folded = f" {squash(text)} "
    pattern, substrings = _any_matcher(tuple(phrases_))
    found = pattern is not None and pattern.search(folded) is not None
    return found or any(w in folded for w in substrings)


def contains(folded: str, word: str, plural: bool = True) -> bool:
    """Whole-word match on squashed text; an optional plural 's' unless told otherwise."""
    if _is_word(word):
        return _word_regex((word,), plural).search(folded) is not None
    return word in folded


def _is_word(phrase: str) -> bool:
    return phrase[:1].isalnum() and phrase[-1:].isalnum()


@cache
def _word_regex(words_: tuple[str, ...], plural: bool = True) -> re.Pattern[str]:
    # One alternation for a whole phrase list: the reader asks the same lists thousands of times.
    tail = "s?" if plural else ""
    ordered = sorted(words_, key=len, reverse=True)
    return re.compile(
        r"(?<![\w-])(?:" + "|".join(re.escape(w) + tail for w in ordered) + r")(?![\w-])"
    )


@cache
def _any_matcher(phrases_: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    words_ = tuple(w for w in phrases_ if _is_word(w))
    substrings = tuple(w for w in phrases_ if not _is_word(w))
    return (_word_regex(words_) if words_ else None), substrings


@cache
def area_regex() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex over every area wording (longest first) and the map from wording to area key."""
    keys: dict[str, str] = {phrase: key for phrase, key in phrases("areas")}
    for key, wordings in prose()["areas"].items():
        keys.update({w: key for w in wordings})
    ordered = sorted(keys, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(_loose(p) for p in ordered) + r")\b", re.I)
    return pattern, keys


def _loose(phrase: str) -> str:
    """A phrase as a regex that lets line breaks, runs of spaces and curly quotes through."""
    escaped = re.escape(phrase).replace(r"\ ", r"\s+").replace("'", "['’]")
    return escaped.replace(r"\-", r"[-\s]")


def _fold(text: str) -> str:
    return squash(text).replace("-", " ")


@cache
def _folded_keys() -> dict[str, str]:
    return {_fold(phrase): key for phrase, key in area_regex()[1].items()}


def area_key(text: str) -> str:
    """The area key of a wording the area regex found."""
    return _folded_keys()[_fold(text)]


@cache
def _extra_grades() -> dict[str, str]:
    return {squash(p): key for key, wordings in prose()["grade_words"].items() for p in wordings}


@cache
def grade_regex() -> re.Pattern[str]:
    """Every grade wording, plus upper-case 'RI'; 'good-quality' and the like are left out."""
    extra = "|".join(_loose(p) for p in sorted(_extra_grades(), key=len, reverse=True))
    return re.compile(rf"\b({extra}|{grade_pattern()})\b(?!-\w)|\bRI\b", re.I)


def grade_key(text: str) -> str | None:
    """The grade key of a wording the grade regex found ('top rating' is outstanding)."""
    return normalise_grade(text) or _extra_grades().get(squash(text))


@cache
def all_areas_regex() -> re.Pattern[str]:
    """'all four areas', 'each of the judgements', 'across the board': every area at once."""
    section = prose()["grades"]
    quantifiers = "|".join(_loose(w) for w in sorted(section["all_quantifiers"], key=len)[::-1])
    counts = "|".join(section["all_counts"])
    nouns = "|".join(_loose(w) for w in sorted(section["area_nouns"], key=len)[::-1])
    fixed = "|".join(_loose(w) for w in section["all_areas"])
    return re.compile(rf"\b(?:(?:{quantifiers})\s+(?:(?:{counts})\s+)?(?:{nouns})|{fixed})\b", re.I)
