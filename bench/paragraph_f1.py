"""Paragraph-boundary precision / recall / F1 of run-on reconstruction.

Each story of a JSONL(.gz) corpus (paragraphs separated by ``\\n``) is joined
into one run-on line, reconstructed with ``search.paragraphs.split_text`` and
compared with the editor's paragraphs. A boundary is the character offset in
the joined string where a paragraph starts (0 excluded). Two baselines run on
the same stories: a cut at every sentence end, and sentences grouped by
length. The corpus is split in two halves: the first is where the grouping
weights were tuned, the second is held out.

Also reported: held-out F1 by year and by story length (against the
sentence-end baseline), and split_text's speed in characters per second.

    python bench/paragraph_f1.py [--corpus PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.paragraphs import MAX_BODY, MAX_QUOTE, split_text  # noqa: E402
from search.paragraphs.sentences import _blocked, _sentences  # noqa: E402

DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpora" / "xwlb.jsonl.gz"
QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}


def records(path: Path, limit: int | None) -> Iterator[tuple[str, list[str]]]:
    """(id, paragraphs) of each story in the corpus (at least one paragraph)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for count, line in enumerate(lines):
            if limit is not None and count >= limit:
                return
            if not line.strip():
                continue
            record = json.loads(line)
            paragraphs = [p.strip() for p in record["text"].split("\n") if p.strip()]
            if paragraphs:
                yield str(record.get("id", count)), paragraphs


def stories(path: Path, limit: int | None) -> Iterator[list[str]]:
    """The paragraphs of each story in the corpus (at least one)."""
    for _, paragraphs in records(path, limit):
        yield paragraphs


def gold_boundaries(paragraphs: list[str]) -> set[int]:
    """Offsets in the joined string where the 2nd, 3rd, … paragraph starts."""
    offsets, pos = set(), 0
    for p in paragraphs[:-1]:
        pos += len(p)
        offsets.add(pos)
    return offsets


def offsets_of(joined: str, pieces: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of each piece, found in order in the joined string."""
    spans, pos = [], 0
    for piece in pieces:
        start = joined.index(piece, pos)
        pos = start + len(piece)
        spans.append((start, pos))
    return spans


def predict_model(joined: str) -> list[tuple[int, int, str]]:
    """split_text's paragraphs as (start, end, kind)."""
    paragraphs = split_text(joined)
    spans = offsets_of(joined, (p.text for p in paragraphs))
    return [(s, e, p.kind) for (s, e), p in zip(spans, paragraphs)]


def predict_sentences(joined: str) -> list[tuple[int, int, str]]:
    """Baseline: a paragraph per sentence (quotation-aware sentence ends)."""
    return [(s, e, "body") for s, e in _sentences(joined, 0, len(joined), _blocked(joined))]


def predict_by_length(target: int) -> Callable[[str], list[tuple[int, int, str]]]:
    """Baseline: sentences accumulated until a paragraph reaches ``target`` characters."""

    def predict(joined: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for s, e in _sentences(joined, 0, len(joined), _blocked(joined)):
            if spans and spans[-1][1] - spans[-1][0] < target and e - spans[-1][0] <= MAX_BODY:
                spans[-1] = (spans[-1][0], e, "body")
            else:
                spans.append((s, e, "body"))
        return spans

    return predict


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Matched quotation/bracket pairs (open, close), at most MAX_QUOTE apart (independent of the model)."""
    stack, pairs = [], []
    closers = {v: k for k, v in QUOTE_PAIRS.items()}
    for i, ch in enumerate(text):
        if ch in QUOTE_PAIRS:
            stack.append((ch, i))
        elif ch in closers and stack and stack[-1][0] == closers[ch]:
            opened = stack.pop()[1]
            if i - opened <= MAX_QUOTE:
                pairs.append((opened, i))
    return pairs


class Score:
    """Boundary counts and rule violations accumulated over stories."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = self.inside_quote = self.too_long = 0

    def add(self, joined: str, gold: set[int], spans: list[tuple[int, int, str]]) -> None:
        predicted = {s for s, _, _ in spans if s > 0}
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)
        pairs = quote_spans(joined)
        self.inside_quote += sum(1 for b in predicted for o, c in pairs if o < b <= c)
        blocked = _blocked(joined)
        for s, e, kind in spans:
            if kind == "body" and e - s > MAX_BODY and len(_sentences(joined, s, e, blocked)) > 1:
                self.too_long += 1

    def figures(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def line(self, name: str) -> str:
        p, r, f = self.figures()
        return (
            f"  {name:<28} P {p:.3f}  R {r:.3f}  F1 {f:.3f}   "
            f"cuts inside quotes {self.inside_quote}, multi-sentence body > {MAX_BODY} chars {self.too_long}"
        )


def best_length_target(half: list[list[str]]) -> int:
    """The length-baseline target with the best F1 on the given stories."""
    best = (-1.0, 0)
    for target in range(40, 260, 20):
        score = Score()
        predict = predict_by_length(target)
        for paragraphs in half:
            joined = "".join(paragraphs)
            score.add(joined, gold_boundaries(paragraphs), predict(joined))
        best = max(best, (score.figures()[2], target))
    return best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="read only the first N stories")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    ided = list(records(args.corpus, args.limit))
    corpus = [paragraphs for _, paragraphs in ided]
    middle = len(corpus) // 2
    halves = {"tuning half": corpus[:middle], "held-out half": corpus[middle:]}
    target = best_length_target(corpus[:middle][:3000])
    print(f"{len(corpus)} stories from {args.corpus.name}; length baseline target {target} chars (tuned)")
    for name, half in halves.items():
        started = time.perf_counter()
        scores = {"split_text": Score(), "every sentence end": Score(), f"group by length ({target})": Score()}
        predictors = [predict_model, predict_sentences, predict_by_length(target)]
        for paragraphs in half:
            joined = "".join(paragraphs)
            gold = gold_boundaries(paragraphs)
            for score, predict in zip(scores.values(), predictors):
                score.add(joined, gold, predict(joined))
        print(f"{name}: {len(half)} stories, {sum(s.tp + s.fn for s in [scores['split_text']])} gold boundaries "
              f"({time.perf_counter() - started:.1f} s)")
        for label, score in scores.items():
            print(score.line(label))
    cross_check(ided[middle:])
    speed(corpus[middle:])
    return 0


def cross_check(held_out: list[tuple[str, list[str]]]) -> None:
    """Held-out F1 of split_text against the every-sentence-end baseline per year and per story length.

    A gain that holds in every slice, rather than in the slices most like the
    tuning half, is less likely to be fitted to one period's or one format's habits.
    """
    def bucket_of_length(paragraphs: list[str]) -> str:
        n = sum(map(len, paragraphs))
        return "< 300 chars" if n < 300 else "300-800 chars" if n < 800 else "800-1500 chars" if n < 1500 else ">= 1500 chars"

    slicers = {"year": lambda story_id, _: story_id[:4], "story length": lambda _, paragraphs: bucket_of_length(paragraphs)}
    for title, slicer in slicers.items():
        slices: dict[str, tuple[Score, Score, list[int]]] = {}
        for story_id, paragraphs in held_out:
            model, base, count = slices.setdefault(slicer(story_id, paragraphs), (Score(), Score(), [0]))
            joined = "".join(paragraphs)
            gold = gold_boundaries(paragraphs)
            model.add(joined, gold, predict_model(joined))
            base.add(joined, gold, predict_sentences(joined))
            count[0] += 1
        print(f"held-out half by {title}: F1 split_text / every sentence end")
        for key in sorted(slices):
            model, base, count = slices[key]
            print(f"  {key:<16} {count[0]:>5} stories   {model.figures()[2]:.3f} / {base.figures()[2]:.3f}")


def speed(half: list[list[str]]) -> None:
    """Characters per second of split_text on run-on stories (best of 3 passes)."""
    texts = ["".join(paragraphs) for paragraphs in half]
    chars = sum(map(len, texts))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for joined in texts:
            split_text(joined)
        best = min(best, time.perf_counter() - started)
    print(f"speed: {chars / best / 1e6:.2f} M chars/s ({chars} chars of run-on text, {len(texts)} stories)")


if __name__ == "__main__":
    sys.exit(main())
