"""As-you-type completions (``GET /api/suggest``, ``zhsearch suggest``) and the pinyin did-you-mean,
checked against brute force over the index's own words and phrases: what begins with the typed
characters, pinyin (whole, partial, initials) or characters then pinyin; counts equal to the
quoted phrase's total; most used first; Traditional input; polyphones read as their word reads
them; the archive's own way of writing each."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from itertools import product

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from conftest import failing_on, index_articles
from search import cli
from search.build import completions as build_completions
from search.build.indexer import build_index
from search.config import Settings
from search.formats.completions import FOLDER, CompletionIndex
from search.formats.layout import GRAMS, VOCABULARY, IndexLayout
from search.match.skeletons import mapped_words
from search.query.completions import MAX_SIZE
from search.query.live import IndexMissing
from search.query.searcher import BadQuery, Searcher
from search.text import analysis, phrase_pinyin
from search.text.normalize import normalize, skeleton
from search.text.pinyin import readings
from search.web.app import create_app

ARTICLES = {
    "bank": "银行行长谈北京经济\n北京的银行行长今天表示，银行业务平稳。\n中国银行在北京举行发布会，银行行长出席。\n"
            "北京市民到银行办理业务，北京的背景音乐很热闹。\n",
    "cq": "重庆火锅节开幕\n重庆的火锅节今天开幕，重庆市民踊跃参加。\n这个箱子很重。行，我们走吧。\n重要的是，重庆和北京都有很多游客。\n",
    "xi": "习近平主席会见外宾\n习近平主席在北京会见外宾。\n习近平主席指出，合作是重要的。\n习近平主席强调行动的意义。\n"
          "行人在北京街头行走，北京行动计划启动。\n",
    "latin": "APEC 会议在北京举行\nAPEC 成员代表出席，APEC 的议程包括贸易。\n代表们讨论了 apec 的未来。\n",
}
TRADITIONAL = {
    "tw": "臺灣經濟展望\n臺灣的經濟今年成長，臺灣銀行表示樂觀。\n颱風過後，臺灣各地恢復正常。\n臺灣民眾關心颱風動向。\n",
    "tw2": "總統府新聞\n總統今天在臺灣各地視察，臺灣的民眾歡迎。\n",
}


@pytest.fixture(scope="module")
def settings_(tmp_path_factory):
    return index_articles(tmp_path_factory.mktemp("completions"), ARTICLES)


@pytest.fixture(scope="module")
def searcher(settings_):
    found = Searcher(settings_)
    yield found
    found.close()


@pytest.fixture(scope="module")
def index(settings_) -> CompletionIndex:
    build = IndexLayout(settings_.index_dir).current()
    return CompletionIndex(build / FOLDER, mapped_words(build / VOCABULARY))


@pytest.fixture(scope="module")
def paragraphs(searcher):
    live = searcher._current()
    return [live.grams.skeletons[gid] for gid in range(live.grams.count)]


def entries(index: CompletionIndex) -> list[str]:
    return [index.key(entry) for entry in range(len(index))]


def spellings_of(key: str) -> list[tuple[str, ...]]:
    return phrase_pinyin.spellings(key) if any(readings(c)[0] for c in key) else []


def expected(index: CompletionIndex, qualifies, size: int) -> list[dict]:
    """The brute-force answer: every entry that qualifies, most paragraphs first, words before phrases."""
    found = [(-index.count(entry), entry) for entry, key in enumerate(entries(index)) if qualifies(key)]
    return [{"text": index.text(entry), "count": -count} for count, entry in sorted(found)[:size]]


def pinyin_qualifies(head: str, letters: str):
    heads = list(product(*((readings(c)[0] or (c,)) for c in head)))

    def qualifies(key: str) -> bool:
        if not key.startswith(head):
            return False
        for spelled in spellings_of(key):
            joined, initials = "".join(spelled), "".join(s[0] for s in spelled)
            for h in heads:
                if joined.startswith("".join(h) + letters) or initials.startswith("".join(s[0] for s in h) + letters):
                    return True
        return False

    return qualifies


# -- the index: counts, phrases, pinyin -------------------------------------------------------------

def test_every_entry_counts_the_paragraphs_containing_it_as_its_quoted_phrase_totals(searcher, index, paragraphs):
    keys = entries(index)
    assert len(keys) > 50 and len(set(keys)) == len(keys)
    for entry, key in enumerate(keys):
        assert index.count(entry) == sum(key in p for p in paragraphs) > 0, key
    for key in keys[::7] + ["银行行长", "北京"]:
        assert searcher.search(f'"{key}"')["total"] == index.count(keys.index(key)), key


def test_the_build_keeps_no_second_copy_of_the_skeletons(settings_):
    build = IndexLayout(settings_.index_dir).current()
    grams = [folder / GRAMS for folder in build.glob("seg-*")]
    assert grams and not any((g / "units.npy").exists() or (g / "bounds.npy").exists() for g in grams)
    assert (build / FOLDER / "counts.npy").is_file()


def test_frequent_pairs_of_words_are_phrases(index, paragraphs):
    """(A corpus this small is sampled whole.)"""
    seen = Counter()
    for text in paragraphs:
        words = [w for w in analysis.tokens("，".join(re.findall("[\u4e00-\u9fff]+", text)))]
        seen.update({a + b for a, b in zip(words, words[1:])
                     if len(a) > 1 and len(b) > 1 and a.isalpha() and b.isalpha()})
    vocabulary = set(index.words)
    wanted = {pair for pair, times in seen.items() if times >= build_completions.MIN_SAMPLED and pair not in vocabulary
              and sum(pair in p for p in paragraphs) >= build_completions.MIN_PHRASE_PARAGRAPHS}
    phrases = [index.key(entry) for entry in range(len(index.words), len(index))]
    assert "习近平主席" in phrases and phrases == sorted(wanted)


def test_the_spellings_are_the_entries_pinyin(index):
    rows = {(index.spellings[i], int(index.spelling_entries[i])) for i in range(len(index.spellings))}
    assert rows == {("".join(s), entry) for entry, key in enumerate(entries(index)) for s in spellings_of(key)}
    initials = {(index.initials[i], int(index.initial_entries[i])) for i in range(len(index.initials))}
    assert initials == {("".join(x[0] for x in s), entry) for entry, key in enumerate(entries(index))
                        for s in spellings_of(key)}


# -- completions against brute force ------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["北", "北京", "银", "银行", "重", "习", "行", "apec", "a", "会", "北京市", "无此词"])
def test_characters_complete_to_what_begins_with_them(searcher, index, typed):
    text = skeleton(normalize(typed))
    assert searcher.complete(typed, 8)["suggestions"] == expected(index, lambda key: key.startswith(text), 8)


@pytest.mark.parametrize("typed", ["beijing", "beij", "bj", "bei", "b", "yinh", "yinhang", "xjp", "xijinping",
                                   "chongq", "zhongq", "hang", "xing", "hzs", "yhhz", "zz", "xiang", "qqq"])
def test_pinyin_completes_whole_partial_and_initials(searcher, index, typed):
    plain = lambda key: key.startswith(typed)  # noqa: E731
    spelled = pinyin_qualifies("", typed)
    assert searcher.complete(typed, 10)["suggestions"] == expected(index, lambda k: plain(k) or spelled(k), 10)


@pytest.mark.parametrize("typed", ["北j", "北京s", "银h", "重q", "习j", "习jp", "行d", "北jing", "中y"])
def test_characters_then_pinyin(searcher, index, typed):
    head, letters = typed.rstrip("abcdefghijklmnopqrstuvwxyz"), typed.lstrip("北京银重习行中")
    spelled = pinyin_qualifies(head, letters)
    assert searcher.complete(typed, 10)["suggestions"] == expected(
        index, lambda key: key.startswith(typed) or spelled(key), 10)


def test_beij_offers_beijing_first_and_beijing_the_word_and_its_homophone(searcher):
    found = [s["text"] for s in searcher.complete("beij", 8)["suggestions"]]
    assert found[0] == "北京" and "背景" in found


def test_the_list_is_most_used_first_and_at_most_size_long(searcher):
    for typed in ("北", "b", "x", "银", "h"):
        for size in (1, 3, 20):
            found = searcher.complete(typed, size)["suggestions"]
            counts = [s["count"] for s in found]
            assert len(found) <= size and counts == sorted(counts, reverse=True)


def test_a_polyphone_is_read_as_its_word_reads_it(searcher):
    def texts(typed):
        return [s["text"] for s in searcher.complete(typed, 20)["suggestions"]]

    assert "银行" in texts("yinh") and "银行" not in texts("yinx")
    assert "重庆" in texts("chongq") and "重庆" not in texts("zhongq")
    assert "重要" in texts("zhongy")
    assert "行长" in texts("hangzh") and "行长" not in texts("xingzh")
    assert "行动" in texts("xingd") and "行动" not in texts("hangd")
    # a lone character in every reading
    assert "行" in texts("hang") and "行" in texts("xing") and "重" in texts("chong") and "重" in texts("zhong")


def test_a_polyphone_reading_is_the_phrase_dictionarys():
    assert phrase_pinyin.spellings("银行") == [("yin", "hang")]
    assert phrase_pinyin.spellings("重庆") == [("chong", "qing")]
    assert phrase_pinyin.spellings("中国银行行长") == [("zhong", "guo", "yin", "hang", "hang", "zhang")]
    assert ("xing",) in phrase_pinyin.spellings("行") and ("hang",) in phrase_pinyin.spellings("行")
    assert phrase_pinyin.toneless("lǜ") == "lv" and phrase_pinyin.toneless("ê̄") == "ê"


def test_traditional_input_completes_as_simplified(searcher):
    assert searcher.complete("銀行", 8) == {**searcher.complete("银行", 8), "query": "銀行"}
    assert searcher.complete("重慶", 8)["suggestions"] == searcher.complete("重庆", 8)["suggestions"]
    assert searcher.complete("ＢＥＩＪ", 8)["suggestions"] == searcher.complete("beij", 8)["suggestions"]
    # spaces go, as in a phrase
    assert searcher.complete(" 北 京\u3000", 8)["suggestions"] == searcher.complete("北京", 8)["suggestions"]
    assert searcher.complete("bei j", 8)["suggestions"] == searcher.complete("beij", 8)["suggestions"]


def test_latin_is_written_as_the_archive_most_often_writes_it(searcher):
    assert searcher.complete("ape", 8)["suggestions"] == [{"text": "APEC", "count": 3}]


@pytest.fixture(scope="module")
def traditional(tmp_path_factory):
    found = Searcher(index_articles(tmp_path_factory.mktemp("traditional"), TRADITIONAL))
    yield found
    found.close()


def test_the_archives_characters_are_kept(traditional, searcher):
    texts = [s["text"] for s in traditional.complete("台", 8)["suggestions"]]
    assert texts[0] == "臺灣" and "颱風" in texts  # 台 most often 臺 here, but 颱 in 颱風
    assert traditional.complete("taiw", 8)["suggestions"][0] == {"text": "臺灣", "count": 5}
    assert searcher.complete("台", 8)["suggestions"] == []  # the other archive has no 台


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80) | st.text(alphabet="北京银行重庆习近平abcdefghijklmnopqrstuvwxyzü' 臺灣", max_size=12),
       st.integers(min_value=1, max_value=MAX_SIZE))
@example("x" * 5000, 20)
@example("\x00\ud800", 1)
def test_any_text_is_answered(searcher, typed, size):
    found = searcher.complete(typed, size)
    assert found["query"] == typed and len(found["suggestions"]) <= size
    assert all(isinstance(s["text"], str) and s["count"] > 0 for s in found["suggestions"])


def test_size_out_of_range_is_refused(searcher):
    for size in (0, MAX_SIZE + 1, -1):
        with pytest.raises(BadQuery):
            searcher.complete("北", size)


# -- the API and the command line ------------------------------------------------------------------------

def test_the_api_answers_completions_and_refuses_a_bad_size(settings_, searcher):
    from falcon import testing

    client = testing.TestClient(create_app(settings_))
    response = client.simulate_get("/api/suggest", params={"q": "beij", "size": "3"})
    assert response.status_code == 200
    assert response.json == {"query": "beij", "suggestions": searcher.complete("beij", 3)["suggestions"]}
    plain = client.simulate_get("/api/suggest", params={"q": "北"}).json
    assert plain["suggestions"] == searcher.complete("北", 8)["suggestions"]
    for size in ("0", "21", "x", ""):
        response = client.simulate_get("/api/suggest", params={"q": "北", "size": size})
        assert response.status_code == 400 and set(response.json) == {"title", "description"}
    assert client.simulate_get("/api/suggest").json == {"query": "", "suggestions": []}


def test_the_command_line_prints_the_same(settings_, searcher, capsys):
    env = {"ZHSEARCH_INDEX": str(settings_.index_dir)}
    assert cli.main(["suggest", "--json", "--size", "5", "bj"], env) == 0
    assert json.loads(capsys.readouterr().out) == searcher.complete("bj", 5)
    assert cli.main(["suggest", "北京"], env) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{s['text']}\t{s['count']}" for s in searcher.complete("北京", 8)["suggestions"]]
    assert cli.main(["suggest", "--size", "0", "北"], env) == 1


# -- did-you-mean in pinyin ---------------------------------------------------------------------------------

def test_pinyin_that_finds_nothing_suggests_the_words_it_spells(searcher):
    result = searcher.search("xijinping")
    assert result["total"] == 0 and result["suggestions"][0] == "习近平"
    assert searcher.search("yinhang")["suggestions"][0] == "银行"
    assert searcher.search("chongqing 火锅")["suggestions"][0] == "重庆 火锅"
    assert searcher.search("xijinpingzhuxi")["suggestions"][0] == "习近平主席"  # a phrase of the index
    # entries one after the other: each a term (found together in a paragraph)
    assert searcher.search("chongqingbeijing")["suggestions"] == ["重庆 北京"]
    assert searcher.search("yinhanghuoguo")["suggestions"] == []  # no paragraph has both


def test_pinyin_is_never_a_silent_rewrite(searcher):
    assert searcher.search("xijinping")["hits"] == []
    assert searcher.search("apec")["total"] == 3 and searcher.search("apec")["suggestions"] == []


def test_every_pinyin_suggestion_finds_something(searcher):
    for q in ("beijing", "beijingshi", "hangzhang", "xingdong", "zhongyao", "chongqingbeijing"):
        for suggestion in searcher.search(q)["suggestions"]:
            assert searcher.search(suggestion)["total"] > 0, (q, suggestion)


# -- what a serving process holds ---------------------------------------------------------------------------

SERVING = """
import json, re, sys
from search import gunicorn_conf
from search.config import Settings
from search.query.searcher import Searcher

def private_dirty_kib():
    return int(re.search(r"Private_Dirty:\\s+(\\d+)", open("/proc/self/smaps_rollup").read())[1])

gunicorn_conf.on_starting(None)  # what gunicorn's master loads
searcher = Searcher(Settings(seeds_dir=sys.argv[1], index_dir=sys.argv[1]))
searcher.search("北京")
searcher.search("xinpian")  # the did-you-mean's corrector made
start = private_dirty_kib()
for q in ("beij", "bj", "北j", "yinh", "xijinping", "chongqingbeijing"):
    searcher.complete(q, 20)
    searcher.search(q)
import pypinyin.constants
print(json.dumps({"phrase_pinyin": "search.text.phrase_pinyin" in sys.modules,
                  "pypinyin_phrases": len(pypinyin.constants.PHRASES_DICT),
                  "grew_mib": (private_dirty_kib() - start) / 1024}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/smaps_rollup only")
def test_a_server_never_loads_the_phrase_dictionary_and_completes_from_mapped_files(settings_):
    done = subprocess.run([sys.executable, "-c", SERVING, str(settings_.index_dir)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["phrase_pinyin"] is False and found["pypinyin_phrases"] == 0
    assert found["grew_mib"] < 4  # the phrase dictionary alone would be ~45 MB


# -- a bug at one word, a build without its completion index -----------------------------------------------

def test_an_entry_whose_pinyin_fails_is_reported_and_the_build_goes_on(tmp_path, monkeypatch):
    real = phrase_pinyin.spellings
    monkeypatch.setattr(build_completions.phrase_pinyin, "spellings", failing_on(real, "银"))
    problems = []
    settings = index_articles(tmp_path, ARTICLES, report=problems.append)
    ours = [p for p in problems if "completes from its characters" in p.reason]
    assert ours and all("银" in p.reason and not p.fatal for p in ours)
    monkeypatch.setattr(build_completions.phrase_pinyin, "spellings", real)
    found = Searcher(settings)
    index = found._current().completer.index
    for problem in ours:
        lines = index.words if problem.path.endswith("words.txt") else index.phrases
        assert "银" in lines[problem.line - 1]
    assert [s["text"] for s in found.complete("银", 3)["suggestions"]][0] == "银行"  # its characters complete
    assert "银行" not in [s["text"] for s in found.complete("yinh", 20)["suggestions"]]
    assert found.complete("beij", 1)["suggestions"][0]["text"] == "北京"
    found.close()


def test_a_build_without_its_completion_index_is_not_opened(tmp_path):
    import shutil

    settings = index_articles(tmp_path, {"a": "北京\n北京的银行。\n"})
    first = Searcher(settings)
    build = first._current().build
    first.close()
    shutil.rmtree(build / FOLDER)
    with pytest.raises(IndexMissing, match="cannot be opened"):
        Searcher(settings).complete("北", 8)


def test_the_segments_of_a_build_are_tallied_by_one_pair_of_workers(tmp_path, monkeypatch):
    """The completion step forks its stretch workers once, not once a segment (each fork would copy
    what the builder had added up by then): with two jobs, every stretch of every segment is read by
    the same two processes, and the files are those a build in one process writes."""
    import os

    from search.build import segment_tally

    mixed = {**ARTICLES, **TRADITIONAL}
    readers = tmp_path / "readers"
    readers.mkdir()
    real = segment_tally.SegmentSource._stretch

    def recorded(self, keys, first, end):
        (readers / f"{os.getpid()}-{first}-{end}-{id(self)}").touch()  # the workers' memory is their own
        return real(self, keys, first, end)

    monkeypatch.setattr(segment_tally.SegmentSource, "_stretch", recorded)
    monkeypatch.setattr(segment_tally, "STRETCH_UNITS", 8)

    def built(name: str, jobs: int) -> Settings:
        settings = Settings(seeds_dir=tmp_path / name / "seeds", index_dir=tmp_path / name / "index", segment_characters=60)
        settings.seeds_dir.mkdir(parents=True)
        for article_id, text in mixed.items():
            (settings.seeds_dir / f"{article_id}.txt").write_text(text, encoding="utf-8")
        build_index(settings, jobs=jobs)
        return settings

    def files(settings):
        return {path.name: path.read_bytes() for path in sorted((IndexLayout(settings.index_dir).current() / FOLDER).iterdir())}

    alone = built("alone", 1)
    for path in readers.iterdir():
        path.unlink()
    shared = built("shared", 2)
    read = [path.name.split("-") for path in readers.iterdir()]
    segments = {segment for *_, segment in read}
    assert len(segments) > 2
    assert len({pid for pid, *_ in read}) <= 2
    assert str(os.getpid()) not in {pid for pid, *_ in read}
    assert files(shared) == files(alone)


def test_a_segment_read_a_stretch_at_a_time_gives_the_same_completions(tmp_path, monkeypatch):
    """The build's memory stays flat: a segment's paragraphs are tallied a stretch at a time, and
    stretches of a few code units (every paragraph on its own, Traditional ones among them, their
    forms counted across stretches), in this process or shared out among two, give the very files
    one stretch gives."""
    from search.build import segment_tally

    mixed = {**ARTICLES, **TRADITIONAL}
    whole = index_articles(tmp_path / "whole", mixed)
    stretches = []
    real = segment_tally.SegmentSource._tally
    monkeypatch.setattr(segment_tally.SegmentSource, "_tally",
                        lambda self, keys, units, *rest: (stretches.append(len(units)), real(self, keys, units, *rest))[1])
    monkeypatch.setattr(segment_tally, "STRETCH_UNITS", 8)
    stretched = index_articles(tmp_path / "stretched", mixed)
    shared = Settings(seeds_dir=tmp_path / "shared" / "seeds", index_dir=tmp_path / "shared" / "index")
    shared.seeds_dir.mkdir(parents=True)
    for article_id, text in mixed.items():
        (shared.seeds_dir / f"{article_id}.txt").write_text(text, encoding="utf-8")
    build_index(shared, jobs=2)  # the stretches shared out among two processes

    def files(settings):
        return {path.name: path.read_bytes() for path in sorted((IndexLayout(settings.index_dir).current() / FOLDER).iterdir())}

    assert len(stretches) > len(mixed) and max(stretches) < 60
    assert files(stretched) == files(whole)
    assert files(shared) == files(whole)
    assert any(b"\xe8\x87\xba" in content for content in files(whole).values())  # 臺: forms were counted
