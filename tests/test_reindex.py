"""Reindexing while serving, killed and concurrent builds, bad seed files — with real processes.

(a) real gunicorn (2 workers) answers every request while ``python -m search index`` runs again
and again, and a new article becomes searchable without a restart; (b) a build killed with SIGKILL
leaves the live index answering identically, leaves no process behind, and the next build works
and removes the stale folders; (c) a second concurrent build exits non-zero with one line; (d) bad
seed files are reported as ``path:line: reason`` and skipped, ``--strict`` and missing/empty seeds
leave the live index untouched. Only 127.0.0.1; every process started here is killed at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import free_port
from search import cli
from search.build import store
from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.query.searcher import Searcher

REPO = Path(__file__).resolve().parent.parent
BUILD_PAUSE = Path(__file__).resolve().parent / "build_pause.py"
# Only against a hang: the tests wait on events (a line on a pipe, a worker mapping a file), never
# on a speed; this bound is not reached by a build or a worker that works, however loaded the machine.
HANG = 300.0

SMALL = {
    "un": "联合国宪章生效八十周年\n联合国成员国代表周五在纽约集会，纪念《联合国宪章》生效八十周年。\n责任编辑：王小明\n",
    "climate": "气候大会今日闭幕\n气候变化对农业的影响很大。联合国秘书长呼吁各国合作。\n",
    "trad": "聯合國大會通過決議\n聯合國大會今日以壓倒性多數通過決議，呼籲各方保持克制。\n",
}
NEW_WORD = "独角兽计划"


def write_small(seeds: Path) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    for article_id, text in SMALL.items():
        (seeds / f"{article_id}.txt").write_text(text, encoding="utf-8")


def write_large(seeds: Path, n: int = 1500) -> None:
    """Generated articles (~1 M characters): several batches for a 2-process build's workers."""
    words = ("联合国 安理会 决议 气候 变化 农业 经济 发展 合作 会议 代表 国家 政府 人民 历史 文化 科技 创新 "
             "教育 环境 能源 和平 安全 世界 社会").split()
    rng = random.Random(7)
    seeds.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        paragraphs = [f"第{i}篇生成的文章"] + ["".join(rng.choice(words) for _ in range(40)) + "。" for _ in range(8)]
        (seeds / f"gen_{i:04d}.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")


def env_for(seeds: Path, index: Path) -> dict:
    env = dict(os.environ, ZHSEARCH_SEEDS=str(seeds), ZHSEARCH_INDEX=str(index), PYTHONUNBUFFERED="1")
    env.pop("PYTHONWARNINGS", None)
    return env


def index_command(*extra: str) -> list[str]:
    """A whole rebuild (``--full``): these tests are about swapping whole builds in."""
    return [sys.executable, "-m", "search", "index", "--full", *extra]


def answers(index: Path, queries=("联合国", "气候", '"联合国宪章"', "title:联合国", "经济 OR 文化")) -> list:
    """What a fresh searcher answers for a few queries (timing removed)."""
    searcher = Searcher(Settings(index_dir=index))
    try:
        out = []
        for q in queries:
            result = searcher.search(q, size=100)
            result.pop("took_ms")
            out.append(result)
        return out
    finally:
        searcher.close()


def paused_build(stage: str, *options: str, env: dict, log: Path) -> subprocess.Popen:
    """``zhsearch index`` that stops at ``stage`` (tests/build_pause.py); see :func:`wait_paused`."""
    with open(log, "wb") as stderr:
        return subprocess.Popen([sys.executable, str(BUILD_PAUSE), stage, *options], env=env, cwd=str(REPO),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)


def wait_paused(proc: subprocess.Popen, stage: str, log: Path) -> None:
    """Block until ``proc`` says it is paused at ``stage``."""
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], HANG)
        line = proc.stdout.readline().decode() if ready else None
        if line == f"paused at {stage}\n":
            return
        if not line:  # the build ended, or hung, before the stage
            proc.kill()
            raise AssertionError(f"the build never reached {stage!r} (exit {proc.wait()}):\n"
                                 + log.read_text(errors="replace")[-3000:])


def resume(proc: subprocess.Popen) -> tuple[bytes, int]:
    """Let a paused build go on; its remaining stdout and exit code."""
    out, _ = proc.communicate(b"\n", timeout=HANG)
    return out, proc.returncode


def worker_pids(master: int) -> list[int]:
    """The pids whose parent is ``master`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def wait_workers_opened(master: int, build: str) -> None:
    """Block until every worker of gunicorn ``master`` has mapped files of the build folder ``build``:
    opening a build maps its arrays, and a worker answers from the build it opened last."""
    deadline = time.monotonic() + HANG
    while True:
        workers = worker_pids(master)
        behind = []
        for pid in workers:
            try:
                if f"/{build}/" not in Path(f"/proc/{pid}/maps").read_text():
                    behind.append(pid)
            except OSError:  # a worker that just left (recycled): look again
                behind.append(pid)
        if workers and not behind:
            return
        assert time.monotonic() < deadline, f"workers {behind} never opened the new build {build}"
        time.sleep(0.05)


def build_dirs(index: Path) -> set[str]:
    return {p.name for p in index.glob("build-*")}


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions ``text`` (our unique tmp paths), this process excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


# --- a real gunicorn --------------------------------------------------------------------------


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def search_path(q: str, **params) -> str:
    return "/api/search?" + "&".join([f"q={quote(q)}"] + [f"{k}={v}" for k, v in params.items()])


class Gunicorn:
    """``python -m gunicorn`` with the production config on 127.0.0.1:<free port>."""

    def __init__(self, seeds: Path, index: Path, log: Path, workers: int = 2):
        self.port = free_port()
        self.log = log
        self._log_handle = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:search.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "search.wsgi:app"],
            env=env_for(seeds, index), cwd=str(REPO), stdout=self._log_handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited {self.proc.returncode}:\n{self.log.read_text(errors='replace')}")
            try:
                if get(self.port, "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn not answering on 127.0.0.1:{self.port} after {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log_handle.close()


@pytest.fixture
def killer():
    """Processes registered here are killed (with their children) when the test ends."""
    procs: list[subprocess.Popen] = []
    yield procs.append
    for proc in procs:
        try:  # its session's group, also when it is gone and left processes behind (a failed test)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if proc.poll() is None:
                proc.kill()
        proc.wait(timeout=HANG)


@pytest.fixture
def served(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_small(seeds)
    build_index(Settings(seeds_dir=seeds, index_dir=index), jobs=1)
    server = Gunicorn(seeds, index, tmp_path / "gunicorn.log")
    try:
        server.wait_ready()
        yield server, seeds, index
    finally:
        server.stop()


# --- (a) reindex under load -------------------------------------------------------------------


def test_reindex_under_load_fails_no_request_and_picks_up_new_articles(served, killer):
    server, seeds, index = served
    expected_total = json.loads(get(server.port, search_path("联合国"))[1])["total"]
    stop = threading.Event()
    lock = threading.Lock()
    stats = {"ok": 0, "failed": []}

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline and stats["ok"] < 20_000:
            q = rng.choice(["联合国", "联合国", "气候", '"联合国宪章"', "title:气候", "联合国 -气候"])
            try:
                status, body = get(server.port, search_path(q, size=rng.choice([1, 10, 100])))
                result = json.loads(body)
                good = status == 200 and (q != "联合国" or result["total"] == expected_total)
            except Exception as error:  # a refused or reset connection is a failed request too
                status, good, result = repr(error), False, None
            with lock:
                if good:
                    stats["ok"] += 1
                else:
                    stats["failed"].append((q, status, result))

    threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(3)]
    for thread in threads:
        thread.start()
    swaps = []
    found_after = None
    try:
        for round_ in range(5):
            if round_ == 2:
                (seeds / "news.txt").write_text(f"新文章\n今天宣布了{NEW_WORD}，引起关注。\n", encoding="utf-8")
            before = (index / "CURRENT").read_text()
            proc = subprocess.Popen(index_command("--jobs", "1"), env=env_for(seeds, index), cwd=str(REPO),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            killer(proc)
            out, err = proc.communicate(timeout=HANG)
            assert proc.returncode == 0, err.decode()
            swaps.append((index / "CURRENT").read_text() != before)
            if round_ == 2:
                # each worker looks for a new build every refresh_interval, in a thread of its own;
                # once every worker has opened it, whichever answers finds the new article
                started = time.monotonic()
                wait_workers_opened(server.proc.pid, (index / "CURRENT").read_text().strip())
                found_after = time.monotonic() - started
                for _ in range(10):
                    status, body = get(server.port, search_path(NEW_WORD))
                    assert status == 200 and json.loads(body)["total"] == 1, (status, body)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    print(f"\nreindex under load: 5 builds, {stats['ok']} requests answered, {len(stats['failed'])} failed; "
          f"every worker opened the new build {found_after:.2f} s after it finished")
    assert all(swaps)
    assert stats["failed"] == [], stats["failed"][:5]
    assert stats["ok"] > 0
    # besides the live build, only builds retired so recently that a worker may still read them
    live = (index / "CURRENT").read_text().strip()
    assert all((index / name / store.RETIRED).stat().st_mtime > time.time() - store.RETIRED_GRACE
               for name in build_dirs(index) - {live})
    assert server.proc.poll() is None


# --- (b) killed builds ------------------------------------------------------------------------


def test_killed_build_leaves_the_live_index_and_the_next_build_works(tmp_path, killer):
    small, large, index = tmp_path / "small", tmp_path / "large", tmp_path / "index"
    write_small(small)
    write_large(large)
    build_index(Settings(seeds_dir=small, index_dir=index), jobs=1)
    live = (index / "CURRENT").read_text()
    before = answers(index)
    # killed at each stage: with the lock, with its worker processes stuck (only its death ends
    # them), with Whoosh's writer child running beside it, with the build complete but not swapped in
    for stage in ("locked", "analysing", "finishing", "swapping"):
        log = tmp_path / f"build-{stage}.log"
        proc = paused_build(stage, "--jobs", "2", "--seeds", str(large), "--index", str(index),
                            env=env_for(small, index), log=log)
        killer(proc)
        wait_paused(proc, stage, log)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG)
        # the builder's own worker processes must not outlive it (they would hold the build lock);
        # the kernel kills them on its death, asynchronously
        deadline = time.monotonic() + HANG
        while processes_mentioning(str(large)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_mentioning(str(large)) == [], f"processes left behind by a build killed {stage}"
        assert (index / "CURRENT").read_text() == live
        assert answers(index) == before, f"answers changed after a build killed {stage}"
    assert len(build_dirs(index)) > 1  # the killed builds left folders behind ...
    result = subprocess.run(index_command("--jobs", "2", "--seeds", str(small), "--index", str(index)),
                            env=env_for(small, index), cwd=str(REPO), capture_output=True, timeout=HANG)
    assert result.returncode == 0, result.stderr.decode()
    assert (index / "CURRENT").read_text() != live
    assert answers(index) == before  # same seeds, same answers
    assert build_dirs(index) <= {live.strip(), (index / "CURRENT").read_text().strip()}  # ... now removed
    assert not list(index.glob(".CURRENT.*"))


# --- (c) two builds at once -------------------------------------------------------------------


def test_concurrent_builds_one_refused_in_one_line(tmp_path, killer):
    small, large, index = tmp_path / "small", tmp_path / "large", tmp_path / "index"
    write_small(small)
    write_large(large)
    build_index(Settings(seeds_dir=small, index_dir=index), jobs=1)
    env = env_for(large, index)
    log = tmp_path / "first-build.log"
    first = paused_build("locked", "--jobs", "2", env=env, log=log)  # holding the lock
    killer(first)
    wait_paused(first, "locked", log)
    second = subprocess.run(index_command("--jobs", "2"), env=env, cwd=str(REPO), capture_output=True, timeout=HANG)
    _, code = resume(first)
    assert code == 0, log.read_text()
    assert second.returncode != 0
    message = second.stderr.decode()
    assert "Traceback" not in message
    assert len(message.strip().splitlines()) == 1, message
    assert "another build is running" in message
    layout = IndexLayout(index)
    assert layout.current() is not None
    health = Searcher(Settings(index_dir=index)).health()
    assert health["articles"] == len(list(large.glob("*.txt")))
    assert answers(index, ("第7篇生成的文章",))[0]["total"] == 1


# --- (d) bad seed files -----------------------------------------------------------------------


def write_bad_seeds(seeds: Path) -> None:
    write_small(seeds)
    (seeds / "sub").mkdir()
    (seeds / "sub" / "bad_utf8.txt").write_bytes("开头是好的\n".encode() + b"\xff\xfe\xfd broken\n")
    (seeds / "empty.txt").write_bytes(b"")
    rows = [
        json.dumps({"id": "j1", "title": "第一条", "text": "联合国第一条新闻。\n第二段。"}, ensure_ascii=False),
        '{"id": "j2", "title": "坏行", "text": ',  # malformed JSON
        json.dumps({"title": "没有id", "text": "文本"}, ensure_ascii=False),
        json.dumps({"id": "j4", "title": "没有text"}, ensure_ascii=False),
        json.dumps({"id": "j1", "title": "重复", "text": "重复的编号。"}, ensure_ascii=False),
        json.dumps({"id": "j6", "title": "第六条", "text": "最后一条好新闻。", "lang": "zh"}, ensure_ascii=False),
    ]
    (seeds / "feed.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


BAD_REPORTS = {  # path:line: → a word its reason must contain
    "sub/bad_utf8.txt:2:": "UTF-8",
    "empty.txt:1:": "empty",
    "feed.jsonl:2:": "JSON",
    "feed.jsonl:3:": "id",
    "feed.jsonl:4:": "text",
    "feed.jsonl:5:": "duplicate",
}


def problem_lines(stderr: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in stderr.splitlines():
        for where in BAD_REPORTS:
            if line.startswith(where) or f"/{where}" in line.split(" ")[0]:
                found.setdefault(where, []).append(line)
    return found


def test_bad_seed_files_are_reported_once_and_skipped(tmp_path, capsys):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_bad_seeds(seeds)
    code = cli.main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"], environ={})
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    found = problem_lines(err)
    for where, word in BAD_REPORTS.items():
        assert len(found.get(where, [])) == 1, (where, err)
        assert word.lower() in found[where][0].lower(), found[where]
    health = Searcher(Settings(index_dir=index)).health()
    assert health["articles"] == len(SMALL) + 2  # un, climate, trad, j1, j6
    assert answers(index, ("最后一条好新闻",))[0]["total"] == 1
    assert answers(index, ("重复的编号",))[0]["total"] == 0  # the duplicate was skipped, the first kept
    assert answers(index, ("联合国第一条新闻",))[0]["total"] == 1
    assert "articles" in out


def test_strict_refuses_and_leaves_the_live_index_untouched(tmp_path, capsys):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_small(seeds)
    assert cli.main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"], environ={}) == 0
    capsys.readouterr()
    live, folders, before = (index / "CURRENT").read_bytes(), build_dirs(index), answers(index)
    pointer_stat = (index / "CURRENT").stat()
    write_bad_seeds(seeds)
    code = cli.main(["index", "--strict", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"], environ={})
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert (index / "CURRENT").read_bytes() == live
    assert (index / "CURRENT").stat().st_mtime_ns == pointer_stat.st_mtime_ns
    assert build_dirs(index) == folders
    assert answers(index) == before


@pytest.mark.parametrize("what", ["missing", "empty", "only-bad", "a-file"])
def test_missing_or_empty_seeds_is_a_clear_error(tmp_path, capsys, what):
    good, index = tmp_path / "good", tmp_path / "index"
    write_small(good)
    assert cli.main(["index", "--seeds", str(good), "--index", str(index), "--jobs", "1"], environ={}) == 0
    capsys.readouterr()
    live, folders, before = (index / "CURRENT").read_bytes(), build_dirs(index), answers(index)
    seeds = tmp_path / "seeds"
    if what == "empty":
        seeds.mkdir()
    elif what == "only-bad":
        seeds.mkdir()
        (seeds / "empty.txt").write_bytes(b"")
        (seeds / "readme.csv").write_text("not an article")
    elif what == "a-file":
        seeds.write_text("not a folder")
    code = cli.main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"], environ={})
    out, err = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in err
    assert str(seeds) in err or "seeds" in err
    assert (index / "CURRENT").read_bytes() == live
    assert build_dirs(index) == folders
    assert answers(index) == before


def test_missing_seeds_without_an_index_creates_no_index(tmp_path, capsys):
    index = tmp_path / "index"
    code = cli.main(["index", "--seeds", str(tmp_path / "nope"), "--index", str(index), "--jobs", "1"], environ={})
    assert code != 0
    assert IndexLayout(index).current() is None
    assert not (index / "CURRENT").exists()
    assert build_dirs(index) == set()
