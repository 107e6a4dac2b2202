"""Reading the seeds' dictionary files (``userdict.txt``, ``synonyms.txt``): UTF-8 text, one entry a
line, blank lines and ``#`` comments skipped, problems reported as ``name:line: reason``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ..problems import InputProblem


def file_bytes(path: Path, report: Callable[[InputProblem], None], name: str) -> bytes | None:
    """The file's bytes; None when it does not exist, or after reporting that it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))
        return None


def content_lines(data: bytes, report: Callable[[InputProblem], None], name: str) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of every line that is neither blank nor a ``#`` comment; a
    line that is not UTF-8 is reported and skipped."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            report(InputProblem(name, number, "invalid UTF-8"))
            continue
        if line and not line.startswith("#"):
            yield number, line
