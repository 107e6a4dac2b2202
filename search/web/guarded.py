"""uvicorn's HTTP protocol with the deadlines it lacks, and the gunicorn worker that uses it.

uvicorn reads every connection asynchronously, so a slow client never holds a worker; but it
keeps any connection that has not finished a request for as long as the client likes (its
keep-alive timer only runs between requests, and any byte received cancels it), and waits
without end for a client that stops reading a response. Here each connection gets:

* ``request_timeout`` seconds from being opened, or from its previous response, to complete its
  next request's line and headers; then it is closed (with a ``408`` JSON error when a request
  had begun). This covers connections that send nothing, request lines and headers trickled a
  byte at a time, and the unread rest of a body.
* ``write_timeout`` seconds to take a response off the server's write buffer once it is full (a
  client that asked for a large page and does not read it); then the connection is dropped.
* a cap of ``max_connections`` connections a worker; one more is refused with a ``503``;
* when the worker stops (recycled after ``max_requests``, or told to), ``shutdown_linger`` seconds in
  which a request already on its way on a kept-alive connection is still answered (with
  ``Connection: close``), rather than lost with the connection as uvicorn would close it at once.

Requests are stamped with the time their headers were complete (``ARRIVED``) for
:class:`~search.web.inline_asgi.InlineASGI`, which turns away those that queued too long.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from .app import SECURITY_HEADERS
from .inline_asgi import ARRIVED, InlineASGI, is_asgi

REQUEST_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000
SHUTDOWN_LINGER = 1.0


def _error(status: bytes, title: str, description: str) -> bytes:
    """A whole ``Connection: close`` response carrying the API's JSON error."""
    body = orjson.dumps({"title": title, "description": description})
    head = [b"HTTP/1.1 " + status, b"content-type: application/json", b"content-length: %d" % len(body),
            b"connection: close"]
    head += [f"{name}: {value}".encode("latin-1") for name, value in SECURITY_HEADERS.items()]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


TIMED_OUT = _error(b"408 Request Timeout", "Request Timeout",
                   f"The request's line and headers did not arrive within {REQUEST_TIMEOUT:g} s.")
TOO_MANY = _error(b"503 Service Unavailable", "Service Unavailable",
                  "Too many open connections; try again in 1 s.").replace(b"\r\n\r\n", b"\r\nretry-after: 1\r\n\r\n", 1)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request deadline, a write deadline and a connection cap."""

    request_timeout = REQUEST_TIMEOUT
    write_timeout = WRITE_TIMEOUT
    max_connections = MAX_CONNECTIONS
    shutdown_linger = SHUTDOWN_LINGER

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._request_deadline: asyncio.TimerHandle | None = None
        self._write_deadline: asyncio.TimerHandle | None = None
        self._begun = False  # bytes of a request have arrived
        self._stopping = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(TOO_MANY)
            transport.close()
            return
        self._arm_request_deadline()

    def connection_lost(self, exc) -> None:
        self._cancel(self._request_deadline)
        self._cancel(self._write_deadline)
        self._request_deadline = self._write_deadline = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = True

    def on_headers_complete(self) -> None:
        self._cancel(self._request_deadline)
        self._request_deadline = None
        self._begun = False
        self.scope.setdefault("extensions", {})[ARRIVED] = time.monotonic()
        super().on_headers_complete()
        if self._stopping:
            self.cycle.keep_alive = False

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_request_deadline()

    def shutdown(self) -> None:
        """The worker is stopping: answer what arrives within the linger, then close."""
        if self.cycle is None or self.cycle.response_complete:
            self._stopping = True
            self._cancel(self._request_deadline)
            self._request_deadline = self.loop.call_later(self.shutdown_linger, self._request_timed_out)
        else:
            self.cycle.keep_alive = False

    def pause_writing(self) -> None:
        super().pause_writing()
        self._cancel(self._write_deadline)
        self._write_deadline = self.loop.call_later(self.write_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel(self._write_deadline)
        self._write_deadline = None

    def _arm_request_deadline(self) -> None:
        self._cancel(self._request_deadline)
        self._request_deadline = self.loop.call_later(self.request_timeout, self._request_timed_out)

    def _request_timed_out(self) -> None:
        self._request_deadline = None
        if self.transport.is_closing():
            return
        if self._begun:
            self.transport.write(TIMED_OUT)
        self.transport.close()

    def _stalled(self) -> None:
        self._write_deadline = None
        sock = self.transport.get_extra_info("socket")
        if sock is not None:  # reset, rather than leave the kernel holding what it did not read
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    @staticmethod
    def _cancel(handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()


class Worker(UvicornWorker):
    """gunicorn's worker for uvicorn, speaking HTTP through :class:`GuardedProtocol` on uvloop; a WSGI
    app (``search.wsgi:app``, the app gunicorn loads) is served through :class:`InlineASGI`."""

    CONFIG_KWARGS = {"loop": "uvloop", "http": GuardedProtocol, "lifespan": "on", "access_log": False,
                     "server_header": False}

    def load_wsgi(self) -> None:
        super().load_wsgi()
        if not is_asgi(self.wsgi):
            self.wsgi = InlineASGI(self.wsgi)


def warm_up() -> None:
    """Import in gunicorn's master what each worker's uvicorn would import on starting (its loop,
    lifespan and websocket modules), so that workers share them rather than load them again."""
    import uvicorn.lifespan.on  # noqa: F401
    import uvicorn.loops.uvloop  # noqa: F401
    import uvicorn.protocols.websockets.auto  # noqa: F401
    import uvloop  # noqa: F401
