"""Updates against whole builds, side by side in one run, on the shared corpora together.

    python bench/update.py                      # both corpora (~21 M characters)
    python bench/update.py --limit 3000         # the first 3,000 stories of each
    python bench/update.py --small-updates 30 --queries 300

1. Holds back some stories, builds the rest whole (``zhsearch index --full``, timed as a command).
2. Applies one update of 100 added + 20 changed + 10 removed stories (``zhsearch index``) and prints
   its time as a share of the whole build's (the bound: 5 %), and builds the same seeds whole again
   to check that both answer alike (totals of the query pools).
3. Applies ``--small-updates`` updates of 5 added stories each, builds the resulting seeds whole
   in a second folder, and times the query sets of ``latency.py`` on both, query by query
   alternating, in process: p50 and p99 of each set and their ratios (the bound: 1.2×).

Prints figures and appends a line to ``bench/results/update.jsonl`` (the per-set latency table
under ``details``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from latency import query_sets  # noqa: E402
from results import record  # noqa: E402

CORPORA = sorted(C.DEFAULT_CORPUS.parent.glob("*.jsonl.gz"))


def index(seeds: Path, folder: Path, *extra: str) -> tuple[float, str]:
    """Run ``zhsearch index`` as a command; its wall time and summary line."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "search", "index", "--seeds", str(seeds), "--index", str(folder),
                           *extra], capture_output=True, text=True, cwd=str(C.SRC))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"zhsearch index failed: {done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


class Seeds:
    """The corpora as JSONL seed files, stories held back, edited and removed."""

    def __init__(self, folder: Path, corpora: list[Path], limit: int | None, held: int, seed: int = 11):
        self.folder = folder
        self.rng = random.Random(seed)
        self.files: dict[str, list[dict]] = {}
        self.held: list[tuple[str, dict]] = []
        for corpus in corpora:
            with gzip.open(corpus, "rt", encoding="utf-8") as lines:
                stories = [json.loads(line) for n, line in enumerate(lines) if limit is None or n < limit]
            name = corpus.name.removesuffix(".gz")
            back = set(self.rng.sample(range(len(stories)), held // len(corpora)))
            self.held += [(name, stories[i]) for i in sorted(back)]
            self.files[name] = [s for i, s in enumerate(stories) if i not in back]
        self.rng.shuffle(self.held)

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, stories in self.files.items():
            with open(self.folder / name, "w", encoding="utf-8") as out:
                out.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in stories)

    def add(self, count: int) -> None:
        for _ in range(count):
            name, story = self.held.pop()
            self.files[name].insert(self.rng.randrange(len(self.files[name]) + 1), story)

    def change(self, count: int) -> None:
        for name, stories in self.rng.sample(list(self.files.items()) * count, count):
            story = stories[self.rng.randrange(len(stories))]
            story["text"] += "\n" + self.rng.choice(["会议强调，要加强合作。", "记者了解到，相关工作正在推进。"])

    def remove(self, count: int) -> None:
        for name, stories in self.rng.sample(list(self.files.items()) * count, count):
            del stories[self.rng.randrange(len(stories))]

    def texts(self) -> list[str]:
        return [s["text"] for stories in self.files.values() for s in stories]


def latency(a: Path, b: Path, seeds: Path, pools: dict[str, list[str]]) -> dict:
    """Each pool's queries on both indexes, alternating query by query: p50/p99 and ratios a/b."""
    from search.config import Settings
    from search.query.searcher import Searcher

    searchers = [Searcher(Settings(seeds_dir=seeds, index_dir=folder, refresh_interval=3600)) for folder in (a, b)]
    for searcher in searchers:
        for q in pools["keyword"][:50]:
            searcher.search(q)  # warm up
    found = {}
    for name, queries in pools.items():
        times: list[list[float]] = [[], []]
        totals = [[], []]
        for q in queries:
            for side, searcher in enumerate(searchers):
                started = time.perf_counter()
                result = searcher.search(q, size=10)
                times[side].append((time.perf_counter() - started) * 1000)
                totals[side].append(result["total"])
        if totals[0] != totals[1]:
            raise SystemExit(f"the two indexes disagree on the totals of the {name} queries")
        pa, pb = C.percentiles(times[0]), C.percentiles(times[1])
        found[name] = {"updated": pa, "fresh": pb, "p50_ratio": pa["p50"] / pb["p50"], "p99_ratio": pa["p99"] / pb["p99"]}
    for searcher in searchers:
        searcher.close()
    return found


def figures(full_s: float, update_s: float, small_s: list[float], segments: list[int], latency: dict,
            rebuild_s: float | None = None) -> dict:
    """A run's flat figures: the update against the whole build, the small updates, the segments left,
    the same seeds built whole, and each query set's p50 and p99 on the updated index against the fresh one."""
    values = {"full_build_s": full_s, "update_s": update_s, "update_share": update_s / full_s, "rebuild_s": rebuild_s,
              "small_updates": len(small_s), "small_update_median_s": statistics.median(small_s) if small_s else None,
              "small_update_max_s": max(small_s, default=None), "segments": len(segments), "articles": sum(segments)}
    for name, sides in latency.items():
        values |= {f"{name}_p50_ratio": sides["p50_ratio"], f"{name}_p99_ratio": sides["p99_ratio"]}
    return C.figures_of(values)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, nargs="+", default=CORPORA)
    ap.add_argument("--limit", type=int, default=None, help="first N stories of each corpus")
    ap.add_argument("--small-updates", type=int, default=30)
    ap.add_argument("--queries", type=int, default=300, help="random substrings per query set")
    ap.add_argument("--workdir", type=Path, default=C.DEFAULT_WORKDIR / "update")
    args = ap.parse_args(argv)
    commit, commit_note = C.code_to_record()
    shutil.rmtree(args.workdir, ignore_errors=True)
    seeds = Seeds(args.workdir / "seeds", args.corpus, args.limit, held=100 + 5 * args.small_updates + 10)
    seeds.write()
    live, fresh = args.workdir / "index", args.workdir / "fresh"
    print(C.machine_line(), flush=True)
    machine = C.machine_line(stamp=False)
    full_seconds, line = index(seeds.folder, live, "--full")
    print(f"whole build: {full_seconds:.1f} s ({line})", flush=True)
    seeds.add(100)
    seeds.change(20)
    seeds.remove(10)
    seeds.write()
    update_seconds, line = index(seeds.folder, live)
    print(f"update of 100 added, 20 changed, 10 removed: {update_seconds:.2f} s = "
          f"{100 * update_seconds / full_seconds:.1f} % of the whole build ({line})", flush=True)
    small = []
    for _ in range(args.small_updates):
        seeds.add(5)
        seeds.write()
        small.append(index(seeds.folder, live)[0])
    print(f"{args.small_updates} updates of 5 added stories: median {sorted(small)[len(small) // 2]:.2f} s, "
          f"max {max(small):.2f} s", flush=True)
    rebuilt_seconds, _ = index(seeds.folder, fresh, "--full")
    segments = json.loads((live / (live / "CURRENT").read_text().strip() / "meta.json").read_text())["segments"]
    print(f"after them: {len(segments)} segments ({', '.join(str(s['articles']) for s in segments)} articles); "
          f"the same seeds built whole: {rebuilt_seconds:.1f} s", flush=True)
    pools = query_sets(seeds.texts(), args.queries)
    figures_ms = latency(live, fresh, seeds.folder, pools)
    rows = [[name, f"{f['updated']['p50']:.2f}", f"{f['fresh']['p50']:.2f}", f"{f['p50_ratio']:.2f}×",
             f"{f['updated']['p99']:.2f}", f"{f['fresh']['p99']:.2f}", f"{f['p99_ratio']:.2f}×"]
            for name, f in figures_ms.items()]
    print(C.table(rows, ["queries", "p50 updated ms", "p50 fresh ms", "ratio", "p99 updated ms", "p99 fresh ms",
                         "ratio"]))
    sizes = [s["articles"] for s in segments]
    corpus = " + ".join(c.name.removesuffix(".jsonl.gz") for c in args.corpus)
    note = f"*_ratio: the updated index against the fresh whole build, {args.queries} keywords/phrases, alternating"
    path = record("update", figures(full_seconds, update_seconds, small, sizes, figures_ms, rebuilt_seconds),
                  commit=commit, machine=machine, note="; ".join(filter(None, [commit_note, note])),
                  corpus=corpus + (f" (the first {args.limit} of each)" if args.limit else ""),
                  details={"small_updates_s": small, "segments_articles": sizes, "latency_ms": figures_ms})
    print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
