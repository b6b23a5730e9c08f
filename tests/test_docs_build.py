"""The docs site builds with warnings as errors (`mkdocs build --strict`): broken links, missing nav pages,
bad anchors and docstrings mkdocstrings cannot render all fail this test."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None
    or importlib.util.find_spec("material") is None
    or importlib.util.find_spec("mkdocstrings_handlers") is None,
    reason="mkdocs, mkdocs-material or mkdocstrings[python] not installed (dev extra)",
)


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_mkdocs_build_strict(tmp_path):
    proc = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    for page in ("index.html", "theory/index.html", "validation/index.html", "howto-fit/index.html",
                 "reference/games/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    # The API reference is generated from docstrings, not empty: Game 1's class is rendered.
    games = (tmp_path / "site" / "reference/games/index.html").read_text()
    assert "PDResourceGame" in games
    # Sphinx roles of the docstrings render as cross-references, never literally
    for page in (tmp_path / "site" / "reference").glob("*/index.html"):
        html = page.read_text()
        literal = re.findall(r":(?:py:)?(?:func|class|mod|meth|data|attr|exc|obj|const|ref):`", html)
        assert not literal, (page, sorted(set(literal)))
    assert 'class="autorefs autorefs-internal"' in games
    # math renders offline: MathJax is served from the site and configured for arithmatex's markup
    site = tmp_path / "site"
    assert (site / "assets" / "mathjax" / "MathJax.js").is_file()
    assert (site / "assets" / "mathjax" / "jax" / "output" / "HTML-CSS").is_dir()
    assert any((site / "assets" / "mathjax" / "fonts").rglob("*.woff"))
    latency = (site / "latency" / "index.html").read_text()
    assert 'class="arithmatex"' in latency and "assets/mathjax/MathJax.js" in latency
    assert "cdn" not in latency.lower()
    # every jax the configuration asks for can load offline: as a file of the site, or preloaded by the combined
    # configuration it names (the wheel ships the HTML-CSS output jax only there; without it every formula shows
    # "Math Processing Error")
    config_js = (site / "javascripts" / "mathjax-config.js").read_text()
    bundles = re.findall(r'config: \["([^"]+)"\]', config_js)
    preloaded = "".join((site / "assets" / "mathjax" / "config" / name).read_text() for name in bundles)
    for jax in re.search(r"jax: \[([^\]]*)\]", config_js).group(1).replace('"', "").split(", "):
        as_file = (site / "assets" / "mathjax" / "jax" / jax / "jax.js").is_file()
        assert as_file or f"[MathJax]/jax/{jax}/jax.js" in preloaded, f"MathJax cannot load {jax}"
    # the topic pages write their mathematics as TeX (arithmatex spans), not as plain text in code spans
    theory = (site / "theory" / "index.html").read_text()
    assert theory.count('class="arithmatex"') > 200
    assert (site / "howto-assess" / "index.html").is_file()


def test_strict_build_fails_on_a_broken_link(tmp_path):
    """The strict build is not vacuous: the same config with one broken link fails."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [missing](no_such_page.md).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\ndocs_dir: docs\nstrict: true\ntheme:\n  name: material\n")
    proc = _build(config, tmp_path / "site")
    assert proc.returncode != 0
    assert "no_such_page.md" in proc.stdout + proc.stderr
