"""Memory of a serving process tree (issue #14): PSS and private memory per process and in total,
with 1, 2 and 4 gunicorn workers, before and after searches, during and after a hot swap.

    python bench/memory.py                          # both corpora together, 1/2/4 workers, a swap with 4
    python bench/memory.py --corpus xwlb --workers 2 --searches 200 --swap-at 2
    python bench/memory.py --swap-at '' --src /tmp/snap  # no swap; another checkout of `search`

For each worker count it serves a three-article index (the empty-index baseline) and then the
corpus index with the project's gunicorn config, and reads ``/proc/<pid>/smaps_rollup`` of the
master and every worker:

  started       the workers have opened the index (post_worker_init); one warm-up request served
  searched      after ``--searches`` random 2–6 character substrings of the corpus (``--typos``: a
                share of them reversed, mostly zero-hit queries that ask for did-you-mean)
  during swap   the largest figures sampled while ``zhsearch index`` rebuilds the corpus into a new
                build and swaps it in, searches continuing (the indexer's own memory not counted);
                only at the ``--swap-at`` worker counts (default 4: a rebuild takes minutes)
  after swap    after the swap and another ``--searches`` searches (every worker on the new build)

and prints the index size on disk beside them; the latency of the first requests after the swap
(a worker opens the new build in the background, or else in its first request) against the
median; and ``zhsearch query``
wall time and peak RSS on the corpus index against the three-article index (median of
``--repeat`` runs each, alternating). Everything is written under ``--workdir``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

CORPORA = {"xwlb": C.REPO.parent / "shared" / "corpora" / "xwlb.jsonl.gz",
           "president": C.REPO.parent / "shared" / "corpora" / "president.jsonl.gz"}
MIB = 1 << 20


# -- seeds and indexes ------------------------------------------------------------------------------


def corpus_seeds(names: list[str], dest: Path, limit: int | None = None) -> Path:
    """A seeds folder holding the named corpora (their first ``limit`` stories each), reused when present."""
    stamp = f"{','.join(names)}|{limit}"
    marker = dest / ".source"
    if marker.exists() and marker.read_text() == stamp:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        old.unlink()
    for name in names:
        with C.open_text(CORPORA[name]) as src, open(dest / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for i, line in enumerate(src):
                if limit is not None and i >= limit:
                    break
                out.write(line)
    marker.write_text(stamp)
    return dest


def paragraph_texts(seeds: Path) -> list[str]:
    """The paragraphs of the JSONL seeds, as written (for the query pool)."""
    texts = []
    for path in sorted(seeds.glob("*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            texts += [p for line in lines if line.strip() for p in json.loads(line)["text"].split("\n") if p]
    return texts


def zhsearch(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``python -m search ARGS`` with the measured checkout first on the path."""
    env = dict(env or os.environ, PYTHONPATH=str(C.SRC))
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=C.SRC, env=env, capture_output=True,
                          text=True, **kwargs)


def ensure_index(seeds: Path, index: Path) -> None:
    from search.config import Settings

    has_index = C.import_moved("search.build.indexer").has_index

    if not has_index(Settings(seeds_dir=seeds, index_dir=index)):
        started = time.perf_counter()
        done = zhsearch("index", "--seeds", str(seeds), "--index", str(index), check=True)
        # A fresh build's pages stay dirty in the page cache until written back (up to
        # vm.dirty_expire_centisecs, 30 s by default), and smaps counts such a page as Private_Dirty
        # of the one process that maps it: a lone worker measured just after a build "held" 180 MiB
        # of dirty memory that was only the index not yet on disk (2026-12-02). Write it back first.
        os.sync()
        print(f"built {index}: {done.stdout.strip()} ({time.perf_counter() - started:.0f} s)")


def build_size(index: Path) -> int:
    return C.dir_size(C.import_moved("search.formats.layout").IndexLayout(index).current())


# -- measuring processes ----------------------------------------------------------------------------


def rollup(pid: int) -> dict[str, int] | None:
    """RSS, PSS, private (clean + dirty) and private dirty bytes of one process, from
    /proc/<pid>/smaps_rollup. Private dirty is what the process alone wrote (heap, decoded copies);
    private clean is mostly file pages no other process maps right now — with one worker, every
    page of the index it has read — which stay in the page cache for the next one."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = {k.rstrip(":"): int(v) * 1024 for k, v, *_ in (line.split() for line in f) if v.isdigit()}
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return {"rss": fields["Rss"], "pss": fields["Pss"], "private": fields["Private_Clean"] + fields["Private_Dirty"],
            "dirty": fields["Private_Dirty"]}


def tree(master: int) -> dict:
    """The master's and each worker's rollup, and their sums."""
    import psutil

    workers = sorted(p.pid for p in psutil.Process(master).children(recursive=True))
    procs = {"master": rollup(master), **{f"worker {i + 1}": rollup(pid) for i, pid in enumerate(workers)}}
    procs = {name: r for name, r in procs.items() if r is not None}
    total = {k: sum(r[k] for r in procs.values()) for k in ("rss", "pss", "private", "dirty")}
    return {"procs": procs, "total": total}


class PeakSampler(C.Sampler):
    """Samples :func:`tree` every ``interval`` seconds; keeps the largest tree total PSS and the
    largest private memory of any worker."""

    def __init__(self, master: int, interval: float = 0.25):
        super().__init__(interval)
        self.master = master
        self.peak_pss, self.peak_private, self.peak_worker_private, self.peak_worker_dirty = 0, 0, 0, 0

    def sample(self) -> None:
        snap = tree(self.master)
        self.peak_pss = max(self.peak_pss, snap["total"]["pss"])
        self.peak_private = max(self.peak_private, snap["total"]["private"])
        workers = [r for name, r in snap["procs"].items() if name != "master"]
        self.peak_worker_private = max([self.peak_worker_private, *(r["private"] for r in workers)])
        self.peak_worker_dirty = max([self.peak_worker_dirty, *(r["dirty"] for r in workers)])


# -- load -------------------------------------------------------------------------------------------


def search_ms(base: str, q: str) -> float:
    """One /api/search request (a new connection: sync workers close after each response)."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    started = time.perf_counter()
    conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q}))
    resp = conn.getresponse()
    resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{q!r}: HTTP {resp.status}")
    return elapsed


def searches(base: str, pool: list[str], count: int, rng: random.Random, typos: float = 0.0) -> list[float]:
    """``count`` searches of pool substrings; a share ``typos`` of them reversed (mostly found
    nowhere: each worker then loads what did-you-mean needs)."""
    def query() -> str:
        q = rng.choice(pool)
        return q[::-1] if rng.random() < typos else q

    return [search_ms(base, query()) for _ in range(count)]


# -- the runs ---------------------------------------------------------------------------------------


def serve_and_measure(index: Path, seeds: Path, workers: int, pool: list[str], args, swap: bool) -> dict:
    from http_throughput import Gunicorn

    rng = random.Random(workers)
    out: dict = {}
    log = args.workdir / f"gunicorn-memory-{index.name}-{workers}.log"
    with Gunicorn("search.wsgi:app", index, seeds, workers, log) as server:
        time.sleep(1.0)  # let every worker finish post_worker_init (the index is opened there)
        master = server.proc.pid
        out["started"] = tree(master)
        latencies = searches(server.base, pool, args.searches, rng, args.typos)
        out["searched"] = tree(master)
        out["median_ms"] = statistics.median(latencies)
        if not swap:
            return out
        before = (index / "CURRENT").read_text().strip()
        with PeakSampler(master) as peak:
            indexer = subprocess.Popen([sys.executable, "-m", "search", "index", "--seeds", str(seeds), "--index",
                                        str(index)], cwd=C.SRC, env=dict(os.environ, PYTHONPATH=str(C.SRC)),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while indexer.poll() is None:  # searches go on while the new build is written
                search_ms(server.base, rng.choice(pool))
                time.sleep(0.05)
            if indexer.returncode != 0:
                raise RuntimeError(f"zhsearch index failed: {indexer.stderr.read()[-2000:]}")
            swapped_at = time.perf_counter()
            after_swap = []
            time.sleep(0.6)  # past the searcher's refresh interval (0.5 s): the next request reopens
            for _ in range(max(8, 4 * workers)):
                after_swap.append(search_ms(server.base, rng.choice(pool)))
            out["swap_peak"] = {"pss": peak.peak_pss, "private": peak.peak_private,
                                "worker_private": peak.peak_worker_private, "worker_dirty": peak.peak_worker_dirty}
        assert (index / "CURRENT").read_text().strip() != before, "the build was not swapped in"
        out["after_swap_first_ms"] = after_swap
        out["swap_seconds"] = time.perf_counter() - swapped_at
        out["median_after_ms"] = statistics.median(searches(server.base, pool, args.searches, rng, args.typos))
        out["after swap"] = tree(master)
    return out


def query_runs(index: Path, repeat: int) -> dict:
    """Wall time and peak RSS of ``zhsearch query`` (median of ``repeat`` runs)."""
    walls, peaks = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "search", "query", "中国 发展", "--index", str(index)],
                                cwd=C.SRC, env=dict(os.environ, PYTHONPATH=str(C.SRC)), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - started)
        peaks.append(usage.ru_maxrss * 1024)
        if status != 0:
            raise RuntimeError(f"zhsearch query failed: {proc.stderr.read().decode()[-2000:]}")
        proc.returncode = 0
    return {"wall": statistics.median(walls), "peak_rss": statistics.median(peaks)}


def mib(n: float) -> str:
    return f"{n / MIB:,.1f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="xwlb,president", help="corpora to serve together (xwlb, president)")
    ap.add_argument("--limit", type=int, default=None, help="first N stories of each corpus")
    ap.add_argument("--workers", default="1,2,4", help="worker counts to measure")
    ap.add_argument("--searches", type=int, default=300, help="searches per phase")
    ap.add_argument("--typos", type=float, default=0.0, help="share of searches reversed (zero-hit queries that "
                    "ask for did-you-mean)")
    ap.add_argument("--repeat", type=int, default=3, help="`zhsearch query` runs per index")
    ap.add_argument("--swap-at", default="4", help="worker counts at which to hot-swap (each rebuilds the corpus; "
                                                   "'' for none)")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)
    C.begin(args)

    names = args.corpus.split(",")
    seeds = corpus_seeds(names, args.workdir / f"seeds-{'+'.join(names)}-{args.limit or 'all'}", args.limit)
    tiny_seeds = corpus_seeds(names[:1], args.workdir / "seeds-three", 3)
    index = args.workdir / f"ix-memory-{'+'.join(names)}-{args.limit or 'all'}"
    tiny_index = args.workdir / "ix-memory-three"
    ensure_index(seeds, index)
    ensure_index(tiny_seeds, tiny_index)
    texts = paragraph_texts(seeds)
    print(f"corpus: {', '.join(names)}: {len(texts):,} paragraphs, {sum(map(len, texts)):,} characters")
    pool = C.substring_pool(texts, 5000)
    tiny_pool = C.substring_pool(paragraph_texts(tiny_seeds), 200)

    runs = {"three": {}, "corpus": {}}
    for workers in [int(w) for w in args.workers.split(",")]:
        runs["three"][workers] = serve_and_measure(tiny_index, tiny_seeds, workers, tiny_pool, args, swap=False)
        size = build_size(index)
        swap = str(workers) in args.swap_at.split(",")
        runs["corpus"][workers] = serve_and_measure(index, seeds, workers, pool, args, swap=swap)
        runs["corpus"][workers]["size"] = size
        print(f"measured {workers} worker(s)", flush=True)

    results = args.workdir / "memory-results.json"
    results.write_text(json.dumps(runs, indent=1))
    print(f"raw figures: {results}")
    rows = []
    for workers, three in runs["three"].items():
        corpus = runs["corpus"][workers]
        workers_of = lambda snap: [r for name, r in snap["procs"].items() if name != "master"]  # noqa: E731
        base = {k: max(r[k] for r in workers_of(three["searched"])) for k in ("private", "dirty")}
        for label, run, stages in (("three articles", three, ("started", "searched")),
                                   ("corpus", corpus, ("started", "searched", "after swap"))):
            for stage in stages:
                if stage not in run:  # no swap at this worker count
                    continue
                snap = run[stage]
                master, total = snap["procs"]["master"], snap["total"]
                beyond = (f"{mib(max(r['private'] for r in workers_of(snap)) - base['private'])} / "
                          f"{mib(max(r['dirty'] for r in workers_of(snap)) - base['dirty'])}")
                rows.append([workers, label, stage, mib(total["pss"]), f"{mib(total['private'])} / {mib(total['dirty'])}",
                             f"{mib(master['pss'])} / {mib(master['private'])} / {mib(master['dirty'])}",
                             " · ".join(f"{mib(r['pss'])} / {mib(r['private'])} / {mib(r['dirty'])}"
                                        for r in workers_of(snap)),
                             beyond if label == "corpus" else "", mib(corpus["size"]) if label == "corpus" else ""])
        if "swap_peak" in corpus:
            peak = corpus["swap_peak"]
            rows.append([workers, "corpus", "during swap (peak)", mib(peak["pss"]), f"{mib(peak['private'])} / ",
                         "", f"largest worker: private {mib(peak['worker_private'])}, dirty {mib(peak['worker_dirty'])}",
                         f"{mib(peak['worker_private'] - base['private'])} / {mib(peak['worker_dirty'] - base['dirty'])}",
                         mib(corpus["size"])])
    print()
    print("Memory in MiB (smaps_rollup). Per process PSS / private (clean + dirty) / private dirty; tree: sums.")
    print("Private clean is mostly index pages mapped by no other process (one worker: all it has read).")
    print(C.table(rows, ["workers", "index", "stage", "tree PSS", "tree private / dirty", "master",
                         "workers", "largest worker beyond baseline: private / dirty", "index on disk"]))

    print()
    swap_rows = []
    for workers, corpus in runs["corpus"].items():
        if "after_swap_first_ms" in corpus:
            first = corpus["after_swap_first_ms"]
            swap_rows.append([workers, f"{corpus['median_ms']:.1f}", f"{corpus['median_after_ms']:.1f}",
                              " ".join(f"{ms:.0f}" for ms in first),
                              f"{max(first) - corpus['median_ms']:+.1f}"])
    if swap_rows:
        print("First requests after a swap (ms), against the median of the searches before it:")
        print(C.table(swap_rows, ["workers", "median before", "median after", "first requests after the swap",
                                  "slowest − median"]))
        print()

    tiny_q, big_q = {"wall": [], "peak_rss": []}, {"wall": [], "peak_rss": []}
    for _ in range(args.repeat):  # alternate, so drifting load hits both alike
        for target, runs_ in ((tiny_index, tiny_q), (index, big_q)):
            one = query_runs(target, 1)
            runs_["wall"].append(one["wall"])
            runs_["peak_rss"].append(one["peak_rss"])
    tw, bw = statistics.median(tiny_q["wall"]), statistics.median(big_q["wall"])
    print(C.table([["three articles", f"{tw:.2f}", mib(statistics.median(tiny_q["peak_rss"])), "1"],
                   [f"corpus ({mib(build_size(index))} MiB)", f"{bw:.2f}", mib(statistics.median(big_q["peak_rss"])),
                    f"{bw / tw:.2f}×"]],
                  ["`zhsearch query \"中国 发展\"`", "wall s (median)", "peak RSS MiB", "wall vs three articles"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
