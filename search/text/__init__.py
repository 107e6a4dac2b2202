"""Text analysis: what both the build and the queries do to text.

* :mod:`.normalize` — NFKC, case folding, Traditional → Simplified (OpenCC), with offsets back
  to the original characters; a text's skeleton (normalised, without white space);
* :mod:`.analysis` — jieba's words (rjieba where it provably cuts the same), dictionary sub-words,
  the Whoosh analyzer of the ``words`` and ``title`` fields; the only importer of jieba;
* :mod:`.pinyin` — how characters sound (pypinyin), for did-you-mean and completions;
* :mod:`.phrase_pinyin` — how whole words are read (a polyphone as its word reads it: pypinyin's
  phrase dictionary), for the build's completion index only;
* :mod:`.userdict`, :mod:`.synonyms`, :mod:`.dictionary_files` — the two dictionary files of
  ``seeds/``, checked line by line.

Imports only :mod:`search.problems`; imported by every later stage.
"""
