"""The benchmarks' recorded runs, ``bench/results/<benchmark>.jsonl``: list them, compare them, add one.

    python bench/results.py                              # each benchmark's latest run, its figures
    python bench/results.py latency                      # every run of one benchmark, oldest first
    python bench/results.py latency --compare            # its latest line against the line before
    python bench/results.py latency --compare 52cbac9 93a1f17   # the latest line of one commit against another's
    python bench/results.py add search_instructions --commit abc1234 --machine "2 cores, load 2" \\
        --run 2026-12-07-x --note "what was compared" instructions_per_search=969240

A line is one code measured in one run: ``commit`` (the code measured, 7–40 hex digits), ``date``
(YYYY-MM-DD), ``machine`` (how loaded it was), ``figures`` (a flat object, name → finite number, the
unit in the name: ``p99_ms``), and optionally ``run`` (lines with the same run were measured side by
side: compare those), ``corpus``, ``note`` (text) and ``details`` (a JSON object for what is no flat
figure: per-query tables, samples, the arguments). No other key. Figures of different runs on these
shared machines differ with the load: a ratio means most between lines of one run.

A benchmark appends its line with ``record()``, which checks it as ``load()`` does.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REQUIRED = ("commit", "date", "machine", "figures")
OPTIONAL = ("run", "corpus", "note", "details")


def problem(line) -> str | None:
    """Why ``line`` (a parsed line) breaks the format, or None."""
    if not isinstance(line, dict):
        return "not a JSON object"
    missing = [key for key in REQUIRED if key not in line]
    if missing:
        return f"missing {', '.join(missing)}"
    unknown = sorted(set(line) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        return f"unknown keys {', '.join(unknown)} (allowed: {', '.join(REQUIRED + OPTIONAL)})"
    if not isinstance(line["commit"], str) or not re.fullmatch(r"[0-9a-f]{7,40}", line["commit"]):
        return "commit must be 7 to 40 hex digits"
    if not isinstance(line["date"], str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", line["date"]):
        return "date must be YYYY-MM-DD"
    texts = [key for key in ("machine", "run", "corpus", "note") if key in line and not (
        isinstance(line[key], str) and line[key].strip())]
    if texts:
        return f"{', '.join(texts)} must be text"
    figures = line["figures"]
    if not isinstance(figures, dict):
        return "figures must be finite numbers (an object, name → number)"
    bad = [name for name, value in figures.items()
           if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)]
    if not figures or bad:
        return f"figures must be finite numbers ({', '.join(bad) or 'none given'})"
    if "details" in line and not isinstance(line["details"], dict):
        return "details must be a JSON object"
    return None


def load(benchmark: str, folder: Path = RESULTS) -> list[dict]:
    """The lines of ``benchmark``'s results file, checked; raises ValueError naming a bad line."""
    path = folder / f"{benchmark}.jsonl"
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None
        if reason := problem(line):
            raise ValueError(f"{path}:{number}: {reason}")
        lines.append(line)
    return lines


def record(benchmark: str, figures: dict, *, commit: str, machine: str, date: str | None = None,
           run: str | None = None, corpus: str | None = None, note: str | None = None,
           details: dict | None = None, folder: Path | None = None) -> Path:
    """Append one line to ``benchmark``'s results file and return the file; raises ValueError, writing
    nothing, when the line breaks the format (a figure not a finite number, a bad commit, …)."""
    line = {"commit": commit, "date": date or datetime.date.today().isoformat(), "machine": machine,
            "figures": figures}
    line.update({key: value for key, value in
                 (("run", run), ("corpus", corpus), ("note", note), ("details", details)) if value is not None})
    if reason := problem(line):
        raise ValueError(f"{benchmark}: {reason}")
    text = json.dumps(line, ensure_ascii=False, allow_nan=False, default=str)
    path = (folder or RESULTS) / f"{benchmark}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path


def benchmarks(folder: Path = RESULTS) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.jsonl"))


def latest_of(lines: list[dict], commit: str) -> dict:
    """The last line measuring ``commit`` (a prefix of it will do)."""
    found = [line for line in lines if line["commit"].startswith(commit) or commit.startswith(line["commit"])]
    if not found:
        raise SystemExit(f"no line for commit {commit}")
    return found[-1]


def compare(new: dict, old: dict) -> list[tuple[str, float, float, float | None]]:
    """(figure, new, old, new / old) for every figure the two lines share."""
    rows = []
    for name, value in new["figures"].items():
        if name in old["figures"]:
            before = old["figures"][name]
            rows.append((name, value, before, value / before if before else None))
    return rows


def label(line: dict) -> str:
    where = f" · {line['corpus']}" if line.get("corpus") else ""
    run = f" · run {line['run']}" if line.get("run") else ""
    return f"{line['commit']} ({line['date']}{where}{run})"


def number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    out = [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) for row in [header, *rows]]
    out.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(out)


def show_latest(folder: Path) -> None:
    for name in benchmarks(folder):
        line = load(name, folder)[-1]
        figures = ", ".join(f"{key} {number(value)}" for key, value in line["figures"].items())
        print(f"{name}: {label(line)}\n    {figures}" + (f"\n    {line['note']}" if line.get("note") else ""))


def show_all(name: str, folder: Path) -> None:
    for line in load(name, folder):
        figures = ", ".join(f"{key} {number(value)}" for key, value in line["figures"].items())
        print(f"{label(line)} [{line['machine']}]\n    {figures}")


def show_compare(name: str, commits: list[str], folder: Path) -> None:
    lines = load(name, folder)
    if commits:
        if len(commits) != 2:
            raise SystemExit("--compare takes no commit or two")
        new, old = latest_of(lines, commits[0]), latest_of(lines, commits[1])
    else:
        if len(lines) < 2:
            raise SystemExit(f"{name} has only one line")
        new, old = lines[-1], lines[-2]
    print(f"{label(new)}\n  against {label(old)}")
    if not (new.get("run") and new.get("run") == old.get("run")):
        print("  (not measured side by side: the machine's load differed)")
    rows = [[figure, number(a), number(b), "" if ratio is None else f"{ratio:.3f}×"]
            for figure, a, b, ratio in compare(new, old)]
    print(table(rows, ["figure", new["commit"], old["commit"], "ratio"]) if rows else "no figure in common")


def add(args: argparse.Namespace, folder: Path) -> None:
    figures = {}
    for item in args.figures:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{item!r}: a figure is NAME=NUMBER")
        try:
            figures[key] = float(value) if any(c in value for c in ".eEnN") else int(value)
        except ValueError:
            raise SystemExit(f"{item!r}: a figure is NAME=NUMBER") from None
    try:
        path = record(args.benchmark, figures, commit=args.commit, machine=args.machine, date=args.date,
                      run=args.run, corpus=args.corpus, note=args.note, folder=folder)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(f"added to {path}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = RESULTS
    if argv[:1] == ["add"]:
        ap = argparse.ArgumentParser(prog="results.py add", description="append one line to a results file")
        ap.add_argument("benchmark")
        ap.add_argument("--commit", required=True)
        ap.add_argument("--machine", required=True, help="cores and load, e.g. '2 cores, shared, load 2–5'")
        ap.add_argument("--date", help="YYYY-MM-DD (default: today)")
        ap.add_argument("--run", help="the same for lines measured side by side")
        ap.add_argument("--corpus")
        ap.add_argument("--note")
        ap.add_argument("figures", nargs="+", help="NAME=NUMBER, the unit in the name (p99_ms=3.2)")
        add(ap.parse_args(argv[1:]), folder)
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("benchmark", nargs="?", help=f"one of: {', '.join(benchmarks(folder))}")
    ap.add_argument("--compare", nargs="*", metavar="COMMIT", help="the latest line against the one before, "
                    "or the latest line of the first commit against the second's")
    args = ap.parse_args(argv)
    if args.benchmark is None:
        show_latest(folder)
    elif args.compare is not None:
        show_compare(args.benchmark, args.compare, folder)
    else:
        show_all(args.benchmark, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
