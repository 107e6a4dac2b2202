"""NEAR and wildcard patterns: the matcher against brute force over arbitrary text, and searches
(totals, matched paragraphs, highlights) against a regex over the normalised texts of a real index.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import example, given, settings, strategies as st

from conftest import index_articles
from search.paragraphs import read_articles
from search.query.highlight import mark
from search.query.near import Near, paired
from search.query.parser import BadQuery, Unit, parse
from search.query.patterns import NoLiteral, read_pattern
from search.query.searcher import Searcher
from search.text.normalize import fold

ENDS = "。!?;"


def oracle_regex(pattern_text: str) -> str:
    """The pattern as a regex, written here independently of search.query.patterns."""
    out, i = [], 0
    while i < len(pattern_text):
        c = pattern_text[i]
        if c == "\\" and i + 1 < len(pattern_text) and pattern_text[i + 1] in "?*":
            out.append(re.escape(pattern_text[i + 1]))
            i += 2
            continue
        out.append(f"[^{ENDS}]" if c == "?" else f"[^{ENDS}]{{0,10}}" if c == "*" else re.escape(c))
        i += 1
    return "".join(out)


def brute_scan(regex: str, text: str) -> list[tuple[int, int]]:
    """Leftmost start, then the shortest match from it, then on from its end: every (i, j) tried."""
    found, i = [], 0
    while i < len(text):
        end = next((j for j in range(i + 1, len(text) + 1) if re.fullmatch(regex, text[i:j])), None)
        if end is None:
            i += 1
        else:
            found.append((i, end))
            i = end
    return found


def brute_find(text: str, key: str) -> list[tuple[int, int]]:
    return [(i, i + len(key)) for i in range(len(text) - len(key) + 1) if text[i:i + len(key)] == key]


def brute_near(left: list, right: list, distance: int) -> list[tuple[int, int]]:
    def gap(a, b):
        return max(0, b[0] - a[1], a[0] - b[1])

    keep = {a for a in left for b in right if a != b and gap(a, b) <= distance}
    keep |= {b for b in right for a in left if a != b and gap(a, b) <= distance}
    return sorted(keep)


ALPHABET = "中国美合作把给书我。!?;，的 ab"
texts = st.text(alphabet=ALPHABET, max_size=60)
pattern_texts = st.text(alphabet="中国合作把给?*a", min_size=1, max_size=8)


@given(text=texts, written=pattern_texts)
@settings(max_examples=1000, deadline=None)
@example(text="把书给我把他的笔给了", written="把*给")
@example(text="a把b给c给d给", written="a*给*给")
@example(text="ab" * 8 + "。ab", written="a*b*b?")
@example(text="中中合作", written="中?合作")
def test_pattern_matches_are_leftmost_shortest_and_do_not_overlap(text, written):
    try:
        pattern, _ = read_pattern(written)
    except NoLiteral:
        assert not re.sub(r"[?*]", "", written)
        return
    if pattern is None:
        assert "?" not in written and "*" not in written
        return
    skeleton = text.replace(" ", "")
    assert pattern.occurrences(skeleton) == brute_scan(oracle_regex(written), skeleton)
    assert pattern.counts([skeleton, skeleton]) == [len(brute_scan(oracle_regex(written), skeleton))] * 2


@given(written=st.text(max_size=30))
@settings(max_examples=300, deadline=None)
@example(written="\\?\\*?")
@example(written="？＊")
def test_any_phrase_reads_as_a_pattern_or_text_or_says_it_has_no_literal(written):
    from search.text.normalize import normalize

    try:
        pattern, text = read_pattern(normalize(written))
    except NoLiteral:
        return
    if pattern is not None:
        assert pattern.pieces and all(pattern.pieces)
        assert read_pattern(pattern.display)[0] == pattern  # what it shows reads back the same
        pattern.occurrences(normalize(written))  # and it runs over any text
    else:
        assert "?" not in text.replace("\\?", "") or "\\" in written


def test_escaped_wildcards_are_literal_and_full_width_ones_are_operators():
    assert parse('"中\\?国"').groups[0][0].pattern is None and parse('"中\\?国"').groups[0][0].key == "中?国"
    assert parse('"中？国"').groups[0][0].pattern == parse('"中?国"').groups[0][0].pattern
    assert parse('"中＊国"').groups[0][0].pattern.display == "中*国"
    assert parse("中?国").groups[0][0].pattern is None  # outside quotes: plain text


@pytest.mark.parametrize("q", ['"?"', '"**"', '"? *"', '"？"'])
def test_a_pattern_without_a_literal_is_a_bad_query(q):
    with pytest.raises(BadQuery, match="no character"):
        parse(q)


spans = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 6)).map(lambda t: (t[0], t[0] + t[1])),
                 max_size=8, unique=True).map(sorted)


@given(left=spans, right=spans, distance=st.integers(0, 12))
@settings(max_examples=400, deadline=None)
def test_near_pairs_against_every_pair(left, right, distance):
    got = sorted(set(paired(left, right, distance)) | set(paired(right, left, distance)))
    assert got == brute_near(left, right, distance)


@given(text=texts, a=st.sampled_from(["中国", "美", "合作", "a"]), b=st.sampled_from(["美", "合作", "把", "中国"]),
       distance=st.integers(0, 12))
@settings(max_examples=300, deadline=None)
def test_near_occurrences_over_arbitrary_text(text, a, b, distance):
    skeleton = text.replace(" ", "")
    unit = lambda key: Unit(key=key, normalized=key, phrase=False)  # noqa: E731
    near = Near((unit(a),), (unit(b),), distance)
    assert near.occurrences(skeleton) == brute_near(brute_find(skeleton, a), brute_find(skeleton, b), distance)


def test_near_syntax_binds_tighter_than_and_or():
    parsed = parse("x OR a NEAR/3 b c")
    assert [[u.key for u in g] for g in parsed.groups] == [["x", "a NEAR/3 b"], ["c"]]
    assert parse("a NEAR b").groups[0][0].distance == 10
    assert [u.key for g in parse("a NEAR b NEAR c").groups for u in g] == ["a NEAR/10 b", "b NEAR/10 c"]
    assert parse("-a NEAR b").groups == () and parse("-a NEAR b").excluded[0].key == "a NEAR/10 b"
    assert [u.key for g in parse('a ＮＥＡＲ/2 "b c"').groups for u in g] == ['a NEAR/2 "bc"']


@pytest.mark.parametrize("q, keys", [("NEAR", ["near"]), ("a NEAR", ["a", "near"]), ("NEAR b", ["near", "b"]),
                                     ("a NEAR OR b", ["a", "near", "b"]), ("a NEAR/ b", ["a", "near/", "b"]),
                                     ("title:a NEAR b", ["a", "near", "b"])])
def test_stray_near_is_searched_literally(q, keys):
    assert [u.key for g in parse(q).groups for u in g] == keys


def test_near_distance_out_of_range_is_a_bad_query():
    with pytest.raises(BadQuery, match="0 to 100"):
        parse("a NEAR/101 b")


# --- searches against brute force over a real index ------------------------------------------


def _corpus() -> dict[str, str]:
    rng = random.Random(7)
    words = ["中国", "美国", "合作", "把", "给", "书", "我们", "的", "。", "，", "！", "哈哈", "中美", "經濟", " ",
             "Ａ", "b"]
    return {f"doc{i}": "\n".join([f"标题{i}"] + ["".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
                                                  for _ in range(rng.randint(1, 6))]) for i in range(60)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    articles = _corpus()
    settings_ = index_articles(tmp_path_factory.mktemp("operators"), articles)
    searcher = Searcher(settings_)
    paragraphs = [(article.id, p.n, p.text) for article in read_articles(settings_.seeds_dir, lambda problem: None)
                  for p in article.paragraphs]
    yield searcher, paragraphs
    searcher.close()


def expected_highlight(text: str, spans_of) -> str | None:
    folded = fold(text)
    found = spans_of(folded.skeleton)
    if not found:
        return None
    merged: list[list[int]] = []
    for start, end in sorted(folded.original_span(s, e) for s, e in found):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return mark(text, [tuple(m) for m in merged])


def every_hit(searcher, q):
    result = searcher.search(q, size=100)
    hits = list(result["hits"])
    page = 2
    while len(hits) < result["total"]:
        hits += searcher.search(q, page=page, size=100)["hits"]
        page += 1
    return result["total"], {(h["article_id"], h["paragraph"]): h["highlight"] for h in hits}


PATTERNS = ['"中?合作"', '"把*给"', '"我们*的"', '"中国*美国*合作"', '"*合作"', '"哈?"', '"经济*。"', '"a*b"',
            '"给?"', '"把 * 给"']


@pytest.mark.parametrize("q", PATTERNS)
def test_pattern_search_finds_and_marks_what_a_regex_over_the_normalised_texts_finds(built, q):
    searcher, paragraphs = built
    regex = oracle_regex(re.sub(r"\s", "", q.strip("\"")))
    expected = {}
    for aid, n, text in paragraphs:
        highlight = expected_highlight(text, lambda skel: brute_scan(regex, skel))
        if highlight is not None:
            expected[(aid, n)] = highlight
    total, got = every_hit(searcher, q)
    assert total == len(expected) and got == expected


NEARS = [("中国", "美国", 0), ("中国", "美国", 3), ("合作", "把", 10), ("给", "书", 1), ("哈哈", "哈哈", 2),
         ("经济", "中美", 5), ("我们", "中国", 100)]


@pytest.mark.parametrize("a, b, distance", NEARS)
def test_near_search_finds_and_marks_the_pairs_a_brute_force_finds(built, a, b, distance):
    searcher, paragraphs = built
    expected = {}
    for aid, n, text in paragraphs:
        highlight = expected_highlight(
            text, lambda skel: brute_near(brute_find(skel, a), brute_find(skel, b), distance))
        if highlight is not None:
            expected[(aid, n)] = highlight
    total, got = every_hit(searcher, f"{a} NEAR/{distance} {b}")
    assert expected and total == len(expected) and got == expected


def test_near_and_patterns_combine_with_and_or_not_and_explain(built):
    searcher, _ = built
    both = every_hit(searcher, '中国 NEAR/3 美国 "把*给"')[1]
    near = every_hit(searcher, "中国 NEAR/3 美国")[1]
    pattern = every_hit(searcher, '"把*给"')[1]
    assert set(both) == set(near) & set(pattern)
    without = every_hit(searcher, '中国 NEAR/3 美国 -"把*给"')[1]
    assert set(without) == set(near) - set(pattern)
    either = every_hit(searcher, '"把*给" OR 中国 NEAR/3 美国')[1]
    assert set(either) == set(near) | set(pattern)
    hit = searcher.search('"把*给"', size=1, explain=True)["hits"][0]
    (term,) = hit["explain"]["terms"]
    assert term["term"] == "把*给" and term["match"] == "substring" and term["occurrences"]
    facets = searcher.search("中国 NEAR/3 美国", size=1, group="article")
    assert facets["total"] == len(near) and facets["articles"] == len({aid for aid, _ in near})
