"""Alert channels: the CHANNELS registry, EmailChannel (SMTP) and WebhookChannel (HTTP POST).

`send` reports every delivery failure as a DeliveryResult and never raises for one; retrying and
falling back are the caller's business, guided by `permanent` and `retry_after`.
"""

from __future__ import annotations

import email.policy
import json
import logging
import smtplib
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from alerts.config import ChannelConfig
from alerts.render import RenderedMessage, render
from alerts.webhooks import FORMATS, build_body, sign
from crawler.errors import ConfigError
from crawler.httpdates import parse_retry_after
from crawler.records import ChangeEvent, DeliveryResult

logger = logging.getLogger(__name__)
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)

USER_AGENT = "ofsted-watch/0.1"
# Keys every `[[channel]]` table may carry; each channel class adds its own (KEYS).
COMMON_CHANNEL_KEYS = (
    "name",
    "kind",
    "events",
    "authorities",
    "regions",
    "min_confidence",
    "timeout",
    "digest",
    "timezone",
)
_MSGID_UNSAFE = str.maketrans({c: "-" for c in ' \t\r\n<>@"\\()[],;'})


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Channel(ABC):
    """Base of every alert channel kind."""

    kind: ClassVar[str]
    KEYS: ClassVar[tuple[str, ...]]  # the config keys only this kind takes

    @classmethod
    def all_keys(cls) -> tuple[str, ...]:
        return (*COMMON_CHANNEL_KEYS, *cls.KEYS)

    def __init__(self, name: str):
        self.name = name

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: ChannelConfig) -> Self:
        """Build the channel from its validated `[[channel]]` table."""

    @abstractmethod
    def describe(self) -> str:
        """Where alerts go (recipients or URL), without secrets."""

    def render(self, event: ChangeEvent) -> RenderedMessage:
        return render(event)

    @abstractmethod
    def send(
        self, event: ChangeEvent, *, message_key: str, dry_run: bool = False
    ) -> DeliveryResult:
        """Deliver one alert; failures come back as a DeliveryResult, not as exceptions."""

    def _dry_run(self, event: ChangeEvent, message_key: str) -> DeliveryResult:
        message = self.render(event)
        logger.info(
            "dry run channel=%s kind=%s key=%s to=%s subject=%r\n%s",
            self.name,
            self.kind,
            message_key,
            self.describe(),
            message.subject,
            message.text,
        )
        return DeliveryResult(self.name, ok=True, recipient=self.describe(), dry_run=True)


# --- email -----------------------------------------------------------------------------------


class EmailChannel(Channel):
    """Send each alert as a text-and-HTML email through an SMTP server."""

    kind = "email"
    KEYS = ("smtp", "username", "password", "from", "to")

    def __init__(
        self,
        name: str,
        *,
        host: str,
        port: int,
        security: str,
        sender: str,
        to: tuple[str, ...],
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        super().__init__(name)
        self.host, self.port, self.security = host, port, security
        self.sender, self.to = sender, to
        self.username, self.password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context

    @classmethod
    def from_config(cls, cfg: ChannelConfig) -> Self:
        if not cfg.smtp_url or not cfg.sender or not cfg.to:
            raise ConfigError(f"channel {cfg.name}: an email channel needs smtp, from and to")
        host, port, security = parse_smtp_url(cfg.smtp_url, cfg.name)
        return cls(
            cfg.name,
            host=host,
            port=port,
            security=security,
            sender=cfg.sender,
            to=cfg.to,
            username=cfg.username,
            password=cfg.password,
            timeout=cfg.timeout_seconds,
        )

    def describe(self) -> str:
        return f"{', '.join(self.to)} via {self.host}:{self.port} ({self.security})"

    def build_message(self, event: ChangeEvent, message_key: str) -> EmailMessage:
        """The MIME message: multipart/alternative with text first and HTML second."""
        rendered = self.render(event)
        # Python folds some long subjects right after "Subject:", which clients then show with a
        # leading space; RFC 5322 allows lines up to 998 characters, so fold only past that.
        msg = EmailMessage(policy=UNFOLDED)
        msg["Subject"] = rendered.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = format_datetime(datetime.now(UTC))
        domain = mail_domain(self.sender)
        msg["Message-ID"] = message_id(message_key, domain)
        thread = thread_id(event, domain)
        if thread is not None:
            msg["In-Reply-To"] = msg["References"] = thread
        # RFC 3834: tells mail servers and people's rules not to answer or bounce-loop on it.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Ofsted-Watch-Event"] = event.type
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        return msg

    def send(
        self, event: ChangeEvent, *, message_key: str, dry_run: bool = False
    ) -> DeliveryResult:
        if dry_run:
            return self._dry_run(event, message_key)
        msg = self.build_message(event, message_key)
        started = time.perf_counter()
        try:
            refused = self._deliver(msg)
        except (smtplib.SMTPException, OSError) as exc:
            result = self._failure(exc, _elapsed_ms(started))
            logger.warning(
                "email failed channel=%s key=%s code=%s permanent=%s error=%s",
                self.name,
                message_key,
                result.code,
                result.permanent,
                result.error,
            )
            return result
        latency = _elapsed_ms(started)
        logger.info(
            "email sent channel=%s key=%s to=%s latency_ms=%.0f",
            self.name,
            message_key,
            len(self.to),
            latency,
        )
        error = f"some recipients refused: {_one_line(refused)}" if refused else None
        return DeliveryResult(
            self.name, True, ", ".join(self.to), code="250", error=error, latency_ms=latency
        )

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=context)
            except (smtplib.SMTPException, OSError):
                smtp.close()
                raise
        return smtp

    def _deliver(self, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        with self._connect() as smtp:
            if self.username:
                smtp.login(self.username, self.password or "")
            return smtp.send_message(msg, self.sender, list(self.to))

    def _failure(self, exc: Exception, latency: float) -> DeliveryResult:
        code, permanent = smtp_failure_code(exc)
        return DeliveryResult(
            self.name,
            False,
            ", ".join(self.to),
            code=code,
            error=_one_line(f"{type(exc).__name__}: {exc}"),
            latency_ms=latency,
            permanent=permanent,
        )


def message_id(message_key: str, domain: str = "ofsted-watch") -> str:
    """`<key@domain>`, with characters that would break the header replaced by '-'."""
    return f"<{message_key.translate(_MSGID_UNSAFE)}@{domain}>"


def mail_domain(sender: str) -> str:
    """The domain of the `from` address, so Message-IDs are unique to the sender's site."""
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    domain = domain.strip().lower().translate(_MSGID_UNSAFE)
    return domain if at and domain else "ofsted-watch"


def thread_id(event: ChangeEvent, domain: str) -> str | None:
    """One made-up parent per inspection event, so the reported, confirmed and mismatch mails
    about it thread together in any client that follows References."""
    parts = event.key.split(":")
    if event.outcome is None or len(parts) < 2 or not parts[1].isdigit():
        return None
    return f"<inspection-event-{parts[1]}@{domain}>"


def parse_smtp_url(url: str, channel: str = "?") -> tuple[str, int, str]:
    """(host, port, security) from smtp://h:p, smtp://h:p?starttls=true or smtps://h:p."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            f"channel {channel}: smtp must look like smtp://host:port, "
            f"smtp://host:port?starttls=true or smtps://host:port (got {url!r})"
        )
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "false") in ("true", "1", "yes", "on")
    security = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "plain"
    try:
        port = parts.port or (465 if security == "ssl" else 587 if starttls else 25)
    except ValueError as exc:
        raise ConfigError(f"channel {channel}: bad smtp port in {url!r}") from exc
    return parts.hostname, port, security


def smtp_failure_code(exc: Exception) -> tuple[str, bool]:
    """(code, permanent) for an SMTP failure: reply codes, or 'timeout', 'connect', 'tls'."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [0]
        return str(codes[0]), all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(exc.smtp_code), 500 <= exc.smtp_code < 600
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks AUTH or STARTTLS: only a config change can fix that.
        return "unsupported", True
    if isinstance(exc, TimeoutError):
        return "timeout", False
    if isinstance(exc, ssl.SSLError):
        return "tls", False
    return "connect", False


# --- webhook ---------------------------------------------------------------------------------


class WebhookChannel(Channel):
    """POST each alert as signed JSON (Standard Webhooks, Slack or Teams format) to a URL."""

    kind = "webhook"
    KEYS = ("url", "format", "secret", "headers")

    def __init__(
        self,
        name: str,
        *,
        url: str,
        fmt: str = "standard",
        secret: str | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        super().__init__(name)
        self.url, self.format, self.secret = url, fmt, secret
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.transport = transport

    @classmethod
    def from_config(cls, cfg: ChannelConfig) -> Self:
        if not cfg.url:
            raise ConfigError(f"channel {cfg.name}: a webhook channel needs url")
        if urlsplit(cfg.url).scheme not in ("http", "https"):
            raise ConfigError(f"channel {cfg.name}: url must start with https:// or http://")
        if cfg.format not in FORMATS:
            raise ConfigError(f"channel {cfg.name}: format must be one of {', '.join(FORMATS)}")
        return cls(
            cfg.name,
            url=cfg.url,
            fmt=cfg.format,
            secret=cfg.secret,
            timeout=cfg.timeout_seconds,
            headers=dict(cfg.headers),
        )

    def describe(self) -> str:
        parts = urlsplit(self.url)
        # Slack and Teams put their credentials in the path, so only the host is shown.
        signed = ", signed" if self.secret else ""
        return f"{parts.scheme}://{parts.netloc}/… ({self.format}{signed})"

    def body(self, event: ChangeEvent) -> dict[str, Any]:
        return build_body(self.format, event, self.render(event))

    def request_headers(self, message_key: str, body: bytes) -> dict[str, str]:
        stamp = int(time.time())
        headers = {
            **self.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_key,
            "webhook-timestamp": str(stamp),
        }
        if self.secret:
            headers["webhook-signature"] = sign(self.secret, message_key, stamp, body)
        return headers

    def send(
        self, event: ChangeEvent, *, message_key: str, dry_run: bool = False
    ) -> DeliveryResult:
        payload = json.dumps(self.body(event), ensure_ascii=False, separators=(",", ":"))
        if dry_run:
            return self._dry_run(event, message_key)
        data = payload.encode("utf-8")
        started = time.perf_counter()
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(
                    self.url, content=data, headers=self.request_headers(message_key, data)
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return self._log(message_key, self._transport_failure(exc, _elapsed_ms(started)))
        return self._log(message_key, self._result(response, _elapsed_ms(started)))

    def _result(self, response: httpx.Response, latency: float) -> DeliveryResult:
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult(self.name, True, self.describe(), str(status), latency_ms=latency)
        return DeliveryResult(
            self.name,
            False,
            self.describe(),
            code=str(status),
            error=_one_line(f"HTTP {status} {response.reason_phrase}: {response.text}"),
            latency_ms=latency,
            permanent=http_status_is_permanent(status),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    def _transport_failure(self, exc: Exception, latency: float) -> DeliveryResult:
        if isinstance(exc, httpx.TimeoutException):
            code, permanent = "timeout", False
        elif isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            code, permanent = "config", True
        elif isinstance(exc, httpx.ConnectError):
            code, permanent = "connect", False
        else:
            code, permanent = "network", False
        return DeliveryResult(
            self.name,
            False,
            self.describe(),
            code=code,
            error=_one_line(f"{type(exc).__name__}: {exc}"),
            latency_ms=latency,
            permanent=permanent,
        )

    def _log(self, message_key: str, result: DeliveryResult) -> DeliveryResult:
        level = logging.INFO if result.ok else logging.WARNING
        logger.log(
            level,
            "webhook %s channel=%s key=%s code=%s permanent=%s latency_ms=%.0f error=%s",
            "sent" if result.ok else "failed",
            self.name,
            message_key,
            result.code,
            result.permanent,
            result.latency_ms,
            result.error,
        )
        return result


def http_status_is_permanent(status: int) -> bool:
    """4xx will not get better by retrying, except 408 (timeout) and 429 (rate limit)."""
    return 400 <= status < 500 and status not in (408, 429)


CHANNELS: dict[str, type[Channel]] = {"email": EmailChannel, "webhook": WebhookChannel}


def build_channel(cfg: ChannelConfig) -> Channel:
    """The channel object for one `[[channel]]` table, looked up by its kind."""
    try:
        channel_class = CHANNELS[cfg.kind]
    except KeyError:
        raise ConfigError(
            f"channel {cfg.name}: unknown kind {cfg.kind!r}; valid kinds: {', '.join(CHANNELS)}"
        ) from None
    return channel_class.from_config(cfg)
