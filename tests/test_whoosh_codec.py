"""search.segment.codec: Whoosh 3's format with stored fields compressed against a trained dictionary."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings, strategies as st
from whoosh import columns, index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage

from search.segment import stored
from search.segment.codec import ZhCodec, stored_fields_reader
from search.segment.columns import RefNumericColumn
from search.segment.stored import DictionaryCompressedColumn

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_507e94cc0a3b8151.txt"


def write_column(values: list, training_bytes: int = stored.TRAINING_BYTES,
                 column=None, block_docs: int = 1) -> tuple[RamStorage, int]:
    """``values`` (None: a document without one) written into a file "col" by ``column``'s writer
    (default: a dictionary-compressed column, ``block_docs`` documents a block); the storage and
    the file's length."""
    storage = RamStorage()
    with storage.create_file("col") as out:
        writer = (column or DictionaryCompressedColumn(training_bytes, block_docs)).writer(out)
        for docnum, value in enumerate(values):
            if value is not None:
                writer.add(docnum, value)
        writer.finish(len(values))
    return storage, storage.file_length("col")


def read_column(storage: RamStorage, length: int, count: int) -> list[bytes]:
    reader = DictionaryCompressedColumn().reader(storage.open_file("col"), 0, length, count)
    by_index = [reader[n] for n in range(count)]
    assert list(reader) == by_index
    return by_index


values = st.lists(st.one_of(st.none(), st.binary(max_size=300), st.text(max_size=100).map(str.encode)), max_size=400)


@settings(max_examples=60)
@given(values, st.integers(1, 4000), st.sampled_from([1, 2, 3, 32]))
def test_every_value_reads_back_as_written(values, training_bytes, block_docs):
    """A value at a time or a block at a time; before, during and after the training buffer fills;
    gaps (None) read back empty."""
    storage, length = write_column(values, training_bytes, block_docs=block_docs)
    assert read_column(storage, length, len(values)) == [value or b"" for value in values]


def stored_fields(count: int) -> list[bytes]:
    """Pickled stored fields like a news archive's build: a day's articles of a few paragraphs
    each, sharing their id, date and source."""
    import datetime
    import pickle

    rng = random.Random(3)
    fields, date, number, paragraph = [], datetime.datetime(2022, 9, 24), 0, 0
    for _ in range(count):
        if paragraph == 0 or rng.random() < 0.15:
            paragraph, number = 0, number + 1
            if rng.random() < 0.1:
                date, number = date + datetime.timedelta(days=1), 1
        paragraph += 1
        fields.append(pickle.dumps({"article_id": f"{date:%Y%m%d}_{number:02d}", "date": date,
                                    "kind": ["title", "lead"][paragraph - 1] if paragraph < 3 else "body",
                                    "paragraph": paragraph, "source": "新闻联播", "text": None},
                                   pickle.HIGHEST_PROTOCOL))
    return fields


def test_neighbouring_stored_fields_compressed_together_take_far_less_room():
    values = stored_fields(20_000)
    alone, _ = write_column(values, 256 << 10)
    blocks, length = write_column(values, 256 << 10, block_docs=32)
    header = blocks.open_file("col").read(12)
    assert header[:4] == b"ZDC3" and int.from_bytes(header[8:], "little") == 32
    assert read_column(blocks, length, len(values)) == values
    assert length < 0.4 * alone.file_length("col")


def test_a_block_column_takes_documents_in_order_and_reads_only_its_documents():
    storage = RamStorage()
    with storage.create_file("col") as out:
        writer = DictionaryCompressedColumn(block_docs=4).writer(out)
        writer.add(5, b"five")
        with pytest.raises(ValueError, match="after document 5"):
            writer.add(3, b"three")
        writer.finish(7)
    reader = DictionaryCompressedColumn().reader(storage.open_file("col"), 0, storage.file_length("col"), 7)
    assert [reader[n] for n in range(7)] == [b""] * 5 + [b"five", b""]
    with pytest.raises(IndexError):
        reader[7]


def paragraphs(count: int) -> list[str]:
    """``count`` paragraphs of real Chinese prose: the seed article's sentences, shuffled in runs."""
    sentences = [s + "。" for s in SEED.read_text(encoding="utf-8").replace("\n", "").split("。") if s]
    rng = random.Random(7)
    return ["".join(rng.sample(sentences, rng.randint(1, 4))) for _ in range(count)]


def test_values_after_training_are_compressed_against_the_dictionary():
    texts = [t.encode() for t in paragraphs(2000)]
    storage, length = write_column(texts, training_bytes=256 << 10)
    header = storage.open_file("col").read(8)
    assert header[:4] == b"ZDC2" and int.from_bytes(header[4:], "little") > 0  # a dictionary was trained
    assert read_column(storage, length, len(texts)) == texts
    assert length < 0.5 * sum(map(len, texts))  # zlib a value at a time: ~0.85 of the text


def test_values_are_frames_without_zstds_magic_number():
    texts = [t.encode() for t in paragraphs(400)]
    storage, length = write_column(texts, training_bytes=64 << 10)
    size = int.from_bytes(storage.open_file("col").read(8)[4:], "little")
    values = columns.VarBytesColumn().reader(storage.open_file("col"), 8 + size, length - 8 - size, len(texts))
    assert all(not values[n].startswith(ZSTD_MAGIC) for n in range(len(texts)))


def test_a_column_of_standard_frames_from_earlier_builds_still_reads():
    """ZDC1: the layout builds wrote before the frames lost their magic number."""
    texts = [t.encode() for t in paragraphs(600)]
    dictionary = zstandard.train_dictionary(8 << 10, texts[:300])
    compress = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_dict_id=False,
                                        write_checksum=False).compress
    storage = RamStorage()
    with storage.create_file("col") as out:
        out.write(b"ZDC1" + len(dictionary.as_bytes()).to_bytes(4, "little") + dictionary.as_bytes())
        writer = columns.VarBytesColumn().writer(out)
        for docnum, text in enumerate(texts):
            writer.add(docnum, compress(text))
        writer.finish(len(texts))
    assert read_column(storage, storage.file_length("col"), len(texts)) == texts


def test_too_few_values_need_no_dictionary():
    storage, length = write_column([b"abc", b"", "一二三".encode()])
    assert storage.open_file("col").read(8) == b"ZDC2" + bytes(4)
    assert read_column(storage, length, 3) == [b"abc", b"", "一二三".encode()]


def build(folder: Path, codec, texts: list[str]) -> int:
    """An index of ``texts`` written with ``codec``; its size (nearly all stored fields)."""
    schema = Schema(article_id=ID(stored=True), paragraph=NUMERIC(stored=True), text=STORED)
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema)
    with ix.writer(codec=codec) as writer:
        for n, text in enumerate(texts):
            writer.add_document(article_id=f"a{n // 10}", paragraph=n % 10 + 1, text=text)
    return sum(p.stat().st_size for p in folder.iterdir())


def test_whoosh_opens_the_index_and_the_stored_fields_take_far_less_room(tmp_path):
    texts = paragraphs(3000)
    ours = build(tmp_path / "ours", ZhCodec(), texts)
    whooshs = build(tmp_path / "w3", W3Codec(), texts)
    with whoosh_index.open_dir(str(tmp_path / "ours")).searcher() as searcher:
        assert [searcher.stored_fields(n) for n in (0, 1234, 2999)] == [
            {"article_id": f"a{n // 10}", "paragraph": n % 10 + 1, "text": texts[n]} for n in (0, 1234, 2999)]
        assert [fields["text"] for fields in searcher.all_stored_fields()] == texts
    assert ours < 0.6 * whooshs


def test_the_direct_stored_fields_reader_reads_what_whoosh_reads(tmp_path):
    texts = paragraphs(400)
    for name, codec in (("ours", ZhCodec()), ("w3", W3Codec())):
        build(tmp_path / name, codec, texts)
        with whoosh_index.open_dir(str(tmp_path / name)).searcher() as searcher:
            read = stored_fields_reader(searcher)
            assert [read(n) for n in range(len(texts))] == list(searcher.all_stored_fields())


def test_whooshs_own_writer_extends_and_merges_a_build(tmp_path):
    """Documents added later with Whoosh's writer (its default codec), then all merged into one
    segment: every stored field still reads back."""
    texts = paragraphs(500)
    build(tmp_path / "ix", ZhCodec(), texts)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    with ix.writer() as writer:
        writer.add_document(article_id="added", paragraph=1, text="后来加入的段落")
    with ix.searcher() as searcher:
        assert searcher.doc_count() == 501
        assert [f["text"] for f in searcher.all_stored_fields()] == [*texts, "后来加入的段落"]
    ix.optimize()
    with ix.searcher() as searcher:
        assert [f["text"] for f in searcher.all_stored_fields()] == [*texts, "后来加入的段落"]
        assert searcher.document(article_id="added")["text"] == "后来加入的段落"


@pytest.mark.parametrize("skeleton_field", [ID(stored=True, sortable=True), NUMERIC(int, stored=True, sortable=True),
                                            STORED()])
def test_fields_named_text_and_skeleton_of_ordinary_types_are_stored_as_any_other(tmp_path, skeleton_field):
    """Only a skeleton field whose column is the codec's own SkeletonColumn makes the stored text a
    patch: someone else's schema that happens to use the names ``text`` and ``skeleton`` (with a
    column of another type, or none) reads back what it stored."""
    schema = Schema(text=TEXT(stored=True), skeleton=skeleton_field)
    ix = whoosh_index.create_in(str(tmp_path), schema)
    documents = [{"text": f"第{n}段 Paragraph {n}，聯合國", "skeleton": n if isinstance(skeleton_field, NUMERIC) else f"s{n}"}
                 for n in range(300)]
    with ix.writer(codec=ZhCodec()) as writer:
        for document in documents:
            writer.add_document(**document)
    with whoosh_index.open_dir(str(tmp_path)).searcher() as searcher:
        assert list(searcher.all_stored_fields()) == documents


@settings(max_examples=150)
@given(st.lists(st.one_of(st.none(), st.sampled_from([0, 1, 7, 2**40, 2**64 - 1]), st.integers(0, 2**64 - 1)),
                max_size=300))
def test_a_reference_column_reads_back_its_numbers_and_sorts_them(values):
    column = RefNumericColumn()
    storage, size = write_column(values, column=column)  # a document without a value reads the default, 0
    reader = column.reader(storage.open_file("col"), 0, size, len(values))
    expected = [value or 0 for value in values]
    assert list(reader) == expected
    distinct = len(set(expected) | {0})
    assert size == len(values) * (1 if distinct <= 256 else 2) + 8 * distinct + 13  # references, values, footer
    reader.set_reverse()
    assert sorted(range(len(values)), key=reader.sort_key) == sorted(range(len(values)), key=lambda i: -expected[i])


def test_a_reference_column_refuses_what_is_not_a_whole_number():
    with RamStorage().create_file("ref.col") as out:
        writer = RefNumericColumn().writer(out)
        for bad in (-1, 2**64, 1.5, "3"):
            with pytest.raises(ValueError, match="whole number"):
                writer.add(0, bad)
