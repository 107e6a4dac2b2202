"""Hostile HTTP clients against a real server on 127.0.0.1, and a normal client beside them.

Used by ``tests/test_slow_clients.py`` and ``bench/slow_clients.py``:

* ``Attackers`` holds connections open from one thread: *slow* ones that trickle a request line
  and headers a byte at a time and never finish them, *idle* ones that send nothing, and
  *non-reading* ones that ask for a large answer over a small receive buffer and never read it.
  One the server closes is opened again at once, so the pressure stays; how long the server let
  each live is recorded. ``AttackProcess`` runs them in a child process, so that they take no GIL
  from the client being measured (``python hostile_clients.py PORT SLOW IDLE NONREADING PATH…``).
* ``timed_get`` / ``normal_searches``: what a normal client sees, one new connection a request.
* ``HealthWatch`` asks ``/healthz`` every few tenths of a second while it runs.
* ``burst``: many concurrent clients at once.

Every loop here is bounded in count and time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

SLOW_REQUEST = b"GET /api/search?q=%E6%B8%AF%E5%8F%A3 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n"
SLOW_HEADER_LINE = b"X-Trickle: a\r\n"  # repeated a byte at a time after the request's start, never the blank line


def _slow_byte(i: int) -> bytes:
    """The ``i``-th byte a slow connection sends: its request's start, then a header line over and over."""
    if i < len(SLOW_REQUEST):
        return SLOW_REQUEST[i:i + 1]
    i = (i - len(SLOW_REQUEST)) % len(SLOW_HEADER_LINE)
    return SLOW_HEADER_LINE[i:i + 1]


@dataclass
class _Conn:
    kind: str
    sock: socket.socket
    opened: float
    sent: int = 0


@dataclass
class AttackStats:
    """What the server did to the attackers' connections."""

    opened: dict = field(default_factory=lambda: {"slow": 0, "idle": 0, "nonreading": 0})
    lifetimes: dict = field(default_factory=lambda: {"slow": [], "idle": [], "nonreading": []})  # closed by the server
    refused: int = 0  # connects that failed


class Attackers:
    """``slow`` slow-header, ``idle`` idle and ``nonreading`` non-reading connections to ``port``, kept open
    (reopened when the server closes one) from one thread until ``stop()``."""

    def __init__(self, port: int, *, slow: int = 64, idle: int = 64, nonreading: int = 16,
                 big_paths: tuple[str, ...] = ("/api/search?q=%E7%9A%84&size=100",), trickle: float = 0.5,
                 rcvbuf: int = 4096):
        self.port = port
        self.want = {"slow": slow, "idle": idle, "nonreading": nonreading}
        self.big_paths = big_paths
        self.trickle = trickle
        self.rcvbuf = rcvbuf
        self.stats = AttackStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attackers", daemon=True)
        self._conns: list[_Conn] = []
        self._sel = selectors.DefaultSelector()
        self._big = 0

    def __enter__(self) -> "Attackers":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def held(self) -> dict:
        counts = {"slow": 0, "idle": 0, "nonreading": 0}
        for conn in list(self._conns):
            counts[conn.kind] += 1
        return counts

    # -- the thread ---------------------------------------------------------------------------

    def _open(self, kind: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if kind == "nonreading":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            self.stats.refused += 1
            return
        sock.setblocking(False)
        conn = _Conn(kind, sock, time.monotonic())
        if kind == "nonreading":
            path = self.big_paths[self._big % len(self.big_paths)]
            self._big += 1
            try:
                sock.send(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            except OSError:
                pass
        else:
            self._sel.register(sock, selectors.EVENT_READ, conn)
        self._conns.append(conn)
        self.stats.opened[kind] += 1

    def _closed(self, conn: _Conn, by_server: bool = True) -> None:
        if by_server:
            self.stats.lifetimes[conn.kind].append(time.monotonic() - conn.opened)
        if conn.kind != "nonreading":
            self._sel.unregister(conn.sock)
        conn.sock.close()
        self._conns.remove(conn)

    def _run(self) -> None:
        next_trickle = time.monotonic()
        next_check = time.monotonic()
        while not self._stop.is_set():
            held = self.held()
            for kind, want in self.want.items():
                for _ in range(want - held[kind]):
                    if self._stop.is_set():
                        break
                    self._open(kind)
            for key, _ in self._sel.select(timeout=0.05):
                conn = key.data
                try:
                    data = conn.sock.recv(65536)  # a 408, or the end of the connection
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._closed(conn)
            now = time.monotonic()
            if now >= next_trickle:  # one more byte on every slow connection
                next_trickle = now + self.trickle
                for conn in [c for c in self._conns if c.kind == "slow"]:
                    try:
                        conn.sock.send(_slow_byte(conn.sent))
                        conn.sent += 1
                    except OSError:
                        self._closed(conn)
            if now >= next_check:  # a non-reading connection the server reset
                next_check = now + 0.5
                for conn in [c for c in self._conns if c.kind == "nonreading"]:
                    if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self._closed(conn)
        for conn in list(self._conns):
            self._closed(conn, by_server=False)
        self._sel.close()


def timed_get(port: int, path: str, timeout: float = 60.0) -> tuple[int, float, dict, bytes]:
    """(status, seconds, headers, body) of GET ``path`` on a new connection; status 0 when it failed."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, {k.lower(): v for k, v in response.getheaders()}, body
    except (OSError, http.client.HTTPException):
        return 0, time.perf_counter() - started, {}, b""
    finally:
        conn.close()


def normal_searches(port: int, paths: list[str], rounds: int = 1, within: float = 300.0,
                    timeout: float = 60.0) -> list[tuple[int, float]]:
    """(status, seconds) of each of ``paths`` in turn, ``rounds`` times, stopping after ``within`` seconds."""
    answers = []
    stop = time.monotonic() + within
    for _ in range(rounds):
        for path in paths:
            if time.monotonic() > stop:
                return answers
            answers.append(timed_get(port, path, timeout=timeout)[:2])
    return answers


class HealthWatch:
    """Asks ``/healthz`` every ``every`` seconds from a thread until stopped; keeps each (status, seconds)."""

    def __init__(self, port: int, every: float = 0.25, timeout: float = 10.0):
        self.port, self.every, self.timeout = port, every, timeout
        self.answers: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz", daemon=True)

    def __enter__(self) -> "HealthWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            status, seconds, _, _ = timed_get(self.port, "/healthz", timeout=self.timeout)
            self.answers.append((status, seconds))


@dataclass
class BurstAnswer:
    status: int
    seconds: float
    retry_after: str | None
    error: dict | None  # the JSON body of an error


def burst(port: int, paths: list[str], clients: int = 16, each: int = 4, timeout: float = 60.0) -> list[BurstAnswer]:
    """``clients`` threads, released together, each asking ``each`` of ``paths`` one after another."""
    answers: list[BurstAnswer] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        start.wait()
        for j in range(each):
            status, seconds, headers, body = timed_get(port, paths[(i * each + j) % len(paths)], timeout=timeout)
            error = None
            if status >= 400:
                try:
                    error = json.loads(body)
                except ValueError:
                    error = None
            with lock:
                answers.append(BurstAnswer(status, seconds, headers.get("retry-after"), error))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return answers


class AttackProcess:
    """:class:`Attackers` run in a child process (``python hostile_clients.py PORT …``), so that their
    work takes no GIL from the normal client measured here; ``stats`` once stopped."""

    def __init__(self, port: int, big_paths: tuple[str, ...], slow: int = 64, idle: int = 64, nonreading: int = 16):
        self.argv = [sys.executable, __file__, str(port), str(slow), str(idle), str(nonreading), *big_paths]
        self.proc: subprocess.Popen | None = None
        self.stats: dict = {}

    def __enter__(self) -> "AttackProcess":
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # "holding" once every connection was opened
        if not line.startswith("holding"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"the attackers did not start: {line!r}")
        return self

    def __exit__(self, *exc) -> None:
        try:
            out, _ = self.proc.communicate("stop\n", timeout=60)
            self.stats = json.loads(out.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            self.proc.kill()
            self.proc.wait()


def _attack_main(argv: list[str]) -> None:
    port, slow, idle, nonreading = map(int, argv[:4])
    with Attackers(port, slow=slow, idle=idle, nonreading=nonreading, big_paths=tuple(argv[4:])) as attackers:
        deadline = time.monotonic() + 30
        while attackers.held() != attackers.want and time.monotonic() < deadline:
            time.sleep(0.05)
        print("holding", json.dumps(attackers.held()), flush=True)
        sys.stdin.readline()  # until told to stop, or the parent is gone
        held = attackers.held()
    stats = attackers.stats
    print(json.dumps({"opened": stats.opened, "refused": stats.refused, "lifetimes": stats.lifetimes,
                      "held": held}), flush=True)


def p99(seconds: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, max(0, int(round(0.99 * len(ordered))) - 1))]


if __name__ == "__main__":
    _attack_main(sys.argv[1:])
