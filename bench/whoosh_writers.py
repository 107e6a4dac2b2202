"""Ways of writing the same Whoosh index, side by side (issue #11, part 3).

    python bench/whoosh_writers.py --limit 500        # first 500 stories of xwlb

Each way indexes the same paragraphs into the schema of ``search.segment.schema.make_schema`` (words
with positions and offsets, title, article_id, paragraph, kind, stored text), analysis included:

* ``add_document``: Whoosh's ``SegmentWriter`` (its posting pool), one process;
* ``MpWriter procs=2``: Whoosh's multi-process writer, two sub-writers, segments merged;
* ``sorted codec``: zhsearch's ``search.segment.writer`` — documents analysed and grouped by term
  in batches (here in this process: ``jobs=1``), postings spilled as sorted runs and written
  through the codec's field writer, the upper half of the terms by a second process.

Prints wall seconds, CPU seconds (this process and its children), characters/s, index size.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def documents(seeds: Path) -> list[tuple]:
    from search.paragraphs import read_articles

    docs = []
    for article in read_articles(seeds, lambda problem: None):
        for n, p in enumerate(article.paragraphs, start=1):
            docs.append((article, n, p))
    return docs


def whoosh_add_document(folder: Path, docs, procs: int) -> None:
    from whoosh import index

    from search.segment.schema import make_schema

    ix = index.create_in(str(folder), make_schema())
    writer = ix.writer(procs=procs, limitmb=128) if procs > 1 else ix.writer(limitmb=128)
    for article, n, p in docs:
        writer.add_document(words=p.text, title=article.title, article_id=article.id, paragraph=n, kind=p.kind,
                            text=p.text)
    writer.commit()


def sorted_codec(folder: Path, docs) -> None:
    from search.build.analyse import analyse
    from search.segment.documents import DocumentBatch
    from search.segment.schema import make_schema
    from search.segment.writer import SortedSegmentWriter

    schema = make_schema()
    writer = SortedSegmentWriter(folder, schema)
    articles, seen = [], set()
    for article, _, _ in docs:
        if article.id not in seen:
            seen.add(article.id)
            articles.append(article)
    first = 0
    for i in range(0, len(articles), 256):
        batch = []
        for article in articles[i : i + 256]:
            batch.extend(analyse(article)[1])
        writer.add_batch(DocumentBatch.of(schema, first, batch))
        first += len(batch)
    writer.commit()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=500, help="first N stories")
    ap.add_argument("--ways", default="sorted,add_document,mp2", help="','-separated: sorted, add_document, mp2")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)
    C.begin(args)
    from search.text import analysis

    analysis.warm_up()
    seeds = C.prepare_seeds(args.corpus, args.workdir / f"seeds-writers-{args.limit}", args.limit)
    docs = documents(seeds)
    chars = sum(len(p.text) for _, _, p in docs)
    ways = {"sorted": ("sorted codec (zhsearch)", lambda f: sorted_codec(f, docs)),
            "add_document": ("add_document (SegmentWriter)", lambda f: whoosh_add_document(f, docs, 1)),
            "mp2": ("MpWriter procs=2", lambda f: whoosh_add_document(f, docs, 2))}
    rows = []
    for key in args.ways.split(","):
        label, run = ways[key]
        folder = args.workdir / f"writers-{key}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        cpu, started = _cpu(), time.perf_counter()
        run(folder)
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        rows.append([label, f"{seconds:.1f}", f"{cpu:.1f}", f"{chars / seconds:,.0f}", C.mib(C.dir_size(folder))])
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{len(docs):,} paragraphs, {chars:,} characters\n")
    print(C.table(rows, ["writer", "wall s", "CPU s", "chars/s", "index"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
