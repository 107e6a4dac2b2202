"""The substring index: exact paragraph sets and counts for keys of any length."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import written_posting_lists
from search.match import builder as builder_module, grams
from search.match.builder import GramIndexBuilder
from search.match.grams import GramIndex

ALPHABET = "联合国宪章ab1𠀀，"  # includes an astral character (two UTF-16 code units)


def build(tmp_path, skeletons, titles=("标题",), starts=(0,), words=None, **sizes):
    builder = GramIndexBuilder(tmp_path, **sizes)
    for gid, skeleton_text in enumerate(skeletons):
        if gid in starts:
            builder.start_article(titles[starts.index(gid)])
        builder.add_paragraph(skeleton_text, words[gid] if words else [])
    builder.finish()
    return GramIndex(tmp_path)


def test_find_returns_paragraphs_and_counts(tmp_path):
    index = build(tmp_path, ["联合国联合国", "国联", "合国宪章", ""])
    for key, expected in {"国": {0: 2, 1: 1, 2: 1}, "联合": {0: 2}, "国联合": {0: 1}, "合国宪": {2: 1},
                          "不在": {}}.items():
        found = index.find(key)
        assert dict(zip(found.gids.tolist(), found.tf.tolist())) == expected, key


def test_a_key_whose_bigrams_many_paragraphs_hold_is_found_only_where_it_occurs(tmp_path):
    """More candidates than are checked at once: the bigram lists are intersected first."""
    skeletons = ["联合国"] * 12 + ["联合合国"] * 12 + ["联合"] * 12 + ["国联合国宪"] * 3
    index = build(tmp_path, skeletons)
    found = index.find("联合国")
    assert found.gids.tolist() == list(range(12)) + [36, 37, 38]
    assert found.tf.tolist() == [1] * 15
    assert index.find("合国宪").gids.tolist() == [36, 37, 38]


def test_keys_never_match_across_paragraph_boundaries(tmp_path):
    index = build(tmp_path, ["ab", "cd"])
    assert len(index.find("bc").gids) == 0


def test_title_lookup_expands_to_the_articles_paragraphs(tmp_path):
    index = build(tmp_path, ["一", "二", "三", "四"], titles=("城市夜读", "河道清理"), starts=(0, 3))
    assert index.find_in_titles("夜读").tolist() == [0, 1, 2]
    assert index.find_in_titles("清理").tolist() == [3]
    assert index.find_in_titles("读河").tolist() == []  # titles do not run into each other


def test_have_words_tells_the_paragraphs_holding_every_word(tmp_path):
    words = [["联合国", "宪章"], ["联合", "国"], ["联合国"], []]
    index = build(tmp_path, ["联合国宪章", "联合国", "联合国", "无"], words=words)
    every = np.arange(4, dtype=np.uint32)
    assert index.have_words(every, ["联合国"]).tolist() == [True, False, True, False]
    assert index.have_words(every, ["宪章", "联合国"]).tolist() == [True, False, False, False]
    assert index.have_words(every[1:3], ["联合国"]).tolist() == [False, True]
    assert index.have_words(every, ["不在"]).tolist() == [False] * 4
    assert index.have_words(every, []).tolist() == [False] * 4


def skeleton_lists(longest: int):
    """Up to 30 paragraphs: a key's candidates are more than the few handled one by one, or not."""
    return st.lists(st.text(alphabet=ALPHABET, max_size=longest), min_size=1, max_size=30)


def keys(longest: int):
    return st.text(alphabet=ALPHABET, min_size=1, max_size=longest)


@settings(max_examples=60)
@given(skeleton_lists(40), keys(3))
def test_bm25_a_paragraph_at_a_time_gives_numpys_very_floats(tmp_path_factory, skeletons, key):
    index = build(tmp_path_factory.mktemp("s"), skeletons)
    found = index.find(key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grams, "_FEW_CANDIDATES", 0)
        by_numpy = index.bm25(found)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grams, "_FEW_CANDIDATES", len(found.gids))
        one_by_one = index.bm25(found)
    assert by_numpy.dtype == one_by_one.dtype == np.float64
    assert by_numpy.tobytes() == one_by_one.tobytes()


def test_bm25_prefers_more_occurrences_in_shorter_paragraphs(tmp_path):
    index = build(tmp_path, ["国", "国国", "国" + "。" * 50])
    found = index.find("国")
    scores = dict(zip(found.gids.tolist(), index.bm25(found).tolist()))
    assert scores[1] > scores[0] > scores[2]


@settings(max_examples=150)
@given(skeleton_lists(12), keys(5))
def test_find_agrees_with_brute_force(tmp_path_factory, skeletons, key):
    index = build(tmp_path_factory.mktemp("g"), skeletons)
    found = index.find(key)
    expected = {i: s.count(key) for i, s in enumerate(skeletons) if key in s}
    assert found.gids.tolist() == sorted(expected)
    if len(key.encode("utf-16-le")) > 4:  # verified keys count exactly (shorter ones count overlaps)
        assert found.tf.tolist() == [expected[g] for g in sorted(expected)]
    else:
        units = len(key.encode("utf-16-le")) // 2
        overlapping = [sum(s.encode("utf-16-le")[2 * i:2 * (i + units)] == key.encode("utf-16-le")
                           for i in range(len(s.encode("utf-16-le")) // 2)) for s in skeletons]
        assert found.tf.tolist() == [min(overlapping[g], 255) for g in sorted(expected)]
    assert np.all(found.tf > 0)


@settings(max_examples=40)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=20), min_size=1, max_size=30),
       st.lists(st.sampled_from(["联合国", "宪章", "ab", "1", "𠀀"]), max_size=3), st.integers(1, 40),
       st.integers(1, 3000))
def test_small_blocks_and_merge_ranges_give_the_same_index(tmp_path_factory, skeletons, vocabulary, block, budget):
    """Spilling every few characters and merging a few pairs at a time must not change a byte of
    what a search sees (the merge samples one key in 1,024, so small budgets force many ranges)."""
    words = [[w for w in vocabulary if w in s] + ["换\n行"] for s in skeletons]  # a word with a line break is dropped
    starts = (0, len(skeletons) // 2) if len(skeletons) > 1 else (0,)
    titles = ("标题", "联合国宪章")
    whole_folder, small_folder = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("blocks")
    whole = build(whole_folder, skeletons, titles, starts, words)
    build(small_folder, skeletons, titles, starts, words, block_chars=block, merge_budget=budget)
    files = sorted(p.name for p in whole_folder.iterdir())
    assert files == sorted(p.name for p in small_folder.iterdir())
    for name in files:
        assert (whole_folder / name).read_bytes() == (small_folder / name).read_bytes(), name
    assert list(whole.skeletons) == skeletons
    assert list(whole.titles) == list(titles[: len(starts)])
    assert list(whole.words) == sorted({w for s in skeletons for w in vocabulary if w in s})


@settings(max_examples=150)
@given(st.lists(st.lists(st.tuples(st.integers(0, 2**32 - 1) | st.integers(0, 30), st.integers(1, 300)),
                        max_size=40), max_size=6),
       st.sampled_from([1, 2, 3, 1 << 22]), st.sampled_from([1, 2, 5, 1024]))
def test_merged_runs_are_every_keys_sorted_list(tmp_path_factory, runs, budget, sample_step):
    """Runs of (key, doc) pairs, docs rising from run to run, merge into one sorted list per key,
    however the key space is cut into ranges (every ``sample_step``-th key of a run may cut)."""
    from search.match import postings

    folder = tmp_path_factory.mktemp("runs")
    postings._SAMPLE_STEP, step = sample_step, postings._SAMPLE_STEP
    try:
        spill = postings.PostingRuns(folder, "t", counts=True)
        expected: dict[int, list[tuple[int, int]]] = {}
        for doc, run in enumerate(runs):
            pairs = sorted(dict(run).items())  # one count per (key, doc)
            for key, count in pairs:
                expected.setdefault(key, []).append((doc, min(count, 255)))  # counts saturate at 255
            spill.add_run(np.array([k for k, _ in pairs], dtype=np.uint32),
                          np.full(len(pairs), doc, dtype=np.uint32), np.array([c for _, c in pairs]))
        offsets = postings.NpyAppender(folder / "t_offsets.npy", postings.POSITION)
        keys = postings.NpyAppender(folder / "keys.npy", np.uint32)
        tf = postings.NpyAppender(folder / "tf.npy", np.uint8)
        spill.merge(postings.DocIdsWriter(folder, "t"), offsets, keys, tf, budget=budget)
    finally:
        postings._SAMPLE_STEP = step
    lists = postings.PostingLists(folder, "t")
    offsets, docs = lists.offsets, lists.all()
    assert np.load(folder / "keys.npy").tolist() == sorted(expected)
    got = {key: list(zip(docs[lo:hi].tolist(), np.load(folder / "tf.npy")[lo:hi].tolist()))
           for key, lo, hi in zip(sorted(expected), offsets[:-1], offsets[1:])}
    assert got == expected
    assert sorted(p.name for p in folder.iterdir()) == ["keys.npy", "t_high.npy", "t_high_at.npy", "t_low.npy",
                                                         "t_offsets.npy", "tf.npy"]


@settings(max_examples=100)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1) | st.integers(65_530, 65_540) | st.integers(0, 3),
                         unique=True).map(sorted), max_size=8))
def test_posting_lists_round_trip(tmp_path_factory, lists):
    """Lists of any ids (the full uint32 range, around the 16-bit halves' carry too) come back as
    they went in, each on its own and all together, empty lists included."""
    docs, stored = written_posting_lists(tmp_path_factory.mktemp("p"), lists)
    assert stored.all().tolist() == docs.tolist()
    assert [stored[i].tolist() for i in range(len(stored))] == [docs for docs in lists if docs]
    assert all(stored[i].dtype == np.uint32 for i in range(len(stored)))


def test_posting_lists_are_mapped_not_decoded(tmp_path):
    """The stored ids are mapped from their files (shared by every process that maps them)."""
    from search.match import postings

    runs = postings.PostingRuns(tmp_path, "t", counts=False)
    runs.add_run(np.zeros(3, dtype=np.uint32), np.array([1, 70_000, 140_000], dtype=np.uint32))
    runs.merge(postings.DocIdsWriter(tmp_path, "t"), postings.NpyAppender(tmp_path / "t_offsets.npy", postings.POSITION))
    stored = postings.PostingLists(tmp_path, "t")
    for array in (stored.offsets, stored.low, stored.high_at, stored.high):
        assert isinstance(array.base, np.memmap) or isinstance(getattr(array.base, "base", None), np.memmap)
    assert stored.low.tolist() == [1, 70_000 - 65_536, 140_000 - 2 * 65_536]
    assert stored[0].tolist() == [1, 70_000, 140_000]


def test_building_memory_does_not_grow_with_the_corpus(tmp_path):
    """Peak memory (Python objects and numpy buffers, as tracemalloc sees them) of building 8× more
    paragraphs, with 8× more distinct words, stays about the same: blocks and their vocabularies
    are spilled to disk and merged range by range."""
    import random

    from conftest import traced

    alphabet = [chr(0x4E00 + i) for i in range(400)]

    def peak(paragraphs: int) -> int:
        rng = random.Random(7)

        def build() -> None:
            builder = GramIndexBuilder(tmp_path / str(paragraphs), block_chars=20_000, merge_budget=40_000)
            for gid in range(paragraphs):
                if gid % 10 == 0:
                    builder.start_article("".join(rng.choices(alphabet, k=8)))
                builder.add_paragraph("".join(rng.choices(alphabet, k=80)),
                                      {"".join(rng.choices(alphabet, k=3)) for _ in range(5)})
            builder.finish()

        return traced(build)[0]

    small, large = peak(2_000), peak(16_000)
    assert large < 1.5 * small, (small, large)
    assert GramIndex(tmp_path / "16000").count == 16_000


@settings(max_examples=60)
@given(st.lists(st.text(alphabet=ALPHABET + "词", max_size=6)), st.integers(1, 9), st.binary(max_size=5))
def test_block_vocabularies_are_read_back_line_by_line_across_chunk_ends(tmp_path_factory, words, chunk, before):
    """A block's word list is read with small reads; a line (or a UTF-8 character) cut by a
    read's end comes back whole."""
    import os

    from search.match.builder import _lines

    path = tmp_path_factory.mktemp("w") / "words.runs"
    listed = "".join(w + "\n" for w in words).encode("utf-8")
    path.write_bytes(before + listed + b"after")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert [line.decode("utf-8") for line in _lines(fd, len(before), len(listed), chunk)] == words
    finally:
        os.close(fd)


@settings(max_examples=60)
@given(st.lists(st.text(alphabet=ALPHABET + "词", max_size=4) | st.text(max_size=4), unique=True, max_size=200),
       st.text(alphabet=ALPHABET + "词", max_size=4) | st.text(max_size=4))
def test_mapped_lines_find_every_line_and_nothing_else(tmp_path_factory, lines, probe):
    """``find`` agrees with a search of the sorted list, for any characters (the bisection compares
    UTF-8 bytes, the list is sorted as strings)."""
    from search.match.grams import MappedLines
    from search.match.postings import NpyAppender

    folder = tmp_path_factory.mktemp("lines")
    lines = sorted(line for line in lines if "\n" not in line)
    data = "\n".join(lines).encode("utf-8")
    (folder / "lines.txt").write_bytes(data)
    starts = NpyAppender(folder / "starts.npy", np.int64)
    at = 0
    for line in lines:
        starts.append([at])
        at += len(line.encode("utf-8")) + 1
    starts.append([at if lines else 1])
    starts.close()
    mapped = MappedLines(folder / "lines.txt", np.load(folder / "starts.npy"))
    assert list(mapped) == lines
    for line in lines + [probe]:
        assert mapped.find(line) == (lines.index(line) if line in lines else -1)


@settings(max_examples=100)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=10), min_size=1, max_size=80), st.text(alphabet=ALPHABET,
       min_size=1, max_size=4), st.data())
def test_counts_in_any_set_of_candidates_are_str_counts(tmp_path_factory, skeletons, key, data):
    """Few candidates are decoded and counted, many are gathered in numpy: the same counts."""
    index = build(tmp_path_factory.mktemp("grams"), skeletons)
    gids = sorted(data.draw(st.sets(st.integers(0, len(skeletons) - 1))))
    counts = index.skeletons.count_in(np.array(gids, dtype=np.uint32), key)
    assert counts.tolist() == [skeletons[gid].count(key) for gid in gids]


sorted_ids = st.sets(st.integers(0, 300)).map(lambda ids: np.array(sorted(ids), dtype=np.uint32))


@given(sorted_ids, sorted_ids)
def test_containment_and_intersection_of_sorted_ids_agree_with_numpys(a, b):
    from search.match.postings import contained

    assert contained(a, b).tolist() == np.isin(a, b).tolist()
    assert a[contained(a, b)].tolist() == np.intersect1d(a, b).tolist() == b[contained(b, a)].tolist()


@settings(max_examples=100)
@given(st.lists(st.integers(0, 2**18) | st.integers(65_530, 65_540), unique=True, max_size=3000).map(sorted),
       st.lists(st.integers(0, 2**18) | st.integers(65_530, 65_540), unique=True, max_size=60).map(sorted))
def test_a_posting_list_tells_which_ids_it_holds_without_decoding_a_long_list(tmp_path_factory, docs, probe):
    """Short probes against long lists take the lookup by high half; the answer is membership."""
    from search.match import postings

    folder = tmp_path_factory.mktemp("c")
    runs = postings.PostingRuns(folder, "t", counts=False)
    lists = [[3, 70_000], docs]  # a list before it: its stretches do not start at position 0
    flat = np.array([d for ids in lists for d in ids], dtype=np.uint32)
    runs.add_run(np.repeat(np.arange(2), [len(ids) for ids in lists]), flat)
    runs.merge(postings.DocIdsWriter(folder, "t"), postings.NpyAppender(folder / "t_offsets.npy", postings.POSITION))
    stored = postings.PostingLists(folder, "t")
    i = len(stored) - 1
    ids = np.array(probe, dtype=np.uint32)
    assert stored.contains(i, ids).tolist() == [d in set(stored[i].tolist()) for d in probe]
    assert stored.length(i) == len(stored[i])


def test_a_long_list_under_the_last_high_half_tells_its_ids(tmp_path):
    """Ids under the high half 0xFFFF: the stretch's upper bound, 2**32, is past uint32."""
    from search.match import postings

    top = 2**32 - 1
    docs = np.arange(top - 999, top + 1, dtype=np.uint32)
    runs = postings.PostingRuns(tmp_path, "t", counts=False)
    runs.add_run(np.zeros(len(docs), dtype=np.uint32), docs)
    runs.merge(postings.DocIdsWriter(tmp_path, "t"), postings.NpyAppender(tmp_path / "t_offsets.npy", postings.POSITION))
    stored = postings.PostingLists(tmp_path, "t")
    probe = np.array([5, top - 1000, top - 500, top], dtype=np.uint32)
    assert stored.contains(0, probe).tolist() == [False, False, True, True]


def test_a_match_index_past_its_uint32_positions_is_refused_not_wrapped(tmp_path, monkeypatch):
    """Paragraph starts are uint32 positions into the units: a build that would pass 2**32 - 1
    stops with a clear error instead of writing starts that wrap around."""
    monkeypatch.setattr(builder_module, "_MAX_POSITION", 50)
    builder = GramIndexBuilder(tmp_path, block_chars=10)
    builder.start_article("标题")
    for _ in range(4):
        builder.add_paragraph("联合国安理会召开会议", ["联合国"])  # 11 units with its separator
    with pytest.raises(ValueError, match="at most 50 code units"):
        for _ in range(2):
            builder.add_paragraph("联合国安理会召开会议", ["联合国"])
        builder.finish()


@settings(max_examples=100)
@given(st.dictionaries(st.integers(0, 300_000) | st.integers(65_530, 65_540) | st.integers(131_070, 131_074),
                       st.integers(0, 255).filter(lambda c: c != 1), max_size=60),
       st.lists(st.tuples(st.integers(0, 300_001), st.integers(0, 300_001)), min_size=1, max_size=20),
       st.integers(1, 200_000), st.booleans())
def test_sparse_counts_read_back_any_range(tmp_path_factory, others, ranges, chunk, legacy):
    """Counts other than 1 at any positions (across the 16-bit halves' carries too), appended in
    chunks, read back over any range as the dense counts; so do the uint32 positions of earlier
    builds."""
    from search.match import postings

    size = 300_002
    dense = np.ones(size, dtype=np.uint8)
    for at, count in others.items():
        dense[at] = count
    folder = tmp_path_factory.mktemp("c")
    counts = postings.SparseCounts(folder, "tf")
    for start in range(0, size, chunk):
        counts.append(dense[start : start + chunk])
    counts.close()
    if legacy:  # the layout before: positions as plain uint32
        for part in ("low", "high_at", "high"):
            (folder / f"tf_at_{part}.npy").unlink()
        np.save(folder / "tf_at.npy", np.array(sorted(others), dtype=np.uint32))
    reader = postings.SparseCountsReader(folder, "tf")
    assert len(reader.positions.high) == (0 if legacy else len({at >> 16 for at in others if at >> 16}))
    for lo, hi in ranges:
        lo, hi = min(lo, hi), max(lo, hi)
        assert reader.read(lo, hi).tolist() == dense[lo:hi].tolist()
