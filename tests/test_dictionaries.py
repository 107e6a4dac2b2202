"""seeds/userdict.txt and seeds/synonyms.txt: read, reported, applied at index and query time."""

from __future__ import annotations

from pathlib import Path

from search.build.indexer import build_index
from search.config import Settings
from search.paragraphs import read_articles
from search.query.searcher import Searcher
from search.text import analysis
from search.text.normalize import normalize
from search.text.userdict import parse_user_dictionary

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def build(root: Path, files: dict[str, str]) -> tuple[Searcher, list]:
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for name, text in files.items():
        (seeds / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / name).write_text(text, encoding="utf-8")
    problems = []
    settings = Settings(seeds_dir=seeds, index_dir=root / "index", refresh_interval=0)
    build_index(settings, jobs=1, report=problems.append)
    return Searcher(settings), problems


def test_user_dictionary_lines_and_their_problems() -> None:
    problems = []
    entries = parse_user_dictionary("# 注释\n云计算平台 3000 n\n张伟 nr\nＮＡＴＯ峰会\n坏 行 多 了\n\n词 12x\n".encode(),
                                    problems.append)
    assert entries == [("云计算平台", 3000, "n"), ("张伟", None, "nr"), ("nato峰会", None, None)]
    assert [(p.path, p.line) for p in problems] == [("userdict.txt", 5), ("userdict.txt", 7)]


def test_the_dictionary_files_are_not_articles(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    for name in ("userdict.txt", "synonyms.txt", "sub/synonyms.txt", "a.txt"):
        (seeds / name).write_text("北约,北大西洋公约组织\n", encoding="utf-8")
    problems = []
    assert sorted(a.id for a in read_articles(seeds, problems.append)) == ["a", "synonyms"]  # only the top level
    assert problems == []


def test_a_dictionary_word_turns_a_substring_match_into_a_word_match(tmp_path: Path) -> None:
    article = {"a.txt": "张伟大学毕业后回到家乡，在县城当老师。"}
    plain, _ = build(tmp_path / "plain", article)
    try:
        before = plain.search("张伟", explain=True)["hits"][0]
    finally:
        plain.close()
    assert before["explain"]["terms"][0]["match"] == "substring"  # jieba cuts 张/伟大/学
    with_dictionary, problems = build(tmp_path / "dict", {**article, "userdict.txt": "张伟 2000 nr\n坏行 x y z\n"})
    try:
        after = with_dictionary.search("张伟", explain=True)["hits"][0]
    finally:
        with_dictionary.close()
    assert after["explain"]["terms"][0]["match"] == "word"
    assert after["score"] > before["score"]
    assert [(p.path, p.line) for p in problems] == [("userdict.txt", 2)]


def test_jieba_and_rjieba_cut_the_same_with_the_user_dictionary() -> None:
    analysis.add_user_words(parse_user_dictionary("磁浮穿梭巴士 50\n乌东独立公投\n星链卫星群 n\n".encode(), print))
    texts = ["新型磁浮穿梭巴士今天试运行。", "他提出乌东独立公投的主张，星链卫星群发射成功。"]
    for article in read_articles(REPO_SEEDS, lambda problem: None):
        texts.extend(p.text for p in article.paragraphs)
    assert analysis._fast_cut() is not None
    for text in texts:
        normalized = normalize(text)
        assert analysis._fast_cut()(normalized) == list(analysis.segmenter().cut(normalized, HMM=True)), text
    assert "磁浮穿梭巴士" in analysis.cut(normalize("新型磁浮穿梭巴士今天试运行。"))


def test_synonyms_match_every_member_and_a_phrase_only_itself(tmp_path: Path) -> None:
    searcher, problems = build(tmp_path, {
        "synonyms.txt": "北约,北大西洋公约组织,NATO\n只有一个\n",
        "x.txt": "北约峰会在布鲁塞尔举行。",
        "y.txt": "北大西洋公约组织发表声明。",
        "z.txt": "Nato officials met today.",
        "w.txt": "欧盟峰会也在举行。",
    })
    try:
        bare = searcher.search("北约")
        assert sorted(h["article_id"] for h in bare["hits"]) == ["x", "y", "z"] and bare["total"] == 3
        marks = {h["article_id"]: h["highlight"] for h in bare["hits"]}
        assert "<mark>北约</mark>" in marks["x"] and "<mark>北大西洋公约组织</mark>" in marks["y"]
        assert "<mark>Nato</mark>" in marks["z"]
        assert [h["article_id"] for h in searcher.search('"北约"')["hits"]] == ["x"]
        assert sorted(h["article_id"] for h in searcher.search("峰会 -nato")["hits"]) == ["w"]
    finally:
        searcher.close()
    assert [(p.path, p.line) for p in problems] == [("synonyms.txt", 2)]
