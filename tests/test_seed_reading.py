"""Seed files are read as a stream: a large JSONL file is never held in memory whole."""

import json
from pathlib import Path

from search.paragraphs import read_articles


def _line(article_id: str) -> str:
    return json.dumps({"id": article_id, "title": "标题", "text": "正文第一句。正文第二句。"}, ensure_ascii=False)


def test_jsonl_articles_are_handed_over_before_the_rest_of_the_file_is_read(tmp_path: Path) -> None:
    """The first article arrives before a bad line further down is even looked at."""
    (tmp_path / "feed.jsonl").write_text("\n".join([_line("a"), _line("b"), "{broken", _line("c")]) + "\n",
                                         encoding="utf-8")
    problems = []
    articles = read_articles(tmp_path, problems.append)
    assert next(articles).id == "a"
    assert problems == []
    assert [article.id for article in articles] == ["b", "c"]
    assert [(problem.path, problem.line) for problem in problems] == [("feed.jsonl", 3)]


def test_a_jsonl_file_with_only_a_byte_order_mark_is_reported_empty(tmp_path: Path) -> None:
    (tmp_path / "feed.jsonl").write_bytes(b"\xef\xbb\xbf\n\n")
    problems = []
    assert list(read_articles(tmp_path, problems.append)) == []
    assert [(problem.line, problem.reason) for problem in problems] == [(1, "empty file")]


def test_crlf_line_ends_and_a_last_line_without_newline(tmp_path: Path) -> None:
    (tmp_path / "feed.jsonl").write_bytes((_line("a") + "\r\n" + _line("b")).encode("utf-8"))
    problems = []
    assert [article.id for article in read_articles(tmp_path, problems.append)] == ["a", "b"]
    assert problems == []
