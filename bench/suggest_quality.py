"""As-you-type completions (``/api/suggest``): how often the meant word is offered, how fast, and
what the completion index costs the build — on both shared corpora.

    python bench/suggest_quality.py                       # xwlb and president, 3 build pairs each
    python bench/suggest_quality.py --corpus ../shared/corpora/xwlb.jsonl.gz --pairs 5
    python bench/suggest_quality.py --skip-build          # quality and speed on the last build only

For the 1,000 most frequent words of the index made of two or more Chinese characters (by the
paragraphs that contain them), typed three ways, and for the 1,000 most frequent of three or four
characters, typed a fourth way, the share whose word is among the top 8 offered:

* whole pinyin: the word's pinyin joined, as pypinyin reads it with its phrases (``beijing``);
* partial pinyin: every syllable but the last, then the last one's first letter (``beij``);
* characters then pinyin: the first character, then the next syllable's first letter (``北j``);
* initials (the words of 3 or 4 characters): the syllables' first letters (``xjp``).

Speed: each typed text's completions (``Searcher.complete``) and a plain search for the same text
(``Searcher.search``: what the box would run), alternating, in one process: p50 and p99 side by side.

Build: the code at ``--base`` (default 60f0e1f, before completions) and this checkout's commit build
the same seeds in turn, B A B A …, each in a child process (``--jobs`` workers): wall time, CPU time of
the whole tree, index size; the ratio B/A per pair and its median; and the completion index's two
steps timed inside B's builds (wall and CPU), with their share of the whole build's CPU — a figure a
busy machine moves far less than the wall times. Figures go to
``bench/results/suggest_quality.jsonl`` (one line per run) and are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from results import record  # noqa: E402

CORPORA = [C.REPO.parent / "shared" / "corpora" / f"{name}.jsonl.gz" for name in ("xwlb", "president")]
TOP = 8


# -- a build, in a child process ----------------------------------------------------------------------

def side_build(args) -> None:
    from search.build.indexer import build_index
    from search.config import Settings
    from search.formats.layout import IndexLayout

    index_dir = Path(args.index)
    shutil.rmtree(index_dir, ignore_errors=True)
    step = timed_completions()
    started = time.perf_counter()
    build_index(Settings(seeds_dir=Path(args.seeds), index_dir=index_dir), jobs=args.jobs)
    seconds = time.perf_counter() - started
    build = IndexLayout(index_dir).current()
    completions = C.dir_size(build / "completions") if (build / "completions").is_dir() else 0
    print(json.dumps({"seconds": seconds, "bytes": C.dir_size(build), "completions_bytes": completions, **step,
                      **C.own_maxrss()}))


def timed_completions() -> dict:
    """The completion index's step timed (wall and CPU of this process) each time a build writes a
    generation, where the code has it: ``{"completions": [[wall, cpu], …]}``, filled in later."""
    try:
        from search.build import completions, generation
    except ImportError:
        return {}
    if not hasattr(completions, "write_completions"):
        return {}
    found = []
    real = completions.write_completions

    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        real(*args, **kwargs)
        found.append([round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)])

    generation.write_completions = timed
    return {"completions_steps": found}


def snapshot(commit: str, workdir: Path) -> Path:
    """The ``search`` package at ``commit``, unpacked under ``workdir`` (reused)."""
    dest = workdir / f"src-{commit}"
    if not (dest / "search").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(C.REPO), "archive", commit, "search"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        (dest / ".bench-commit").write_text(commit)
    return dest


def run_child(argv: list[str], env: dict) -> dict:
    """Run a side in a child process: the JSON line it prints last, and the CPU time of its tree."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def builds(seeds: Path, workdir: Path, name: str, base: Path, this: Path, pairs: int, jobs: int) -> dict:
    """B A B A …: this checkout's commit (B) and ``base`` (A) building ``seeds``; B's last build is kept."""
    runs = {"A": [], "B": []}
    for i in range(pairs):
        for side, src in (("B", this), ("A", base)):
            index = workdir / f"ix-{name}-{side}"
            argv = [sys.executable, __file__, "--side", "build", "--src", str(src), "--seeds", str(seeds),
                    "--index", str(index), "--jobs", str(jobs)]
            env = dict(os.environ, ZHSEARCH_SRC=str(src))
            result = run_child(argv, env)
            runs[side].append(result)
            print(f"  {name} {side} #{i + 1}: {result['seconds']:.1f} s, CPU {result['cpu_s']:.1f} s, "
                  f"{C.mib(result['bytes'])}", flush=True)
    ratio = [b["seconds"] / a["seconds"] for a, b in zip(runs["A"], runs["B"])]
    cpu = [b["cpu_s"] / a["cpu_s"] for a, b in zip(runs["A"], runs["B"])]
    return {
        "pairs": pairs, "jobs": jobs,
        "seconds_A": [round(r["seconds"], 2) for r in runs["A"]],
        "seconds_B": [round(r["seconds"], 2) for r in runs["B"]],
        "time_ratio_median": round(statistics.median(ratio), 4),
        "cpu_ratio_median": round(statistics.median(cpu), 4),
        "bytes_A": runs["A"][-1]["bytes"], "bytes_B": runs["B"][-1]["bytes"],
        "size_ratio": round(runs["B"][-1]["bytes"] / runs["A"][-1]["bytes"], 4),
        "completions_bytes": runs["B"][-1].get("completions_bytes"),
        # the build's main process at its peak, and its largest waited-for child (Whoosh's writer)
        "peak_rss_mib_A": [round(max(r["maxrss_self"], r["maxrss_children"]) / 2**20) for r in runs["A"]],
        "peak_rss_mib_B": [round(max(r["maxrss_self"], r["maxrss_children"]) / 2**20) for r in runs["B"]],
        # the step's own CPU (the build's main process) against the whole build's (all processes)
        "completions_steps_B": [r.get("completions_steps") for r in runs["B"]],
        "completions_cpu_share_median": round(statistics.median(
            sum(cpu for _, cpu in r.get("completions_steps", [])) / r["cpu_s"] for r in runs["B"]), 4),
    }


# -- quality and speed, on B's build ---------------------------------------------------------------------

def typed(word: str, form: str) -> str:
    """``word`` typed one of the ways the benchmark tries (see the module)."""
    from search.text import phrase_pinyin

    syllables = phrase_pinyin.spellings(word)[0]
    return {"whole": lambda: "".join(syllables),
            "partial": lambda: "".join(syllables[:-1]) + syllables[-1][0],
            "mixed": lambda: word[0] + syllables[1][0],
            "initials": lambda: "".join(s[0] for s in syllables)}[form]()


def frequent_words(searcher, count: int, lengths: range) -> list[str]:
    """The ``count`` words of the index made of Chinese characters, as many as ``lengths`` says,
    in the most paragraphs."""
    from search.text.pinyin import readings

    completions = searcher._current().completer.index
    words = completions.words.all()
    han = [i for i, word in enumerate(words) if len(word) in lengths and all(readings(c)[0] for c in word)]
    han.sort(key=lambda i: (-completions.count(i), i))
    return [words[i] for i in han[:count]]


def quality_and_speed(index_dir: Path, count: int) -> dict:
    from search.config import Settings
    from search.query.searcher import Searcher

    searcher = Searcher(Settings(seeds_dir=index_dir, index_dir=index_dir))
    words = frequent_words(searcher, count, range(2, 100))
    longer = frequent_words(searcher, count, range(3, 5))
    cases = [(word, form) for word in words for form in ("whole", "partial", "mixed")]
    cases += [(word, "initials") for word in longer]
    found = {form: [0, 0] for form in ("whole", "partial", "mixed", "initials")}
    missed: dict[str, list[str]] = {form: [] for form in found}
    suggest_ms, search_ms = [], []
    searcher.complete("预热", TOP)
    searcher.search("预热")
    for word, form in cases:
        text = typed(word, form)
        started = time.perf_counter()
        offered = [s["text"] for s in searcher.complete(text, TOP)["suggestions"]]
        suggest_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        searcher.search(text)
        search_ms.append((time.perf_counter() - started) * 1000)
        # the archive may write the word otherwise (Traditional): compare as search does
        hit = any(normalised(shown) == word for shown in offered)
        found[form][0] += hit
        found[form][1] += 1
        if not hit and len(missed[form]) < 8:
            missed[form].append(f"{text}→{word}")
    searcher.close()
    share = {form: round(hits / total, 4) if total else None for form, (hits, total) in found.items()}
    speed = {"suggest": C.percentiles(suggest_ms), "search": C.percentiles(search_ms)}
    return {"words": len(words), "words_of_3_or_4": len(longer), "top": TOP, "share": share,
            "tried": {f: t for f, (_, t) in found.items()}, "missed_examples": missed,
            "ms": {side: {k: round(v, 3) for k, v in figures.items() if k in ("n", "p50", "p90", "p99")}
                   for side, figures in speed.items()},
            "p99_ratio": round(speed["suggest"]["p99"] / speed["search"]["p99"], 4)}


def normalised(text: str) -> str:
    from search.text.normalize import normalize, skeleton

    return skeleton(normalize(text))


# -- the run -------------------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_location_arguments(ap)
    ap.add_argument("--side", choices=["build"], help=argparse.SUPPRESS)
    ap.add_argument("--seeds", help=argparse.SUPPRESS)
    ap.add_argument("--index", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, action="append", help="a JSONL(.gz) corpus (default: xwlb and president)")
    ap.add_argument("--base", default="60f0e1f", help="the commit to compare the build with")
    ap.add_argument("--pairs", type=int, default=3, help="builds of each side, alternating")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--words", type=int, default=1000)
    ap.add_argument("--skip-build", action="store_true", help="measure the last build of this checkout only")
    args = ap.parse_args()
    if args.side == "build":
        C.use_src(Path(args.src))
        side_build(args)
        return
    C.begin(args)
    base = snapshot(args.base, args.workdir)
    head = subprocess.run(["git", "-C", str(C.REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    this = snapshot(head, args.workdir)  # not the work tree, which may change while this runs
    machine = C.machine_line(stamp=False)
    for corpus in args.corpus or CORPORA:
        name = Path(corpus).name.split(".")[0]
        seeds = C.prepare_seeds(Path(corpus), args.workdir / f"seeds-{name}")
        print(f"{name}:", flush=True)
        measured = {}
        if not args.skip_build:
            measured["build"] = builds(seeds, args.workdir, name, base, this, args.pairs, args.jobs)
        measured.update(quality_and_speed(args.workdir / f"ix-{name}-B", args.words))
        print(json.dumps(measured, ensure_ascii=False, indent=1), flush=True)
        path = record("suggest_quality", flat_figures(measured), commit=head, machine=machine, corpus=name,
                      note=f"build ratios: this commit against {args.base}, B A B A …", details=measured)
    print(f"appended to {path}")


def flat_figures(measured: dict) -> dict:
    """The headline figures of one corpus's run (the rest goes to ``details``)."""
    flat = {f"top{TOP}_share_{way}": share for way, share in measured["share"].items()}
    flat.update({f"{what}_p{p}_ms": measured["ms"][what][f"p{p}"] for what in ("suggest", "search") for p in (50, 99)})
    flat["suggest_to_search_p99_ratio"] = measured["p99_ratio"]
    build = measured.get("build", {})
    for name in ("time_ratio_median", "cpu_ratio_median", "size_ratio", "completions_cpu_share_median",
                 "completions_bytes"):
        if name in build:
            flat[f"build_{name}"] = build[name]
    if build.get("peak_rss_mib_A") and build.get("peak_rss_mib_B"):
        flat["build_peak_rss_ratio"] = statistics.median(build["peak_rss_mib_B"]) / statistics.median(build["peak_rss_mib_A"])
    return C.figures_of(flat)

if __name__ == "__main__":
    main()
