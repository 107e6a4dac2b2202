"""The user dictionary: ``seeds/userdict.txt`` in jieba's format, ``word [freq] [tag]`` a line.

Words are normalised like the text they will cut (width, case, Traditional → Simplified), so
``ＮＡＴＯ峰会`` in the dictionary is the word ``nato峰会`` of normalised text. Blank lines and
lines starting with ``#`` are skipped; anything else that is not of the form is reported as
``userdict.txt:line: reason`` and skipped. :func:`search.text.analysis.add_user_words` loads the
entries into jieba and rjieba alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..problems import InputProblem
from .dictionary_files import content_lines, file_bytes
from .normalize import normalize

FILE_NAME = "userdict.txt"
_TAG = re.compile(r"[A-Za-z]{1,8}")

Entry = tuple[str, int | None, str | None]  # (normalised word, frequency, part-of-speech tag)


def parse_user_dictionary(data: bytes, report: Callable[[InputProblem], None], name: str = FILE_NAME) -> list[Entry]:
    """The entries of a user dictionary file's bytes; bad lines reported and skipped."""
    entries: list[Entry] = []
    for number, line in content_lines(data, report, name):
        fields = line.split()
        word, rest = fields[0], fields[1:]
        freq: int | None = None
        tag: str | None = None
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
        if rest and _TAG.fullmatch(rest[0]):
            tag = rest.pop(0)
        if rest:
            report(InputProblem(name, number, f"expected `word [freq] [tag]`, not {line!r}"))
            continue
        normalized = normalize(word).strip()
        if not normalized or any(c.isspace() for c in normalized):
            report(InputProblem(name, number, f"not a word: {word!r}"))
            continue
        if freq is not None and freq > 10**9:
            report(InputProblem(name, number, f"frequency {freq} is too large"))
            continue
        entries.append((normalized, freq, tag))
    return entries


def read_user_dictionary(path: Path, report: Callable[[InputProblem], None]) -> list[Entry]:
    """The entries of the user dictionary at ``path`` (none when it does not exist)."""
    data = file_bytes(path, report, FILE_NAME)
    return parse_user_dictionary(data, report) if data is not None else []
