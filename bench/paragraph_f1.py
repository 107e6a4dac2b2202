"""Paragraph-boundary precision / recall / F1 of run-on reconstruction, per source.

Each story of a paragraph-marked JSONL(.gz) corpus (paragraphs separated by ``\\n``) is joined
into one run-on line, reconstructed with ``search.paragraphs.split_text`` and compared with the
editor's paragraphs. A boundary is the character offset in the joined string where a paragraph
starts (0 excluded). Each corpus is split in two halves (``split_halves``: its first and second
half in file order): the first is where the weights were fitted (bench/fit_paragraph_model.py),
the second is held out and is what is scored here.

For each source, on its held-out half: split_text with the shipped weights (fitted on every
source), split_text with weights fitted in-process on the *other* sources only (this source left
out of fitting entirely), and two baselines: a cut at every sentence end, and sentences grouped by
length (target tuned on the tuning half). Also: held-out F1 by year and by story length, and
split_text's speed in characters per second.

    python bench/paragraph_f1.py [--corpus PATH ...] [--limit N] [--no-leave-one-out]
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

from search.paragraphs import MAX_BODY, MAX_QUOTE, split_text
from search.paragraphs.sentences import _blocked, _sentences

CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT_CORPUS = CORPORA / "xwlb.jsonl.gz"
#: The paragraph-marked corpora fitted on and scored, by source name.
SOURCES = {"xwlb": CORPORA / "xwlb.jsonl.gz", "president": CORPORA / "president.jsonl.gz"}
QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}


def records(path: Path, limit: int | None) -> Iterator[tuple[str, list[str]]]:
    """(year, paragraphs) of each story in the corpus (at least one paragraph); the year is the
    record's date's, or else the start of its id."""
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
                yield str(record.get("date") or record.get("id", count))[:4], paragraphs


def stories(path: Path, limit: int | None) -> Iterator[list[str]]:
    """The paragraphs of each story in the corpus (at least one)."""
    for _, paragraphs in records(path, limit):
        yield paragraphs


def split_halves(corpus: list) -> tuple[list, list]:
    """The tuning (first) and held-out (second) half of a corpus, in file order."""
    middle = len(corpus) // 2
    return corpus[:middle], corpus[middle:]


def source_name(path: Path) -> str:
    return path.name.split(".")[0]


def load_sources(paths: list[Path] | None, limit: int | None) -> dict[str, tuple[list, list]]:
    """Per source name: the (tuning, held-out) halves of its stories' paragraphs."""
    out = {}
    for path in paths or SOURCES.values():
        if not path.exists():
            raise SystemExit(f"corpus not found: {path}")
        tuning, held_out = split_halves([paragraphs for _, paragraphs in records(path, limit)])
        out[source_name(path)] = (tuning, held_out)
    return out


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
    parser.add_argument("--corpus", type=Path, action="append",
                        help=f"a corpus (repeatable; default: {', '.join(SOURCES)})")
    parser.add_argument("--limit", type=int, default=None, help="read only the first N stories of each corpus")
    parser.add_argument("--no-leave-one-out", dest="leave_one_out", action="store_false",
                        help="skip the fits that leave each source out")
    parser.add_argument("--l2", type=float, default=None, help="regularisation of the leave-one-out fits (default: the shipped fit's)")
    parser.add_argument("--details", action="store_true", help="also F1 by year and story length, and speed")
    args = parser.parse_args(argv)
    from search.paragraphs import weights

    paths = args.corpus or list(SOURCES.values())
    ided = {}
    for path in paths:
        if not path.exists():
            print(f"corpus not found: {path}", file=sys.stderr)
            return 2
        ided[source_name(path)] = split_halves(list(records(path, args.limit)))
    shipped = weights.fitted()
    print(f"shipped weights: {weights.WEIGHTS_FILE.relative_to(ROOT)}, fitted on "
          + ", ".join(f"{k} ({v.get('tuning_stories')} tuning stories)" for k, v in shipped.extra.get("fitted_on", {}).items()))
    left_out: dict[str, object] = {}
    if args.leave_one_out and len(ided) > 1:
        from fit_paragraph_model import fit

        for name in ided:
            others = {k: [p for _, p in halves[0]] for k, halves in ided.items() if k != name}
            started = time.perf_counter()
            left_out[name] = fit(others, l2=args.l2 if args.l2 is not None else shipped.extra.get("l2", 1e-3),
                                 start=shipped)
            print(f"fitted without {name} (on {', '.join(others)}): {time.perf_counter() - started:.0f} s")
        weights.use(None)
    summary = []
    for name, (tuning, held_out) in ided.items():
        target = best_length_target([p for _, p in tuning][:3000])
        stories_ = [p for _, p in held_out]
        print(f"{name}: {len(tuning) + len(held_out)} stories; held-out half {len(held_out)} stories, "
              f"{sum(len(p) - 1 for p in stories_)} gold boundaries; length baseline target {target} chars (tuned)")
        predictors = {"split_text, fitted on all": (shipped, predict_model)}
        if name in left_out:
            predictors[f"split_text, {name} left out"] = (left_out[name], predict_model)
        predictors["every sentence end"] = (None, predict_sentences)
        predictors[f"group by length ({target})"] = (None, predict_by_length(target))
        row = {}
        for label, (fitted, predict) in predictors.items():
            if fitted is not None:
                weights.use(fitted)
            score = Score()
            for paragraphs in stories_:
                joined = "".join(paragraphs)
                score.add(joined, gold_boundaries(paragraphs), predict(joined))
            print(score.line(label))
            row[label.split(",")[-1].strip().split(" (")[0]] = score.figures()[2]
        weights.use(None)
        summary.append((name, row))
    print("held-out F1 by source: fitted on all | source left out | every sentence end | group by length | left out - every sentence end")
    for name, row in summary:
        values = list(row.values())
        loo = row.get(f"{name} left out")
        gain = f"{loo - row['every sentence end']:+.3f}" if loo is not None else "-"
        print(f"  {name:<12} {row['fitted on all']:.3f} | " + (f"{loo:.3f}" if loo is not None else "  -  ")
              + f" | {row['every sentence end']:.3f} | {values[-1]:.3f} | {gain}")
    if args.details:
        for name, (_, held_out) in ided.items():
            print(f"{name}:")
            cross_check(held_out)
            speed([p for _, p in held_out])
    return 0


def cross_check(held_out: list[tuple[str, list[str]]]) -> None:
    """Held-out F1 of split_text against the every-sentence-end baseline per year and per story length.

    A gain that holds in every slice, rather than in the slices most like the
    tuning half, is less likely to be fitted to one period's or one format's habits.
    """
    def bucket_of_length(paragraphs: list[str]) -> str:
        n = sum(map(len, paragraphs))
        return "< 300 chars" if n < 300 else "300-800 chars" if n < 800 else "800-1500 chars" if n < 1500 else ">= 1500 chars"

    slicers = {"year": lambda year, _: year, "story length": lambda _, paragraphs: bucket_of_length(paragraphs)}
    for title, slicer in slicers.items():
        slices: dict[str, tuple[Score, Score, list[int]]] = {}
        for year, paragraphs in held_out:
            model, base, count = slices.setdefault(slicer(year, paragraphs), (Score(), Score(), [0]))
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
