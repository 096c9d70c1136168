"""What every live provider client shares: one httpx client with timeouts, retries and clear failures.

Every failure becomes one `SourceError` line a school administrator understands, saying that nothing
was changed: a read that stops half way must never become a roster (a partial roster would make leavers
of everyone not yet read). 429 and 5xx answers and dropped connections are retried with exponential
backoff, honouring `Retry-After`; `sleep` is injectable so tests do not wait. The network sits behind an
injectable httpx `transport` (tests use `httpx.MockTransport` or a fake provider on loopback).

Tokens and people's names never reach the log: requests are logged by method, path and status only.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from missync.core.roster import SourceError

log = logging.getLogger(__name__)

# (what is being read, records read so far, records expected or 0 when unknown)
Progress = Callable[[str, int, int], None]

NOTHING_CHANGED = "nothing was changed"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_MAX_DETAIL = 160  # characters of a provider's own error text quoted in a message


@dataclass
class ReadStats:
    """What one read cost: the requests sent (retries included) and the records read."""

    requests: int = 0
    records: int = 0


@dataclass
class HttpOptions:
    """How a client talks to a provider. The defaults suit a real provider over the internet."""

    transport: httpx.BaseTransport | None = None
    timeout: float = 60.0  # seconds to wait for an answer (each read of the socket)
    connect_timeout: float = 15.0
    retries: int = 4  # further attempts after a 429, a 5xx or a dropped connection
    backoff: float = 1.0  # first wait in seconds; doubles with each attempt
    max_wait: float = 300.0  # a Retry-After longer than this gives up instead of waiting
    sleep: Callable[[float], None] = time.sleep
    progress: Progress | None = None
    stats: ReadStats = field(default_factory=ReadStats)


def check_base_url(url: str, provider: str) -> str:
    """Return the URL without a trailing slash; refuse anything but https (plain http only on loopback).

    A token sent over plain http could be read on the way, so only a local fake provider may use it.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{provider}: {url!r} is not a web address: expected https://host/...")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise SourceError(
            f"{provider}: {parts.hostname} must be reached over https, not http, so the token stays secret"
        )
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Reading:
    """What a request is part of, for messages: "pupils", and how many records were read before it."""

    what: str
    records: int = 0
    permission: str = ""  # the permission the request needs, named in a 403 message


class ProviderClient:
    """An httpx client for one provider, counting its requests in `options.stats`.

    `provider` names it in messages ("Wonde"); `reconnect` says how to register a new token or secret.
    `reauthorise`, when given, is called once after a 401 to fetch a fresh token (an expired OAuth2 token
    mid-read) and returns the new headers; a second 401 is final.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        options: HttpOptions | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        reconnect: str = "",
        reauthorise: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = check_base_url(base_url, provider)
        self.options = options or HttpOptions()
        self.reconnect = reconnect or f"register the connection to {provider} again with the new details"
        self.reauthorise = reauthorise
        timeout = httpx.Timeout(self.options.timeout, connect=self.options.connect_timeout)
        self._client = httpx.Client(
            transport=self.options.transport,
            timeout=timeout,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        )
        self._origin = _origin(self.base_url)

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    @property
    def requests(self) -> int:
        """How many requests this client (and any other sharing its options) has sent."""
        return self.options.stats.requests

    def set_header(self, name: str, value: str) -> None:
        """Send this header with every later request (an Authorization header once a token is known)."""
        self._client.headers[name] = value

    # -- requests ----------------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """An absolute URL on the provider's host; a path is taken relative to the base URL."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def follow(self, next_url: str, reading: Reading) -> str:
        """The absolute URL of a `next` link; refused when it points to another host."""
        absolute = urljoin(self.base_url + "/", next_url)
        if _origin(absolute) != self._origin:
            host = urlsplit(absolute).hostname or absolute[:60]
            raise self.error(
                f"the link to the next page of {reading.what} points to another host ({host}), "
                "so it was not followed",
                reading,
                "This is a fault at the provider; try again later, and report it to them if it persists.",
            )
        return absolute

    def get_json(
        self, path_or_url: str, reading: Reading, params: Mapping[str, Any] | None = None
    ) -> tuple[Any, httpx.Headers]:
        """GET JSON, retrying as the options say. Returns the decoded body and the answer's headers."""
        return self.request_json("GET", path_or_url, reading, params=params)

    def request_json(
        self,
        method: str,
        path_or_url: str,
        reading: Reading,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        expect_json: bool = True,
    ) -> tuple[Any, httpx.Headers]:
        """Send one request (with retries) and return its JSON body and headers; raise `SourceError`."""
        url = self.url(path_or_url)
        options = self.options
        reauthorised = False
        attempt = 0
        while True:
            options.stats.requests += 1
            try:
                response = self._client.request(method, url, params=params, json=json, data=data, auth=auth)
            except httpx.TransportError as error:
                log.debug("%s %s failed: %s", method, urlsplit(url).path, type(error).__name__)
                if attempt < options.retries:
                    options.sleep(options.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise self.stopped(reading) from None
            log.debug("%s %s -> %s", method, urlsplit(url).path, response.status_code)
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt < options.retries:
                    wait = _retry_after(response.headers.get("Retry-After"))
                    wait = options.backoff * 2**attempt if wait is None else wait
                    if wait > options.max_wait:
                        raise self.error(
                            f"is busy and asked to wait {wait:.0f} seconds before reading {reading.what}",
                            reading,
                            "Try again later.",
                        )
                    options.sleep(wait)
                    attempt += 1
                    continue
                what = "too many requests (HTTP 429)" if status == 429 else f"a server error (HTTP {status})"
                raise self.error(
                    f"kept answering with {what} while reading {reading.what} after {reading.records} "
                    f"records ({attempt + 1} attempts)",
                    reading,
                    "Try again later; if it keeps happening, check the provider's status page.",
                )
            if status == 401 and self.reauthorise is not None and not reauthorised:
                reauthorised = True
                for name, value in self.reauthorise().items():
                    self.set_header(name, value)
                continue
            if status >= 400:
                raise self.refused(response, reading)
            if not expect_json:
                return None, response.headers
            try:
                return response.json(), response.headers
            except ValueError:
                raise self.error(
                    f"answered with something that is not JSON while reading {reading.what}",
                    reading,
                    "Check the base URL of the connection; it should be the provider's API address.",
                ) from None

    # -- messages ----------------------------------------------------------------------------------
    def error(self, message: str, reading: Reading, fix: str) -> SourceError:
        """One line: provider, what went wrong, that nothing was changed, and the fix."""
        return SourceError(f"{self.provider}: {message}; {NOTHING_CHANGED}. {fix}".strip())

    def stopped(self, reading: Reading) -> SourceError:
        """The provider stopped answering (dropped connection, timeout) in the middle of a read."""
        return self.error(
            f"the provider stopped answering while reading {reading.what} after {reading.records} records",
            reading,
            "Try again later; if it keeps happening, check the provider's status page.",
        )

    def inconsistent(self, reading: Reading, detail: str) -> SourceError:
        """The provider's pages do not add up: a record may have been skipped, so the read is refused."""
        return self.error(
            f"the pages of {reading.what} do not add up ({detail}) after {reading.records} records, so "
            "someone could be missed and wrongly treated as a leaver",
            reading,
            "Try again later; if it keeps happening, report it to the provider.",
        )

    def refused(self, response: httpx.Response, reading: Reading) -> SourceError:
        """The message for a 4xx answer."""
        status, detail = response.status_code, _detail(response)
        if status == 401:
            return self.error(
                f"the token was rejected (rotated or revoked?) while reading {reading.what}",
                reading,
                f"Fix: {self.reconnect}.",
            )
        if status == 403:
            which = reading.permission or reading.what
            said = f" ({detail})" if detail else ""
            return self.error(
                f"permission not approved: {which}{said}",
                reading,
                "Fix: ask the school to approve this permission for missync in the provider's portal, "
                "then sync again.",
            )
        if status == 404 and reading.records:
            return self.inconsistent(reading, "a page is missing (HTTP 404)")
        if status == 404:
            return self.error(
                f"has nothing at the address for {reading.what} (HTTP 404)",
                reading,
                "Fix: check the connection's school id and base URL.",
            )
        said = f": {detail}" if detail else ""
        return self.error(
            f"refused the request for {reading.what} (HTTP {status}){said}",
            reading,
            "Fix: check the connection's settings, then try again.",
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent or unclear."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _detail(response: httpx.Response) -> str:
    """The provider's own short explanation from an error body, if it gives one (never the request)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("error_description", "ExceptionMessage", "Message", "message", "error", "description"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
    return ""


def report_progress(options: HttpOptions, what: str, done: int, total: int = 0) -> None:
    """Tell the caller's progress callback, if any, how far a read has got (`total` 0 when unknown)."""
    if options.progress is not None:
        options.progress(what, done, total)
