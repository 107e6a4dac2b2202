"""bench/results/*.jsonl stay machine-readable, and bench/results.py reads, adds and compares them
(the files only: no benchmark runs here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def results():
    spec = importlib.util.spec_from_file_location("bench_results", BENCH / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_results_file_parses_with_its_required_fields(results):
    names = results.benchmarks()
    assert names, "no results files"
    for name in names:
        for line in results.load(name):
            assert (BENCH / f"{name}.py").is_file(), f"{name}.jsonl names no benchmark in bench/"
            assert len(line["commit"]) >= 7 and line["date"][:2] == "20"


@pytest.mark.parametrize("text, reason", [
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m"}', "missing figures"),
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {"p99_ms": "3"}}',
     "figures must be finite numbers"),
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {}}', "figures must be finite numbers"),
    ('{"commit": "abc1234", ', "not JSON"),
])
def test_a_bad_line_is_reported_at_its_line(results, tmp_path, text, reason):
    good = {"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {"p99_ms": 3.0}}
    (tmp_path / "x.jsonl").write_text(json.dumps(good) + "\n" + text + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"x\.jsonl:2: {reason}"):
        results.load("x", tmp_path)


def test_added_lines_compare_figure_by_figure(results, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    for commit, p99 in (("aaaaaaa", 40), ("bbbbbbb", 30)):
        results.main(["add", "latency", "--commit", commit, "--machine", "2 cores", "--run", "r1",
                      f"p99_ms={p99}", "queries=500"])
    old, new = results.load("latency", tmp_path)
    assert new["figures"] == {"p99_ms": 30, "queries": 500} and new["run"] == "r1"
    assert results.compare(new, old) == [("p99_ms", 30, 40, 0.75), ("queries", 500, 500, 1.0)]
    capsys.readouterr()
    results.main(["latency", "--compare", "aaaaaaa", "bbbbbbb"])
    shown = capsys.readouterr().out
    assert "1.333×" in shown and "not measured side by side" not in shown
