"""The package's layers point one way, read from the source (ast), function-local imports included:

    base (errors, validation, certificates, results, paper setup, display, plotting, readers)
      <-  curves (latency, fitting, regimes, bounds)  <-  games  <-  serving
      <-  reproduce / commands / cli / assessment

A module may import its own layer or the layers below it, never one above; no import cycle between
subpackages (each games/<game> package, serving, reproduce, commands, io count as one unit, every other
module as its own), nor between modules (every module its own node: inside a game package the solvers sit
below the game object that dispatches to them); no ``try: import ... except ImportError`` around the
package's own modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

import gametheory

ROOT = Path(gametheory.__file__).parent

#: layers, bottom first: each module belongs to the layer of its longest matching prefix
LAYERS = (
    ("base", ("gametheory.errors", "gametheory._validate", "gametheory.certificates", "gametheory.paper_setup",
              "gametheory._progress", "gametheory.display", "gametheory.plotting", "gametheory.results",
              "gametheory.quiet", "gametheory.io")),
    ("curves", ("gametheory.latency", "gametheory.fitting", "gametheory.regimes", "gametheory.bounds")),
    ("games", ("gametheory.games", "gametheory.__init__")),
    ("serving", ("gametheory.serving",)),
    ("app", ("gametheory.reproduce", "gametheory.commands", "gametheory.cli", "gametheory.__main__",
             "gametheory.assessment")),
)
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
#: import-cycle units: these packages count as one node each, every other module as its own
UNITS = ("gametheory.games.resource", "gametheory.games.caching", "gametheory.games.routing",
         "gametheory.games.network", "gametheory.games.coupled", "gametheory.serving", "gametheory.reproduce",
         "gametheory.commands", "gametheory.io")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1 and parts[:-1] != ("gametheory",):
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The package module an imported dotted name refers to (``gametheory.games.coupled.route`` ->
    ``gametheory.games.coupled``); None outside the package."""
    if name != "gametheory" and not name.startswith("gametheory."):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return "gametheory.__init__"


def imported_names(module: str) -> list[tuple[int, str]]:
    """(line, absolute dotted name) for every name ``module`` imports: ``import a.b`` gives ``a.b``,
    ``from a.b import c`` gives ``a.b.c`` (relative imports made absolute); at any depth, function-local
    imports included."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def imports_of(module: str) -> list[tuple[int, str]]:
    """(line, imported package module) for every import statement in ``module``, at any depth: the module
    each imported name refers to (``from gametheory.games.routing import wardrop`` -> the submodule
    ``wardrop``, ``from gametheory.games.routing import RoutingGame`` -> the package's ``__init__``)."""
    found = set()
    for line, name in imported_names(module):
        target = resolve(name)
        if target not in (None, module):
            found.add((line, target))
    return sorted(found)


def layer(module: str) -> str:
    best = max(((len(prefix), name) for name, prefixes in LAYERS for prefix in prefixes
                if module == prefix or module.startswith(prefix + ".")), default=None)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {Path(__file__).name}")
    return best[1]


def unit(module: str) -> str:
    return next((u for u in UNITS if module == u or module.startswith(u + ".")), module)


def test_every_module_has_a_layer():
    for module in MODULES:
        layer(module)


def test_no_import_points_up_a_layer():
    upward = [f"{MODULES[m].relative_to(ROOT.parent)}:{line} ({layer(m)}) imports {t} ({layer(t)})"
              for m in MODULES for line, t in imports_of(m) if RANK[layer(t)] > RANK[layer(m)]]
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for m in MODULES:
        for _, t in imports_of(m):
            if unit(m) != unit(t):
                graph.add_edge(unit(m), unit(t))
    return graph


def test_no_import_cycle_between_subpackages():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles)


def module_graph() -> nx.DiGraph:
    """Every package module a node of its own (a package's ``__init__`` included); an edge for every import of
    another package module, at any depth (function-local imports included)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    graph.add_edges_from((m, t) for m in MODULES for _, t in imports_of(m))
    return graph


def test_no_import_cycle_between_modules():
    """No two modules import each other, directly or around a circle, not even inside a function: solvers sit
    below the game object that dispatches to them (nashpy-like), never beside it.

    Every module is its own node, a package's ``__init__`` included. A name taken through a package's public face
    (``from gametheory.games.caching import CachingGame``) is an import of that ``__init__``, which imports all
    its submodules, so a submodule doing that closes a circle, as it does at import time; a submodule taken
    through its package (``from gametheory.games.routing import wardrop``) is an import of the submodule only.
    Package re-exports are not excluded: they add no circle today.
    """
    cycles = sorted(" -> ".join(c + [c[0]]) for c in nx.simple_cycles(module_graph()))
    assert not cycles, f"{len(cycles)} import cycles between modules:\n" + "\n".join(cycles)


@pytest.mark.parametrize(("source", "cycle"), [
    ("from gametheory.games.caching.fake_game import CachingGame", True),
    ("def f():\n    from gametheory.games.caching.fake_game import CachingGame", True),
    ("def f():\n    from gametheory.games.caching import CachingGame", True),
    ("from gametheory.errors import InvalidInputError", False),
])
def test_the_module_cycle_check_sees_a_circle(tmp_path, monkeypatch, source, cycle):
    """The reader itself: a solver that the game module imports and that imports the game back closes a circle,
    even inside a function and through the package's re-export; an import of a lower module does not."""
    files = {
        "gametheory.games.caching": "from gametheory.games.caching.fake_game import CachingGame\n"
                                    "from gametheory.games.caching.fake import solve\n",
        "gametheory.games.caching.fake_game": "from gametheory.games.caching.fake import solve\n",
        "gametheory.games.caching.fake": source + "\n",
    }
    for module, text in files.items():
        path = tmp_path / module.replace(".", "_") / ("__init__.py" if module.endswith("caching") else "m.py")
        path.parent.mkdir()
        path.write_text(text)
        monkeypatch.setitem(MODULES, module, path)
    cycles = [c for c in nx.simple_cycles(module_graph()) if "gametheory.games.caching.fake" in c]
    assert bool(cycles) == cycle


def imports_own_module(node: ast.AST) -> bool:
    """An import statement or ``importlib.import_module("gametheory...")`` call naming a package module."""
    if isinstance(node, ast.Import):
        return any(resolve(alias.name) for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return not node.level and resolve(node.module or "") is not None or node.level > 0
    if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module") and node.args:
        return "gametheory" in ast.unparse(node.args[0])
    return False


def test_no_import_error_guard_around_own_modules():
    guarded = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Try):
                continue
            catches = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if not any("ImportError" in c or "ModuleNotFoundError" in c for c in catches):
                continue
            own = [n for stmt in node.body for n in ast.walk(stmt) if imports_own_module(n)]
            guarded += [f"{path.relative_to(ROOT.parent)}:{n.lineno}" for n in own]
    assert not guarded, "ImportError guards around the package's own modules: " + ", ".join(guarded)


def test_the_guard_check_sees_an_import_error_guard():
    guard = ast.parse("try:\n    from gametheory.regimes import classify\nexcept ImportError:\n    classify = None")
    stmt = guard.body[0].body[0]
    assert imports_own_module(stmt)
    assert not imports_own_module(ast.parse("import numpy").body[0])


@pytest.mark.parametrize(("source", "expected"), [
    ("from gametheory.serving.profiles import load_profile", "upward"),
    ("def f():\n    from gametheory.reproduce import Section", "upward"),
    ("from gametheory.latency import Affine", "ok"),
])
def test_the_layer_check_sees_an_upward_import(tmp_path, monkeypatch, source, expected):
    """The reader itself: a games module importing serving (even inside a function) is caught."""
    fake = tmp_path / "fake.py"
    fake.write_text(source)
    monkeypatch.setitem(MODULES, "gametheory.games.fake", fake)
    up = [t for _, t in imports_of("gametheory.games.fake") if RANK[layer(t)] > RANK[layer("gametheory.games.fake")]]
    assert bool(up) == (expected == "upward")


def test_paper_setup_imports_nothing_from_the_package():
    """The paper's constants are the bottom of the package: plain numbers and names."""
    assert imports_of("gametheory.paper_setup") == []
