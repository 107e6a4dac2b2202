"""Search latency percentiles at full corpus scale, in-process and over HTTP, single client.

    python bench/latency.py                         # index the whole xwlb corpus once, then measure
    python bench/latency.py --index /tmp/ix         # reuse an index folder (its seeds: --seeds)
    python bench/latency.py --queries 200 --profile # fewer queries; cProfile the in-process searches

Query sets (each must have at least one hit; a zero-hit query is reported as a failure):
  keyword   random 2–6 character substrings of the corpus (letters/digits/CJK only), as typed
  phrase    the same substrings in double quotes
  common    very common characters and bigrams (的, 中国, 发展, …) and a few frequent words
  latin     Latin/digit tokens taken from the corpus (2023, gdp, …)
In-process: ``Searcher.search(q)`` (first page, size 10) after a warm-up. HTTP: one keep-alive
client against real gunicorn (the project's config, ``--workers`` = cores).

``--refined`` also times, side by side and interleaved, each keyword query plain and refined —
``q date:2023..`` with ``facets=source,year`` (issue #12: filters and facets on the hot path) —
and prints the p99 ratio. ``--seeds`` may hold several corpora (``C.prepare_seeds`` copies).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

COMMON = ["的", "中", "国", "是", "在", "中国", "发展", "我们", "经济", "人民", "习近平", "建设", "合作", "国家",
          "社会主义", "高质量发展", "新华社", "总书记"]


def query_sets(texts: list[str], n: int, seed: int = 7) -> dict[str, list[str]]:
    pool = C.substring_pool(texts, n, seed=seed)
    rng = random.Random(seed)
    latin = sorted({m.group(0) for t in texts for m in re.finditer(r"[A-Za-z0-9]{2,12}", t)})
    latin = rng.sample(latin, min(len(latin), max(10, n // 5)))
    return {"keyword": pool, "phrase": [f'"{q}"' for q in pool], "common": COMMON, "latin": latin}


def time_inprocess(searcher, queries: list[str], repeat: int = 1) -> tuple[list[float], list[str], dict]:
    lat, zero, totals = [], [], {}
    for q in queries:
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = searcher.search(q, page=1, size=10)
            lat.append((time.perf_counter() - t0) * 1000)
        totals[q] = r["total"]
        if r["total"] == 0:
            zero.append(q)
    return lat, zero, totals


def time_http(base: str, queries: list[str]) -> tuple[list[float], list[str], int]:
    import http.client

    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    lat, zero, bad = [], [], 0
    for q in queries:
        t0 = time.perf_counter()
        conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q}))
        resp = conn.getresponse()
        body = resp.read()
        lat.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            bad += 1
        elif json.loads(body)["total"] == 0:
            zero.append(q)
    return lat, zero, bad


REFINE = " date:2023.."
REFINED_FACETS = ("source", "year")


def time_refined(searcher, queries: list[str]) -> tuple[list[float], list[float]]:
    """Each query timed plain and refined (a date filter and two facets), alternately."""
    plain, refined = [], []
    for q in queries:
        t0 = time.perf_counter()
        searcher.search(q, page=1, size=10)
        t1 = time.perf_counter()
        searcher.search(q + REFINE, page=1, size=10, facets=REFINED_FACETS)
        t2 = time.perf_counter()
        plain.append((t1 - t0) * 1000)
        refined.append((t2 - t1) * 1000)
    return plain, refined


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="first N stories (default: all)")
    ap.add_argument("--index", type=Path, help="reuse this index folder (built when missing)")
    ap.add_argument("--seeds", type=Path, help="the seeds the --index was built from (for the query pool)")
    ap.add_argument("--queries", type=int, default=500, help="random substrings per set")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the in-process keyword+phrase searches")
    ap.add_argument("--variant", default="", help="search-side prototypes (see _prototypes.py)")
    ap.add_argument("--workers", type=int, default=C.cores())
    ap.add_argument("--refined", action="store_true", help="also time keywords with a date filter and two facets")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)

    C.begin(args)
    seeds = args.seeds or C.prepare_seeds(args.corpus, args.workdir / f"seeds-xwlb-{args.limit or 'all'}", args.limit)
    index_dir = args.index or args.workdir / f"ix-latency-{args.limit or 'all'}"

    from search.config import Settings

    indexer = C.import_moved("search.build.indexer")
    build_index, default_jobs, has_index = indexer.build_index, indexer.default_jobs, indexer.has_index
    Searcher = C.import_moved("search.query.searcher").Searcher

    settings = Settings(seeds_dir=Path(seeds), index_dir=Path(index_dir))
    if not has_index(settings):
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        summary = build_index(settings, jobs=default_jobs())
        print(f"built: {summary.line()} (wall {time.perf_counter() - t0:.1f} s)")
    texts = [t for *_, t in C.read_paragraph_texts(Path(seeds))]
    print(f"corpus: {len(texts):,} paragraphs, {sum(map(len, texts)):,} characters")
    sets = query_sets(texts, args.queries)

    import _prototypes as P

    P.apply_search(P.parse(args.variant))
    searcher = Searcher(settings)
    t0 = time.perf_counter()
    searcher.search("中国")
    print(f"first search (opens the index): {(time.perf_counter() - t0) * 1000:.0f} ms")
    time_inprocess(searcher, sets["keyword"][:50])  # warm caches

    rows, failures = [], []
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    for name, queries in sets.items():
        if profiler is not None and name in ("keyword", "phrase"):
            profiler.enable()
        lat, zero, totals = time_inprocess(searcher, queries)
        if profiler is not None:
            profiler.disable()
        p = C.percentiles(lat)
        failures += [f"in-process {name}: zero hits for {q!r}" for q in zero]
        if name == "common":
            print("common-term totals: " + ", ".join(f"{q} {t:,}" for q, t in totals.items()))
        rows.append(["in-process", name, p["n"], f"{p['p50']:.2f}", f"{p['p90']:.2f}", f"{p['p99']:.2f}",
                     f"{p['max']:.1f}", len(zero)])
    if args.refined:
        time_refined(searcher, sets["keyword"][:50])  # warm the date order and facet arrays
        plain, refined = time_refined(searcher, sets["keyword"])
        p, r = C.percentiles(plain), C.percentiles(refined)
        for name, q in (("keyword (plain)", p), (f"keyword{REFINE} + facets", r)):
            rows.append(["in-process", name, q["n"], f"{q['p50']:.2f}", f"{q['p90']:.2f}", f"{q['p99']:.2f}",
                         f"{q['max']:.1f}", "-"])
        print(f"refined vs plain, same queries interleaved: p50 {r['p50'] / p['p50']:.2f}x, "
              f"p99 {r['p99'] / p['p99']:.2f}x ({r['p99']:.2f} vs {p['p99']:.2f} ms)")
    searcher.close()
    if profiler is not None:
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        (args.workdir / "latency-profile.txt").write_text(out.getvalue())
        print(f"profile: {args.workdir / 'latency-profile.txt'}")

    if not args.no_http:
        from http_throughput import Gunicorn

        log = args.workdir / "gunicorn-latency.log"
        app = "http_throughput:variant_app" if args.variant else "search.wsgi:app"
        with Gunicorn(app, Path(index_dir), Path(seeds), args.workers, log, variant=args.variant) as server:
            time_http(server.base, sets["keyword"][:50])
            for name, queries in sets.items():
                lat, zero, bad = time_http(server.base, queries)
                p = C.percentiles(lat)
                failures += [f"http {name}: zero hits for {q!r}" for q in zero]
                failures += [f"http {name}: {bad} non-200 responses"] if bad else []
                rows.append(["HTTP", name, p["n"], f"{p['p50']:.2f}", f"{p['p90']:.2f}", f"{p['p99']:.2f}",
                             f"{p['max']:.1f}", len(zero) + bad])
    print()
    print(C.table(rows, ["via", "queries", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "zero-hit/failed"]))
    print()
    print("all queries found hits" if not failures else "FAILURES:\n  " + "\n  ".join(failures[:30]))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
