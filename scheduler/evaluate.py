"""Score the prose reader against labelled texts: precision, recall and grade accuracy per set.

A labelled set is a folder with texts/<id>.txt|.html and one gold.jsonl (shared/corpus/README.md).
`python -m scheduler.evaluate [FOLDER ...]` prints one table row per set, then the mismatches.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler.authorities import AuthorityRegistry
from crawler.extract import extract_document
from crawler.records import InspectionOutcome

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
OWN_SET = ROOT / "tests" / "fixtures" / "prose"
SHARED_SET = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LABELS = ("outcome", "ungraded_visit", "irrelevant")
THRESHOLDS = {
    "precision": 0.97,
    "recall": 0.95,
    "overall_accuracy": 0.97,
    "judgement_accuracy": 0.90,
}
EVENT_TYPES = {
    "full_inspection": "inspection",
    "short_inspection": "inspection",
    "pilot_inspection": "inspection",
    "send_area": "send_inspection",
}
AREAS = {"leadership": "leaders"}
# The gold schema has no LSCB field (an SIF-era board review, not a council judgement), so an
# extracted `lscb` grade can be neither confirmed nor refuted and is left out of the area score.
UNSCORED_AREAS = frozenset({"lscb"})
_CIC, _CL = "children_in_care", "care_leavers"
_COMBINED = "children_in_care_and_care_leavers"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")

Key = tuple[str, str]


@dataclass(frozen=True)
class GoldOutcome:
    """One labelled outcome, already mapped onto the `extract --json` contract."""

    council: str  # ONS code, or the name as labelled when it resolves to no single council
    name: str
    event_type: str
    overall: str | None
    judgements: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> Key:
        return (self.council, self.event_type)


@dataclass(frozen=True)
class LabelledText:
    """One text of a set and what it is labelled to say."""

    id: str
    path: Path
    url: str | None
    article_date: date | None
    label: str
    outcomes: tuple[GoldOutcome, ...]


@dataclass
class Tally:
    """Counts behind the metrics; they add up across texts."""

    predicted: int = 0
    gold: int = 0
    matched: int = 0
    overall_ok: int = 0
    areas: int = 0
    areas_ok: int = 0
    irrelevant_texts: int = 0
    irrelevant_graded: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class TextResult:
    """How the extractor did on one text."""

    id: str
    tally: Tally
    mismatches: tuple[str, ...]


@dataclass
class Score:
    """A whole set's tally, its metrics and the texts that went wrong."""

    name: str
    texts: int = 0
    tally: Tally = field(default_factory=Tally)
    mismatches: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.tally.matched, self.tally.predicted)

    @property
    def recall(self) -> float:
        return _ratio(self.tally.matched, self.tally.gold)

    @property
    def overall_accuracy(self) -> float:
        return _ratio(self.tally.overall_ok, self.tally.matched)

    @property
    def judgement_accuracy(self) -> float:
        return _ratio(self.tally.areas_ok, self.tally.areas)

    def metrics(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in THRESHOLDS}

    def failures(self) -> list[str]:
        """Each target the set misses, as 'name=value<target'."""
        missed = [
            f"{name}={floor3(value)}<{THRESHOLDS[name]}"
            for name, value in self.metrics().items()
            if value < THRESHOLDS[name]
        ]
        if self.tally.irrelevant_graded:
            missed.append(f"irrelevant_graded={self.tally.irrelevant_graded}>0")
        return missed


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def floor3(value: float) -> str:
    """Three decimals rounded down, so that 0.9697 never shows as meeting a 0.97 target."""
    return f"{math.floor(value * 1000 + 1e-9) / 1000:.3f}"


# --- loading a set -----------------------------------------------------------------------------


def _fieldwork_year(item: Mapping[str, Any], article_date: date | None) -> int | None:
    years = [int(y) for y in _YEAR.findall(str(item.get("inspection_dates") or ""))]
    if years:
        return min(years)
    published = item.get("published")
    if published:
        return date.fromisoformat(published).year
    return article_date.year if article_date else None


def contract_judgements(
    item: Mapping[str, Any], article_date: date | None = None
) -> dict[str, str]:
    """Gold judgement areas under the contract's names (corpus README, 'How to map')."""
    areas = {AREAS.get(area, area): grade for area, grade in (item.get("judgements") or {}).items()}
    year = _fieldwork_year(item, article_date)
    if item.get("framework") != "ILACS" or year is None or year >= 2023:
        return areas
    together = {grade for grade in (areas.pop(_CIC, None), areas.pop(_CL, None)) if grade}
    if len(together) == 1:
        areas[_COMBINED] = together.pop()
    elif together:
        areas.update(_split_areas(item))
    return areas


def _split_areas(item: Mapping[str, Any]) -> dict[str, str]:
    labelled = item.get("judgements") or {}
    return {area: labelled[area] for area in (_CIC, _CL) if area in labelled}


def gold_outcome(
    item: Mapping[str, Any], registry: AuthorityRegistry, article_date: date | None = None
) -> GoldOutcome:
    """One gold.jsonl outcome mapped onto the contract's council, event type and areas."""
    name = str(item["local_authority"])
    authority = registry.resolve(name)
    return GoldOutcome(
        council=authority.ons_code if authority else name,
        name=authority.short_name if authority else name,
        event_type=EVENT_TYPES.get(item["event_type"], item["event_type"]),
        overall=item.get("overall"),
        judgements=tuple(sorted(contract_judgements(item, article_date).items())),
    )


def text_path(root: Path, text_id: str) -> Path:
    """The text file for an id: texts/<id>.txt or texts/<id>.html."""
    for suffix in (".txt", ".html"):
        candidate = root / "texts" / f"{text_id}{suffix}"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(root / "texts" / f"{text_id}.txt")


def read_gold(root: Path) -> list[dict[str, Any]]:
    """The raw records of a set's gold.jsonl, in file order."""
    lines = (root / "gold.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_set(root: Path, registry: AuthorityRegistry | None = None) -> list[LabelledText]:
    """Every labelled text of the set in `root`."""
    registry = registry or AuthorityRegistry.load()
    texts = []
    for record in read_gold(root):
        when = date.fromisoformat(record["article_date"]) if record["article_date"] else None
        outcomes = tuple(gold_outcome(o, registry, when) for o in record["outcomes"])
        texts.append(
            LabelledText(
                record["id"], text_path(root, record["id"]), record["url"], when,
                record["label"], outcomes,
            )
        )  # fmt: skip
    return texts


# --- comparing ---------------------------------------------------------------------------------


def predicted_key(outcome: InspectionOutcome) -> Key:
    return (outcome.ons_code or outcome.local_authority or "?", outcome.event_type)


def _describe(outcome: InspectionOutcome) -> str:
    grades = dict(outcome.judgements)
    return f"{outcome.local_authority}/{outcome.event_type} overall={outcome.overall} {grades}"


def _pair(
    gold: Sequence[GoldOutcome], predicted: Sequence[InspectionOutcome]
) -> tuple[list[tuple[GoldOutcome, InspectionOutcome]], list[GoldOutcome], list[InspectionOutcome]]:
    """Match gold to predicted outcomes one to one by (council, event type)."""
    left = list(predicted)
    pairs, missing = [], []
    for item in gold:
        found = next((p for p in left if predicted_key(p) == item.key), None)
        if found is None:
            missing.append(item)
            continue
        left.remove(found)
        pairs.append((item, found))
    return pairs, missing, left


def _compare_pair(item: GoldOutcome, got: InspectionOutcome, tally: Tally) -> list[str]:
    where = f"{item.name}/{item.event_type}"
    problems = []
    if item.overall == got.overall:
        tally.overall_ok += 1
    else:
        problems.append(f"{where} overall: gold {item.overall}, got {got.overall}")
    wanted = dict(item.judgements)
    given = {a: g for a, g in got.judgements if a not in UNSCORED_AREAS}
    for area in sorted(set(wanted) | set(given)):
        tally.areas += 1
        if wanted.get(area) == given.get(area):
            tally.areas_ok += 1
        else:
            problems.append(f"{where} {area}: gold {wanted.get(area)}, got {given.get(area)}")
    return problems


def compare(
    text_id: str, label: str, gold: Sequence[GoldOutcome], predicted: Sequence[InspectionOutcome]
) -> TextResult:
    """Score one text's extracted outcomes against its gold outcomes."""
    tally = Tally(predicted=len(predicted), gold=len(gold))
    pairs, missing, extra = _pair(gold, predicted)
    tally.matched = len(pairs)
    problems = [f"missing {g.name}/{g.event_type} overall={g.overall}" for g in missing]
    problems += [f"spurious {_describe(p)}" for p in extra]
    for item, got in pairs:
        problems += _compare_pair(item, got, tally)
    if label == "irrelevant":
        tally.irrelevant_texts = 1
        tally.irrelevant_graded = sum(1 for p in predicted if p.is_graded)
    return TextResult(text_id, tally, tuple(problems))


def extract_text(text: LabelledText) -> list[InspectionOutcome]:
    """What the extractor reads from one labelled text, as the pass would call it."""
    extracted = extract_document(
        text.path.read_bytes(), url=text.url, article_date=text.article_date
    )
    return list(extracted.outcomes)


def evaluate_texts(name: str, texts: Iterable[LabelledText]) -> Score:
    score = Score(name)
    for text in texts:
        result = compare(text.id, text.label, text.outcomes, extract_text(text))
        score.texts += 1
        score.tally.add(result.tally)
        if result.mismatches:
            score.mismatches.append((result.id, result.mismatches))
    logger.info("evaluated set=%s texts=%d failures=%s", name, score.texts, score.failures())
    return score


def evaluate_set(root: Path, name: str | None = None) -> Score:
    """Run the extractor over every text of the set in `root` and score it."""
    return evaluate_texts(name or root.name, load_set(root))


# --- printing ----------------------------------------------------------------------------------

_HEADER = (
    f"{'set':<10} {'texts':>5} {'gold':>5} {'pred':>5} {'match':>5} "
    f"{'precision':>9} {'recall':>7} {'overall':>7} {'areas':>7} {'irr.graded':>10}"
)


def format_row(score: Score) -> str:
    t = score.tally
    return (
        f"{score.name:<10} {score.texts:>5} {t.gold:>5} {t.predicted:>5} {t.matched:>5} "
        f"{floor3(score.precision):>9} {floor3(score.recall):>7} "
        f"{floor3(score.overall_accuracy):>7} {floor3(score.judgement_accuracy):>7} "
        f"{t.irrelevant_graded:>10}"
    )


def format_report(scores: Sequence[Score]) -> str:
    """The table of every set, the targets, then each set's mismatches text by text."""
    target = THRESHOLDS
    lines = [_HEADER, *(format_row(s) for s in scores)]
    lines.append(
        f"{'target':<10} {'':>5} {'':>5} {'':>5} {'':>5} {target['precision']:>9.2f} "
        f"{target['recall']:>7.2f} {target['overall_accuracy']:>7.2f} "
        f"{target['judgement_accuracy']:>7.2f} {0:>10}"
    )
    for score in scores:
        missed = ", ".join(score.failures()) or "all targets met"
        lines += ["", f"{score.name}: {missed}; {len(score.mismatches)} texts with mismatches"]
        for text_id, problems in score.mismatches:
            lines += [f"  {text_id}: {problem}" for problem in problems]
    return "\n".join(lines)


def default_sets() -> list[tuple[str, Path]]:
    """Our own fixtures, and the shared development corpus when it sits beside the checkout."""
    sets = [("fixtures", OWN_SET)]
    if (SHARED_SET / "gold.jsonl").is_file():
        sets.append(("shared", SHARED_SET))
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    sets = [(Path(a).name, Path(a)) for a in args] or default_sets()
    scores = [evaluate_set(root, name) for name, root in sets]
    print(format_report(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
