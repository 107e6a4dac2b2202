"""The one type every stage shares: a problem met in the input (a seed file, a dictionary file, a
word of the vocabulary), reported as ``path:line: reason`` and skipped, never a stopped build.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputProblem:
    """Bad or ignored input, reported as ``path:line: reason``."""

    path: str
    line: int
    reason: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"
