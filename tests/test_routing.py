"""Channel filters: event types, councils, regions and confidence."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerts.config import DEFAULT_MIN_CONFIDENCE, OPERATOR_EVENTS, ChannelConfig
from alerts.routing import channel_wants, skip_reason, wanted_by
from tests.test_render import ilacs_outcome, outcome_event, source_event

SOUTHEND = "E06000033"
ESSEX = "E10000012"


def config(**changes: Any) -> ChannelConfig:
    return dataclasses.replace(ChannelConfig(name="comms", kind="email"), **changes)


def test_event_type_must_be_listed() -> None:
    cfg = config(events=("outcome.new",))
    assert channel_wants(cfg, outcome_event("outcome.new"), "East of England")
    assert not channel_wants(cfg, outcome_event("outcome.changed"), "East of England")
    assert not channel_wants(cfg, source_event(), None)


def test_council_filter_uses_ons_codes() -> None:
    cfg = config(authorities=(ESSEX,))
    essex = outcome_event(outcome=ilacs_outcome(ons_code=ESSEX, local_authority="Essex"))
    assert channel_wants(cfg, essex, None)
    assert not channel_wants(cfg, outcome_event(), None)
    unknown = outcome_event(outcome=ilacs_outcome(ons_code=None))
    assert "not in authorities" in (skip_reason(cfg, unknown, None) or "")


@pytest.mark.parametrize(
    ("region", "wanted"),
    [("East of England", True), ("east of england", True), ("London", False), (None, False)],
)
def test_region_filter(region: str | None, wanted: bool) -> None:
    cfg = config(regions=("East of England",))
    assert channel_wants(cfg, outcome_event(), region) is wanted


def test_source_events_ignore_council_and_region_filters() -> None:
    cfg = config(events=OPERATOR_EVENTS, authorities=(ESSEX,), regions=("London",))
    assert channel_wants(cfg, source_event("source.failing"), None)
    assert channel_wants(cfg, source_event("source.recovered"), "North East")


@pytest.mark.parametrize(
    ("confidence", "status", "wanted"),
    [(0.5, "reported", False), (0.8, "reported", True), (0.5, "confirmed", True)],
)
def test_low_confidence_is_dropped_unless_confirmed(
    confidence: float, status: str, wanted: bool
) -> None:
    cfg = config(min_confidence=0.8)
    event = outcome_event(outcome=ilacs_outcome(confidence=confidence, status=status))
    assert channel_wants(cfg, event, None) is wanted


def test_wanted_by_keeps_config_order() -> None:
    configs = [
        config(name="a", authorities=(SOUTHEND,)),
        config(name="b", authorities=(ESSEX,)),
        config(name="c"),
    ]
    assert [c.name for c in wanted_by(configs, outcome_event(), "East of England")] == ["a", "c"]


def test_the_default_holds_back_uncertain_press_outcomes_but_never_ofsted() -> None:
    cfg = ChannelConfig(name="comms", kind="email")
    assert cfg.min_confidence == DEFAULT_MIN_CONFIDENCE
    shaky = outcome_event(outcome=ilacs_outcome(confidence=DEFAULT_MIN_CONFIDENCE - 0.05))
    assert not channel_wants(cfg, shaky, "East of England")
    confirmed = ilacs_outcome(confidence=0.5, status="confirmed")
    assert channel_wants(cfg, outcome_event(outcome=confirmed), "East of England")
