"""Synonym groups: ``seeds/synonyms.txt``, one group a line, members separated by commas.

``北约,北大西洋公约组织,NATO`` makes a bare query term that is any member match every member
(each as an exact substring after normalisation). Members are compared as skeletons (width, case,
Traditional → Simplified, spaces), so ``nato`` and ``ＮＡＴＯ`` are the same member. Blank lines and
lines starting with ``#`` are skipped; a line with fewer than two members is reported as
``synonyms.txt:line: reason``. A member in several groups joins them into one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..problems import InputProblem
from .dictionary_files import content_lines, file_bytes
from .normalize import normalize, skeleton

FILE_NAME = "synonyms.txt"
_SEPARATOR = re.compile(r"[,，]")


class Synonyms:
    """Skeleton of a member → the skeletons of its whole group (itself first)."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()):
        self._group_of: dict[str, int] = {}
        self._groups: list[list[str]] = []
        self.normalized: dict[str, str] = {}  # skeleton of a member -> its normalised text (spaces kept)
        for group in groups:
            members = []
            for member in group:
                normal = normalize(member).strip()
                members.append(skeleton(normal))
                self.normalized.setdefault(members[-1], normal)
            self._add(members)

    def _add(self, members: list[str]) -> None:
        members = [m for m in dict.fromkeys(members) if m]
        joined = sorted({self._group_of[m] for m in members if m in self._group_of})
        if joined:  # merge every group a member already belongs to into the first
            target = joined[0]
            for other in joined[1:]:
                self._groups[target] += self._groups[other]
                self._groups[other] = []
            group = self._groups[target]
        else:
            target, group = len(self._groups), []
            self._groups.append(group)
        group.extend(m for m in members if m not in group)
        for member in group:
            self._group_of[member] = target

    def __bool__(self) -> bool:
        return bool(self._group_of)

    def __len__(self) -> int:
        return sum(1 for group in self._groups if group)

    def expand(self, key: str) -> tuple[str, ...]:
        """The key and the other members of its group (just the key when it has none)."""
        group = self._group_of.get(key)
        if group is None:
            return (key,)
        return (key, *(m for m in self._groups[group] if m != key))

    def groups(self) -> list[list[str]]:
        return [list(group) for group in self._groups if group]


def read_synonyms(path: Path, report: Callable[[InputProblem], None], name: str = FILE_NAME) -> Synonyms:
    """The groups of a synonyms file (none when it does not exist); bad lines reported and skipped."""
    groups = []
    data = file_bytes(path, report, name)
    for number, line in content_lines(data or b"", report, name):
        members = [m.strip() for m in _SEPARATOR.split(line) if skeleton(normalize(m.strip()))]
        if len(members) < 2:
            report(InputProblem(name, number, "a synonym group needs at least two members separated by commas"))
            continue
        groups.append(members)
    return Synonyms(groups)
