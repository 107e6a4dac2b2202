"""Shared helpers for the benchmarks in ``bench/`` (run on demand, never in the test suite).

Everything written goes under a temp folder (``--workdir``, default ``/tmp/zhsearch-bench``);
the corpus is read from ``../shared/corpora`` and never copied into the repository.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# ../shared/corpora beside the repo, or beside a folder above it (a git worktree under wt/)
DEFAULT_CORPUS = next((up / "shared" / "corpora" / "xwlb.jsonl.gz" for up in REPO.parents
                       if (up / "shared" / "corpora").is_dir()), REPO.parent / "shared" / "corpora" / "xwlb.jsonl.gz")
DEFAULT_WORKDIR = Path(os.environ.get("ZHSEARCH_BENCH_DIR", "/tmp/zhsearch-bench"))

# Which checkout of the ``search`` package to measure: the repo by default, or ZHSEARCH_SRC / --src
# (e.g. a ``git archive`` snapshot under /tmp while others edit the work tree).
SRC = Path(os.environ.get("ZHSEARCH_SRC") or REPO).resolve()
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def use_src(path: Path | None) -> Path:
    """Measure the ``search`` package in ``path`` (also for child processes); call before importing it."""
    global SRC
    if path is not None:
        SRC = Path(path).resolve()
        os.environ["ZHSEARCH_SRC"] = str(SRC)
        if "search" in sys.modules:
            raise RuntimeError("use_src() after `search` was imported")
        sys.path.insert(0, str(SRC))
    return SRC


# Where a module lived before the package was grouped by pipeline stage (56d8cd0 and earlier), so
# that one script compares snapshots from both sides of that change (``--srcs``).
BEFORE_LAYOUT = {
    "search.build.indexer": "search.indexer",
    "search.formats.layout": "search.store",
    "search.query.searcher": "search.searcher",
    "search.query.suggest": "search.suggest",
    "search.text.analysis": "search.analysis",
    "search.text.normalize": "search.normalize",
    "search.web.app": "search.web",
}


def import_moved(name: str):
    """Module ``name`` of the measured ``search`` package, or its old name in a snapshot made
    before the package was grouped by stage."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if name not in BEFORE_LAYOUT or not (missing.name or "").startswith("search"):
            raise
        return importlib.import_module(BEFORE_LAYOUT[name])


def add_location_arguments(ap) -> None:
    """``--workdir`` and ``--src``, shared by every benchmark."""
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    ap.add_argument("--src", type=Path, help="folder holding the `search` package to measure (default: this repo)")


def begin(args) -> None:
    """Use ``--src``, create ``--workdir``, and print what is measured where."""
    use_src(args.src)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(machine_line())
    print(src_line())


def measured_code() -> tuple[str | None, str]:
    """The commit of the ``search`` package measured (short; from ``.bench-commit`` in a snapshot), or
    None when unknown, and what the code measured has beyond it ("" when nothing)."""
    try:
        rev = subprocess.run(["git", "-C", str(SRC), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(SRC), "status", "--porcelain", "search"], capture_output=True,
                               text=True).stdout.strip()
        return rev, "uncommitted changes in search/" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        stamp = SRC / ".bench-commit"
        return (stamp.read_text().strip() or None) if stamp.exists() else None, ""


def src_line() -> str:
    """Which code is measured: the folder, its commit and whether it has uncommitted changes."""
    commit, extra = measured_code()
    return f"code: {SRC}" + (f" at {commit}" if commit else " (commit unknown)") + (f" + {extra}" if extra else "")


def code_to_record() -> tuple[str, str]:
    """The commit measured and a note on what differs from it, for ``results.record``; exits (before the
    run, not after it) when the commit is unknown."""
    commit, extra = measured_code()
    if not commit:
        raise SystemExit(f"which commit is {SRC}? write it into {SRC / '.bench-commit'}")
    return commit, f"measured with {extra} on top of {commit}" if extra else ""


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def machine_line(stamp: bool = True) -> str:
    """One line naming the machine and its load now (with the time unless ``stamp`` is false)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return ((f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · " if stamp else "") + f"{cores()} cores · "
            f"Python {platform.python_version()} · load avg {load[0]:.1f} at start")


def figures_of(values: dict, digits: int = 4) -> dict:
    """``values`` as figures for ``results.record``: floats to ``digits`` significant digits (whole
    numbers from there on), None (not measured) left out."""
    def rounded(value):
        if not isinstance(value, float) or not math.isfinite(value):
            return value
        value = float(f"{value:.{digits}g}")
        return int(value) if abs(value) >= 10 ** (digits - 1) else value

    return {name: rounded(value) for name, value in values.items() if value is not None}


# -- corpora ----------------------------------------------------------------------------------------


def open_text(path: Path):
    path = Path(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def prepare_seeds(corpus: Path, dest: Path, limit: int | None = None, extra_seeds: Path | None = None,
                  copies: int = 1) -> Path:
    """A seeds folder under ``dest`` holding the first ``limit`` JSONL lines of ``corpus``,
    ``copies`` times over (the ids of copy k > 0 get a ``#k`` suffix, so a larger corpus of the
    same kind of text can be indexed).

    ``extra_seeds`` (e.g. the repo's ``seeds/``) is symlinked in beside it. Reused when present.
    """
    dest = Path(dest)
    marker = dest / ".source"
    stamp = f"{Path(corpus).resolve()}|{limit}|{extra_seeds}" + (f"|x{copies}" if copies != 1 else "")
    if marker.exists() and marker.read_text() == stamp:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_symlink() or old.is_file():
            old.unlink()
    with open(dest / "corpus.jsonl", "w", encoding="utf-8") as out:
        for copy in range(copies):
            with open_text(corpus) as src:
                for i, line in enumerate(src):
                    if limit is not None and i >= limit:
                        break
                    if copy and line.strip():
                        record = json.loads(line)
                        record["id"] = f"{record['id']}#{copy}"
                        line = json.dumps(record, ensure_ascii=False) + "\n"
                    out.write(line)
    if extra_seeds is not None and Path(extra_seeds).is_dir():
        for f in Path(extra_seeds).iterdir():
            if not f.name.startswith(".") and f.is_file():
                (dest / f.name).symlink_to(f.resolve())
    marker.write_text(stamp)
    return dest


def read_paragraph_texts(seeds: Path) -> list[tuple[str, int, str, str]]:
    """(article_id, n, title, text) for every paragraph zhsearch would index."""
    from search.paragraphs import read_articles

    out = []
    for article in read_articles(Path(seeds), lambda problem: None):
        for p in article.paragraphs:
            out.append((article.id, p.n, article.title, p.text))
    return out


def substring_pool(texts: list[str], count: int, seed: int = 5, min_len: int = 2, max_len: int = 6,
                   alnum_only: bool = True) -> list[str]:
    """``count`` distinct random 2–6 character substrings of the (normalised) corpus.

    Only substrings made of letters/digits/CJK (no punctuation or spaces), so each is one search
    term whose normalised form occurs in the corpus: none may have zero hits.
    """
    from search.text.normalize import normalize, skeleton

    rng = random.Random(seed)
    pool: dict[str, None] = {}
    tries = 0
    while len(pool) < count and tries < count * 50:
        tries += 1
        text = texts[rng.randrange(len(texts))]
        length = rng.randint(min_len, max_len)
        if len(text) < length:
            continue
        at = rng.randrange(len(text) - length + 1)
        piece = text[at : at + length]
        if alnum_only and not all(c.isalnum() for c in piece):
            continue
        if not skeleton(normalize(piece)):
            continue
        pool[piece] = None
    return list(pool)


# -- process measurement ----------------------------------------------------------------------------


class Sampler:
    """A background thread that calls :meth:`sample` every ``interval`` seconds while the
    ``with`` block runs (subclasses keep their peaks)."""

    def __init__(self, interval: float):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


class TreeRSS(Sampler):
    """Samples the summed RSS of a process and all its descendants (peak, in bytes), and their
    summed PSS: forked workers share the dictionaries loaded before the fork, which RSS counts
    once per process and PSS splits between them (Linux only; 0 elsewhere); and their summed
    anonymous RSS (``RssAnon``: the memory they allocated, without the pages of files they map,
    which the kernel can drop and read again; Linux only)."""

    def __init__(self, pid: int, interval: float = 0.1):
        import psutil

        super().__init__(interval)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.peak_single = 0
        self.peak_pss = 0
        self.peak_anon = 0

    def sample(self) -> None:
        import psutil

        try:
            procs = [self.proc] + self.proc.children(recursive=True)
            rss, pss, anon = [], [], []
            for p in procs:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                rss.append(info.rss)
                pss.append(getattr(info, "pss", 0))
                anon.append(_anonymous_rss(p.pid))
            if rss:
                self.peak = max(self.peak, sum(rss))
                self.peak_single = max(self.peak_single, max(rss))
                self.peak_pss = max(self.peak_pss, sum(pss))
                self.peak_anon = max(self.peak_anon, sum(anon))
        except psutil.Error:
            pass


def _anonymous_rss(pid: int) -> int:
    """A process's ``RssAnon`` in bytes (0 where /proc does not say)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def run_measured(argv: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``argv`` (a Python side that prints one JSON line last); add peak RSS and CPU time."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU only: ru_maxrss here is a max over all
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or os.environ.copy())
    with TreeRSS(proc.pid) as rss:
        out, err = proc.communicate(timeout=timeout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-4000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    result.update(
        wall_total=wall,
        cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        peak_rss_tree=rss.peak,
        peak_pss_tree=rss.peak_pss,
        peak_anon_tree=rss.peak_anon,
        peak_rss_single=max(rss.peak_single, result.pop("maxrss_self", 0), result.pop("maxrss_children", 0)),
    )
    return result


def own_maxrss() -> dict:
    """Peak RSS of this process and of its largest waited-for child, in bytes (for run_measured)."""
    import resource

    return {"maxrss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "maxrss_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}


def dir_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


# -- formatting -------------------------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def percentiles(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    v = sorted(values_ms)

    def pct(p):
        return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]

    return {"n": len(v), "p50": pct(50), "p90": pct(90), "p99": pct(99), "max": v[-1],
            "mean": statistics.fmean(v)}


def table(rows: list[list], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells[1:]]
    return "\n".join(lines)


# -- servers ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up: {last}")
