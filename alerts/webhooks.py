"""Webhook bodies (standard JSON, Slack Block Kit, Teams Adaptive Card) and their signing.

Standard body, one JSON object per event (CONTRACTS §4)::

    {"type": "outcome.changed",                  # outcome.new | outcome.changed |
                                                 # outcome.confirmed | coverage.mismatch |
                                                 # source.failing | source.recovered
     "timestamp": "2024-03-05T09:30:00+00:00",   # ISO 8601, when the change was detected
     "data": {
       "outcome":  {...},                        # the `extract --json` outcome shape
       "previous": {...} | null,                 # the council's previous outcome, if any
       "sources":  [{"url": "...", "kind": "news|feed|ofsted", "name": "..."}]
     }}

For source.failing and source.recovered, `data` is {"source": "<source name>", "message": "..."}.
Headers: `webhook-id` (the alert's stable key, the same on every retry), `webhook-timestamp` (Unix
seconds of this attempt) and, when a secret is set, `webhook-signature`: "v1," + base64 of
HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>." + body). A "whsec_" secret is base64-decoded
after the prefix to get the key; any other secret is used as its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

from alerts.render import RenderedMessage, source_label, summary_facts, web_link
from crawler.records import ChangeEvent

logger = logging.getLogger(__name__)

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
# Slack rejects blocks beyond these sizes, so long scraped text is cut to fit.
_SLACK_HEADER_MAX = 150
_SLACK_FIELD_MAX = 2000
_SLACK_MAX_FIELDS = 10
_SLACK_MAX_CONTEXT = 10


def secret_key(secret: str) -> bytes:
    """The HMAC key: base64-decoded after a "whsec_" prefix, otherwise the secret's UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            logger.warning("webhook secret has a whsec_ prefix but is not base64; using raw bytes")
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one delivery attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    msg_id: str,
    timestamp: int | str,
    body: bytes,
    signature_header: str,
    *,
    tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when any of the space-separated v1 signatures matches and the timestamp is fresh."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if tolerance_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - stamp) > tolerance_seconds:
            return False
    expected = sign(secret, msg_id, stamp, body)
    return any(
        hmac.compare_digest(candidate, expected)
        for candidate in signature_header.split()
        if candidate.startswith(SIGNATURE_VERSION + ",")
    )


def standard_body(event: ChangeEvent) -> dict[str, Any]:
    """The Standard Webhooks body: type, ISO 8601 timestamp and the event's data."""
    stamp = event.timestamp
    if stamp.tzinfo is None:
        # Detection stores UTC; a naive value would otherwise read as the receiver's local time.
        stamp = stamp.replace(tzinfo=UTC)
    return {"type": event.type, "timestamp": stamp.isoformat(), "data": event.data()}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_sources(event: ChangeEvent) -> list[dict[str, str]]:
    elements = []
    for ref in event.sources[:_SLACK_MAX_CONTEXT]:
        label = _slack_escape(source_label(ref))
        link = web_link(ref.url)
        text = f"<{_slack_escape(link)}|{label}>" if link else label
        elements.append({"type": "mrkdwn", "text": f"{text} ({_slack_escape(ref.kind)})"})
    return elements or [{"type": "mrkdwn", "text": f"ofsted-watch · {event.type}"}]


# The facts a reader must never lose to a field limit; the grade rows fold together instead.
_KEPT_WHOLE = ("Council", "Event", "Outcome", "Inspected", "Published", "Status")


def fit_fields(facts: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """At most `limit` facts: past it, the grade rows share one "Judgements" field."""
    if len(facts) <= limit:
        return facts
    grades = [f"{k}: {v}" for k, v in facts if k not in _KEPT_WHOLE]
    head = [f for f in facts[:2] if f[0] in _KEPT_WHOLE]
    tail = [f for f in facts[2:] if f[0] in _KEPT_WHOLE]
    return [*head, ("Judgements", "\n".join(grades)), *tail][:limit]


def slack_body(event: ChangeEvent, message: RenderedMessage) -> dict[str, Any]:
    """A Slack Block Kit message: a header, a section of fields, and the sources as context."""
    fields = [
        {
            "type": "mrkdwn",
            "text": _cut(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", _SLACK_FIELD_MAX),
        }
        for k, v in fit_fields(summary_facts(event), _SLACK_MAX_FIELDS)
    ]
    return {
        "text": message.subject,
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(message.subject, _SLACK_HEADER_MAX)},
            },
            {"type": "section", "fields": fields},
            {"type": "context", "elements": _slack_sources(event)},
        ],
    }


def _teams_card(event: ChangeEvent, message: RenderedMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.subject,
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
        },
        {
            "type": "FactSet",
            "facts": [{"title": k, "value": v} for k, v in summary_facts(event)],
        },
    ]
    actions = [
        {"type": "Action.OpenUrl", "title": source_label(ref), "url": web_link(ref.url)}
        for ref in event.sources
        if web_link(ref.url)
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def teams_body(event: ChangeEvent, message: RenderedMessage) -> dict[str, Any]:
    """An Adaptive Card 1.4 inside the message envelope that Teams Workflows webhooks accept."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": _teams_card(event, message),
            }
        ],
    }


def _standard(event: ChangeEvent, message: RenderedMessage) -> dict[str, Any]:
    return standard_body(event)


# The webhook formats: a `[[channel]] format` key names one.
FORMATS: dict[str, Callable[[ChangeEvent, RenderedMessage], dict[str, Any]]] = {
    "standard": _standard,
    "slack": slack_body,
    "teams": teams_body,
}


def build_body(fmt: str, event: ChangeEvent, message: RenderedMessage) -> dict[str, Any]:
    """The JSON body for a channel format; an unknown format is an error, never a fallback."""
    try:
        return FORMATS[fmt](event, message)
    except KeyError:
        raise ValueError(f"unknown webhook format {fmt!r}; formats: {', '.join(FORMATS)}") from None
