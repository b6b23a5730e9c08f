"""Figures and numbers of docs/resource.md: runs the `resource` reproduce section (full grid) into docs/figures.

Usage: python docs/figures/make_resource.py
"""

from pathlib import Path

from gametheory.reproduce import resource

if __name__ == "__main__":
    section = resource.run(Path(__file__).resolve().parent, full=True)
    print(section.render())
