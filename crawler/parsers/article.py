"""Ofsted outcomes for councils' children's services as news stories and press releases tell them.

Pure: prose in, `InspectionOutcome`s out. The work is split by stage: article_sentences (sentences,
clauses, tense), article_grades (grades and areas in a clause), article_story (councils, events,
mentions, dates) and article_outcome (one council's outcome). Wording lives in data/prose.toml.
"""

from __future__ import annotations

import logging
from datetime import date

from crawler.authorities import AuthorityRegistry
from crawler.parsers.article_outcome import outcome_for
from crawler.parsers.article_story import (
    Event,
    Mention,
    Story,
    as_service,
    events_of,
    graded_beside,
    lead_event,
    mentions_of,
    out_of_scope,
    published_of,
    read_story,
    report_event,
)
from crawler.parsers.councils_in_text import councils_in_url
from crawler.records import InspectionOutcome

logger = logging.getLogger(__name__)


def parse_article(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    article_date: date | None = None,
    home_councils: tuple[str, ...] = (),
) -> list[InspectionOutcome]:
    """Every council outcome a story reports; an empty list when it reports none.

    `home_councils` (ONS codes) are the councils a newsroom belongs to: a release that only says
    "our children's services" is about them. They are used only when the story names no council.
    """
    story = read_story(title, text, article_date)
    _fill_focus(story, url, home_councils)
    if not story.primary or out_of_scope(story.sentences):
        logger.debug("article skipped url=%s councils=%d", url, len(story.primary))
        return []
    published, _ = published_of(story)
    if story.ref_year is None and published is not None:
        story.ref_year = published.year
    outcomes = [_named(o, url) for o in _outcomes(story)]
    logger.debug("article parsed url=%s outcomes=%d", url, len(outcomes))
    return outcomes


def _fill_focus(story: Story, url: str | None, home_councils: tuple[str, ...]) -> None:
    """A story that names no council is about its newsroom's council, or the one its URL names."""
    if not story.primary and len(home_councils) == 1:
        story.primary = list(home_councils)
    if not story.primary:
        story.primary = [a.ons_code for a in councils_in_url(url)][:1]
    for code in story.primary:
        story.names.setdefault(code, "")


def _outcomes(story: Story) -> list[InspectionOutcome]:
    events = events_of(story)
    by_council: dict[str, list[Mention]] = {}
    for mention in mentions_of(story):
        for code in mention.councils:
            by_council.setdefault(code, []).append(mention)
    default = lead_event(story)
    found: list[InspectionOutcome] = []
    for code in dict.fromkeys([*by_council, *events, *story.primary[:1]]):
        found += _council_outcomes(code, by_council.get(code, []), events.get(code, default), story)
    return found


def _council_outcomes(
    code: str, mentions: list[Mention], event: Event | None, story: Story
) -> list[InspectionOutcome]:
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
