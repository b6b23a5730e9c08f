"""The README's "What `make demo` prints" tables and run time, from the summary a `gametheory reproduce` run wrote.

    make demo                                   # or: python -m gametheory reproduce --out out
    python docs/figures/make_readme.py          # prints the two blocks from out/summary.json
    python docs/figures/make_readme.py --write  # and replaces them in README.md, between their markers

Both tables are the ``paper`` section's (paper vs ours; the calibrated engine's predictions) and the run time
is the sum of the sections' wall times (with their CPU time and the machine's load average, as the run recorded
them), all read from the same summary.json, so the README quotes one run.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: README blocks this script owns: name -> (begin marker, end marker)
BLOCKS = {name: (f"<!-- demo:{name} -->", f"<!-- /demo:{name} -->") for name in ("claims", "predictions")}


def markdown(table: dict, drop: tuple[str, ...] = ()) -> list[str]:
    """A summary.json table as Markdown rows, without the columns named in ``drop``."""
    keep = [i for i, c in enumerate(table["columns"]) if c not in drop]
    lines = ["| " + " | ".join(table["columns"][i] for i in keep) + " |", "|" + "---|" * len(keep)]
    return lines + ["| " + " | ".join(str(row[i]) for i in keep) + " |" for row in table["rows"]]


def blocks(summary: dict) -> dict[str, str]:
    """The text of each README block: the claims table; the predictions table and the run's wall time."""
    claims, predictions = summary["paper"]["tables"][:2]
    seconds = {name: float(section["seconds"]) for name, section in summary.items()}
    slowest = sorted(seconds.items(), key=lambda kv: -kv[1])[:3]
    # CPU time and the machine's load, as the run recorded them (summaries of older runs lack them)
    cpu = [section.get("cpu_seconds") for section in summary.values()]
    loads = [section["load_average"] for section in summary.values() if section.get("load_average") is not None]
    measured = []
    if all(c is not None for c in cpu):
        measured.append(f"{sum(cpu):.0f} s of CPU")
    if loads:
        measured.append(f"1-minute load average {min(loads):.1f}-{max(loads):.1f} at the sections' starts")
    timing = (f"The run quoted here took {sum(seconds.values()):.0f} s of wall time on a {os.cpu_count()}-core machine "
              + (f"({', '.join(measured)}; " if measured else "(")
              + "slowest sections: " + ", ".join(f"{name} {s:.1f} s" for name, s in slowest) + "); "
              "`gametheory reproduce` prints each section's time and the total, and records them with the CPU time "
              "and the load in summary.json; wall times vary with the machine's load.")
    return {"claims": "\n".join(markdown(claims)),
            "predictions": "\n".join(markdown(predictions, drop=("source",)) + ["", timing])}


def write(readme: Path, texts: dict[str, str]) -> None:
    """Replace each block of ``readme`` between its markers."""
    text = readme.read_text()
    for name, body in texts.items():
        begin, end = BLOCKS[name]
        start, stop = text.index(begin) + len(begin), text.index(end)
        text = text[:start] + "\n" + body + "\n" + text[stop:]
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", nargs="?", default=str(ROOT / "out" / "summary.json"))
    parser.add_argument("--write", action="store_true", help="replace the blocks in README.md")
    args = parser.parse_args()
    texts = blocks(json.loads(Path(args.summary).read_text()))
    print("\n\n".join(texts.values()))
    if args.write:
        write(ROOT / "README.md", texts)
        print(f"wrote {ROOT / 'README.md'}")


if __name__ == "__main__":
    main()
