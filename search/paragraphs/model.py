"""What the paragraphs package produces: articles of classified paragraphs, and input problems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("title", "lead", "heading", "caption", "body", "byline")

#: Above this length a body paragraph must be cut (unless it is one sentence).
MAX_BODY = 300
#: A first line up to this long, without closing punctuation, is the title.
MAX_TITLE = 40
#: Headings are short phrases.
MAX_HEADING = 25
#: A bracket or quotation longer than this is not trusted to protect its
#: contents: an unbalanced mark must not swallow the rest of the article.
MAX_QUOTE = 500
#: A caption is one short stretch of text.
MAX_CAPTION = 120
#: A headline glued before a sentence is at least this long and at most MAX_GLUED.
MIN_GLUED = 5
MAX_GLUED = 40

ARTICLE_SUFFIXES = (".txt", ".md")
JSONL_SUFFIX = ".jsonl"


def source_of(file: str, line: int) -> str:
    """Where an article is read, as :attr:`Article.source` says it: a JSONL file's line, or the file."""
    return f"{file}:{line}" if file.lower().endswith(JSONL_SUFFIX) else file


@dataclass(frozen=True)
class Paragraph:
    """One paragraph: 1-based position, kind (one of KINDS), exact source slice."""

    n: int
    kind: str
    text: str


@dataclass(frozen=True)
class Article:
    """One article as read from the seeds folder."""

    id: str
    title: str
    source: str
    paragraphs: tuple[Paragraph, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)


class SeedsMissing(Exception):
    """The seeds directory does not exist or is not a directory."""
