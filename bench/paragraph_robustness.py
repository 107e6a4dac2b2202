"""Run-on reconstruction over every article of the paragraph-marked corpora: exceptions and lost text.

Each story of each corpus (``../shared/corpora/*.jsonl.gz``, paragraphs separated by ``\\n``) is
joined into one run-on line — as crawled text arrives — and reconstructed twice, as a ``.txt``
article (the title looked for in the text) and as a JSONL article (its title given). Prints, per
corpus: articles, characters, exceptions (by type, with the first article that raised), characters
lost (the input less whitespace against the paragraphs joined less whitespace), and speed.

    python bench/paragraph_robustness.py [--corpus PATH ...] [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import difflib
import gzip
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.paragraphs import split_text  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
WHITESPACE = re.compile(r"\s+")


def lost_characters(expected: str, got: str) -> int:
    """How many characters of ``expected`` are missing from ``got`` (0 when they are equal)."""
    if expected == got:
        return 0
    matcher = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    return len(expected) - sum(block.size for block in matcher.get_matching_blocks())


def run(path: Path, limit: int | None) -> dict:
    articles = characters = lost = 0
    exceptions: collections.Counter = collections.Counter()
    first_raised: dict[str, str] = {}
    started = time.perf_counter()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if limit is not None and articles >= limit:
                break
            record = json.loads(line)
            joined = "".join(p.strip() for p in record["text"].split("\n"))
            if not joined.strip():
                continue
            articles += 1
            characters += len(joined)
            expected = WHITESPACE.sub("", joined)
            for title in (None, record.get("title") or None):
                try:
                    paragraphs = split_text(joined, title=title)
                except Exception as exc:  # counted and reported, never re-raised: this is what we measure
                    name = type(exc).__name__
                    exceptions[name] += 1
                    first_raised.setdefault(name, f"{path.name}:{number} ({record.get('id')}): {exc}")
                    continue
                body = paragraphs[1:] if title and title.strip() else paragraphs
                lost += lost_characters(expected, WHITESPACE.sub("", "".join(p.text for p in body)))
    seconds = time.perf_counter() - started
    return {"corpus": path.name, "articles": articles, "characters": characters, "exceptions": exceptions,
            "first_raised": first_raised, "lost": lost, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus (default: every one in shared/corpora)")
    parser.add_argument("--limit", type=int, default=None, help="at most N articles per corpus")
    args = parser.parse_args()
    paths = args.corpus or sorted(CORPORA.glob("*.jsonl.gz"))
    if not paths:
        raise SystemExit(f"no corpora found in {CORPORA}")
    print(f"{'corpus':<22} {'articles':>9} {'characters':>12} {'exceptions':>10} {'chars lost':>10} {'M chars/s':>9}")
    total_exceptions = total_lost = 0
    for path in paths:
        result = run(path, args.limit)
        raised = sum(result["exceptions"].values())
        total_exceptions += raised
        total_lost += result["lost"]
        rate = 2 * result["characters"] / result["seconds"] / 1e6
        print(f"{result['corpus']:<22} {result['articles']:>9,} {result['characters']:>12,} {raised:>10} "
              f"{result['lost']:>10} {rate:>9.2f}")
        for name, count in result["exceptions"].most_common():
            print(f"    {name} x{count}, first: {result['first_raised'][name]}")
    print(f"total: {total_exceptions} exceptions, {total_lost} characters lost "
          "(each article reconstructed twice: title found in the text, and title given)")


if __name__ == "__main__":
    main()
