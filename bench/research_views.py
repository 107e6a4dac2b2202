"""The research views against a plain search of the same query, at both shared corpora together
(21 M characters): a monthly timeline (target: within 3x the search's time), the first page of
concordance lines (within 2x), and the export of 100,000+ rows with the serving worker's memory flat.

    python bench/research_views.py                       # build (once) and measure
    python bench/research_views.py --repeat 21 --words 的,中国,发展

Timings are in-process (one Searcher, the build warm in the page cache), A/B alternating per
repetition, medians and their ratio; the export goes through real gunicorn (one worker, the
project's config), its body read and dropped while the worker's RSS is sampled every 10 ms.
A line is appended to bench/results/research_views.jsonl: the ratios' maximum and median over the
words, the export's figures; the per-query table under ``details``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from results import record  # noqa: E402

CORPORA = [C.REPO.parent / "shared" / "corpora" / name for name in ("xwlb.jsonl.gz", "president.jsonl.gz")]
EXTRA = ['中国 NEAR/5 发展', '"加强*合作"', '"中?合作"']  # the operators too, for the record


def seeds_folder(dest: Path) -> Path:
    """Both corpora, gunzipped into ``dest`` (reused when there)."""
    dest.mkdir(parents=True, exist_ok=True)
    for corpus in CORPORA:
        target = dest / corpus.name.removesuffix(".gz")
        if not target.exists():
            with C.open_text(corpus) as src, open(target, "w", encoding="utf-8") as out:
                for line in src:
                    out.write(line)
    return dest


def ensure_index(seeds: Path, index: Path) -> None:
    from search.build.indexer import has_index
    from search.config import Settings

    if not has_index(Settings(seeds_dir=seeds, index_dir=index)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "search", "index", "--seeds", str(seeds), "--index", str(index)],
                       cwd=C.SRC, env=dict(os.environ, PYTHONPATH=str(C.SRC)), check=True)
        os.sync()
        print(f"built {index} in {time.perf_counter() - started:.0f} s")


def alternating(actions: dict, repeat: int) -> dict[str, float]:
    """Median milliseconds of each action, run in turn once per repetition (after one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for name, action in actions.items():
        action()
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def compare(searcher, words: list[str], repeat: int) -> list[dict]:
    rows = []
    for q in words:
        total = searcher.search(q, size=10)["total"]
        ms = alternating({
            "search": lambda: searcher.search(q, size=10),
            "timeline": lambda: searcher.timeline([q], "month"),
            "concordance": lambda: searcher.concordance(q, size=50),
        }, repeat)
        # sorting every line by its context takes far longer: apart, so as not to disturb the above
        ms["concordance_left"] = alternating({
            "search": lambda: searcher.search(q, size=10),
            "left": lambda: searcher.concordance(q, size=50, sort="left"),
        }, max(3, repeat // 3))["left"]
        row = {"q": q, "paragraphs": total, "lines": searcher.concordance(q, size=1)["total"],
               **{f"{k}_ms": round(v, 2) for k, v in ms.items()},
               "timeline_x": round(ms["timeline"] / ms["search"], 2),
               "concordance_x": round(ms["concordance"] / ms["search"], 2),
               "concordance_left_x": round(ms["concordance_left"] / ms["search"], 2)}
        rows.append(row)
        print(f"{q!r:>18}: {total:>7,} paragraphs, {row['lines']:>8,} lines | search {ms['search']:8.2f} ms | "
              f"timeline {ms['timeline']:8.2f} ms ({row['timeline_x']:.2f}x) | concordance page 1 "
              f"{ms['concordance']:8.2f} ms ({row['concordance_x']:.2f}x) | by left context "
              f"{ms['concordance_left']:8.2f} ms ({row['concordance_left_x']:.2f}x)", flush=True)
    return rows


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def export_memory(index: Path, seeds: Path, q: str, workdir: Path) -> dict:
    """Stream /api/export?q= through one gunicorn worker; its RSS before, at peak and after."""
    from http_throughput import Gunicorn

    with Gunicorn("search.wsgi:app", index, seeds, 1, workdir / "gunicorn-research.log") as server:
        time.sleep(1.0)
        master = server.proc.pid
        (worker,) = map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        path = "/api/export?" + urllib.parse.urlencode({"q": q, "format": "csv"})
        conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q}))  # the worker warm for q
        conn.getresponse().read()
        before = rss(worker)
        samples: list[tuple[float, int, int]] = []  # (seconds, bytes read so far, worker RSS)
        read = [0]
        stop = threading.Event()

        def sample():
            started = time.perf_counter()
            while not stop.is_set():
                samples.append((time.perf_counter() - started, read[0], rss(worker)))
                stop.wait(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        started = time.perf_counter()
        sampler.start()
        conn.request("GET", path)
        response = conn.getresponse()
        rows = 0
        while chunk := response.read(1 << 16):
            read[0] += len(chunk)
            rows += chunk.count(b"\r\n")
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        after = rss(worker)
        conn.close()
    peak = max(s[2] for s in samples)
    # RSS over the second half of the stream against the first: flat means no growth with rows
    mid = [s for s in samples if s[1] > read[0] / 2]
    early = [s for s in samples if 0 < s[1] <= read[0] / 2]
    return {"q": q, "rows": rows - 1, "bytes": read[0], "seconds": round(seconds, 2),
            "rows_per_s": round((rows - 1) / seconds), "rss_before": before, "rss_peak": peak, "rss_after": after,
            "rss_first_half_max": max((s[2] for s in early), default=0),
            "rss_second_half_max": max((s[2] for s in mid), default=0), "samples": len(samples)}


def figures(health: dict, word_rows: list[dict], export: dict) -> dict:
    """A run's flat figures: each view's time against a plain search (max and median over the words'
    rows), the export's size, speed and the worker's RSS (growth: peak less before)."""
    def over(key: str) -> dict:
        ratios = [row[key] for row in word_rows]
        view = key.removesuffix("_x")
        return {f"{view}_vs_search_max": max(ratios), f"{view}_vs_search_median": statistics.median(ratios)}

    mib = 1 << 20
    return C.figures_of({
        "articles": health["articles"], "paragraphs": health["paragraphs"],
        **over("timeline_x"), **over("concordance_x"), **over("concordance_left_x"),
        "export_rows": export["rows"], "export_mib": export["bytes"] / mib, "export_s": export["seconds"],
        "export_rows_per_s": export["rows_per_s"], "export_rss_before_mib": export["rss_before"] / mib,
        "export_rss_peak_mib": export["rss_peak"] / mib, "export_rss_after_mib": export["rss_after"] / mib,
        "export_rss_growth_mib": (export["rss_peak"] - export["rss_before"]) / mib,
        "export_rss_second_half_growth_mib": (export["rss_second_half_max"] - export["rss_first_half_max"]) / mib,
    })


def note(commit_note: str, repeat: int, words: list[str], q: str) -> str:
    """What a run's figures are, for its line's note."""
    return "; ".join(filter(None, [
        commit_note, f"medians of {repeat} alternating repetitions in process; *_vs_search_* over "
        f"{', '.join(words)} (the patterns too in details); the export of {q} through one gunicorn worker"]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_location_arguments(ap)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--words", default="的,中国,发展,经济,台湾,合作")
    ap.add_argument("--export", default="的", help="the query exported through gunicorn (100,000+ rows)")
    args = ap.parse_args(argv)
    C.begin(args)
    commit, commit_note = C.code_to_record()
    machine = C.machine_line(stamp=False)
    words = args.words.split(",")
    seeds = seeds_folder(args.workdir / "research-seeds")
    index = args.workdir / "research-index"
    ensure_index(seeds, index)

    from search.config import Settings
    from search.query.searcher import Searcher

    searcher = Searcher(Settings(seeds_dir=seeds, index_dir=index))
    health = searcher.health()
    print(f"index: {health['articles']:,} articles, {health['paragraphs']:,} paragraphs")
    rows = compare(searcher, words + EXTRA, args.repeat)
    searcher.close()
    export = export_memory(index, seeds, args.export, args.workdir)
    print(f"export {export['q']!r}: {export['rows']:,} rows, {C.mib(export['bytes'])} in {export['seconds']} s "
          f"({export['rows_per_s']:,} rows/s); worker RSS {C.mib(export['rss_before'])} before, peak "
          f"{C.mib(export['rss_peak'])} (+{C.mib(export['rss_peak'] - export['rss_before'])}), first half max "
          f"{C.mib(export['rss_first_half_max'])}, second half max {C.mib(export['rss_second_half_max'])}, after "
          f"{C.mib(export['rss_after'])}")
    path = record("research_views", figures(health, rows[:len(words)], export), commit=commit, machine=machine,
                  corpus="xwlb + president", note=note(commit_note, args.repeat, words, export["q"]),
                  details={"repeat": args.repeat, "queries": rows, "export": export})
    print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
