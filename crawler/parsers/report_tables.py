"""Reading a judgement table (label, grade; label, grade; ...) out of flattened report text.

Works whether each grade follows its label or, in some layouts, is printed just above it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.errors import ParseError
from crawler.parsers.report_common import GRADE_RE, grade_of

Classifier = Callable[[str], str | None]
_MAX_LABEL = 140
# How far into a row's text a second row's opening words show that its grade was not read.
_ROW_WINDOW = 110


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


def read_table(
    region: str, classify: Classifier, row_start: re.Pattern[str] | None = None
) -> list[Row]:
    """Rows in table order, stopping at the first text that is not a known row label.

    With row_start (the opening words of any row label), a row whose grade is a word outside
    the scale is a ParseError rather than a row silently lost or merged into its neighbour.
    """
    labels, grades = _segments(region)
    if grades and not labels[0]:
        rows = _grade_first(labels[1:], grades, classify)
        used, rest = labels[1 : len(rows) + 1], None
    else:
        rows = _label_first(labels, grades, classify)
        used, rest = labels[: len(rows)], labels[len(rows)] if len(rows) < len(labels) else None
    if row_start is not None:
        _check_scale(used, rest, row_start)
    return [r for r in rows if r.grade]


def _check_scale(used: list[str], rest: str | None, row_start: re.Pattern[str]) -> None:
    """A row label running into the next row, or a row left with no grade, means off-scale."""
    for label in used:
        if _merged_at(label, row_start) is not None:
            raise ParseError(
                f"judgement table row {_row_text(label, row_start)!r} has no grade on the scale"
            )
    if rest is not None and row_start.match(rest):
        raise ParseError(
            f"judgement table row {_row_text(rest, row_start)!r} has no grade on the scale"
        )


def _merged_at(label: str, row_start: re.Pattern[str]) -> int | None:
    second = row_start.search(label, 1)
    return second.start() if second is not None and second.start() <= _ROW_WINDOW else None


def _row_text(label: str, row_start: re.Pattern[str]) -> str:
    """One row as printed: up to where the next row begins, or its first words."""
    end = _merged_at(label, row_start)
    return label[:end].strip() if end is not None else " ".join(label.split()[:12])


def _label_first(labels: list[str], grades: list[str], classify: Classifier) -> list[Row]:
    rows: list[Row] = []
    for label, grade in zip(labels, grades, strict=False):
        area = classify(label) if _is_label(label) else None
        if area is None or any(r.area == area for r in rows):
            break
        rows.append(Row(area, grade_of(grade) or "", f"{label}: {grade}"))
    return rows


def _grade_first(labels: list[str], grades: list[str], classify: Classifier) -> list[Row]:
    rows: list[Row] = []
    for grade, label in zip(grades, labels, strict=False):
        # The last label runs on into the body text, so only its opening words are a label.
        head = label if _is_label(label) else label[:60]
        area = classify(head)
        if area is None or any(r.area == area for r in rows):
            break
        rows.append(Row(area, grade_of(grade) or "", f"{head}: {grade}"))
    return rows


def after(flat: str, pattern: str, length: int = 1500) -> str | None:
    """The text that follows the first match of pattern, up to length characters."""
    match = re.search(pattern, flat, re.IGNORECASE)
    return flat[match.end() : match.end() + length] if match else None
