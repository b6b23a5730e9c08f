"""Figures and numbers of docs/caching.md: `python docs/figures/make_caching.py`.

Writes docs/figures/caching_line_poa.png and docs/figures/caching_hbm_saturation.png and prints every table
(computed by gametheory.reproduce.caching, full grids).
"""

from __future__ import annotations

from pathlib import Path

from gametheory.reproduce import caching


def main() -> None:
    sec = caching.run(Path(__file__).parent, full=True)
    for table in sec.tables:
        print(table.render())
        print()
    for f in sec.figures:
        print("wrote", f)


if __name__ == "__main__":
    main()
