"""CPU cost of one ``/api/search`` request in instructions, side by side for several versions of the code.

    python bench/search_instructions.py --srcs /tmp/before /tmp/after        # two `git archive` snapshots
    python bench/search_instructions.py --srcs /tmp/a /tmp/b --queries 2000 --stories 300

Wall-clock and CPU seconds move with whatever else the machine runs; ``valgrind --tool=callgrind``
counts the instructions a process executes, which do not (``perf stat`` has no counters on these
virtual machines). For each snapshot: its own index of ``seeds/`` plus the first ``--stories`` xwlb
stories is built natively, then one process answers W warm-up requests and N more through the
Falcon app (no server, no sockets: the app's own cost), run twice under callgrind with N = 100
and N = 100 + ``--queries``; the difference divided by ``--queries`` is the cost of one request,
with start-up, imports and opening the index cancelled out. The queries are random 2–6 character
substrings of the stories (the pool of ``http_throughput.py``). Needs ``valgrind`` (Debian's).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

WARM_UP = 200


def query_pool(seeds: Path, count: int) -> list[str]:
    texts = [t for *_, t in C.read_paragraph_texts(seeds)]
    return [q for q in C.substring_pool(texts, count, seed=5) if q.strip()]


def add_comparison_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of a run comparing snapshots: ``--srcs``, and what :func:`comparison_seeds` reads."""
    ap.add_argument("--srcs", type=Path, nargs="+", help="folders holding the `search` package to compare")
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--stories", type=int, default=300)
    ap.add_argument("--workdir", type=Path, default=C.DEFAULT_WORKDIR)


def comparison_seeds(args: argparse.Namespace) -> Path:
    """The seeds a run comparing snapshots builds each one's index of, under ``args.workdir``
    (created; the machine line printed first): the repo's ``seeds/`` plus ``args.stories`` stories
    of ``args.corpus``."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(C.machine_line())
    return C.prepare_seeds(args.corpus, args.workdir / f"seeds-instr-{args.stories}", args.stories,
                           extra_seeds=C.REPO / "seeds")


def comparison_inputs(args: argparse.Namespace, pool_name: str, size: int) -> tuple[Path, list[str], Path]:
    """:func:`comparison_seeds`, and a pool of up to ``size`` distinct queries of them, also written
    to ``pool_name``."""
    seeds = comparison_seeds(args)
    pool = query_pool(seeds, size)
    pool_file = args.workdir / pool_name
    pool_file.write_text("\n".join(pool), encoding="utf-8")
    return seeds, pool, pool_file


def build_with(src: Path, seeds: Path, index: Path) -> None:
    """A fresh index of ``seeds`` at ``index``, built by the code in ``src`` (natively)."""
    shutil.rmtree(index, ignore_errors=True)
    build = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                            "from search.cli import main; main(['index', '--seeds', sys.argv[2], '--index', sys.argv[3]])",
                            str(src), str(seeds), str(index)], capture_output=True, text=True)
    if build.returncode:
        raise SystemExit(f"building with {src} failed:\n{build.stderr[-2000:]}")


def call_app(app, q: str) -> bytes:
    """The body of ``GET /api/search?q=…`` answered by the WSGI ``app`` in this process (a 200, or exit)."""
    import io
    from urllib.parse import urlencode

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/search", "QUERY_STRING": urlencode({"q": q}),
               "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    statuses = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{q!r}: {statuses[0]}")
    return body


def add_child_arguments(ap: argparse.ArgumentParser) -> None:
    """The hidden arguments with which a benchmark runs itself as the measured process."""
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--src", "--index", "--seeds", "--pool"):
        ap.add_argument(name, type=Path, help=argparse.SUPPRESS)


def child(src: Path, index: Path, seeds: Path, pool_file: Path, count: int) -> None:
    """In the measured process: open the index, answer WARM_UP + ``count`` requests."""
    from search.config import Settings

    Searcher = C.import_moved("search.query.searcher").Searcher
    create_app = C.import_moved("search.web.app").create_app

    pool = pool_file.read_text(encoding="utf-8").split("\n")
    settings = Settings(seeds_dir=seeds, index_dir=index)
    app = create_app(settings, searcher=Searcher(settings))
    for q in pool[: WARM_UP + count]:
        call_app(app, q)


def instructions(src: Path, index: Path, seeds: Path, pool_file: Path, count: int, out: Path) -> int:
    """Instructions callgrind counts for a child answering WARM_UP + ``count`` requests."""
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, "--child",
            "--src", str(src), "--index", str(index), "--seeds", str(seeds), "--pool", str(pool_file),
            "--count", str(count)]
    # a fixed hash seed: set and dict orders, and so the instructions, repeat from run to run
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"callgrind failed for {src}:\n{done.stderr[-2000:]}")
    out.unlink(missing_ok=True)
    return int(found[1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_comparison_arguments(ap)
    ap.add_argument("--queries", type=int, default=1000)
    add_child_arguments(ap)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        C.use_src(args.src)
        child(args.src, args.index, args.seeds, args.pool, args.count)
        return 0
    if not args.srcs:
        ap.error("--srcs is required")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    seeds, pool, pool_file = comparison_inputs(args, "instr-pool.txt", WARM_UP + 100 + args.queries)
    if len(pool) < WARM_UP + 100 + args.queries:
        raise SystemExit("too few distinct queries in the stories")
    rows = []
    for n, src in enumerate(args.srcs):
        index = args.workdir / f"ix-instr-{n}"
        build_with(src, seeds, index)
        base = instructions(src, index, seeds, pool_file, 100, args.workdir / f"cg-{n}-base.out")
        more = instructions(src, index, seeds, pool_file, 100 + args.queries, args.workdir / f"cg-{n}-more.out")
        rows.append((src, (more - base) / args.queries))
        print(f"{src}: {rows[-1][1]:,.0f} instructions per request", flush=True)
    first = rows[0][1]
    print()
    print(C.table([[str(src), f"{per:,.0f}", f"{per / first:.3f}×"] for src, per in rows],
                  ["code", "instructions per /api/search", f"vs {rows[0][0].name}"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
