"""The package's folders show its architecture: stages of the pipeline, imports flowing one way,
small modules, every sub-package saying what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "search"
# Each stage and the stages it may import (besides itself): data flows down this table.
MAY_IMPORT = {
    "problems": set(),
    "config": set(),
    "text": {"problems"},
    "paragraphs": {"problems", "config"},
    "formats": {"problems", "text", "paragraphs"},
    "segment": {"problems", "text", "paragraphs", "formats"},
    "match": {"problems", "formats"},
    "build": {"problems", "config", "text", "paragraphs", "formats", "segment", "match"},
    "query": {"problems", "config", "text", "paragraphs", "formats", "segment", "match"},
    "web": {"problems", "config", "paragraphs", "query"},
}
TOP_LEVEL = {"__init__", "__main__", "cli", "config", "gunicorn_conf", "problems", "wsgi"}
MAX_LINES = 450


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The ``search`` modules and packages ``path`` imports (at any depth of the file)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").split(".")[0] == "search":
                target = node.module
            else:
                continue
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "search")
    return found


def stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_top_level_holds_only_what_ties_the_stages_together():
    assert {path.stem for path in PACKAGE.glob("*.py")} <= TOP_LEVEL
    assert len(list(PACKAGE.glob("*.py"))) <= 10
    assert {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()} == {
        stage for stage in MAY_IMPORT if (PACKAGE / stage).is_dir()}


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_is_over_450_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


@pytest.mark.parametrize("package", sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()),
                         ids=lambda path: path.name)
def test_every_sub_package_says_what_it_holds_and_what_it_imports(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc) > 80
    if package.name != "paragraphs":
        assert "Imports" in doc and "imported by" in doc
    # a newcomer finds every module of the stage in its map, with its job
    unnamed = [path.stem for path in package.glob("*.py") if path.stem != "__init__" and f":mod:`.{path.stem}`" not in doc]
    assert unnamed == []


@pytest.mark.parametrize("path", [p for p in modules() if stage(module_name(p)) in MAY_IMPORT],
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_flow_one_way(path):
    own = stage(module_name(path))
    upward = {name for name in imported(path)
              if stage(name) not in MAY_IMPORT[own] | {own} and stage(name) in MAY_IMPORT}
    assert not upward, f"{module_name(path)} imports {sorted(upward)}"


def test_no_import_cycles_between_modules():
    names = {module_name(path): path for path in modules()}
    graph = {name: {target for target in imported(path) if target in names} |
             {target.rsplit(".", 1)[0] for target in imported(path) if target.rsplit(".", 1)[0] in names
              and target not in names} - {name}
             for name, path in names.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in graph[name]:
            if state.get(target) == 1 and not name.startswith(target + "."):
                raise AssertionError(" → ".join(trail[trail.index(target):] + [name, target]))
            if not state.get(target):
                visit(target, trail + [name])
        state[name] = 2

    for name in graph:
        if not state.get(name):
            visit(name, [])
