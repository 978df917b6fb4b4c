"""Score the prose reader on labelled texts: per set, per half, per fold, and its confidence.

A labelled set is a folder with texts/<id>.txt|.html and one or more gold*.jsonl files (the
schema of shared/corpus/README.md); each gold file is one half of its set. Every text also falls
in one of five folds by a hash of its id. Folds 0-3 are for tuning; fold 4 is held out: its
mismatches are not printed unless asked for, so the figure watched is one nobody tuned on.

`python -m bench.evaluate [--show-held-out] [FOLDER ...]` prints the tables, then the mismatches.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alerts.config import DEFAULT_MIN_CONFIDENCE
from crawler.authorities import AuthorityRegistry
from crawler.extract import extract_document
from crawler.records import InspectionOutcome

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
OWN_SET = ROOT / "tests" / "fixtures" / "prose"
SHARED_SET = ROOT.parent / "shared" / "corpus"
LABELS = ("outcome", "ungraded_visit", "irrelevant")
THRESHOLDS = {
    "precision": 0.97,
    "recall": 0.95,
    "overall_accuracy": 0.97,
    "judgement_accuracy": 0.90,
}
FOLDS = 5
HELD_OUT_FOLD = 4
# Outcomes at or above the recommended confidence must be right this often.
CALIBRATION_TARGET = 0.97
BANDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)
TRADE_OFF_LEVELS = (0.0, 0.8, 0.85, 0.9, 0.93, 0.95)
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
    half: str = "gold"
    home: tuple[str, ...] = ()  # the newsroom's council, for releases that name none

    @property
    def fold(self) -> int:
        return fold_of(self.id)


def fold_of(text_id: str) -> int:
    """The fold of a text: a stable hash of its id, so a text never changes fold."""
    return zlib.crc32(text_id.encode("utf-8")) % FOLDS


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
class Judged:
    """One extracted outcome, its confidence and whether everything it states is right."""

    confidence: float
    right: bool


@dataclass(frozen=True)
class TextResult:
    """How the extractor did on one text."""

    id: str
    tally: Tally
    mismatches: tuple[str, ...]
    judged: tuple[Judged, ...] = ()


@dataclass
class Score:
    """A whole set's tally, its metrics and the texts that went wrong."""

    name: str
    texts: int = 0
    tally: Tally = field(default_factory=Tally)
    mismatches: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)

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

    def add(self, result: TextResult) -> None:
        self.texts += 1
        self.tally.add(result.tally)
        self.judged += result.judged
        if result.mismatches:
            self.mismatches.append((result.id, result.mismatches))


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


def gold_files(root: Path) -> list[Path]:
    """The gold files of a set, one per half: gold.jsonl, gold-rv.jsonl ..."""
    return sorted(root.glob("gold*.jsonl"))


def read_gold(root: Path) -> list[dict[str, Any]]:
    """The raw records of every gold file of a set, each with the half it came from."""
    records = []
    for path in gold_files(root):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.strip():
                records.append({**_record(path, number, line), "_half": path.stem})
    return records


def _record(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        record: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from exc
    return record


def _home(record: Mapping[str, Any], registry: AuthorityRegistry) -> tuple[str, ...]:
    authority = registry.resolve(record["home_council"]) if record.get("home_council") else None
    return (authority.ons_code,) if authority else ()


def load_set(root: Path, registry: AuthorityRegistry | None = None) -> list[LabelledText]:
    """Every labelled text of the set in `root`, from all of its gold files."""
    registry = registry or AuthorityRegistry.load()
    texts = []
    for record in read_gold(root):
        when = date.fromisoformat(record["article_date"]) if record["article_date"] else None
        outcomes = tuple(gold_outcome(o, registry, when) for o in record["outcomes"])
        texts.append(
            LabelledText(
                record["id"], text_path(root, record["id"]), record["url"], when,
                record["label"], outcomes, record["_half"], _home(record, registry),
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


def _states_only_truth(item: GoldOutcome, got: InspectionOutcome) -> bool:
    """Every grade the outcome states is the labelled one (an area left out is no error)."""
    if got.overall is not None and got.overall != item.overall:
        return False
    wanted = dict(item.judgements)
    return all(wanted.get(a) == g for a, g in got.judgements if a not in UNSCORED_AREAS)


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
    judged = [Judged(got.confidence, _states_only_truth(item, got)) for item, got in pairs]
    judged += [Judged(p.confidence, False) for p in extra]
    return TextResult(text_id, tally, tuple(problems), tuple(judged))


def extract_text(text: LabelledText) -> list[InspectionOutcome]:
    """What the extractor reads from one labelled text, as the pass would call it."""
    extracted = extract_document(
        text.path.read_bytes(), url=text.url, article_date=text.article_date,
        home_councils=text.home,
    )  # fmt: skip
    return list(extracted.outcomes)


def score_text(text: LabelledText) -> TextResult:
    return compare(text.id, text.label, text.outcomes, extract_text(text))


def evaluate_texts(name: str, texts: Iterable[LabelledText]) -> Score:
    score = Score(name)
    for text in texts:
        score.add(score_text(text))
    logger.info("evaluated set=%s texts=%d failures=%s", name, score.texts, score.failures())
    return score


def evaluate_set(root: Path, name: str | None = None) -> Score:
    """Run the extractor over every text of the set in `root` and score it."""
    return evaluate_texts(name or root.name, load_set(root))


# --- the views: sets, halves, folds, calibration ------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One text with its result, so that one extraction serves every view."""

    text: LabelledText
    set_name: str
    result: TextResult


def score_all(sets: Sequence[tuple[str, Path]]) -> list[Scored]:
    return [Scored(text, name, score_text(text)) for name, root in sets for text in load_set(root)]


def gather(name: str, scored: Iterable[Scored]) -> Score:
    score = Score(name)
    for item in scored:
        score.add(item.result)
    return score


def half_name(item: Scored) -> str:
    """A shared half by its file (rw: gold.jsonl, rv: gold-rv.jsonl); own fixtures as one set."""
    if item.set_name != "shared":
        return item.set_name
    return "rw" if item.text.half == "gold" else item.text.half.removeprefix("gold-")


def views(scored: Sequence[Scored]) -> tuple[list[Score], list[Score]]:
    """(one score per set and half, one per fold plus tuning and held-out)."""
    halves = list(dict.fromkeys(half_name(s) for s in scored))
    by_half = [gather(h, (s for s in scored if half_name(s) == h)) for h in halves]
    by_half.append(gather("all", scored))
    folds = [gather(f"fold {f}", (s for s in scored if s.text.fold == f)) for f in range(FOLDS)]
    folds.append(gather("tuning", (s for s in scored if s.text.fold != HELD_OUT_FOLD)))
    folds.append(gather("held-out", (s for s in scored if s.text.fold == HELD_OUT_FOLD)))
    return by_half, folds


@dataclass(frozen=True)
class Band:
    """Outcomes whose confidence falls in [low, high), and how many were right."""

    low: float
    high: float
    count: int
    right: int


def calibration(judged: Sequence[Judged]) -> list[Band]:
    edges = [*BANDS, 1.01]
    bands = []
    for low, high in itertools.pairwise(edges):
        inside = [j for j in judged if low <= j.confidence < high]
        bands.append(Band(low, min(high, 1.0), len(inside), sum(j.right for j in inside)))
    return bands


def recommended_confidence(judged: Sequence[Judged]) -> float | None:
    """The lowest confidence at and above which outcomes are right often enough."""
    for level in sorted({j.confidence for j in judged}):
        above = [j for j in judged if j.confidence >= level]
        if sum(j.right for j in above) >= CALIBRATION_TARGET * len(above):
            return level
    return None


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


def _target_row() -> str:
    target = THRESHOLDS
    return (
        f"{'target':<10} {'':>5} {'':>5} {'':>5} {'':>5} {target['precision']:>9.2f} "
        f"{target['recall']:>7.2f} {target['overall_accuracy']:>7.2f} "
        f"{target['judgement_accuracy']:>7.2f} {0:>10}"
    )


def format_table(scores: Sequence[Score]) -> list[str]:
    return [_HEADER, *(format_row(s) for s in scores), _target_row()]


def format_calibration(judged: Sequence[Judged]) -> list[str]:
    lines = [f"{'confidence':<12} {'outcomes':>8} {'right':>6} {'share':>6}"]
    for band in calibration(judged):
        share = floor3(_ratio(band.right, band.count)) if band.count else "-"
        lines.append(
            f"{band.low:.2f}-{band.high:.2f}    {band.count:>8} {band.right:>6} {share:>6}"
        )
    level = recommended_confidence(judged)
    said = f"{level:.2f}" if level is not None else "none"
    lines.append(f"lowest confidence right >= {CALIBRATION_TARGET:.0%} of the time: {said}")
    lines.append(f"{'at or above':<12} {'outcomes':>8} {'right':>6} {'share':>6} {'kept':>10}")
    levels = sorted({*TRADE_OFF_LEVELS, DEFAULT_MIN_CONFIDENCE, *([level] if level else [])})
    lines += [_trade_off(judged, chosen) for chosen in levels]
    return lines


def _trade_off(judged: Sequence[Judged], level: float) -> str:
    """What a min_confidence of `level` keeps: outcomes, share right, share of right ones kept."""
    kept = [j for j in judged if j.confidence >= level]
    right = sum(j.right for j in kept)
    all_right = sum(j.right for j in judged)
    share = floor3(_ratio(right, len(kept))) if kept else "-"
    return (
        f"{level:<12.2f} {len(kept):>8} {right:>6} {share:>6} "
        f"{floor3(_ratio(right, all_right)):>10}"
    )


def format_mismatches(scores: Sequence[Score]) -> list[str]:
    lines: list[str] = []
    for score in scores:
        missed = ", ".join(score.failures()) or "all targets met"
        lines += ["", f"{score.name}: {missed}; {len(score.mismatches)} texts with mismatches"]
        for text_id, problems in score.mismatches:
            lines += [f"  {text_id}: {problem}" for problem in problems]
    return lines


def format_report(scores: Sequence[Score]) -> str:
    """The table of every set, the targets, then each set's mismatches text by text."""
    return "\n".join([*format_table(scores), *format_mismatches(scores)])


def format_full(scored: Sequence[Scored], show_held_out: bool = False) -> str:
    """Sets and halves, folds, calibration (tuning and held-out), then mismatches."""
    by_half, folds = views(scored)
    tuning = [s for s in scored if s.text.fold != HELD_OUT_FOLD]
    held = [s for s in scored if s.text.fold == HELD_OUT_FOLD]
    lines = ["By set and half:", *format_table(by_half), "", "By fold:", *format_table(folds)]
    for name, part in (("tuning folds", tuning), ("held-out fold", held)):
        judged = [j for s in part for j in s.result.judged]
        lines += ["", f"Confidence calibration, {name}:", *format_calibration(judged)]
    shown = scored if show_held_out else tuning
    names = list(dict.fromkeys(half_name(s) for s in shown))
    lines += format_mismatches([gather(n, (s for s in shown if half_name(s) == n)) for n in names])
    if not show_held_out:
        lines += ["", f"(mismatches of held-out fold {HELD_OUT_FOLD} not shown)"]
    return "\n".join(lines)


def default_sets() -> list[tuple[str, Path]]:
    """Our own fixtures, and the shared development corpus when it sits beside the checkout."""
    sets = [("own", OWN_SET)]
    if gold_files(SHARED_SET):
        sets.append(("shared", SHARED_SET))
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluate", description=__doc__)
    parser.add_argument(
        "folders", nargs="*", type=Path, help="labelled sets (default: own, shared)"
    )
    parser.add_argument("--show-held-out", action="store_true", help="print fold 4's mismatches")
    args = parser.parse_args(argv)
    sets = [(p.name, p) for p in args.folders] or default_sets()
    print(format_full(score_all(sets), args.show_held_out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
