"""A frequent word of three code units or more has a posting list of its own in a build's match
index (match.frequent_words): the very paragraphs and counts that checking its bigrams' candidates
finds, handed out by ``key_list`` as a bigram's list is, with BM25 bounds that hold for every
posting; and a search for it answers as it did without the list."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search.build.indexer import build_index
from search.config import Settings
from search.match import frequent_words
from search.match.blockmax import BLOCK, BM25_K1, idf, score_bounds
from search.match.frequent_words import NAME
from search.query.searcher import Searcher

WORDS = ["新闻联播", "习近平", "国务院", "联合国", "秘书长", "中国", "发展", "的", "。", "APEC", "經濟部", "𠀀𠀁𠀂"]


def stories(rng: random.Random, count: int) -> list[dict]:
    return [{"id": f"s{n:03d}", "title": "", "text": "\n".join("".join(rng.choices(WORDS, k=rng.randint(1, 12)))
                                                            for _ in range(rng.randint(1, 3)))}
            for n in range(count)]


def built(root, records, **listing) -> Searcher:
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    settings_ = Settings(seeds_dir=seeds, index_dir=root / "index", refresh_interval=0)
    build_index(settings_)
    return Searcher(settings_)


def test_a_frequent_longer_word_is_listed_with_its_exact_matches(tmp_path):
    rng = random.Random(4)
    searcher = built(tmp_path, stories(rng, 150))
    try:
        grams = searcher._current().grams.segments[0]
        listed = [grams.words[i] for i in grams.frequent_words.tolist()]
        assert {"新闻联播", "习近平", "国务院", "联合国", "秘书长"} <= set(listed)
        assert all(len(word.encode("utf-16-le")) >= 6 for word in listed)
        for word in listed:
            stream, lo, hi = grams.key_list(word)
            assert stream == NAME and hi > lo
            found = grams.find(word)
            checked = grams.verified(grams.bigram_candidates(word)[0], word)  # the bigrams' way
            assert np.array_equal(found.gids, checked.gids) and np.array_equal(found.tf, checked.tf), word
            everywhere = [gid for gid in range(grams.count) if word in grams.skeletons[gid]]
            assert found.gids.tolist() == everywhere, word
        assert grams.key_list("联合国秘书长") is None or "联合国秘书长" in listed
    finally:
        searcher.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10**6), st.floats(0.3, 3.0))
def test_the_lists_bounds_hold_for_every_posting(tmp_path_factory, monkeypatch, seed, scale):
    monkeypatch.setattr(frequent_words, "LEAST", 2)
    monkeypatch.setattr(frequent_words, "SHARE", 1)
    searcher = built(tmp_path_factory.mktemp("bounds"), stories(random.Random(seed), 40))
    try:
        grams = searcher._current().grams.segments[0]
        lists, counts, blocks = grams.streams[NAME]
        ids = lists.span(0, len(lists.low))
        tf = counts.read(0, len(lists.low)).astype(np.float64)
        mean = grams.block_mean * scale  # against another collection
        idf_value = idf(3, grams.count)
        lengths = (grams.bounds[ids.astype(np.int64) + 1] - grams.bounds[ids.astype(np.int64)] - 1).astype(np.float64)
        bm25 = idf_value * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - 0.75 + 0.75 * lengths / mean))
        bounds = score_bounds(blocks.least, idf_value, mean, grams.block_mean, blocks.tf)
        assert len(blocks.least) == -(-len(ids) // BLOCK) == len(blocks.tf) // 2
        assert (bm25 <= bounds[np.arange(len(ids)) // BLOCK]).all()
    finally:
        searcher.close()


@pytest.mark.parametrize("query", ["新闻联播", "习近平", "联合国 秘书长", '"联合国秘书长"', "国务院 -中国", "新闻联播 OR 经济部"])
def test_searches_answer_as_without_the_lists(tmp_path, monkeypatch, query):
    records = stories(random.Random(9), 150)
    with_lists = built(tmp_path / "with", records)
    monkeypatch.setattr(frequent_words, "LEAST", 10**9)
    without = built(tmp_path / "without", records)
    try:
        assert len(with_lists._current().grams.segments[0].frequent_words) > 0
        assert len(without._current().grams.segments[0].frequent_words) == 0
        for options in ({}, {"sort": "newest"}, {"page": 3, "size": 7}, {"facets": ("source",)}):
            a, b = with_lists.search(query, **options), without.search(query, **options)
            a.pop("took_ms"), b.pop("took_ms")
            assert a == b, (query, options)
            assert a["total"] > 0
    finally:
        with_lists.close()
        without.close()
