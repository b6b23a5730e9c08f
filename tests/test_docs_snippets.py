"""Every ```python block of docs/index.md and docs/howto-*.md runs as written, from the repository root.

The blocks of one page run in order in one namespace (a page reads top to bottom). A block whose first
line is ``# needs: <module>`` (an optional dependency such as dask.distributed) is always compiled, and run
only where that module is installed.
"""

import importlib.util
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([DOCS / "index.md", DOCS / "robustness.md", *DOCS.glob("howto-*.md")])
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"^# needs: ([\w.]+)")


def blocks(page: Path) -> list[str]:
    return [m.group(1) for m in BLOCK.finditer(page.read_text())]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_pages_found():
    names = {p.name for p in PAGES}
    assert {"index.md", "howto-fit.md", "howto-bound.md", "howto-dask.md"} <= names
    assert all(blocks(p) for p in PAGES), "every how-to page has at least one python snippet"


def test_block_extraction(tmp_path):
    page = tmp_path / "probe.md"
    page.write_text("a\n```python\nx = 1\n```\n```bash\nls\n```\n```python title=\"t\"\ny = 2\n```\n")
    assert blocks(page) == ["x = 1\n", "y = 2\n"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_snippets_run(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__main__"}  # as if the page's code were one script: guarded blocks run
    ran = 0
    for i, code in enumerate(blocks(page)):
        compiled = compile(code, f"{page.relative_to(ROOT)} [python block {i + 1}]", "exec")
        need = NEEDS.match(code)
        if need and not _installed(need.group(1)):
            continue  # optional dependency absent: compiled above, not run
        exec(compiled, namespace)  # noqa: S102 - the point of the test
        ran += 1
    assert ran >= 1
    capsys.readouterr()


def test_needs_marker_only_for_optional_modules():
    """The marker is not a way to hide snippets: only dask may be marked optional."""
    for page in PAGES:
        for code in blocks(page):
            need = NEEDS.match(code)
            if need:
                assert need.group(1).split(".")[0] in {"dask"}, (page.name, need.group(1))


