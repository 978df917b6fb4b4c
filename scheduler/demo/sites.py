"""A real HTTP server on 127.0.0.1 that serves in-memory pages, for the demo and the tests.

It speaks enough HTTP to exercise a polite crawler: ETag and Last-Modified with 304 answers,
gzip when asked, robots.txt, and per-route failures (a status code, a Retry-After, a hang).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    """One path's answer. `hang` seconds delay the reply (a hung site)."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    modified: float = 1_700_000_000.0

    # Computed once per route: the benchmark serves 2,000 pages many times over, and hashing or
    # compressing on every request would make the server, not the crawler, the bottleneck.
    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, compresslevel=6)


class SiteServer:
    """Serve `routes` (path -> Route) on an ephemeral port until stop(). Thread-safe updates."""

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def put(self, path: str, body: bytes | str, **route: Any) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.routes[path] = Route(data, **route)

    def remove(self, path: str) -> None:
        with self._lock:
            self.routes.pop(path, None)

    def route(self, path: str) -> Route | None:
        with self._lock:
            return self.routes.get(path)

    def log(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for _, p, _ in self.requests if p == path)

    def wait_stopping(self, seconds: float) -> bool:
        return self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK would
    # stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True
    site: SiteServer

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def do_GET(self) -> None:
        site = self.site
        site.log("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        route = site.route(self.path.split("#")[0])
        if route is None:
            self._send(404, b"not found", "text/plain", {})
            return
        if route.hang and site.wait_stopping(route.hang):
            return
        if route.status != 200:
            self._send(route.status, route.body, route.content_type, route.headers)
            return
        self._send_page(route)

    def _send_page(self, route: Route) -> None:
        modified = formatdate(route.modified, usegmt=True)
        validators = {"ETag": route.etag, "Last-Modified": modified}
        if self._not_modified(route, modified):
            self._send(304, b"", route.content_type, {**validators, **route.headers})
            return
        body, headers = route.body, {**validators, **route.headers}
        if "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 512:
            body, headers["Content-Encoding"] = route.gzipped, "gzip"
        self._send(200, body, route.content_type, headers)

    def _not_modified(self, route: Route, modified: str) -> bool:
        if self.headers.get("If-None-Match"):
            return self.headers["If-None-Match"] == route.etag
        return self.headers.get("If-Modified-Since") == modified

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", "0" if status == 304 else str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


def _make_handler(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    return type("SiteHandler", (_Handler,), {"site": site})
