"""The live generation, open (:class:`LiveBuild`): the stored paragraph texts (Whoosh), each
segment's match index answered together (:mod:`search.query.segmented`), and the generation's own
tables: which paragraphs are live, each paragraph's article and kind, the articles table and their
ranks by id, the metadata arrays, the synonyms and the live vocabulary with its pinyin.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.searching import Searcher as WhooshSearcher

from ..formats.arrays import mapped
from ..formats.articles import ArticleTable
from ..formats.completions import FOLDER as COMPLETIONS, CompletionIndex
from ..formats.layout import (
    ARTICLE_INDEX,
    ARTICLE_RANK,
    DELETED_STATISTICS,
    GRAMS,
    IN_PLACE,
    LIVE,
    PARAGRAPH_KINDS,
    VOCABULARY,
    is_current_format,
    read_meta,
    segment_folder,
)
from ..formats.metadata import MetadataIndex
from ..formats.pinyin_index import PinyinIndex
from ..match.skeletons import mapped_words
from ..paragraphs import KINDS
from ..segment.codec import skeleton_column_path, text_reader
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index
from ..text import analysis
from ..text.synonyms import FILE_NAME as SYNONYMS, Synonyms, read_synonyms
from ..text.userdict import FILE_NAME as USERDICT, read_user_dictionary
from . import related
from .completions import Completer
from .highlight import highlight, mark, skeleton_spans
from .rank_floor import RankFloor
from .segmented import SegmentedIndex, open_segments
from .suggest import PinyinCorrector, Suggester, Vocabulary
from .whoosh_live import LiveBM25F, LiveStatsReader

RELATED_CACHE = 256  # articles whose key terms and related articles a build keeps at hand


class IndexMissing(RuntimeError):
    """No index has been built yet at the configured folder."""


@dataclass
class LiveBuild:
    """The live generation, open: what answering a query needs of it."""

    whoosh: object  # Whoosh's searcher, with the live documents' statistics
    grams: SegmentedIndex
    articles: ArticleTable  # (id, title, source) per article of the generation
    kinds: np.ndarray  # paragraph id → position in paragraphs.KINDS
    in_place: np.ndarray  # paragraph id → 1 when its text folds in place
    meta: dict
    metadata: MetadataIndex = None  # per-article metadata arrays: filters, dates, facets
    synonyms: Synonyms = field(default_factory=Synonyms)  # the build's synonym groups
    article_index: np.ndarray = None  # paragraph id → position in ``articles``
    article_rank: np.ndarray = None  # article position → its id's rank (ties are broken by it)
    pinyin: PinyinIndex = None  # how the live words sound (mapped), for did-you-mean
    lexicon: object = None  # the live words, sorted (mapped)
    texts: list = field(default_factory=list)  # per segment: paragraph id there → its text
    suggester: Suggester = None  # did-you-mean, made on the first zero-hit query
    completer: Completer = None  # as-you-type completions (the completion index, mapped)
    _alike: OrderedDict = field(default_factory=OrderedDict)  # article position → (key terms, related)
    build: Path = None

    def __post_init__(self):
        # the same arrays as Python sequences, for a hit's few lookups: a Python int each, without
        # numpy's scalar machinery
        self.article_of = memoryview(self.article_index)
        self._kinds, self._in_place = memoryview(self.kinds), memoryview(self.in_place)
        self._rank = memoryview(self.article_rank)
        self._bases = self.grams.bases
        self._article_starts = memoryview(self.grams.article_starts)
        # not ``self``: the suggester must not keep the build alive
        whoosh, lexicon, pinyin = self.whoosh, self.lexicon, self.pinyin
        self.suggester = Suggester(lambda: PinyinCorrector(Vocabulary.from_whoosh(whoosh.reader(), lexicon=lexicon),
                                                           pinyin),
                                   spelled=self.completer.spelled if self.completer is not None else None)

    @functools.cached_property
    def rank_floor(self) -> RankFloor:
        """The least rank by id of any range of articles, as a bound (made on first use)."""
        return RankFloor(self.article_rank)

    @classmethod
    def open(cls, build: Path) -> "LiveBuild":
        meta = read_meta(build)
        if not is_current_format(meta):
            raise IndexMissing(f"the index at {build} was built by another version; run `zhsearch index`")
        reader = open_index(build).reader()  # shared, not copied per worker
        try:
            readers = reader.readers if hasattr(reader, "readers") else [reader]
            arrays = [skeleton_arrays(skeleton_column_path(r, build)) for r in readers]
            folders = [segment_folder(build, r.segment().segid) / GRAMS for r in readers]
            live = mapped(build / LIVE)
            grams = open_segments(folders, arrays, live)
            texts = [text_reader(r, build, *found) for r, found in zip(readers, arrays)]
            kinds, in_place = mapped(build / PARAGRAPH_KINDS), mapped(build / IN_PLACE)
            article_index, article_rank = mapped(build / ARTICLE_INDEX), mapped(build / ARTICLE_RANK)
            articles = ArticleTable(build)
            pinyin = PinyinIndex.load(build / VOCABULARY)
            lexicon = mapped_words(build / VOCABULARY)
            deleted = json.loads((build / DELETED_STATISTICS).read_text(encoding="utf-8"))
            completer = Completer(CompletionIndex(build / COMPLETIONS, lexicon))
        except BaseException:
            reader.close()
            raise
        if (not reader.doc_count_all() == grams.count == len(kinds) == len(in_place) == len(live) == len(article_index)
                or len(articles) != len(grams.article_starts) or len(article_rank) != len(articles)):
            reader.close()
            raise IndexMissing(f"the index at {build} is incomplete; run `zhsearch index`")
        whoosh = WhooshSearcher(LiveStatsReader(reader, deleted) if grams.has_deletions else reader, weighting=LiveBM25F)
        metadata = MetadataIndex(build, len(articles))
        synonyms = read_synonyms(build / SYNONYMS, lambda problem: None)  # reported when it was built
        analysis.add_user_words(read_user_dictionary(build / USERDICT, lambda problem: None))
        return cls(whoosh, grams, articles, kinds, in_place, meta, metadata, synonyms, article_index, article_rank,
                   pinyin, lexicon, texts, completer=completer, build=build)

    def text(self, gid: int) -> str:
        """Paragraph ``gid``'s text."""
        n = bisect.bisect_right(self._bases, gid) - 1
        return self.texts[n](gid - self._bases[n])

    def paragraph(self, gid: int) -> dict:
        """Paragraph ``gid``: its article's id and title, its number in the article, kind, text."""
        position = self.article_of[gid]
        article_id, title, _ = self.articles[position]
        return {"article_id": article_id, "article_title": title,
                "n": gid - self._article_starts[position] + 1, "kind": KINDS[self._kinds[gid]],
                "text": self.text(gid)}

    def alike(self, position: int) -> tuple[list[tuple[str, float]], list[tuple[int, float]]]:
        """The key terms of the ``position``-th article and the articles most like it (up to
        ``related.MAX_RELATED``, best first), kept for the most recently asked articles."""
        found = self._alike.get(position)
        if found is None:
            gids = self.grams.article_gids(position)
            texts, length = [], 0
            for gid in gids:
                if length >= related.MAX_TEXT_CHARS:
                    break
                texts.append(self.text(gid))
                length += len(texts[-1]) + 1
            terms = related.key_terms(self.whoosh, "\n".join(texts))
            found = terms, related.related_articles(self.whoosh, terms, gids, self.article_of.__getitem__,
                                                    self._rank.__getitem__, related.MAX_RELATED)
            self._alike[position] = found
            if len(self._alike) > RELATED_CACHE:
                self._alike.popitem(last=False)
        else:
            self._alike.move_to_end(position)
        return found

    def highlight(self, gid: int, text: str, keys: list[str]) -> str:
        """Paragraph ``gid``'s text with ``keys`` marked; its skeleton is at hand in the match index,
        so a text that folds in place is not folded again: the keys' spans in its skeleton are
        its own."""
        if self._in_place[gid]:
            return mark(text, skeleton_spans(self.grams.skeletons[gid], keys))
        return highlight(text, keys)

    def close(self) -> None:
        self.whoosh.close()
        # the suggester's loader refers back to this build; dropping it lets the build's mapped
        # files go as soon as the last reference does, not at the next cyclic GC
        self.suggester = None
