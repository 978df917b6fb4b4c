"""Digest channels: alerts wait for the channel's daily or weekly time and go out as one message."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.errors import ConfigError
from crawler.records import ChangeEvent

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPEC = re.compile(r"^(daily|weekly (?P<day>[a-z]+)) (?P<hour>\d{1,2}):(?P<minute>\d{2})$")


def check_digest(spec: str, label: str) -> None:
    """Raise ConfigError unless `spec` is 'daily HH:MM' or 'weekly <day> HH:MM'."""
    match = _SPEC.match(spec.strip().lower())
    day = match.group("day") if match else None
    if match is None or (day is not None and day not in DAYS) or int(match.group("hour")) > 23:
        raise ConfigError(f"{label}: {spec!r} is not 'daily HH:MM' or 'weekly monday HH:MM'")


def check_zone(zone: str, label: str) -> None:
    """Raise ConfigError unless `zone` is an IANA time zone name such as 'Europe/London'."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{label}: unknown time zone {zone!r} (e.g. 'Europe/London')") from None


def next_digest(spec: str, zone: str, now_utc: datetime) -> datetime:
    """The next digest time after `now_utc` (naive UTC in and out), in the channel's local time."""
    match = _SPEC.match(spec.strip().lower())
    assert match is not None  # checked when the config was loaded
    tz = ZoneInfo(zone)
    local_now = now_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)
    at = time(int(match.group("hour")), int(match.group("minute")))
    candidate = datetime.combine(local_now.date(), at, tzinfo=tz)
    day = match.group("day")
    while candidate <= local_now or (day and DAYS[candidate.weekday()] != day):
        candidate = datetime.combine(candidate.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def digest_event(items: list[ChangeEvent], now: datetime) -> ChangeEvent:
    """One event that carries several: rendered and sent as a single message."""
    subjects = [f"{item.type}: {item.key}" for item in items]
    return ChangeEvent(
        type="digest",
        key="digest:" + "|".join(sorted(item.key for item in items)),
        timestamp=now,
        source_name="digest",
        message="; ".join(subjects),
        items=tuple(items),
    )
