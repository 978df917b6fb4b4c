"""Reading a judgement table (label, grade; label, grade; ...) out of flattened report text.

Works whether each grade follows its label or, in some layouts, is printed just above it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.parsers.report_common import GRADE_RE, grade_of

Classifier = Callable[[str], str | None]
_MAX_LABEL = 140


@dataclass(frozen=True)
class Row:
    """One judgement row: the area key, the grade key and the row as printed."""

    area: str
    grade: str
    printed: str


def _segments(region: str) -> tuple[list[str], list[str]]:
    """The texts between grades, and the grades themselves, in printed order."""
    labels: list[str] = []
    grades: list[str] = []
    cursor = 0
    for match in GRADE_RE.finditer(region):
        labels.append(region[cursor : match.start()].strip(" .:,"))
        grades.append(match.group(0))
        cursor = match.end()
    labels.append(region[cursor:].strip(" .:,"))
    return labels, grades


def _is_label(text: str) -> bool:
    return 0 < len(text) <= _MAX_LABEL and ". " not in text


def read_table(region: str, classify: Classifier) -> list[Row]:
    """Rows in table order, stopping at the first text that is not a known row label."""
    labels, grades = _segments(region)
    if grades and not labels[0]:
        return _grade_first(labels[1:], grades, classify)
    rows: list[Row] = []
    for label, grade in zip(labels, grades, strict=False):
        area = classify(label) if _is_label(label) else None
        if area is None or any(r.area == area for r in rows):
            break
        rows.append(Row(area, grade_of(grade) or "", f"{label}: {grade}"))
    return [r for r in rows if r.grade]


def _grade_first(labels: list[str], grades: list[str], classify: Classifier) -> list[Row]:
    rows: list[Row] = []
    for grade, label in zip(grades, labels, strict=False):
        # The last label runs on into the body text, so only its opening words are a label.
        head = label if _is_label(label) else label[:60]
        area = classify(head)
        if area is None or any(r.area == area for r in rows):
            break
        rows.append(Row(area, grade_of(grade) or "", f"{head}: {grade}"))
    return [r for r in rows if r.grade]


def after(flat: str, pattern: str, length: int = 1500) -> str | None:
    """The text that follows the first match of pattern, up to length characters."""
    match = re.search(pattern, flat, re.IGNORECASE)
    return flat[match.end() : match.end() + length] if match else None
