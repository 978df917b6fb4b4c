"""Real local alert receivers for the demo and the tests: an SMTP sink and a webhook receiver.

Both listen on 127.0.0.1, record what arrives, let callers wait on a condition instead of sleeping,
and can be scripted to fail (SMTP 451/550 replies; HTTP statuses, Retry-After and slow answers).
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from alerts.webhooks import verify

logger = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago; aiosmtpd's Controller cannot bind port 0 itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message with its envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    login: str | None
    encrypted: bool


class _SinkHandler:
    """aiosmtpd handler hooks; the sink owns the state."""

    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.sink.requires_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        scripted = self.sink.next_reply("rcpt")
        if scripted:
            return scripted
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self.sink.next_reply("data")
        if scripted:
            return scripted
        self.sink.accept(server, session, envelope)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts, in order.

    `tls` is "none", "starttls" (offered and required) or "ssl" (implicit TLS, as smtps://);
    both TLS modes need `tls_context`, a server-side SSLContext holding a certificate.
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        tls: str = "none",
        tls_context: ssl.SSLContext | None = None,
    ):
        if tls not in ("none", "starttls", "ssl") or (tls != "none") != (tls_context is not None):
            raise ValueError("tls must be none, or starttls/ssl together with a tls_context")
        self.host = host
        self.tls, self._tls_context = tls, tls_context
        self.port = free_port(host)
        self._credentials = (username, password) if username is not None else None
        self._received: list[ReceivedMail] = []
        self._replies: dict[str, deque[str]] = {"rcpt": deque(), "data": deque()}
        self._cond = threading.Condition()
        self._controller = Controller(_SinkHandler(self), **self._server_options())
        self._running = False

    def _server_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.tls == "ssl":
            options["ssl_context"] = self._tls_context
        elif self.tls == "starttls":
            options.update(tls_context=self._tls_context, require_starttls=True)
        if self._credentials is not None:
            # Plain AUTH over loopback is fine for tests; aiosmtpd insists on TLS unless told.
            # Its own auth_required flag warns without TLS, so handle_MAIL enforces AUTH instead.
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        return options

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self._credentials is None:
            return AuthResult(success=False, handled=False)
        user, password = self._credentials
        given = (auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8"))
        ok = given == (user, password)
        return AuthResult(success=ok, handled=False, auth_data=given[0] if ok else None)

    @property
    def requires_auth(self) -> bool:
        return self._credentials is not None

    def start(self) -> SmtpSink:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.tls == "ssl":
            return f"smtps://{self.host}:{self.port}"
        query = "?starttls=true" if self.tls == "starttls" else ""
        return f"smtp://{self.host}:{self.port}{query}"

    def fail_next(self, reply: str, *, stage: str = "data", times: int = 1) -> None:
        """Answer the next `times` RCPT or DATA commands with `reply`, e.g. "451 4.3.0 Busy"."""
        with self._cond:
            self._replies[stage].extend([reply] * times)

    def next_reply(self, stage: str) -> str | None:
        with self._cond:
            queue = self._replies[stage]
            return queue.popleft() if queue else None

    def accept(self, server: SMTP, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        transport = server.transport
        encrypted = transport is not None and transport.get_extra_info("ssl_object") is not None
        mail = ReceivedMail(
            envelope.mail_from or "", tuple(envelope.rcpt_tos), parsed, login, encrypted
        )
        with self._cond:
            self._received.append(mail)
            self._cond.notify_all()
        logger.info(
            "smtp sink accepted to=%s subject=%r", ",".join(mail.rcpt_tos), parsed["subject"]
        )

    @property
    def received(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least `n` messages have arrived; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._received) >= n, timeout)


# --- webhook ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `delay` holds the reply back, to force a client timeout."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    verified: bool | None
    status: int


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records webhook POSTs and answers from a script."""

    def __init__(self, *, secret: str | None = None, host: str = "127.0.0.1"):
        self.secret = secret
        self._requests: list[ReceivedRequest] = []
        self._script: deque[Reply] = deque()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._server.daemon_threads = True
        # A short poll interval keeps stop() quick; shutdown waits for one poll to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *replies: int | Reply) -> None:
        """Queue answers for the next requests, e.g. script(500, 500, 200); then 200 for all."""
        with self._cond:
            self._script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def mend(self) -> None:
        """Drop the answers still queued: from now on every request gets 200."""
        with self._cond:
            self._script.clear()

    def next_reply(self) -> Reply:
        with self._cond:
            return self._script.popleft() if self._script else Reply()

    def check_signature(self, headers: dict[str, str], body: bytes) -> bool | None:
        if self.secret is None:
            return None
        return verify(
            self.secret,
            headers.get("webhook-id", ""),
            headers.get("webhook-timestamp", ""),
            body,
            headers.get("webhook-signature", ""),
        )

    def record(self, request: ReceivedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
        logger.info(
            "webhook receiver got id=%s status=%s verified=%s",
            request.headers.get("webhook-id"),
            request.status,
            request.verified,
        )

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least `n` requests have arrived; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    def wait_stopping(self, seconds: float) -> bool:
        return self._stopping.wait(seconds)


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _make_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = receiver.check_signature(headers, body)
            # A bad signature is refused the way a real receiver would refuse it.
            reply = (
                Reply(401, body=b"bad signature") if verified is False else receiver.next_reply()
            )
            receiver.record(
                ReceivedRequest(self.path, headers, body, _parse_json(body), verified, reply.status)
            )
            if reply.delay and receiver.wait_stopping(reply.delay):
                self.close_connection = True
                return
            self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up waiting (a scripted delay); nothing is left to answer.
                self.close_connection = True

    return Handler
