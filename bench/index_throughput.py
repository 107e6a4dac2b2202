"""Indexing throughput: zhsearch ``build_index`` against tantivy fed the same paragraphs cut by jieba.

    python bench/index_throughput.py                      # full xwlb corpus (10 M chars)
    python bench/index_throughput.py --limit 2000         # first 2,000 stories
    python bench/index_throughput.py --variants "base;fastlen,nocompress"   # prototypes side by side
    python bench/index_throughput.py --poetry /tmp/poetry # also the chinese-poetry corpus
    python bench/index_throughput.py --check-rjieba       # rjieba vs jieba token equality

Each side runs in its own child process (so its peak RSS, children included, is its own), one
after the other in the same run: compare the ratios, not the absolute figures, on a shared machine.
Prints: characters/s (wall), characters per CPU-second (all processes of the side), index size,
peak RSS (summed over the side's process tree, sampled every 0.1 s, and its largest process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _prototypes as P  # noqa: E402


# -- the two sides (each run in a child process) ----------------------------------------------------


def side_zhsearch(args) -> dict:
    from search.config import Settings
    from search.indexer import build_index

    names = P.parse(args.variant)
    P.apply_index(names, args.jobs)
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
    return {"side": "zhsearch", "variant": args.variant or "base", "jobs": args.jobs,
            "articles": summary.articles, "paragraphs": summary.paragraphs,
            "chars": summary.characters, "seconds": seconds, "size": C.dir_size(summary.build)}


def side_tantivy(args) -> dict:
    import tantivy

    from search.analysis import segmenter
    from search.paragraphs import read_articles

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


# -- rjieba equality ------------------------------------------------------------------------------


def check_rjieba(seeds: Path, limit_paragraphs: int | None = None) -> dict:
    """Token-for-token comparison of rjieba and jieba on the normalised paragraphs."""
    import rjieba

    from search.analysis import segmenter
    from search.normalize import normalize

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
    return {"paragraphs": len(paras), "chars": chars, "jieba_chars_per_s": chars / t_jieba,
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
    me = [sys.executable, str(Path(__file__).resolve())]
    results = []
    specs = [s.strip() or "base" for s in args.variants.split(";")]
    for i, spec in enumerate(specs):
        P.parse(spec)
        index = Path(args.workdir) / f"ix-{name}-{i}"
        print(f"[{name}] zhsearch {spec} (jobs={args.jobs}) …", file=sys.stderr, flush=True)
        argv = me + ["--side", "zhsearch", "--seeds", str(seeds), "--index", str(index),
                     "--jobs", str(args.jobs), "--variant", spec] + (["--profile"] if args.profile else [])
        results.append(C.run_measured(argv))
        if not args.keep:
            shutil.rmtree(index, ignore_errors=True)
    if not args.no_peer:
        print(f"[{name}] tantivy + jieba …", file=sys.stderr, flush=True)
        index = Path(args.workdir) / f"tantivy-{name}"
        argv = me + ["--side", "tantivy", "--seeds", str(seeds), "--index", str(index),
                     "--peer-threads", str(args.peer_threads)]
        results.append(C.run_measured(argv))
        shutil.rmtree(index, ignore_errors=True)
    return results


def report(name: str, results: list[dict]) -> str:
    peer = next((r for r in results if r["side"].startswith("tantivy")), None)
    rows = []
    for r in results:
        rate = r["chars"] / r["seconds"]
        cpu_rate = r["chars"] / r["cpu_s"] if r["cpu_s"] else float("nan")
        row = [r["side"], r["variant"], r["jobs"], f"{r['chars']:,}", f"{r['seconds']:.1f}",
               f"{rate:,.0f}", f"{r['cpu_s']:.1f}", f"{cpu_rate:,.0f}", C.mib(r["size"]),
               f"{r['size'] / r['chars']:.1f}", C.mib(r["peak_rss_tree"]), C.mib(r["peak_rss_single"])]
        if peer is not None:
            peer_rate = peer["chars"] / peer["seconds"]
            peer_cpu = peer["chars"] / peer["cpu_s"]
            row += [f"{rate / peer_rate:.2f}×", f"{cpu_rate / peer_cpu:.2f}×", f"{r['size'] / peer['size']:.2f}×"]
        rows.append(row)
    header = ["side", "variant", "jobs", "chars", "build s", "chars/s", "CPU s", "chars/CPU-s", "index",
              "B/char", "peak RSS (tree)", "peak RSS (1 proc)"]
    if peer is not None:
        header += ["throughput vs peer", "per-CPU vs peer", "size vs peer"]
    paragraphs = results[0]["paragraphs"]
    return f"### {name}: {results[0]['articles']:,} articles, {paragraphs:,} paragraphs\n\n" + C.table(rows, header)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="first N stories of the corpus")
    ap.add_argument("--jobs", type=int, default=C.cores(), help="zhsearch --jobs (default: all cores)")
    ap.add_argument("--variants", default="base",
                    help="';'-separated zhsearch variants, each a ','-set of prototypes (see _prototypes.py)")
    ap.add_argument("--peer-threads", type=int, default=0, help="tantivy writer threads (0 = tantivy's choice)")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--poetry", type=Path, help="unpacked chinese-poetry@2.0.1 package folder")
    ap.add_argument("--poetry-only", action="store_true")
    ap.add_argument("--check-rjieba", action="store_true", help="compare rjieba and jieba tokens and exit")
    ap.add_argument("--profile", action="store_true", help="cProfile the zhsearch side (to WORKDIR/profile-VARIANT.txt)")
    ap.add_argument("--keep", action="store_true", help="keep the built zhsearch indexes")
    ap.add_argument("--workdir", type=Path, default=C.DEFAULT_WORKDIR)
    ap.add_argument("--src", type=Path, help="folder holding the `search` package to measure (default: this repo)")
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

    C.use_src(args.src)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(C.machine_line())
    print(C.src_line())
    corpora = []
    if not args.poetry_only:
        tag = f"xwlb-{args.limit}" if args.limit else "xwlb-all"
        corpora.append((f"{args.corpus.name}" + (f" (first {args.limit} stories)" if args.limit else ""),
                        C.prepare_seeds(args.corpus, args.workdir / f"seeds-{tag}", args.limit)))
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
