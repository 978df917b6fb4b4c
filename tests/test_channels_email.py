"""EmailChannel against a real local SMTP server (scheduler.demo.receivers.SmtpSink)."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.channels import CHANNELS, EmailChannel, build_channel, mail_domain, parse_smtp_url
from alerts.config import ChannelConfig
from alerts.render import render
from crawler.errors import ConfigError
from crawler.records import ChangeEvent
from scheduler.demo.receivers import SmtpSink, free_port
from tests.test_render import ilacs_outcome, outcome_event

USER, PASSWORD = "alerts", "s3cret-pass"


@pytest.fixture
def auth_sink() -> Iterator[SmtpSink]:
    with SmtpSink(username=USER, password=PASSWORD) as server:
        yield server


def email_config(smtp_url: str, **extra: object) -> ChannelConfig:
    return ChannelConfig(
        name="comms",
        kind="email",
        smtp_url=smtp_url,
        sender="ofsted-watch@example.org",
        to=("comms@example.org", "press@example.org"),
        timeout_seconds=5.0,
        **extra,  # type: ignore[arg-type]
    )


def channel_for(server: SmtpSink, **extra: object) -> EmailChannel:
    channel = build_channel(email_config(server.url, **extra))
    assert isinstance(channel, EmailChannel)
    return channel


def test_sends_multipart_alternative_with_text_and_html(smtp_sink: SmtpSink) -> None:
    event = outcome_event()
    result = channel_for(smtp_sink).send(event, message_key="k-1")
    assert result.ok and result.code == "250" and not result.dry_run
    assert smtp_sink.wait_for(1)
    mail = smtp_sink.received[0]
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == render(event).subject
    assert msg["From"] == "ofsted-watch@example.org"
    assert set(mail.rcpt_tos) == {"comms@example.org", "press@example.org"}
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    assert "Help and protection" in text.get_content()
    assert "<table" in html.get_content()


def test_message_id_is_stable_for_the_same_key(smtp_sink: SmtpSink) -> None:
    channel = channel_for(smtp_sink)
    for key in ("evt-42", "evt-42", "evt-43"):
        assert channel.send(outcome_event(), message_key=key).ok
    assert smtp_sink.wait_for(3)
    ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert ids[0] == ids[1] == "<evt-42@example.org>"
    assert ids[2] == "<evt-43@example.org>"


def test_mail_about_one_inspection_threads_and_says_it_is_automatic(smtp_sink: SmtpSink) -> None:
    channel = channel_for(smtp_sink)
    reported = outcome_event("outcome.changed", key="outcome.changed:7")
    confirmed = outcome_event("outcome.confirmed", ilacs_outcome(status="confirmed"))
    confirmed = replace(confirmed, key="outcome.confirmed:7")
    other = outcome_event("outcome.new", key="outcome.new:8")
    for number, event in enumerate((reported, confirmed, other)):
        assert channel.send(event, message_key=f"m{number}").ok
    assert smtp_sink.wait_for(3)
    first, second, third = smtp_sink.messages
    assert first["References"] == second["In-Reply-To"] == "<inspection-event-7@example.org>"
    assert third["References"] != first["References"]
    assert all(m["Auto-Submitted"] == "auto-generated" for m in smtp_sink.messages)
    notice = ChangeEvent("source.failing", "source.failing:x", datetime.now(UTC), source_name="x")
    assert channel.send(notice, message_key="m3").ok and smtp_sink.wait_for(4)
    assert smtp_sink.messages[3]["References"] is None


def test_message_ids_use_the_senders_domain() -> None:
    assert mail_domain("Comms Alerts <alerts@Essex.gov.uk>") == "essex.gov.uk"
    assert mail_domain("not an address") == "ofsted-watch"


def test_scraped_text_arrives_escaped_in_the_html_part(smtp_sink: SmtpSink) -> None:
    outcome = ilacs_outcome(evidence=("<script>steal()</script>",))
    assert channel_for(smtp_sink).send(outcome_event(outcome=outcome), message_key="x").ok
    assert smtp_sink.wait_for(1)
    html = smtp_sink.messages[0].get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "<script>" not in body and "&lt;script&gt;steal()&lt;/script&gt;" in body


def test_logs_in_when_a_username_is_set(auth_sink: SmtpSink) -> None:
    channel = channel_for(auth_sink, username=USER, password=PASSWORD)
    assert channel.send(outcome_event(), message_key="auth").ok
    assert auth_sink.wait_for(1)
    assert auth_sink.received[0].login == USER


def test_wrong_password_is_a_permanent_failure(auth_sink: SmtpSink) -> None:
    result = channel_for(auth_sink, username=USER, password="nope").send(
        outcome_event(), message_key="auth"
    )
    assert not result.ok and result.permanent and result.code == "535"
    assert auth_sink.received == []


def test_server_requiring_auth_refuses_anonymous_mail(auth_sink: SmtpSink) -> None:
    result = channel_for(auth_sink).send(outcome_event(), message_key="anon")
    assert not result.ok and result.code == "530" and result.permanent


def test_550_recipient_refusal_is_permanent(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next("550 5.1.1 No such mailbox", stage="rcpt", times=2)
    result = channel_for(smtp_sink).send(outcome_event(), message_key="r")
    assert not result.ok and result.code == "550" and result.permanent
    assert result.error and "\n" not in result.error


def test_451_is_transient_and_the_next_attempt_succeeds(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next("451 4.3.0 Try again later")
    channel = channel_for(smtp_sink)
    first = channel.send(outcome_event(), message_key="retry")
    assert not first.ok and first.code == "451" and not first.permanent
    second = channel.send(outcome_event(), message_key="retry")
    assert second.ok
    assert smtp_sink.wait_for(1)
    assert [m["Message-ID"] for m in smtp_sink.messages] == ["<retry@example.org>"]


def test_connection_refused_is_a_result_not_an_exception() -> None:
    cfg = email_config(f"smtp://127.0.0.1:{free_port()}")
    result = build_channel(cfg).send(outcome_event(), message_key="down")
    assert not result.ok and result.code == "connect" and not result.permanent
    assert result.latency_ms >= 0


def test_dry_run_renders_but_sends_nothing(smtp_sink: SmtpSink) -> None:
    channel = channel_for(smtp_sink)
    dry = channel.send(outcome_event(), message_key="dry", dry_run=True)
    assert dry.ok and dry.dry_run
    # A real send afterwards is the only message: the dry run never reached the server.
    assert channel.send(outcome_event(), message_key="real").ok
    assert smtp_sink.wait_for(1)
    assert [m["Message-ID"] for m in smtp_sink.messages] == ["<real@example.org>"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org:2525", ("mail.example.org", 2525, "plain")),
        ("smtp://mail.example.org:587?starttls=true", ("mail.example.org", 587, "starttls")),
        ("smtps://mail.example.org", ("mail.example.org", 465, "ssl")),
        ("smtp://mail.example.org", ("mail.example.org", 25, "plain")),
    ],
)
def test_smtp_url_schemes(url: str, expected: tuple[str, int, str]) -> None:
    assert parse_smtp_url(url) == expected


def test_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="smtp://host:port"):
        build_channel(email_config("http://mail.example.org"))
    with pytest.raises(ConfigError, match="unknown kind 'pigeon'"):
        build_channel(ChannelConfig(name="x", kind="pigeon"))


def test_describe_names_recipients_but_no_password() -> None:
    channel = build_channel(email_config("smtp://mail.example.org:25", username="u", password="pw"))
    assert "comms@example.org" in channel.describe()
    assert "pw" not in channel.describe()
    assert CHANNELS["email"] is EmailChannel
    assert EmailChannel.__doc__ and "\n" not in EmailChannel.__doc__.strip()


# --- TLS -------------------------------------------------------------------------------------


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a throwaway 127.0.0.1 certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def tls_channel(smtp_sink: SmtpSink, client: ssl.SSLContext | None) -> EmailChannel:
    host, port, security = parse_smtp_url(smtp_sink.url)
    return EmailChannel(
        "tls",
        host=host,
        port=port,
        security=security,
        sender="ofsted-watch@example.org",
        to=("comms@example.org",),
        username=USER,
        password=PASSWORD,
        timeout=5.0,
        ssl_context=client,
    )


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_encrypt_and_log_in(tmp_path: Path, mode: str) -> None:
    server_ctx, client_ctx = self_signed(tmp_path)
    with SmtpSink(username=USER, password=PASSWORD, tls=mode, tls_context=server_ctx) as smtp_sink:
        result = tls_channel(smtp_sink, client_ctx).send(outcome_event(), message_key=mode)
        assert result.ok, result.error
        assert smtp_sink.wait_for(1)
        assert smtp_sink.received[0].encrypted and smtp_sink.received[0].login == USER


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    server_ctx, _ = self_signed(tmp_path)
    with SmtpSink(tls="ssl", tls_context=server_ctx) as smtp_sink:
        # The default context trusts only public CAs, so the self-signed server must fail.
        result = tls_channel(smtp_sink, None).send(outcome_event(), message_key="untrusted")
        assert not result.ok and result.code == "tls"
        assert smtp_sink.received == []


@pytest.mark.parametrize("areas", [1, 2])
def test_long_subjects_arrive_exactly_as_rendered(smtp_sink: SmtpSink, areas: int) -> None:
    previous = ilacs_outcome(judgements={"leaders": "requires_improvement", "care_leavers": "good"})
    changed = {"leaders": "good", "care_leavers": "outstanding" if areas == 2 else "good"}
    event = outcome_event(outcome=ilacs_outcome(judgements=changed), previous=previous)
    expected = render(event).subject
    assert len(expected) > 78
    assert channel_for(smtp_sink).send(event, message_key="long").ok and smtp_sink.wait_for(1)
    assert smtp_sink.messages[0]["Subject"] == expected
