"""End to end: `zhsearch serve` builds the index and serves it through real gunicorn."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port

TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(TEST_ARTICLES, seeds)
    port = free_port()
    env = dict(os.environ, ZHSEARCH_SEEDS=str(seeds), ZHSEARCH_INDEX=str(tmp_path / "index"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_builds_the_index_and_answers(server):
    base, proc = server
    status, health = get_json(f"{base}/healthz")
    assert status == 200 and health["articles"] == 4
    status, body = get_json(f"{base}/api/search?" + urllib.parse.urlencode({"q": '"城市夜读"'}))
    assert status == 200 and body["total"] >= 1
    assert "<mark>城市夜读</mark>" in body["hits"][0]["highlight"]
    with urllib.request.urlopen(f"{base}/?" + urllib.parse.urlencode({"q": "港口"}), timeout=10) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/html")
    assert "<mark>港口</mark>" in page


def test_graceful_shutdown_on_sigterm(server):
    base, proc = server
    get_json(f"{base}/healthz")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_a_rebuilt_index_is_served_without_restart(server, tmp_path):
    base, proc = server
    assert get_json(f"{base}/healthz")[1]["articles"] == 4
    (tmp_path / "seeds" / "added.txt").write_text("新增的文章\n河边的夜读活动今晚举行。", encoding="utf-8")
    env = dict(os.environ, ZHSEARCH_SEEDS=str(tmp_path / "seeds"), ZHSEARCH_INDEX=str(tmp_path / "index"))
    subprocess.run([sys.executable, "-m", "search", "index"], env=env, check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 30  # each worker looks for a new build every half second
    in_a_row = 0  # either worker may answer a request: both must have the new build
    while in_a_row < 8:
        found = get_json(f"{base}/api/search?" + urllib.parse.urlencode({"q": "新增的文章"}))[1]["total"]
        in_a_row = in_a_row + 1 if found else 0
        assert time.monotonic() < deadline, "the new build was not picked up by every worker"
        if not found:
            time.sleep(0.1)
    assert get_json(f"{base}/healthz")[1]["articles"] == 5
