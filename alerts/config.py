"""The settings of one alert channel, as validated from a `[[channel]]` table."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.records import AlertType

OUTCOME_EVENTS = (AlertType.NEW, AlertType.CHANGED, AlertType.CONFIRMED, AlertType.MISMATCH)
OPERATOR_EVENTS = (
    AlertType.SOURCE_FAILING,
    AlertType.SOURCE_RECOVERED,
    AlertType.DELIVERY_FAILED,
    AlertType.DELIVERY_RECOVERED,
)
# Alerts about delivery itself: one never causes another, whatever happens to it.
DELIVERY_EVENTS = (AlertType.DELIVERY_FAILED, AlertType.DELIVERY_RECOVERED)
# Press-reported outcomes below this confidence are stored but not sent: the lowest confidence
# at and above which the prose reader is right at least 97 % of the time on the tuning folds of
# its labelled texts (`make eval`, bench/PROSE.md). Ofsted-confirmed outcomes always go out.
DEFAULT_MIN_CONFIDENCE = 0.89


@dataclass(frozen=True)
class ChannelConfig:
    """One `[[channel]]` table. Secrets are already resolved from env: or file: references."""

    name: str
    kind: str  # "email" | "webhook"
    events: tuple[str, ...] = OUTCOME_EVENTS
    authorities: tuple[str, ...] = ()  # ONS codes; empty means every watched council
    regions: tuple[str, ...] = ()
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # email
    smtp_url: str | None = None  # smtp://host:port[?starttls=true] or smtps://host:port
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    to: tuple[str, ...] = ()
    timeout_seconds: float = 30.0
    digest: str | None = None  # "daily 08:00" or "weekly monday 08:00", in `timezone`
    timezone: str = "Europe/London"
    # webhook
    url: str | None = None
    format: str = "standard"  # standard | slack | teams
    secret: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
