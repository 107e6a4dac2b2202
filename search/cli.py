"""``zhsearch index | serve | query | suggest`` — the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence

from .config import Settings

EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another build is running; try again later
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool stopped by a closed pipe


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhsearch", description="Full-text search for Chinese articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    def locations(p, seeds=True):
        if seeds:
            p.add_argument("--seeds", type=Path, help="articles folder (default: $ZHSEARCH_SEEDS or ./seeds)")
        p.add_argument("--index", type=Path, help="index folder (default: $ZHSEARCH_INDEX or ./index)")

    p = sub.add_parser("index", help="bring the index up to date with the seeds and swap it in")
    locations(p)
    p.add_argument("--jobs", type=int, default=None, help="indexing processes (default: one per core)")
    p.add_argument("--strict", action="store_true", help="fail (exit 1) on any bad input, before the swap")
    p.add_argument("--full", action="store_true",
                   help="rebuild from scratch instead of applying only what changed (and allow removing "
                        "more than half of the articles)")
    p.add_argument("--watch", type=float, nargs="?", const=2.0, default=None, metavar="SECONDS",
                   help="keep applying changes every SECONDS (default 2) until Ctrl+C")

    p = sub.add_parser("serve", help="serve the search page and API with gunicorn")
    locations(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: one per core)")

    p = sub.add_parser("query", help="search from the terminal")
    locations(p, seeds=False)
    p.add_argument("q", help='the query, e.g. \'联合国 "安理会决议" -美国\'')
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--sort", choices=("relevance", "newest", "oldest"), default="relevance",
                   help="by relevance (default), or by the article's date")
    p.add_argument("--facets", default="", metavar="KEY[,KEY…]",
                   help="count the matching paragraphs per value of these metadata keys (and year, month)")
    p.add_argument("--group", choices=("paragraph", "article"), default="paragraph",
                   help="one result per article (its best paragraphs) instead of per paragraph")
    p.add_argument("--explain", action="store_true", help="show why each paragraph matched and scored as it did")
    p.add_argument("--all", action="store_true", help="every matching paragraph, in order, as --format (an export)")
    p.add_argument("--format", choices=("csv", "jsonl"), default=None, help="with --all: CSV (default) or JSON lines")

    p = sub.add_parser("suggest", help="complete what was typed: the index's words and phrases, most used first")
    locations(p, seeds=False)
    p.add_argument("q", metavar="PREFIX", help="characters or pinyin: 北京, beij, bj, 北j")
    p.add_argument("--size", type=int, default=8, help="at most this many (1 to 20)")
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(environ)
    except ValueError as exc:  # a setting in the environment that cannot be used
        parser.error(str(exc))
    overrides = {"seeds_dir": getattr(args, "seeds", None), "index_dir": args.index}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    command = {"index": _index, "serve": _serve, "query": _query, "suggest": _suggest}[args.command]
    try:
        code = command(args, settings)
        sys.stdout.flush()  # a reader gone away shows here when the output was still buffered
    except BrokenPipeError:
        # the reader stopped reading (`zhsearch query … | head`): end quietly, not with a traceback,
        # as the signal module's note on SIGPIPE advises
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def _index(args, settings: Settings) -> int:
    from .build.indexer import BuildFailed, build_index, default_jobs
    from .build.store import BuildLocked
    from .paragraphs import SeedsMissing

    def report(problem) -> None:
        print(str(problem) if problem.fatal else f"{problem} (ignored)", file=sys.stderr)

    jobs = args.jobs or default_jobs()
    if args.watch is not None:
        from .build.watch import watch

        return watch(settings, seconds=args.watch, jobs=jobs, report=report)
    with _progress_bar(settings.seeds_dir) as progress:
        try:
            summary = build_index(settings, jobs=jobs, strict=args.strict, full=args.full, report=report,
                                  progress=progress)
        except BuildLocked as error:
            print(f"zhsearch index: {error}", file=sys.stderr)
            return EXIT_LOCKED
        except (BuildFailed, SeedsMissing) as error:
            print(f"zhsearch index: {error}; the live index is unchanged", file=sys.stderr)
            return EXIT_FAILED
    print(summary.line() + (f" → {summary.build}" if summary.build else ""))
    return 0


class _progress_bar:
    """A tqdm bar over the seeds' bytes when stderr is a terminal; otherwise nothing."""

    def __init__(self, seeds_dir: Path):
        self.seeds_dir = Path(seeds_dir)
        self.bar = None

    def __enter__(self):
        if not sys.stderr.isatty() or not self.seeds_dir.is_dir():
            return None
        from tqdm import tqdm

        total = sum(p.stat().st_size for p in self.seeds_dir.rglob("*") if p.is_file())
        self.bar = tqdm(total=total, unit="B", unit_scale=True, desc="indexing", file=sys.stderr)
        return self.bar.update

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


def _serve(args, settings: Settings) -> int:
    from .build.indexer import has_index
    from .formats.layout import IndexLayout

    if not has_index(settings):
        why = ("was built by another version of zhsearch" if IndexLayout(Path(settings.index_dir)).current()
               else "does not exist yet")
        print(f"the index at {settings.index_dir} {why}: building it from {settings.seeds_dir} first", file=sys.stderr)
        code = _index(argparse.Namespace(jobs=None, strict=False, full=False, watch=None), settings)
        if code != 0:
            return code
    env = dict(os.environ, ZHSEARCH_SEEDS=str(settings.seeds_dir), ZHSEARCH_INDEX=str(settings.index_dir))
    command = [sys.executable, "-m", "gunicorn", "--config", "python:search.gunicorn_conf",
               "--bind", f"{args.host}:{args.port}"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    command.append("search.wsgi:app")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


def _answer(command: str, settings: Settings, ask):
    """What ``ask(searcher)`` answers over the live index, or None once why it cannot is printed."""
    from .query.live import IndexMissing
    from .query.searcher import BadQuery, Searcher

    searcher = Searcher(settings)
    try:
        return ask(searcher)
    except (BadQuery, IndexMissing) as error:
        print(f"zhsearch {command}: {error}", file=sys.stderr)
        return None
    finally:
        searcher.close()


def _query(args, settings: Settings) -> int:
    if args.format and not args.all:
        print("zhsearch query: --format goes with --all (an export of every matching paragraph)", file=sys.stderr)
        return EXIT_FAILED
    if args.all:
        return _export(args, settings)
    facets = tuple(dict.fromkeys(key.strip() for key in args.facets.split(",") if key.strip()))
    result = _answer("query", settings, lambda searcher: searcher.search(
        args.q, page=args.page, size=args.size, sort=args.sort, facets=facets, group=args.group, explain=args.explain))
    if result is None:
        return EXIT_FAILED
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{result['total']} paragraphs match {result['query']!r} ({result['took_ms']} ms)")
    if result["suggestions"]:
        print("did you mean (您是不是要找): " + "  ·  ".join(result["suggestions"]))
    for key, values in result.get("facets", {}).items():
        print(f"{key}: " + ("  ".join(f"{v['value']} ({v['count']})" for v in values) or "—"))
    color = sys.stdout.isatty()
    if "articles" in result:
        print(f"in {result['articles']} articles")
    for i, hit in enumerate(result["hits"], start=(result["page"] - 1) * result["size"] + 1):
        about = " · ".join(str(hit["metadata"][k]) for k in ("date", "source") if k in hit.get("metadata", {}))
        if "paragraphs" in hit:  # grouped by article
            print(f"\n{i}. {hit['article_title'] or hit['article_id']}  [{hit['article_id']}]"
                  f"  {hit['total']} paragraphs" + (f"  {about}" if about else ""))
            for paragraph in hit["paragraphs"]:
                print(f"   #{paragraph['paragraph']} " + _terminal_marks(paragraph["highlight"], color))
            continue
        print(f"\n{i}. {hit['article_title'] or hit['article_id']} · #{hit['paragraph']} {hit['kind']}"
              f"  [{hit['article_id']}]" + (f"  {about}" if about else ""))
        print("   " + _terminal_marks(hit["highlight"], color))
        for line in _explanation(hit.get("explain")):
            print("     " + line)
    return 0


def _suggest(args, settings: Settings) -> int:
    result = _answer("suggest", settings, lambda searcher: searcher.complete(args.q, size=args.size))
    if result is None:
        return EXIT_FAILED
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for suggestion in result["suggestions"]:
            print(f"{suggestion['text']}\t{suggestion['count']}")
    return 0


def _export(args, settings: Settings) -> int:
    """``--all``: the API's export to standard output, a chunk at a time."""
    from .query.live import IndexMissing
    from .query.searcher import BadQuery, Searcher

    searcher = Searcher(settings)
    try:
        chunks = searcher.export(args.q, sort=args.sort).chunks(args.format or "csv")
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
    except (BadQuery, IndexMissing) as error:
        print(f"zhsearch query: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        searcher.close()
    return 0


def _explanation(explain: dict | None) -> list[str]:
    """Lines telling why a hit matched: per term, word or substring, score parts, jieba's words around it."""
    if not explain:
        return []
    lines = []
    for term in explain["terms"]:
        score = term["score"]
        lines.append(f"{term['term']!r}: {term['match']} match, {len(term['occurrences'])}× "
                     f"(bm25 {score['bm25']:.2f} + whole-word {score['whole_word_bonus']:.0f})")
        if term.get("words"):
            lines.append("  " + " / ".join(f"[{w['text']}]" if w["in_match"] else w["text"] for w in term["words"]))
    return lines


def _terminal_marks(highlight: str, color: bool) -> str:
    """The highlight as terminal text: marks in reverse video on a terminal, 【…】 otherwise."""
    from html import unescape

    on, off = ("\x1b[7m", "\x1b[0m") if color else ("【", "】")
    return unescape(highlight.replace("<mark>", on).replace("</mark>", off))
