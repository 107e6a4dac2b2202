"""The WSGI app served over ASGI, called inline on the event loop, with a bounded queue.

A search is short CPU work that holds the GIL; running it in a thread would only add a hand-off
and contention to every request. So each request runs the Falcon WSGI app straight on the event
loop: one at a time per worker process, in arrival order, as a sync worker would, while the loop
itself (the server's protocol) reads every connection as bytes arrive and hands over only
complete requests. A slow or silent client therefore costs a socket, not a worker.

A request that waited for its turn longer than ``max_queue_wait`` — a burst beyond what the
workers can answer in that time — is answered at once with ``503`` and ``Retry-After`` (JSON
``{"title", "description"}``, as every error of the API) instead of adding its search to the
backlog. ``/healthz`` is never turned away: it costs nothing and says the service is alive.
The time a request arrived comes from the server (``scope["extensions"][ARRIVED]``, set by
:mod:`search.web.guarded` when its headers were complete); without it nothing is shed.
"""

from __future__ import annotations

import inspect
import io
import sys
import time
from urllib.parse import unquote_to_bytes

import orjson

from .app import SECURITY_HEADERS

ARRIVED = "zhsearch.arrived"  # scope["extensions"] key: time.monotonic() when the request was complete
NEVER_SHED = frozenset({"/healthz"})


def is_asgi(app) -> bool:
    """Whether ``app`` is an ASGI app (a coroutine function, or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(getattr(app, "__call__", None))


def overloaded_response(retry_after: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 503 of a request turned away under overload: JSON body, ``Retry-After``, the security headers."""
    body = orjson.dumps({"title": "Service Unavailable",
                         "description": "The server is busy answering other searches; "
                                        f"try again in {retry_after} s."})
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()), (b"connection", b"close")]
    return 503, headers, body


def wsgi_environ(scope: dict) -> dict:
    """The PEP 3333 environ of an ASGI HTTP ``scope`` (no body: the app takes none)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        # as gunicorn does: the path's %-escapes decoded to bytes, carried as latin-1 (PEP 3333)
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        text = value.decode("latin-1")
        environ[key] = environ[key] + "," + text if key in environ else text
    return environ


async def stream_wsgi(app, environ: dict, send) -> None:
    """Call the WSGI ``app`` and send its answer, a chunk of its body at a time: a streamed body
    (an export of every matching paragraph) is never held whole, and between two chunks the loop
    serves the other connections, the worker's heartbeat, and a reader's own pace (``send`` waits
    while the client's buffer is full)."""
    started: list = []

    def start_response(status: str, headers: list, exc_info=None):
        started[:] = [status, headers]
        return lambda data: None  # the app never writes: Falcon returns its body

    chunks = app(environ, start_response)
    try:
        pending = None
        for chunk in chunks:
            if pending is None:
                status, headers = started
                await send({"type": "http.response.start", "status": int(status[:3]),
                            "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]})
            elif pending:
                await send({"type": "http.response.body", "body": pending, "more_body": True})
            pending = chunk
        if pending is None:  # an empty body
            status, headers = started
            await send({"type": "http.response.start", "status": int(status[:3]),
                        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]})
        await send({"type": "http.response.body", "body": pending or b""})
    finally:
        if hasattr(chunks, "close"):
            chunks.close()


class InlineASGI:
    """ASGI app running the WSGI ``app`` inline; turns away requests queued over ``max_queue_wait`` s."""

    def __init__(self, app, max_queue_wait: float = 2.0, retry_after: int = 1):
        self.app = app
        self.max_queue_wait = max_queue_wait
        self.overloaded = overloaded_response(retry_after)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: none here
            return
        arrived = scope.get("extensions", {}).get(ARRIVED)
        if (arrived is not None and time.monotonic() - arrived > self.max_queue_wait
                and scope["path"] not in NEVER_SHED):
            status, headers, body = self.overloaded
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await stream_wsgi(self.app, wsgi_environ(scope), send)

    @staticmethod
    async def _lifespan(receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
