"""Did-you-mean (issue #11, part 4): pinyin typos, swaps and Latin misspellings are corrected from
the index's own words; every suggestion finds something; a query that finds things gets none."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import islice

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import failing_on, index_articles
from search.formats import pinyin_index
from search.formats.layout import VOCABULARY
from search.formats.pinyin_index import MAX_SPAN, PinyinIndex
from search.query import suggest
from search.query.live import IndexMissing
from search.query.parser import parse
from search.query.searcher import Searcher
from search.query.suggest import PinyinCorrector, Suggester, Vocabulary, WordList, _replace_term, correct_term
from search.text.pinyin import readings, spelling_key, spellings as _spellings

ARTICLES = {
    "un": "联合国安理会召开会议\n联合国安理会今天召开紧急会议，讨论地区局势。\n多个大型国际组织派代表出席。\n",
    "fruit": "苹果丰收\n今年的苹果产量创新高，果农向银行贷款扩建了冷库。\n上海的超市里也能买到，Shanghai 的客商也来了。\n",
}


def vocabulary(counts: dict[str, int], documents: int = 1000) -> Vocabulary:
    return Vocabulary.from_counts(counts, documents)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    found = Searcher(index_articles(tmp_path_factory.mktemp("suggest"), ARTICLES))
    yield found
    found.close()


# -- the corrector on its own ----------------------------------------------------------------------

SMALL = vocabulary({"联合国": 50, "联合": 80, "国": 300, "苹果": 20, "平": 40, "果": 30, "大型": 40,
                    "达": 10, "型": 5, "银行": 30, "事实": 100, "史实": 2, "实施": 60})


@pytest.mark.parametrize("typo,meant", [
    ("联和国", "联合国"),  # homophone, same tone
    ("平果", "苹果"),
    ("答型", "大型"),  # toneless: dá for dà
    ("合联国", "联合国"),  # two characters swapped
    ("联国合", "联合国"),
    ("银航", "银行"),  # 行 read háng, not its commoner xíng
])
def test_a_typo_is_corrected_to_the_word_it_sounds_like(typo, meant):
    corrector = PinyinCorrector(SMALL)
    assert corrector.suggest(typo, limit=3)[0] == meant  # the Whoosh Corrector interface
    assert correct_term(typo, corrector)[0][1] == meant


def test_the_more_frequent_homophone_ranks_first():
    corrector = PinyinCorrector(SMALL)
    ranked = [word for _, word in correct_term("是实", corrector, 5)]
    assert ranked.index("事实") < ranked.index("史实")


def test_a_word_that_sounds_different_is_no_correction():
    assert all(word != "联合国" for _, word in correct_term("联合会", PinyinCorrector(SMALL), 10))


def test_a_latin_term_is_corrected_by_edit_distance():
    latin = vocabulary({"shanghai": 10, "beijing": 10, "shang": 1})
    assert correct_term("shanghia", PinyinCorrector(latin))[0][1] == "shanghai"


@settings(max_examples=150)
@given(st.text(max_size=20))
def test_correcting_any_text_gives_other_texts_best_first(text):
    corrections = correct_term(text, PinyinCorrector(SMALL), 4)
    assert len(corrections) <= 4
    assert all(fixed != text and fixed for _, fixed in corrections)
    scores = [score for score, _ in corrections]
    assert scores == sorted(scores, reverse=True)


@given(st.lists(st.text(max_size=6), max_size=30))
def test_a_word_list_holds_its_words(words):
    listed = WordList(words)
    assert list(listed) == words and len(listed) == len(words)
    assert [listed[i] for i in range(len(words))] == words
    if words:
        assert listed[-1] == words[-1]
    with pytest.raises(IndexError):
        listed[len(words)]


def test_the_vocabulary_comes_from_the_whoosh_lexicon(searcher):
    reader = searcher._current().whoosh.reader()
    words = Vocabulary.from_whoosh(reader)
    assert list(words.words) == [term.decode("utf-8") for term in reader.lexicon("words")]
    assert "联合国" in list(words.words) and words.frequency("联合国") == reader.doc_frequency("words", "联合国") == 2
    assert words.frequency("不在词表里") == 0
    assert words.edit_corrector.suggest("shanghia", maxdist=2, prefix=1) == ["shanghai"]


@given(st.characters() | st.sampled_from("欸誒"))
def test_readings_of_any_character(char):
    toneless, toned = readings(char)
    assert all(r.isalpha() and r == r.lower() for r in toneless)  # ASCII but for ê (欸, 誒)
    assert set(toneless) == {r.rstrip("012345") for r in toned}


@pytest.mark.parametrize("q,term,fixed,expected", [
    ("联和国", "联和国", "联合国", "联合国"),
    ("联和国 安理会", "联和国", "联合国", "联合国 安理会"),
    ('"联和 国" -银行', '"联和国"', "联合国", '"联合国" -银行'),
    ("title:平果  OR 苹果", "title:平果", "苹果", "title:苹果  OR 苹果"),
    ("平果平果", "平果", "苹果", None),  # no token is the term
    ('"平果"', "平果", "苹果", None),  # the phrase is not the word
])
def test_a_term_is_replaced_where_it_stands_in_the_query(q, term, fixed, expected):
    (unit,) = parse(term).groups[0]
    assert _replace_term(q, unit, fixed) == expected


# -- through the searcher --------------------------------------------------------------------------

@pytest.mark.parametrize("typo,meant", [
    ("联和国", "联合国"),
    ("平果", "苹果"),
    ("答型", "大型"),
    ("合联国", "联合国"),
    ("银航", "银行"),
    ("联合国安理汇", "联合国安理会"),
    ("shanghia", "shanghai"),
    ("聯和國", "联合国"),  # typed in Traditional
    ("联和国 安理会", "联合国 安理会"),
    ("联和国 安理汇", "联合国 安理会"),  # two terms, each corrected
    ('"联和国" -银行', '"联合国" -银行'),
    ("title:平果", "title:苹果"),
])
def test_a_query_that_finds_nothing_suggests_the_meant_query(searcher, typo, meant):
    result = searcher.search(typo)
    assert result["total"] == 0
    assert result["suggestions"][0] == meant
    for suggestion in result["suggestions"]:
        assert searcher.search(suggestion)["total"] > 0


@pytest.mark.parametrize("q", ["联合国", "苹果 OR 联和国", "大型", "shanghai", ""])
def test_a_query_that_finds_something_has_no_suggestions(searcher, q):
    result = searcher.search(q)
    assert result["suggestions"] == []
    assert result["total"] > 0 or not q


@pytest.mark.parametrize("q", ["䶵䶴䶳", "联合国 苹果", "联合国 -安理会", "zzzzqqqq",
                               "联和国 平果 答型 银航"])
def test_nothing_to_suggest_is_an_empty_list(searcher, q):
    """No sound-alike word, terms that each find something but not together, or too many typos."""
    result = searcher.search(q)
    assert result["total"] == 0 and result["suggestions"] == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
def test_every_suggestion_for_any_query_finds_something(searcher, q):
    result = searcher.search(q)
    assert isinstance(result["suggestions"], list)
    if result["total"]:
        assert result["suggestions"] == []
    for suggestion in result["suggestions"]:
        assert searcher.search(suggestion)["total"] > 0


def test_the_corrector_is_made_only_for_a_query_that_finds_nothing(tmp_path):
    found = Searcher(index_articles(tmp_path, ARTICLES))
    assert found.search("联合国")["total"]
    live = found._current()
    assert live.suggester._corrector is None  # the normal search path never builds it
    assert found.search("联和国")["suggestions"] == ["联合国"]
    assert live.suggester._corrector is not None
    found.close()


def test_the_suggester_makes_its_corrector_once():
    calls = []

    def corrector_once():
        calls.append(1)
        return PinyinCorrector(SMALL)

    suggester = Suggester(corrector_once)
    for typo in ("联和国", "平果"):
        suggestions = suggester.suggest(typo, parse(typo), unit_finds=lambda unit: unit.key in SMALL.words,
                                        query_finds=lambda q: q in SMALL.words)
        assert suggestions and suggestions[0] in SMALL.words
    assert calls == [1]


# -- the pinyin index, built with the index ------------------------------------------------------

def test_the_pinyin_index_is_built_with_the_index_and_mapped_by_the_searcher(tmp_path, monkeypatch):
    settings = index_articles(tmp_path, ARTICLES)
    found = Searcher(settings)
    live = found._current()
    folder = live.build / VOCABULARY
    assert (folder / PinyinIndex.KEYS).is_file() and (folder / PinyinIndex.WORDS).is_file()

    def no_building(words):
        raise AssertionError("the searcher worked out the vocabulary's pinyin itself")

    monkeypatch.setattr(PinyinIndex, "of_words", no_building)
    assert found.search("联和国")["suggestions"] == ["联合国"]
    index = live.suggester.corrector.index
    for array in (index.keys, index.words):  # views of the mapped files, shared by every worker
        assert not array.flags.writeable and not array.flags.owndata
    reader = live.whoosh.reader()
    assert list(live.suggester.corrector.vocabulary.words) == [t.decode("utf-8") for t in reader.lexicon("words")]
    found.close()


def test_a_word_whose_pinyin_fails_is_reported_and_the_build_goes_on(tmp_path, monkeypatch):
    real = pinyin_index.spellings
    monkeypatch.setattr(pinyin_index, "spellings", failing_on(real, "银"))
    problems = []
    settings = index_articles(tmp_path, ARTICLES, report=problems.append)
    assert problems and all("银" in p.reason and not p.fatal and p.path.endswith("words.txt") for p in problems)
    monkeypatch.setattr(pinyin_index, "spellings", real)
    found = Searcher(settings)
    assert found.search("银行")["total"] and found.search("联和国")["suggestions"] == ["联合国"]
    assert found.search("银航")["suggestions"] == []  # 银行 was left out of the pinyin index
    words = found._current().lexicon
    assert all("银" in words[problem.line - 1] for problem in problems)  # the line of words.txt named
    found.close()


def test_a_build_without_its_pinyin_index_is_not_opened(tmp_path):
    settings = index_articles(tmp_path, ARTICLES)
    first = Searcher(settings)
    build = first._current().build
    first.close()
    (build / VOCABULARY / PinyinIndex.KEYS).unlink()
    with pytest.raises(IndexMissing, match="cannot be opened"):
        Searcher(settings).search("联和国")


def test_spelling_keys_are_the_same_in_every_process():
    """The keys are written with the index and looked up by other processes: Python's salted
    ``hash`` of a string would differ from one process to the next."""
    script = "from search.text.pinyin import spelling_key; print(spelling_key(('lian', 'he', 'guo')), hash('lian'))"
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.split() for seed in ("1", "2")]
    assert runs[0][1] != runs[1][1]  # the processes' own string hashes differ...
    assert runs[0][0] == runs[1][0] == str(spelling_key(("lian", "he", "guo")))  # ...the keys do not


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.sampled_from("欸誒")  # 欸: the reading ê


@settings(max_examples=60)
@given(st.lists(st.text(alphabet=_HAN | st.characters(), min_size=1, max_size=MAX_SPAN + 1), max_size=12, unique=True))
@example(words=["欸乃", "誒"])  # readings that are not ASCII: an index of the whole president corpus met them
def test_a_saved_pinyin_index_finds_what_the_one_in_memory_finds(tmp_path_factory, words):
    words = sorted(words)
    built = PinyinIndex.of_words(words)
    folder = tmp_path_factory.mktemp("pinyin")
    built.save(folder)
    loaded = PinyinIndex.load(folder)
    for i, word in enumerate(words):
        spellings = list(islice(_spellings(word), 64))  # heteronyms multiply: a few are enough
        assert loaded.spelled(spellings) == built.spelled(spellings)
        if spellings and len(word) <= MAX_SPAN:  # a word with a reading is found by its own spelling
            assert i in loaded.spelled(spellings[:1])


@settings(max_examples=300)
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(['"', "-", "title:", "OR", "NOT", '"联和国"', "联和国",
                                                                 'a"b', "\x1b", "title:联和国"])),
                max_size=6).map(" ".join))
@example("0\x1b0")  # a control character separates two terms, as the parser reads it
@example('a" 联和国 "b')
def test_a_suggestion_replaces_the_term_the_parser_read(q):
    """Each term of any query can be replaced in its text, and the query then reads the
    replacement where the term was."""
    for group in parse(q).groups:
        for unit in group:
            if unit.key in ("or", "and", "not"):
                continue  # an operator's word read as a term: replacing it changes how its neighbours read
            replaced = suggest._replace_term(q, unit, "替换")
            assert replaced is not None, unit
            units = [u for g in parse(replaced).groups for u in g]
            assert any((u.key, u.phrase, u.field) == ("替换", unit.phrase, unit.field) for u in units), (replaced, units)
