"""Hits grouped by article, and "why did this match" (explain), against independent truth."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import fetch_all
from search.text import analysis
from search.text.normalize import normalize


def test_grouped_totals_equal_flat_totals(corpus) -> None:
    searcher = corpus.searcher
    for q in ("联合国", "图书馆", "普京 联合国", '"安全理事会"'):
        flat_total, flat = fetch_all(searcher, q)
        per_article = Counter(h["article_id"] for h in flat)
        grouped = searcher.search(q, size=100, group="article")
        assert grouped["total"] == flat_total
        assert grouped["articles"] == len(per_article) == len(grouped["hits"])
        assert {h["article_id"]: h["total"] for h in grouped["hits"]} == per_article
        for hit in grouped["hits"]:
            paragraphs = hit["paragraphs"]
            assert 1 <= len(paragraphs) <= min(3, hit["total"])
            assert all(p["article_id"] == hit["article_id"] for p in paragraphs)
            scores = [p["score"] for p in paragraphs]
            assert scores == sorted(scores, reverse=True) and hit["score"] == scores[0]
            assert set(hit) == {"article_id", "article_title", "metadata", "score", "total", "paragraphs"}
        best = [h["score"] for h in grouped["hits"]]
        assert best == sorted(best, reverse=True)


def test_grouped_pages_count_articles(corpus) -> None:
    searcher = corpus.searcher
    everything = searcher.search("联合国", size=100, group="article")["hits"]
    pages = [searcher.search("联合国", page=p, size=1, group="article")["hits"] for p in range(1, len(everything) + 1)]
    assert [page[0]["article_id"] for page in pages] == [h["article_id"] for h in everything]
    assert searcher.search("联合国", page=len(everything) + 1, size=1, group="article")["hits"] == []


def test_explain_agrees_with_jiebas_own_cut(corpus) -> None:
    result = corpus.searcher.search("联合国 秘书长", size=20, explain=True)
    assert result["hits"]
    for hit in result["hits"]:
        text = hit["text"]
        explained = hit["explain"]
        assert explained["score"] == hit["score"]
        words = set(analysis.index_words(normalize(text)))
        for term in explained["terms"]:
            term_words = analysis.cut(normalize(term["term"]))
            assert term["match"] == ("word" if all(w in words for w in term_words) else "substring")
            assert term["occurrences"] and all(normalize(text[s:e]) == term["term"] for s, e in term["occurrences"])
            context = term["words"]
            for w in context:
                assert normalize(w["text"]) == w["word"] == normalize(text[w["start"]:w["end"]])
            cut = [w for w in analysis.cut(normalize(text))]
            joined = [w["word"] for w in context]
            assert any(cut[i:i + len(joined)] == joined for i in range(len(cut)))  # a run of jieba's own words
        parts = sum(t["score"]["bm25"] + t["score"]["whole_word_bonus"] for t in explained["terms"])
        assert parts == pytest.approx(hit["score"], abs=1e-3)


def test_a_substring_match_is_explained_as_one(tmp_path) -> None:
    from conftest import index_articles
    from search.query.searcher import Searcher

    settings = index_articles(tmp_path, {"a": "联合国宪章是国际法的基础文件。", "b": "各国联合起来应对挑战。"})
    searcher = Searcher(settings)
    try:
        inside = searcher.search("合国", explain=True)["hits"]  # inside the word 联合国
        assert [h["article_id"] for h in inside] == ["a"]
        term = inside[0]["explain"]["terms"][0]
        assert term["match"] == "substring" and term["score"]["whole_word_bonus"] == 0
        assert [w["text"] for w in term["words"] if w["in_match"]] == []  # no word lies within 合国
        assert "联合国" in [w["text"] for w in term["words"]]
        whole = searcher.search("宪章", explain=True)["hits"][0]["explain"]["terms"][0]
        assert whole["match"] == "word" and whole["score"]["whole_word_bonus"] > 0
        assert [w["text"] for w in whole["words"] if w["in_match"]] == ["宪章"]
    finally:
        searcher.close()


def test_the_api_groups_and_explains_and_refuses_a_bad_group(client) -> None:
    grouped = client.simulate_get("/api/search", params={"q": "联合国", "group": "article"})
    assert grouped.status_code == 200 and "articles" in grouped.json
    explained = client.simulate_get("/api/search", params={"q": "联合国", "explain": "true"})
    assert all("explain" in h for h in explained.json["hits"])
    plain = client.simulate_get("/api/search", params={"q": "联合国"})
    assert all("explain" not in h for h in plain.json["hits"]) and "articles" not in plain.json
    assert client.simulate_get("/api/search", params={"q": "联合国", "group": "sideways"}).status_code == 400


def test_the_cli_groups_and_explains(corpus, capsys) -> None:
    from search import cli

    index = str(corpus.settings.index_dir)
    assert cli.main(["query", "--index", index, "--group", "article", "联合国"], environ={}) == 0
    out = capsys.readouterr().out
    grouped = corpus.searcher.search("联合国", group="article")
    assert f"in {grouped['articles']} articles" in out
    assert f"[{grouped['hits'][0]['article_id']}]  {grouped['hits'][0]['total']} paragraphs" in out
    assert cli.main(["query", "--index", index, "--explain", "--size", "1", "秘书长"], environ={}) == 0
    out = capsys.readouterr().out
    assert "'秘书长': word match" in out and "[秘书长]" in out
