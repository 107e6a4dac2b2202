"""search/web/guarded.py's deadlines, with short timeouts, on a uvicorn server in this process:
a request must arrive in time, a response must be read, and a worker caps its connections."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from conftest import free_port
from search.web.guarded import GuardedProtocol

BIG = 24 * 2**20  # more than the kernel's socket buffers (tcp_wmem's 4 MiB and the client's) can hold


class Quick(GuardedProtocol):
    request_timeout = 0.6
    write_timeout = 0.6
    max_connections = 3


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    size = BIG if scope["path"] == "/big" else 2
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(size).encode())]})
    await send({"type": "http.response.body", "body": b"x" * size})


def start_server() -> tuple[int, uvicorn.Server, threading.Thread]:
    """A uvicorn server of ``app`` speaking through :class:`Quick`, on a free port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http=Quick, loop="uvloop",
                                           lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    return port, server, thread


@pytest.fixture(scope="module")
def port():
    port, server, thread = start_server()
    yield port
    server.should_exit = True
    thread.join(timeout=30)


def read_all(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_a_connection_that_sends_nothing_is_closed_in_time(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        started = time.monotonic()
        assert conn.recv(100) == b""
        assert time.monotonic() - started < 8  # closed by the deadline, not by the client's timeout


def test_a_request_trickled_too_slowly_gets_408_and_is_closed(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n":
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        reply = read_all(conn)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b'"title":"Request Timeout"' in reply


def test_a_request_in_time_is_answered_and_the_next_gets_its_own_deadline(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive, in time again
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET / HT")  # and then nothing
        assert read_all(conn).startswith(b"HTTP/1.1 408")


def test_a_client_that_stops_reading_is_reset(port):
    with socket.socket() as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.settimeout(10)
        conn.connect(("127.0.0.1", port))
        conn.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(2.5)  # reads nothing for longer than the write deadline
        received = 0
        with pytest.raises(ConnectionResetError):
            while chunk := conn.recv(1 << 20):
                received += len(chunk)
    assert received < BIG


def test_connections_over_the_cap_are_refused_with_503(port):
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as extra:
            reply = read_all(extra)
        assert reply.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in reply.lower(), reply[:300]
    finally:
        for conn in held:
            conn.close()


def test_a_stopping_server_answers_a_request_already_on_its_way_then_closes():
    port, server, thread = start_server()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")  # kept alive
        server.should_exit = True  # as max_requests or SIGTERM does
        time.sleep(0.3)  # the server is stopping; the client, not knowing, sends its next request
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_all(conn)
    assert reply.startswith(b"HTTP/1.1 200") and b"connection: close" in reply.lower(), reply[:300]
    thread.join(timeout=30)
    assert not thread.is_alive()
