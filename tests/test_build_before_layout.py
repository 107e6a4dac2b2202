"""A build made before the package was grouped by pipeline stage still opens and answers.

``fixtures/build_before_layout/index`` was built from ``fixtures/build_before_layout/seeds`` by the
code of 56d8cd0, whose Whoosh table of contents pickles its schema and codec under the old module
paths (``search.whoosh_codec``, ``search.analysis``, ``search.metadata_index``,
``search.whoosh_columns``, ``search.whoosh_writer``); its completion index (``completions/``, format
15) was added later by ``search.build.completions.write_completions``, which reads the build as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser

from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.query.searcher import Searcher

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "build_before_layout"
OLD_PATHS = ("search.whoosh_codec", "search.analysis", "search.metadata_index", "search.whoosh_columns",
             "search.whoosh_writer")
QUERIES = ["联合国", "图书", "聯合國", "source:新闻", "date:2023", '"开放时间"', "决议 OR 读者", "title:图书馆"]


@pytest.fixture()
def old_index(tmp_path) -> Path:
    folder = tmp_path / "old"
    shutil.copytree(FIXTURE / "index", folder)
    return folder


def test_the_fixture_names_the_old_module_paths(old_index):
    toc = next(IndexLayout(old_index).current().glob("_MAIN_*.toc")).read_bytes()
    assert all(path.encode() in toc for path in OLD_PATHS)


def test_whoosh_opens_it_in_a_fresh_interpreter(old_index):
    """Whoosh's own ``open_dir`` and query parser, in a process that imported nothing of ours first:
    unpickling the schema imports the old paths."""
    script = ("import sys; from whoosh import index; from whoosh.qparser import QueryParser\n"
              "ix = index.open_dir(sys.argv[1])\n"
              "with ix.searcher() as s:\n"
              "    print(sorted(h['article_id'] for h in s.search(QueryParser('words', ix.schema).parse('联合国'))))\n"
              "    print(s.stored_fields(0)['text'])")
    out = subprocess.run([sys.executable, "-c", script, str(IndexLayout(old_index).current())],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["['a1', 'a1']", "联合国安理会通过决议"]


def test_the_old_paths_give_the_classes_of_the_new_modules(old_index):
    from search.segment.codec import ZhCodec
    from search.segment.words_format import CompactCharacters

    ix = whoosh_index.open_dir(str(IndexLayout(old_index).current()))
    assert type(ix.schema["words"].format) is CompactCharacters
    assert all(type(segment.codec()) is ZhCodec for segment in ix._segments())
    with ix.searcher() as searcher:
        found = searcher.search(QueryParser("words", ix.schema).parse("source:新闻 图书"))
        assert [hit["article_id"] for hit in found] == []


def test_it_answers_every_query_as_a_fresh_build_of_the_same_seeds(old_index, tmp_path):
    fresh = Settings(seeds_dir=FIXTURE / "seeds", index_dir=tmp_path / "fresh")
    build_index(fresh)
    old, new = Searcher(Settings(seeds_dir=FIXTURE / "seeds", index_dir=old_index)), Searcher(fresh)
    try:
        for q in QUERIES:
            a, b = old.search(q, facets=("source",)), new.search(q, facets=("source",))
            for answer in (a, b):
                answer.pop("took_ms")
            assert a == b, q
            assert b["total"] > 0, q
        assert old.article("a2") == new.article("a2") | {"source": old.article("a2")["source"]}
    finally:
        old.close()
        new.close()
