"""The wheel that `pip install .` (the README's serve command) builds carries the whole app:
every module, the page's templates and assets, the paragraph model's weights."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "-w", str(out), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (built,) = out.glob("zhsearch-*.whl")
    return built, build.stdout + build.stderr


def test_the_wheel_holds_every_module_and_data_file_of_the_package(wheel):
    built, _ = wheel
    names = set(zipfile.ZipFile(built).namelist())
    in_repo = {path.relative_to(REPO).as_posix() for path in (REPO / "search").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert in_repo, "no package files found"
    assert in_repo <= names, sorted(in_repo - names)
    for needed in ("search/web/templates/search.html", "search/web/static/search.js", "search/web/static/suggest.js",
                   "search/paragraphs/weights.json"):
        assert needed in names


def test_building_warns_of_no_package_setuptools_would_ignore(wheel):
    _, output = wheel
    assert "would be ignored" not in output
