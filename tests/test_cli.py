"""The command line, called in-process."""

import json
import shutil
from pathlib import Path

import pytest

from search.build import store
from search.build.store import BuildStore
from search.cli import EXIT_FAILED, EXIT_LOCKED, main
from search.formats.layout import IndexLayout, read_meta

TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(TEST_ARTICLES, folder)
    return folder


def test_index_then_query(seeds, tmp_path, capsys):
    index = tmp_path / "index"
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "indexed 4 articles" in out and "characters in" in out
    assert main(["query", "--index", str(index), "港口"]) == 0
    out = capsys.readouterr().out
    assert "paragraphs match '港口'" in out and "【港口】" in out and "did you mean" not in out
    assert main(["query", "--index", str(index), "--json", "--size", "1", "港口"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["size"] == 1 and len(body["hits"]) == 1 and body["total"] >= 2 and body["suggestions"] == []


def test_query_that_finds_nothing_prints_did_you_mean(seeds, tmp_path, capsys):
    index = tmp_path / "index"
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(["query", "--index", str(index), "港扣"]) == 0  # 扣 for 口: a homophone
    out = capsys.readouterr().out
    assert out.startswith("0 paragraphs match '港扣'")
    assert "did you mean (您是不是要找): 港口" in out
    assert main(["query", "--index", str(index), "--json", "港扣"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"][0] == "港口"


def test_defaults_come_from_the_environment(seeds, tmp_path, capsys):
    env = {"ZHSEARCH_SEEDS": str(seeds), "ZHSEARCH_INDEX": str(tmp_path / "envindex")}
    assert main(["index", "--jobs", "1"], environ=env) == 0
    assert IndexLayout(tmp_path / "envindex").current() is not None


def test_the_segment_size_comes_from_the_environment_and_a_bad_one_is_named(seeds, tmp_path, capsys):
    env = {"ZHSEARCH_SEEDS": str(seeds), "ZHSEARCH_INDEX": str(tmp_path / "envindex"),
           "ZHSEARCH_SEGMENT_CHARACTERS": "150"}
    assert main(["index", "--jobs", "1"], environ=env) == 0
    segments = read_meta(IndexLayout(tmp_path / "envindex").current())["segments"]
    assert len(segments) >= 2 and sum(segment["articles"] for segment in segments) == 4
    for bad in ("many", "0", "-5", "1.5"):
        with pytest.raises(SystemExit) as stopped:
            main(["index", "--jobs", "1"], environ={**env, "ZHSEARCH_SEGMENT_CHARACTERS": bad})
        assert stopped.value.code == 2
        assert f"ZHSEARCH_SEGMENT_CHARACTERS must be a positive whole number of characters, not '{bad}'" in \
            capsys.readouterr().err


def test_reindex_swaps_a_new_build_in_and_removes_old_ones(seeds, tmp_path, capsys, monkeypatch):
    index = tmp_path / "index"
    layout = IndexLayout(index)
    builds = []
    for _ in range(3):
        assert main(["index", "--full", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
        builds.append(layout.current())
    assert len(set(builds)) == 3
    # a retired build is kept a while for the workers still reading it ...
    assert sorted(p.name for p in index.glob("build-*")) == sorted(b.name for b in builds)
    monkeypatch.setattr(store, "RETIRED_GRACE", 0)
    assert main(["index", "--full", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    remaining = sorted(p.name for p in index.glob("build-*"))
    assert remaining == sorted([builds[2].name, layout.current().name])  # ... then only live + the one before


def test_missing_seeds_folder_is_a_clear_error(tmp_path, capsys):
    code = main(["index", "--seeds", str(tmp_path / "nope"), "--index", str(tmp_path / "index")])
    assert code == EXIT_FAILED
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert IndexLayout(tmp_path / "index").current() is None


def test_empty_seeds_folder_swaps_nothing_in(tmp_path, capsys):
    (tmp_path / "seeds").mkdir()
    code = main(["index", "--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "index")])
    assert code == EXIT_FAILED
    assert "no articles" in capsys.readouterr().err
    assert IndexLayout(tmp_path / "index").current() is None


def test_bad_files_are_reported_and_skipped_strict_refuses(seeds, tmp_path, capsys):
    index = tmp_path / "index"
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    live = IndexLayout(index).current()
    capsys.readouterr()
    (seeds / "broken.txt").write_bytes("好的\n".encode() + b"\xff\xfe bad\n")
    (seeds / "empty.txt").write_text("")
    (seeds / "new.txt").write_text("新文章\n一段新的文字。", encoding="utf-8")
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    assert "broken.txt:2:" in captured.err and "empty.txt:1:" in captured.err
    assert "added 1, changed 0, removed 0 articles" in captured.out and "5 articles" in captured.out
    newer = IndexLayout(index).current()
    (seeds / "newer.txt").write_text("又一篇\n又一段新的文字。", encoding="utf-8")
    assert main(["index", "--strict", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == EXIT_FAILED
    assert IndexLayout(index).current() == newer != live


def test_a_second_concurrent_build_is_refused_with_one_line(seeds, tmp_path, capsys):
    index = tmp_path / "index"
    with BuildStore(index).build_lock():
        code = main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"])
    assert code == EXIT_LOCKED
    err = capsys.readouterr().err.strip()
    assert "another build is running" in err and "\n" not in err


def test_query_without_index_fails_cleanly(tmp_path, capsys):
    assert main(["query", "--index", str(tmp_path / "none"), "国"]) == EXIT_FAILED
    assert "zhsearch index" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli(seeds, tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "search", "query", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--json" in result.stdout


def test_serve_builds_a_missing_index_and_rebuilds_one_of_another_format(seeds, tmp_path, capsys, monkeypatch):
    """`zhsearch serve` hands over to gunicorn only once an index this version reads is live."""
    from search import cli
    from search.formats.layout import META, read_meta

    started = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: started.append((argv, env)))
    index = tmp_path / "index"
    serve = ["serve", "--seeds", str(seeds), "--index", str(index), "--port", "8799"]

    assert main(serve) == 0
    assert "does not exist yet: building it" in capsys.readouterr().err
    first = IndexLayout(index).current()
    argv, env = started.pop()
    assert "search.wsgi:app" in argv and env["ZHSEARCH_INDEX"] == str(index)

    (first / META).write_text(json.dumps(dict(read_meta(first), format=1)), encoding="utf-8")
    assert main(serve) == 0
    assert "was built by another version of zhsearch: building it" in capsys.readouterr().err
    assert IndexLayout(index).current() != first and started

    assert main(serve) == 0  # a current index is served as it is
    assert "building it" not in capsys.readouterr().err


QUERY_PROBE = """
import sys
from search.text import analysis
from search.cli import main
code = main(["query", "--index", sys.argv[1], sys.argv[2]])
print(code, analysis.segmenter.cache_info().currsize, file=sys.stderr)
"""


def test_a_query_on_a_build_without_a_user_dictionary_does_not_load_jiebas_own(seeds, tmp_path):
    """rjieba cuts a plain query; jieba's own dictionary (half a second of a one-off
    `zhsearch query`) is loaded only for a build's user words or a query rjieba does not cut alone."""
    import subprocess
    import sys

    index = tmp_path / "index"
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    for query, loads_jieba in (("港口", 0), ("6.8%", 1)):
        done = subprocess.run([sys.executable, "-c", QUERY_PROBE, str(index), query], capture_output=True, text=True,
                              timeout=120)
        assert done.stderr.split()[-2:] == ["0", str(loads_jieba)], done.stderr
    (seeds / "userdict.txt").write_text("城市夜读 50\n", encoding="utf-8")
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    done = subprocess.run([sys.executable, "-c", QUERY_PROBE, str(index), "港口"], capture_output=True, text=True,
                          timeout=120)
    assert done.stderr.split()[-2:] == ["0", "1"], done.stderr  # the user words go to both segmenters


def test_a_reader_that_stops_reading_ends_the_query_quietly(seeds, tmp_path):
    """`zhsearch query … | head`: no traceback when the pipe closes, and the shell's status for it."""
    import subprocess
    import sys

    from search.cli import EXIT_BROKEN_PIPE

    index = tmp_path / "index"
    assert main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", "1"]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "search", "query", "--index", str(index), "港口"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_BROKEN_PIPE and b"Traceback" not in err and b"Exception" not in err, err
