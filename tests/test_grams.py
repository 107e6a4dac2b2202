"""The substring index: exact paragraph sets and counts for keys of any length."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.grams import GramIndex, GramIndexBuilder

ALPHABET = "联合国宪章ab1𠀀，"  # includes an astral character (two UTF-16 code units)


def build(tmp_path, skeletons, titles=("标题",), starts=(0,), words=None):
    builder = GramIndexBuilder()
    for gid, skeleton_text in enumerate(skeletons):
        if gid in starts:
            builder.start_article(titles[starts.index(gid)])
        builder.add_paragraph(skeleton_text, words[gid] if words else [])
    builder.save(tmp_path)
    return GramIndex(tmp_path)


def test_find_returns_paragraphs_and_counts(tmp_path):
    index = build(tmp_path, ["联合国联合国", "国联", "合国宪章", ""])
    for key, expected in {"国": {0: 2, 1: 1, 2: 1}, "联合": {0: 2}, "国联合": {0: 1}, "合国宪": {2: 1},
                          "不在": {}}.items():
        found = index.find(key)
        assert dict(zip(found.gids.tolist(), found.tf.tolist())) == expected, key


def test_keys_never_match_across_paragraph_boundaries(tmp_path):
    index = build(tmp_path, ["ab", "cd"])
    assert len(index.find("bc").gids) == 0


def test_title_lookup_expands_to_the_articles_paragraphs(tmp_path):
    index = build(tmp_path, ["一", "二", "三", "四"], titles=("城市夜读", "河道清理"), starts=(0, 3))
    assert index.find_in_titles("夜读").tolist() == [0, 1, 2]
    assert index.find_in_titles("清理").tolist() == [3]
    assert index.find_in_titles("读河").tolist() == []  # titles do not run into each other


def test_with_words_intersects_word_postings(tmp_path):
    words = [["联合国", "宪章"], ["联合", "国"], ["联合国"], []]
    index = build(tmp_path, ["联合国宪章", "联合国", "联合国", "无"], words=words)
    assert index.with_words(["联合国"]).tolist() == [0, 2]
    assert index.with_words(["联合国", "宪章"]).tolist() == [0]
    assert index.with_words(["不在"]).tolist() == []
    assert index.with_words([]).tolist() == []


def test_bm25_prefers_more_occurrences_in_shorter_paragraphs(tmp_path):
    index = build(tmp_path, ["国", "国国", "国" + "。" * 50])
    found = index.find("国")
    scores = dict(zip(found.gids.tolist(), index.bm25(found).tolist()))
    assert scores[1] > scores[0] > scores[2]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=8), st.text(alphabet=ALPHABET,
       min_size=1, max_size=5))
def test_find_agrees_with_brute_force(tmp_path_factory, skeletons, key):
    index = build(tmp_path_factory.mktemp("g"), skeletons)
    found = index.find(key)
    expected = {i: s.count(key) for i, s in enumerate(skeletons) if key in s}
    assert found.gids.tolist() == sorted(expected)
    if len(key.encode("utf-16-le")) > 4:  # verified keys count exactly (shorter ones count overlaps)
        assert found.tf.tolist() == [expected[g] for g in sorted(expected)]
    assert np.all(found.tf > 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), unique=True).map(sorted), max_size=8))
def test_compressed_postings_round_trip(tmp_path_factory, lists):
    from search.grams import _load_postings, _save_postings

    docs = np.array([d for docs in lists for d in docs], dtype=np.uint32)
    offsets = np.cumsum([0] + [len(docs) for docs in lists]).astype(np.int64)
    path = tmp_path_factory.mktemp("p") / "docs.z"
    _save_postings(path, docs, offsets)
    assert _load_postings(path, offsets).tolist() == docs.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=20), min_size=1, max_size=30), st.integers(1, 40))
def test_building_in_small_chunks_gives_the_same_arrays(monkeypatch_module, skeletons, chunk):
    from search import grams

    whole = grams._bigram_arrays(skeletons)
    monkeypatch_module.setattr(grams, "_CHUNK_UNITS", chunk)
    chunked = grams._bigram_arrays(skeletons)
    monkeypatch_module.undo()
    assert all(np.array_equal(whole[name], chunked[name]) for name in whole)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
