"""The whole prose reader: a story in, each council's outcome out, or the reason there is none."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from crawler.authorities import AuthorityRegistry
from crawler.parsers.article.councils import councils_in_url
from crawler.parsers.article.outcome import Found, outcome_for
from crawler.parsers.article.phrases import has_any, words
from crawler.parsers.article.relevance import irrelevance, reason_for_nothing
from crawler.parsers.article.story import (
    Event,
    Mention,
    Story,
    as_service,
    events_of,
    graded_beside,
    lead_event,
    mentions_of,
    published_of,
    read_story,
    report_event,
)
from crawler.records import InspectionOutcome

logger = logging.getLogger(__name__)
_RELATIVE_CLAUSE = re.compile(r",\s*(?:which|who)\b[^,]*,")


@dataclass(frozen=True)
class ArticleReading:
    """What a story reports: its outcomes, or why it reports none (`reason`)."""

    outcomes: tuple[InspectionOutcome, ...]
    reason: str | None = None
    signals: tuple[Mapping[str, float], ...] = ()  # what each outcome's confidence was scored on


def parse_article(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    article_date: date | None = None,
    home_councils: tuple[str, ...] = (),
) -> list[InspectionOutcome]:
    """Every council outcome a story reports; an empty list when it reports none."""
    reading = read_article(
        text, title=title, url=url, article_date=article_date, home_councils=home_councils
    )
    return list(reading.outcomes)


def read_article(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    article_date: date | None = None,
    home_councils: tuple[str, ...] = (),
) -> ArticleReading:
    """The outcomes a story reports, or the reason it reports none.

    `home_councils` (ONS codes) are the councils a newsroom belongs to: a release that only says
    "our children's services" is about them. They are used only when the story names no council.
    """
    story = _with_focus(read_story(title, text, article_date), url, home_councils)
    reason = irrelevance(story)
    if reason is not None:
        logger.debug("article skipped url=%s reason=%s", url, reason)
        return ArticleReading((), reason)
    found = _outcomes(_dated(story))
    outcomes = tuple(_named(f.outcome, url) for f in found)
    logger.debug("article parsed url=%s outcomes=%d", url, len(outcomes))
    reason = None if outcomes else reason_for_nothing(story)
    return ArticleReading(outcomes, reason, tuple(f.signals for f in found))


def _with_focus(story: Story, url: str | None, home_councils: tuple[str, ...]) -> Story:
    """A story that names no council is about its newsroom's council, or the one its URL names."""
    primary = story.primary
    if not primary and len(home_councils) == 1:
        primary = home_councils
    if not primary:
        primary = tuple(a.ons_code for a in councils_in_url(url))[:1]
    names = {code: "" for code in primary} | dict(story.names)
    return replace(story, primary=primary, names=names)


def _dated(story: Story) -> Story:
    """An undated story takes its year from the publication date it states."""
    published, _ = published_of(story)
    if story.ref_year is None and published is not None:
        return replace(story, ref_year=published.year)
    return story


def _outcomes(story: Story) -> list[Found]:
    events = events_of(story)
    by_council: dict[str, list[Mention]] = {}
    for mention in mentions_of(story):
        for code in mention.councils:
            by_council.setdefault(code, []).append(mention)
    default = lead_event(story)
    leading = _leading_councils(story)
    found: list[Found] = []
    for code in dict.fromkeys([*by_council, *events, *story.primary[:1]]):
        mentions = by_council.get(code, [])
        if code not in leading:
            mentions = [m for m in mentions if not _background(m, story)]
        found += _council_outcomes(code, mentions, events.get(code, default), story)
    return found


def _leading_councils(story: Story) -> set[str]:
    """The councils a story is about: its focus and those its headline names."""
    return {*story.primary, *(m.authority.ons_code for s in story.lead[:1] for m in s.councils)}


def _background(mention: Mention, story: Story) -> bool:
    """A grade of a council named only in passing, stated as standing, compared or dated earlier.

    The markers count around the grade ("rated good since 2017") or anywhere before it in the
    sentence ("unlike neighbouring Y", "councils which remain ... include Y"), leaving out
    relative clauses closed before the grade ("Y, which has run services since 2013, was ...").
    """
    before = _RELATIVE_CLAUSE.sub(" ", mention.sentence.text[: mention.at])
    if has_any(f"{before} {mention.context}", words("secondary", "background")):
        return True
    return mention.year is not None and story.ref_year is not None and mention.year < story.ref_year


def _council_outcomes(
    code: str, mentions: list[Mention], event: Event | None, story: Story
) -> list[Found]:
    """One council's events: the one it is the subject of, and a full inspection graded beside it.

    A service inspected on its own, or an inspection the lead reports with no grade, still counts
    for the council the story is about.
    """
    if event is not None and event.service:
        service = as_service(event, mentions)
        event = event if service is not None else None
        mentions = mentions if service is None else service
    outcome = outcome_for(code, mentions, event, story)
    if outcome is None and code in story.primary and (event is None or event.service):
        outcome = outcome_for(code, mentions, event or report_event(story, code), story, True)
    beside = graded_beside(event, mentions) if event is not None else []
    second = outcome_for(code, beside, None, story) if beside else None
    return [o for o in (outcome, second) if o is not None]


def _named(outcome: InspectionOutcome, url: str | None) -> InspectionOutcome:
    authority = AuthorityRegistry.load().by_ons(outcome.ons_code or "")
    name = authority.short_name if authority else None
    return outcome.with_changes(local_authority=name, source_url=url)
