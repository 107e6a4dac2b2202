"""Answering queries, as plain data shaped like the JSON API (nothing here knows HTTP).

* :mod:`.parser` — the query language: terms, phrases, OR, exclusions, ``title:``, filters;
* :mod:`.searcher` — the :class:`~.searcher.Searcher`: the live build, followed across swaps, and
  the search, article, related and health answers;
* :mod:`.live` — one open build and what it holds: its segments' match indexes as one
  (:mod:`.segmented`), Whoosh's statistics of the live documents only (:mod:`.whoosh_live`);
* :mod:`.evaluate` — matching and ranking on the match index, filters, the order of results;
* :mod:`.pruned` — a page ranked from what can still enter it, with exact totals and facets,
  from the matches worked out without scores (:mod:`.lookup`), passing over blocks of tied
  matches whose articles come after the page's last (:mod:`.rank_floor`);
* :mod:`.hits` — a page's hits and grouped articles;
* :mod:`.highlight`, :mod:`.explain` — marks mapped back to the original characters; why a hit
  matched and scored as it did;
* :mod:`.suggest` — did-you-mean from the index's own words (pinyin too);
* :mod:`.completions` — as-you-type completions from the build's completion index;
* :mod:`.related` — related articles and key terms (Whoosh's more-like-this);
* :mod:`.near`, :mod:`.patterns`, :mod:`.operators` — ``A NEAR/N B`` and ``?``/``*`` wildcards in
  phrases, and the paragraphs they match;
* :mod:`.research` — the research views of the searcher: :mod:`.timeline` (attention over time),
  :mod:`.concordance` (keyword in context), :mod:`.export` (every matching paragraph, written by
  :mod:`.tabular` as CSV or JSON lines).

Imports :mod:`search.text`, :mod:`search.paragraphs`, :mod:`search.formats`,
:mod:`search.segment` and :mod:`search.match`; imported by :mod:`search.web` and :mod:`search.cli`.
"""
