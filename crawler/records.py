"""Frozen records that flow between the stages: fetch -> parse -> detect -> alert.

FetchedPage is what a spider saw, InspectionOutcome what a parser read from it, ChangeEvent what the
history decided is news, and DeliveryResult what a channel did with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

EVENT_TYPES = (
    "inspection",
    "focused_visit",
    "monitoring_visit",
    "jtai",
    "send_inspection",
    "other",
)
FRAMEWORKS = ("ILACS", "SIF", "pre2013", "SEND2016", "SEND2023", "unknown")
GRADES = (
    "outstanding",
    "good",
    "requires_improvement",
    "inadequate",
    "adequate",
    "satisfactory",
    "poor",
)
SEND_OUTCOMES = ("positive", "inconsistent", "widespread_failings", "wsoa", "no_wsoa")
STATUSES = ("confirmed", "reported")


class AlertType(StrEnum):
    """Every kind of alert, named as in the webhook body's `type` (CONTRACTS §4)."""

    NEW = "outcome.new"
    CHANGED = "outcome.changed"
    CONFIRMED = "outcome.confirmed"
    MISMATCH = "coverage.mismatch"
    SOURCE_FAILING = "source.failing"
    SOURCE_RECOVERED = "source.recovered"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_RECOVERED = "delivery.recovered"
    TEST = "test"


# A channel cannot subscribe to test alerts: `alerts test` sends one on demand.
ALERT_EVENT_TYPES = tuple(t.value for t in AlertType if t is not AlertType.TEST)
PROBLEM_KINDS = ("fetch", "parse", "storage", "refused", "health")


@dataclass(frozen=True)
class SourceProblem:
    """One thing that went wrong with a source in a pass, typed so that health, the run row and
    `status --json` can tell a broken parser from a server that is down or a full disk."""

    kind: str  # one of PROBLEM_KINDS
    message: str
    url: str | None = None

    def __str__(self) -> str:
        return f"{self.url}: {self.message}" if self.url else self.message

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "url": self.url, "message": self.message}


@dataclass(frozen=True)
class FetchedPage:
    """One response as a spider saw it, before any parsing."""

    source: str
    source_kind: str
    role: str
    url: str
    status: int
    body: bytes
    content_type: str = ""
    fetched_at: datetime | None = None
    from_cache: bool = False
    meta: tuple[tuple[str, str], ...] = ()

    def meta_value(self, key: str) -> str | None:
        return dict(self.meta).get(key)


@dataclass(frozen=True)
class Publication:
    """One entry of an Ofsted provider page: a report of some kind, published on a date."""

    event_type: str
    label: str
    published: date | None
    url: str


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class InspectionOutcome:
    """What one source says about one Ofsted event for one council."""

    local_authority: str | None
    ons_code: str | None
    event_type: str
    framework: str = "unknown"
    overall: str | None = None
    judgements: tuple[tuple[str, str], ...] = ()
    send_outcome: str | None = None
    inspection_start: date | None = None
    inspection_end: date | None = None
    published: date | None = None
    previous_overall: str | None = None
    previous_year: int | None = None
    confidence: float = 1.0
    evidence: tuple[str, ...] = ()
    status: str = "reported"
    source_url: str | None = None
    lead_inspector: str | None = None
    priority_action: bool | None = None
    pilot: bool = False
    name_as_printed: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def judgement_map(self) -> dict[str, str]:
        return dict(self.judgements)

    @property
    def is_graded(self) -> bool:
        return self.overall is not None or bool(self.judgements)

    def with_changes(self, **changes: Any) -> InspectionOutcome:
        if "judgements" in changes and isinstance(changes["judgements"], Mapping):
            changes["judgements"] = sort_judgements(changes["judgements"])
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The shape of `extract --json` (CONTRACTS §3), plus a few extra fields."""
        return {
            "local_authority": self.local_authority,
            "ons_code": self.ons_code,
            "event_type": self.event_type,
            "framework": self.framework,
            "overall": self.overall,
            "judgements": dict(self.judgements),
            "send_outcome": self.send_outcome,
            "inspection_start": _iso(self.inspection_start),
            "inspection_end": _iso(self.inspection_end),
            "published": _iso(self.published),
            "previous_overall": self.previous_overall,
            "previous_year": self.previous_year,
            "confidence": round(self.confidence, 2),
            "evidence": list(self.evidence),
            "status": self.status,
            "source_url": self.source_url,
            "lead_inspector": self.lead_inspector,
            "priority_action": self.priority_action,
            "pilot": self.pilot,
            "name_as_printed": self.name_as_printed,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InspectionOutcome:
        return cls(
            local_authority=data.get("local_authority"),
            ons_code=data.get("ons_code"),
            event_type=data.get("event_type", "other"),
            framework=data.get("framework", "unknown"),
            overall=data.get("overall"),
            judgements=sort_judgements(data.get("judgements") or {}),
            send_outcome=data.get("send_outcome"),
            inspection_start=_date(data.get("inspection_start")),
            inspection_end=_date(data.get("inspection_end")),
            published=_date(data.get("published")),
            previous_overall=data.get("previous_overall"),
            previous_year=data.get("previous_year"),
            confidence=float(data.get("confidence", 1.0)),
            evidence=tuple(data.get("evidence") or ()),
            status=data.get("status", "reported"),
            source_url=data.get("source_url"),
            lead_inspector=data.get("lead_inspector"),
            priority_action=data.get("priority_action"),
            pilot=bool(data.get("pilot", False)),
            name_as_printed=data.get("name_as_printed"),
            extra=tuple(sorted((data.get("extra") or {}).items())),
        )


def sort_judgements(judgements: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(judgements.items()))


@dataclass(frozen=True)
class SourceRef:
    """A page that reported an outcome."""

    url: str
    kind: str
    name: str = ""


@dataclass(frozen=True)
class ChangeEvent:
    """Something worth telling: a new, changed or confirmed outcome, or a source's health."""

    type: str
    key: str
    timestamp: datetime
    outcome: InspectionOutcome | None = None
    previous: InspectionOutcome | None = None
    sources: tuple[SourceRef, ...] = ()
    source_name: str | None = None
    message: str | None = None
    claim: InspectionOutcome | None = None  # coverage.mismatch: what the contradicting page said
    items: tuple[ChangeEvent, ...] = ()  # digest: the alerts it gathers

    def data(self) -> dict[str, Any]:
        """The `data` member of a webhook body (CONTRACTS §4)."""
        if self.items:
            return {"count": len(self.items), "events": [item.envelope() for item in self.items]}
        if self.outcome is None:
            return {"source": self.source_name, "message": self.message}
        data: dict[str, Any] = {
            "outcome": self.outcome.to_json(),
            "previous": self.previous.to_json() if self.previous else None,
            "sources": [{"url": s.url, "kind": s.kind, "name": s.name} for s in self.sources],
        }
        if self.claim is not None:
            data["claim"] = self.claim.to_json()
        if self.message:
            data["message"] = self.message
        return data

    def envelope(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": self.timestamp.isoformat(), "data": self.data()}

    def to_payload(self) -> dict[str, Any]:
        if self.items:
            return {
                "type": self.type,
                "key": self.key,
                "timestamp": self.timestamp.isoformat(),
                "items": [item.to_payload() for item in self.items],
            }
        return {
            "type": self.type,
            "key": self.key,
            "timestamp": self.timestamp.isoformat(),
            "source_name": self.source_name,
            "message": self.message,
            **(self.data() if self.outcome else {}),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ChangeEvent:
        outcome = payload.get("outcome")
        previous = payload.get("previous")
        claim = payload.get("claim")
        return cls(
            type=payload["type"],
            key=payload["key"],
            timestamp=datetime.fromisoformat(payload["timestamp"]),
            outcome=InspectionOutcome.from_json(outcome) if outcome else None,
            previous=InspectionOutcome.from_json(previous) if previous else None,
            sources=tuple(
                SourceRef(s["url"], s["kind"], s.get("name", ""))
                for s in payload.get("sources", ())
            ),
            source_name=payload.get("source_name"),
            message=payload.get("message"),
            claim=InspectionOutcome.from_json(claim) if claim else None,
            items=tuple(cls.from_payload(item) for item in payload.get("items", ())),
        )


@dataclass(frozen=True)
class DeliveryResult:
    """What one channel did with one alert."""

    channel: str
    ok: bool
    recipient: str = ""
    code: str | None = None
    error: str | None = None
    latency_ms: float = 0.0
    permanent: bool = False
    retry_after: float | None = None
    dry_run: bool = False
