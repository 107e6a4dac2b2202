"""A build made before the package was grouped by pipeline stage still opens and answers.

``fixtures/build_before_layout/index`` was built from ``fixtures/build_before_layout/seeds`` by the
code of 56d8cd0, whose Whoosh table of contents pickles its schema and codec under the old module
paths (``search.whoosh_codec``, ``search.analysis``, ``search.metadata_index``,
``search.whoosh_columns``, ``search.whoosh_writer``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser

from search.build.indexer import build_index, has_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.query.live import IndexMissing
from search.query.searcher import Searcher

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "build_before_layout"
OLD_PATHS = ("search.whoosh_codec", "search.analysis", "search.metadata_index", "search.whoosh_columns",
             "search.whoosh_writer")


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


def test_zhsearch_rebuilds_it_whole_as_a_build_of_an_older_format(old_index, tmp_path):
    """Its format (14) came before generations of segments: the searcher refuses it with a clear
    message rather than misreading it, and ``zhsearch index`` rebuilds it whole (no update)."""
    settings = Settings(seeds_dir=FIXTURE / "seeds", index_dir=old_index)
    assert not has_index(settings)
    with pytest.raises(IndexMissing, match="another version"):
        Searcher(settings).search("联合国")
    summary = build_index(settings)
    assert summary.full and summary.articles == 2
    searcher = Searcher(settings)
    try:
        assert searcher.search("联合国")["total"] == 2
    finally:
        searcher.close()
