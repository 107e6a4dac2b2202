"""`zhsearch serve` faces the internet directly: slow, idle and non-reading clients hold no worker.

Through the real command (a subprocess on a free port of 127.0.0.1, a small index of the test
articles plus one long article): 64 connections trickling a request a byte at a time, 64 that send
nothing and 16 that ask for a large answer and never read it are held open (reopened as the server
closes them) while a normal client searches; its searches all succeed, as fast (p99 within 3×, plus
25 ms of scheduler noise) as the same searches alone, measured before and after in the same test; a
burst of 16 concurrent clients on top gets only 200s or 503s with ``Retry-After`` and a JSON error;
``/healthz`` answers throughout; and the server closes connections that do not finish their request
in time. (The deadlines themselves, with short timeouts, are tested in tests/test_guarded_protocol.py:
the non-readers here ask for ~600 KB, which the kernel's buffers absorb; bigger answers left unread
are cut off by the write deadline.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

import hostile_clients as H

SCHEDULER_NOISE = 0.025  # seconds
from conftest import TEST_ARTICLES, free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn's fork-based workers")

LONG_ARTICLE = "zz_long_article"
QUERIES = ["港口", '"城市夜读"', "吞吐量", "河道", "港口 -城市", "title:港口", "图书馆", "夜读 OR 港口",
           "清理", "增长"]
BIG_PATHS = (f"/api/articles/{LONG_ARTICLE}", "/api/search?q=%E7%9A%84&size=100")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(port, log path) of `zhsearch serve --workers 2` over the test articles and a long article."""
    root = tmp_path_factory.mktemp("slow-clients")
    seeds = root / "seeds"
    shutil.copytree(TEST_ARTICLES, seeds)
    paragraph = "港口的货物吞吐量在今年前十个月达到新高，城市的夜读活动也吸引了许多市民参加。"
    # ~600 KB of JSON: more than the socket buffers between a server and a client that does not read
    (seeds / f"{LONG_ARTICLE}.txt").write_text("长文\n" + "".join(f"{i}. {paragraph}\n" for i in range(4000)),
                                               encoding="utf-8")
    port = free_port()
    env = dict(os.environ, ZHSEARCH_SEEDS=str(seeds), ZHSEARCH_INDEX=str(root / "index"))
    env.pop("WEB_CONCURRENCY", None)
    log = root / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "search", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while H.timed_get(port, "/healthz", timeout=2)[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield port, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def search_paths() -> list[str]:
    return ["/api/search?" + urllib.parse.urlencode({"q": q}) for q in QUERIES]


def test_hostile_clients_hold_no_worker_others_need(served):
    port, log = served
    paths = search_paths()
    assert H.timed_get(port, BIG_PATHS[0])[0] == 200 and len(H.timed_get(port, BIG_PATHS[0])[3]) > 400_000
    H.normal_searches(port, paths)  # warm both workers
    before = H.normal_searches(port, paths, rounds=10)
    with H.HealthWatch(port) as health, H.AttackProcess(port, BIG_PATHS) as attack:
        started = time.monotonic()
        # bounded: a search that hangs fails after 10 s, and the phase ends after a minute
        attacked = H.normal_searches(port, paths, rounds=10, within=60, timeout=10)
        burst = H.burst(port, paths, clients=16, each=4, timeout=10)
        # long enough for the server's deadlines (10 s) to close some of each kind
        while time.monotonic() - started < 14:
            attacked += H.normal_searches(port, paths[:2], timeout=10)
            time.sleep(0.2)
    after = H.normal_searches(port, paths, rounds=10)

    assert len(attacked) >= len(before) and {status for status, _ in before + attacked + after} == {200}
    alone_p99 = max(H.p99([s for _, s in before]), H.p99([s for _, s in after]))
    attacked_p99 = H.p99([s for _, s in attacked[:len(before)]])  # the same searches as alone
    # within 3× plus what two shared cores add to a search of a few ms while the attack's process
    # runs beside the server (a full suite once saw 9.6 against 2.6 ms); a held worker costs seconds
    assert attacked_p99 <= 3 * alone_p99 + SCHEDULER_NOISE, (attacked_p99, alone_p99)

    assert len(burst) == 64 and {a.status for a in burst} <= {200, 503}, [a.status for a in burst]
    for answer in burst:
        if answer.status == 503:
            assert answer.retry_after and {"title", "description"} <= set(answer.error or {})

    assert health.answers and {status for status, _ in health.answers} == {200}

    stats = attack.stats
    assert stats["held"] == {"slow": 64, "idle": 64, "nonreading": 16}, stats["held"]
    for kind in ("slow", "idle"):  # the server closed them (after 10 s), and they came back
        assert stats["lifetimes"][kind], (kind, stats)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]


def test_a_request_that_does_not_arrive_in_time_is_answered_408_and_closed(served):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"GET /api/search?q=%E6%B8%AF HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no blank line
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), reply[:300]
    assert b"x-content-type-options: nosniff" in head.lower()
    assert {"title", "description"} <= set(json.loads(body))
