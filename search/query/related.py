"""Related articles: Whoosh's more-like-this over the ``words`` field, gathered per article.

An article's key terms are the words of its text that are frequent in it and rare in the index
(Whoosh's ``key_terms_from_text``, Bo1 model). The paragraphs of other articles that hold them are
found by one Whoosh query (an ``Or`` of the key terms, each boosted by its weight, the article's
own paragraphs masked out) and summed per article. The cost is bounded: at most
:data:`MAX_TEXT_CHARS` characters analysed, and key terms searched only while the paragraphs they
are in stay within :data:`MAX_POSTINGS` (a word common enough to pass it alone is no key to what
is alike anyway); Whoosh's search time grows with those postings, measured at ~10 µs each.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from whoosh import classify, query

FIELD = "words"
KEY_TERMS = 12  # words searched for, at most
MAX_POSTINGS = 4_000  # paragraphs the searched words are in, together (Whoosh scores ~100 k postings/s)
MAX_TEXT_CHARS = 10_000  # of an article's text, analysed for its key terms
MAX_PARAGRAPHS = 200  # best paragraphs of other articles gathered into articles
PARAGRAPHS_PER_ARTICLE = 3  # an article scores the sum of its best few paragraphs
MAX_RELATED = 20  # articles one request may ask for


def key_terms(searcher, text: str, count: int = KEY_TERMS) -> list[tuple[str, float]]:
    """The ``count`` words most characteristic of ``text`` against the index, with their weights
    (1.0 for the first), best first. Single characters and numbers are left out, and so is a word
    inside one already taken (``二十`` after ``二十大``: the analyzer indexes sub-words)."""
    reader = searcher.reader()
    # Whoosh's key_terms_from_text, with the live documents (doc_count) as the collection
    expander = classify.Expander(reader, FIELD, model=classify.Bo1Model(reader.doc_count(), reader.field_length(FIELD)))
    expander.add_text(text[:MAX_TEXT_CHARS])
    terms = expander.expanded_terms(4 * count, normalize=False)
    kept: list[tuple[str, float]] = []
    for word, weight in terms:
        if len(word) > 1 and not word.isdigit() and not any(word in w for w, _ in kept):
            kept.append((word, weight))
            if len(kept) == count:
                break
    top = kept[0][1] if kept and kept[0][1] > 0 else 1.0
    return [(word, weight / top) for word, weight in kept]


def related_articles(searcher, terms: list[tuple[str, float]], own: Iterable[int], article_of: Callable[[int], int],
                     rank_of: Callable[[int], int], size: int) -> list[tuple[int, float]]:
    """``(article, score)`` of the ``size`` articles whose paragraphs best match ``terms``, best
    first; the paragraphs ``own`` (the article's own) never count. ``article_of`` maps a Whoosh
    document number (a paragraph id) to its article, ``rank_of`` an article to its id's rank:
    paragraphs and articles of equal scores are taken in the order of their ids (then of the
    paragraphs' numbers), whatever the build history."""
    chosen, postings = [], 0
    for word, weight in terms:
        frequency = searcher.doc_frequency(FIELD, word)
        if frequency and postings + frequency <= MAX_POSTINGS:
            chosen.append(query.Term(FIELD, word, boost=weight))
            postings += frequency
    if not chosen or size < 1:
        return []
    wanted = query.Or(chosen)
    # every hit (at most MAX_POSTINGS), so that ties at the cut are broken by id, not by Whoosh's
    # document numbers
    hits = searcher.search(wanted, limit=None, mask=set(own), scored=True)
    found = sorted((-hit.score, rank_of(article_of(hit.docnum)), hit.docnum, hit.score) for hit in hits)
    best: dict[int, list[float]] = defaultdict(list)
    for _, _, docnum, score in found[:MAX_PARAGRAPHS]:
        scores = best[article_of(docnum)]
        if len(scores) < PARAGRAPHS_PER_ARTICLE:  # best first
            scores.append(score)
    ranked = sorted(((sum(scores), article) for article, scores in best.items()), key=lambda x: (-x[0], rank_of(x[1])))
    return [(article, score) for score, article in ranked[:size]]
