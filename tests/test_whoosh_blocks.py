"""Posting blocks written column by column (search.segment.blocks) read back as Whoosh wrote them."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import given, settings, strategies as st
from test_whoosh_index import everything, written
from whoosh.qparser import QueryParser

from search.segment import blocks as whoosh_blocks, term_writer
from search.segment.words_format import CompactCharacters

# one occurrence: (position, start, end); a posting: its occurrences (Whoosh's Characters format).
# Any numbers whose differences the 4-byte form holds: not only what the analyzer produces
# (ascending, small).
number = st.one_of(st.integers(0, 300), st.integers(-(1 << 30), (1 << 30) - 1))
occurrence = st.tuples(number, number, st.integers(0, 70000)).map(lambda o: (o[0], o[1], o[1] + o[2]))
posting = st.lists(occurrence, min_size=1, max_size=5)


@settings(max_examples=300)
@given(st.lists(posting, min_size=1, max_size=60), st.data())
def test_a_column_block_reads_back_the_ids_weights_and_values_it_was_given(postings, data):
    fmt = CompactCharacters()
    values = [fmt.encode(poslist) for poslist in postings]
    ids = sorted(data.draw(st.sets(st.integers(0, (1 << 32) - 1), min_size=len(values), max_size=len(values))))
    boost = data.draw(st.sampled_from([1.0, 1.0, 2.5]))
    weights = [len(poslist) * boost for poslist in postings]
    body = whoosh_blocks.encode(ids, weights, b"".join(values), [len(v) for v in values])
    assert body is not None
    block = whoosh_blocks.ColumnBlock(body, len(ids))
    assert block.ids() == ids
    assert list(block.weights()) == list(np.asarray(weights, dtype=np.float32))
    assert block.values() == tuple(values)
    assert [fmt.decode_characters(v) for v in block.values()] == postings


def test_values_that_are_not_compact_characters_are_left_to_whooshs_block():
    assert whoosh_blocks.encode([1, 2], [1.0, 1.0], b"\x03abc\x01\x00\x00\x00", [4, 4]) is None  # width 3
    assert whoosh_blocks.encode([1, 2], [1.0, 1.0], b"\x01\x00\x00\x01\x00", [4, 1]) is None  # a triple cut short


SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("000_*.txt")).read_text(encoding="utf-8")
# windows of 80 characters over the seed article, 7 apart, each with 联合国 at a varying place
TEXTS = [(SEED * 2)[i : i + 80 - i % 11] + "联合国" + (SEED * 2)[i + 80 - i % 11 : i + 80] for i in range(0, len(SEED), 7)]


def test_words_blocks_are_columns_and_smaller_than_whooshs_pickled_blocks(tmp_path):
    with mock.patch.object(term_writer, "BLOCK_LIMIT", 128):
        columns = written(tmp_path / "columns", TEXTS)
        with mock.patch.object(term_writer, "field_encoding",
                               lambda fieldobj: (fieldobj.format.fixed_value_size(), False)):
            pickled = written(tmp_path / "pickled", TEXTS)
    blocks = _blocks(columns, "words")
    assert len(TEXTS) > 2 * 128 and blocks["联合国"] == [whoosh_blocks.COLUMNS] * 3  # blocks of 128, 128, the rest
    assert all(kind != whoosh_blocks.COLUMNS for kinds in _blocks(pickled, "words").values() for kind in kinds)
    # the same index either way (a build written before the columns still reads) ...
    assert everything(columns) == everything(pickled)
    # ... in fewer bytes
    size = {name: sum(p.stat().st_size for p in (tmp_path / name).glob("*.pst")) for name in ("columns", "pickled")}
    assert size["columns"] < 0.8 * size["pickled"], size
    columns.close()
    pickled.close()


@settings(max_examples=300)
@given(st.integers(1, 8), st.lists(st.tuples(st.sampled_from([1.0, 1.0, 2.0, 3.0, 0.5, 1e9]), st.binary(min_size=8, max_size=8)),
                                   min_size=1, max_size=60), st.data())
def test_a_fixed_column_block_reads_back_the_ids_weights_and_values_it_was_given(size, postings, data):
    weights = [w for w, _ in postings]
    values = [v[:size] for _, v in postings]
    ids = sorted(data.draw(st.sets(st.integers(0, (1 << 32) - 1), min_size=len(values), max_size=len(values))))
    body = whoosh_blocks.encode_fixed(ids, weights, b"".join(values), size)
    block = whoosh_blocks.FixedColumnBlock(body, len(ids), size)
    assert block.ids() == ids
    assert list(block.weights()) == list(np.asarray(weights, dtype=np.float32))
    assert block.values() == tuple(values)
    assert whoosh_blocks.encode_fixed(ids, weights, b"".join(values)[:-1], size) is None  # a value cut short


def _blocks(ix, field: str) -> dict[str, list[int]]:
    """Per term of ``field`` kept in blocks, each block's "compression" as its block info says."""
    found = {}
    with ix.reader() as reader:
        for term in reader.lexicon(field):
            if reader.term_info(field, term).is_inlined():
                continue
            matcher = reader.postings(field, term)
            kinds = [matcher._compression]
            while not matcher._lastblock:
                matcher._next_block()
                kinds.append(matcher._compression)
            found[term.decode("utf-8")] = kinds
    return found


def test_title_blocks_are_fixed_columns_and_read_back(tmp_path):
    titles = ["联合国大会" if n % 3 else "经济发展" for n in range(300)]
    with mock.patch.object(term_writer, "BLOCK_LIMIT", 128):
        ix = written(tmp_path, TEXTS[: len(titles)], titles[: len(TEXTS)])
    assert _blocks(ix, "title")["联合国"] == [whoosh_blocks.FIXED_COLUMNS] * 2  # 200 postings: 128, 72
    with ix.searcher() as searcher:
        found = searcher.search(QueryParser("title", ix.schema).parse("联合国"), limit=None)
        assert sorted(hit.docnum for hit in found) == [n for n in range(min(300, len(TEXTS))) if n % 3]
    ix.close()
