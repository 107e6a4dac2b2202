"""Speed-up prototypes, applied as monkeypatches inside a benchmark process only.

Nothing here changes ``search/``: each prototype is selected by name (``--variant a,b``) in a
benchmark run so that its gain is measured side by side with the unpatched code. The README
says which change to make in ``search/`` for each one that pays.

Indexing prototypes
  rjieba     segment with rjieba (jieba-rs) instead of jieba; jieba's FREQ still picks sub-words
  fastlen    give Whoosh's posting writer the field lengths from memory instead of one
             seek+read of the length column per posting (identical index bytes)
  nocompress W3Codec(compression=0): posting blocks are not zlib-compressed
  flat       compound=False: skip copying the segment files into one compound .seg file
  single     force one process (procs=1) whatever --jobs says
  segments   procs=jobs with multisegment=True (Whoosh's MpWriter, no final merge)
  merged     procs=jobs with multisegment=False (MpWriter, sub-segments merged at the end)
  gidcolumn  ``gid`` as a column-only field instead of an indexed NUMERIC (8 trie terms per paragraph)
  wordsfreq  the ``words`` field without positions (TEXT(phrase=False)): valid once whole-word
             checks stop using Whoosh phrase queries (see ``boundaries``)
  boundaries no ``words`` field in Whoosh at all; jieba still cuts every paragraph and the word
             starts are kept as one uint8 array beside the gram index (1 where a word starts), so
             a whole-word match is "key starts and ends on a boundary" — the cost model of moving
             the whole-word bonus out of Whoosh

Search prototypes (latency.py / http_throughput.py)
  fastwords  the whole-word bonus query uses rjieba for the query's cut
  nohl       skip the highlight (to measure its share; not a candidate change)
  fastfold   highlight's ``fold``: when the simplified text has no ignorable character (the usual
             case), take it whole as the skeleton instead of testing every character in Python
  nowords    skip the whole-word bonus lookup (``GramIndex.have_words`` today, Whoosh's ``words``
             field when written: the ceiling of what moving that lookup can gain; ranking changes,
             so not a change as is)
"""

from __future__ import annotations

KNOWN = {"rjieba", "fastlen", "nocompress", "flat", "single", "segments", "merged", "fastwords", "nohl", "nowords", "fastfold",
         "limit64", "limit512", "gidcolumn", "wordsfreq", "boundaries"}


def parse(spec: str | None) -> list[str]:
    names = [v.strip() for v in (spec or "").split(",") if v.strip() and v.strip() != "base"]
    unknown = set(names) - KNOWN
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN))}")
    return names


# -- rjieba -----------------------------------------------------------------------------------------


class RJiebaSegmenter:
    """Quacks like the ``jieba.Tokenizer`` that :func:`search.text.analysis.segmenter` returns."""

    def __init__(self, jieba_tokenizer):
        import rjieba

        self._cut = rjieba.cut
        self.FREQ = jieba_tokenizer.FREQ

    def cut(self, text, HMM=True):  # noqa: N803 - jieba's spelling
        return self._cut(text, HMM)


def use_rjieba() -> None:
    from search.text import analysis

    original = analysis.segmenter()
    proxy = RJiebaSegmenter(original)
    analysis.segmenter = lambda: proxy


# -- Whoosh writer ----------------------------------------------------------------------------------


class _LengthsInMemory:
    """The ``doc_field_length`` that ``FieldWriter.add_postings`` asks once per posting."""

    def __init__(self, pdr):
        self._pdr = pdr
        self._cache = {}

    def doc_field_length(self, docnum, fieldname, default=0):
        lengths = self._cache.get(fieldname)
        if lengths is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
            from whoosh.util.numeric import byte_to_length

            lenfield = _lenfield(fieldname)
            if self._pdr.has_column(lenfield):
                # one sequential read of the whole column, decoded once
                table = [byte_to_length(b) if b else None for b in range(256)]
                lengths = [table[b] for b in self._pdr.column_reader(lenfield, LENGTHS_COLUMN)]
            else:
                lengths = []
            self._cache[fieldname] = lengths
        if docnum < len(lengths):
            return lengths[docnum]
        return default


def use_fastlen() -> None:
    from whoosh.writing import SegmentWriter

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _LengthsInMemory(pdr) if pdr is not None else None
        postings = self.pool.iter_postings()
        self.fieldwriter.add_postings(self.schema, lengths, postings)
        self.fieldwriter.close()
        if pdr:
            pdr.close()

    SegmentWriter._flush_segment = _flush_segment


def override_writer(names: list[str], jobs: int) -> None:
    """Patch ``FileIndex.writer`` so build_index's writer gets the chosen settings."""
    from whoosh.index import FileIndex

    original = FileIndex.writer
    extra: dict = {}
    if "nocompress" in names:
        from whoosh.codec.whoosh3 import W3Codec

        extra["codec"] = W3Codec(compression=0)
    if "flat" in names:
        extra["compound"] = False
    if "limit64" in names:
        extra["limitmb"] = 64
    if "limit512" in names:
        extra["limitmb"] = 512
    procs = None
    if "single" in names:
        procs, multisegment = 1, False
    elif "segments" in names:
        procs, multisegment = max(2, jobs), True
    elif "merged" in names:
        procs, multisegment = max(2, jobs), False
    if not extra and procs is None:
        return

    def writer(self, procs_=None, **kwargs):
        kwargs.update(extra)
        p = kwargs.pop("procs", procs_ or 1)
        if procs is not None:
            p = procs
            kwargs["multisegment"] = multisegment
        if p <= 1:
            kwargs.pop("multisegment", None)
        if p > 1 and "codec" in kwargs:
            kwargs.setdefault("subargs", {k: v for k, v in kwargs.items() if k != "multisegment"})
        return original(self, procs=p, **kwargs)

    FileIndex.writer = writer


def patch_schema(names: list[str]) -> None:
    """Schema prototypes against the gram-index design (indexer.make_schema + _Grams)."""
    if not {"gidcolumn", "wordsfreq", "boundaries"} & set(names):
        return
    from whoosh import columns, fields

    from search.build import analyse, indexer
    from search.text import analysis

    original = analyse.make_schema  # what the build's cached_schema() calls

    def make_schema():
        schema = original()
        if "gidcolumn" in names and "gid" in schema.names():
            schema.remove("gid")
            schema.add("gid", fields.COLUMN(columns.NumericColumn("I")))
        if "wordsfreq" in names and "words" in schema.names():
            analyzer = schema["words"].analyzer
            schema.remove("words")
            schema.add("words", fields.TEXT(analyzer=analyzer, phrase=False))
        if "boundaries" in names and "words" in schema.names():
            schema.remove("words")
        return schema

    analyse.make_schema = make_schema
    analyse.cached_schema.cache_clear()
    if "boundaries" in names:
        if not hasattr(indexer, "_Grams"):
            raise SystemExit("prototype 'boundaries' no longer applies: the match index keeps the words "
                             "(search/match/builder.py) since 78d3e32")
        grams_cls = indexer._Grams
        add_article = grams_cls.add_article
        save = grams_cls.save

        def add_article_b(self, article):
            if not hasattr(self, "_bounds"):
                self._bounds = bytearray()
            tk = analysis.segmenter()
            for doc in add_article(self, article):
                normalized = doc.pop("words")
                marks = bytearray(len(normalized) + 1)
                at = 0
                for word in tk.cut(normalized, HMM=True):
                    marks[at] = 1
                    at += len(word)
                marks[at] = 1
                self._bounds += marks  # (a real version maps to skeleton units; same cost order)
                yield doc

        def save_b(self, folder):
            import numpy as np

            save(self, folder)
            np.save(folder / "word_starts.npy", np.frombuffer(bytes(getattr(self, "_bounds", b"")), dtype=np.uint8))

        grams_cls.add_article = add_article_b
        grams_cls.save = save_b


def apply_index(names: list[str], jobs: int) -> None:
    patch_schema(names)
    if "rjieba" in names:
        use_rjieba()
    if "fastlen" in names:
        use_fastlen()
    override_writer(names, jobs)


# -- search side ------------------------------------------------------------------------------------


def apply_search(names: list[str]) -> None:
    if "fastwords" in names or "rjieba" in names:
        use_rjieba()
    if "nohl" in names:
        from search.query import live

        live.highlight = lambda text, keys: text  # what LiveBuild.highlight calls
    if "fastfold" in names:
        from search.query import highlight
        from search.text import normalize

        slow_fold = normalize.fold

        def fold(text):
            width_case, starts, ends = normalize._fold_width_case_with_offsets(text)
            simplified = normalize._to_simplified(width_case)
            if simplified.isprintable() and " " not in simplified:  # nothing ignorable: skeleton = all
                return normalize.Folded(original=text, skeleton=simplified, starts=tuple(starts), ends=tuple(ends))
            return slow_fold(text)

        highlight.fold = fold
    if "nowords" in names:
        import numpy as np

        from search.match.grams import GramIndex

        GramIndex.have_words = lambda self, gids, words: np.zeros(len(gids), dtype=bool)
