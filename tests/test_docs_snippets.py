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


def run_page(page: Path) -> tuple[dict, int]:
    """Run the page's blocks in order in one namespace; (the namespace, how many blocks ran)."""
    namespace: dict = {"__name__": "__main__"}  # as if the page's code were one script: guarded blocks run
    ran = 0
    for i, code in enumerate(blocks(page)):
        compiled = compile(code, f"{page.relative_to(ROOT)} [python block {i + 1}]", "exec")
        need = NEEDS.match(code)
        if need and not _installed(need.group(1)):
            continue  # optional dependency absent: compiled above, not run
        exec(compiled, namespace)  # noqa: S102 - the point of the test
        ran += 1
    return namespace, ran


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_snippets_run(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    _, ran = run_page(page)
    assert ran >= 1
    capsys.readouterr()


def test_howto_fit_quotes_what_its_command_prints(monkeypatch, capsys):
    # the page quotes fragments of `gametheory fit`'s report on the B200 decode points
    monkeypatch.chdir(ROOT)
    run_page(DOCS / "howto-fit.md")
    out = capsys.readouterr().out
    text = " ".join((DOCS / "howto-fit.md").read_text().split())
    quoted = re.search(r"It prints \(abridged\) `([^`]+)`, `([^`]+)`, the ranking `([^`]+)` by AICc, "
                       r"and `([^`]+)`", text)
    assert quoted, "the page's quote of the report moved: update this test"
    assert quoted.group(1) in out and quoted.group(2) in out and quoted.group(4) in out
    ranking = re.findall(r"^ +([a-z0-9]+) +k=\d", out, flags=re.M)
    assert ", ".join(ranking) == quoted.group(3)


def test_howto_bound_table_is_what_its_snippet_prints(monkeypatch, capsys):
    # "Every number in this table is printed by the snippet above": compare the table with the rows
    monkeypatch.chdir(ROOT)
    namespace, _ = run_page(DOCS / "howto-bound.md")
    capsys.readouterr()
    page = (DOCS / "howto-bound.md").read_text()
    table = re.findall(r"^\| (\d+) \| ([0-9.]+) \| ([0-9.]+) \| ([a-z ]+) \| ([0-9., ]+) \|$", page, flags=re.M)
    rows = namespace["rows"]
    assert len(table) == len(rows) == 8
    for (load, poa, bound, regime, flows), row in zip(table, rows, strict=True):
        assert float(load) == row["load"] and poa == f"{row['poa']:.6f}" and bound == f"{row['bound']:.4f}"
        assert regime == row["regime"]
        assert [float(v) for v in flows.split(",")] == [round(float(v), 1) for v in row["equilibrium_flows"]]


def test_needs_marker_only_for_optional_modules():
    """The marker is not a way to hide snippets: only dask may be marked optional."""
    for page in PAGES:
        for code in blocks(page):
            need = NEEDS.match(code)
            if need:
                assert need.group(1).split(".")[0] in {"dask"}, (page.name, need.group(1))


