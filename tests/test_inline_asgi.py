"""The WSGI app over ASGI, inline (search/web/inline_asgi.py): the same answers as through WSGI,
any path, query or header bytes answered below 500, and requests queued too long turned away."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search.web.app import SECURITY_HEADERS, create_app
from search.web.inline_asgi import ARRIVED, InlineASGI, wsgi_environ


@pytest.fixture(scope="module")
def wsgi_app(corpus):
    return create_app(corpus.settings, searcher=corpus.searcher)


def scope(path: bytes, query: bytes = b"", headers=(), method: str = "GET", arrived: float | None = None) -> dict:
    s = {"type": "http", "method": method, "path": path.decode("utf-8", "replace"), "raw_path": path,
         "query_string": query, "headers": [(b"host", b"127.0.0.1"), *headers], "http_version": "1.1",
         "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5555)}
    if arrived is not None:
        s["extensions"] = {ARRIVED: arrived}
    return s


def call(app: InlineASGI, s: dict) -> tuple[int, dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(s, receive, send))
    start, *bodies = sent
    assert all(b.get("more_body") for b in bodies[:-1]) and not bodies[-1].get("more_body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, b"".join(b["body"] for b in bodies)


def through_wsgi(app, environ: dict) -> tuple[int, bytes]:
    statuses = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return int(statuses[0][:3]), body


def test_the_same_answer_as_through_wsgi(wsgi_app):
    asgi = InlineASGI(wsgi_app)
    for path, query in [(b"/api/search", "q=联合国&size=3".encode()), (b"/healthz", b""), (b"/api/nope", b""),
                        (b"/", "q=港口".encode()), (b"/api/search", b"q=%E8%81%94&page=0")]:
        status, headers, body = call(asgi, scope(path, query))
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path.decode(), "QUERY_STRING": query.decode("latin-1"),
                   "SERVER_NAME": "x", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "x",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
        expected_status, expected_body = through_wsgi(wsgi_app, environ)
        assert status == expected_status
        if b"took_ms" not in body:
            assert body == expected_body
        assert headers["x-content-type-options"] == "nosniff"


def test_the_path_is_the_wsgi_path_of_its_raw_bytes():
    environ = wsgi_environ(scope(b"/api/articles/a%2Fb%E5%8F%B0%ff", b"q=%E5%8F%B0",
                                 headers=[(b"x-a", b"1"), (b"x-a", b"2"), (b"content-type", b"text/plain")]))
    assert environ["PATH_INFO"] == b"/api/articles/a/b\xe5\x8f\xb0\xff".decode("latin-1")  # as gunicorn's
    assert environ["QUERY_STRING"] == "q=%E5%8F%B0"
    assert environ["HTTP_X_A"] == "1,2" and environ["CONTENT_TYPE"] == "text/plain"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.binary(max_size=60), query=st.binary(max_size=60), header=st.binary(max_size=40))
def test_any_bytes_are_answered_below_500(wsgi_app, path, query, header):
    asgi = InlineASGI(wsgi_app)
    status, headers, body = call(asgi, scope(b"/" + path, query, headers=[(b"x-any", header)]))
    assert status < 500
    if status >= 400 and headers.get("content-type", "").startswith("application/json"):
        assert {"title", "description"} <= set(json.loads(body))


def test_a_request_queued_too_long_is_turned_away_at_once_with_retry_after(wsgi_app):
    calls = []

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return wsgi_app(environ, start_response)

    asgi = InlineASGI(counting, max_queue_wait=2.0, retry_after=1)
    status, headers, body = call(asgi, scope(b"/api/search", b"q=a", arrived=time.monotonic() - 2.5))
    assert status == 503 and headers["retry-after"] == "1" and calls == []  # no search was run for it
    assert {"title", "description"} <= set(json.loads(body))
    assert all(headers[name.lower()] == value for name, value in SECURITY_HEADERS.items())
    status, _, _ = call(asgi, scope(b"/api/search", b"q=a", arrived=time.monotonic() - 1.0))
    assert status == 200 and calls == ["/api/search"]  # queued briefly: answered
    status, _, _ = call(asgi, scope(b"/healthz", arrived=time.monotonic() - 60))
    assert status == 200  # the health check is never turned away


def test_lifespan_is_acknowledged(wsgi_app):
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(InlineASGI(wsgi_app)({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_streamed_body_is_sent_a_chunk_at_a_time_and_never_held_whole():
    """An export streams: each chunk the WSGI app yields is sent before the next is made."""
    made, sent = [], []

    def streaming(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        for n in range(5):
            made.append(n)
            assert len(sent) == n  # the start and every chunk but the last one made went out already
            yield f"row {n}\n".encode()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(InlineASGI(streaming)(scope(b"/api/export", b"q=x"), receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert [m["body"] for m in sent[1:]] == [f"row {n}\n".encode() for n in range(5)]
    assert [bool(m.get("more_body")) for m in sent[1:]] == [True] * 4 + [False]
