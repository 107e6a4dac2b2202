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
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {"a": 1}, "runs": []}',
     "unknown keys runs"),
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {"a": 1}, "details": [1]}',
     "details must be a JSON object"),
    ('{"commit": "code: /x at abc1234", "date": "2026-12-07", "machine": "m", "figures": {"a": 1}}',
     "commit must be 7 to 40 hex digits"),
    ('{"commit": "abc1234", "date": "2026-12-07 16:58 UTC", "machine": "m", "figures": {"a": 1}}',
     "date must be YYYY-MM-DD"),
    ('{"commit": "abc1234", "date": "2026-12-07", "machine": "m", "figures": {"a": {"b": 1}}}',
     "figures must be finite numbers"),
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


def test_record_appends_a_line_load_reads_back_details_and_all(results, tmp_path):
    details = {"queries": [{"q": "中国", "search_ms": 1.95}], "args": {"repeat": 15}}
    for commit in ("aaaaaaa", "bbbbbbb"):
        results.record("views", {"timeline_vs_search_max": 1.04, "export_rows": 152902}, commit=commit,
                       machine="2 cores", date="2026-12-07", run="r1", note="n", details=details, folder=tmp_path)
    old, new = results.load("views", tmp_path)
    assert (old["commit"], new["commit"]) == ("aaaaaaa", "bbbbbbb")
    assert new["details"] == details and new["figures"]["export_rows"] == 152902
    assert "corpus" not in new and new["run"] == "r1"


@pytest.mark.parametrize("change, reason", [
    ({"figures": {"p99_ms": float("nan")}}, "figures must be finite numbers"),
    ({"figures": {"rows": [1, 2]}}, "figures must be finite numbers"),
    ({"commit": "HEAD"}, "commit must be"),
    ({"details": "per query"}, "details must be a JSON object"),
    ({"machine": ""}, "machine must be text"),
])
def test_record_refuses_a_bad_line_and_writes_nothing(results, tmp_path, change, reason):
    line = {"figures": {"p99_ms": 3.0}, "commit": "abc1234", "machine": "2 cores"} | change
    with pytest.raises(ValueError, match=reason):
        results.record("x", line.pop("figures"), folder=tmp_path, **line)
    assert not (tmp_path / "x.jsonl").exists()


def test_add_refuses_what_is_no_number(results, tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    for figure in ("p99_ms=fast", "p99_ms=nan", "p99_ms"):
        with pytest.raises(SystemExit):
            results.main(["add", "latency", "--commit", "abc1234", "--machine", "2 cores", figure])
    assert not (tmp_path / "latency.jsonl").exists()
