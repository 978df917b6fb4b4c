"""Which channels want which events: event type, council, region and confidence filters."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from alerts.config import ChannelConfig
from crawler.records import AlertType, ChangeEvent

logger = logging.getLogger(__name__)


def skip_reason(cfg: ChannelConfig, event: ChangeEvent, region: str | None) -> str | None:
    """Why `cfg` does not want `event`, or None when it does. `region` is the council's region."""
    if event.type not in cfg.events and not _operator_wants(cfg, event):
        return f"event type {event.type} not in events"
    outcome = event.outcome
    if outcome is None:
        # Source health concerns operators of every council, so council filters do not apply.
        return None
    if cfg.authorities and outcome.ons_code not in cfg.authorities:
        return f"council {outcome.ons_code or 'unknown'} not in authorities"
    if cfg.regions and not _region_matches(region, cfg.regions):
        return f"region {region or 'unknown'} not in regions"
    if outcome.confidence < cfg.min_confidence and outcome.status != "confirmed":
        return f"confidence {outcome.confidence:.2f} below {cfg.min_confidence:.2f}"
    return None


def _operator_wants(cfg: ChannelConfig, event: ChangeEvent) -> bool:
    """Dead letters, and a channel's recovery, go to every operator channel: one that takes any
    source.* event."""
    delivery = event.type in (AlertType.DELIVERY_FAILED, AlertType.DELIVERY_RECOVERED)
    return delivery and any(e.startswith("source.") for e in cfg.events)


def _region_matches(region: str | None, wanted: Iterable[str]) -> bool:
    if region is None:
        return False
    folded = region.casefold().strip()
    return any(folded == w.casefold().strip() for w in wanted)


def channel_wants(cfg: ChannelConfig, event: ChangeEvent, region: str | None) -> bool:
    """True when the channel's filters let this event through."""
    reason = skip_reason(cfg, event, region)
    if reason is not None:
        logger.debug("channel skips event channel=%s key=%s reason=%s", cfg.name, event.key, reason)
    return reason is None


def wanted_by(
    configs: Iterable[ChannelConfig], event: ChangeEvent, region: str | None
) -> list[ChannelConfig]:
    """The channels, in config order, that want `event`."""
    return [cfg for cfg in configs if channel_wants(cfg, event, region)]
