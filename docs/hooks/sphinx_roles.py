"""Griffe extension for the API reference: Sphinx cross-reference roles in docstrings become links.

The package's docstrings use Sphinx roles (:func:`fit`, :class:`~gametheory.results.Result`, :mod:`...`), which
Markdown would print literally. When the package is loaded, every role is rewritten to an optional autorefs
cross-reference, ``<autoref identifier="full.path" optional><code>title</code></autoref>``: a link where the
target is rendered in the API reference, plain code where it is not (so the strict build never breaks on a
role). A name is resolved as written when it is a full path, else against the object's own module and parents,
else against the package's public names; ``~`` keeps only the last component in the title.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|exc|obj|const|ref):`(~?)([^`]+?)`")


def _objects(obj, seen=None):
    seen = set() if seen is None else seen
    if obj.path in seen:
        return
    seen.add(obj.path)
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _objects(member, seen)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg, **kwargs) -> None:
        objects = list(_objects(pkg))
        paths = {o.path for o in objects}
        by_name: dict[str, set[str]] = {}
        for path in paths:
            by_name.setdefault(path.rsplit(".", 1)[-1], set()).add(path)

        def resolve(obj, name: str) -> str | None:
            name = name.strip().rstrip("()")
            if name in paths:
                return name
            scope = obj
            while scope is not None:
                candidate = f"{scope.path}.{name}"
                if candidate in paths:
                    return candidate
                scope = scope.parent
            unique = by_name.get(name.rsplit(".", 1)[-1], set())
            matches = [p for p in unique if p.endswith("." + name)]
            return matches[0] if len(matches) == 1 else None

        for obj in objects:
            if obj.docstring is None:
                continue

            def replace(match, obj=obj):
                tilde, name = match.group(1), match.group(2)
                if "<" in name:  # :func:`title <target>`
                    title, name = name.split("<", 1)
                    title, name = title.strip(), name.rstrip(">").strip()
                else:
                    title = name.rsplit(".", 1)[-1] if tilde else name
                target = resolve(obj, name)
                if target is None:
                    return f"`{title}`"
                return f'<autoref identifier="{target}" optional><code>{title}</code></autoref>'

            obj.docstring.value = ROLE.sub(replace, obj.docstring.value)
