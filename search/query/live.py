"""One open build (:class:`LiveBuild`): the stored paragraph texts (Whoosh), the match index, the
articles table, each paragraph's kind, the metadata arrays, synonyms and the words' pinyin.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..formats.articles import ArticleTable
from ..formats.completions import FOLDER as COMPLETIONS, CompletionIndex
from ..formats.layout import GRAMS, IN_PLACE, PARAGRAPH_KINDS, is_current_format, read_meta
from ..formats.metadata import MetadataIndex
from ..formats.pinyin_index import PinyinIndex
from ..match.grams import GramIndex
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
from .suggest import PinyinCorrector, Suggester, Vocabulary

RELATED_CACHE = 256  # articles whose key terms and related articles a build keeps at hand


class IndexMissing(RuntimeError):
    """No index has been built yet at the configured folder."""


@dataclass
class LiveBuild:
    """One open build: stored paragraph texts (Whoosh), the match index, the articles table and
    each paragraph's kind."""

    whoosh: object
    grams: GramIndex
    articles: ArticleTable  # (id, title, source) per article, in paragraph-id order
    kinds: np.ndarray  # paragraph id → position in paragraphs.KINDS
    in_place: np.ndarray  # paragraph id → 1 when its text folds in place
    meta: dict
    metadata: MetadataIndex = None  # per-article metadata arrays: filters, dates, facets
    synonyms: Synonyms = field(default_factory=Synonyms)  # the build's synonym groups
    article_index: np.ndarray = None  # paragraph id → position in ``articles``
    article_of: memoryview = None  # the same, as Python ints
    pinyin: PinyinIndex = None  # how the words sound (mapped), for did-you-mean
    suggester: Suggester = None  # did-you-mean, made on the first zero-hit query
    completer: Completer = None  # as-you-type completions (the completion index, mapped)
    _alike: OrderedDict = field(default_factory=OrderedDict)  # article position → (key terms, related)
    build: Path = None
    text: object = None  # paragraph id → its text (Whoosh's stored text, read directly)

    def __post_init__(self):
        self.text = text_reader(self.whoosh, self.build, self.grams.units, self.grams.bounds)
        sizes = self.grams.article_ends - self.grams.article_starts
        self.article_index = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
        # the same arrays as Python sequences, for a hit's few lookups: a Python int each, without
        # numpy's scalar machinery
        self.article_of = memoryview(self.article_index)
        self._kinds, self._in_place = memoryview(self.kinds), memoryview(self.in_place)
        self._article_starts = memoryview(self.grams.article_starts)
        # not ``self``: the suggester must not keep the build alive (#14). The match index maps the
        # words of Whoosh's ``words`` lexicon (the same sorted list), and the build their pinyin
        whoosh, lexicon, pinyin = self.whoosh, self.grams.words, self.pinyin
        self.suggester = Suggester(lambda: PinyinCorrector(Vocabulary.from_whoosh(whoosh.reader(), lexicon=lexicon),
                                                           pinyin),
                                   spelled=self.completer.spelled if self.completer is not None else None)

    @classmethod
    def open(cls, build: Path) -> "LiveBuild":
        meta = read_meta(build)
        if not is_current_format(meta):
            raise IndexMissing(f"the index at {build} was built by another version; run `zhsearch index`")
        searcher = open_index(build).searcher()  # shared, not copied per worker
        try:
            grams = GramIndex(build / GRAMS, *skeleton_arrays(skeleton_column_path(searcher, build)))
            kinds = np.asarray(np.load(build / PARAGRAPH_KINDS, mmap_mode="r"))
            in_place = np.asarray(np.load(build / IN_PLACE, mmap_mode="r"))
            articles = ArticleTable(build)
            pinyin = PinyinIndex.load(build / GRAMS)
            completer = Completer(CompletionIndex(build / COMPLETIONS, grams.words))
        except BaseException:
            searcher.close()
            raise
        if (not searcher.doc_count_all() == grams.count == len(kinds) == len(in_place)
                or len(articles) != len(grams.article_starts)):
            searcher.close()
            raise IndexMissing(f"the index at {build} is incomplete; run `zhsearch index`")
        metadata = MetadataIndex(build, len(articles))
        synonyms = read_synonyms(build / SYNONYMS, lambda problem: None)  # reported when it was built
        analysis.add_user_words(read_user_dictionary(build / USERDICT, lambda problem: None))
        return cls(searcher, grams, articles, kinds, in_place, meta, metadata, synonyms, pinyin=pinyin,
                   completer=completer, build=build)

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
                                                    related.MAX_RELATED)
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
        # files go as soon as the last reference does, not at the next cyclic GC (#14)
        self.suggester = None
