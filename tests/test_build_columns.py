"""The build's postings as numpy columns (search/build/spans.py, search/segment/posting_table.py,
documents.py, block_batches.py, long_lists.py): each vectorised path gives exactly what the
one-at-a-time code it replaces gives, on arbitrary input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search.build import analyse as analyse_stage, spans
from search.match.builder import GramIndexBuilder, WordLists
from search.paragraphs import Article, Paragraph
from search.segment import blocks, block_batches
from search.segment.documents import DocumentBatch, PostingsCollector
from search.segment.posting_table import PostingTable, RunFile
from search.segment.schema import whoosh_values
from search.segment.words_format import CompactCharacters, compact_values, field_items
from search.text import analysis
from search.text.normalize import folds_in_place, normalize_with_spans, skeleton

# text that exercises the analysis: Chinese words and sub-words, both scripts, Latin runs with the
# joiners jieba and rjieba cut apart, full-width forms, combining marks, spaces and controls
ALPHABET = list("联合国宪章中華人民共和國发展經濟的了是在和大学生活动") + list("abcXYZ0123-.+#&_% ，。ＡＢ１é\u0301\u200b\t")
WORDS = ["中华人民共和国", "联合国宪章", "大学生活动", "中華民國", "人民代表大会", "6.8%", "s-300", "COVID-19", " ", "，"]
texts = st.one_of(st.text(alphabet=st.sampled_from(ALPHABET), max_size=40),
                  st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(ALPHABET)), max_size=12).map("".join))
anything = st.text(max_size=30)


@pytest.fixture(scope="module", autouse=True)
def dictionaries():
    analysis.warm_up()
    spans.forget_tokens()


# -- words, a batch at a time ------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(texts, anything), max_size=8))
def test_a_batchs_spans_are_each_paragraphs_original_word_spans(paragraphs):
    found = spans.word_spans([normalize_with_spans(text) for text in paragraphs])
    for p, text in enumerate(paragraphs):
        mine = np.flatnonzero(found.paragraph == p)
        got = [(found.terms[t], o, s, e) for t, o, s, e in zip(found.term[mine].tolist(), found.ordinal[mine].tolist(),
                                                               found.start[mine].tolist(), found.end[mine].tolist())]
        assert got == analysis.original_word_spans(text, subwords=True)[1]
    assert found.terms == sorted(set(found.terms))
    assert found.lengths().tolist() == [len(analysis.original_word_spans(t, subwords=True)[1]) for t in paragraphs]


@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, anything))
def test_remembered_jieba_cuts_give_analysis_tokens(text):
    normalized = normalize_with_spans(text)[0]
    assert spans.cut_tokens(normalized) == analysis.tokens(normalized)
    assert spans.cut_tokens(normalized) == analysis.tokens(normalized)  # remembered now


@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, anything))
def test_folding_in_place_is_read_off_the_normalisation(text):
    normalized, starts, _ = normalize_with_spans(text)
    skeleton_text = skeleton(normalized)
    assert analyse_stage._folds_in_place(text, skeleton_text, starts) == folds_in_place(text, skeleton_text)


number = st.one_of(st.integers(0, 300), st.sampled_from([255, 256, 65535, 65536, -1]),
                   st.integers(-(1 << 30), (1 << 30) - 1))
occurrence = st.tuples(number, number, st.integers(0, 70000)).map(lambda o: (o[0], o[1], o[1] + o[2]))
posting = st.lists(occurrence, min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(posting, max_size=30))
def test_compact_values_are_compact_characters_encodings(postings):
    flat = [o for p in postings for o in p]
    sizes, joined = compact_values([len(p) for p in postings],
                                   *(np.array([o[i] for o in flat], dtype=np.int64) for i in range(3)))
    expected = [CompactCharacters().encode(p) for p in postings]
    assert joined.tobytes() == b"".join(expected)
    assert sizes.tolist() == [len(v) for v in expected]


# -- blocks, many at once ------------------------------------------------------------------------------


def cut_into_blocks(data, count: int) -> list[tuple[int, int]]:
    """Blocks of postings ``0:count``, some left out between them."""
    cuts = sorted(data.draw(st.sets(st.integers(0, count), max_size=6)) | {0, count})
    kept = [(a, b) for a, b in zip(cuts, cuts[1:])]
    return [block for block in kept if data.draw(st.booleans()) or block == kept[0]]


@settings(max_examples=150, deadline=None)
@given(st.lists(posting, min_size=1, max_size=40), st.data())
def test_column_blocks_together_are_each_block_alone(postings, data):
    values = [CompactCharacters().encode(p) for p in postings]
    ids = np.array(sorted(data.draw(st.sets(st.integers(0, (1 << 32) - 1), min_size=len(values),
                                            max_size=len(values)))), dtype=np.uint32)
    weights = np.array([len(p) * data.draw(st.sampled_from([1.0, 1.0, 2.5])) for p in postings], dtype=np.float32)
    sizes = np.array([len(v) for v in values], dtype=np.uint32)
    chosen = cut_into_blocks(data, len(values))
    starts, ends = (np.array(column) for column in zip(*chosen))
    got = block_batches.encode_many(ids, weights, b"".join(values), sizes, starts, ends)
    assert got == [blocks.encode(ids[a:b], weights[a:b], b"".join(values[a:b]), sizes[a:b]) for a, b in chosen]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.sampled_from([1, 4, 8]), st.data())
def test_fixed_blocks_together_are_each_block_alone(count, size, data):
    ids = np.array(sorted(data.draw(st.sets(st.integers(0, (1 << 32) - 1), min_size=count, max_size=count))),
                   dtype=np.uint32)
    weight = st.sampled_from([1.0, 2.0, 7.0, 2.5, 3e7, -1.0])
    weights = np.array(data.draw(st.lists(weight, min_size=count, max_size=count)), dtype=np.float32)
    values = np.frombuffer(data.draw(st.binary(min_size=count * size, max_size=count * size)), dtype=np.uint8)
    chosen = cut_into_blocks(data, count)
    starts, ends = (np.array(column) for column in zip(*chosen))
    got = block_batches.encode_fixed_many(ids, weights, values, size, starts, ends)
    assert got == [blocks.encode_fixed(ids[a:b], weights[a:b], values[a * size : b * size].tobytes(), size)
                   for a, b in chosen]


# -- tables of postings -------------------------------------------------------------------------------

item = st.tuples(st.sampled_from([b"a", b"b", b"ab", b"\x00", b"zz"]), st.integers(1, 3), st.floats(0.5, 3.0, width=32),
                 st.binary(max_size=5))
group = st.tuples(st.sampled_from(["f", "g", "title"]), st.lists(item, max_size=4, unique_by=lambda i: i[0]),
                  st.integers(1, 4), st.integers(0, 9))  # field, items, documents, length


def brute_force(groups: list[tuple[str, list, int, int]]) -> dict:
    """Each key's postings as (document, weight, length, value), in document order."""
    found: dict = {}
    for first, (name, items, documents, length) in groups:
        for doc in range(first, first + documents):
            for term, _, weight, value in items:
                found.setdefault((name, term), []).append((doc, np.float32(weight), length, value))
    return {key: sorted(postings, key=lambda p: p[0]) for key, postings in sorted(found.items())}


def listed(table: PostingTable) -> dict:
    ends = np.cumsum(table.sizes)
    values = table.values.tobytes()
    columns = zip(table.docs.tolist(), table.weights, table.lengths.tolist(), table.sizes.tolist(), ends.tolist())
    postings = [(d, w, n, values[e - s : e]) for d, w, n, s, e in columns]
    out, at = {}, 0
    for key, count in zip(table.keys, table.counts.tolist()):
        out[key] = postings[at : at + count]
        at += count
    return out


def tables_of(batches) -> tuple[list[PostingTable], list]:
    tables, placed, first = [], [], 0
    for batch in batches:
        collector = PostingsCollector()
        for name, items, documents, length in batch:
            collector.add_items(name, items, range(first, first + documents), length)
            placed.append((first, (name, items, documents, length)))
            first += documents
        tables.append(collector.table())
    return tables, placed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(group, max_size=5), max_size=5), st.data())
def test_merged_tables_and_run_ranges_hold_every_keys_postings_in_document_order(tmp_path, batches, data):
    tables, placed = tables_of(batches)
    expected = brute_force(placed)
    merged = PostingTable.merged(tables)
    assert listed(merged) == expected
    run = RunFile(tmp_path / "t.run", merged, sample=data.draw(st.integers(1, 5)))
    keys = sorted(expected)
    cuts = sorted(set(data.draw(st.lists(st.sampled_from(keys), max_size=3)))) if keys else []
    bounds = [None, *cuts, None]
    parts = [run.read(low, high) for low, high in zip(bounds, bounds[1:])]
    assert {k: v for part in parts for k, v in listed(part).items()} == expected
    assert sum(len(part.keys) for part in parts) == len(keys)


# -- a batch of articles against the per-document path ------------------------------------------------

paragraph_text = st.one_of(texts, anything).filter(lambda t: t.strip())


def article_of(n: int, title: str, bodies: list[str], source: str) -> Article:
    paragraphs = tuple(Paragraph(i + 1, "body", text) for i, text in enumerate(bodies))
    return Article(f"a{n}", title, f"x.jsonl:{n}", paragraphs,
                   {"date": "2024-05-0" + str(1 + n % 9), "source": source})


def documents_one_by_one(articles: list[Article]) -> list[tuple[dict, dict]]:
    """The Whoosh documents of ``articles`` as analyse() made them, a paragraph at a time."""
    schema = analyse_stage.cached_schema()
    documents = []
    for article in articles:
        title_items = []
        if article.title:
            title_items = field_items(schema["title"], analysis.original_word_spans(article.title, subwords=True)[1])
        meta_values, meta_items = whoosh_values(dict(article.metadata), analyse_stage.own_fields())
        for n, paragraph in enumerate(article.paragraphs, start=1):
            normalized, word_spans = analysis.original_word_spans(paragraph.text, subwords=True)
            documents.append(({"article_id": article.id, "paragraph": n, "kind": paragraph.kind, "text": paragraph.text,
                               "skeleton": skeleton(normalized), **meta_values},
                              {"words": field_items(schema["words"], word_spans), "title": title_items, **meta_items}))
    return documents


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.one_of(texts, st.just("")), st.lists(paragraph_text, min_size=1, max_size=4),
                          st.sampled_from(["总统府", "CCTV"])), min_size=1, max_size=5), st.integers(0, 9))
def test_a_batch_analysed_together_is_the_documents_one_by_one(articles, first):
    articles = [article_of(n, title, bodies, source) for n, (title, bodies, source) in enumerate(articles)]
    spans.forget_tokens()
    analyses, batch = analyse_stage.analyse_batch(articles, first)
    expected = DocumentBatch.of(analyse_stage.cached_schema(), first, documents_one_by_one(articles))
    assert batch.stored == expected.stored
    assert listed(batch.postings) == listed(expected.postings)
    gid = 0
    for article, analysed_article in zip(articles, analyses):
        counts, words = analysed_article.words.part()
        at = 0
        for paragraph, count in zip(article.paragraphs, counts.tolist()):
            normalized = analysis.original_word_spans(paragraph.text, subwords=True)[1]
            assert [analysed_article.words.terms[w] for w in words[at : at + count].tolist()] == \
                sorted({word for word, _, _, _ in normalized if "\n" not in word})
            at += count
            gid += 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.lists(st.sampled_from(["联合", "国", "a\nb", "发展", "z"]), unique=True, max_size=3),
                         min_size=1, max_size=3), min_size=1, max_size=6), st.integers(5, 40))
def test_word_lists_give_the_match_index_what_words_a_paragraph_at_a_time_give(tmp_path_factory, articles, block):
    """The same files, whether each paragraph's words come with it or each article's as index
    arrays into a batch's terms (split across blocks of the index as they fall)."""
    terms = sorted({w for article in articles for words in article for w in words})
    folders = []
    for batched in (False, True):
        folder = tmp_path_factory.mktemp("grams")
        builder = GramIndexBuilder(folder, block_chars=block)
        for n, article in enumerate(articles):
            counts = np.array([len(words) for words in article], dtype=np.uint32)
            ids = np.array([terms.index(w) for words in article for w in sorted(words)], dtype=np.uint32)
            builder.start_article(f"t{n}", WordLists(terms, counts, ids) if batched else None)
            for words in article:
                builder.add_paragraph("联合国发展" * (n + 1), () if batched else [w for w in sorted(words) if "\n" not in w])
        builder.finish()
        folders.append(folder)
    mine, theirs = ({path.name: path.read_bytes() for path in Path(folder).iterdir()} for folder in folders)
    assert mine == theirs
