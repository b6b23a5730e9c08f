"""MkDocs hook: serve MathJax from the built site, so the docs' math renders without a network.

MathJax 2.7 ships in the PyPI package ``jupyter-server-mathjax`` (a dependency of the ``dev`` extra). After the
build, this hook copies the parts the pages use (the loader, the combined configuration
``TeX-AMS-MML_HTMLorMML-full``, the TeX input, the HTML-CSS output's fonts and autoloads, the STIX web fonts)
into ``assets/mathjax`` of the site; ``docs/javascripts/mathjax-config.js`` configures it for the
``pymdownx.arithmatex`` (generic mode) markup. The wheel ships the HTML-CSS output jax (``jax.js``,
``config.js``) only inside that combined file, so the configuration must load it: without it every formula
shows MathJax's "Math Processing Error".
"""

from __future__ import annotations

import shutil
from pathlib import Path

PARTS = ("LICENSE", "MathJax.js", "config/TeX-AMS-MML_HTMLorMML-full.js", "extensions", "jax/input/TeX",
         "jax/output/HTML-CSS", "jax/element", "fonts/HTML-CSS/STIX-Web/woff", "localization/en")


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
