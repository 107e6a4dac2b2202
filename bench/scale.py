"""Query cost and build cost as the archive grows: the shared corpora at 1× and at 5×, side by side.

    python bench/scale.py                         # build both sizes (and the peer's), then time the queries
    python bench/scale.py --reuse                 # reuse the indexes built before and their build figures
    python bench/scale.py --reuse --repeat 5      # more samples a query
    python bench/scale.py --copies 3 --no-peer    # another multiple; no tantivy build

The seeds are both corpora of ``shared/corpora`` together (xwlb and president, ~21 M characters)
and the same again ``--copies`` times over with fresh ids (``#k``), so the larger archive holds every
paragraph exactly ``--copies`` times: each query's total must be exactly that multiple (checked for
every query, printed per class).

Builds: each size by ``zhsearch``'s ``build_index`` (every core) and by tantivy fed the same paragraphs
cut by jieba in one process (``index_throughput.py``'s two sides, each a child process whose tree's
peak RSS and PSS are sampled): build time, characters a second, peak memory, index size. ``--reuse``
builds only what is missing and reads the figures recorded beside an index when it was built.

Queries, in process (``Searcher.search``, first page of 10), the two sizes alternating query by query
(which goes first alternates round by round), ``--repeat`` rounds:

  substrings   random 2–6 character substrings of the corpus (``latency.py``'s keyword pool)
  characters   the 40 most frequent characters
  words        the 60 most frequent words (of two characters or more)
  pairs        30 AND pairs of those words (pairs found together at 1×)
  refined      each of those words with ``date:Y..`` (Y: the median year of the dated articles),
               ``facets=source,year`` and ``sort=newest``

Prints p50 and p99 per class at both sizes and their ratio (the bound: p99 at 5× ≤ 2.5× p99 at 1×),
the build figures and their ratios (5× against 1×, ours against the peer's), and appends a line to
``bench/results/scale.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from latency import query_sets  # noqa: E402
from results import record  # noqa: E402

CORPORA = sorted(C.DEFAULT_CORPUS.parent.glob("*.jsonl.gz"))
THROUGHPUT = Path(__file__).resolve().parent / "index_throughput.py"
CLASSES = ("substrings", "characters", "words", "pairs", "refined")
EXACT = ("characters", "words", "pairs")  # the classes whose totals the bound names
REFINED_FACETS, REFINED_SORT = ("source", "year"), "newest"
P99_BOUND, RSS_BOUND, PEER_BOUND = 2.5, 1.2, 1.5


# -- seeds and builds ------------------------------------------------------------------------------


def seeds_at(workdir: Path, copies: int, corpora: list[Path], limit: int | None) -> Path:
    """A seeds folder holding every corpus ``copies`` times over (one sub-folder per corpus)."""
    folder = workdir / (f"seeds-x{copies}" + (f"-first{limit}" if limit else ""))
    for corpus in corpora:
        C.prepare_seeds(corpus, folder / corpus.name.split(".")[0], limit, copies=copies)
    return folder


def measured_build(side: str, seeds: Path, index: Path, jobs: int, figures: Path, reuse: bool) -> dict:
    """One side's build of ``seeds`` into ``index`` in a child process, or (``reuse``) the figures recorded
    when it was built, if the index is still there."""
    if reuse and figures.exists() and (side == "tantivy" or _has_index(index)):
        found = json.loads(figures.read_text())
        found["reused"] = True
        return found
    print(f"building {index.name} ({side}) …", file=sys.stderr, flush=True)
    argv = [sys.executable, str(THROUGHPUT), "--side", side, "--seeds", str(seeds), "--index", str(index)]
    argv += ["--jobs", str(jobs), "--variant", "base"] if side == "zhsearch" else ["--peer-threads", "0"]
    result = C.run_measured(argv)
    result["commit"] = C.measured_code()[0] if side == "zhsearch" else None
    if side == "tantivy":
        shutil.rmtree(index, ignore_errors=True)  # only its build is compared
    figures.write_text(json.dumps(result))
    result["reused"] = False
    return result


def _has_index(index: Path) -> bool:
    from search.config import Settings

    return C.import_moved("search.build.indexer").has_index(Settings(index_dir=index))


# -- query classes ---------------------------------------------------------------------------------


def frequent(searcher, count: int, words: bool) -> list[str]:
    """The ``count`` most frequent characters (by occurrences) or words of two characters or more
    (by paragraphs holding them) of the searcher's index, letters only."""
    import numpy as np

    grams = searcher._current().grams
    segments = grams.segments
    if not words:
        counts = sum(np.bincount(segment.units, minlength=1 << 16) for segment in segments)
        found = [chr(u) for u in np.argsort(-counts, kind="stable").tolist() if chr(u).isalpha()]
        return found[:count]
    lengths: dict[str, int] = {}
    for segment in segments:
        sizes = np.diff(segment.word_lists.offsets.astype(np.int64))
        for i in np.argsort(-sizes, kind="stable")[: count * 20].tolist():
            word = segment.words[i]
            if len(word) >= 2 and word.isalpha():
                lengths[word] = lengths.get(word, 0) + int(sizes[i])
    return sorted(lengths, key=lambda w: (-lengths[w], w))[:count]


def query_classes(searcher, texts: list[str], substrings: int, seed: int = 7) -> dict[str, list[tuple[str, dict]]]:
    """Each class's queries as (q, search options)."""
    import numpy as np

    words = frequent(searcher, 60, words=True)
    rng = random.Random(seed)
    pairs: dict[str, None] = {}
    for _ in range(10_000):
        a, b = rng.sample(words, 2)
        if f"{b} {a}" not in pairs and searcher.search(f"{a} {b}", size=1)["total"]:
            pairs[f"{a} {b}"] = None
        if len(pairs) == 30:
            break
    days = np.asarray(searcher._current().metadata.days)
    year = int(np.median(days[days > 0])) // 10000 if days.any() else 2000
    refined = {"facets": REFINED_FACETS, "sort": REFINED_SORT}
    refine = f" date:{year}.."
    return {"substrings": [(q, {}) for q in query_sets(texts, substrings, seed)["keyword"]],
            "characters": [(q, {}) for q in frequent(searcher, 40, words=False)],
            "words": [(q, {}) for q in words],
            "pairs": [(q, {}) for q in sorted(pairs)],
            "refined": [(q + refine, refined) for q in words]}


def time_classes(searchers: list, classes: dict, repeat: int) -> dict:
    """Each class's queries on every searcher, alternating query by query; per class and side the
    latencies (ms) and each query's total."""
    found = {}
    for name, queries in classes.items():
        times = [[] for _ in searchers]
        totals = [dict() for _ in searchers]
        for round_ in range(repeat):
            sides = list(enumerate(searchers))
            if round_ % 2:
                sides.reverse()
            for q, options in queries:
                for side, searcher in sides:
                    started = time.perf_counter()
                    result = searcher.search(q, size=10, **options)
                    times[side].append((time.perf_counter() - started) * 1000)
                    totals[side][q] = result["total"]
        found[name] = {"ms": times, "totals": totals}
    return found


# -- report ----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, nargs="+", default=CORPORA)
    ap.add_argument("--limit", type=int, default=None, help="first N stories of each corpus")
    ap.add_argument("--copies", type=int, default=5, help="the larger archive: this many copies (default 5)")
    ap.add_argument("--reuse", action="store_true", help="reuse the indexes (and build figures) already in --workdir")
    ap.add_argument("--no-peer", action="store_true", help="no tantivy build")
    ap.add_argument("--queries", type=int, default=300, help="random substrings")
    ap.add_argument("--repeat", type=int, default=3, help="rounds over every class's queries")
    ap.add_argument("--jobs", type=int, default=C.cores())
    ap.add_argument("--no-record", action="store_true", help="print only; no line in bench/results/scale.jsonl")
    C.add_location_arguments(ap)
    ap.set_defaults(workdir=C.DEFAULT_WORKDIR / "scale")
    args = ap.parse_args(argv)
    C.begin(args)
    commit, commit_note = C.code_to_record() if not args.no_record else (None, "")
    machine = C.machine_line(stamp=False)
    sizes = (1, args.copies)
    seeds = {n: seeds_at(args.workdir, n, args.corpus, args.limit) for n in sizes}
    tag = f"-first{args.limit}" if args.limit else ""
    indexes = {n: args.workdir / f"ix-x{n}{tag}" for n in sizes}
    builds, peers = {}, {}
    for n in sizes:
        builds[n] = measured_build("zhsearch", seeds[n], indexes[n], args.jobs,
                                   args.workdir / f"build-x{n}{tag}.json", args.reuse)
        if not args.no_peer:
            peers[n] = measured_build("tantivy", seeds[n], args.workdir / f"tantivy-x{n}{tag}", 1,
                                      args.workdir / f"peer-x{n}{tag}.json", args.reuse)

    from search.config import Settings

    Searcher = C.import_moved("search.query.searcher").Searcher
    searchers = [Searcher(Settings(seeds_dir=seeds[n], index_dir=indexes[n], refresh_interval=3600)) for n in sizes]
    texts = [t for *_, t in C.read_paragraph_texts(seeds[1])]
    print(f"1×: {len(texts):,} paragraphs, {sum(map(len, texts)):,} characters; {args.copies}× the same "
          f"{args.copies} times over", flush=True)
    classes = query_classes(searchers[0], texts, args.queries)
    for searcher in searchers:  # open both and warm them: the first searches map and fault in pages
        for q, options in [item for queries in classes.values() for item in queries[:10]]:
            searcher.search(q, **options)
    timed = time_classes(searchers, classes, args.repeat)
    for searcher in searchers:
        searcher.close()

    values, rows, failures, details = {}, [], [], {"totals": {}}
    for name in CLASSES:
        small, large = (C.percentiles(ms) for ms in timed[name]["ms"])
        totals = timed[name]["totals"]
        wrong = [q for q in totals[0] if totals[1][q] != args.copies * totals[0][q]]
        zero = [q for q in totals[0] if not totals[0][q]]
        ratio = large["p99"] / small["p99"]
        failures += [f"{name}: p99 grew {ratio:.2f}× (bound {P99_BOUND}×)"] if ratio > P99_BOUND else []
        failures += [f"{name}: totals not exactly {args.copies}×: {wrong[:5]}"] if wrong else []
        failures += [f"{name}: no hit for {zero[:5]}"] if zero else []
        rows.append([name, len(classes[name]), f"{small['p50']:.2f}", f"{large['p50']:.2f}",
                     f"{large['p50'] / small['p50']:.2f}×", f"{small['p99']:.2f}", f"{large['p99']:.2f}", f"{ratio:.2f}×",
                     f"{sum(totals[0].values()):,}", f"{sum(totals[1].values()):,}",
                     "exact" if not wrong else f"{len(wrong)} differ"])
        values |= {f"{name}_p50_ms_1x": small["p50"], f"{name}_p50_ms_{args.copies}x": large["p50"],
                   f"{name}_p99_ms_1x": small["p99"], f"{name}_p99_ms_{args.copies}x": large["p99"],
                   f"{name}_p99_ratio": ratio, f"{name}_totals_exact": int(not wrong)}
        details["totals"][name] = {q: totals[0][q] for q in list(totals[0])[:60]}
    print(f"\n### queries, in process, first page of 10, {args.repeat} rounds alternating 1× / {args.copies}×\n")
    print(C.table(rows, ["class", "queries", "p50 1× ms", f"p50 {args.copies}× ms", "ratio", "p99 1× ms",
                         f"p99 {args.copies}× ms", "ratio", "totals 1×", f"totals {args.copies}×",
                         f"{args.copies}× totals"]))
    print("\nclasses: " + "; ".join(f"{name}: {', '.join(q for q, _ in classes[name][:6])}, …" for name in CLASSES[1:]))

    rows = []
    for n in sizes:
        b = builds[n]
        rate = b["chars"] / b["seconds"]
        row = [f"{n}×", f"{b['chars']:,}", f"{b['seconds']:.1f}", f"{rate:,.0f}", C.mib(b["peak_rss_tree"]),
               C.mib(b["peak_pss_tree"]), C.mib(b.get("peak_anon_tree", 0)), C.mib(b["peak_rss_single"]), C.mib(b["size"]),
               "reused" if b["reused"] else "built now"]
        values |= {f"build_s_{n}x": b["seconds"], f"build_chars_per_s_{n}x": rate, f"index_mb_{n}x": b["size"] / 1e6,
                   f"build_peak_rss_mb_{n}x": b["peak_rss_tree"] / 1e6, f"build_peak_pss_mb_{n}x": b["peak_pss_tree"] / 1e6,
                   f"build_peak_anon_mb_{n}x": b.get("peak_anon_tree", 0) / 1e6}
        if n in peers:
            p = peers[n]
            versus = rate / (p["chars"] / p["seconds"])
            row += [f"{p['seconds']:.1f}", f"{versus:.2f}×"]
            values |= {f"peer_build_s_{n}x": p["seconds"], f"build_vs_peer_{n}x": versus}
            failures += [f"{n}×: the build at {versus:.2f}× the peer (bound {PEER_BOUND}×)"] if versus < PEER_BOUND else []
        rows.append(row)
    header = ["size", "characters", "build s", "chars/s", "peak RSS (tree)", "peak PSS (tree)", "peak anon (tree)",
              "peak RSS (1 proc)",
              "index", "figures"] + (["peer build s", "speed vs peer"] if peers else [])
    print("\n### builds (zhsearch: every core; peer: tantivy + jieba in one process)\n")
    print(C.table(rows, header))
    small, large = builds[1], builds[args.copies]
    rss = large["peak_rss_tree"] / small["peak_rss_tree"]
    anon = large.get("peak_anon_tree", 0) / max(small.get("peak_anon_tree", 0), 1)
    values |= {"build_peak_rss_ratio": rss, "build_peak_pss_ratio": large["peak_pss_tree"] / small["peak_pss_tree"],
               "build_peak_anon_ratio": anon,
               "build_s_ratio": large["seconds"] / small["seconds"], "index_size_ratio": large["size"] / small["size"]}
    failures += [f"build peak RSS grew {rss:.2f}× (bound {RSS_BOUND}×)"] if rss > RSS_BOUND else []
    print(f"\n{args.copies}× against 1×: build time {values['build_s_ratio']:.2f}×, peak RSS (tree) {rss:.2f}×, "
          f"peak PSS {values['build_peak_pss_ratio']:.2f}×, peak anonymous {anon:.2f}×, index size {values['index_size_ratio']:.2f}×")
    print("\n" + ("every bound met" if not failures else "NOT MET:\n  " + "\n  ".join(failures)))
    if not args.no_record:
        built_by = {f"{n}x": builds[n].get("commit") for n in sizes}
        note = (f"in process, {args.repeat} rounds alternating; builds by {built_by}"
                + ("" if not any(b["reused"] for b in builds.values()) else " (build figures recorded when built)"))
        path = record("scale", C.figures_of(values), commit=commit, machine=machine, corpus=(
            " + ".join(c.name.split(".")[0] for c in args.corpus) + f" ×1 and ×{args.copies}"
            + (f" (first {args.limit} of each)" if args.limit else "")),
            note="; ".join(filter(None, [commit_note, note])), details=details)
        print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
