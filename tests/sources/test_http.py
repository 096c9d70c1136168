"""The shared provider client: retries, backoff, Retry-After, and one clear message per failure."""

from __future__ import annotations

import httpx
import pytest

from missync.core.roster import SourceError
from missync.sources.http import HttpOptions, ProviderClient, Reading, check_base_url

BASE = "https://api.example.test/v1.0"


def client_for(handler: object, sleeps: list[float], **options: object) -> ProviderClient:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    settings = HttpOptions(transport=transport, sleep=sleeps.append, **options)  # type: ignore[arg-type]
    return ProviderClient("Wonde", BASE, settings, headers={"Authorization": "Bearer s3cret-token"})


def answers(*responses: httpx.Response) -> tuple[object, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler, seen


def test_ok_answer_is_decoded_and_counted() -> None:
    handler, seen = answers(httpx.Response(200, json={"data": [1]}))
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client:
        body, _ = client.get_json("schools/A1/students", Reading("pupils"), {"per_page": "200"})
        assert body == {"data": [1]}
        assert client.requests == 1
    assert str(seen[0].url) == f"{BASE}/schools/A1/students?per_page=200"
    assert seen[0].headers["Authorization"] == "Bearer s3cret-token"


def test_429_waits_as_retry_after_says_then_succeeds() -> None:
    handler, _ = answers(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"ok": True}),
    )
    sleeps: list[float] = []
    with client_for(handler, sleeps) as client:
        assert client.get_json("x", Reading("pupils"))[0] == {"ok": True}
        assert client.requests == 3
    assert sleeps == [7.0, 3.0]


def test_500_is_retried_with_exponential_backoff_then_gives_up() -> None:
    handler, seen = answers(httpx.Response(500))
    sleeps: list[float] = []
    with client_for(handler, sleeps, retries=3, backoff=0.5) as client, pytest.raises(SourceError) as error:
        client.get_json("x", Reading("pupils", records=400))
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(seen) == 4
    message = str(error.value)
    assert message.startswith("Wonde: kept answering with a server error (HTTP 500) while reading pupils")
    assert "after 400 records" in message and "nothing was changed" in message


def test_a_retry_after_longer_than_the_limit_gives_up_at_once() -> None:
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    with (
        client_for(handler, sleeps, max_wait=60) as client,
        pytest.raises(SourceError, match="asked to wait 3600"),
    ):
        client.get_json("x", Reading("pupils"))
    assert sleeps == []


def test_401_says_the_token_was_rejected_and_how_to_fix_it() -> None:
    handler, _ = answers(httpx.Response(401, json={"error": "unauthenticated"}))
    with client_for(handler, []) as client, pytest.raises(SourceError) as error:
        client.get_json("x", Reading("staff"))
    message = str(error.value)
    assert "the token was rejected (rotated or revoked?) while reading staff" in message
    assert "nothing was changed" in message and "Fix:" in message
    assert "s3cret-token" not in message


def test_401_fetches_a_fresh_token_once() -> None:
    handler, seen = answers(httpx.Response(401), httpx.Response(200, json={}))
    options = HttpOptions(transport=httpx.MockTransport(handler), sleep=lambda s: None)  # type: ignore[arg-type]
    client = ProviderClient("API", BASE, options, reauthorise=lambda: {"Authorization": "Bearer new"})
    assert client.get_json("x", Reading("people"))[0] == {}
    assert seen[1].headers["Authorization"] == "Bearer new"


def test_403_names_the_permission() -> None:
    handler, _ = answers(httpx.Response(403, json={"error_description": "permission not approved"}))
    with client_for(handler, []) as client, pytest.raises(SourceError) as error:
        client.get_json("x", Reading("staff", permission="read staff (employees.read)"))
    assert "permission not approved: read staff (employees.read)" in str(error.value)


def test_a_dropped_connection_is_retried_then_reported() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    sleeps: list[float] = []
    with client_for(handler, sleeps, retries=2) as client, pytest.raises(SourceError) as error:
        client.get_json("x", Reading("pupils", records=600))
    assert len(calls) == 3 and len(sleeps) == 2
    assert str(error.value).startswith(
        "Wonde: the provider stopped answering while reading pupils after 600 records; nothing was changed."
    )


def test_a_timeout_is_reported_the_same_way() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with client_for(handler, [], retries=0) as client, pytest.raises(SourceError, match="stopped answering"):
        client.get_json("x", Reading("pupils"))


def test_a_next_link_to_another_host_is_refused() -> None:
    handler, _ = answers(httpx.Response(200, json={}))
    with client_for(handler, []) as client:
        assert client.follow("/v1.0/x?page=2", Reading("pupils")) == "https://api.example.test/v1.0/x?page=2"
        with pytest.raises(SourceError, match=r"points to another host \(evil.example\)"):
            client.follow("https://evil.example/v1.0/x?page=2", Reading("pupils"))
        with pytest.raises(SourceError, match="another host"):
            client.follow("http://api.example.test/v1.0/x?page=2", Reading("pupils"))  # not https


def test_a_missing_page_and_non_json_answers_are_clear() -> None:
    handler, _ = answers(httpx.Response(404), httpx.Response(200, text="<html>"))
    with client_for(handler, []) as client:
        with pytest.raises(SourceError, match=r"do not add up \(a page is missing"):
            client.get_json("x", Reading("pupils", records=200))
        with pytest.raises(SourceError, match="not JSON"):
            client.get_json("x", Reading("pupils"))


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(SourceError, match="https"):
        check_base_url("http://api.wonde.com/v1.0", "Wonde")
    assert check_base_url("http://127.0.0.1:8000/v1.0/", "Wonde") == "http://127.0.0.1:8000/v1.0"
    with pytest.raises(SourceError, match="not a web address"):
        check_base_url("api.wonde.com", "Wonde")
