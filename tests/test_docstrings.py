"""Docstrings of the public API, numpydoc style: every public function, method and class of the checked
modules has a docstring with the sections its signature and body call for, and every module names its
sources.

- ``Parameters`` when it takes arguments (a class: its constructor's or its dataclass fields);
- ``Returns`` (or ``Yields``) when it returns a value;
- ``Raises`` when its own body raises;
- a ``References`` section in every module docstring.

Properties and dunder methods only need a docstring. ``CHECKED`` is the whole package: a new module is held
to the standard from its first commit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gametheory

ROOT = Path(gametheory.__file__).parent
#: the packages and modules held to the standard: the whole package
CHECKED = (".",)


def checked_files() -> list[Path]:
    out = []
    for entry in CHECKED:
        path = ROOT / entry
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def _sections(doc: str) -> set[str]:
    lines = doc.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1)
            if lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"} and lines[i].strip()}


def _params(fn: ast.FunctionDef) -> list[str]:
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    names = [a.arg for a in args if a.arg not in ("self", "cls")]
    if fn.args.vararg:
        names.append(fn.args.vararg.arg)
    if fn.args.kwarg:
        names.append(fn.args.kwarg.arg)
    return names


def _own_nodes(fn):
    """Nodes of the function's own body (not of nested functions or classes)."""
    stack = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _returns_value(fn: ast.FunctionDef) -> bool:
    if fn.returns is not None and ast.unparse(fn.returns) not in ("None",):
        return True
    return any(isinstance(n, ast.Return) and n.value is not None for n in _own_nodes(fn))


def _yields(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(fn))


def _raised(fn: ast.FunctionDef) -> list[str]:
    """Names of the exceptions the function's own body lets escape (raises caught by an enclosing
    ``try`` of the same function are internal control flow, not part of the API)."""
    caught: dict[int, set[str]] = {}
    for node in _own_nodes(fn):
        if isinstance(node, ast.Try):
            names = {ast.unparse(t).split(".")[-1] for h in node.handlers if h.type is not None
                     for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type])}
            for inner in node.body:
                for sub in ast.walk(inner):
                    caught.setdefault(id(sub), set()).update(names)
    out = []
    for node in _own_nodes(fn):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = ast.unparse(exc).split(".")[-1]
            if name not in caught.get(id(node), set()) and name not in out:
                out.append(name)
    return out


def _raises(fn: ast.FunctionDef) -> bool:
    return bool(_raised(fn))


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) in ("property", "cached_property", "functools.cached_property")
               or ast.unparse(d).endswith(".setter") for d in fn.decorator_list)


def problems_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    where = path.relative_to(ROOT.parent)
    out = []
    if "References" not in _sections(ast.get_docstring(tree) or ""):
        out.append(f"{where}: module docstring has no References section")

    def check_function(fn, name):
        doc = ast.get_docstring(fn)
        if not doc:
            out.append(f"{where}:{fn.lineno} {name}: no docstring")
            return
        if _is_property(fn):
            return
        have = _sections(doc)
        if _params(fn) and "Parameters" not in have:
            out.append(f"{where}:{fn.lineno} {name}: no Parameters section")
        if _yields(fn):
            if "Yields" not in have:
                out.append(f"{where}:{fn.lineno} {name}: no Yields section")
        elif _returns_value(fn) and "Returns" not in have:
            out.append(f"{where}:{fn.lineno} {name}: no Returns section")
        if _raises(fn) and "Raises" not in have:
            out.append(f"{where}:{fn.lineno} {name}: no Raises section")

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            check_function(node, node.name)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            if not doc:
                out.append(f"{where}:{node.lineno} class {node.name}: no docstring")
                continue
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            fields = [n for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                      and not n.target.id.startswith("_")]
            protocol = any(ast.unparse(b) in ("Protocol", "typing.Protocol") for b in node.bases)
            takes = (init is not None and _params(init)) or (fields and not protocol)
            if takes and "Parameters" not in _sections(doc):
                out.append(f"{where}:{node.lineno} class {node.name}: no Parameters section")
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and not member.name.startswith("_"):
                    check_function(member, f"{node.name}.{member.name}")
    return out


@pytest.mark.parametrize("path", checked_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_public_docstrings_have_their_sections(path):
    problems = problems_of(path)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_missing_section(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('"""A module without sources."""\n\n\ndef f(x):\n    """Do it."""\n    if x:\n'
                   '        raise ValueError(x)\n    return x\n')
    found = problems_of_at(bad)
    assert any("References" in p for p in found)
    assert any("Parameters" in p for p in found) and any("Returns" in p for p in found)
    assert any("Raises" in p for p in found)


def problems_of_at(path: Path) -> list[str]:
    """:func:`problems_of` for a file outside the package (the checker's own test)."""
    global ROOT
    saved, ROOT = ROOT, path.parent.parent
    try:
        return problems_of(path)
    finally:
        ROOT = saved


#: packages whose modules are not yet held to ``__all__`` (their owners add it)
WITHOUT_ALL = ()


def test_every_module_declares_all_and_its_names_exist():
    import importlib

    missing, unknown = [], []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in WITHOUT_ALL or rel.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text())
        declared = [n for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                    and any(isinstance(t, ast.Name) and t.id == "__all__"
                            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))]
        if not declared:
            missing.append(str(rel))
            continue
        name = "gametheory." + ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        unknown += [f"{name}.{n}" for n in module.__all__ if not hasattr(module, n)
                    and importlib.util.find_spec(f"{name}.{n}") is None]
    assert not missing, "modules without __all__: " + ", ".join(missing)
    assert not unknown, "names in __all__ that do not exist: " + ", ".join(unknown)
