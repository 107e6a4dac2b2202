"""The first seed article, as a reader of it sees its structure, and searchable out of the box."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.paragraphs import MAX_BODY, Paragraph, read_articles, split_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = SEEDS / "000_507e94cc0a3b8151.txt"
SHARED_SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / SEED.name
# A sentence end outside quotation marks and brackets (the checker is independent of the splitter).
OPEN, CLOSE = "“‘「『（(《【", "”’」』）)》】"


def sentences_outside_quotes(text: str) -> int:
    depth, count = 0, 0
    for i, ch in enumerate(text):
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
            if depth == 0 and i > 0 and text[i - 1] in "。！？" and i + 1 < len(text):
                count += 1  # “……。” closes a sentence
        elif ch in "。！？" and depth == 0 and i + 1 < len(text) and text[i + 1] not in "。！？" + CLOSE:
            count += 1
    return count + 1


@pytest.fixture(scope="module")
def text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def paragraphs(text: str) -> list[Paragraph]:
    return split_text(text)


def kinds(paragraphs: list[Paragraph], kind: str) -> list[str]:
    return [p.text for p in paragraphs if p.kind == kind]


def test_the_seed_is_the_shared_article_byte_for_byte() -> None:
    data = SEED.read_bytes()
    assert data.startswith("原标题：普京见联合国秘书长".encode()) and data.endswith("责任编辑：王蒙".encode())
    assert b"\n" not in data  # one run-on line, no trailing newline
    if SHARED_SEED.exists():
        assert data == SHARED_SEED.read_bytes()


def test_title_from_the_original_title_prefix(paragraphs: list[Paragraph]) -> None:
    assert paragraphs[0] == Paragraph(1, "title", "原标题：普京见联合国秘书长：承认乌东独立是学科索沃")


def test_dateline_opens_the_lead(paragraphs: list[Paragraph]) -> None:
    assert paragraphs[1].kind == "lead"
    assert paragraphs[1].text.startswith("（观察者网讯）美国不断就俄乌冲突拱火之际")
    assert kinds(paragraphs, "lead") == [paragraphs[1].text]


def test_four_captions_one_of_them_twice(paragraphs: list[Paragraph]) -> None:
    assert kinds(paragraphs, "caption") == [
        "塔斯社报道截图",
        "联合国发言人推特截图",
        "塔斯社报道截图",
        "联合国秘书长古特雷斯及其代表团（左）在莫斯科会见俄罗斯外长拉夫罗夫\xa0 图源：联合国新闻",
    ]


def test_three_section_headings_each_glued_between_a_caption_and_the_next_sentence(
    paragraphs: list[Paragraph],
) -> None:
    assert kinds(paragraphs, "heading") == ["普京：我们不会拒绝谈判", "承认乌东独立，“科索沃有先例”", "“俄罗斯始终支持联合国”"]
    for p in paragraphs:
        if p.kind == "heading":
            assert paragraphs[p.n - 2].kind == "caption"
            assert paragraphs[p.n].kind == "body"
    after = {paragraphs[p.n].text[:7] for p in paragraphs if p.kind == "heading"}
    assert after == {"据塔斯社报道，", "在26日的会晤"}


def test_closing_byline(paragraphs: list[Paragraph]) -> None:
    assert paragraphs[-1] == Paragraph(len(paragraphs), "byline", "责任编辑：王蒙")
    assert kinds(paragraphs, "byline") == ["责任编辑：王蒙"]


def test_body_paragraphs_keep_the_300_character_rule(paragraphs: list[Paragraph]) -> None:
    body = kinds(paragraphs, "body")
    assert len(body) >= 15
    for p in body:
        assert len(p) <= MAX_BODY or sentences_outside_quotes(p) == 1, p


def test_nothing_lost_and_in_order(text: str, paragraphs: list[Paragraph]) -> None:
    joined = "".join(re.sub(r"\s+", "", p.text) for p in paragraphs)
    assert joined == re.sub(r"\s+", "", text)
    pos = 0
    for p in paragraphs:  # each paragraph is a slice of the source, after the one before
        found = text.find(p.text, pos)
        assert found >= 0, p
        pos = found + len(p.text)


def test_read_from_the_seeds_folder_with_its_title() -> None:
    problems = []
    article = next(a for a in read_articles(SEEDS, problems.append) if a.id == SEED.stem)
    assert article.title == "普京见联合国秘书长：承认乌东独立是学科索沃"
    assert article.source == SEED.name
    assert [p for p in problems if p.fatal] == []


def test_searchable_out_of_the_box(corpus) -> None:
    """The repository's seeds, indexed as `zhsearch serve` does on first run, answer 普京."""
    result = corpus.searcher.search("普京", size=100)
    seed_hits = [h for h in result["hits"] if h["article_id"] == SEED.stem]
    expected = {n for aid, n, text, _ in corpus.paragraphs if aid == SEED.stem and "普京" in text}
    assert {h["paragraph"] for h in seed_hits} == expected and len(expected) >= 20
    heading = corpus.searcher.search('"科索沃有先例"')
    assert [(h["article_id"], h["kind"]) for h in heading["hits"]][:1] == [(SEED.stem, "heading")]

