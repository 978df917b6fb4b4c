"""Tables and lists restated as sentences, so that the clause reader sees one grade per area.

Press releases and minutes copy Ofsted's judgement table ("Help and protection" on one line, "Good"
on the next), write rows as "Area: grade", or give one grade to a bulleted list of areas ("The
areas judged good were:" then the areas). Each becomes "<area> was judged <grade>.".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.parsers.article.councils import find_councils
from crawler.parsers.article.grades import real_grades
from crawler.parsers.article.phrases import area_regex, grade_key, grade_regex

_BULLET = re.compile(r"^\s*(?:[-•*–·▪●◦]+|\(?[0-9]{1,2}(?:\.[0-9]{1,2})*[.)]?|\(?[a-z][.)])\s+")
_NUMBERING = re.compile(r"^\s*(?:[0-9]{1,2}(?:\.[0-9]{1,2})*[.)]?|[-•*–·▪●◦]+)\s*")
_ROW_SEPARATOR = re.compile(r"\s*(?::|\||\t|\s[-–—]\s)\s*")
_MAX_ROW_WORDS = 16
_MAX_LABEL_LINES = 3
_LABEL_SLACK = 16  # characters beside a council's name in a row label ("Council", "(unitary)")
_SCORED = re.compile(r"^(?:grade\s+)?[1-4]\s*\((?P<grade>[a-z ]+)\)$", re.I)
_SPACES = re.compile(r"[ \u00a0]+")
_PIECE_END = re.compile(r"(?<=[.;])\s+")
_RATING = re.compile(
    r"\b(?:judged|rated|graded|assessed|deemed|found|awarded|given|received)\b", re.I
)


@dataclass(frozen=True)
class Line:
    """One line of the text, without its bullet, and whether it carried one."""

    text: str
    bulleted: bool


def lines_of(text: str) -> list[Line]:
    found = []
    for raw in text.splitlines():
        bullet = _BULLET.match(raw)
        body = raw[bullet.end() :] if bullet else raw
        # Tabs are kept: they separate the cells of a copied table row.
        found.append(Line(_SPACES.sub(" ", body).strip(), bullet is not None))
    return found


def restate_layout(text: str) -> str:
    """The text with judgement tables and graded lists written out as one sentence per area."""
    lines = lines_of(spell_out_scores(text))
    out: list[str] = []
    index = 0
    while index < len(lines):
        listed = _graded_list(lines, index)
        if listed is not None:
            statements, index = listed
            out += statements
            continue
        out.append(_row_statement(lines, index, out) or _restate_pieces(lines[index].text))
        index += 1
    return "\n".join(out)


def _restate_pieces(line: str) -> str:
    """A line of short 'Area grade' pieces: 'Help and protection good; care leavers outstanding.'"""
    pieces = _PIECE_END.split(line)
    if len(pieces) < 2:
        return line
    return " ".join(_piece_statement(piece) or piece for piece in pieces)


def _piece_statement(piece: str) -> str | None:
    body = piece.rstrip(" .;")
    for match in grade_regex().finditer(body):
        if match.end() < len(body.rstrip(" '\"’”")) or not match.start():
            continue
        label, grade = body[: match.start()], body[match.start() :]
        label = label.rstrip(" :–—-")
        if _lone_grade(grade) and _label_area(label) and not real_grades(label):
            return f"{_NUMBERING.sub('', label).strip()} was judged {grade.strip(' .')}."
    return None


def _lone_grade(text: str) -> str | None:
    """The grade of a line that is nothing but a grade ('Requires improvement to be good')."""
    stripped = text.strip(" .'\"‘’“”")
    return grade_key(stripped) if stripped and len(stripped.split()) <= 6 else None


def _areas_in(text: str) -> list[str]:
    pattern, _ = area_regex()
    return [m[0] for m in pattern.finditer(text)]


def _label_area(label: str) -> str | None:
    """The area a table label names, when the label ends with it ('2.1 Adoption performance')."""
    label = _NUMBERING.sub("", label).strip(" :.")
    pattern, _ = area_regex()
    found = [m for m in pattern.finditer(label) if m.end() >= len(label) - 1]
    return label if found and len(label.split()) <= _MAX_ROW_WORDS else None


def _row_statement(lines: list[Line], index: int, out: list[str]) -> str | None:
    """A table row: 'Area: Grade' on one line, or a lone grade under its area label.

    A label that wraps over lines ('Children looked after and achieving' / 'permanence') is taken
    back out of the output and joined.
    """
    line = lines[index].text
    grade = _lone_grade(line)
    if grade is None:
        return _inline_row(line)
    for count in range(1, _MAX_LABEL_LINES + 1):
        if len(out) < count or any(not text.strip() for text in out[-count:]):
            return None
        label = _label_area(" ".join(out[-count:]))
        if label is not None and not any(_lone_grade(t) for t in out[-count:]):
            del out[-count:]
            return f"{label} was judged {line.strip(' .')}."
    return None


def _inline_row(line: str) -> str | None:
    """'Help and protection: good', or a league row 'Trafford - 4 (outstanding)'."""
    parts = _ROW_SEPARATOR.split(line, maxsplit=1)
    if len(parts) != 2 or len(line.split()) > _MAX_ROW_WORDS:
        return None
    label, grade = parts
    grade = _SCORED.sub(r"\g<grade>", grade.strip(" ."))
    if _lone_grade(grade) is None:
        return None
    if _label_area(label) is not None:
        return f"{_NUMBERING.sub('', label).strip()} was judged {grade}."
    if _names_one_council(label):
        return f"{_NUMBERING.sub('', label).strip()} was rated {grade}."
    return None


def _names_one_council(label: str) -> bool:
    """Whether a row label is one council's name and little else."""
    label = _NUMBERING.sub("", label).strip()
    found = find_councils(label)
    return len(found) == 1 and len(label) - len(found[0].text) <= _LABEL_SLACK


def _graded_list(lines: list[Line], index: int) -> tuple[list[str], int] | None:
    """An introduction that ends in a colon and carries one grade, then a bulleted list of areas.

    Returns the statements (the introduction kept as it was) and the index after the list.
    """
    intro = lines[index].text
    grade = _intro_grade(intro) if intro.endswith(":") else None
    if grade is None:
        return None
    end = _list_end(lines, index + 1)
    items = [line.text for line in lines[index + 1 : end] if line.text]
    areas = [area for item in items if not real_grades(item) for area in _areas_in(item)]
    if not areas:
        return None
    statements = [f"{area} was judged {grade}." for area in areas]
    return [intro[:-1] + ".", *statements, *items], end


def _intro_grade(intro: str) -> str | None:
    """The one grade an introduction gives, after a rating word ('The areas judged good were:')."""
    if not _RATING.search(intro):
        return None
    found = {grade_key(m[0]) for m in grade_regex().finditer(intro)}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def _list_end(lines: list[Line], start: int) -> int:
    """Where the bulleted items after an introduction end; blank lines between them allowed."""
    end = start
    for at in range(start, len(lines)):
        if lines[at].text and not lines[at].bulleted:
            break
        if lines[at].bulleted:
            end = at + 1
    return end


# Annual performance assessments (2005-2008) scored councils 1 to 4, with 4 the best: the
# opposite of Ofsted's other numbered grades, so numbers are read only where an APA is named.
_APA = re.compile(r"\b(?:annual performance assessments?|APAs?)\b")
_SCORE = re.compile(
    r"\b(?:(?:grade|score|scored|rating|awarded|received|given|gave \w+)\s+(?:of\s+|a\s+)?"
    r"(?P<a>[1-4])|(?P<b>[1-4])\s+out\s+of\s+(?:4|four))\b(?!\s*(?:\(|out of|per|%))",
    re.I,
)
_APA_GRADES = {"4": "outstanding", "3": "good", "2": "adequate", "1": "inadequate"}


def spell_out_scores(text: str) -> str:
    """'given a grade of 1' becomes 'given a grade of 1 (inadequate)' in a story about an APA."""
    if not _APA.search(text):
        return text

    def named(match: re.Match[str]) -> str:
        number = match["a"] or match["b"]
        return f"{match[0]} ({_APA_GRADES[number]})"

    return _SCORE.sub(named, text)
