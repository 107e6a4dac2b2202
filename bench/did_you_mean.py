"""Did-you-mean on typos made from the corpus's own words: the share whose intended word is in the
top 3 suggestions.

    python bench/did_you_mean.py                                   # xwlb, 300 typos of each kind
    python bench/did_you_mean.py --corpus ../shared/corpora/president.jsonl.gz --count 500

Builds (or reuses) an index of the whole corpus under ``--workdir``. Each typo spoils one word of
the index's vocabulary (Chinese only, 2–4 characters, a word in at least ``--min-df`` paragraphs,
drawn uniformly) the way pinyin input does:

* ``homophone`` — one character replaced by another with the same pinyin and tone,
* ``toneless`` — … by one with the same pinyin in another tone,
* ``swap`` — two of its characters swapped,

the replacement drawn from the corpus's common characters (in ``--common`` or more paragraphs'
words) with that reading in the word (pypinyin, phrase-aware). A typo that occurs anywhere in the
corpus is drawn again: it finds something, so it gets no suggestion. Each typo goes through
``Searcher.search`` as the whole query; a typo counts as corrected when the intended word is among
the first three suggestions. Also printed: the time of the first zero-hit search of a fresh
process and the private memory it adds, and the time of the others.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

KINDS = ("homophone", "toneless", "swap")
TOP = 3


def build(seeds: Path, index_dir: Path, jobs: int):
    from search.config import Settings

    indexer = C.import_moved("search.build.indexer")
    settings = Settings(seeds_dir=seeds, index_dir=index_dir)
    stamp = index_dir / ".bench-source"
    source = (seeds / ".source").read_text()
    if not (indexer.has_index(settings) and stamp.exists() and stamp.read_text() == source):
        shutil.rmtree(index_dir, ignore_errors=True)
        print(f"built: {indexer.build_index(settings, jobs=jobs).line()}")
        stamp.write_text(source)
    return settings


def first_zero_hit(settings) -> tuple[float, float]:
    """Milliseconds of the first zero-hit search in a fresh process with jieba loaded (as in a
    gunicorn worker), and the private dirty memory it adds (MiB): it imports pypinyin and maps the
    build's pinyin index (before the index was built with the build: reads the lexicon and builds
    the pinyin index)."""
    code = ("import re, sys, time; from pathlib import Path;"
            "sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[3]);"
            "import _common as C; from search.config import Settings;"
            "C.import_moved('search.text.analysis').warm_up();"
            "Searcher = C.import_moved('search.query.searcher').Searcher;"
            "dirty = lambda: int(re.search(r'Private_Dirty:\\s+(\\d+)', open('/proc/self/smaps_rollup').read())[1]);"
            "s = Searcher(Settings(index_dir=Path(sys.argv[2]))); s.search('港口'); d = dirty();"
            "t = time.perf_counter(); s.search('䶵䶴䶳'); ms = (time.perf_counter() - t) * 1000;"
            "print(ms, (dirty() - d) / 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(C.SRC), str(settings.index_dir), str(Path(__file__).parent)],
                         capture_output=True, text=True, check=True).stdout
    ms, mib = out.split()[-2:]
    return float(ms), float(mib)


def make_typos(vocabulary, finds, count: int, min_df: int, common: int, seed: int) -> list[tuple[str, str, str]]:
    """``count`` (kind, intended word, typo) of each kind."""
    from pypinyin import Style, lazy_pinyin

    readings = C.import_moved("search.query.suggest").readings

    char_df: dict[str, int] = defaultdict(int)
    eligible = []
    for word in vocabulary.words:
        if all(readings(c)[0] for c in word):
            df = vocabulary.frequency(word)
            for c in dict.fromkeys(word):  # in order: the typos must not depend on the process's string hashing
                char_df[c] += df
            if 2 <= len(word) <= 4 and df >= min_df:
                eligible.append(word)
    by_toned: dict[str, list[str]] = defaultdict(list)  # "guo2" → common characters read so
    for c, df in char_df.items():
        if df >= common:
            for toned in sorted(readings(c)[1]):
                by_toned[toned].append(c)
    by_toneless: dict[str, list[str]] = defaultdict(list)
    for toned, chars in by_toned.items():
        by_toneless[toned.rstrip("012345")].extend((c, toned) for c in chars)
    rng = random.Random(seed)
    typos, seen = [], set()
    for kind in KINDS:
        made, tries = 0, 0
        while made < count and tries < count * 200:
            tries += 1
            word = rng.choice(eligible)
            if kind == "swap":
                i, j = sorted(rng.sample(range(len(word)), 2))
                typo = word[:i] + word[j] + word[i + 1 : j] + word[i] + word[j + 1 :]
            else:
                i = rng.randrange(len(word))
                toned = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=False)[i]
                if kind == "homophone":
                    pool = [c for c in by_toned.get(toned, []) if c != word[i]]
                else:
                    pool = [c for c, t in by_toneless.get(toned.rstrip("012345"), [])
                            if t.rstrip("012345") == toned.rstrip("012345") and toned not in readings(c)[1]]
                if not pool:
                    continue
                typo = word[:i] + rng.choice(pool) + word[i + 1 :]
            if typo == word or (word, typo) in seen or finds(typo):
                continue
            seen.add((word, typo))
            typos.append((kind, word, typo))
            made += 1
    return typos


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--count", type=int, default=300, help="typos of each kind")
    ap.add_argument("--min-df", type=int, default=5, help="paragraphs an intended word is a word in, at least")
    ap.add_argument("--common", type=int, default=50, help="paragraphs a replacement character is in, at least")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", type=int, default=8, help="misses printed per kind")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)

    C.begin(args)
    name = Path(args.corpus).name.split(".")[0]
    seeds = C.prepare_seeds(args.corpus, args.workdir / f"seeds-dym-{name}")
    settings = build(seeds, args.workdir / f"ix-dym-{name}", C.cores())

    from whoosh.index import open_dir

    IndexLayout = C.import_moved("search.formats.layout").IndexLayout
    Searcher = C.import_moved("search.query.searcher").Searcher
    Vocabulary = C.import_moved("search.query.suggest").Vocabulary

    first_ms, first_mib = first_zero_hit(settings)
    import pypinyin  # noqa: F401  with its phrase dictionary: each word's reading in context, to make typos

    searcher = Searcher(settings)
    reader = open_dir(str(IndexLayout(settings.index_dir).current())).reader()  # the live build's lexicon
    vocabulary = Vocabulary.from_whoosh(reader)
    typos = make_typos(vocabulary, lambda q: searcher.search(q, size=1)["total"] > 0, args.count, args.min_df,
                       args.common, args.seed)

    stats = {kind: {"n": 0, "any": 0, "top1": 0, "top3": 0, "ms": [], "misses": []} for kind in KINDS}
    for kind, word, typo in typos:
        result = searcher.search(typo, size=1)
        s = stats[kind]
        s["n"] += 1
        s["ms"].append(result["took_ms"])
        suggestions = result["suggestions"]
        s["any"] += bool(suggestions)
        s["top1"] += suggestions[:1] == [word]
        s["top3"] += word in suggestions[:TOP]
        if word not in suggestions[:TOP]:
            s["misses"].append(f"{typo} → {word}: {' '.join(suggestions[:TOP]) or '(none)'}")
    searcher.close()
    reader.close()

    rows = []
    for kind in KINDS:
        s = stats[kind]
        p = C.percentiles(s["ms"])
        rows.append([kind, s["n"], f"{s['any'] / s['n']:.3f}", f"{s['top1'] / s['n']:.3f}",
                     f"{s['top3'] / s['n']:.3f}", f"{p['p50']:.1f}", f"{p['p99']:.1f}"])
    total = sum(s["n"] for s in stats.values())
    top3 = sum(s["top3"] for s in stats.values())
    all_ms = C.percentiles([ms for s in stats.values() for ms in s["ms"]])
    rows.append(["all", total, f"{sum(s['any'] for s in stats.values()) / total:.3f}",
                 f"{sum(s['top1'] for s in stats.values()) / total:.3f}", f"{top3 / total:.3f}",
                 f"{all_ms['p50']:.1f}", f"{all_ms['p99']:.1f}"])
    print(f"corpus {args.corpus.name}: {len(vocabulary.words):,} words; intended words: Chinese, 2–4 characters, "
          f"a word in ≥ {args.min_df} paragraphs; first zero-hit search of a fresh worker (imports pypinyin, "
          f"maps the pinyin index): {first_ms:.0f} ms, private dirty memory +{first_mib:.1f} MiB")
    print(C.table(rows, ["typo", "typos", "with a suggestion", "top 1", f"top {TOP}", "search p50 ms",
                         "search p99 ms"]))
    print(f"\nintended word in the top {TOP}: {top3 / total:.3f} of {total} typos")
    for kind in KINDS:
        for line in stats[kind]["misses"][: args.show]:
            print(f"  miss ({kind}) {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
