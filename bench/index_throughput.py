"""Indexing throughput: zhsearch ``build_index`` against tantivy fed the same paragraphs cut by jieba.

    python bench/index_throughput.py                      # every corpus in ../shared/corpora (xwlb, president)
    python bench/index_throughput.py --corpus ../shared/corpora/xwlb.jsonl.gz   # one of them
    python bench/index_throughput.py --limit 2000         # first 2,000 stories
    python bench/index_throughput.py --variants "base;fastlen,nocompress"   # prototypes side by side
    python bench/index_throughput.py --srcs /tmp/before /tmp/after --no-peer  # two snapshots side by side
    python bench/index_throughput.py --poetry /tmp/poetry # also the chinese-poetry corpus
    python bench/index_throughput.py --check-rjieba       # rjieba vs jieba token equality
    python bench/index_throughput.py --base /tmp/before   # also the checkout in /tmp/before, in turn

Each side runs in its own child process (so its peak RSS, children included, is its own), one
after the other in the same run: compare the ratios, not the absolute figures, on a shared machine.
Prints: characters/s (wall), characters per CPU-second (all processes of the side), index size,
peak RSS (summed over the side's process tree, sampled every 0.1 s, and its largest process) and
peak PSS (the tree's proportional set size: pages shared by forked workers counted once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _prototypes as P  # noqa: E402

# -- the two sides (each run in a child process) ----------------------------------------------------


def side_zhsearch(args) -> dict:
    C.use_src(args.src)
    from search.config import Settings

    build_index = C.import_moved("search.build.indexer").build_index
    analysis = C.import_moved("search.text.analysis")

    names = P.parse(args.variant)
    P.apply_index(names, args.jobs)
    analysis.warm_up()  # jieba's dictionary load (~1.5 s) is outside the timing, as on the peer's side
    index_dir = Path(args.index)
    shutil.rmtree(index_dir, ignore_errors=True)
    settings = Settings(seeds_dir=Path(args.seeds), index_dir=index_dir)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    summary = build_index(settings, jobs=args.jobs)
    seconds = time.perf_counter() - started
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        target = Path(args.index).parent / f"profile-{(args.variant or 'base').replace(',', '+')}.txt"
        target.write_text(out.getvalue())
        print(f"profile written to {target}", file=sys.stderr)
    variant = args.variant or "base"
    if args.src is not None:  # the folder the package was really imported from
        variant = f"{Path(sys.modules['search'].__file__).parent.parent.name} {variant}"
    return {"side": "zhsearch", "variant": variant, "jobs": args.jobs,
            "articles": summary.articles, "paragraphs": summary.paragraphs,
            "chars": summary.characters, "seconds": seconds, "size": C.dir_size(summary.build)}


def side_tantivy(args) -> dict:
    import tantivy

    from search.paragraphs import read_articles
    from search.text.analysis import segmenter

    jieba_tk = segmenter()  # jieba 0.42.1, dictionary loaded once (same cache as zhsearch)
    index_dir = Path(args.index)
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    started = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("article_id", stored=True, tokenizer_name="raw")
    sb.add_integer_field("n", stored=True, indexed=False)
    sb.add_bytes_field("text", stored=True, indexed=False)  # stored only, like zhsearch's text
    sb.add_bytes_field("article_title", stored=True, indexed=False)
    sb.add_text_field("words", stored=False, tokenizer_name="whitespace", index_option="position")
    index = tantivy.Index(sb.build(), path=str(index_dir))
    writer = index.writer(heap_size=256 * 2**20, num_threads=args.peer_threads)
    articles = paragraphs = chars = 0
    cut = jieba_tk.cut
    for article in read_articles(Path(args.seeds), lambda problem: None):
        articles += 1
        title = article.title.encode("utf-8")
        for p in article.paragraphs:
            words = " ".join(w for w in cut(p.text, HMM=True) if not w.isspace())
            writer.add_document(tantivy.Document(article_id=article.id, n=p.n, text=p.text.encode("utf-8"),
                                                 article_title=title, words=words))
            paragraphs += 1
            chars += len(p.text)
    writer.commit()
    writer.wait_merging_threads()
    seconds = time.perf_counter() - started
    return {"side": "tantivy+jieba", "variant": f"threads={args.peer_threads or 'auto'}", "jobs": 1,
            "articles": articles, "paragraphs": paragraphs, "chars": chars, "seconds": seconds,
            "size": C.dir_size(index_dir)}


GUARD = r"[0-9a-z][-.+#&_%]|[-.+#&_%][0-9a-z]"
TOKEN_GUARD = r"[-.+#&_%]"


# -- rjieba equality ------------------------------------------------------------------------------


def check_rjieba(seeds: Path, limit_paragraphs: int | None = None) -> dict:
    """Token-for-token comparison of rjieba and jieba on the normalised paragraphs."""
    import rjieba

    from search.text.analysis import segmenter
    from search.text.normalize import normalize

    tk = segmenter()
    paras = [normalize(t) for *_, t in C.read_paragraph_texts(seeds)][:limit_paragraphs]
    t0 = time.perf_counter()
    a = [list(tk.cut(t, HMM=True)) for t in paras]
    t_jieba = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = [rjieba.cut(t, True) for t in paras]
    t_rjieba = time.perf_counter() - t0
    chars = sum(map(len, paras))
    bad_paras = 0
    tokens = sum(map(len, a))
    differing_tokens = 0
    examples = []
    from collections import Counter

    for x, y in zip(a, b):
        if x != y:
            bad_paras += 1
            diff = Counter(x) - Counter(y)
            differing_tokens += sum(diff.values())
            if len(examples) < 5:
                ys = Counter(y) - Counter(x)
                examples.append((sorted(diff)[:4], sorted(ys)[:4]))
    # the guarded accelerator: rjieba, except for paragraphs where a Latin/digit run touches one of
    # the joiners that jieba-rs keeps inside a token (jieba 0.42.1 splits there)
    import re

    risky = re.compile(GUARD)
    t0 = time.perf_counter()
    g = [list(tk.cut(t, HMM=True)) if risky.search(t) else rjieba.cut(t, True) for t in paras]
    t_guarded = time.perf_counter() - t0
    fallbacks = sum(1 for t in paras if risky.search(t))
    guarded_bad = sum(1 for x, y in zip(a, g) if x != y)
    # a finer guard: keep rjieba's cut unless one of its tokens holds a joiner next to a letter/digit
    joiner = re.compile(TOKEN_GUARD)
    t0 = time.perf_counter()
    h = []
    token_fallbacks = 0
    for t in paras:
        cut_ = rjieba.cut(t, True)
        if any(len(w) > 1 and joiner.search(w) for w in cut_):
            token_fallbacks += 1
            cut_ = list(tk.cut(t, HMM=True))
        h.append(cut_)
    t_token = time.perf_counter() - t0
    token_bad = sum(1 for x, y in zip(a, h) if x != y)
    return {"token_chars_per_s": chars / t_token, "token_mismatched_paragraphs": token_bad,
            "token_fallbacks": token_fallbacks,"guarded_chars_per_s": chars / t_guarded, "guarded_mismatched_paragraphs": guarded_bad,
            "guarded_fallbacks": fallbacks,
            "paragraphs": len(paras), "chars": chars, "jieba_chars_per_s": chars / t_jieba,
            "rjieba_chars_per_s": chars / t_rjieba, "mismatched_paragraphs": bad_paras,
            "jieba_tokens": tokens, "jieba_tokens_not_in_rjieba": differing_tokens, "examples": examples}


# -- poetry ---------------------------------------------------------------------------------------


def poetry_seeds(poetry_dir: Path, dest: Path, limit: int | None = None) -> Path:
    """chinese-poetry@2.0.1 ``dist/quantangshi/poet.*.json`` → one JSONL seed file (Traditional).

    ``poetry_dir`` is the unpacked package (``npm pack chinese-poetry@2.0.1`` then ``tar xzf``);
    each poem is an article: title, and its lines as paragraphs. ``limit``: the first N poems.
    """
    dest = Path(dest)
    out = dest / "poetry.jsonl"
    if out.exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    root = Path(poetry_dir)
    files = sorted(root.rglob("quantangshi/poet.*.json"))
    if not files:
        raise SystemExit(f"no quantangshi/poet.*.json under {root}")
    seen = set()
    written = 0
    with open(out.with_suffix(".tmp"), "w", encoding="utf-8") as handle:
        for f in files:
            if limit is not None and written >= limit:
                break
            for i, poem in enumerate(json.loads(f.read_text(encoding="utf-8"))):
                if limit is not None and written >= limit:
                    break
                pid = poem.get("id") or f"{f.stem}-{i}"
                if pid in seen:
                    pid = f"{f.stem}-{i}"
                seen.add(pid)
                text = "\n".join(p for p in poem.get("paragraphs", []) if p.strip())
                if not text:
                    continue
                record = {"id": pid, "title": poem.get("title") or "", "text": text,
                          "author": poem.get("author", "")}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    os.replace(out.with_suffix(".tmp"), out)
    return dest


# -- driver ---------------------------------------------------------------------------------------


def run_corpus(name: str, seeds: Path, args) -> list[dict]:
    """Every variant and the peer, ``--repeat`` times interleaved; one result each (the median run)."""
    me = [sys.executable, str(Path(__file__).resolve())]
    specs = [s.strip() or "base" for s in args.variants.split(";")]
    for spec in specs:
        P.parse(spec)
    runs: dict[str, list[dict]] = {}
    sides = [(src, spec) for src in (args.srcs or [None]) for spec in specs]
    for round_ in range(args.repeat):
        for i, (src, spec) in enumerate(sides):
            index = Path(args.workdir) / f"ix-{name.split()[0]}-{i}"
            print(f"[{name}] round {round_ + 1}: zhsearch {spec} (jobs={args.jobs}) {src or ''}…", file=sys.stderr,
                  flush=True)
            argv = me + ["--side", "zhsearch", "--seeds", str(seeds), "--index", str(index),
                         "--jobs", str(args.jobs), "--variant", spec] + (["--profile"] if args.profile else [])
            if src is not None:
                argv += ["--src", str(src)]
            runs.setdefault(f"z{i}", []).append(C.run_measured(argv))
            if not args.keep:
                shutil.rmtree(index, ignore_errors=True)
        if args.base:  # the same build by another checkout (e.g. the code before a change), in turn
            print(f"[{name}] round {round_ + 1}: zhsearch at {args.base} …", file=sys.stderr, flush=True)
            index = Path(args.workdir) / f"ix-{name.split()[0]}-base"
            argv = me + ["--side", "zhsearch", "--seeds", str(seeds), "--index", str(index), "--jobs", str(args.jobs)]
            result = C.run_measured(argv, env={**os.environ, "ZHSEARCH_SRC": str(Path(args.base).resolve())})
            runs.setdefault("base", []).append(dict(result, variant=f"src={Path(args.base).name}"))
            shutil.rmtree(index, ignore_errors=True)
        if not args.no_peer:
            print(f"[{name}] round {round_ + 1}: tantivy + jieba …", file=sys.stderr, flush=True)
            index = Path(args.workdir) / f"tantivy-{name.split()[0]}"
            argv = me + ["--side", "tantivy", "--seeds", str(seeds), "--index", str(index),
                         "--peer-threads", str(args.peer_threads)]
            runs.setdefault("peer", []).append(C.run_measured(argv))
            shutil.rmtree(index, ignore_errors=True)
    results = []
    for key, rs in runs.items():
        ordered = sorted(rs, key=lambda r: r["chars"] / r["seconds"])
        median = dict(ordered[len(ordered) // 2])
        median["rate_range"] = (ordered[0]["chars"] / ordered[0]["seconds"],
                                ordered[-1]["chars"] / ordered[-1]["seconds"])
        median["cpu_rates"] = sorted(r["chars"] / r["cpu_s"] for r in rs if r["cpu_s"])
        median["runs"] = len(rs)
        results.append(median)
    return results


def report(name: str, results: list[dict]) -> str:
    peer = next((r for r in results if r["side"].startswith("tantivy")), None)
    ours = [r for r in results if r["side"] == "zhsearch"]
    first = ours[0] if len(ours) > 1 else None  # several sides of ours: each also against the first
    rows = []
    for r in results:
        rate = r["chars"] / r["seconds"]
        cpu_rate = r["chars"] / r["cpu_s"] if r["cpu_s"] else float("nan")
        lo, hi = r.get("rate_range", (rate, rate))
        row = [r["side"], r["variant"], r["jobs"], f"{r['chars']:,}", f"{r['seconds']:.1f}",
               f"{rate:,.0f}" + (f" ({lo:,.0f}–{hi:,.0f})" if r.get("runs", 1) > 1 else ""), f"{r['cpu_s']:.1f}", f"{cpu_rate:,.0f}", C.mib(r["size"]),
               f"{r['size'] / r['chars']:.1f}", C.mib(r["peak_rss_tree"]), C.mib(r.get("peak_pss_tree", 0)),
               C.mib(r["peak_rss_single"])]
        if peer is not None:
            peer_rate = peer["chars"] / peer["seconds"]
            peer_cpu = peer["chars"] / peer["cpu_s"]
            row += [f"{rate / peer_rate:.2f}×", f"{cpu_rate / peer_cpu:.2f}×", f"{r['size'] / peer['size']:.2f}×"]
        if first is not None:
            row += [f"{rate / (first['chars'] / first['seconds']):.3f}×",
                    f"{cpu_rate / (first['chars'] / first['cpu_s']):.3f}×",
                    f"{r.get('peak_pss_tree', 0) / max(first.get('peak_pss_tree', 0), 1):.3f}×",
                    f"{r['size'] / first['size']:.3f}×"]
        rows.append(row)
    header = ["side", "variant", "jobs", "chars", "build s", "chars/s" + (" (range)" if results[0].get("runs", 1) > 1 else ""), "CPU s", "chars/CPU-s", "index",
              "B/char", "peak RSS (tree)", "peak PSS (tree)", "peak RSS (1 proc)"]
    if peer is not None:
        header += ["throughput vs peer", "per-CPU vs peer", "size vs peer"]
    if first is not None:
        header += ["chars/s vs first", "per-CPU vs first", "peak PSS vs first", "size vs first"]
    paragraphs = results[0]["paragraphs"]
    runs = results[0].get("runs", 1)
    note = f" · median of {runs} interleaved runs per row" if runs > 1 else ""
    return (f"### {name}: {results[0]['articles']:,} articles, {paragraphs:,} paragraphs{note}\n\n"
            + C.table(rows, header))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, nargs="+", default=sorted(C.DEFAULT_CORPUS.parent.glob("*.jsonl.gz")),
                    help="one or more JSONL corpora (default: every *.jsonl.gz beside xwlb's: xwlb and president)")
    ap.add_argument("--limit", type=int, default=None, help="first N stories of the corpus")
    ap.add_argument("--copies", default="1",
                    help="','-separated: index the corpus this many times over, each a run of its own "
                         "(e.g. 1,3: does peak memory grow with the corpus?)")
    ap.add_argument("--jobs", type=int, default=C.cores(), help="zhsearch --jobs (default: all cores)")
    ap.add_argument("--variants", default="base",
                    help="';'-separated zhsearch variants, each a ','-set of prototypes (see _prototypes.py)")
    ap.add_argument("--srcs", type=Path, nargs="+",
                    help="folders holding the `search` package to build with, side by side (each with every variant)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="interleaved rounds of all variants and the peer; the median round of each is shown")
    ap.add_argument("--base", type=Path,
                    help="also build with the `search` package in this folder (e.g. a `git archive` of the commit "
                         "before a change), in turn with the others")
    ap.add_argument("--peer-threads", type=int, default=0, help="tantivy writer threads (0 = tantivy's choice)")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--poetry", type=Path, help="unpacked chinese-poetry@2.0.1 package folder")
    ap.add_argument("--poetry-only", action="store_true")
    ap.add_argument("--check-rjieba", action="store_true", help="compare rjieba and jieba tokens and exit")
    ap.add_argument("--profile", action="store_true", help="cProfile the zhsearch side (to WORKDIR/profile-VARIANT.txt)")
    ap.add_argument("--keep", action="store_true", help="keep the built zhsearch indexes")
    C.add_location_arguments(ap)
    # internal: one side in a child process
    ap.add_argument("--side", choices=["zhsearch", "tantivy"], help=argparse.SUPPRESS)
    ap.add_argument("--seeds", help=argparse.SUPPRESS)
    ap.add_argument("--index", help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.side:
        result = side_zhsearch(args) if args.side == "zhsearch" else side_tantivy(args)
        result.update(C.own_maxrss())
        print(json.dumps(result))
        return 0

    C.begin(args)
    corpora = []
    if not args.poetry_only:
        for corpus in args.corpus:
            stem = corpus.name.split(".")[0]
            for copies in map(int, args.copies.split(",")):
                tag = f"{stem}-{args.limit or 'all'}" + (f"-x{copies}" if copies != 1 else "")
                corpora.append((f"{corpus.name}" + (f" (first {args.limit} stories)" if args.limit else "")
                                + (f" ×{copies}" if copies != 1 else ""),
                                C.prepare_seeds(corpus, args.workdir / f"seeds-{tag}", args.limit, copies=copies)))
    if args.poetry:
        corpora.append(("chinese-poetry 2.0.1 quantangshi (Traditional)"
                        + (f" (first {args.limit} poems)" if args.limit else ""),
                        poetry_seeds(args.poetry, args.workdir / f"seeds-poetry-{args.limit or 'all'}", args.limit)))
    if args.check_rjieba:
        for name, seeds in corpora:
            r = check_rjieba(seeds)
            print(f"### rjieba vs jieba on {name} (normalised paragraphs)\n")
            print(f"- paragraphs {r['paragraphs']:,}, chars {r['chars']:,}")
            print(f"- jieba {r['jieba_chars_per_s']:,.0f} chars/s, rjieba {r['rjieba_chars_per_s']:,.0f} chars/s "
                  f"({r['rjieba_chars_per_s'] / r['jieba_chars_per_s']:.1f}×)")
            print(f"- paragraphs whose token lists differ: {r['mismatched_paragraphs']:,} "
                  f"({100 * r['mismatched_paragraphs'] / r['paragraphs']:.2f} %)")
            print(f"- jieba tokens missing from rjieba's cut: {r['jieba_tokens_not_in_rjieba']:,} of "
                  f"{r['jieba_tokens']:,} ({100 * r['jieba_tokens_not_in_rjieba'] / r['jieba_tokens']:.3f} %)")
            for x, y in r["examples"]:
                print(f"  - jieba {x} / rjieba {y}")
            print(f"- guarded (jieba for the {r['guarded_fallbacks']:,} paragraphs matching {GUARD!r}, rjieba for "
                  f"the rest): {r['guarded_chars_per_s']:,.0f} chars/s "
                  f"({r['guarded_chars_per_s'] / r['jieba_chars_per_s']:.1f}× jieba), "
                  f"{r['guarded_mismatched_paragraphs']} paragraphs differ from jieba")
            print(f"- token-guarded (rjieba; jieba again for the {r['token_fallbacks']:,} paragraphs where an rjieba "
                  f"token of 2+ characters contains one of {TOKEN_GUARD!r}): {r['token_chars_per_s']:,.0f} chars/s "
                  f"({r['token_chars_per_s'] / r['jieba_chars_per_s']:.1f}× jieba), "
                  f"{r['token_mismatched_paragraphs']} paragraphs differ from jieba")
        return 0
    for name, seeds in corpora:
        results = run_corpus(name, seeds, args)
        print()
        print(report(name, results))
        print()
        with open(Path(args.workdir) / "index_throughput.jsonl", "a", encoding="utf-8") as log:
            for r in results:
                log.write(json.dumps(dict(r, corpus=name, at=time.time())) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
