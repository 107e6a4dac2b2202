"""The query language: AND, OR, NOT/-, phrases, title:, and literal fallbacks."""

import pytest
from hypothesis import given, strategies as st

from search.query.parser import TITLE, BadQuery, filters_with_spans, parse


def keys(parsed):
    return [[u.key for u in group] for group in parsed.groups], [u.key for u in parsed.excluded]


def test_spaces_and_or_and_not():
    assert keys(parse("联合国 安理会 OR 大会 -美国 NOT 英国")) == ([["联合国"], ["安理会", "大会"]], ["美国", "英国"])


def test_phrase_ignores_spaces_inside_and_is_marked_as_phrase():
    (group,) = parse('"联合 国 宪章"').groups
    assert group[0].key == "联合国宪章" and group[0].phrase


def test_title_prefix_restricts_to_titles():
    (group,) = parse("title:夜读").groups
    assert group[0].field == TITLE and group[0].key == "夜读"
    (group,) = parse('title:"城市 夜读"').groups
    assert group[0].field == TITLE and group[0].phrase


@pytest.mark.parametrize(
    "query, expected",
    [
        ('"unbalanced', [['"unbalanced']]),
        ("OR", [["or"]]),
        ("a OR", [["a"], ["or"]]),
        ("NOT", [["not"]]),
        ("-", [["-"]]),
        ("foo:bar", [["foo:bar"]]),
        ("title:", [["title:"]]),
        ("AND OR NOT", [["and"], ["or"], ["not"]]),
    ],
)
def test_stray_syntax_is_searched_literally(query, expected):
    assert keys(parse(query))[0] == expected


def test_full_width_query_syntax_is_understood():
    assert keys(parse("ＯＲ ｔｉｔｌｅ：联合")) == ([["or"], ["联合"]], [])
    assert parse("ｔｉｔｌｅ：联合").groups[0][0].field == TITLE


def test_full_width_minus_and_quote_are_literal_text():
    assert keys(parse("－１２３ ＂联合国")) == ([["-123"], ['"联合国']], [])


def test_traditional_query_is_normalised():
    assert keys(parse("聯合國"))[0] == [["联合国"]]


def test_limits_raise_bad_query_naming_the_limit():
    with pytest.raises(BadQuery, match="256"):
        parse("国" * 300)
    with pytest.raises(BadQuery, match="16"):
        parse(" ".join(f"词{i}" for i in range(20)))


def test_empty_and_blank_queries_are_empty():
    assert parse("").is_empty and parse("  \u200b ").is_empty and parse('""').is_empty


@given(st.text(max_size=80))
def test_any_text_parses_without_error(text):
    parsed = parse(text, max_chars=1000, max_terms=1000)
    for group in parsed.groups:
        for unit in group:
            assert unit.key and " " not in unit.key


def test_no_printable_character_is_a_control_or_format_character():
    """parse() takes a printable query (str.isprintable) as it is: it has nothing to blank out."""
    import sys
    import unicodedata

    assert [hex(code) for code in range(sys.maxunicode + 1)
            if chr(code).isprintable() and unicodedata.category(chr(code)) in ("Cc", "Cf")] == []


@given(st.characters(categories=("Cc", "Cf")), st.text(min_size=1))
def test_control_and_format_characters_separate_words(separator, word):
    """A control or format character between two words splits them, as a space does (and a query
    of too many terms, or too long, is refused alike: one character for one, the same length)."""

    def outcome(query):
        try:
            return keys(parse(query))
        except BadQuery as refused:
            return str(refused)

    assert outcome(f"{word}{separator}{word}") == outcome(f"{word} {word}")


FILTER_KEYS = frozenset({"source", "date"})
QUERY_PIECES = st.one_of(st.text(max_size=8), st.sampled_from(
    ['source:"a b"', "-source:x", "date:2024", "date:2023..", "date:99", '"', "-", "NOT", "title:", "\x00", "Source：y"]))


@given(st.lists(QUERY_PIECES, max_size=8).map(" ".join))
def test_the_spans_of_filters_are_the_filters_the_search_reads(q):
    """What the page shows as the query's filters (and removes one by one) is what the search
    applies: the same filters, each at a span of the query that parses as that filter alone."""
    found = filters_with_spans(q, FILTER_KEYS)
    assert tuple(dict.fromkeys(f for f, _, _ in found)) == parse(q, filter_keys=FILTER_KEYS, max_chars=10**6, max_terms=10**6).filters
    for f, start, end in found:
        assert parse(q[start:end], filter_keys=FILTER_KEYS).filters == (f,)


def test_a_filter_inside_a_quoted_phrase_is_no_filter():
    q = '" source:"a b" " source:"a b"'  # the quotes pair up as '" source:"' and '" "'
    assert filters_with_spans(q, FILTER_KEYS) == [] and parse(q, filter_keys=FILTER_KEYS).filters == ()
    q = '新闻 -source:"a b" date:2023..'
    assert [q[start:end] for _, start, end in filters_with_spans(q, FILTER_KEYS)] == ['-source:"a b"', "date:2023.."]
