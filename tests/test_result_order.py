"""searcher.result_order: a page near the top is sorted from its candidates only, in the same order."""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings, strategies as st

from search.query.evaluate import result_order


@settings(max_examples=200)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=400).map(lambda s: s * 40), st.integers(1, 40), st.sampled_from(
    ["relevance", "newest", "oldest"]), st.data())
def test_the_first_results_are_those_of_the_whole_order(scores, first, sort, data):
    """Scores and dates with many ties: the partial sort keeps every tie of the last place."""
    count = len(scores)
    gids = np.arange(count, dtype=np.uint32) * 3
    scores = np.array(scores, dtype=np.float64) / 2
    articles = np.array(data.draw(st.lists(st.integers(0, 9), min_size=count, max_size=count)))
    dates = np.array(data.draw(st.lists(st.integers(0, 4), min_size=10, max_size=10)))
    ranks = np.array(data.draw(st.permutations(range(10))))  # each article's id's rank
    live = SimpleNamespace(article_index=np.zeros(count * 3, dtype=np.int64), article_rank=ranks,
                           metadata=SimpleNamespace(date_order=lambda newest: dates if newest else -dates))
    live.article_index[gids] = articles
    whole = result_order(live, gids, scores, sort)
    assert sorted(whole.tolist()) == list(range(count))
    assert result_order(live, gids, scores, sort, first)[:first].tolist() == whole[:first].tolist()
    # ties are broken by the article's id (its rank), then the paragraph (its id), not by the order given
    date = (dates if sort == "newest" else -dates)[articles] if sort != "relevance" else np.zeros(count)
    assert whole.tolist() == np.lexsort((gids, ranks[articles], -scores, date)).tolist()


def test_a_top_page_of_many_results_is_sorted_from_its_candidates_only():
    """The partial path is taken (a page of 10 among 1,000) and gives the same first results."""
    rng = np.random.default_rng(3)
    gids = np.arange(1000, dtype=np.uint32)
    scores = rng.integers(0, 20, 1000) / 4  # many ties
    live = SimpleNamespace(article_index=np.zeros(1000, dtype=np.int64), article_rank=np.zeros(1, dtype=np.int32),
                           metadata=SimpleNamespace(date_order=lambda newest: np.zeros(1)))
    partial = result_order(live, gids, scores, "relevance", 10)
    assert len(partial) < 1000
    assert partial[:10].tolist() == np.lexsort((gids, -scores))[:10].tolist()
