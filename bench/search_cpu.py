"""CPU per ``/api/search`` request in process, with a warm cache and with a cold one, side by side.

    python bench/search_cpu.py --srcs /tmp/before /tmp/after          # two `git archive` snapshots
    python bench/search_cpu.py --srcs /tmp/a /tmp/b --pollute 2048 --rounds 3

Under gunicorn a search costs more CPU than in a loop in one process (issue #11: 404–452 µs
against 230–260): between two requests the client, the kernel and the other worker run on the
same core and evict the search's code and data from the CPU's 2 MiB L2 cache. Touching
``--pollute`` KiB of memory between two requests reproduces that here, without sockets.

For each snapshot: its own index of ``seeds/`` plus the first ``--stories`` xwlb stories (as
``search_instructions.py`` builds it); then, for ``--rounds`` rounds, the snapshots in turn each
run one process that answers ``--queries`` requests through the Falcon app warm, then the same
requests with the cache polluted before each, and prints the thread CPU per request of both
(the polluting itself is not timed). The queries are the pool of ``http_throughput.py``. Each
snapshot's answers (``took_ms`` left out) are hashed: different hashes mean the code changed
what a search finds, not just its cost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from search_instructions import (  # noqa: E402
    WARM_UP,
    add_child_arguments,
    add_comparison_arguments,
    build_with,
    call_app,
    comparison_inputs,
)


def child(index: Path, seeds: Path, pool_file: Path, count: int, pollute_kib: int) -> None:
    """In the measured process: µs of thread CPU per request, warm and polluted, and the answers' hash."""
    import numpy as np

    from search.config import Settings

    Searcher = C.import_moved("search.query.searcher").Searcher
    create_app = C.import_moved("search.web.app").create_app

    pool = pool_file.read_text(encoding="utf-8").split("\n")
    settings = Settings(seeds_dir=seeds, index_dir=index)
    app = create_app(settings, searcher=Searcher(settings))
    for q in pool[:WARM_UP]:
        call_app(app, q)
    queries = random.Random(3).choices(pool[WARM_UP:], k=count)
    answers = hashlib.sha1()
    buffer = np.zeros(pollute_kib * 1024 // 8)
    result = {}
    for name, pollute in (("warm", False), ("cold", True)):
        spent = 0.0
        for q in queries:
            if pollute:
                buffer += 1.0  # reads and writes every line of the buffer
            started = time.thread_time()
            body = call_app(app, q)
            spent += time.thread_time() - started
            if not pollute:
                answer = json.loads(body)
                answer.pop("took_ms", None)
                answers.update(json.dumps(answer, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        result[name] = spent / count * 1e6
    result["answers"] = answers.hexdigest()[:12]
    print(json.dumps(result))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_comparison_arguments(ap)
    ap.add_argument("--queries", type=int, default=3000, help="requests per side, warm and cold each")
    ap.add_argument("--pollute", type=int, default=2048, help="KiB touched before each cold request")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (a, b, a, b, …)")
    add_child_arguments(ap)
    args = ap.parse_args(argv)
    if args.child:
        C.use_src(args.src)
        child(args.index, args.seeds, args.pool, args.queries, args.pollute)
        return 0
    if not args.srcs:
        ap.error("--srcs is required")
    seeds, _, pool_file = comparison_inputs(args, "cpu-pool.txt", WARM_UP + 5000)
    indexes = []
    for n, src in enumerate(args.srcs):
        indexes.append(args.workdir / f"ix-cpu-{n}")
        build_with(src, seeds, indexes[-1])
    runs: dict[Path, list[dict]] = {src: [] for src in args.srcs}
    for round_ in range(1, args.rounds + 1):
        for src, index in zip(args.srcs, indexes):
            done = subprocess.run([sys.executable, __file__, "--child", "--src", str(src), "--index", str(index),
                                   "--seeds", str(seeds), "--pool", str(pool_file), "--queries", str(args.queries),
                                   "--pollute", str(args.pollute)], capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"measuring {src} failed:\n{done.stderr[-2000:]}")
            runs[src].append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = runs[src][-1]
            print(f"round {round_} {src}: warm {r['warm']:.0f} µs, cold {r['cold']:.0f} µs, answers {r['answers']}",
                  flush=True)
    first = args.srcs[0]
    med = {src: {key: statistics.median(r[key] for r in runs[src]) for key in ("warm", "cold")} for src in args.srcs}
    rows = [[str(src), f"{med[src]['warm']:.0f}", f"{med[src]['warm'] / med[first]['warm']:.2f}×",
             f"{med[src]['cold']:.0f}", f"{med[src]['cold'] / med[first]['cold']:.2f}×",
             " ".join(sorted({r["answers"] for r in runs[src]}))] for src in args.srcs]
    print()
    print(C.table(rows, ["code", "warm µs/request", f"vs {first.name}", f"{args.pollute} KiB touched: µs/request",
                         f"vs {first.name}", "answers"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
