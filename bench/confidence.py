"""Fit the prose reader's confidence model on the tuning folds, and check it on the held-out fold.

`python -m bench.confidence [--write]` reads every labelled text (bench/evaluate.py), records for
each extracted outcome the signals its confidence is scored on and whether it was right, fits a
logistic regression (plain gradient descent with an L2 penalty: deterministic, no dependencies)
on the tuning folds, and prints the calibration of the fitted model on both parts. `--write`
stores the weights in crawler/data/confidence.toml.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.evaluate import (
    HELD_OUT_FOLD,
    Judged,
    LabelledText,
    _pair,
    _states_only_truth,
    default_sets,
    format_calibration,
    load_set,
)
from crawler.extract import extract_document
from crawler.parsers.article.confidence import FEATURES, score

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "crawler" / "data" / "confidence.toml"
_STEPS = 4000
_RATE = 0.5
_PENALTY = 0.01


@dataclass(frozen=True)
class Example:
    """One extracted outcome: its signals, whether it was right, and the fold of its text."""

    signals: Mapping[str, float]
    right: bool
    fold: int


def examples_of(text: LabelledText) -> list[Example]:
    extracted = extract_document(
        text.path.read_bytes(), url=text.url, article_date=text.article_date,
        home_councils=text.home,
    )  # fmt: skip
    pairs, _, _ = _pair(text.outcomes, extracted.outcomes)
    right = {id(got): _states_only_truth(item, got) for item, got in pairs}
    return [
        Example(signals, right.get(id(outcome), False), text.fold)
        for outcome, signals in zip(extracted.outcomes, extracted.signals, strict=True)
    ]


def fit(examples: Sequence[Example]) -> dict[str, float]:
    """Logistic regression weights by full-batch gradient descent from zero."""
    weights = dict.fromkeys(FEATURES, 0.0)
    for _ in range(_STEPS):
        gradient = dict.fromkeys(FEATURES, 0.0)
        for example in examples:
            error = _probability(weights, example.signals) - float(example.right)
            for name in FEATURES:
                gradient[name] += error * example.signals[name]
        for name in FEATURES:
            penalty = 0.0 if name == "bias" else _PENALTY * weights[name]
            weights[name] -= _RATE * (gradient[name] / len(examples) + penalty)
    return {name: round(value, 3) for name, value in weights.items()}


def _probability(weights: Mapping[str, float], signals: Mapping[str, float]) -> float:
    total = sum(weights[name] * signals[name] for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-total))


def judged(examples: Sequence[Example], weights: Mapping[str, float]) -> list[Judged]:
    return [Judged(score(e.signals, weights), e.right) for e in examples]


def render_weights(weights: Mapping[str, float]) -> str:
    lines = [
        "# Weights of the prose reader's confidence model (crawler/parsers/article/confidence.py).",
        "# Fitted by `python -m bench.confidence --write` on the tuning folds of the labelled",
        "# texts (bench/PROSE.md); not edited by hand.",
        "[weights]",
    ]
    lines += [f"{name} = {weights[name]}" for name in FEATURES]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.confidence", description=__doc__)
    parser.add_argument("--write", action="store_true", help="store the fitted weights")
    args = parser.parse_args(argv)
    examples = [e for _, root in default_sets() for t in load_set(root) for e in examples_of(t)]
    tuning = [e for e in examples if e.fold != HELD_OUT_FOLD]
    held = [e for e in examples if e.fold == HELD_OUT_FOLD]
    weights = fit(tuning)
    for name, part in (("tuning folds", tuning), ("held-out fold", held)):
        print(f"Fitted model, {name}:", *format_calibration(judged(part, weights)), sep="\n")
        print()
    print(render_weights(weights))
    if args.write:
        WEIGHTS_FILE.write_text(render_weights(weights), "utf-8")
        print(f"written to {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
