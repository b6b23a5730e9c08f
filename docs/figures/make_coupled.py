"""Figures and numbers of docs/coupled.md: runs the `coupled` reproduce section (full grid) into docs/figures.

Usage: python docs/figures/make_coupled.py
"""

from pathlib import Path

from gametheory.reproduce import coupled

if __name__ == "__main__":
    section = coupled.run(Path(__file__).resolve().parent, full=True)
    for table in section.tables:
        print(table.render(), end="\n\n")
    for note in section.notes:
        print("note:", note)
    for fig in section.figures:
        print("figure:", fig)
