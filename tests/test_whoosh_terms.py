"""search.segment.terms: ZhCodec's term table answers what Whoosh's own W3 term table answers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo, W3TermsReader
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.qparser import QueryParser

from search.segment import varints
from search.segment.codec import ZhCodec
from search.segment.mapped import open_index
from search.segment.terms import TermsReader, pack_info, unpack_info

float32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
ids = st.integers(0, 0xFFFFFFFE)


@st.composite
def term_infos(draw) -> W3TermInfo:
    info = W3TermInfo()
    info._weight = draw(st.one_of(float32, st.integers(0, 1 << 24).map(float)))
    info._df = draw(st.integers(0, 0xFFFFFFFF))
    info._minlength = draw(st.one_of(st.none(), st.integers(1, 1 << 20)))
    info._maxlength = draw(st.integers(0, 1 << 20))
    info._maxweight = draw(st.one_of(float32, st.integers(0, 1 << 24).map(float)))
    if draw(st.booleans()):
        info._minid = draw(ids)
        info._maxid = info._minid + draw(st.integers(0, 0xFFFFFFFE - info._minid))
    if draw(st.booleans()):
        postings = draw(st.lists(st.tuples(ids, float32, st.binary(max_size=8)), min_size=1, max_size=5))
        info._inlined = tuple(zip(*postings))
    else:
        info.set_extent(draw(st.integers(0, 1 << 62)), draw(st.integers(0, 0x7FFFFFFF)))
    return info


@settings(max_examples=300)
@given(term_infos())
def test_a_packed_term_info_reads_back_as_whooshs_own(info):
    w3 = info.to_bytes()
    expected = vars(W3TermInfo.from_bytes(w3))
    if isinstance(expected["_length"], tuple):  # W3TermInfo.from_bytes reads the length as a 1-tuple
        expected["_length"] = expected["_length"][0]
    packed = pack_info(w3)
    assert vars(unpack_info(packed)) == expected


@settings(max_examples=300)
@given(st.lists(st.tuples(ids, st.integers(0, 1 << 40), st.binary(max_size=12)), min_size=1, max_size=8),
       st.booleans(), st.booleans(), st.booleans())
def test_inlined_postings_as_the_sorted_writer_writes_them_pack_in_varints(postings, weighted, valued, ordered):
    """Ids, whole weights or none, byte values or none: packed in varints, not pickled, and read
    back as Whoosh's own (in any order of ids, though a table holds them ascending)."""
    info = W3TermInfo(weight=3.0, df=len(postings), minlength=1, maxlength=9, maxweight=1.0)
    postings = sorted(postings) if ordered else postings
    doc_ids, weights, values = (tuple(column) for column in zip(*postings))
    info._inlined = (doc_ids, weights if weighted else None, values if valued else None)
    w3 = info.to_bytes()
    packed = pack_info(w3)
    assert vars(unpack_info(packed)) == vars(W3TermInfo.from_bytes(w3))
    assert packed[0] & 32  # compact
    assert len(packed) < len(w3)


def test_inlined_postings_of_another_shape_stay_pickled():
    info = W3TermInfo(weight=3.0, df=2, minlength=1, maxlength=9, maxweight=1.5)
    info._inlined = ((1, 5), (1.5, 1.0), None)  # weights that are not whole
    packed = pack_info(info.to_bytes())
    assert not packed[0] & 32 and vars(unpack_info(packed)) == vars(W3TermInfo.from_bytes(info.to_bytes()))


def test_a_typical_term_info_packs_in_about_half_the_bytes():
    info = W3TermInfo(weight=14.0, df=9, minlength=12, maxlength=80, maxweight=3.0, minid=70_001, maxid=90_321)
    info.set_extent(12_345_678, 310)
    assert len(info.to_bytes()) == 35 and len(pack_info(info.to_bytes())) <= 18


words = st.text(alphabet=st.sampled_from(list("联合国宪章中华人民共和国发展经济的了是在和abcXYZ012")),
                min_size=1, max_size=6)
documents = st.lists(st.tuples(st.lists(words, min_size=1, max_size=8), words, st.integers(0, 5000)),
                     min_size=1, max_size=40)


def schema() -> Schema:
    return Schema(words=TEXT(phrase=True), tags=KEYWORD, key=ID(stored=True), n=NUMERIC(int, stored=True))


def write(storage, codec, docs) -> None:
    """An index of ``docs``, its segment's files apart (as a build writes them), not compound."""
    ix = storage.create_index(schema())
    with ix.writer(codec=codec, compound=False) as writer:
        for text, key, n in docs:
            writer.add_document(words=" ".join(text), tags=" ".join(reversed(text)), key=key, n=n)


def outcome(call):
    """What ``call`` returns, or the name of the exception it raises."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - the exception's type is the answer compared
        return type(error).__name__


def answers(ix, probes: list[str]) -> dict:
    """What a reader answers about every term, every probe as a prefix and as a term, and cursors."""
    with ix.reader() as reader:
        out = {"terms": list(reader.all_terms()),
               "infos": [(term, vars(info).get("_weight"), info.doc_frequency(), info.max_weight(),
                          info.min_id(), info.max_id())
                         for term, info in ((term, reader.term_info(*term)) for term in reader.all_terms())]}
        for field in ("words", "tags", "key"):
            out[field, "lexicon"] = list(reader.lexicon(field))
            for probe in probes:
                out[field, probe] = (list(reader.expand_prefix(field, probe)), (field, probe) in reader,
                                     reader.doc_frequency(field, probe), reader.frequency(field, probe),
                                     [(t, i.doc_frequency()) for t, i in reader.iter_prefix(field, probe)],
                                     outcome(lambda: reader.term_info(field, probe).doc_frequency()),
                                     outcome(lambda: list(reader.postings(field, probe).all_ids())))
            cursor = reader.cursor(field)
            walked = []
            while cursor.is_valid():
                walked.append((cursor.text(), cursor.term_info().doc_frequency()))
                cursor.next()
            out[field, "cursor"] = walked
            out[field, "found"] = [cursor.find(probe) for probe in probes]
    with ix.searcher() as searcher:
        for probe in probes:
            query = QueryParser("words", ix.schema).parse(f'"{probe} {probe}" OR {probe}*')
            out["hits", probe] = [(hit.docnum, round(hit.score, 4)) for hit in searcher.search(query, limit=None)]
    return out


@settings(max_examples=40)
@given(documents, st.lists(words, max_size=5))
def test_a_build_with_the_table_answers_what_whooshs_table_answers(tmp_path_factory, docs, probes):
    whooshs = RamStorage()
    write(whooshs, W3Codec(), docs)
    folder = tmp_path_factory.mktemp("terms")
    write(FileStorage(str(folder)), ZhCodec(), docs)
    probes = [*probes, docs[0][0][0], docs[-1][1]]
    expected = answers(whooshs.open_index(), probes)
    through_seeks = whoosh_index.open_dir(str(folder))  # the table read through file seeks
    mapped = open_index(folder)  # the table read in place
    for ix, in_place in ((through_seeks, False), (mapped, True)):
        assert isinstance(ix.reader()._terms, TermsReader)
        assert (ix.reader()._terms._data is not None) == in_place
        assert answers(ix, probes) == expected
    through_seeks.close()
    mapped.close()


def test_a_codec_pickled_before_the_table_still_reads_whooshs_table(tmp_path):
    """Builds before the table recorded a ZhCodec without ``terms_table``: Whoosh's table."""
    old = ZhCodec()
    del old.terms_table  # as unpickled from such a build
    assert old.terms_table == 1
    docs = [(["联合国", "宪章"], "a", 1), (["发展", "经济", "联合国"], "b", 2)]
    write(FileStorage(str(tmp_path)), old, docs)
    ix = whoosh_index.open_dir(str(tmp_path))
    with ix.reader() as reader:
        assert isinstance(reader._terms, W3TermsReader)
        assert reader.doc_frequency("words", "联合国") == 2
    ix.close()


@pytest.mark.parametrize("damage", [lambda data: data[:-4] + b"XXXX", lambda data: data[:10], lambda data: b""])
def test_a_damaged_table_is_refused_with_a_clear_error(tmp_path, damage):
    """A wrong footer, a table cut short, an empty file: ValueError naming the table, which the
    searcher reports as an index that cannot be opened."""
    write(FileStorage(str(tmp_path)), ZhCodec(), [(["联合国"], "a", 1)])
    table = next(tmp_path.glob("*.trm"))
    table.write_bytes(damage(table.read_bytes()))
    with pytest.raises(ValueError, match="not a zhsearch term table"):
        whoosh_index.open_dir(str(tmp_path)).reader()


def test_keys_must_increase(tmp_path):
    from search.segment.terms import TermTableWriter

    with open(tmp_path / "t", "wb") as file:
        from whoosh.filedb.structfile import StructFile

        writer = TermTableWriter(StructFile(file))
        info = W3TermInfo()
        info.set_extent(0, 1)
        writer.add(b"\x00\x00b", info.to_bytes())
        with pytest.raises(ValueError, match="keys must increase"):
            writer.add(b"\x00\x00a", info.to_bytes())
    assert struct.calcsize("<QQQc4s") == 29


@given(st.integers(-(1 << 70), 1 << 70))
def test_varints_and_zigzag_read_back_any_number(n):
    out = bytearray(b"\x01")
    varints.write(varints.zigzag(n), out)
    value, end = varints.read(out, 1)
    assert varints.unzigzag(value) == n and end == len(out)
    assert varints.zigzag(n) >= 0
