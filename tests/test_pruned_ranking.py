"""A page ranked from the matches that can still enter it (query.pruned) is the page that ranking every
match gives (query.evaluate): the same hits in the same order with the same scores, the same totals
and facet counts, on random indexes of several segments with deletions made by real updates; and
the totals and facets are those of brute force. Below it, the pieces it stands on: BM25 bounds per
block, counts read at positions, what the counts tell of a longer key."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import written_posting_lists
from search import cli
from search.build.indexer import build_index
from search.config import Settings
from search.formats.metadata import value_key
from search.match import frequent_words
from search.match.blockmax import BLOCK, BM25_K1, MARGIN, alike_maxima, idf, score_bounds
from search.match.builder import GramIndexBuilder
from search.match.grams import GramIndex, Matches
from search.match.postings import locate
from search.query import pruned as pruned_module, searcher as searcher_module
from search.query.pruned import search_page
from search.query.rank_floor import RankFloor
from search.query.searcher import Searcher

PIECES = ["联合国", "安理会", "秘书长", "普京", "会议", "的", "中国", "发展", "经济", "合作", "国家", "人民", "总统",
          "副总统", "新闻联播", "国", "的的", "。", "，", " ", "A", "b", "1", "𠀀", "國", "会", "联合"]
SOURCES = ["新闻联播", "本报", "總統府新聞"]


def story(rng: random.Random, n: int, tag: str) -> dict:
    paragraphs = ["".join(rng.choices(PIECES, k=rng.randint(1, 14))) for _ in range(rng.randint(1, 4))]
    return {"id": f"{tag}{n:03d}", "title": "".join(rng.choices(PIECES, k=3)), "text": "\n".join(paragraphs),
            "date": f"20{rng.randint(20, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "source": rng.choice(SOURCES)}


def write(seeds: Path, stories: list[dict]) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    (seeds / "feed.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stories),
                                      encoding="utf-8")


def queries(rng: random.Random, texts: list[str]) -> list[tuple[str, dict]]:
    """Terms (pieces, substrings of the corpus, absent ones), phrases, AND, OR, NOT, title:,
    patterns and NEARs, filters; every sort, pages and facets."""

    def term() -> str:
        kind = rng.random()
        if kind < 0.5:
            return rng.choice(PIECES).strip() or "的"
        if kind < 0.9 and texts:
            text = rng.choice(texts)
            at = rng.randrange(len(text))
            piece = text[at: at + rng.randint(1, 5)].replace('"', "").strip()
            return piece.replace(" ", "") or "国"
        return rng.choice(["xyzzy", "国联", "合作发展", '"联?国"', '"会*合"'])

    found = []
    for _ in range(24):
        shape = rng.randrange(9)
        a, b = term(), term()
        q = {0: a, 1: f'"{a}"', 2: f"{a} {b}", 3: f"{a} OR {b}", 4: f"{a} -{b}", 5: f"title:{a}",
             6: f"{a} NEAR/3 {b}", 7: f"{a} {b} OR 的", 8: f"{a} OR {b} -国"}[shape]
        if rng.random() < 0.3:
            q += rng.choice([" source:本报", " date:2023..", " -source:新闻联播", " date:2021..2022"])
        options = {"sort": rng.choice(["relevance", "relevance", "newest", "oldest"]), "page": rng.randint(1, 3),
                   "size": rng.choice([1, 3, 10, 25])}
        if rng.random() < 0.4:
            options["facets"] = ("source", "year")
        found.append((q, options))
    return found


def same_as_exhaustive(searcher: Searcher, tests: list[tuple[str, dict]], monkeypatch) -> int:
    """Every query answered both ways compares equal; returns how many the pruned path answered."""
    real, pruned = search_page, 0
    monkeypatch.setattr(pruned_module, "PRUNE_FROM", 0)  # however few the matches

    def counting(*args, **kwargs):
        nonlocal pruned
        page = real(*args, **kwargs)
        pruned += page is not None
        return page

    try:
        for q, options in tests:
            monkeypatch.setattr(searcher_module, "search_page", counting)
            fast = searcher.search(q, **options)
            monkeypatch.setattr(searcher_module, "search_page", lambda *args, **kwargs: None)
            whole = searcher.search(q, **options)
            fast.pop("took_ms"), whole.pop("took_ms")
            assert fast == whole, (q, options)
    finally:
        monkeypatch.setattr(searcher_module, "search_page", real)
    return pruned


def brute_force(searcher: Searcher, q: str) -> tuple[int, Counter, Counter]:
    """The total and the source and year counts of a query of terms, phrases, OR and NOT with
    source and date filters, by reading every live paragraph's skeleton."""
    live = searcher._current()
    parsed = searcher.parse(q, live)
    total, sources, years = 0, Counter(), Counter()
    for gid in np.flatnonzero(np.asarray(live.grams.live)).tolist():
        skeleton = live.grams.skeletons[gid]
        if not all(any(unit.key in skeleton for unit in group) for group in parsed.groups):
            continue
        if any(unit.key in skeleton for unit in parsed.excluded):
            continue
        metadata = live.metadata.of_article(live.article_of[gid])
        day = int(metadata["date"].replace("-", ""))
        kept = True
        for f in parsed.filters:
            if hasattr(f, "first"):
                inside = (f.first is None or day >= f.first) and (f.last is None or day <= f.last)
            else:
                inside = value_key(metadata[f.key]) == value_key(f.value)
            kept &= inside != f.negated
        if kept:
            total += 1
            sources[metadata["source"]] += 1
            years[metadata["date"][:4]] += 1
    return total, sources, years


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10**6), st.integers(120, 160), st.booleans())
def test_pruned_pages_are_the_exhaustive_pages_across_segments_and_deletions(tmp_path_factory, monkeypatch, seed,
                                                                             count, listed):
    root = tmp_path_factory.mktemp("pruned")
    if listed:  # every longer word of two paragraphs or more has a list of its own (match.frequent_words)
        monkeypatch.setattr(frequent_words, "LEAST", 2)
        monkeypatch.setattr(frequent_words, "SHARE", 1)
    rng = random.Random(seed)
    stories = [story(rng, n, "s") for n in range(count)]
    settings_ = Settings(seeds_dir=root / "seeds", index_dir=root / "index", refresh_interval=0)
    write(settings_.seeds_dir, stories)
    build_index(settings_)
    searcher = Searcher(settings_)
    try:
        answered, deletions = 0, False
        # one segment; then an update of a few stories, at least one edited and one removed (a
        # segment of its own: too small to be merged with the first, whose paragraphs of those
        # stories are deleted); then one more (a third segment, or merged into the second)
        for round_, changes in enumerate([0, 8, 1]):
            if changes:
                kinds = ["edit", "delete"] + [rng.choice(["add", "add", "edit", "edit", "delete"]) for _ in range(6)]
                for n, kind in enumerate(kinds if changes > 1 else [rng.choice(["add", "edit"])]):
                    if kind == "add":
                        stories.insert(rng.randrange(len(stories) + 1), story(rng, 100 * round_ + n, "u"))
                    elif kind == "edit":
                        rng.choice(stories)["text"] += "\n" + "".join(rng.choices(PIECES, k=5))
                    else:
                        del stories[rng.randrange(len(stories))]
                write(settings_.seeds_dir, stories)
                if round_ == 1:
                    build_index(settings_)
                else:  # as a user updates
                    assert cli.main(["index", "--seeds", str(settings_.seeds_dir), "--index", str(settings_.index_dir),
                                     "--jobs", "1"], environ={}) == 0
            deletions |= searcher._current().grams.has_deletions
            texts = [s["text"] for s in stories]
            tests = queries(rng, texts)
            answered += same_as_exhaustive(searcher, tests, monkeypatch)
            for q, _ in tests[:8]:
                if "title:" in q or "NEAR" in q or '"' in q:
                    continue
                total, sources, years = brute_force(searcher, q)
                found = searcher.search(q, facets=("source", "year"))
                assert found["total"] == total, q
                assert {f["value"]: f["count"] for f in found["facets"]["source"]} == dict(sources), q
                assert {f["value"]: f["count"] for f in found["facets"]["year"]} == dict(years), q
        assert answered > 40  # most queries went the pruned way
        segments = json.loads((searcher._current().build / "meta.json").read_text())["segments"]
        assert len(segments) >= 2 and deletions
    finally:
        searcher.close()


def test_pages_deep_into_tied_scores_agree(tmp_path, monkeypatch):
    """Many paragraphs of equal score (the same text in many articles): ties are broken by article
    id and paragraph number on every page, by relevance and by date."""
    rng = random.Random(1)
    stories = [dict(story(rng, n, "t"), text="联合国会议\n的的国") for n in range(60)]
    settings_ = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index", refresh_interval=0)
    write(settings_.seeds_dir, stories)
    build_index(settings_)
    searcher = Searcher(settings_)
    try:
        tests = [(q, {"sort": sort, "page": page, "size": 7}) for q in ("国", "的", "联合国", "会议 国", "联合国会议")
                 for sort in ("relevance", "newest") for page in (1, 4, 9)]
        assert same_as_exhaustive(searcher, tests, monkeypatch) == len(tests)
    finally:
        searcher.close()


@pytest.mark.parametrize("segment_characters", [Settings.segment_characters, 3_000])
def test_ties_over_many_blocks_are_broken_while_ranking(tmp_path, monkeypatch, segment_characters):
    """The same short paragraph in hundreds of articles, read in another order than their ids: the
    page's last ties with matches in block after block, and only those that come before it by
    article id are scored (``_best_blocks``' cut), on every page and with a longer listed word too;
    also across segments, whose mean lengths differ from the collection's."""
    monkeypatch.setattr(frequent_words, "LEAST", 2)
    rng = random.Random(2)
    ids = list(range(700))
    rng.shuffle(ids)
    stories = [dict(story(rng, n, "t"), text="央视网消息\n" + "".join(rng.choices(PIECES, k=8))) for n in ids]
    settings_ = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index", refresh_interval=0,
                         segment_characters=segment_characters)
    write(settings_.seeds_dir, stories)
    build_index(settings_)
    searcher = Searcher(settings_)
    assert (len(searcher._current().grams.segments) > 2) == (segment_characters < Settings.segment_characters)
    cuts = []
    real = pruned_module._best_blocks

    def counted(first, bounds, ranges, score, floors=None):
        def scoring(items, cut):
            cuts.append(cut is not None)
            return score(items, cut)
        return real(first, bounds, ranges, scoring, floors)

    monkeypatch.setattr(pruned_module, "_best_blocks", counted)
    try:
        tests = [(q, {"page": page, "size": size}) for q in ("视网", "央", "央视网消息") for page, size in ((1, 10), (3, 7), (2, 50))]
        assert same_as_exhaustive(searcher, tests, monkeypatch) == len(tests)
        assert sum(cuts) >= len(tests) // 2  # the cut was reached, in most
    finally:
        searcher.close()


def test_tied_blocks_of_articles_after_the_pages_last_are_left_unread(tmp_path, monkeypatch):
    """Articles whose ids come in the order they are read, each opening with the same short
    paragraph: once the page holds the first of them, a block of tied matches whose articles all
    come after its last is not read at all, and every page is still the exhaustive one."""
    monkeypatch.setattr(frequent_words, "LEAST", 2)
    rng = random.Random(5)
    stories = [dict(story(rng, n, "t"), id=f"t{n:04d}", text="央视网消息\n" + "".join(rng.choices(PIECES, k=8)))
               for n in range(900)]
    settings_ = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index", refresh_interval=0,
                         segment_characters=7_000)
    write(settings_.seeds_dir, stories)
    build_index(settings_)
    searcher = Searcher(settings_)
    scored = []
    real_best = pruned_module._best_blocks

    def counted(first, bounds, ranges, score, floors=None):
        def scoring(items, cut):
            scored.append(len(items))
            return score(items, cut)
        return real_best(first, bounds, ranges, scoring, floors)

    monkeypatch.setattr(pruned_module, "_best_blocks", counted)
    try:
        tests = [(q, {"page": page, "size": size}) for q in ("视网", "央视网消息", "消息")
                 for page, size in ((1, 10), (2, 7), (5, 20))]
        assert same_as_exhaustive(searcher, tests, monkeypatch) == len(tests)
        assert len(searcher._current().grams.segments) > 2
        scored.clear()
        searcher.search("视网", size=10)
        assert sum(scored) < 900 // 3, scored  # of 900 matches, the first blocks of each segment
    finally:
        searcher.close()


def test_a_word_listed_in_some_segments_only_ranks_as_exhaustively(tmp_path, monkeypatch):
    """A longer word common enough in some segments to have lists of its own there, and found from
    the bigrams' lists in the others: its page is ranked a block at a time in both, as ranking
    every match would rank it."""
    monkeypatch.setattr(frequent_words, "LEAST", 12)
    rng = random.Random(11)
    common = [dict(story(rng, n, "a"), text="奥运会开幕\n" + "".join(rng.choices(PIECES, k=6))) for n in range(400)]
    rare = [story(rng, n, "b") for n in range(240)]
    for n in range(0, 240, 30):  # in a few of them: not listed in their segments
        rare[n]["text"] += "\n奥运会"  # alone: the best matches are in segments where it is rare
    settings_ = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index", refresh_interval=0,
                         segment_characters=4_000)
    write(settings_.seeds_dir, common + rare)
    build_index(settings_)
    searcher = Searcher(settings_)
    try:
        live = searcher._current()
        hits = pruned_module.UnitHits(live, searcher.parse("奥运会", live).groups[0][0])
        listed = {part.tf is None for part in hits._parts}
        assert listed == {True, False}
        assert hits.block_bounds() is not None
        tests = [(q, {"page": page, "size": size}) for q in ("奥运会", "奥运会 -会议", "奥运会 source:本报")
                 for page, size in ((1, 10), (2, 7), (4, 25))]
        assert same_as_exhaustive(searcher, tests, monkeypatch) == len(tests)
    finally:
        searcher.close()


# -- the pieces -------------------------------------------------------------------------------------

ALPHABET = "联合国宪章ab1𠀀，的"


def build(folder: Path, skeletons: list[str]) -> GramIndex:
    builder = GramIndexBuilder(folder)
    builder.start_article("标题")
    for text in skeletons:
        builder.add_paragraph(text, [])
    builder.finish()
    return GramIndex(folder)


@settings(max_examples=80)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=60), min_size=1, max_size=150),
       st.floats(0.2, 50), st.integers(1, 10**6))
def test_a_blocks_bound_holds_for_every_posting_against_any_collection(tmp_path_factory, skeletons, mean, count):
    """The bound of each block of the unigram and bigram streams is at least BM25 of each of its
    postings, whatever the collection's mean length and size (deletions, other segments)."""
    index = build(tmp_path_factory.mktemp("b"), skeletons)
    for stream in ("unigram", "bigram"):
        lists, counts, blocks = index.streams[stream]
        for i in range(len(lists)):
            lo, hi = lists.offsets[i], lists.offsets[i + 1]
            gids, tf = lists.span(lo, hi), counts.read(lo, hi)
            df = len(gids)
            total = max(count, df)
            exact = index.bm25(Matches(gids, tf), df, total, mean)
            at = np.arange(lo, hi) // BLOCK
            tf_range = blocks.tf.reshape(-1, 2)[at].ravel()
            for bound in (score_bounds(blocks.least[at], idf(df, total), mean, index.block_mean, tf_range),
                          score_bounds(blocks.least[at], idf(df, total), mean, index.block_mean)):
                assert np.all(bound >= exact)
                assert np.all(bound <= idf(df, total) * (BM25_K1 + 1) * (1 + 1e-6))


@settings(max_examples=40)
@given(st.text(alphabet=ALPHABET, min_size=2, max_size=30), st.integers(70, 300), st.floats(0.2, 50))
def test_a_block_of_alike_postings_is_bound_exactly_against_any_collection(tmp_path_factory, text, copies, mean):
    """The same paragraph many times over: the bound of every block within a list is its postings'
    BM25 (to float32), whatever the collection's mean length, so that a page's last can tie with a
    whole block."""
    index = build(tmp_path_factory.mktemp("alike"), [text] * copies)
    for stream in ("unigram", "bigram"):
        lists, counts, blocks = index.streams[stream]
        for i in range(len(lists)):
            lo, hi = lists.offsets[i], lists.offsets[i + 1]
            gids, tf = lists.span(lo, hi), counts.read(lo, hi)
            if tf.max() >= 255:
                continue  # a count stored capped bounds nothing
            exact = index.bm25(Matches(gids, tf), len(gids), copies, mean)
            at = np.arange(lo, hi) // BLOCK
            bound = score_bounds(blocks.least[at], idf(len(gids), copies), mean, index.block_mean,
                                 blocks.tf.reshape(-1, 2)[at].ravel())
            inside = (at * BLOCK >= lo) & ((at + 1) * BLOCK <= hi)  # a block at a list's end holds another list's too
            assert np.all(bound >= exact)
            assert np.all(bound[inside] <= exact[inside] * (1 + 1e-6) + 2 * MARGIN)


@settings(max_examples=40, deadline=None)
@given(st.integers(130, 300), st.integers(0, 200), st.integers(0, 3), st.randoms(use_true_random=False),
       st.floats(0.2, 50))
def test_a_blocks_best_score_is_known_exactly_when_its_postings_are_alike(tmp_path_factory, charter, un, other, rng,
                                                                          mean):
    """Where a block's postings share one count, the score given for its best is exactly (the same
    float as) the best of their scores; every block's is at least each of its postings' scores."""
    skeletons = ["联合国宪章"] * charter + ["联合国"] * un + ["的的的宪章宪章", "ab1"] * other
    rng.shuffle(skeletons)
    index = build(tmp_path_factory.mktemp("alike"), skeletons)
    exact_blocks = 0
    for stream in ("unigram", "bigram"):
        lists, counts, blocks = index.streams[stream]
        for i in range(len(lists)):
            lo, hi = lists.offsets[i], lists.offsets[i + 1]
            gids, tf = lists.span(lo, hi), counts.read(lo, hi)
            value = idf(len(gids), len(skeletons))
            exact = index.bm25(Matches(gids, tf), len(gids), len(skeletons), mean)
            at = np.arange(lo, hi) // BLOCK
            best = alike_maxima(blocks.least[at], blocks.tf.reshape(-1, 2)[at].ravel(), index.block_mean, value, mean)
            assert np.all(best >= exact)
            for block in np.unique(at).tolist():
                inside = at == block
                fewest, most = blocks.tf[2 * block], blocks.tf[2 * block + 1]
                if block * BLOCK >= lo and (block + 1) * BLOCK <= hi and fewest == most < 255:
                    assert best[inside][0] == exact[inside].max()
                    exact_blocks += 1
    assert exact_blocks > 0


@settings(max_examples=100)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=3000), st.data())
def test_the_rank_floor_is_at_most_the_least_rank_of_any_range(ranks, data):
    floor = RankFloor(np.array(ranks))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, len(ranks) - 1), st.integers(0, len(ranks) - 1)), min_size=1))
    first = np.array([min(a, b) for a, b in pairs])
    last = np.array([max(a, b) for a, b in pairs])
    least = floor.least(first, last)
    assert all(bound <= min(ranks[a: b + 1]) for bound, a, b in zip(least.tolist(), first.tolist(), last.tolist()))
    whole = floor.least(np.array([0]), np.array([len(ranks) - 1]))
    assert whole[0] == min(ranks)


@settings(max_examples=100)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=40), min_size=1, max_size=40),
       st.text(alphabet=ALPHABET, min_size=3, max_size=5))
def test_what_the_counts_tell_of_a_longer_key_is_true(tmp_path_factory, skeletons, key):
    """Where the stored counts say a key occurs once, it does; where they say it occurs, it does."""
    index = build(tmp_path_factory.mktemp("o"), skeletons)
    ranges = index.bigram_ranges(key)
    candidates, _ = index.bigram_candidates(key, ranges, every=True)
    said = index.occurrences(key, candidates)
    truth = [skeletons[g].count(key) for g in candidates.tolist()]
    for told, count in zip(said.tolist(), truth):
        assert (told == 1 and count == 1) or (told == -1 and count >= 1) or told == 0


@settings(max_examples=100)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=30), min_size=1, max_size=60), st.data())
def test_counts_and_ids_read_at_any_positions_are_the_stored_ones(tmp_path_factory, skeletons, data):
    index = build(tmp_path_factory.mktemp("c"), skeletons)
    for stream in ("unigram", "bigram"):
        lists, counts, _ = index.streams[stream]
        everything = counts.read(0, len(lists.low))
        if not len(everything):
            continue
        positions = np.array(sorted(data.draw(st.sets(st.integers(0, len(lists.low) - 1), max_size=30))),
                             dtype=np.uint32)
        assert counts.at(positions).tolist() == everything[positions.astype(np.intp)].tolist()
        assert lists.at(positions).tolist() == lists.all()[positions.astype(np.intp)].tolist()
        for i in range(len(lists)):
            lo, hi = lists.offsets[i], lists.offsets[i + 1]
            ids = np.arange(len(skeletons), dtype=np.uint32)
            where = lists.where(lo, hi, ids, len(skeletons))
            listed = lists.span(lo, hi).tolist()
            assert where.tolist() == [lo + listed.index(g) if g in listed else -1 for g in ids.tolist()]


@given(st.sets(st.integers(0, 500)), st.sets(st.integers(0, 500)))
def test_locate_finds_each_needle_in_the_haystack(haystack, needles):
    haystack, needles = sorted(haystack), sorted(needles)
    for universe in (501, 10**6):  # a map over every id, and bisection
        found = locate(np.array(haystack, dtype=np.uint32), np.array(needles, dtype=np.uint32), universe)
        assert found.tolist() == [haystack.index(n) if n in haystack else -1 for n in needles]


@pytest.mark.parametrize("key", ["联合国", "合国宪章", "的的的"])
def test_a_longer_key_found_from_the_counts_matches_as_found_from_the_skeletons(tmp_path, key):
    skeletons = ["联合国联合国", "联合国", "的的的的", "合国宪章合国宪章", "联合", "的的的", "国联合国宪章的"]
    index = build(tmp_path, skeletons)
    candidates, _ = index.bigram_candidates(key, every=True)
    said = index.occurrences(key, candidates)
    assert set(candidates[said != 0].tolist()) <= {i for i, s in enumerate(skeletons) if key in s}


@settings(max_examples=100)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1) | st.integers(65_530, 65_540) | st.integers(0, 3),
                         unique=True).map(sorted), min_size=1, max_size=6), st.data())
def test_ids_read_and_found_at_positions_across_high_halves(tmp_path_factory, lists, data):
    """Ids over the whole uint32 range (their high halves changing within and between lists): the
    ids at any positions, and where each id of a list is, without decoding the stream."""
    docs, stored = written_posting_lists(tmp_path_factory.mktemp("h"), lists)
    if len(docs):
        positions = np.array(sorted(data.draw(st.sets(st.integers(0, len(docs) - 1), max_size=20))), dtype=np.int64)
        assert stored.at(positions).tolist() == docs[positions].tolist()
    probes = np.array(sorted(set(data.draw(st.lists(st.sampled_from(docs.tolist() or [7]) | st.integers(0, 2**32 - 1),
                                                     max_size=20)))), dtype=np.uint32)
    for i in range(len(stored)):
        lo, hi = int(stored.offsets[i]), int(stored.offsets[i + 1])
        listed = stored[i].tolist()
        expected = [lo + listed.index(p) if p in listed else -1 for p in probes.tolist()]
        assert stored.find(probes, lo, hi).tolist() == expected
        assert stored.where(lo, hi, probes, 2**32).tolist() == expected
        if hi > lo:  # ids at positions of one list, its changes of high half alone searched
            inside = np.array(sorted(data.draw(st.sets(st.integers(lo, hi - 1), min_size=1, max_size=10))))
            assert stored.at(inside, lo, hi).tolist() == docs[inside].tolist()
