"""The hits of one page: a paragraph's text, highlight, metadata and explanation, and articles
grouped with their best paragraphs.
"""

from __future__ import annotations

import numpy as np

from .evaluate import WHOLE_WORD_BONUS, unit_scores
from .explain import explain_hit
from .live import LiveBuild
from .parser import ParsedQuery, Unit

GROUP_PARAGRAPHS = 3  # a grouped hit's best paragraphs


class HitMaker:
    """Builds the hits of one page: paragraph, highlight, metadata and, when asked, the explanation."""

    def __init__(self, live: LiveBuild, parsed: ParsedQuery, gids: np.ndarray, scores: np.ndarray, explain: bool):
        self.live, self.gids, self.scores = live, gids, scores
        self.keys = parsed.highlight_keys()
        self.units = list(dict.fromkeys(unit for group in parsed.groups for unit in group)) if explain else None
        self._unit_scores: dict = {}

    def __call__(self, i: int) -> dict:
        """The hit of ``gids[i]``."""
        live, gid = self.live, int(self.gids[i])
        paragraph = live.paragraph(gid)
        position = live.article_of[gid]
        hit = {
            "article_id": paragraph["article_id"],
            "article_title": paragraph["article_title"],
            "paragraph": paragraph["n"],
            "kind": paragraph["kind"],
            "score": round(float(self.scores[i]), 4),
            "text": paragraph["text"],
            "highlight": live.highlight(gid, paragraph["text"], self.keys),
            "metadata": live.metadata.of_article(position),
        }
        if self.units is not None:
            hit["explain"] = explain_hit(paragraph["text"], live.articles[position][1], self.units,
                                         [self._parts(unit, gid) for unit in self.units], float(self.scores[i]))
        return hit

    def article(self, position: int, total: int, best: list[int]) -> dict:
        """The grouped hit of article ``position``: its ``total`` matching paragraphs and the best
        of them (``best``: indexes into gids, best first)."""
        article_id, title, _ = self.live.articles[position]
        return {"article_id": article_id, "article_title": title,
                "metadata": self.live.metadata.of_article(position),
                "score": round(float(self.scores[best[0]]), 4), "total": total,
                "paragraphs": [self(i) for i in best]}

    def _parts(self, unit: Unit, gid: int) -> tuple[float, float, bool]:
        found = self._unit_scores.get(unit)
        if found is None:
            found = self._unit_scores[unit] = unit_scores(self.live, unit)
        gids, bm25, whole = found
        at = int(np.searchsorted(gids, gid))
        if at >= len(gids) or gids[at] != gid:
            return 0.0, 0.0, False
        is_whole = bool(whole[at]) if whole is not None else False
        return float(bm25[at]), WHOLE_WORD_BONUS if is_whole else 0.0, is_whole


def articles_ranked(live: LiveBuild, gids: np.ndarray, order: np.ndarray):
    """The matching articles in the order of their best paragraph, and a function giving an
    article's number of matching paragraphs and the indexes into ``gids`` of its best
    ``GROUP_PARAGRAPHS``, best first."""
    articles = live.article_index[gids[order]]
    found, first = np.unique(articles, return_index=True)
    ranked = found[np.argsort(first, kind="stable")]
    grouped = order[np.argsort(articles, kind="stable")]  # by article, best first within each
    counts = np.bincount(articles, minlength=len(live.articles))
    starts = np.cumsum(counts) - counts

    def paragraphs_of(position: int) -> tuple[int, list[int]]:
        count = int(counts[position])
        return count, grouped[starts[position]: starts[position] + min(GROUP_PARAGRAPHS, count)].tolist()

    return ranked, paragraphs_of
