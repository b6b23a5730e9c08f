"""MkDocs hook: serve MathJax from the built site, so the docs' math renders without a network.

MathJax 2.7 ships in the PyPI package ``jupyter-server-mathjax`` (a dependency of the ``dev`` extra). After the
build, this hook copies the parts the pages use (the loader, the TeX input, the HTML-CSS output and its STIX
web fonts) into ``assets/mathjax`` of the site; ``docs/javascripts/mathjax-config.js`` configures it for the
``pymdownx.arithmatex`` (generic mode) markup.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PARTS = ("LICENSE", "MathJax.js", "extensions", "jax/input/TeX", "jax/output/HTML-CSS", "jax/element",
         "fonts/HTML-CSS/STIX-Web/woff", "localization/en")


def on_post_build(config, **kwargs) -> None:
    """Copy MathJax into ``<site>/assets/mathjax``."""
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(config["site_dir"]) / "assets" / "mathjax"
    for part in PARTS:
        src = source / part
        dst = target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
