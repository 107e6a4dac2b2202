"""Metadata in a build: Whoosh fields (a sortable date, normalised keyword fields, all stored)
and the per-article arrays, written in the same pass as the words."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser

from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.formats.metadata import MetadataIndex

RECORDS = [
    {"id": "x1", "title": "芯片产业", "text": "芯片产业发展迅速。\n芯片出口增长。", "date": "2024-03-05", "source": "新闻联播",
     "tags": ["芯片", "经济"]},
    {"id": "p1", "title": "總統府新聞稿", "text": "總統今天接見訪問團。", "date": "2023-06-30T23:30:00+08:00",
     "source": "總統府新聞"},
    {"id": "x2", "title": "旧闻", "text": "芯片研发取得进展。", "date": "2019-12-31", "source": "新闻联播"},
    {"id": "n1", "title": "无日期", "text": "没有日期的文章。", "kind": "collides", "text_note": "x"},
]


def build(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "feed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_index(settings, jobs=1)
    return IndexLayout(tmp_path / "index").current()


def test_whoosh_holds_the_metadata_fields(tmp_path: Path) -> None:
    folder = build(tmp_path)
    ix = whoosh_index.open_dir(str(folder))
    with ix.searcher() as searcher:
        parser = QueryParser("words", ix.schema)
        by_source = searcher.search(parser.parse("source:总统府新闻"), limit=None)  # Simplified finds Traditional
        assert [hit["article_id"] for hit in by_source] == ["p1", "p1"]  # its title and its paragraph
        assert sorted({hit["article_id"] for hit in searcher.search(parser.parse("source:新闻联播"), limit=None)}) == \
            ["x1", "x2"]
        assert {hit["article_id"] for hit in searcher.search(parser.parse("tags:经济"), limit=None)} == {"x1"}
        newest = searcher.search(parser.parse("芯片"), sortedby="date", reverse=True, limit=None)
        assert [hit["article_id"] for hit in newest] == ["x1", "x1", "x1", "x2"]
        stored = searcher.stored_fields(0)
        assert stored["source"] == "新闻联播" and stored["tags"] == ["芯片", "经济"]
        assert stored["date"] == dt.datetime(2024, 3, 5)
        n1 = next(hit for hit in searcher.search(parser.parse("article_id:n1"), limit=None))
        assert n1["kind"] == "title" and n1["meta_kind"] == "collides"  # a key that is a field of the schema's own


def test_the_arrays_answer_filters_and_metadata_per_article(tmp_path: Path) -> None:
    folder = build(tmp_path)
    meta = MetadataIndex(folder, len(RECORDS))
    assert np.flatnonzero(meta.articles_with("source", "新闻联播")).tolist() == [0, 2]
    assert np.flatnonzero(meta.articles_dated(20230600, 20240599)).tolist() == [0, 1]
    assert meta.of_article(1) == {"date": "2023-06-30T23:30:00+08:00", "source": "總統府新聞"}
    assert meta.of_article(3) == {"kind": "collides", "text_note": "x"}
    assert meta.filter_keys() == {"source", "tags", "kind", "text_note", "date"}
