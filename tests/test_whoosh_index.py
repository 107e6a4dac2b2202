"""Every build is a complete Whoosh index (SPEC.md, "The index"), written by search.segment.writer."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings, strategies as st
from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Characters
from whoosh.qparser import QueryParser
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.paragraphs import read_articles
from search.segment import term_writer
from search.segment.schema import make_schema
from search.segment.term_writer import INLINE_AT_MOST
from search.segment.words_format import CompactCharacters, field_items
from search.segment.writer import DocumentBatch, SortedSegmentWriter
from search.text.analysis import ChineseAnalyzer

TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The test articles built into an index; the live build opened with plain Whoosh."""
    root = tmp_path_factory.mktemp("whoosh")
    settings = Settings(seeds_dir=TEST_ARTICLES, index_dir=root / "index")
    summary = build_index(settings, jobs=1)
    live = IndexLayout(root / "index").current()
    ix = whoosh_index.open_dir(str(live))
    articles = list(read_articles(TEST_ARTICLES, lambda problem: None))
    yield summary, ix, articles
    ix.close()


def hits(ix, query: str, field: str = "words") -> list[dict]:
    with ix.searcher() as searcher:
        return [dict(hit) for hit in searcher.search(QueryParser(field, ix.schema).parse(query), limit=None)]


def test_open_dir_and_whooshs_query_parser_answer_word_phrase_and_field_queries(built):
    summary, ix, articles = built
    wire = {a.id: a for a in articles}["wire-001"]  # 港口吞吐量创新高: 今年前十个月，港口货物吞吐量…
    found = hits(ix, "吞吐量")
    expected = {"article_id": "wire-001", "paragraph": 1, "kind": wire.paragraphs[0].kind,
                "text": wire.paragraphs[0].text}
    assert any(hit.items() >= expected.items() for hit in found)  # (its metadata is stored too)
    assert all("吞吐量" in hit["text"] for hit in found)
    phrase = hits(ix, '"港口 货物"')
    assert [(h["article_id"], h["paragraph"]) for h in phrase] == [
        ("wire-001", p.n) for p in wire.paragraphs if "港口货物" in p.text]
    assert hits(ix, '"货物 港口"') == []  # a phrase keeps its order
    assert {h["paragraph"] for h in hits(ix, "article_id:wire-001")} == set(range(1, len(wire.paragraphs) + 1))
    titles = hits(ix, "kind:title")
    assert titles and all(h["kind"] == "title" for h in titles)
    assert {h["article_id"] for h in hits(ix, "title:港口")} == {"wire-001"}
    assert hits(ix, "港口 kind:title") == [h for h in hits(ix, "港口") if h["kind"] == "title"]


def test_traditional_text_is_found_by_simplified_words_and_the_other_way_round(built):
    _, ix, _ = built
    assert {h["article_id"] for h in hits(ix, "图书室")} == {"wire-002"} == {h["article_id"] for h in hits(ix, "圖書室")}


def test_one_whoosh_document_per_paragraph_in_gid_order(built):
    summary, ix, articles = built
    assert ix.doc_count() == summary.paragraphs == sum(len(a.paragraphs) for a in articles)
    with ix.searcher() as searcher:
        stored = [searcher.stored_fields(gid) for gid in range(ix.doc_count())]
    expected = [{"article_id": a.id, "paragraph": p.n, "kind": p.kind, "text": p.text}
                for a in articles for p in a.paragraphs]
    assert [{k: row[k] for k in ("article_id", "paragraph", "kind", "text")} for row in stored] == expected


def test_a_paragraphs_words_with_positions_are_the_analyzers_output(built):
    _, ix, articles = built
    analyzer = ChineseAnalyzer()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        gid = 0
        for article in articles:
            for paragraph in article.paragraphs:
                expected = defaultdict(list)
                for t in analyzer(paragraph.text, positions=True, chars=True, mode="index"):
                    expected[t.text].append((t.pos, t.startchar, t.endchar))
                for word, places in expected.items():
                    postings = reader.postings("words", word)
                    postings.skip_to(gid)
                    assert postings.id() == gid
                    assert postings.value_as("characters") == places
                length = sum(map(len, expected.values()))  # stored in one byte, as Whoosh stores it
                assert reader.doc_field_length(gid, "words") == byte_to_length(length_to_byte(length))
                gid += 1


def test_the_schema_is_the_specs():
    schema = make_schema()
    assert set(schema.names()) >= {"words", "title", "article_id", "paragraph", "kind", "text"}
    assert schema["words"].format.supports("positions") and schema["words"].format.supports("characters")
    assert schema["article_id"].stored and schema["paragraph"].stored and schema["kind"].stored
    assert schema["text"].stored and not schema["text"].indexed


places = st.lists(st.tuples(st.integers(0, 70000), st.integers(0, 70000), st.integers(0, 300)), min_size=1, max_size=6)


@given(places)
def test_compact_characters_decode_to_what_whooshs_characters_decode_to(occurrences):
    occurrences = sorted((position, start, start + size) for position, start, size in occurrences)
    compact, whooshs = CompactCharacters(), Characters()
    value, reference = compact.encode(occurrences), whooshs.encode(occurrences)
    assert compact.decode_characters(value) == whooshs.decode_characters(reference) == occurrences
    assert compact.decode_positions(value) == whooshs.decode_positions(reference)
    assert compact.decode_frequency(value) == whooshs.decode_frequency(reference) == len(occurrences)
    assert compact.decode_weight(value) == whooshs.decode_weight(reference)


SEED_TEXT = next((Path(__file__).resolve().parent.parent / "seeds").glob("000_*.txt")).read_text(encoding="utf-8")


@settings(max_examples=60)
@given(st.text(max_size=400))
@example(SEED_TEXT)
@example(SEED_TEXT * 30)
def test_compact_characters_are_smaller_for_what_the_analyzer_makes(text):
    """Smaller than Whoosh's pickles for every posting the analyzer makes (positions and starts
    ascending), the seed article 30 times over (past 65,536 characters) included. Not for any
    occurrences at all: three at 0 and one at 65,536 take four bytes a number against pickle's two."""
    postings = defaultdict(list)
    for token in ChineseAnalyzer()(text, positions=True, chars=True, mode="index"):
        postings[token.text].append((token.pos, token.startchar, token.endchar))
    for occurrences in postings.values():
        assert len(CompactCharacters().encode(occurrences)) < len(Characters().encode(occurrences)), occurrences


# -- the writer against Whoosh's own add_document ---------------------------------------------------

text = st.text(alphabet=st.sampled_from(list("联合国宪章中華人民共和國发展經濟的了是在和abcXYZ0123 ，。")), max_size=30)
document = st.tuples(text, text, st.sampled_from(["a", "b", "c"]), st.integers(1, 300), st.sampled_from(["body", "title"]))


def small_schema() -> Schema:
    schema = Schema(words=make_schema()["words"], title=TEXT(analyzer=ChineseAnalyzer(), phrase=False),
                    article_id=ID(stored=True), paragraph=NUMERIC(stored=True, sortable=True), kind=ID(stored=True),
                    text=STORED)
    schema.add("meta_*", ID(stored=True), glob=True)  # fields named only by the documents (metadata keys)
    return schema


def everything(ix) -> tuple:
    """Every term's postings with their values, every stored document, every field length."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        postings = {}
        for field, term in reader.all_terms():
            matcher = reader.postings(field, term)
            items = []
            while matcher.is_active():
                # a format without values reads None from a block, '' from inlined postings
                items.append((matcher.id(), matcher.weight(), matcher.value() or None))
                matcher.next()
            info = reader.term_info(field, term)
            postings[field, term] = items, {k: v for k, v in vars(info).items() if k not in ("_offset", "_length", "_inlined")}
        stored = [searcher.stored_fields(n) for n in range(reader.doc_count_all())]
        lengths = [(reader.doc_field_length(n, "words"), reader.doc_field_length(n, "title"))
                   for n in range(reader.doc_count_all())]
        sortable = list(searcher.reader().column_reader("paragraph"))
    return postings, stored, lengths, sortable


@settings(max_examples=40)
@given(st.lists(document, min_size=1, max_size=12), st.integers(1, 30), st.integers(1, 400), st.integers(1, 40),
       st.sampled_from([term_writer.BLOCK_LIMIT, 128, 20]))
def test_the_sorted_writer_writes_what_add_document_writes(tmp_path_factory, docs, copies, budget, batch_size,
                                                           block_limit):
    with mock.patch.object(term_writer, "BLOCK_LIMIT", block_limit):
        sorted_writer_writes_what_add_document_writes(tmp_path_factory, docs, copies, budget, batch_size)


def sorted_writer_writes_what_add_document_writes(tmp_path_factory, docs, copies, budget, batch_size):
    docs = docs * copies  # long posting lists: several blocks (of 20 or 128 postings), compressed
    schema = small_schema()
    # Whoosh's own writer over files of this test's own (a RamStorage keeps its scratch in the
    # system's temp folder under a fixed name, which another run at the same time would share)
    whooshs = FileStorage(str(tmp_path_factory.mktemp("whoosh"))).create_index(schema)
    with whooshs.writer() as writer:
        for words, title, article_id, n, kind in docs:
            writer.add_document(words=words, title=title, article_id=article_id, paragraph=n, kind=kind, text=words,
                                meta_zone=kind + article_id)
    folder = tmp_path_factory.mktemp("sorted")
    ours = SortedSegmentWriter(folder, schema, budget=budget)  # a small budget: several spilled runs
    for first in range(0, len(docs), batch_size):
        batch = []
        for words, title, article_id, n, kind in docs[first : first + batch_size]:
            spans = [(t.text, t.pos, t.startchar, t.endchar)
                     for t in ChineseAnalyzer()(words, positions=True, chars=True, mode="index")]
            batch.append(({"article_id": article_id, "paragraph": n, "kind": kind, "text": words, "title": title,
                           "meta_zone": kind + article_id},
                          {"words": field_items(schema["words"], spans)}))
        ours.add_batch(DocumentBatch.of(schema, first, batch))
    ours.commit()
    assert not list(folder.glob("*.run"))
    mine = whoosh_index.open_dir(str(folder))
    assert everything(mine) == everything(whooshs)


def written(folder: Path, texts: list[str], titles: list[str] | None = None):
    """One paragraph per text (with its title), written by the sorted writer into ``folder``;
    opened with Whoosh."""
    schema = small_schema()
    writer = SortedSegmentWriter(folder, schema)
    rows = []
    for n, text in enumerate(texts):
        spans = [(t.text, t.pos, t.startchar, t.endchar)
                 for t in ChineseAnalyzer()(text, positions=True, chars=True, mode="index")]
        rows.append(({"article_id": f"a{n}", "paragraph": n, "kind": "body", "text": text,
                      "title": titles[n] if titles else "", "meta_zone": "x"},
                     {"words": field_items(schema["words"], spans)}))
    writer.add_batch(DocumentBatch.of(schema, 0, rows))
    writer.commit()
    return whoosh_index.open_dir(str(folder))


def test_short_posting_lists_are_inlined_and_blocks_pickle_bytes_natively(tmp_path):
    """A term of at most INLINE_AT_MOST postings lives in its term info, a longer one in blocks;
    no block body pickles a value as protocol 2 does (a ``_codecs.encode`` call per value)."""
    # 12 postings of 经济: one block, too short to compress
    ix = written(tmp_path, ["联合国"] * INLINE_AT_MOST + ["发展经济"] * 12)
    with ix.reader() as reader:
        assert reader.doc_frequency("words", "联合国") == INLINE_AT_MOST
        assert reader.term_info("words", "联合国").is_inlined()
        assert not reader.term_info("words", "经济").is_inlined()
        assert [m for m in reader.postings("words", "联合国").all_ids()] == list(range(INLINE_AT_MOST))
    assert hits(ix, '"联合国"') and len(hits(ix, '"发展 经济"')) == 12
    postings = b"".join(path.read_bytes() for path in tmp_path.glob("*.pst"))
    assert postings and b"_codecs" not in postings
    ix.close()


def test_whole_weights_in_a_block_are_pickled_as_ints(tmp_path):
    """Weights of 1 and 2 in one pickled block (a field of Whoosh's ``Positions`` format: neither
    ``words`` nor values of one size, which are written in columns) are stored as ints (2 bytes
    each, not a float's 9) and still read back as the weights Whoosh scores."""
    schema = Schema(body=TEXT(analyzer=ChineseAnalyzer()))
    writer = SortedSegmentWriter(tmp_path, schema)
    writer.add_batch(DocumentBatch.of(schema, 0, [({"body": "联合国" * (1 + n % 2)}, {})
                                                  for n in range(INLINE_AT_MOST + 20)]))
    writer.commit()
    ix = whoosh_index.open_dir(str(tmp_path))
    with ix.reader() as reader:
        matcher = reader.postings("body", "联合国")
        weights = []
        while matcher.is_active():
            weights.append(matcher.weight())
            matcher.next()
        assert weights == [1 + n % 2 for n in range(INLINE_AT_MOST + 20)]
        matcher.reset()
        matcher._read_data()
        assert {type(w) for w in matcher._data[1]} == {int}
    ix.close()
