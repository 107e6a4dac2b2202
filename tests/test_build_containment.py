"""No single article stops a build: a bug in one article's reconstruction is reported at that
article, which is indexed as plain sentences, and every other article is indexed as usual."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import break_reconstruction
from search import cli
from search.config import Settings
from search.query.searcher import Searcher

ARTICLES = {
    "a_ok.txt": "原标题：市图书馆新馆开放（本报讯）市图书馆新馆今天正式开放。馆内藏书五十万册。",
    "b_boom.txt": "原标题：出错的文章（本报讯）这篇文章的重建会出错。但它的每一句话都要能搜到！最后一句话",
    "c_ok.txt": "港口今年吞吐量创新高。集装箱航线新增十二条。",
}
JSONL = [
    {"id": "d_ok", "title": "正常的简讯", "text": "简讯正文第一句。简讯正文第二句。"},
    {"id": "e_boom", "title": "出错的简讯", "text": "这条简讯的重建也会出错。它的第二句话。"},
]


def written_seeds(tmp_path: Path) -> Path:
    """A seeds folder of the .txt articles and the JSONL feed."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in JSONL) + "\n",
                                       encoding="utf-8")
    return folder


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch) -> Path:
    folder = written_seeds(tmp_path)
    break_reconstruction(monkeypatch, "出错")
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])  # reconstructed here, or in worker processes and reported here
def test_the_build_reports_the_article_and_indexes_every_article(seeds: Path, tmp_path: Path, capsys, jobs) -> None:
    index = tmp_path / "index"
    code = cli.main(["index", "--seeds", str(seeds), "--index", str(index), "--jobs", jobs], environ={})
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    reports = [line for line in err.splitlines() if "could not be reconstructed" in line]
    assert reports == [
        "b_boom.txt:1: paragraphs could not be reconstructed (IndexError: string index out of range); indexed as sentences",
        "feed.jsonl:2: paragraphs could not be reconstructed (IndexError: string index out of range); indexed as sentences",
    ]
    searcher = Searcher(Settings(seeds_dir=seeds, index_dir=index, refresh_interval=0))
    try:
        assert searcher.health()["articles"] == 5
        for query, article in [("新馆", "a_ok"), ("每一句话都要能搜到", "b_boom"), ('"最后一句话"', "b_boom"),
                               ("吞吐量", "c_ok"), ("简讯正文", "d_ok"), ("它的第二句话", "e_boom")]:
            hits = searcher.search(query)["hits"]
            assert {h["article_id"] for h in hits} == {article}, query
        boom = searcher.article("b_boom")
        assert [p["kind"] for p in boom["paragraphs"]] == ["body", "body", "body"]
        assert "".join(p["text"] for p in boom["paragraphs"]) == ARTICLES["b_boom.txt"]
        assert searcher.article("e_boom")["title"] == "出错的简讯"
    finally:
        searcher.close()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_strict_turns_the_report_into_a_failure(seeds: Path, tmp_path: Path, capsys, jobs) -> None:
    index = tmp_path / "index"
    code = cli.main(["index", "--strict", "--seeds", str(seeds), "--index", str(index), "--jobs", jobs], environ={})
    _, err = capsys.readouterr()
    assert code == 1
    assert "b_boom.txt:1: paragraphs could not be reconstructed" in err
    assert not (index / "CURRENT").exists()


def test_paragraphs_are_reconstructed_in_the_worker_processes(tmp_path: Path, monkeypatch) -> None:
    """The costliest step of reading runs beside the builder, not in it: every article's split
    happens in a worker process of a parallel build."""
    import search.paragraphs.reading as reading

    folder = written_seeds(tmp_path)
    where = tmp_path / "splits"
    real = reading.split_text

    def split_text(text: str, *args, **kwargs):
        with open(where, "a") as file:
            file.write(f"{os.getpid()}\n")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(reading, "split_text", split_text)
    code = cli.main(["index", "--seeds", str(folder), "--index", str(tmp_path / "index"), "--jobs", "2"], environ={})
    assert code == 0
    pids = where.read_text().split()
    assert len(pids) == len(ARTICLES) + len(JSONL)
    assert str(os.getpid()) not in pids
