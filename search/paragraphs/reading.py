"""Reading the seeds folder: .txt/.md files and JSONL lines into articles, bad input reported.

A bug met while reconstructing one article's paragraphs is contained to that article: it is
reported like bad input and the article is indexed with a plain sentence split
(:func:`search.paragraphs.lines.sentence_paragraphs`), so no single article stops a build.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..problems import InputProblem
from .cues import _TITLE_PREFIX
from .lines import sentence_paragraphs, split_text
from .metadata import clean, split_front_matter
from .model import ARTICLE_SUFFIXES, JSONL_SUFFIX, Article, Paragraph, SeedsMissing, source_of

#: Files at the top of the seeds folder that are dictionaries (search.text.userdict, search.text.synonyms).
DICTIONARIES = frozenset({"userdict.txt", "synonyms.txt"})

def read_articles(seeds_dir: Path, report: Callable[[InputProblem], None]) -> Iterator[Article]:
    """Every article under seeds_dir (recursive, sorted paths, deterministic), reporting bad input and skipping it."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        what = "is not a directory" if seeds_dir.exists() else "does not exist"
        raise SeedsMissing(f"seeds directory {str(seeds_dir)!r} {what}")
    seen: dict[str, str] = {}  # article id -> where it was first found
    for rel in seed_files(seeds_dir):
        name = rel.as_posix()
        if name in DICTIONARIES:  # the user dictionary and synonyms, not articles
            continue
        for article, line in _articles_in(seeds_dir / rel, name, report):
            first = seen.get(article.id)
            if first is not None:
                report(InputProblem(name, line, f"duplicate article id {article.id!r} (first in {first})"))
                continue
            seen[article.id] = article.source
            yield article


def _articles_in(path: Path, name: str, report: Callable[[InputProblem], None]) -> Iterator[tuple[Article, int]]:
    """The articles of one seed file with their line numbers, as the file is read."""
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES and suffix != JSONL_SUFFIX:
        report(InputProblem(name, 1, "ignored: not a .txt, .md or .jsonl file", fatal=False))
        return
    try:
        with open(path, "rb") as file:
            if suffix == JSONL_SUFFIX:
                yield from _read_jsonl(name, file, report)
            else:
                yield from read_document(name, path.stem, file.read(), report, markdown=suffix == ".md")
    except OSError as exc:
        report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))


def seed_files(seeds_dir: Path) -> list[Path]:
    """Relative paths of all non-hidden files under seeds_dir, in sorted tree order."""
    found = []
    for root, dirs, files in os.walk(seeds_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        base = Path(root).relative_to(seeds_dir)
        found.extend(base / f for f in files if not f.startswith("."))
    return sorted(found, key=lambda p: p.parts)


def _decode(name: str, data: bytes, report: Callable[[InputProblem], None], first_line: int = 1) -> str | None:
    """UTF-8 text without BOM, or None after reporting the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        report(InputProblem(name, line, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})"))
        return None


def read_document(
    name: str, article_id: str, data: bytes, report: Callable[[InputProblem], None], markdown: bool
) -> list[tuple[Article, int]]:
    """The one article of a .txt/.md file (with its line number 1), or nothing after a report."""
    return [(found.split(report), line) for found, line in unsplit_document(name, article_id, data, report, markdown)]


def unsplit_document(
    name: str, article_id: str, data: bytes, report: Callable[[InputProblem], None], markdown: bool
) -> list[tuple["Unsplit", int]]:
    """:func:`read_document` but for the reconstruction of its paragraphs (:meth:`Unsplit.split`)."""
    text = _decode(name, data, report)
    if text is None:
        return []
    if not text.strip():
        report(InputProblem(name, 1, "empty file"))
        return []
    metadata: dict[str, Any] = {}
    title = None
    if markdown:
        front, text = split_front_matter(text, name, report)
        metadata = clean(front, name, 1, report)
        if isinstance(front.get("title"), str) and front["title"].strip():
            title = front["title"].strip()
        if not text.strip() and title is None:
            report(InputProblem(name, 1, "empty file"))
            return []
    return [(Unsplit(article_id, name, 1, text, title, metadata, markdown), 1)]


@dataclass(frozen=True)
class Unsplit:
    """An article read and checked but for its paragraphs, whose reconstruction — the costly step of
    reading — is left to :meth:`split` (a build runs it in its worker processes)."""

    id: str
    name: str  # the seed file
    line: int
    text: str
    title: str | None  # the title given (JSONL, front matter), if any
    metadata: Mapping[str, Any]
    markdown: bool = False

    @property
    def source(self) -> str:
        """Where the article is read, as :attr:`Article.source` says it."""
        return source_of(self.name, self.line)

    def split(self, report: Callable[[InputProblem], None]) -> Article:
        """The article, its paragraphs reconstructed (a failure reported at its line)."""
        paragraphs = _split(self.name, self.line, self.text, report, title=self.title, markdown=self.markdown)
        return Article(self.id, _title_of(paragraphs), self.source, paragraphs, self.metadata)


def _split(
    name: str, line: int, text: str, report: Callable[[InputProblem], None], *,
    title: str | None = None, markdown: bool = False,
) -> tuple[Paragraph, ...]:
    """The article's paragraphs; a failure of the reconstruction (a bug, not bad input) is reported
    at the article and the plain sentence split is used instead, so the article is still indexed."""
    try:
        return tuple(split_text(text, title=title, markdown=markdown))
    except Exception as exc:  # noqa: BLE001 — any bug in one article must not stop the build
        report(InputProblem(name, line, f"paragraphs could not be reconstructed "
                                         f"({type(exc).__name__}: {exc}); indexed as sentences"))
        return tuple(sentence_paragraphs(text, title=title))


def _read_jsonl(name: str, lines: Iterable[bytes], report: Callable[[InputProblem], None]) -> Iterator[tuple[Article, int]]:
    """The articles of a JSONL file, a line at a time, with their line numbers; bad lines are
    reported and skipped. Only one line is held in memory, however large the file."""
    empty = True
    for number, raw in jsonl_lines(lines):
        empty = False
        record = jsonl_record(name, number, raw, report)
        if record is not None:
            yield jsonl_article(name, number, record, report), number
    if empty:
        report(InputProblem(name, 1, "empty file"))


def jsonl_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSONL file with their numbers, without line break or byte-order mark."""
    for number, raw in enumerate(lines, start=1):
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.strip():  # blank lines are allowed
            yield number, raw


def jsonl_record(name: str, number: int, raw: bytes, report: Callable[[InputProblem], None]) -> dict[str, Any] | None:
    """One JSONL line's record, or None after reporting why the line is malformed."""
    line = _decode(name, raw, report, first_line=number)
    if line is None:
        return None
    record, problem = _parse_record(line)
    if problem:
        report(InputProblem(name, number, problem))
        return None
    return record


def jsonl_article(name: str, number: int, record: dict[str, Any], report: Callable[[InputProblem], None]) -> Article:
    """The article of a well-formed JSONL record: its paragraphs reconstructed, its metadata checked."""
    return jsonl_unsplit(name, number, record, report).split(report)


def jsonl_unsplit(name: str, number: int, record: dict[str, Any], report: Callable[[InputProblem], None]) -> Unsplit:
    """:func:`jsonl_article` but for the reconstruction of its paragraphs (:meth:`Unsplit.split`)."""
    metadata = clean(record, name, number, report)
    return Unsplit(record["id"], name, number, record["text"], record["title"].strip() or None,
                   metadata)


def _parse_record(line: str) -> tuple[dict[str, Any], str]:
    """A JSONL record with a string title, or a reason why the line is malformed."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        return {}, f"malformed JSON line: {exc}"
    if not isinstance(record, dict):
        return {}, f"malformed JSON line: expected an object, got {type(record).__name__}"
    for key in ("id", "text"):
        if not isinstance(record.get(key), str):
            return {}, f"malformed JSON line: missing or non-string {key!r}"
    title = record.setdefault("title", "")
    if not isinstance(title, str):
        return {}, "malformed JSON line: non-string 'title'"
    if not record["id"].strip():
        return {}, "malformed JSON line: empty 'id'"
    if not record["text"].strip():
        return {}, "malformed JSON line: empty 'text'"
    try:
        (record["id"] + title + record["text"]).encode("utf-8")
    except UnicodeEncodeError:
        return {}, "malformed JSON line: text is not valid Unicode (lone surrogate)"
    return record, ""


def _title_of(paragraphs: tuple[Paragraph, ...]) -> str:
    """The article title: the first paragraph of kind title without a 原标题： prefix, or ""."""
    if paragraphs and paragraphs[0].kind == "title":
        return _TITLE_PREFIX.sub("", paragraphs[0].text).strip()
    return ""
