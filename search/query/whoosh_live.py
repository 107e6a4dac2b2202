"""Whoosh's reader of a generation, with the statistics of its live documents.

Whoosh keeps a deleted document's postings until its segment is merged away and counts them in its
term and field statistics. More-like-this and did-you-mean ask Whoosh for those statistics and must
see what a whole build of the live articles would hold: :class:`LiveStatsReader` answers them
without what the deleted documents add (recorded with the generation, :mod:`search.build.deleted`),
and leaves everything else — postings, which already skip deleted documents, stored fields, the
lexicon, ``doc_count_all`` (Whoosh sizes its document sets by it) — to Whoosh's reader;
:class:`LiveBM25F` is Whoosh's BM25F with the live document count (``doc_count``) where BM25F takes
``doc_count_all``. Without deletions both give exactly what Whoosh's own give.
"""

from __future__ import annotations

from math import log

from whoosh import scoring
from whoosh.spelling import ReaderCorrector


class LiveStatsReader:
    """Whoosh's reader ``reader`` whose ``words`` statistics leave out the deleted documents
    (``deleted``: what they add, as :func:`search.build.deleted.write_deleted_statistics` wrote)."""

    def __init__(self, reader, deleted: dict):
        self._reader = reader
        self._documents = deleted.get("documents", 0)
        self._fields = {name: value for name, value in deleted.items() if isinstance(value, dict)}

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def __contains__(self, term) -> bool:
        """Whether a live document holds ``(fieldname, text)``."""
        return term in self._reader and (term[0] not in self._fields or self.doc_frequency(*term) > 0)

    def _deleted(self, fieldname: str, text) -> tuple[int, float]:
        found = self._fields.get(fieldname)
        if not found:
            return 0, 0.0
        word = text.decode("utf-8") if isinstance(text, bytes) else text
        return tuple(found["terms"].get(word, (0, 0.0)))

    def doc_frequency(self, fieldname: str, text) -> int:
        return self._reader.doc_frequency(fieldname, text) - self._deleted(fieldname, text)[0]

    def frequency(self, fieldname: str, text) -> float:
        return self._reader.frequency(fieldname, text) - self._deleted(fieldname, text)[1]

    def field_length(self, fieldname: str) -> int:
        found = self._fields.get(fieldname)
        return self._reader.field_length(fieldname) - (found["length"] if found else 0)

    def terms_within(self, fieldname: str, text: str, maxdist: int, prefix: int = 0):
        """The terms within ``maxdist`` edits of ``text`` that some live document holds."""
        for word in self._reader.terms_within(fieldname, text, maxdist, prefix=prefix):
            if self.doc_frequency(fieldname, word) > 0:
                yield word

    def corrector(self, fieldname: str) -> ReaderCorrector:
        return ReaderCorrector(self, fieldname, self._reader.schema[fieldname])


class LiveBM25F(scoring.BM25F):
    """Whoosh's BM25F whose collection is the live documents: the idf and the average field length
    divide by ``doc_count`` where Whoosh's divide by ``doc_count_all``."""

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return log(parent.doc_count() / (parent.doc_frequency(fieldname, text) + 1)) + 1

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        return _LiveBM25FScorer(searcher, fieldname, text, self._field_B.get(fieldname, self.B), self.K1, qf=qf)


class _LiveBM25FScorer(scoring.BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf=1):
        parent = searcher.get_parent()
        self.idf = parent.idf(fieldname, text)
        self.avgfl = parent.field_length(fieldname) / (parent.doc_count() or 1) or 1
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)
