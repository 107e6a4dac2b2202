"""What the search page's "为什么匹配" costs: the page rendered with and without ``explain=1``.

    python bench/page_explain.py                                        # president, 20 keywords
    python bench/page_explain.py --corpus ../shared/corpora/xwlb.jsonl.gz --rounds 10

Builds (or reuses) an index of the corpus under ``--workdir`` and GETs ``/?q=…`` through the Falcon
app in this process (the page asks for the facets its sidebar shows, as a visitor's request does),
once plain and once with ``explain=1``, interleaved, ``--rounds`` times per keyword. Keywords are
random 2–4 character substrings of the corpus. Prints p50/p99 of each and their ratio; the page
asks for explanations only on demand when the ratio is large.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS.parent / "president.jsonl.gz")
    ap.add_argument("--keywords", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    C.add_location_arguments(ap)
    args = ap.parse_args()
    C.begin(args)

    from falcon import testing

    from search.config import Settings

    indexer = C.import_moved("search.build.indexer")
    build_index, has_index = indexer.build_index, indexer.has_index
    create_app = C.import_moved("search.web.app").create_app

    work = args.workdir / f"page_explain-{args.corpus.name.split('.')[0]}"
    seeds = C.prepare_seeds(args.corpus, work / "seeds")
    settings = Settings(seeds_dir=seeds, index_dir=work / "index")
    stamp = settings.index_dir / ".bench-source"
    if not (has_index(settings) and stamp.exists() and stamp.read_text() == (seeds / ".source").read_text()):
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        print(f"built: {build_index(settings).line()}")
        stamp.write_text((seeds / ".source").read_text())
    client = testing.TestClient(create_app(settings))
    texts = [text for _, _, _, text in C.read_paragraph_texts(seeds)]
    keywords = C.substring_pool(texts, args.keywords, min_len=2, max_len=4)

    times: dict[bool, list[float]] = {False: [], True: []}
    for q in keywords:  # warm: jieba, the metadata arrays, each keyword's first match
        client.simulate_get("/", query_string=f"q={quote_plus(q)}&explain=1")
    for _ in range(args.rounds):
        for q in keywords:
            for explain in (False, True):
                qs = f"q={quote_plus(q)}" + ("&explain=1" if explain else "")
                started = time.perf_counter()
                resp = client.simulate_get("/", query_string=qs)
                times[explain].append((time.perf_counter() - started) * 1000)
                assert resp.status_code == 200, (qs, resp.status_code)
    plain, explained = C.percentiles(times[False]), C.percentiles(times[True])
    rows = [[name, p["n"], f"{p['p50']:.1f}", f"{p['p99']:.1f}", f"{p['mean']:.1f}"]
            for name, p in (("page", plain), ("page + explain=1", explained))]
    print(C.table(rows, ["request", "n", "p50 ms", "p99 ms", "mean ms"]))
    print(f"explain=1 / plain: p50 {explained['p50'] / plain['p50']:.2f}x, p99 {explained['p99'] / plain['p99']:.2f}x, "
          f"mean {explained['mean'] / plain['mean']:.2f}x")


if __name__ == "__main__":
    main()
