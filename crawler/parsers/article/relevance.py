"""Whether a story is news of a council's Ofsted judgement at all, and if not, why not.

The reason is shown to operators (`extract`), so that a page that gave nothing can be explained:
a school's or a children's home's inspection, another inspectorate, national statistics, an old
rating mentioned as background.
"""

from __future__ import annotations

import re

from crawler.parsers.article.phrases import has_any, words
from crawler.parsers.article.story import UNGRADED_EVENTS, Story, mentions_of
from crawler.parsers.prose_dates import years_in

_LEAD = 2
_MEETING_OPENING = 8
# Councils counted in bulk: "a quarter of councils", "most local authorities", "59 councils". A
# small count ("three councils") is a round-up of named councils, not national figures.
_COUNTED_COUNCILS = re.compile(
    r"\b(?:[1-9]\d{1,2}(?!\d)|a (?:third|quarter|half|fifth|minority|majority) of"
    r"|three[- ]quarters of|half of"
    r"|most|many|few|fewer|more|the majority of|twice as many|one in (?:three|four|five|ten))\s+"
    r"(?:of\s+)?(?:the\s+)?(?:[A-Za-z'-]+\s+){0,2}?"
    r"(?:councils|local authorities|authorities|children's services departments)\b",
    re.I,
)
# Subjects that put a story out of scope when its lead is about them, in the order they are tried.
SUBJECT_REASONS = ("other_inspectorate", "childrens_home", "agency", "school")
REASONS = (
    "no_ofsted_news",
    "no_council",
    "other_jurisdiction",
    *SUBJECT_REASONS,
    "annual_report",
    "background_rating",
)


def _ofsted_context() -> list[str]:
    specific = [w for k in UNGRADED_EVENTS for w in words("events", k)]
    return ["ofsted", "inspector", "inspectorate", "inspection", "inspected", *specific]


def irrelevance(story: Story) -> str | None:
    """Why the story cannot report a council outcome, or None when it may."""
    if not has_any(story.text, _ofsted_context()):
        return "no_ofsted_news"
    lead = " ".join(s.text for s in story.lead[:_LEAD])
    if has_any(lead, words("relevance", "other_jurisdiction")) and not _names_event(lead):
        return "other_jurisdiction"
    if _national_figures(story):
        return "annual_report"
    if not story.primary:
        return "no_council"
    if not _lead_is_about_ofsted(story) or _only_standing(story):
        return "background_rating"
    return _lead_subject(lead)


def _only_standing(story: Story) -> bool:
    """Every grade is a standing one ('our services are rated good') and nothing in the opening
    is news of an inspection: a recruitment page or a profile, not a result."""
    current = [m for m in mentions_of(story) if m.tense != "history"]
    if not current or not all(m.standing for m in current):
        return False
    lead = " ".join(s.text for s in story.lead)
    return not has_any(lead, words("relevance", "news"))


def _lead_is_about_ofsted(story: Story) -> bool:
    """A story whose opening never speaks of Ofsted's work mentions a rating only as background
    (a recruitment page, a budget row). Minutes and reports reach their Ofsted item later."""
    lead = " ".join(s.text for s in story.lead)
    if has_any(lead, _ofsted_context()):
        return True
    if any(m.sentence.lead and m.tense != "history" for m in mentions_of(story)):
        return True  # a headline that gives the grade: "X children's services rated good"
    opening = " ".join(s.text for s in story.sentences[:_MEETING_OPENING])
    return has_any(opening, words("relevance", "meeting"))


def _national_figures(story: Story) -> bool:
    """A lead about councils in general ('a quarter of councils', '14 per cent') that names none
    of them: national statistics, once the annual ratings of every council had ended."""
    if not story.lead or any(s.councils for s in story.lead):
        return False
    lead = " ".join(s.text for s in story.lead)
    counted = _COUNTED_COUNCILS.search(lead) is not None
    if not counted and not has_any(lead, words("relevance", "statistics")):
        return False
    years = [*years_in(lead), *([story.ref_year] if story.ref_year else [])]
    return not years or max(years) > int(words("relevance", "statistics_until")[0])


def _names_event(text: str) -> bool:
    """Whether text names one of Ofsted's ungraded events: a JTAI or an area SEND inspection
    names the other inspectorates that took part (the CQC, HMI Probation)."""
    named = [w for k in UNGRADED_EVENTS for w in words("events", k)]
    return has_any(text, named + words("send_findings", "words"))


def _lead_subject(lead: str) -> str | None:
    """The out-of-scope subject the lead is about, unless it also names council services."""
    if has_any(lead, words("subjects", "services")) or _names_event(lead):
        return None
    return next((r for r in SUBJECT_REASONS if has_any(lead, words("relevance", r))), None)


def reason_for_nothing(story: Story) -> str:
    """Why a story in scope still gave no outcome: grades only as background, or no grade news."""
    return "background_rating" if mentions_of(story) else "no_ofsted_news"
