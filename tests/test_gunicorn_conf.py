"""How gunicorn's master and workers start and stop (search/gunicorn_conf.py): what the master
loaded is frozen out of the cyclic collector, a worker leaving cleanly skips the interpreter's
teardown, and workers recycled by ``max_requests`` keep answering."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port

REPO = Path(__file__).resolve().parent.parent
TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"

# What gunicorn's Arbiter.spawn_worker does around a worker's life: its body ends in sys.exit
# (0 when it leaves cleanly, another status on an error) and `finally` calls the worker_exit hook.
LEAVING_WORKER = """
import atexit, sys
from search import gunicorn_conf

atexit.register(lambda: print("teardown ran", flush=True))
print("served", end="")  # buffered: must still reach the parent
how = sys.argv[1]
try:
    if how == "error":
        raise RuntimeError("a worker's bug")
    sys.exit(int(how))
except SystemExit:
    raise
finally:
    gunicorn_conf.worker_exit(None, None)
"""


def leave(how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LEAVING_WORKER, how], capture_output=True, text=True,
                          timeout=60, cwd=REPO)


def test_a_worker_leaving_cleanly_skips_the_interpreters_teardown() -> None:
    done = leave("0")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "served"  # flushed, and no atexit handler (nor anything else) ran


@pytest.mark.parametrize("how, status", [("3", 3), ("error", 1)])
def test_a_worker_leaving_with_an_error_keeps_its_status_and_the_ordinary_exit(how: str, status: int) -> None:
    done = leave(how)
    assert done.returncode == status  # gunicorn's master stops on a boot error (3): it must see it
    assert done.stdout == "servedteardown ran\n"


FREEZE_PROBE = """
import gc, os, re
from search import gunicorn_conf

def private_dirty_kib():
    return int(re.search(r"Private_Dirty:\\s+(\\d+)", open("/proc/self/smaps_rollup").read())[1])

gunicorn_conf.on_starting(None)
print(gc.get_freeze_count(), len(gc.get_objects()))
reader, writer = os.pipe()
if os.fork() == 0:  # a worker's full collection
    start = private_dirty_kib()
    gc.collect()
    os.write(writer, str(private_dirty_kib() - start).encode())
    os._exit(0)
os.wait()
print(os.read(reader, 64).decode())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc/self/smaps_rollup only")
def test_a_workers_full_collection_does_not_copy_what_the_master_loaded() -> None:
    done = subprocess.run([sys.executable, "-c", FREEZE_PROBE], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    counts, dirtied_kib = done.stdout.split("\n")[:2]
    frozen, tracked = map(int, counts.split())
    assert frozen > 10_000 and tracked < frozen / 10  # jieba's and pypinyin's objects among the frozen
    # unfrozen, that collection writes to the header of every object the master made: ~17 MiB
    # copied into each worker (jieba, pypinyin, the app)
    assert int(dirtied_kib) < 4 * 1024


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status


@pytest.fixture(scope="module")
def indexed_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a server (or worker) of an index of the test articles, built by the CLI."""
    root = tmp_path_factory.mktemp("gunicorn-conf")
    shutil.copytree(TEST_ARTICLES, root / "seeds")
    env = dict(os.environ, ZHSEARCH_SEEDS=str(root / "seeds"), ZHSEARCH_INDEX=str(root / "index"))
    subprocess.run([sys.executable, "-m", "search", "index"], env=env, cwd=REPO, check=True, capture_output=True,
                   timeout=300)
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn's fork-based workers")
def test_workers_recycled_by_max_requests_keep_answering(indexed_env: dict[str, str], tmp_path: Path) -> None:
    env = indexed_env
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:search.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--max-requests", "2", "--max-requests-jitter", "0", "search.wsgi:app"],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": "港口"})
            statuses = []
            for _ in range(9):
                statuses.append(request_when_up(url, proc))
                time.sleep(0.3)  # the worker's uvicorn looks at its request count every 0.1 s
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert statuses == [200] * 9, text
    assert text.count("Booting worker") >= 4, text  # the worker left after every 2 requests
    assert "Traceback" not in text and "Exception during worker exit" not in text, text
    assert proc.returncode == 0, text


def request_when_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    """The status of GET ``url``, retried while no worker listens yet (the first boot, a recycle)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(url)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


WORKER_IMPORTS = """
import io, os, sys, urllib.parse
from search import gunicorn_conf

gunicorn_conf.on_starting(None)
from search.wsgi import app  # gunicorn's preload_app

def get(path, query=""):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "x",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "x", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    statuses = []
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("200"), (path, query, statuses)

import ast, builtins
compiled = []
real_compile = builtins.compile

def compile(source, filename, mode, flags=0, *args, **kwargs):
    if not flags & ast.PyCF_ONLY_AST:  # code, not a syntax tree (numpy reads .npy headers so)
        compiled.append(str(filename))
    return real_compile(source, filename, mode, flags, *args, **kwargs)

builtins.compile = compile
before = set(sys.modules)
gunicorn_conf.post_worker_init(None)
# what the worker class's uvicorn does on starting: its settings, protocol, loop and lifespan
from uvicorn.config import Config
from uvicorn.lifespan.on import LifespanOn
from search.web.guarded import Worker

config = Config(app=app, **Worker.CONFIG_KWARGS)
config.load()
config.get_loop_factory()().run_until_complete(LifespanOn(config).startup())
for q in ["港口", "港口 -城市", '"城市夜读"', "title:港口", "港囗", "港口 OR 夜读"]:
    get("/api/search", urllib.parse.urlencode({"q": q}))
get("/api/search", "q=%E6%B8%AF%E5%8F%A3&explain=1&group=article&sort=newest")
get("/", "q=%E6%B8%AF%E5%8F%A3")
article = sorted(os.listdir(os.environ["ZHSEARCH_SEEDS"]))[0].rsplit(".", 1)[0]
get(f"/api/articles/{article}/related")
get(f"/api/articles/{article}", "q=%E6%B8%AF%E5%8F%A3")
get("/healthz")
print(" ".join(sorted(set(sys.modules) - before)))
print(" ".join(compiled))
"""


def test_a_worker_neither_imports_nor_compiles_what_the_master_could_have(indexed_env: dict[str, str]) -> None:
    """Every module a worker needs to open the index and answer, and every page template, is
    loaded once, in the master, and shared: one a worker loads is compiled, executed and kept in
    each worker's private memory, again after every recycle."""
    done = subprocess.run([sys.executable, "-c", WORKER_IMPORTS], env=indexed_env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    imported, compiled = done.stdout.split("\n")[:2]
    assert imported.split() == []
    assert compiled.split() == []  # what a worker would compile: templates, modules without a .pyc
