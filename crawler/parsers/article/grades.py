"""Grades read from one clause and tied to judgement areas: 'good for leaders and care leavers'.

A grade with no area is the overall grade. Weak grade words ('good', 'poor') count only after a
rating word or inside quotes, so that ordinary English is not read as a judgement.
"""

from __future__ import annotations

import re

from crawler.parsers.article.phrases import (
    all_areas_regex,
    area_key,
    area_regex,
    grade_key,
    grade_regex,
    has_any,
    words,
)
from crawler.vocabulary import squash

_QUOTES = "'\"‘’“”"
_RATING_VERBS = ("rated", "judged", "graded", "deemed", "rating", "judgement")
_AFTER_LINK = re.compile(
    r"^[\s'’”\"]*(?:(?:ratings?|grades?|judgements?)\s+)?(?:[,:]\s*)?"
    r"(?:(?:for|in|on|across|at|to)\s+)?"
    r"(?:(?:services?|support|provision|work)\s+(?:for|to|with)\s+)?"
    r"(?:(?:the\s+)?(?:domains?|areas?|judgements?)\s+(?:of|including|for|on)\s+)?(?:the\s+)?"
    r"(?:(?:overall\s+)?experiences?(?:\s+and\s+progress)?\s+of\s+)?$",
    re.I,
)
# A grade that opens its clause and names its areas after a copula: "Good was the judgement for
# adoption performance", "Good was given for ...", "Outstanding is how Ofsted rated its leadership".
_VERDICT_NOUN = (
    r"(?:was|is|were|came)\s+(?:also\s+)?(?:the\s+)?(?:overall\s+)?(?:judge?ments?|grades?|"
    r"verdicts?|ratings?|results?|findings?|outcomes?|assessments?|scores?|marks?)"
)
_VERDICT_GIVEN = r"(?:was|were)\s+(?:also\s+)?(?:given|awarded|achieved|recorded)\s+(?:for|to|in)"
_GRADE_FIRST_CUE = re.compile(
    rf"^[\s'’”\",]*(?:{_VERDICT_NOUN}\b|{_VERDICT_GIVEN}\b|(?:is|was)\s+how\b)", re.I
)
_GRADE_FIRST = re.compile(
    rf"^[\s'’”\",]*(?:{_VERDICT_NOUN}\s+(?:(?:\w+\s+){{0,2}}?(?:gave|given|awarded)\s+to|for|on|of"
    r"|in|across)"
    rf"|{_VERDICT_GIVEN}"
    r"|(?:is|was)\s+how\s+(?:[\w’'-]+\s+){0,4}?(?:rated|judged|graded|described|assessed))\s+"
    r"(?:(?:the|its|their)\s+)?(?:(?:[\w’'-]+\s+){0,3}?[\w’'-]+(?:’s|'s)\s+)?"
    r"(?:(?:overall\s+)?experiences?(?:\s+and\s+progress)?\s+of\s+(?:the\s+)?)?$",
    re.I,
)
_LIST_LINK = re.compile(
    r"^\s*(?:,|and|&|,\s*and)\s*(?:(?:for|in|on|to)\s+)?(?:the\s+|its\s+|their\s+)?"
    r"(?:experiences?(?:\s+and\s+progress)?\s+of\s+(?:the\s+)?)?$",
    re.I,
)
# What may stand between a grade and the area it is for: "good services for care leavers".
_AREA_NEXT = re.compile(
    r"[\s'’”\"]*(?:(?:services?|support|provision|work)\s+(?:for|to|with)\s+)?(?:the\s+)?", re.I
)
_LIST_START = re.compile(
    r"^\s*(?:(?:for|in|on)\s+)?(?:the\s+)?(?:work\s+of\s+(?:the\s+|its\s+)?)?"
    r"(?:(?:(?:two|three|four|five)\s+)?(?:graded\s+)?(?:sub-?judge?ments?|judge?ments?|areas?)"
    r"\s+(?:on|of|for)\s+(?:the\s+)?)?(?:experiences?(?:\s+and\s+progress)?\s+of\s+)?$",
    re.I,
)
# What may stand between an area and the grade it is the subject of: "as", "were all judged".
_SUBJECT_GAP = re.compile(
    r"[\s'’”\"]*(?:(?:was|were|is|are|has|have|been|being|also|all|both|again|now|still|"
    r"judged|rated|graded|assessed|deemed|found|to|be|as|received?|got|achieved|awarded|"
    r"given|require[sd]?|requiring)[\s'‘“\"]+)*(?:as|judged|rated|graded|was|were|is|are|been|"
    r"received?|got|achieved|awarded|given)?[\s'‘“\"]*",
    re.I,
)
_AS_WAS = re.compile(r"^[^.;]{0,20}?,?\s*(?:as|and so)\s+(?:was|were|did|is|are)\b", re.I)
# The SIF's formal title lists areas ("services for children in need of help and protection,
# children looked after and care leavers"); they name the inspection, not a judgement.
_SERVICE_TITLE = re.compile(r"services\s+for\s+(?:the\s+)?$", re.I)
_CHAIN_GAP = re.compile(r"^\s*(?:,|and|,\s*and)\s*(?:the\s+)?$", re.I)
_GRADE_PAIR = re.compile(r"[\s'’”\"]*(?:or|and/or|to)[\s'‘“\"]*")
_BEFORE_REACH = 60
_LIST_SEPARATOR = re.compile(r":|\s[-–—]\s|\bincluding\b", re.I)
_ITEM_GAP_WORDS = 10
_OF_AREA = re.compile(r"\s+(?:of|for)\s+(?:the\s+|its\s+)?(?:council's\s+)?", re.I)
_BEFORE_NEXT = re.compile(
    r"[\s,;:–—-]*(?:(?:were|was|are|is|all|both|also|judged|rated|graded|found|to|be)\s+)*"
    r"(?:as\s+)?['\"‘“]?\s*",
    re.I,
)
# "four of the five graded areas were judged ...: a; b; c", "the three other judgement areas - ..."
_AREA_NOUNS = re.compile(r"\b(?:areas|judge?ments|categories|domains|sub-?judge?ments)\b", re.I)
_SEPARATOR_REACH = 90
_ATTRIBUTIVE = re.compile(r"\b(?:the|its|their)[\s'‘“\"]*$", re.I)
_SERVICES_NEXT = re.compile(r"[\s'’”\"]*services?\b", re.I)
_LIST_TAIL = re.compile(r"\s*(?:,\s*and|,|and|&)\s*$", re.I)

# (grade key, area keys, start, end) for one grade in a clause.
GradeRead = tuple[str, list[str], int, int]


def _next_word(text: str) -> str | None:
    match = re.match(r"[\s'’”\"]*([A-Za-z]+)", text)
    return match[1].lower() if match else None


def _is_grade(clause: str, match: re.Match[str], rated_before: bool = False) -> bool:
    key = grade_key(match[0])
    if key is None or (match[0].lower() == "ri" and match[0] != "RI"):
        return False
    after = clause[match.end() :]
    following = _next_word(after)
    names_area = bool(_AREA_NEXT.match(after)) and _starts_area(after)
    if following in words("grades", "not_after") and not names_area:
        return False
    if key not in words("grades", "weak"):
        return True
    before = clause[: match.start()].rstrip()
    if not before.strip(_QUOTES + " ,") and _GRADE_FIRST_CUE.match(after):
        return True  # "Good was the judgement for ..."
    if before.endswith(tuple(_QUOTES)) and after.lstrip()[:1] in _QUOTES:
        return True
    previous = re.findall(r"[a-z]+", before.lower())
    rated = any(w in _RATING_VERBS for w in previous[-8:])
    if _ends_in_area(before) and (rated_before or any(w in _RATING_VERBS for w in previous)):
        # "children in care good": a list that drops the verb after the first item, or a
        # clause that borrows its verb from the one before ("rated X outstanding, but Y good").
        return True
    if names_area and _after_listed_area(before, previous):
        return True  # "providing good services for care leavers and good adoption services"
    cued = rated or any(w in words("grades", "cues_before") for w in previous[-3:])
    allowed = following is None or following in words("grades", "allowed_after")
    return cued and (allowed or names_area)


def _after_listed_area(before: str, previous: list[str]) -> bool:
    """The grade opens the next item of a list of graded areas the clause's cue began."""
    listed = _LIST_TAIL.sub("", before)
    if listed == before or not _ends_in_area(listed):
        return False
    cues = (*_RATING_VERBS, *words("grades", "cues_before"))
    return any(w in cues for w in previous)


def _starts_area(after: str) -> bool:
    rest = after[_AREA_NEXT.match(after).end() :]  # type: ignore[union-attr]
    found = area_regex()[0].match(rest)
    return found is not None and squash(found[0]) != "overall"


def _ends_in_area(before: str) -> bool:
    return any(m.end() == len(before) for m in area_regex()[0].finditer(before))


def _linked_after(
    clause: str,
    end: int,
    areas: list[re.Match[str]],
    stop: int,
    first: re.Pattern[str] | None = None,
) -> list[re.Match[str]]:
    """Areas named right after a grade: "'good' for leaders and for care leavers"."""
    linked: list[re.Match[str]] = []
    cursor, link = end, first or _AFTER_LINK
    for area in areas:
        if area.start() < cursor or area.start() >= stop:
            continue
        gap = clause[cursor : area.start()]
        if not (link.match(gap) or (not linked and first is None and _GRADE_FIRST.match(gap))):
            break
        linked.append(area)
        cursor, link = area.end(), _LIST_LINK
    return linked


def real_grades(clause: str, rated_before: bool = False) -> list[re.Match[str]]:
    """Grade words used as grades; 'good or outstanding' is talk about grades, not one.

    `rated_before`: the sentence has a rating verb before this clause.
    """
    grades = [m for m in grade_regex().finditer(clause) if _is_grade(clause, m, rated_before)]
    paired = {
        i
        for i in range(len(grades) - 1)
        if _GRADE_PAIR.fullmatch(clause[grades[i].end() : grades[i + 1].start()])
    }
    return [g for i, g in enumerate(grades) if i not in paired and i - 1 not in paired]


def _linked_before(
    clause: str, areas: list[re.Match[str]], floor: int, grade: re.Match[str], used: set[int]
) -> list[re.Match[str]]:
    """Areas named as the subject before a grade: 'leaders were judged outstanding'.

    None for a grade that qualifies a noun ('leaders tried to improve the inadequate services').
    """
    if _ATTRIBUTIVE.search(clause[: grade.start()]) and _SERVICES_NEXT.match(clause, grade.end()):
        return []
    linked = [
        a
        for a in areas
        if floor <= a.start()
        and a.end() <= grade.start()
        and a.start() not in used
        and a.start() not in _title_areas(clause, areas)
    ]
    return linked if linked and grade.start() - linked[-1].end() <= _BEFORE_REACH else []


def _title_areas(clause: str, areas: list[re.Match[str]]) -> set[int]:
    """Starts of areas in a list that follows 'services for': the inspection's title."""
    titled: set[int] = set()
    chains: list[list[re.Match[str]]] = []
    for area in areas:
        if not chains or not _CHAIN_GAP.match(clause[chains[-1][-1].end() : area.start()]):
            chains.append([])
        chains[-1].append(area)
    for chain in chains:
        # One area after "services for" is a subject ("services for children in care were
        # rated good"); a title lists several, and does not continue a list of areas ("help and
        # protection, services for children looked after, ...").
        title = _SERVICE_TITLE.search(clause[: chain[0].start()])
        if len(chain) > 1 and title and not _ends_in_area(clause[: title.start()].rstrip(" ,")):
            titled.update(a.start() for a in chain)
    return titled


def _owned_by_next(
    clause: str, areas: list[re.Match[str]], grades: list[re.Match[str]]
) -> set[int]:
    """Areas that are the subject of the grade after them ('leaders as good', 'X was judged RI').

    Such an area is not a list item of the grade before it, even after a comma.
    """
    owned: set[int] = set()
    for area in areas:
        following = next((g for g in grades if g.start() >= area.end()), None)
        if following is not None and _SUBJECT_GAP.fullmatch(clause[area.end() : following.start()]):
            owned.add(area.start())
    return owned


def _continued(clause: str, end: int, areas: list[re.Match[str]], stop: int) -> list[re.Match[str]]:
    """Areas that share a grade by 'as was adoption performance' or 'and so were care leavers'."""
    tail = clause[end:stop]
    match = _AS_WAS.search(tail)
    if match is None:
        return []
    return _linked_after(clause, end + match.end(), areas, stop, _LIST_START)


def _pseudo_area(clause: str, start: int, stop: int) -> str | None:
    """'all' when the grade covers every area ('good in every area'), 'rest' for 'the other two'."""
    around = clause[max(0, start - 40) : stop]
    if all_areas_regex().search(around):
        return "all"
    if has_any(clause[start:stop], words("grades", "other_areas")):
        return "rest"
    return None


def pair_grades(clause: str, rated_before: bool = False) -> list[GradeRead]:
    """(grade, area keys, span) for every grade in the clause; no area means the overall grade."""
    grades = real_grades(clause, rated_before)
    areas = [m for m in area_regex()[0].finditer(clause) if not _in_all_areas(clause, m)]
    owned = _owned_by_next(clause, areas, grades)
    used: set[int] = set()
    pairs: list[GradeRead] = []
    for i, grade in enumerate(grades):
        stop = grades[i + 1].start() if i + 1 < len(grades) else len(clause)
        free = [a for a in areas if a.start() not in owned or a.start() > stop]
        linked = _linked_after(clause, grade.end(), free, stop)
        listed = _listed_after(clause, grade, free, stop)
        linked = listed if len(listed) > len(linked) else linked
        if not linked:
            linked = _linked_before(clause, areas, grades[i - 1].end() if i else 0, grade, used)
        elif [area_key(a[0]) for a in linked] == ["overall"]:
            # "Leadership was rated 'good' overall": the subject is the area, not the council.
            floor = grades[i - 1].end() if i else 0
            subject = [
                a for a in areas if a.start() in owned and floor <= a.start() < grade.start()
            ]
            linked = subject or linked
        linked += _continued(clause, grade.end(), areas, stop)
        used.update(a.start() for a in linked)
        keys = [area_key(a[0]) for a in linked]
        pseudo = _pseudo_area(clause, grade.start(), stop) if not keys or listed else None
        # "Good in every judgement: leaders, ..." grades the areas listed and the whole ("all").
        keys = [*keys, pseudo] if keys and pseudo == "all" else keys or [pseudo or "overall"]
        pairs.append((grade_key(grade[0]) or "", keys, grade.start(), grade.end()))
    return pairs


def _listed_after(
    clause: str, grade: re.Match[str], areas: list[re.Match[str]], stop: int
) -> list[re.Match[str]]:
    """The areas spelt out after 'every area' and a colon, a dash or 'including'.

    The items may be long ('the impact of leaders on social work practice, ...'); an item is any
    stretch of a few words between separators that names an area and no grade.
    """
    counted = _AREA_NOUNS.search(clause, max(0, grade.start() - _SEPARATOR_REACH), stop)
    if _pseudo_area(clause, grade.start(), stop) != "all" and counted is None:
        return []
    reach = min(stop, grade.end() + _SEPARATOR_REACH)
    separator = _LIST_SEPARATOR.search(clause, grade.end(), reach)
    if separator is None:
        return []
    listed: list[re.Match[str]] = []
    cursor = separator.end()
    for area in areas:
        if area.start() < cursor or area.start() >= stop:
            continue
        if len(clause[cursor : area.start()].split()) > _ITEM_GAP_WORDS:
            break
        listed.append(area)
        cursor = area.end()
    if listed and stop < len(clause) and _BEFORE_NEXT.fullmatch(clause[cursor:stop]):
        return []  # "care leavers as outstanding, and the other three - a, b, c - as good"
    return listed


def _in_all_areas(clause: str, area: re.Match[str]) -> bool:
    """'overall' inside 'overall effectiveness', or 'overall effectiveness of <an area>': the
    pre-2013 reports graded each service's overall effectiveness, which is that area's grade."""
    if squash(area[0]) == "overall" and clause[area.end() :].lstrip().startswith("effective"):
        return True
    if area_key(area[0]) != "overall":
        return False
    following = _OF_AREA.match(clause, area.end())
    return following is not None and area_regex()[0].match(clause, following.end()) is not None
