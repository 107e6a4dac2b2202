"""Tests for search.paragraphs: reading the seeds folder and reconstructing paragraphs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from search.paragraphs import (
    KINDS,
    MAX_BODY,
    MAX_QUOTE,
    Article,
    InputProblem,
    Paragraph,
    SeedsMissing,
    read_articles,
    split_text,
)

FIXTURES = Path(__file__).parent / "fixtures" / "runon"
RUNON = sorted(FIXTURES.glob("*.txt"))
# Stories with their editor's paragraphs, one per line; the tests join them into run-on text.
PARAGRAPHED = sorted(FIXTURES.glob("*.paras"))
WHITESPACE = re.compile(r"\s+")
QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "（": "）", "(": ")", "《": "》", "【": "】"}


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def read(seeds: Path) -> tuple[list[Article], list[InputProblem]]:
    problems: list[InputProblem] = []
    return list(read_articles(seeds, problems.append)), problems


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def assert_nothing_lost(text: str, paragraphs: list[Paragraph], first: int = 1) -> None:
    """Joined paragraphs equal the source minus whitespace; each is a substring, in order."""
    assert "".join(WHITESPACE.sub("", p.text) for p in paragraphs) == WHITESPACE.sub("", text)
    pos = 0
    for p in paragraphs:
        assert p.text and p.text == p.text.strip()
        found = text.find(p.text, pos)
        assert found >= 0, f"paragraph {p.n} is not a slice of the source after offset {pos}"
        pos = found + len(p.text)
    assert [p.n for p in paragraphs] == list(range(first, first + len(paragraphs)))


def cut_offsets(text: str, paragraphs: list[Paragraph]) -> list[int]:
    """Offsets in text where the 2nd, 3rd, … paragraph starts."""
    offsets, pos = [], 0
    for p in paragraphs:
        start = text.index(p.text, pos)
        offsets.append(start)
        pos = start + len(p.text)
    return offsets[1:]


def quotation_spans(text: str) -> list[tuple[int, int]]:
    """Properly nested quotation/bracket pairs (open, close) of text."""
    stack, pairs = [], []
    closers = {v: k for k, v in QUOTE_PAIRS.items()}
    for i, ch in enumerate(text):
        if ch in QUOTE_PAIRS:
            stack.append((ch, i))
        elif ch in closers and stack and stack[-1][0] == closers[ch]:
            pairs.append((stack.pop()[1], i))
    return pairs


def of_kind(paragraphs: list[Paragraph], kind: str) -> list[str]:
    return [p.text for p in paragraphs if p.kind == kind]


# ---------------------------------------------------------------- run-on: the guancha-style article


@pytest.fixture(scope="module")
def guancha() -> list[Paragraph]:
    return split_text(fixture("guancha_style.txt"))


def test_guancha_fixture_is_one_run_on_line() -> None:
    text = fixture("guancha_style.txt")
    assert "\n" not in text and text.startswith("原标题：") and text.endswith("责任编辑：王蒙")


def test_guancha_title_from_original_title_prefix(guancha: list[Paragraph]) -> None:
    assert guancha[0] == Paragraph(1, "title", "原标题：联合国发言人：以自卫为由越境打击站不住脚")


def test_guancha_lead_starts_at_dateline(guancha: list[Paragraph]) -> None:
    assert guancha[1].kind == "lead"
    assert guancha[1].text.startswith("（观察者网讯）据联合国新闻网站报道")


def test_guancha_four_captions(guancha: list[Paragraph]) -> None:
    assert of_kind(guancha, "caption") == [
        "Dujarric在例行记者会上回答提问 视频截图",
        "联合国安理会会场资料 视频截图",
        "与会外交官在会后接受采访 视频截图",
        "联合国秘书长发言人Stephane Dujarric 图源：联合国新闻",
    ]


def test_guancha_three_headings_follow_captions(guancha: list[Paragraph]) -> None:
    assert of_kind(guancha, "heading") == ["自卫权的边界", "安理会的分歧", "2014年的先例"]
    for p in guancha:
        if p.kind == "heading":
            assert guancha[p.n - 2].kind == "caption"
            assert guancha[p.n].kind == "body"


def test_guancha_closing_byline(guancha: list[Paragraph]) -> None:
    assert guancha[-1] == Paragraph(len(guancha), "byline", "责任编辑：王蒙")
    assert of_kind(guancha, "byline") == ["责任编辑：王蒙"]


def test_guancha_body_is_split_into_several_paragraphs(guancha: list[Paragraph]) -> None:
    body = of_kind(guancha, "body")
    assert len(body) >= 8
    assert any(p.startswith("与此同时，") for p in body)  # a new source opens a paragraph


# ---------------------------------------------------------------- run-on: other styles


def test_wire_story_lead_and_end_mark() -> None:
    paragraphs = split_text(fixture("xinhua_wire.txt"))
    assert paragraphs[0].kind == "lead"
    assert paragraphs[0].text.startswith("新华社北京3月6日电（记者林晓）")
    assert paragraphs[-1] == Paragraph(len(paragraphs), "byline", "（完）")
    assert any(p.text.startswith("与此同时") for p in paragraphs)


def test_local_news_lead_and_byline() -> None:
    paragraphs = split_text(fixture("benbao_local.txt"))
    assert paragraphs[0].kind == "lead" and paragraphs[0].text.startswith("本报讯（记者周敏 通讯员陈立）")
    assert paragraphs[-1].kind == "byline" and paragraphs[-1].text == "责任编辑：孙悦"
    assert {p.kind for p in paragraphs[1:-1]} == {"body"}
    assert len(paragraphs) >= 4


def test_long_quotations_stay_whole() -> None:
    text = fixture("long_quotes.txt")
    paragraphs = split_text(text)
    assert len(paragraphs) >= 2
    joined = "\n".join(p.text for p in paragraphs)
    for quote in ("“那时候没有教室", "‘你们这样能坚持多久？’", "（当时没有通车，往返要走两天）"):
        assert any(quote in p.text for p in paragraphs), quote
    # the nested quotation is one paragraph from its opening to its closing mark
    assert "“那时候没有教室" in joined and "后来，我们坚持了整整十年。”" in joined
    start = next(p for p in paragraphs if "“那时候没有教室" in p.text)
    assert "后来，我们坚持了整整十年。”" in start.text


def test_text_without_cues_is_still_paragraphed() -> None:
    paragraphs = split_text(fixture("no_cues.txt"))
    assert {p.kind for p in paragraphs} == {"body"}
    assert 2 <= len(paragraphs) <= 8


def test_latin_text_and_numbers_are_not_cut_at_decimal_points_or_abbreviations() -> None:
    paragraphs = split_text(fixture("latin_numbers.txt"))
    for p in paragraphs:
        assert not p.text.startswith(("3 ", "1.3", "Lee,", "S.", "reduces"))
    texts = "\n".join(p.text for p in paragraphs)
    assert "v2.1.3" in texts and "Dr. Lee" in texts


@pytest.mark.parametrize("path", RUNON, ids=lambda p: p.stem)
def test_runon_fixture_nothing_lost_and_in_order(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "\n" not in text
    assert_nothing_lost(text, split_text(text))


@pytest.mark.parametrize("path", RUNON, ids=lambda p: p.stem)
def test_runon_fixture_never_cut_inside_quotes_or_brackets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    pairs = quotation_spans(text)
    assert pairs, "fixture should contain quotations or brackets"
    for cut in cut_offsets(text, split_text(text)):
        assert not any(o < cut <= c for o, c in pairs), text[max(0, cut - 20): cut + 20]


@pytest.mark.parametrize("path", RUNON, ids=lambda p: p.stem)
def test_runon_fixture_body_length_rule(path: Path) -> None:
    for p in split_text(path.read_text(encoding="utf-8")):
        assert p.kind in KINDS
        if p.kind == "body":
            assert len(p.text) <= MAX_BODY or len(re.findall(r"[。！？]", p.text)) <= 1


def test_long_run_on_body_is_cut_below_the_limit() -> None:
    sentence = "这是一个用来测试段落长度限制的普通句子，没有任何提示词。"
    text = sentence * 40
    paragraphs = split_text(text)
    assert len(paragraphs) > 3
    assert all(len(p.text) <= MAX_BODY for p in paragraphs)
    assert_nothing_lost(text, paragraphs)


def test_single_long_sentence_is_not_cut() -> None:
    text = "这是一个非常长的句子，" * 60 + "到这里才结束。"
    assert [p.text for p in split_text(text)] == [text]


def test_unbalanced_quote_does_not_swallow_the_article() -> None:
    text = "他说：“这句话没有结束。" + "另一段落的句子在这里，内容足够长以便分段。" * 40
    paragraphs = split_text(text)
    assert len(paragraphs) >= len(text) // MAX_BODY + 1  # the quote protects nothing: cut as often as the limit needs
    assert all(len(p.text) <= MAX_BODY for p in paragraphs)


def test_quote_followed_by_attribution_is_one_sentence() -> None:
    text = "“我们不会让步。”他说。" + "此前，双方已经谈了三轮。" * 30
    assert split_text(text)[0].text.startswith("“我们不会让步。”他说。")


def test_caption_with_photo_credit_and_image_source() -> None:
    text = "会议在北京举行。会场一角 新华社记者 张三 摄据介绍，会议为期两天。代表们进行了讨论。"
    kinds = [(p.kind, p.text) for p in split_text(text)]
    assert ("caption", "会场一角 新华社记者 张三 摄") in kinds


def test_screenshot_in_body_text_is_not_a_caption() -> None:
    text = "网友发布的截图显示，现场人员众多。当地警方随后发布通报，称已介入调查。"
    assert "caption" not in {p.kind for p in split_text(text)}


def test_short_unpunctuated_run_on_text_is_a_title() -> None:
    assert split_text("春季马拉松报名开始") == [Paragraph(1, "title", "春季马拉松报名开始")]


def test_title_glued_before_dateline_without_prefix() -> None:
    paragraphs = split_text("城际铁路二期开工（本报讯）今天上午，工程正式开工。工期三年。")
    assert paragraphs[0] == Paragraph(1, "title", "城际铁路二期开工")
    assert paragraphs[1].kind == "lead"


# ---------------------------------------------------------------- property tests


CHARS = st.sampled_from(list("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会")
                        + list("。，！？；：、“”‘’「」（）()《》【】 \t\u3000…") + list("aZ.9"))


@settings(max_examples=300)
@given(st.text(CHARS, max_size=800))
def test_property_nothing_lost(text: str) -> None:
    assert_nothing_lost(text, split_text(text))


@settings(max_examples=200)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_property_arbitrary_unicode_nothing_lost(text: str) -> None:
    paragraphs = split_text(text)
    assert all(p.kind in KINDS for p in paragraphs)
    # line-broken text keeps its lines; only whitespace may disappear
    assert "".join(WHITESPACE.sub("", p.text) for p in paragraphs) == WHITESPACE.sub("", text)


SENTENCE = st.text(st.sampled_from(list("的一是了我不人在他有这个上们来到时大地为")), min_size=3, max_size=40).map(
    lambda s: s + "。"
)


@settings(max_examples=200)
@given(
    st.lists(SENTENCE, min_size=1, max_size=30),
    st.lists(SENTENCE, min_size=1, max_size=8),
    st.lists(SENTENCE, min_size=0, max_size=30),
    st.sampled_from(list(QUOTE_PAIRS.items())),
)
def test_property_never_cut_inside_a_balanced_quote(
    before: list[str], inside: list[str], after: list[str], pair: tuple[str, str]
) -> None:
    quoted = pair[0] + "".join(inside) + pair[1]
    text = "".join(before) + "他说：" + quoted + "".join(after)
    paragraphs = split_text(text)
    assert any(quoted in p.text for p in paragraphs), "the quotation was cut"
    assert_nothing_lost(text, paragraphs)


# ---------------------------------------------------------------- line-broken text


def test_line_broken_lines_are_paragraphs_with_title_first() -> None:
    text = "图书馆新馆开放\n\n  新馆今天开放，吸引了许多市民。  \n馆长表示，欢迎大家来。\n"
    assert split_text(text) == [
        Paragraph(1, "title", "图书馆新馆开放"),
        Paragraph(2, "body", "新馆今天开放，吸引了许多市民。"),
        Paragraph(3, "body", "馆长表示，欢迎大家来。"),
    ]


def test_line_broken_first_line_with_closing_punctuation_is_body() -> None:
    paragraphs = split_text("新馆今天开放。\n馆长表示，欢迎大家来。")
    assert [p.kind for p in paragraphs] == ["body", "body"]


def test_line_broken_classifies_captions_bylines_datelines_and_crlf() -> None:
    text = "标题\r\n新华社北京3月5日电 会议今天开幕。\r\n图为会议现场。\r\n读者服务\r\n正文继续。\r\n责任编辑：王蒙\r\n"
    assert [p.kind for p in split_text(text)] == ["title", "lead", "caption", "heading", "body", "byline"]


def test_line_broken_long_line_is_split_further() -> None:
    line = "这是一个用来测试段落长度限制的普通句子，没有任何提示词。" * 20
    paragraphs = split_text("标题\n" + line + "\n短段落。")
    assert len(paragraphs) > 3 and paragraphs[-1].text == "短段落。"
    assert all(len(p.text) <= MAX_BODY for p in paragraphs)


def test_explicit_title_becomes_paragraph_one() -> None:
    paragraphs = split_text("短句\n第二段。", title="  给定标题 ")
    assert paragraphs[0] == Paragraph(1, "title", "给定标题")
    assert [p.kind for p in paragraphs[1:]] == ["body", "body"]  # no second title


def test_markdown_headings() -> None:
    paragraphs = split_text("# 标题\n\n正文第一段。\n\n## 小节\n正文第二段。", markdown=True)
    assert [(p.kind, p.text) for p in paragraphs] == [
        ("title", "标题"),
        ("body", "正文第一段。"),
        ("heading", "小节"),
        ("body", "正文第二段。"),
    ]


# ---------------------------------------------------------------- reading the seeds folder


def test_reads_txt_md_jsonl_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "\ufeff标题乙\n正文。")
    write(tmp_path / "a.md", "# 标题甲\n正文。")
    write(tmp_path / "sub" / "c.txt", "正文丙。")
    write(
        tmp_path / "news.jsonl",
        json.dumps({"id": "j1", "title": "新闻", "text": "第一段。\n第二段。", "date": "2025-01-01"}) + "\n\n",
    )
    articles, problems = read(tmp_path)
    assert problems == []
    assert [(a.id, a.source) for a in articles] == [
        ("a", "a.md"),
        ("b", "b.txt"),
        ("j1", "news.jsonl:1"),
        ("c", "sub/c.txt"),
    ]
    by_id = {a.id: a for a in articles}
    assert by_id["a"].title == "标题甲" and by_id["a"].paragraphs[0].kind == "title"
    assert by_id["b"].title == "标题乙" and by_id["b"].paragraphs[0].text == "标题乙"  # BOM stripped
    assert by_id["c"].title == ""
    assert by_id["j1"].title == "新闻" and by_id["j1"].metadata == {"date": "2025-01-01"}
    assert [p.text for p in by_id["j1"].paragraphs] == ["新闻", "第一段。", "第二段。"]


def test_original_title_prefix_is_dropped_from_article_title(tmp_path: Path) -> None:
    write(tmp_path / "g.txt", fixture("guancha_style.txt"))
    articles, _ = read(tmp_path)
    assert articles[0].title == "联合国发言人：以自卫为由越境打击站不住脚"


def test_hidden_files_skipped_silently_other_types_noted(tmp_path: Path) -> None:
    write(tmp_path / ".hidden.txt", "隐藏。")
    write(tmp_path / ".git" / "x.txt", "隐藏。")
    write(tmp_path / "notes.csv", "a,b")
    write(tmp_path / "ok.txt", "正文。")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["ok"]
    assert [(p.path, p.fatal) for p in problems] == [("notes.csv", False)]


def test_invalid_utf8_reported_with_line_of_bad_byte(tmp_path: Path) -> None:
    write(tmp_path / "bad.txt", "第一行。\n第二行。\n".encode() + b"\xff\xfe oops\n")
    write(tmp_path / "good.txt", "正文。")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert len(problems) == 1 and problems[0].fatal
    assert str(problems[0]).startswith("bad.txt:3: invalid UTF-8")


def test_empty_and_whitespace_only_files_reported(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "blank.md", " \n\u3000\n")
    write(tmp_path / "blank.jsonl", "\n\n")
    articles, problems = read(tmp_path)
    assert articles == []
    assert sorted((p.path, p.reason) for p in problems) == [
        ("blank.jsonl", "empty file"),
        ("blank.md", "empty file"),
        ("empty.txt", "empty file"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected an object"),
        ('{"title": "t", "text": "x"}', "'id'"),
        ('{"id": 5, "text": "x"}', "'id'"),
        ('{"id": "x"}', "'text'"),
        ('{"id": "x", "text": 3}', "'text'"),
        ('{"id": "x", "text": "  "}', "empty 'text'"),
        ('{"id": "x", "title": 7, "text": "正文。"}', "'title'"),
        ('{"id": "x", "text": "\\ud800"}', "surrogate"),
    ],
)
def test_malformed_jsonl_line_reported_once_others_kept(tmp_path: Path, line: str, reason: str) -> None:
    good = json.dumps({"id": "ok", "title": "好", "text": "正文。"})
    write(tmp_path / "n.jsonl", f"{good}\n{line}\n")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["ok"]
    assert len(problems) == 1
    assert problems[0].path == "n.jsonl" and problems[0].line == 2 and problems[0].fatal
    assert reason in problems[0].reason


def test_invalid_utf8_in_jsonl_skips_only_that_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "ok", "title": "好", "text": "正文。"}).encode()
    write(tmp_path / "n.jsonl", b'{"id": "bad", "text": "\xff"}\n' + good + b"\n")
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["ok"]
    assert [(p.line, p.reason.startswith("invalid UTF-8")) for p in problems] == [(1, True)]


def test_duplicate_ids_later_one_skipped_naming_first(tmp_path: Path) -> None:
    write(tmp_path / "a" / "x.txt", "第一篇。")
    write(tmp_path / "b" / "x.md", "第二篇。")
    lines = [json.dumps({"id": i, "title": "", "text": "正文。"}) for i in ("y", "y", "x")]
    write(tmp_path / "c.jsonl", "\n".join(lines))
    articles, problems = read(tmp_path)
    assert [(a.id, a.source) for a in articles] == [("x", "a/x.txt"), ("y", "c.jsonl:1")]
    assert [str(p) for p in problems] == [
        "b/x.md:1: duplicate article id 'x' (first in a/x.txt)",
        "c.jsonl:2: duplicate article id 'y' (first in c.jsonl:1)",
        "c.jsonl:3: duplicate article id 'x' (first in a/x.txt)",
    ]


def test_jsonl_runon_text_is_reconstructed_after_title(tmp_path: Path) -> None:
    text = fixture("xinhua_wire.txt")
    write(tmp_path / "w.jsonl", json.dumps({"id": "w", "title": "春季气候", "text": text}))
    (article,), _ = read(tmp_path)
    assert article.paragraphs[0] == Paragraph(1, "title", "春季气候")
    assert article.paragraphs[1].kind == "lead"
    assert len(article.paragraphs) > 3
    assert_nothing_lost(text, list(article.paragraphs[1:]), first=2)


def test_missing_seeds_dir_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SeedsMissing, match="nope"):
        list(read_articles(missing, lambda p: None))
    write(tmp_path / "file.txt", "x")
    with pytest.raises(SeedsMissing, match="not a directory"):
        list(read_articles(tmp_path / "file.txt", lambda p: None))


def test_input_problem_str() -> None:
    assert str(InputProblem("a/b.jsonl", 4, "bad")) == "a/b.jsonl:4: bad"
    assert InputProblem("x", 1, "note", fatal=False).fatal is False


def test_repository_seeds_read_cleanly() -> None:
    seeds = Path(__file__).parent.parent / "seeds"
    articles, problems = read(seeds)
    assert [p for p in problems if p.fatal] == []
    by_id = {a.id: a for a in articles}
    assert {"001_un_briefing", "002_city_library", "003_brief_marathon"} <= set(by_id)
    assert by_id["002_city_library"].title == "市立圖書館新館今日開放"
    assert by_id["003_brief_marathon"].metadata == {"date": "2025-03-08"}
    for article in articles:
        assert all(p.kind in KINDS and p.text for p in article.paragraphs)


# ---------------------------------------------------------------- grouping model (gap scores + length prior)

from search.paragraphs.cues import _FIRST_WORD_GROUPS  # noqa: E402
from search.paragraphs.decoder import _break_log_odds, _segment  # noqa: E402
from search.paragraphs.gaps import _bigrams, _gap_features  # noqa: E402
from search.paragraphs.sentences import _blocked  # noqa: E402
from search.paragraphs.weights import fitted  # noqa: E402

FILLER = "市里今年新建了一批社区食堂和养老服务站，覆盖周边居民一万多人。"  # 32 chars, no cue


def paragraph_of(paragraphs: list[Paragraph], needle: str) -> int:
    return next(p.n for p in paragraphs if needle in p.text)


def test_continuing_sentence_stays_with_the_previous_one() -> None:
    text = FILLER * 3 + "他表示，这些设施还将继续扩建。" + "当地时间5日，另一座城市也宣布了类似计划。" + FILLER
    paragraphs = split_text(text)
    assert paragraph_of(paragraphs, "他表示") == paragraph_of(paragraphs, FILLER)


def test_new_time_or_source_after_a_long_paragraph_opens_a_paragraph() -> None:
    for opener in ("当地时间5日，", "据新华社报道，", "会上，"):
        text = FILLER * 5 + opener + "另一座城市也宣布了类似的计划，将在年内完成建设。" + FILLER
        paragraphs = split_text(text)
        assert any(p.text.startswith(opener) for p in paragraphs), opener


def test_gap_features_use_generic_cues_in_both_scripts() -> None:
    for first, group in (("他", "pron3"), ("這些", "pron3"), ("但是", "contrast"), ("此外", "aside"), ("而且", "additive"), ("双方", "party")):
        text = "第一句话在这里。" + first + "接着说下去。"
        run = [(0, 8), (8, len(text))]
        f = _gap_features(text, run, 1, [_bigrams(text, lo, hi) for lo, hi in run], lead=False)
        assert f.get("w_" + group) == 1.0, (first, f)
    text = "第一句话在这里。当地时间3日，会议开幕。"
    run = [(0, 8), (8, len(text))]
    f = _gap_features(text, run, 1, [_bigrams(text, lo, hi) for lo, hi in run], lead=False)
    assert f.get("date") == 1.0 and "w_pron3" not in f
    text = "第一句话在这里。当地时间5日，会议开幕。"  # a time, not 当地 (a place word)
    run = [(0, 8), (8, len(text))]
    f = _gap_features(text, run, 1, [_bigrams(text, lo, hi) for lo, hi in run], lead=False)
    assert f.get("date") == 1.0 and "w_area" not in f


def test_fitted_weights_name_only_features_that_exist() -> None:
    groups = {"w_" + g for g in _FIRST_WORD_GROUPS}
    produced = {
        "bias", "date", "digit", "quote_open", "book_open", "latin", "source", "place", "speaker", "prev_quote_end",
        "prev_exclaim", "prev_colon", "prev_said", "next_len", "prev_len", "overlap", "overlap2", "after_lead",
        "subject_time", "run_len", "clause_len", "opener_repeat", "clause_parallel", "prev_colon_end", "prev_colon_quote",
        "prev_announce", "next_enum", "next_bullet",
    }
    binned = re.compile(
        r"(?:run|clause|overlap|novel|novel_opening|rel_prev|rel_next|run_sentences)_bin\d|run\d_(?:prev|next)\d|prev\d_next\d|speaker_run\d"
    )
    weights = fitted()
    assert {k for k in weights.gap if not binned.fullmatch(k)} <= groups | produced
    glued = {
        "g_bias", "g_fronted", "g_reporter", "g_source", "g_ended", "g_repeat4", "g_repeat2", "g_time_at",
        "g_time_near", "g_time_far", "g_time_date", "g_speech", "g_head_time", "g_spaced", "g_colon",
        "g_colon_repeat", "g_dateline", "g_len", "g_short", "g_rest", "g_opener",
    }
    from search.paragraphs.runon import GLUED_PRIOR  # set by hand, not fitted

    assert set(GLUED_PRIOR) - {"g_bias"} <= glued
    assert weights.chars_prior[-1][0] >= 10**9  # the last length bin catches every paragraph


def test_segment_follows_scores_and_never_exceeds_the_limit() -> None:
    text = FILLER * 20
    run = [(i * len(FILLER), (i + 1) * len(FILLER)) for i in range(20)]
    assert _segment(text, run, False, [50.0] * 19) == list(range(20))  # every gap a sure break
    starts = _segment(text, run, False, [-50.0] * 19)  # no gap wants a break: cut only for the limit
    bounds = [*starts, 20]
    sizes = [run[b - 1][1] - run[a][0] for a, b in zip(bounds, bounds[1:])]
    assert all(size <= MAX_BODY for size in sizes)
    assert len(starts) == -(-len(text) // (MAX_BODY // len(FILLER) * len(FILLER)))  # as few as the limit allows


def test_short_brief_is_not_over_cut() -> None:
    # A five-sentence brief of under 100 characters is one paragraph: the best
    # single segmentation cut off its last sentence, the run-length threshold on
    # the marginal break odds keeps it whole.
    brief = (
        "昨天，第十届青少年科技创新大赛在省会闭幕。来自全省的三百多名中小学生参加了比赛。"
        "他们的作品涵盖人工智能、环境保护和航空航天等领域。本届大赛共评出一等奖二十项。获奖作品将推荐参加全国比赛。"
    )
    assert [p.kind for p in split_text(brief, title="科技创新大赛闭幕")] == ["title", "body"]


def test_break_log_odds_follow_the_scores() -> None:
    sizes = [30, 30, 30]
    sure, doubtful = _break_log_odds(sizes, [20.0, -20.0])
    assert sure > 10 > -10 > doubtful
    assert _break_log_odds([200, 200], [-50.0]) == [pytest.approx(20.7, abs=0.1)]  # the limit forces the cut


def reference_blocked(text: str) -> bytearray:
    """The plain per-character definition of _blocked, for comparison."""
    depth = [0] * (len(text) + 2)
    stack: list[tuple[str, int]] = []
    straight = None
    closers = {v: k for k, v in QUOTE_PAIRS.items()}

    def protect(o: int, c: int) -> None:
        if c - o <= 500:
            depth[o + 1] += 1
            depth[c + 1] -= 1

    for i, ch in enumerate(text):
        if ch in QUOTE_PAIRS:
            stack.append((ch, i))
        elif ch in closers:
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == closers[ch]:
                    protect(stack[k][1], i)
                    del stack[k:]
                    break
        elif ch == '"':
            if straight is not None and i - straight <= 500:
                protect(straight, i)
                straight = None
            else:
                straight = i
    out, level = bytearray(len(text) + 1), 0
    for p in range(len(text) + 1):
        level += depth[p]
        out[p] = level > 0
    return out


@settings(max_examples=300)
@given(st.text(st.sampled_from(list("“”‘’「」『』（）()《》【】\"ab。")), max_size=200))
def test_blocked_matches_the_per_character_definition(text: str) -> None:
    assert _blocked(text) == reference_blocked(text)


# ---------------------------------------------------------------- headlines glued before a sentence (roundups)

GLUED = [
    # (text with a headline glued to the sentence after it, the headline, how the sentence opens)
    ("本台消息（新闻快讯）：滨江大桥主体工程完工记者今天从市交通运输局获悉，滨江大桥主体工程已全部完工，预计年底通车。",
     "滨江大桥主体工程完工", "记者今天从"),
    (FILLER + "滨江大桥主体工程提前两个月完工3月5日，滨江大桥主体工程全部完工，预计年底通车。" + FILLER,
     "滨江大桥主体工程提前两个月完工", "3月5日，"),
    (FILLER + "全省新增高标准农田200万亩据省农业农村厅介绍，今年全省新建和改造提升高标准农田200万亩。" + FILLER,
     "全省新增高标准农田200万亩", "据省农业农村厅介绍"),
    (FILLER + "第四届消博会首批展品顺利通关当地时间5日，首批展品在海口完成通关手续。" + FILLER,
     "第四届消博会首批展品顺利通关", "当地时间5日，"),
    (FILLER + "國際人士：單邊制裁損害全球經濟復蘇國際人士指出，單邊制裁擾亂全球產業鏈供應鏈，損害各國利益。" + FILLER,
     "國際人士：單邊制裁損害全球經濟復蘇", "國際人士指出"),
]


@pytest.mark.parametrize(("text", "headline", "opening"), GLUED)
def test_headline_glued_before_a_sentence_is_cut_off_as_a_heading(text: str, headline: str, opening: str) -> None:
    paragraphs = split_text(text)
    assert_nothing_lost(text, paragraphs)
    heading = next(p for p in paragraphs if p.kind == "heading")
    assert heading.text == headline
    assert paragraphs[heading.n].text.startswith(opening)  # the paragraph after it


def test_roundup_dateline_stays_a_lead_before_the_glued_headline() -> None:
    paragraphs = split_text(GLUED[0][0])
    assert [p.kind for p in paragraphs[:3]] == ["lead", "heading", "body"]
    assert paragraphs[0].text == "本台消息（新闻快讯）："


@pytest.mark.parametrize(
    "sentence",
    [
        "联合国秘书长古特雷斯今天（3月5日）表示，各方应保持克制，通过对话解决分歧。",  # its own subject and time
        "国家统计局今天发布数据显示，一季度国内生产总值同比增长5.3%。",
        "中共中央政治局常委赵乐际出席开幕会并代表中共中央致贺词。",  # repeats words, but is one sentence
        "美国国务院发言人普赖斯在记者会上表示，美方将继续关注局势发展。",  # 记者 inside the sentence
        "市民政局有关负责人近日在接受记者采访时表示，养老服务站将继续扩建。",
        "该项目由市城投集团投资建设，总投资约12亿元。",
    ],
)
def test_a_sentence_subject_is_not_a_glued_heading(sentence: str) -> None:
    text = FILLER + sentence + FILLER
    paragraphs = split_text(text)
    assert_nothing_lost(text, paragraphs)
    assert all(p.kind == "body" for p in paragraphs)
    assert any(p.text.startswith(sentence) or p.text.endswith(sentence) or sentence in p.text for p in paragraphs)


def test_wire_dateline_is_not_taken_for_a_glued_heading() -> None:
    text = "新华社北京3月6日电（记者林晓）记者6日从国家气象部门获悉，今年春季全国大部分地区气温将偏高。" + FILLER
    paragraphs = split_text(text)
    assert paragraphs[0].kind == "lead" and paragraphs[0].text.startswith("新华社北京3月6日电（记者林晓）记者6日")


# ---------------------------------------------------------------- run-on stories with known paragraphs


def paragraphed(path: Path) -> tuple[str, list[str], set[int]]:
    """(run-on text, the editor's paragraphs, offsets where the 2nd, 3rd, … paragraph starts) of a .paras fixture."""
    paragraphs = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    offsets, pos = set(), 0
    for p in paragraphs[:-1]:
        pos += len(p)
        offsets.add(pos)
    return "".join(paragraphs), paragraphs, offsets


@pytest.mark.parametrize("path", PARAGRAPHED, ids=lambda p: p.stem)
def test_paragraphed_fixture_rules_hold_on_its_run_on_text(path: Path) -> None:
    text, _, _ = paragraphed(path)
    paragraphs = split_text(text)
    assert_nothing_lost(text, paragraphs)
    pairs = quotation_spans(text)
    for cut in cut_offsets(text, paragraphs):
        assert not any(o < cut <= c for o, c in pairs), text[max(0, cut - 20): cut + 20]
    for p in paragraphs:
        if p.kind == "body":
            assert len(p.text) <= MAX_BODY or len(re.findall(r"[。！？]", p.text)) <= 1


def test_paragraphed_fixtures_boundary_f1() -> None:
    """Boundaries found in several styles (press conference, wire, data release, profile, brief) match the editors' well enough."""
    assert len(PARAGRAPHED) >= 5
    tp = fp = fn = 0
    for path in PARAGRAPHED:
        text, _, gold = paragraphed(path)
        predicted = set(cut_offsets(text, split_text(text)))
        tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert 2 * precision * recall / (precision + recall) >= 0.55, (tp, fp, fn)


def test_paragraphed_fixtures_open_paragraphs_at_new_sources_and_speakers() -> None:
    expected = {
        "wire_foreign": ["当地时间下午，"],
        "press_conference": ["市交通运输局局长陈建华在发布会上表示，", "据介绍，", "此外，"],
    }
    for stem, openings in expected.items():
        text, _, _ = paragraphed(FIXTURES / f"{stem}.paras")
        paragraphs = split_text(text)
        assert paragraphs[0].kind == "lead"
        for opening in openings:
            assert any(p.text.startswith(opening) for p in paragraphs), (stem, opening)


@pytest.mark.xfail(strict=True, reason="the model fitted on both corpora scores the gaps before 分行业看， and "
                                       "分产品看， below its cut threshold; the xwlb-only model cut there (issue #10)")
def test_a_new_breakdown_of_the_figures_opens_a_paragraph() -> None:
    text, _, _ = paragraphed(FIXTURES / "economy_data.paras")
    paragraphs = split_text(text)
    for opening in ["分行业看，", "分产品看，"]:
        assert any(p.text.startswith(opening) for p in paragraphs), opening


# ---------------------------------------------------------------- totality: any text, no exception, the rules hold

from search.paragraphs.sentences import _sentences  # noqa: E402

LINE_BREAKS = ["\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CUE_WORDS = [
    "摄", " 摄", "记者 张磊 摄", "图源：", "图片来源：", "截图", "视频截图", "责任编辑：", "编辑：", "原标题：", "记者",
    "电", "新华社北京3月5日电", "据新华社报道", "据了解", "当地时间", "北京时间", "（观察者网讯）", "本报讯",
    "央视网消息（新闻联播）：", "资料图", "供图", "图为", "（完）", "今天", "近日", "表示，", "他说。", "3月5日，",
    "一是", "会上", "但", "据", "报道", "據報導", "責任編輯：", "圖源：", "記者",
]
TEXT_ATOMS = st.one_of(
    st.text(st.sampled_from(list("的一是了我不人在他有这个上们来到时大地为中国会议经济發展臺灣總統")), min_size=1, max_size=12),
    st.text(st.sampled_from(list("abcXYZ0123456789")), min_size=1, max_size=6),
    st.sampled_from([" ", "  ", "\u3000", "\t", "\xa0"] + LINE_BREAKS),
    st.sampled_from(list("。，、；：？！…—.,;:?!·") + ["……", "——", "..."]),
    st.sampled_from(list("“”‘’「」『』（）()《》【】\"'")),
    st.sampled_from(CUE_WORDS),
)
ANY_ARTICLE = st.lists(TEXT_ATOMS, max_size=400).map(lambda atoms: "".join(atoms)[:2000])


def innermost_pairs(text: str) -> list[tuple[int, int]]:
    """Quotation/bracket pairs with no other mark between them, short enough to be trusted."""
    pairs, opened = [], None
    for i, ch in enumerate(text):
        if ch in QUOTE_PAIRS:
            opened = (ch, i)
        elif ch in QUOTE_PAIRS.values() or ch == '"':
            if opened and QUOTE_PAIRS[opened[0]] == ch and i - opened[1] <= MAX_QUOTE:
                pairs.append((opened[1], i))
            opened = None
    return pairs


@settings(max_examples=400)
@given(ANY_ARTICLE, st.sampled_from([None, "标题"]), st.booleans())
def test_property_reconstruction_is_total_and_keeps_its_rules(text: str, title: str | None, markdown: bool) -> None:
    paragraphs = split_text(text, title=title, markdown=markdown)  # never raises
    body = paragraphs[1:] if title else paragraphs
    if markdown:  # a Markdown heading loses its leading #'s
        assert WHITESPACE.sub("", "".join(p.text for p in body)) in (WHITESPACE.sub("", text), WHITESPACE.sub("", text).replace("#", ""))
    else:
        assert_nothing_lost(text, body, first=2 if title else 1)
    assert all(p.kind in KINDS for p in paragraphs)
    if not markdown and not any(b in text.strip() for b in LINE_BREAKS):  # run-on text: cuts are the reconstruction's
        pairs = innermost_pairs(text)
        for cut in cut_offsets(text, body):
            assert not any(o < cut <= c for o, c in pairs), (cut, text)
    for p in body:
        if p.kind == "body" and len(p.text) > MAX_BODY:
            blocked = _blocked(p.text)
            assert len(_sentences(p.text, 0, len(p.text), blocked)) == 1, p.text


def test_a_photographer_credit_alone_is_a_caption() -> None:
    assert split_text("磊 摄") == [Paragraph(1, "caption", "磊 摄")]  # raised IndexError in _heading_end
    assert [p.kind for p in split_text("会场一角 新华社记者 张磊 摄")] == ["caption"]


def test_an_attribution_with_a_comma_opens_a_new_sentence() -> None:
    """“……。”此前国防部表示，… is two sentences (only “……。”他说。 closes the quotation's sentence)."""
    text = "他在声明中表示，“我们同意撤离。”此前国防部表示，行动将停止。"
    cut = text.index("此前")
    assert _sentences(text, 0, len(text), _blocked(text)) == [(0, cut), (cut, len(text))]


# ---------------------------------------------------------------- a failure in reconstruction stays in its article


def test_a_failing_reconstruction_is_reported_and_the_article_split_into_sentences(tmp_path: Path, monkeypatch) -> None:
    from conftest import break_reconstruction

    break_reconstruction(monkeypatch, "炸弹")
    write(tmp_path / "a.txt", "第一篇文章。一切正常。")
    write(tmp_path / "b.txt", "原标题：会出错的文章（本报讯）这里有炸弹。第二句话！“引号里。”最后一句")
    write(tmp_path / "c.jsonl", '{"id": "c1", "title": "好", "text": "正常。"}\n{"id": "c2", "title": "坏", "text": "炸弹。又一句。"}\n')
    articles, problems = read(tmp_path)
    assert [a.id for a in articles] == ["a", "b", "c1", "c2"]
    assert [str(p) for p in problems] == [
        "b.txt:1: paragraphs could not be reconstructed (IndexError: string index out of range); indexed as sentences",
        "c.jsonl:2: paragraphs could not be reconstructed (IndexError: string index out of range); indexed as sentences",
    ]
    assert all(p.fatal for p in problems)  # --strict stops on it
    by_id = {a.id: a for a in articles}
    assert [p.text for p in by_id["b"].paragraphs] == ["原标题：会出错的文章（本报讯）这里有炸弹。", "第二句话！", "“引号里。”", "最后一句"]
    assert {p.kind for p in by_id["b"].paragraphs} == {"body"}
    assert [(p.kind, p.text) for p in by_id["c2"].paragraphs] == [("title", "坏"), ("body", "炸弹。"), ("body", "又一句。")]
    assert by_id["c2"].title == "坏"


@settings(max_examples=200)
@given(ANY_ARTICLE, st.sampled_from([None, "标题"]))
def test_property_the_fallback_split_is_total_and_loses_nothing(text: str, title: str | None) -> None:
    from search.paragraphs import sentence_paragraphs

    paragraphs = sentence_paragraphs(text, title=title)
    assert_nothing_lost(text, paragraphs[1:] if title else paragraphs, first=2 if title else 1)
    assert all(p.kind == "body" for p in (paragraphs[1:] if title else paragraphs))


# ---------------------------------------------------------------- Traditional script reads like Simplified


@pytest.mark.parametrize("path", [*RUNON, FIXTURES.parent.parent.parent / "seeds" / "000_507e94cc0a3b8151.txt"],
                         ids=lambda p: p.stem)
def test_the_same_article_in_traditional_script_has_the_same_structure(path: Path) -> None:
    """Every cue reads Traditional text as Simplified: a run-on article written in Traditional
    characters (OpenCC s2t, same length) splits into the same paragraphs of the same kinds."""
    import opencc

    text = path.read_text(encoding="utf-8")
    traditional = opencc.OpenCC("s2t").convert(text)
    assert len(traditional) == len(text) and traditional != text
    simplified, converted = split_text(text), split_text(traditional)
    assert [(p.kind, len(p.text)) for p in converted] == [(p.kind, len(p.text)) for p in simplified]
