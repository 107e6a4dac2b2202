"""Shared fixtures: small real indexes built in temp folders, and a Falcon test client over them."""

from __future__ import annotations

import os
import shutil
import socket
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from falcon import testing
from hypothesis import HealthCheck, settings

from search.build.indexer import build_index
from search.config import Settings
from search.paragraphs import read_articles
from search.query.searcher import Searcher
from search.text.normalize import normalize, skeleton
from search.web.app import create_app

REPO = Path(__file__).resolve().parent.parent
REPO_SEEDS = REPO / "seeds"
TEST_ARTICLES = Path(__file__).resolve().parent / "data" / "articles"

# Hypothesis's profiles. No deadline: an example's time says more about the machine's other load
# (two shared cores) and first-call loads (jieba's and pypinyin's dictionaries) than about the code,
# and the tests that care about speed compare against a baseline instead. Nor the health check
# on slow generation, for the same reason. In CI (CI set) the examples are derandomised, so that a
# run is repeatable, and a failure prints the blob that reproduces it (@reproduce_failure).
# HYPOTHESIS_PROFILE picks one by name.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@dataclass
class Corpus:
    """A built index plus the paragraphs it was built from, for brute-force oracles."""

    settings: Settings
    searcher: Searcher
    paragraphs: list  # (article_id, n, text, skeleton)

    def containing(self, *keys: str) -> set[tuple[str, int]]:
        """Paragraphs whose normalised skeleton contains every key (the oracle for search)."""
        return {(aid, n) for aid, n, _, skel in self.paragraphs if all(k in skel for k in keys)}


def free_port() -> int:
    """A TCP port on 127.0.0.1 free a moment ago, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def traced(action):
    """(peak bytes tracemalloc traces while ``action()`` runs, what it returned): the result stays
    alive until the peak is read, so what was opened counts."""
    tracemalloc.start()
    try:
        result = action()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def written_posting_lists(folder: Path, lists: list[list[int]]):
    """``lists`` written as the match index writes posting lists (one run, merged) into ``folder``:
    all their ids in order, and the lists opened again."""
    from search.match import postings

    runs = postings.PostingRuns(folder, "t", counts=False)
    docs = np.array([d for docs in lists for d in docs], dtype=np.uint32)
    runs.add_run(np.repeat(np.arange(len(lists)), [len(docs) for docs in lists]), docs)
    runs.merge(postings.DocIdsWriter(folder, "t"), postings.NpyAppender(folder / "t_offsets.npy", postings.POSITION))
    return docs, postings.PostingLists(folder, "t")


def failing_on(real, marker: str):
    """``real``, but raising where its text holds ``marker``: a bug hit at one word."""

    def failing(text):
        if marker in text:
            raise RuntimeError("a bug in the readings")
        return real(text)

    return failing


def index_articles(root: Path, articles: dict[str, str], report=None) -> Settings:
    """A real index built under ``root`` from ``articles`` (id → the text of a .txt file); with
    ``report``, strictly, every problem passed to it."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for article_id, text in articles.items():
        (seeds / f"{article_id}.txt").write_text(text, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    if report is None:
        build_index(settings, jobs=1)
    else:
        build_index(settings, jobs=1, strict=True, report=report)
    return settings


def index_records(root: Path, records: list[dict]) -> Settings:
    """A real index built under ``root`` from JSONL ``records`` (``{"id", "title", "text", …}``)."""
    import json

    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index", refresh_interval=0)
    build_index(settings, jobs=1)
    return settings


def index_seed_files(root: Path, *files: Path) -> Settings:
    """A real index built under ``root`` from copies of seed ``files`` (a JSONL feed, say)."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for path in files:
        shutil.copy(path, seeds / path.name)
    settings = Settings(seeds_dir=seeds, index_dir=root / "index", refresh_interval=0)
    build_index(settings, jobs=1)
    return settings


def break_reconstruction(monkeypatch, marker: str) -> None:
    """Make paragraph reconstruction raise (as a bug would) for every text containing ``marker``."""
    import search.paragraphs.reading as reading

    real = reading.split_text

    def split_text(text: str, *args, **kwargs):
        if marker in text:
            raise IndexError("string index out of range")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(reading, "split_text", split_text)


def make_corpus(seeds: Path, index: Path) -> Corpus:
    settings = Settings(seeds_dir=seeds, index_dir=index, refresh_interval=0)
    build_index(settings, jobs=1)
    paragraphs = [
        (article.id, p.n, p.text, skeleton(normalize(p.text)))
        for article in read_articles(seeds, lambda problem: None)
        for p in article.paragraphs
    ]
    return Corpus(settings, Searcher(settings), paragraphs)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    """The repository's seeds plus the test articles, indexed once per session."""
    root = tmp_path_factory.mktemp("corpus")
    seeds = root / "seeds"
    shutil.copytree(REPO_SEEDS, seeds)
    shutil.copytree(TEST_ARTICLES, seeds / "test-articles")
    built = make_corpus(seeds, root / "index")
    yield built
    built.searcher.close()


@pytest.fixture(scope="session")
def client(corpus) -> testing.TestClient:
    """A Falcon test client over the session corpus."""
    return testing.TestClient(create_app(corpus.settings, searcher=corpus.searcher))


def fetch_all(searcher: Searcher, q: str) -> tuple[int, list[dict]]:
    """Every hit of ``q``, paging through the results."""
    first = searcher.search(q, page=1, size=100)
    hits = list(first["hits"])
    page = 2
    while len(hits) < first["total"]:
        more = searcher.search(q, page=page, size=100)["hits"]
        if not more:
            break
        hits.extend(more)
        page += 1
    return first["total"], hits


@pytest.fixture(autouse=True, scope="session")
def private_whoosh_scratch(tmp_path_factory):
    """Whoosh's RamStorage keeps an index writer's scratch in ``<tmp>/MAIN.tmp``, a name every
    process on the machine shares: two test runs at once lose each other's files. Here each gets
    a folder of its own in this run's temporary folder."""
    import itertools

    from whoosh.filedb.filestore import FileStorage, RamStorage

    original, numbers = RamStorage.temp_storage, itertools.count()
    base = tmp_path_factory.mktemp("whoosh-scratch")

    def private(self, name=None):
        return FileStorage(str(base / f"{name or 'scratch'}-{next(numbers)}")).create()

    RamStorage.temp_storage = private
    yield
    RamStorage.temp_storage = original
