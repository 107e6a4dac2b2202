"""Reading the seeds folder and splitting articles into classified paragraphs.

A search hit is a paragraph, so this package turns every input article into a tuple of
:class:`Paragraph` objects, each an exact slice of the source text with a ``kind`` (title, lead,
heading, caption, body, byline). One job per module, data flowing down the list:

* :mod:`.reading` — seed files (.txt, .md, .jsonl) into articles; bad input reported;
  :mod:`.metadata` — an article's metadata (front matter, JSON fields) checked and normalised;
  :mod:`.scan` — what changed in the seeds since the live generation, for updates, its entries
  kept as columns by :mod:`.entries`;
* :mod:`.lines` — line-broken text: a line is a paragraph;
* :mod:`.runon` — run-on text: title, dateline lead, captions, headings, byline;
* :mod:`.cues` — the news conventions those recognise (regular expressions), read through
  :mod:`.script` (a Simplified view of the text, the same length);
* :mod:`.sentences` — sentence ends, never inside a quotation or bracket;
* :mod:`.gaps` — the gap model: features of the break between two body sentences;
* :mod:`.decoder` — body sentences grouped into paragraphs from the gap scores;
* :mod:`.weights` — the fitted weights, data in ``weights.json`` written by the fit script;
* :mod:`.model` — the data types and limits (:class:`~search.problems.InputProblem`, shared by
  every stage, lives below them all).
"""

from ..problems import InputProblem
from .lines import sentence_paragraphs, split_text
from .model import KINDS, MAX_BODY, MAX_QUOTE, Article, Paragraph, SeedsMissing
from .reading import read_articles

__all__ = [
    "KINDS",
    "MAX_BODY",
    "MAX_QUOTE",
    "Article",
    "InputProblem",
    "Paragraph",
    "SeedsMissing",
    "read_articles",
    "sentence_paragraphs",
    "split_text",
]
