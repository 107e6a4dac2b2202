"""A paragraph's stored text is a patch against its skeleton (search.segment.text_patch), and the skeletons
are one Whoosh column that the match index maps (search.segment.columns.SkeletonColumn)."""

from __future__ import annotations

import pickle
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from test_whoosh_codec import write_column
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import RamStorage

from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import GRAMS, IndexLayout, segment_folder
from search.match.grams import GramIndex
from search.paragraphs import read_articles
from search.segment import text_patch
from search.segment.codec import STORED_COLUMN, ZhPerDocReader, skeleton_column_path, text_reader
from search.segment.columns import PATCH_COLUMN, SKELETON_COLUMN, patch_arrays, skeleton_arrays
from search.segment.stored import DictionaryCompressedColumn
from search.text.normalize import normalize, skeleton

TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"

chinese = st.text(alphabet=st.sampled_from(list("联合国臺灣經濟发展ＡＢａｂAbc１２，。：“” \u3000\t\n\u200bﬁ㈱")), max_size=60)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=80), chinese))
def test_a_text_comes_back_from_its_skeleton_and_patch(text):
    skeleton_text = skeleton(normalize(text))
    patch = text_patch.make(text, skeleton_text)
    assert isinstance(patch, text_patch.SkeletonPatch)
    assert text_patch.apply(skeleton_text, patch) == text
    assert pickle.loads(pickle.dumps(patch)) == patch and type(pickle.loads(pickle.dumps(patch))) is type(patch)


@settings(max_examples=300)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_comes_back_from_any_skeleton(text, other):
    assert text_patch.apply(other, text_patch.make(text, other)) == text


def test_a_patch_holds_only_what_differs():
    assert text_patch.make("联合国", "联合国") == b""
    traditional = "臺灣的經濟發展，今年第一季度增長百分之三。" * 4
    patch = text_patch.make(traditional, skeleton(normalize(traditional)))
    differs = [c != s for c, s in zip(traditional, skeleton(normalize(traditional)))]
    runs = sum(1 for i, d in enumerate(differs) if d and (i == 0 or not differs[i - 1]))
    changed = "".join(c for c, d in zip(traditional, differs) if d)
    assert len(patch) == 3 * runs + len(changed.encode("utf-8"))  # per run of changes: 3 varints, then the run
    spaced = "Stephane Dujarric 发言"
    assert text_patch.make(spaced, skeleton(normalize(spaced))) == b"\x00\x01\x01S\x07\x00\x01 \x00\x01\x01D\x07\x00\x01 "


@settings(max_examples=200)
@given(st.lists(st.one_of(st.text(max_size=30), chinese), max_size=8), st.lists(st.one_of(st.text(max_size=30), chinese),
                                                                                max_size=8))
def test_patches_against_a_learned_table_bring_back_any_text(seen, texts):
    patcher = text_patch.Patcher(learn_characters=1 << 30)
    for text in seen:
        patcher.observe(text, skeleton(normalize(text)))
    patcher.learn()
    for text in seen + texts:
        skeleton_text = skeleton(normalize(text))
        assert text_patch.apply(text_patch.base(skeleton_text, patcher.table), patcher.make(text, skeleton_text)) == text


no_separator = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@settings(max_examples=300)
@given(st.lists(st.text(no_separator, max_size=20), max_size=8),
       st.dictionaries(st.one_of(no_separator, st.sampled_from(list(",a国𠀀"))), st.one_of(no_separator, st.just("𠀀")),
                       max_size=8))
@example(["1"], {"0": "𠀀", "1": "0"})  # 1 → 0 by the lookup must not then become 𠀀
def test_bases_from_mapped_units_are_the_skeletons_with_the_table_put_back(skeletons, table):
    units = np.frombuffer("".join(s + "\x00" for s in skeletons).encode("utf-16-le"), dtype=np.uint16)
    bounds = np.cumsum([0] + [len(s.encode("utf-16-le")) // 2 + 1 for s in skeletons]).astype(np.uint32)
    table = {ord(key): value for key, value in table.items()}
    bases = text_patch.MappedBases(units, bounds, table)
    assert [bases(gid) for gid in range(len(skeletons))] == [text_patch.base(s, table) for s in skeletons]


@settings(max_examples=200)
@given(st.lists(st.tuples(st.text(st.sampled_from(list("ab国湾𠀀")), min_size=1, max_size=12), st.data()), max_size=10))
def test_a_learned_table_is_each_characters_majority_original(texts):
    """Against a count made a character at a time: an original wins when it stands for its skeleton
    character more often than the character itself does (ties between originals: the lower code point)."""
    patcher, counts = text_patch.Patcher(learn_characters=1 << 30), {}
    for skeleton_text, data in texts:
        original = "".join(data.draw(st.sampled_from([c, c.upper(), "國", "灣", "x"])) for c in skeleton_text)
        patcher.observe(original, skeleton_text)
        for pair in zip(skeleton_text, original):
            counts[pair] = counts.get(pair, 0) + 1
    patcher.learn()
    expected = {}
    for s in {s for s, _ in counts}:
        others = sorted((-n, o) for (k, o), n in counts.items() if k == s and o != s)
        if others and -others[0][0] > counts.get((s, s), 0):
            expected[ord(s)] = others[0][1]
    assert patcher.table == expected


def test_a_patcher_learns_what_each_skeleton_character_most_often_stands_for():
    patcher = text_patch.Patcher(learn_characters=40)
    for text in ["臺灣，國家。", "國際，台灣", "ABC"]:
        patcher.observe(text, skeleton(normalize(text)))
    assert patcher.learning  # 16 characters seen of 40
    patcher.observe("國" * 30, "国" * 30)
    assert not patcher.learning
    # 台 stood for 臺 once and for itself once: a tie keeps the character itself
    assert patcher.table == {ord(c): o for c, o in [(",", "，"), ("国", "國"), ("湾", "灣"), ("际", "際"),
                                                       ("a", "A"), ("b", "B"), ("c", "C")]}
    assert patcher.make("國灣，國家。", skeleton(normalize("國灣，國家。"))) == b""  # nothing left to patch
    assert patcher.make("臺灣", skeleton(normalize("臺灣"))) == text_patch.make("臺灣", "台灣")


@settings(max_examples=100)
@given(st.lists(st.one_of(st.none(), st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                                              max_size=20)), max_size=30))
def test_the_skeleton_column_reads_back_what_was_written_and_maps_as_units(tmp_path_factory, values):
    storage, length = write_column(values, column=SKELETON_COLUMN)  # a document without a value reads back empty
    reader = SKELETON_COLUMN.reader(storage.open_file("col"), 0, length, len(values))
    assert list(reader) == [value or "" for value in values]
    path = tmp_path_factory.mktemp("column") / "skeleton.col"
    path.write_bytes(storage.open_file("col").read())
    units = "".join((value or "") + "\x00" for value in values).encode("utf-16-le")
    mapped_units, bounds = skeleton_arrays(path)
    assert mapped_units.tobytes() == units
    sizes = [len((value or "").encode("utf-16-le")) // 2 + 1 for value in values]  # code units and the 0
    assert bounds.tolist() == np.cumsum([0] + sizes).tolist()


def test_a_skeleton_cannot_hold_the_separator():
    with RamStorage().create_file("skeleton.col") as out:
        with pytest.raises(ValueError, match="character 0"):
            SKELETON_COLUMN.writer(out).add(0, "a\x00b")


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("patched")
    build_index(Settings(seeds_dir=TEST_ARTICLES, index_dir=root / "index"), jobs=1)
    return IndexLayout(root / "index").current()


def test_a_build_stores_patches_and_holds_each_skeleton_once(build):
    articles = list(read_articles(TEST_ARTICLES, lambda problem: None))
    texts = [p.text for a in articles for p in a.paragraphs]
    ix = whoosh_index.open_dir(str(build))
    with ix.searcher() as searcher:
        # plain Whoosh reads the whole texts back ...
        assert [searcher.stored_fields(gid)["text"] for gid in range(len(texts))] == texts
        # ... stored as patches against the skeleton column, in a column of their own
        perdoc = searcher.reader()._perdoc
        raw = perdoc._cached_reader("_stored", STORED_COLUMN)
        assert all(raw[gid]["text"] is None for gid in range(len(texts)))
        patches = perdoc._cached_reader("_patches", PATCH_COLUMN)
        assert patches.patched == len(texts)
        # against the skeletons with the learned table put back, most paragraphs need no edit
        assert perdoc._cached_reader("skeleton", SKELETON_COLUMN).table[ord(",")] == "，"
        plain = sum(len(text_patch.make(text, skeleton(normalize(text)))) for text in texts)
        assert sum(len(patches[gid]) for gid in range(len(texts))) < plain / 2
        assert sum(patches[gid] == b"" for gid in range(len(texts))) > 0
        skeletons = list(searcher.reader().column_reader("skeleton"))
        assert skeletons == [skeleton(normalize(text)) for text in texts]
        column = skeleton_column_path(searcher, build)
        grams_folder = segment_folder(build, searcher.reader().segment().segid) / GRAMS
    # the match index has no copy of the units or where they start: it maps the column
    assert not (grams_folder / "units.npy").exists()
    units, bounds = skeleton_arrays(column)
    grams = GramIndex(grams_folder, units, bounds)
    assert [grams.skeletons[gid] for gid in range(grams.count)] == skeletons
    # a hit's text is read from the mapped columns, not the stored fields, and is the same
    with ix.searcher() as searcher:
        text = text_reader(searcher, build, units, bounds)
        with mock.patch.object(ZhPerDocReader, "stored_fields", side_effect=AssertionError("read the stored fields")):
            assert [text(gid) for gid in range(len(texts))] == texts
    assert not (grams_folder / "bounds.npy").exists()
    with pytest.raises(ValueError, match="do not agree"):
        GramIndex(grams_folder, units[:-1], bounds)
    ix.close()


@pytest.mark.parametrize("learn_characters", [1, 100, 300])
def test_texts_held_back_while_the_table_is_learned_are_stored_under_their_own_numbers(tmp_path, monkeypatch,
                                                                                        learn_characters):
    monkeypatch.setattr(text_patch, "LEARN_CHARACTERS", learn_characters)  # learned after a few paragraphs
    filed = tmp_path / "filed"  # the document numbers the stored values are filed under, in order
    add = DictionaryCompressedColumn.BlockWriter.add  # (the stored column's writer)

    def filing(writer, docnum, value):  # (in the process that writes Whoosh's segment: a file, not a list)
        with open(filed, "a") as out:
            out.write(f"{docnum}\n")
        return add(writer, docnum, value)

    monkeypatch.setattr(DictionaryCompressedColumn.BlockWriter, "add", filing)
    build_index(Settings(seeds_dir=TEST_ARTICLES, index_dir=tmp_path / "index"), jobs=1)
    texts = [p.text for a in read_articles(TEST_ARTICLES, lambda problem: None) for p in a.paragraphs]
    # Whoosh's reader forgives a value filed under a later number when nothing came between (it
    # reads the last lengths); a large build did not (issue #11's reindex test): each under its own
    assert list(map(int, filed.read_text().split())) == list(range(len(texts)))
    ix = whoosh_index.open_dir(str(IndexLayout(tmp_path / "index").current()))
    with ix.searcher() as searcher:
        assert [searcher.stored_fields(gid).get("text") for gid in range(len(texts))] == texts
    ix.close()


@settings(max_examples=150)
@given(st.lists(st.one_of(st.none(), st.binary(max_size=12)), max_size=40))
def test_the_patch_column_keeps_the_non_empty_patches_and_counts_the_patched(tmp_path_factory, patches):
    storage, length = write_column(patches, column=PATCH_COLUMN)  # a document without a patch reads back empty
    reader = PATCH_COLUMN.reader(storage.open_file("col"), 0, length, len(patches))
    assert [reader[docnum] for docnum in range(len(patches))] == [patch or b"" for patch in patches]
    assert reader.patched == sum(patch is not None for patch in patches)
    data = sum(len(patch or b"") for patch in patches)
    assert length == data + -data % 4 + 8 * sum(bool(patch) for patch in patches) + 4 + 16
    path = tmp_path_factory.mktemp("patches") / "patches.col"
    path.write_bytes(storage.open_file("col").read())
    data, docnums, starts, patched = patch_arrays(path)
    mapped = text_patch.MappedPatches(data, docnums, starts)
    assert [bytes(mapped(docnum)) for docnum in range(len(patches))] == [patch or b"" for patch in patches]
    assert patched == reader.patched


def test_patches_are_added_in_document_order():
    with RamStorage().create_file("patches.col") as out:
        writer = PATCH_COLUMN.writer(out)
        writer.add(3, b"x")
        with pytest.raises(ValueError, match="after document 3"):
            writer.add(2, b"y")
