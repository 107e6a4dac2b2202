"""The completion index's parts against brute force: exact paragraph counts of many keys at once
and the occurrences that touch marked characters (search.build.substring_counts), prefix ranges of
sorted lines (search.formats.sorted_lines), pinyin of whole words (search.text.phrase_pinyin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings, strategies as st

from search.build import substring_counts
from search.build.substring_counts import paragraph_counts, touching
from search.formats.sorted_lines import MappedLines, SparseLines, write_lines
from search.text import phrase_pinyin

ALPHABET = "ab北京银行重庆😀"  # an astral character is two code units


def skeleton_arrays(paragraphs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``units`` and ``bounds`` as the match index lays the skeletons out (a 0 after each)."""
    units = np.frombuffer("".join(p + "\x00" for p in paragraphs).encode("utf-16-le"), dtype=np.uint16)
    sizes = [len(p.encode("utf-16-le")) // 2 + 1 for p in paragraphs]
    return units, np.concatenate(([0], np.cumsum(sizes))).astype(np.uint32)


def bigram_counter(paragraphs: list[str]):
    def counts(codes: np.ndarray) -> np.ndarray:
        keys = [chr(c >> 16) + chr(c & 0xFFFF) for c in codes.tolist()]
        return np.array([sum(k.encode("utf-16-le", "surrogatepass") in p.encode("utf-16-le", "surrogatepass")
                             for p in paragraphs) for k in keys], dtype=np.int64)

    return counts


def units_of(text: str) -> list[int]:
    return list(np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16))


@st.composite
def texts_and_keys(draw):
    alphabet = draw(st.sampled_from(["ab", "ab京", ALPHABET]))  # few letters: keys recur within a paragraph
    paragraphs = draw(st.lists(st.text(alphabet, max_size=30), min_size=1, max_size=12))
    keys = draw(st.lists(st.text(alphabet, min_size=1, max_size=8), min_size=1, max_size=25, unique=True))
    return paragraphs, keys


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_and_keys(), st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from([4, 32, 1 << 20]))
@example((["北京北京", "北京银行", "京", "北京银北京银"], ["北京", "京", "北京银行", "北京北京", "银行重庆", "北京银"]), 7, 4)
def test_counts_and_touching_occurrences_are_brute_forces(texts, seed, block_units):
    paragraphs, keys = texts
    units, bounds = skeleton_arrays(paragraphs)
    marked = np.random.default_rng(seed).random(len(units)) < 0.1
    counted = paragraph_counts(units, bounds, keys, bigram_counts=bigram_counter(paragraphs),
                               one_by_one=lambda key: sum(key in p for p in paragraphs), block_units=block_units)
    assert counted.counts.tolist() == [sum(key in p for p in paragraphs) for key in keys]
    assert counted.widths.tolist() == [len(units_of(key)) for key in keys]
    expected = set()
    for i, key in enumerate(keys):
        needle = units_of(key)
        for start in range(len(units) - len(needle) + 1):
            if list(units[start : start + len(needle)]) == needle and marked[start : start + len(needle)].any():
                expected.add((i, start, int(np.searchsorted(bounds, start, "right") - 1)))
    found = touching(counted, units, bounds, np.flatnonzero(marked))
    assert set(zip(found.keys.tolist(), found.starts.tolist(), found.paragraphs.tolist())) == expected
    # told the marks while counting, it keeps only the occurrences that cover one: the same touching
    kept = paragraph_counts(units, bounds, keys, bigram_counts=bigram_counter(paragraphs),
                            one_by_one=lambda key: sum(key in p for p in paragraphs), block_units=block_units,
                            marked=np.flatnonzero(marked))
    assert kept.counts.tolist() == counted.counts.tolist()
    assert len(kept.found_starts) <= len(counted.found_starts)
    again = touching(kept, units, bounds, np.flatnonzero(marked))
    assert set(zip(again.keys.tolist(), again.starts.tolist(), again.paragraphs.tolist())) == expected


@settings(max_examples=150, deadline=None)
@given(texts_and_keys())
def test_bigram_counts_from_the_skeletons_themselves_are_the_brute_forces(texts):
    """What a generation's deleted paragraphs hold is counted without a match index of their own."""
    paragraphs, keys = texts
    units, bounds = skeleton_arrays(paragraphs)
    codes = np.array([u[0] << 16 | u[1] for u in map(units_of, keys + [p[:2] for p in paragraphs]) if len(u) == 2],
                     dtype=np.uint64)
    assert substring_counts.bigram_counter(units, bounds)(codes).tolist() == bigram_counter(paragraphs)(codes).tolist()


def test_a_block_of_many_short_paragraphs_counts_each(monkeypatch):
    paragraphs = ["京", "北京", ""] * 30_000  # more paragraphs than a block may number
    units, bounds = skeleton_arrays(paragraphs)
    counted = paragraph_counts(units, bounds, ["京", "北", "北京"], bigram_counts=lambda codes: np.array([30_000]),
                               one_by_one=len, block_units=1 << 30)
    assert counted.counts.tolist() == [60_000, 30_000, 30_000]


def test_no_keys_no_counts():
    units, bounds = skeleton_arrays(["北京", ""])
    counted = paragraph_counts(units, bounds, [], bigram_counts=bigram_counter([]), one_by_one=len)
    assert len(counted.counts) == len(counted.widths) == len(counted.found_keys) == 0
    assert len(touching(counted, units, bounds, np.arange(len(units))).keys) == 0


def test_keys_wider_than_the_scan_are_counted_one_by_one(monkeypatch):
    monkeypatch.setattr(substring_counts, "WIDEST", 4)
    paragraphs = ["北京银行重庆北京银行", "北京银行重", "银行重庆"]
    asked = []

    def one_by_one(key):
        asked.append(key)
        return sum(key in p for p in paragraphs)

    units, bounds = skeleton_arrays(paragraphs)
    counted = paragraph_counts(units, bounds, ["北京银行重庆", "北京银行", "银行重"], bigram_counts=bigram_counter(paragraphs),
                               one_by_one=one_by_one)
    assert counted.counts.tolist() == [1, 2, 3] and asked == ["北京银行重庆"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text("abc北京\n", max_size=4).map(lambda t: t.replace("\n", "")), max_size=40),
       st.text("abc北京", max_size=3), st.sampled_from([1, 2, 3, 16]))
def test_prefix_ranges_of_sorted_lines(tmp_path_factory, lines, prefix, every):
    lines = sorted(set(lines))
    folder = tmp_path_factory.mktemp("lines")
    assert write_lines(folder / "t.txt", folder / "s.npy", lines, every) == len(lines)
    starts = np.load(folder / "s.npy")
    read = MappedLines(folder / "t.txt", starts) if every == 1 else SparseLines(folder / "t.txt", starts, every)
    assert list(read) == lines and len(read) == len(lines)
    lo, hi = read.prefix_range(prefix)
    assert [read[i] for i in range(lo, hi)] == [line for line in lines if line.startswith(prefix)]
    assert read.find(prefix) == (lines.index(prefix) if prefix in lines else -1)


PYPINYIN_WITH_PHRASES = """
import json, sys
from pypinyin import lazy_pinyin
words = json.loads(sys.stdin.read())
print(json.dumps([lazy_pinyin(word, v_to_u=False) for word in words], ensure_ascii=False))
"""


def test_a_words_first_spelling_is_pypinyins_with_its_phrases():
    """pypinyin with its phrase dictionary loaded (a process of its own: ours never loads it so)."""
    words = ["银行", "重庆", "行长", "中国银行", "重要", "长大", "还有", "觉得", "会计", "朝阳", "银行行长", "长江大学",
             "了解", "都市", "行业", "重新", "音乐", "快乐", "单于", "茄子", "一行人", "重庆银行"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYPINYIN_")}  # (set once ours loaded it)
    done = subprocess.run([sys.executable, "-c", PYPINYIN_WITH_PHRASES], input=json.dumps(words, ensure_ascii=False),
                          capture_output=True, text=True, check=True, env=env)
    assert [phrase_pinyin.spellings(word)[0] for word in words] == [tuple(s) for s in json.loads(done.stdout)]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_any_text_has_a_spelling_per_character(text):
    for spelling in phrase_pinyin.spellings(text):
        assert len(spelling) == len(text) and all(spelling)


def _sample_segment(skeletons: list[str], live: list[bool] | None = None):
    from types import SimpleNamespace

    from search.build.segment_tally import SegmentSource

    units, bounds = skeleton_arrays(skeletons)
    return SegmentSource(units, bounds, SimpleNamespace(skeletons=skeletons),
                         np.array(live if live is not None else [True] * len(skeletons)), Path("/nonexistent"), None)


def test_a_phrase_is_a_pair_of_words_seen_twice_and_no_word_itself(monkeypatch):
    from search.build import completions, segment_tally

    sample = [_sample_segment(["北京大学的学生", "北京大学和学生会", "学生会的北京大学", "大学"])]
    cut = {"北京大学的学生": ["北京", "大学", "的", "学生"], "北京大学和学生会": ["北京", "大学", "和", "学生会"],
           "学生会的北京大学": ["学生会", "的", "北京", "大学"], "大学": ["大学"]}
    monkeypatch.setattr(segment_tally.analysis, "tokens", lambda text: [t for run in text.split("，") for t in cut[run]])
    assert completions._phrase_candidates(sample, set(), False) == ["北京大学"]
    assert completions._phrase_candidates(sample, {"北京大学"}, False) == []  # a word already


def test_phrases_are_sampled_from_the_live_paragraphs_of_every_segment(monkeypatch):
    """Over a generation's segments: a deleted paragraph is not sampled, the segments' live ones are."""
    from search.build import completions, segment_tally

    cut = {"北京大学的学生": ["北京", "大学", "的", "学生"], "北京大学和学生会": ["北京", "大学", "和", "学生会"],
           "上海交通": ["上海", "交通"]}
    monkeypatch.setattr(segment_tally.analysis, "tokens", lambda text: [t for run in text.split("，") for t in cut[run]])
    segments = [_sample_segment(["北京大学的学生", "上海交通"], [True, False]),
                _sample_segment(["上海交通", "北京大学和学生会"])]
    assert completions._phrase_candidates(segments, set(), False) == ["北京大学"]  # 上海交通: one live paragraph
    segments[0].live[1] = True
    assert completions._phrase_candidates(segments, set(), False) == ["上海交通", "北京大学"]
