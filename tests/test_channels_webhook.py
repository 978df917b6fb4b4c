"""WebhookChannel against a real local webhook_receiver, plus Standard Webhooks signing."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from alerts.channels import (
    CHANNELS,
    WebhookChannel,
    build_channel,
    http_status_is_permanent,
    parse_retry_after,
)
from alerts.config import ChannelConfig
from alerts.render import render
from alerts.webhooks import (
    fit_fields,
    secret_key,
    sign,
    slack_body,
    standard_body,
    teams_body,
    verify,
)
from crawler.errors import ConfigError
from scheduler.demo.receivers import Reply, WebhookReceiver, free_port
from tests.conftest import WEBHOOK_SECRET
from tests.test_render import ilacs_outcome, outcome_event, source_event

SECRET = WEBHOOK_SECRET


def hook(
    url: str, fmt: str = "standard", secret: str | None = SECRET, timeout: float = 5.0
) -> WebhookChannel:
    cfg = ChannelConfig(
        name="ops", kind="webhook", url=url, format=fmt, secret=secret, timeout_seconds=timeout
    )
    channel = build_channel(cfg)
    assert isinstance(channel, WebhookChannel)
    return channel


# --- signing ---------------------------------------------------------------------------------


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    body = b'{"test": 2432232314}'
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secret_without_prefix_is_used_as_raw_bytes() -> None:
    assert secret_key("plain-secret") == b"plain-secret"
    assert secret_key(SECRET) == base64.b64decode(SECRET.removeprefix("whsec_"))
    assert sign("plain-secret", "m", 1, b"{}") != sign(SECRET, "m", 1, b"{}")


def test_verify_rejects_tampering_and_stale_timestamps() -> None:
    now = int(time.time())
    good = sign(SECRET, "id-1", now, b'{"a":1}')
    assert verify(SECRET, "id-1", now, b'{"a":1}', good)
    assert verify(SECRET, "id-1", str(now), b'{"a":1}', f"v1,bm90LWl0 {good}")
    assert not verify(SECRET, "id-1", now, b'{"a":2}', good)
    assert not verify(SECRET, "id-2", now, b'{"a":1}', good)
    assert not verify("whsec_b3RoZXI=", "id-1", now, b'{"a":1}', good)
    stale = sign(SECRET, "id-1", now - 3600, b"{}")
    assert not verify(SECRET, "id-1", now - 3600, b"{}", stale)
    assert verify(SECRET, "id-1", now - 3600, b"{}", stale, tolerance_seconds=None)


# --- delivery --------------------------------------------------------------------------------


def test_signed_standard_body_is_verified_by_the_receiver(
    webhook_receiver: WebhookReceiver,
) -> None:
    event = outcome_event(previous=None)
    result = hook(webhook_receiver.url).send(event, message_key="evt-7")
    assert result.ok and result.code == "200"
    assert webhook_receiver.wait_for(1)
    request = webhook_receiver.requests[0]
    assert request.verified is True
    assert request.headers["webhook-id"] == "evt-7"
    assert request.headers["content-type"] == "application/json"
    assert request.json["type"] == "outcome.changed"
    assert datetime.fromisoformat(request.json["timestamp"]) == event.timestamp
    assert request.json["data"] == json.loads(json.dumps(event.data()))
    assert request.json["data"]["outcome"]["ons_code"] == "E06000033"


def test_the_official_standard_webhooks_library_accepts_the_delivery(
    webhook_receiver: WebhookReceiver,
) -> None:
    import standardwebhooks as library

    assert hook(webhook_receiver.url).send(outcome_event(), message_key="evt-8").ok
    assert webhook_receiver.wait_for(1)
    request = webhook_receiver.requests[0]
    wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
    payload = library.Webhook(SECRET).verify(
        request.body, {name: request.headers[name] for name in wanted}
    )
    assert payload["type"] == "outcome.changed" and payload["data"]["outcome"]["overall"] == "good"
    with pytest.raises(library.WebhookVerificationError):
        library.Webhook(SECRET).verify(
            request.body + b" ", {name: request.headers[name] for name in wanted}
        )


def test_wrong_secret_is_refused_by_the_receiver(webhook_receiver: WebhookReceiver) -> None:
    result = hook(webhook_receiver.url, secret="whsec_d3Jvbmc=").send(
        outcome_event(), message_key="w"
    )
    assert not result.ok and result.code == "401" and result.permanent
    assert webhook_receiver.requests[0].verified is False


def test_no_secret_means_no_signature_header() -> None:
    with WebhookReceiver() as plain:
        assert hook(plain.url, secret=None).send(source_event(), message_key="s").ok
        assert plain.wait_for(1)
        assert "webhook-signature" not in plain.requests[0].headers
        assert plain.requests[0].json["data"] == {
            "source": "essex-news",
            "message": "HTTP 503 three times",
        }


def test_retries_keep_the_same_webhook_id(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(500, 503, 200)
    channel = hook(webhook_receiver.url)
    results = [channel.send(outcome_event(), message_key="stable") for _ in range(3)]
    assert [r.ok for r in results] == [False, False, True]
    assert [r.code for r in results] == ["500", "503", "200"]
    assert not any(r.permanent for r in results)
    assert webhook_receiver.wait_for(3)
    assert {r.headers["webhook-id"] for r in webhook_receiver.requests} == {"stable"}
    assert all(r.verified for r in webhook_receiver.requests)


@pytest.mark.parametrize(
    ("status", "permanent"), [(404, True), (410, True), (400, True), (408, False), (502, False)]
)
def test_status_decides_whether_a_failure_is_permanent(
    webhook_receiver: WebhookReceiver, status: int, permanent: bool
) -> None:
    webhook_receiver.script(Reply(status, body=b"nope\nsecond line"))
    result = hook(webhook_receiver.url).send(outcome_event(), message_key="p")
    assert not result.ok and result.code == str(status)
    assert result.permanent is permanent
    assert result.error and "\n" not in result.error and "nope" in result.error


def test_429_retry_after_seconds(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(Reply(429, headers={"Retry-After": "120"}))
    result = hook(webhook_receiver.url).send(outcome_event(), message_key="rl")
    assert not result.ok and not result.permanent
    assert result.code == "429" and result.retry_after == 120.0


def test_503_retry_after_http_date(webhook_receiver: WebhookReceiver) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    webhook_receiver.script(
        Reply(503, headers={"Retry-After": format_datetime(later, usegmt=True)})
    )
    result = hook(webhook_receiver.url).send(outcome_event(), message_key="rl")
    assert result.retry_after is not None
    assert 590 <= result.retry_after <= 600


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after("Tue, 05 Mar 2024 09:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Tue, 05 Mar 2024 08:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
    assert http_status_is_permanent(410) and not http_status_is_permanent(429)


def test_slow_receiver_gives_a_timeout_result(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(Reply(200, delay=30.0))
    started = time.perf_counter()
    result = hook(webhook_receiver.url, timeout=0.3).send(outcome_event(), message_key="slow")
    assert time.perf_counter() - started < 10
    assert not result.ok and result.code == "timeout" and not result.permanent


def test_connection_refused_is_a_result() -> None:
    result = hook(f"http://127.0.0.1:{free_port()}/hook").send(outcome_event(), message_key="c")
    assert not result.ok and result.code == "connect" and not result.permanent


def test_dry_run_sends_nothing(webhook_receiver: WebhookReceiver) -> None:
    channel = hook(webhook_receiver.url)
    dry = channel.send(outcome_event(), message_key="dry", dry_run=True)
    assert dry.ok and dry.dry_run
    # The real send afterwards must be the webhook_receiver's first and only request.
    assert channel.send(outcome_event(), message_key="real").ok
    assert webhook_receiver.wait_for(1)
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == ["real"]


# --- body shapes -----------------------------------------------------------------------------


def test_slack_body_is_block_kit_with_escaped_text(webhook_receiver: WebhookReceiver) -> None:
    event = outcome_event(outcome=ilacs_outcome(local_authority="Essex <&>"))
    assert hook(webhook_receiver.url, fmt="slack").send(event, message_key="sl").ok
    assert webhook_receiver.wait_for(1)
    body = webhook_receiver.requests[0].json
    assert body == json.loads(json.dumps(slack_body(event, render(event))))
    header, section, context = body["blocks"]
    assert [header["type"], section["type"], context["type"]] == ["header", "section", "context"]
    assert header["text"] == {"type": "plain_text", "text": render(event).subject}
    assert body["text"] == render(event).subject
    assert all(f["type"] == "mrkdwn" for f in section["fields"])
    assert len(section["fields"]) <= 10
    assert any("Essex &lt;&amp;&gt;" in f["text"] for f in section["fields"])
    assert (
        "<https://www.southend.gov.uk/news/ofsted-2024|southend-news>"
        in context["elements"][0]["text"]
    )


def test_teams_body_is_an_adaptive_card_in_a_message_envelope(
    webhook_receiver: WebhookReceiver,
) -> None:
    event = outcome_event()
    assert hook(webhook_receiver.url, fmt="teams").send(event, message_key="tm").ok
    assert webhook_receiver.wait_for(1)
    body = webhook_receiver.requests[0].json
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == render(event).subject
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Council"] == "Southend-on-Sea"
    assert card["actions"][0]["url"] == "https://www.southend.gov.uk/news/ofsted-2024"
    assert body == json.loads(json.dumps(teams_body(event, render(event))))


def test_standard_body_treats_naive_timestamps_as_utc() -> None:
    event = source_event()
    naive = type(event)(event.type, event.key, datetime(2024, 1, 2, 3, 4, 5), source_name="x")
    assert standard_body(naive)["timestamp"] == "2024-01-02T03:04:05+00:00"


def test_webhook_config_is_validated_and_described_without_secrets() -> None:
    with pytest.raises(ConfigError, match="format must be one of"):
        hook("https://hooks.example.org/x", fmt="discord")
    with pytest.raises(ConfigError, match="needs url"):
        build_channel(ChannelConfig(name="ops", kind="webhook"))
    channel = hook("https://hooks.slack.com/services/T000/B000/XXXX", fmt="slack")
    assert "XXXX" not in channel.describe() and SECRET not in channel.describe()
    assert "hooks.slack.com" in channel.describe()
    assert CHANNELS["webhook"] is WebhookChannel


def test_slack_folds_grade_rows_rather_than_lose_the_status() -> None:
    areas = ("help_and_protection", "children_in_care", "care_leavers", "leaders")
    many = ilacs_outcome(
        framework="SIF",
        judgements=tuple((a, "good") for a in (*areas, "adoption", "lscb", "permanence")),
    )
    event = outcome_event("outcome.new", many)
    fields = slack_body(event, render(event))["blocks"][1]["fields"]
    texts = [f["text"] for f in fields]
    assert len(fields) <= 10
    assert any(t.startswith("*Status*") for t in texts)
    assert any(t.startswith("*Judgements*") and "Overall effectiveness" in t for t in texts)
    few = fit_fields([("Council", "Essex"), ("Overall", "Good")], 10)
    assert few == [("Council", "Essex"), ("Overall", "Good")]
