"""How sure a reading is: a logistic model over what the reader saw (weights: data/confidence.toml).

The weights are fitted by `python -m bench.confidence` on the tuning folds of the labelled texts
and checked on the held-out fold (bench/PROSE.md), so that a confidence of 0.9 means about nine
readings in ten are right.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from crawler.parsers.article.phrases import has_any, words
from crawler.parsers.article.sentences import Sentence
from crawler.parsers.article.story import UNGRADED_EVENTS, Mention, Story

FEATURES = (
    "bias",
    "ungraded",
    "overall_in_lead",
    "overall_in_headline",
    "overall_named",
    "ofsted_beside",
    "conflicting",
    "areas_read",
    "dated",
    "printed_name",
    "several_councils",
    "history_beside",
    "quoted",
    "no_grade",
    "council_in_headline",
    "council_in_lead",
    "two_councils",
    "many_areas",
    "explicit_overall",
    "long_story",
)
_LONG_STORY = 40  # sentences
_MANY_AREAS = 3
_OFSTED = re.compile(r"\b(?:ofsted|inspect\w*|watchdog|inspectorate)\b", re.I)
_QUOTES = re.compile(r"[\"“”]")


@dataclass(frozen=True)
class Reading:
    """What the reader saw of one council's outcome, for the confidence model."""

    code: str
    event_type: str
    overall: Mention | None
    current: tuple[Mention, ...]
    areas_read: bool
    dated: bool
    printed_name: bool
    story: Story


def signals(reading: Reading) -> dict[str, float]:
    """Each feature of FEATURES as 0 or 1 (bias is always 1)."""
    overall = reading.overall
    sentence = overall.sentence if overall is not None else None
    grades = {m.grade for m in reading.current if m.area == "overall"}
    councils = {m.authority.ons_code for s in reading.story.sentences for m in s.councils}
    found = {
        "bias": True,
        "ungraded": reading.event_type in UNGRADED_EVENTS,
        "overall_in_lead": sentence is not None and sentence.lead,
        "overall_in_headline": sentence is not None and sentence.index == _first_lead(reading),
        "overall_named": overall is not None and overall.named,
        "ofsted_beside": sentence is not None and _OFSTED.search(sentence.text) is not None,
        "conflicting": len(grades) > 1,
        "areas_read": reading.areas_read,
        "dated": reading.dated,
        "printed_name": reading.printed_name,
        "several_councils": len(councils) >= 3,
        "history_beside": sentence is not None and _has_history(sentence),
        "quoted": sentence is not None and _QUOTES.search(sentence.text) is not None,
        "no_grade": overall is None and not reading.areas_read,
        "council_in_headline": _named_in(reading, reading.story.lead[:1]),
        "council_in_lead": _named_in(reading, reading.story.lead),
        "two_councils": len(councils) >= 2,
        "many_areas": len({m.area for m in reading.current}) >= _MANY_AREAS,
        "explicit_overall": overall is not None and overall.explicit,
        "long_story": len(reading.story.sentences) > _LONG_STORY,
    }
    return {name: float(found[name]) for name in FEATURES}


def _named_in(reading: Reading, sentences: Sequence[Sentence]) -> bool:
    return any(m.authority.ons_code == reading.code for s in sentences for m in s.councils)


def _first_lead(reading: Reading) -> int:
    lead = reading.story.lead
    return lead[0].index if lead else 0


def _has_history(sentence: Sentence) -> bool:
    return has_any(sentence.text, words("tense", "history"))


@cache
def weights() -> dict[str, float]:
    raw = resources.files("crawler").joinpath("data/confidence.toml").read_text("utf-8")
    loaded: dict[str, float] = tomllib.loads(raw)["weights"]
    return loaded


def score(features: Mapping[str, float], weights_: Mapping[str, float] | None = None) -> float:
    """The model's probability that the reading is right, to two decimals."""
    chosen = weights() if weights_ is None else weights_
    total = sum(chosen.get(name, 0.0) * value for name, value in features.items())
    return round(1.0 / (1.0 + math.exp(-total)), 2)


def vector(features: Mapping[str, float]) -> Sequence[float]:
    return [features[name] for name in FEATURES]


def confidence(reading: Reading) -> float:
    return score(signals(reading))
