"""Article metadata: JSONL keys and Markdown front matter, dates checked, bad values reported."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings, strategies as st

from search.paragraphs import read_articles
from search.paragraphs.metadata import clean, parse_date, split_front_matter


def read(folder: Path):
    problems = []
    return {a.id: a for a in read_articles(folder, problems.append)}, problems


def jsonl(folder: Path, *records: dict) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                                       encoding="utf-8")


def test_jsonl_keys_are_the_metadata_as_written(tmp_path: Path) -> None:
    jsonl(tmp_path, {"id": "a", "title": "标题", "text": "正文。", "date": "2024-03-05", "source": "新闻联播",
                     "tags": ["经济", "芯片"], "views": 12, "score": 1.5, "pinned": True, "note": None})
    articles, problems = read(tmp_path)
    assert problems == []
    assert articles["a"].metadata == {"date": "2024-03-05", "source": "新闻联播", "tags": ["经济", "芯片"],
                                      "views": 12, "score": 1.5, "pinned": True}


def test_a_bad_date_is_reported_at_its_line_and_the_article_indexed_without_it(tmp_path: Path) -> None:
    jsonl(tmp_path,
          {"id": "ok", "title": "t", "text": "x。", "date": "2024-03-05T08:30:00+08:00"},
          {"id": "bad", "title": "t", "text": "y。", "date": "2024-13-45", "source": "央视"},
          {"id": "words", "title": "t", "text": "z。", "date": "上周三"})
    articles, problems = read(tmp_path)
    assert set(articles) == {"ok", "bad", "words"}
    assert articles["ok"].metadata["date"] == "2024-03-05T08:30:00+08:00"
    assert articles["bad"].metadata == {"source": "央视"}
    assert [(p.path, p.line, p.reason.split(":")[0]) for p in problems] == [
        ("feed.jsonl", 2, "bad date '2024-13-45'"), ("feed.jsonl", 3, "bad date '上周三'")]
    assert all(p.fatal for p in problems)  # --strict fails on it


def test_values_of_other_shapes_are_reported_and_left_out(tmp_path: Path) -> None:
    jsonl(tmp_path, {"id": "a", "title": "t", "text": "x。", "nested": {"k": 1}, "mixed": ["a", 1], "ok": "v",
                     "bad key": "v"})
    articles, problems = read(tmp_path)
    assert articles["a"].metadata == {"ok": "v"}
    assert sorted(p.reason.split(":")[0] for p in problems) == [
        "bad metadata key 'bad key'", "metadata 'mixed' left out", "metadata 'nested' left out"]


def test_markdown_front_matter_is_metadata_and_its_title_the_title(tmp_path: Path) -> None:
    (tmp_path / "post.md").write_text(
        "---\ntitle: 芯片产业报告\ndate: 2024-03-05\nsource: 新闻联播\ntags: [芯片, 经济]\n---\n"
        "# 第一节\n\n芯片产业发展迅速。\n", encoding="utf-8")
    articles, problems = read(tmp_path)
    assert problems == []
    post = articles["post"]
    assert post.metadata == {"date": "2024-03-05", "source": "新闻联播", "tags": ["芯片", "经济"]}
    assert post.title == "芯片产业报告"
    assert [(p.kind, p.text) for p in post.paragraphs] == [("title", "芯片产业报告"), ("heading", "第一节"),
                                                           ("body", "芯片产业发展迅速。")]


def test_bad_front_matter_is_reported_with_its_line_and_the_text_still_indexed(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nsource: 央视\ndate: [unclosed\n---\n正文第一句。\n", encoding="utf-8")
    (tmp_path / "list.md").write_text("---\n- a\n- b\n---\n列表不是映射。\n", encoding="utf-8")
    (tmp_path / "date.md").write_text("---\ndate: 2024-02-30\n---\n日期不存在。\n", encoding="utf-8")
    articles, problems = read(tmp_path)
    assert [p.text for p in articles["bad"].paragraphs] == ["正文第一句。"] and articles["bad"].metadata == {}
    assert [p.text for p in articles["list"].paragraphs] == ["列表不是映射。"]
    assert articles["date"].metadata == {}
    reported = {(p.path, p.line): p.reason for p in problems}
    assert reported[("bad.md", 4)].startswith("bad front matter")
    assert reported[("list.md", 1)].startswith("bad front matter")
    assert reported[("date.md", 1)].startswith("bad date")


def test_a_txt_file_has_no_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("---\nsource: x\n---\n正文。", encoding="utf-8")
    articles, _ = read(tmp_path)
    assert articles["a"].metadata == {}


def test_parse_date_forms() -> None:
    utc = dt.timezone.utc
    assert parse_date("2024-03-05") == dt.datetime(2024, 3, 5, tzinfo=utc)
    assert parse_date("2024-03-05T08:30:00+08:00") == dt.datetime(2024, 3, 5, 0, 30, tzinfo=utc)
    assert parse_date("2024-03-05T08:30:00Z") == dt.datetime(2024, 3, 5, 8, 30, tzinfo=utc)
    assert parse_date(dt.date(2024, 3, 5)) == dt.datetime(2024, 3, 5, tzinfo=utc)
    for bad in ("2024-02-30", "2024", "05/03/2024", "", "2024-03-05T25:00", 20240305, None, True):
        assert parse_date(bad) is None, bad


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6))
def test_property_clean_never_raises_and_keeps_only_usable_values(raw: dict) -> None:
    problems = []
    metadata = clean(raw, "f.jsonl", 1, problems.append)
    assert set(metadata) <= set(raw) - {"id", "title", "text"}
    for key, value in metadata.items():
        assert isinstance(value, (str, int, float, bool)) or all(isinstance(v, str) for v in value)
        if key == "date":
            assert parse_date(value) is not None


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_property_front_matter_never_raises_and_keeps_the_text_after_it(text: str) -> None:
    data, rest = split_front_matter(text, "a.md", lambda problem: None)
    assert isinstance(data, dict) and text.endswith(rest)
    if not text.startswith("---"):
        assert rest == text and data == {}
    parse_date(text)  # arbitrary text: never raises
