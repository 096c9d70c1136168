"""A loopback HTTP server that fake providers build on, with faults that can be injected per request.

The fakes serve made-up schools (`missync.sample`) the way the real APIs do, so the clients are tested
over real HTTP without the internet. Bound to 127.0.0.1 on a free port, in a daemon thread:

    with FakeWonde(school) as wonde:
        read_wonde(wonde.school_id, wonde.token, base_url=wonde.base_url)

A `Fault` makes matching requests fail the way real providers do: an HTTP status (401, 403, 404, 429 with
Retry-After, 500), a connection dropped half way through the answer, a slow answer, or (for list pages)
broken paging. Used by the tests and by `missync demo`, so nothing here imports pytest.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

FaultKind = Literal[
    "401",
    "403",
    "404",
    "429",
    "500",
    "drop",  # the connection closes half way through the answer
    "slow",  # the answer starts after `delay` seconds
    "foreign_next",  # a list page's next link points to another host
    "no_next",  # a list page says there is more but gives no next link
    "skip_page",  # a list page's next link skips a page
    "repeat_record",  # a list page repeats the previous page's last record (offsets shifted)
    "wrong_total",  # a list page announces a different total than the first page
]
STATUS_FAULTS = frozenset({"401", "403", "404", "429", "500"})


@dataclass
class Fault:
    """One injected failure: which requests it hits (path substring, list page), how often, and how.

    `page` is the 1-based page of a list (None: any request); `times` how many requests it hits (None:
    every one). `retry_after` is sent with a 429 (and 500 when set); `delay` is how long "slow" waits.
    """

    kind: FaultKind
    path: str = ""
    page: int | None = None
    times: int | None = 1
    retry_after: str | None = "1"
    delay: float = 2.0
    detail: str = ""
    hits: int = 0

    def matches(self, path: str, page: int | None) -> bool:
        """True when this fault should hit a request for `path` (and list page `page`)."""
        if self.times is not None and self.hits >= self.times:
            return False
        return self.path in path and (self.page is None or self.page == page)


@dataclass
class FakeRequest:
    """A request as the fake sees it: method, path, last value of each query parameter, headers, JSON."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    raw_body: bytes = b""
    fault: Fault | None = None  # a paging fault for the provider to apply to this list page


@dataclass
class FakeResponse:
    """What the fake answers: status, a JSON body (or None) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider:
    """Base of the fake providers: the server, the request log and the faults. Subclasses answer."""

    name = "fake"
    base_path = ""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeProvider:
        """Start serving on 127.0.0.1 on a free port (idempotent)."""
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"provider": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(target=server.serve_forever, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, self._server = self._server, None
        self._stopping.set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT"""
        if self._server is None:
            raise RuntimeError(f"the {self.name} fake is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The API's base URL, as a connection is registered with."""
        return self.origin + self.base_path

    # -- faults ------------------------------------------------------------------------------------
    def inject(self, kind: FaultKind, path: str = "", **options: Any) -> Fault:
        """Add a fault (see `Fault`) and return it."""
        fault = Fault(kind, path, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self.faults.clear()

    def _take_fault(self, path: str, page: int | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(path, page):
                    fault.hits += 1
                    return fault
        return None

    def request_count(self, path: str = "") -> int:
        """How many requests were made (whose path contains `path`)."""
        with self._lock:
            return sum(1 for _, requested in self.requests if path in requested)

    # -- for subclasses ----------------------------------------------------------------------------
    def page_of(self, request: FakeRequest) -> int | None:
        """The 1-based list page a request asks for, or None when it is not a list request."""
        return None

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request (no fault applied yet to status or connection)."""
        raise NotImplementedError

    def error_body(self, status: int, fault: Fault) -> Any:
        """The JSON body of an injected error answer."""
        return {"error": fault.detail or f"HTTP {status}"}

    # -- called by the handler ---------------------------------------------------------------------
    def respond(self, request: FakeRequest) -> tuple[FakeResponse, Fault | None]:
        """Apply faults and answer: the response, and the connection fault (drop/slow) to apply."""
        with self._lock:
            self.requests.append((request.method, request.path))
        try:
            page = self.page_of(request)
        except ValueError:
            return FakeResponse(400, {"error": "bad paging parameters"}), None
        fault = self._take_fault(request.path, page)
        if fault is not None and fault.kind in STATUS_FAULTS:
            status = int(fault.kind)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after and status in (429, 500) else {}
            return FakeResponse(status, self.error_body(status, fault), headers), None
        if fault is not None and fault.kind not in ("drop", "slow"):
            request.fault = fault
            fault = None
        try:
            return self.handle(request), fault
        except Exception as error:  # a bug in a fake must show as a 500, not hang the client
            return FakeResponse(500, {"error": f"fake {self.name} failed: {type(error).__name__}"}), None

    def wait(self, seconds: float) -> None:
        """Sleep for a slow answer, waking early when the server stops."""
        self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    provider: FakeProvider
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo print enough
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        request = FakeRequest(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {key.lower(): value for key, value in self.headers.items()},
            body,
            raw,
        )
        response, fault = self.provider.respond(request)
        payload = b"" if response.body is None else json.dumps(response.body).encode("utf-8")
        if fault is not None and fault.kind == "slow":
            self.provider.wait(fault.delay)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault is not None and fault.kind == "drop":
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(payload)
        except OSError:  # the client gave up (a timeout): nothing more to say
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _serve
