"""Recall and precision of random substring queries, zhsearch against the naive jieba + Whoosh setup.

Indexes the repository's seeds plus ``--stories`` stories of the benchmark corpus, draws random
2–6 character substrings of random paragraphs, and asks each as a phrase and as keywords, in
Simplified and in Traditional script. A query *recalls* when the paragraph it was cut from is
among the hits; a phrase hit is *precise* when its normalised text contains the phrase; a total is
*exact* when it equals a brute-force count. The naive setup (``jieba.analyse.ChineseAnalyzer`` +
Whoosh's ``QueryParser``) is measured on the same paragraphs and queries in the same run.

    python bench/recall.py --stories 2000 --samples 400
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search.build.indexer import build_index  # noqa: E402
from search.config import Settings  # noqa: E402
from search.paragraphs import read_articles  # noqa: E402
from search.query.searcher import Searcher  # noqa: E402
from search.text.normalize import normalize, skeleton  # noqa: E402


def write_seeds(folder: Path, corpus: Path, stories: int) -> None:
    shutil.copytree(REPO / "seeds", folder)
    if stories and corpus.exists():
        with gzip.open(corpus, "rt", encoding="utf-8") as src, open(folder / "bench.jsonl", "w") as out:
            for i, line in enumerate(src):
                if i >= stories:
                    break
                out.write(line)


def all_hits(searcher: Searcher, q: str) -> tuple[int, set]:
    first = searcher.search(q, size=100)
    ids = {(h["article_id"], h["paragraph"]) for h in first["hits"]}
    page = 2
    while len(ids) < first["total"]:
        more = searcher.search(q, page=page, size=100)["hits"]
        if not more:
            break
        ids |= {(h["article_id"], h["paragraph"]) for h in more}
        page += 1
    return first["total"], ids


class Naive:
    """jieba's ChineseAnalyzer in a Whoosh index, queried through Whoosh's QueryParser."""

    def __init__(self, folder: Path, paragraphs):
        from jieba.analyse import ChineseAnalyzer
        from whoosh import index
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import QueryParser

        schema = Schema(key=ID(stored=True), text=TEXT(analyzer=ChineseAnalyzer()))
        folder.mkdir()
        ix = index.create_in(str(folder), schema)
        writer = ix.writer()
        for aid, n, text, _ in paragraphs:
            writer.add_document(key=f"{aid}\x00{n}", text=text)
        writer.commit()
        self.searcher = ix.searcher()
        self.parser = QueryParser("text", schema)

    def hits(self, q: str) -> set:
        try:
            results = self.searcher.search(self.parser.parse(q), limit=None)
        except Exception:  # the naive parser raises on odd input; count it as nothing found
            return set()
        return {tuple(hit["key"].split("\x00")) for hit in results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpora" / "xwlb.jsonl.gz")
    ap.add_argument("--stories", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-naive", action="store_true")
    args = ap.parse_args()
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="zhsearch-recall-"))
    try:
        write_seeds(work / "seeds", args.corpus, args.stories)
        settings = Settings(seeds_dir=work / "seeds", index_dir=work / "index")
        summary = build_index(settings, jobs=1)
        print(summary.line())
        paragraphs = [(a.id, p.n, p.text, skeleton(normalize(p.text)))
                      for a in read_articles(settings.seeds_dir, lambda _: None) for p in a.paragraphs]
        searcher = Searcher(settings)
        naive = None if args.no_naive else Naive(work / "naive", paragraphs)
        mixed = [p for p in paragraphs if any(c.isascii() and c.isalnum() for c in p[2])]
        kinds = ("phrase", "keyword", "trad phrase", "trad keyword", "latin/digit phrase")
        stats = {k: {"n": 0, "recall": 0, "precise": 0, "exact": 0, "naive": 0} for k in kinds}
        for _ in range(args.samples):
            for kind in kinds:
                pool = mixed if kind.startswith("latin") and mixed else paragraphs
                aid, n, text, _ = rng.choice(pool)
                length = rng.randint(2, 6)
                if len(text) < length:
                    continue
                if kind.startswith("latin"):
                    ascii_at = [i for i, c in enumerate(text) if c.isascii() and c.isalnum()]
                    start = max(0, min(rng.choice(ascii_at) - rng.randint(0, length - 1), len(text) - length))
                else:
                    start = rng.randint(0, len(text) - length)
                sub = text[start : start + length]
                if '"' in sub or not skeleton(normalize(sub)) or sub.strip().startswith("-"):
                    continue
                if kind.startswith("trad"):
                    sub = s2t.convert(sub)
                q = f'"{sub}"' if "phrase" in kind else sub
                key = skeleton(normalize(sub))
                total, ids = all_hits(searcher, q)
                s = stats[kind]
                s["n"] += 1
                s["recall"] += (aid, n) in ids
                by_key = {(a, m) for a, m, _, skel in paragraphs if key in skel}
                s["precise"] += "phrase" in kind and ids <= by_key or "phrase" not in kind
                s["exact"] += total == len(ids) and ("phrase" not in kind or ids == by_key)
                if naive is not None:
                    s["naive"] += (aid, str(n)) in naive.hits(q)
        print(f"{len(paragraphs):,} paragraphs; {args.samples} samples per kind; seed {args.seed}")
        print(f"{'query kind':<20} {'n':>5} {'recall':>7} {'precision':>9} {'exact':>6} {'naive recall':>13}")
        for kind, s in stats.items():
            n = max(1, s["n"])
            naive_recall = f"{s['naive'] / n:.2f}" if naive is not None else "-"
            print(f"{kind:<20} {s['n']:>5} {s['recall'] / n:>7.3f} {s['precise'] / n:>9.3f} "
                  f"{s['exact'] / n:>6.3f} {naive_recall:>13}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
