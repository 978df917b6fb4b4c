"""Judgement areas as each framework grades them, and the press's loose wordings mapped onto them.

News names areas loosely ("good in every area", "good for the other two", "children in care and
care leavers"); which stored areas that means depends on the framework and the fieldwork year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

COMBINED = "children_in_care_and_care_leavers"
_CIC, _CL = "children_in_care", "care_leavers"
PSEUDO = ("all", "rest")
# Pre-2023 ILACS judged children in care and care leavers together; fieldwork from January 2023
# grades them apart. April 2026 removed the overall effectiveness judgement.
SPLIT_FROM = date(2023, 1, 1)
NO_OVERALL_FROM = date(2026, 4, 1)
_AREAS = {
    "SIF": ("help_and_protection", _CIC, "adoption", _CL, "leaders"),
    "ILACS": ("leaders", "help_and_protection", COMBINED),
    "ILACS_split": ("leaders", "help_and_protection", _CIC, _CL),
}


def framework_areas(framework: str, split: bool | None) -> tuple[str, ...]:
    """The areas a framework grades; none for frameworks whose areas the press does not list."""
    if framework == "ILACS" and split is None:
        return ()
    if framework == "ILACS" and split:
        return _AREAS["ILACS_split"]
    return _AREAS.get(framework, ())


def settle_areas(
    read: Iterable[tuple[str, str]], framework: str, split: bool | None
) -> dict[str, str]:
    """Stored judgements from (area, grade) reads in story order; the first read of an area wins.

    `split` says whether children in care and care leavers are graded apart (None: not known).
    """
    explicit: dict[str, str] = {}
    pseudo: list[tuple[str, str]] = []
    for area, grade in read:
        if area in PSEUDO:
            pseudo.append((area, grade))
        elif area != "overall":
            explicit.setdefault(area, grade)
    # "Good in every area" names no area, so it stores none (the labelling convention of
    # shared/corpus/README.md): only the areas a story names are its statement.
    return _fit_to_framework(explicit, framework, split)


def _fit_to_framework(areas: dict[str, str], framework: str, split: bool | None) -> dict[str, str]:
    """Combine or split the children-in-care and care-leaver areas the way the framework does."""
    areas = dict(areas)
    if framework == "SIF" or (framework == "ILACS" and split):
        combined = areas.pop(COMBINED, None)
        if combined is not None:
            areas.setdefault(_CIC, combined)
            areas.setdefault(_CL, combined)
        return areas
    if framework == "ILACS" and split is False:
        apart = {g for g in (areas.get(_CIC), areas.get(_CL)) if g}
        if len(apart) == 1 and COMBINED not in areas:
            areas.pop(_CIC, None)
            areas.pop(_CL, None)
            areas[COMBINED] = apart.pop()
    return areas
