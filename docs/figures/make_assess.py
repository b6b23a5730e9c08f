"""Figure and report of docs/howto-assess.md: `gametheory assess` on the sample benchmark.

    python docs/figures/make_assess.py

Runs :func:`gametheory.assess` on tests/data/assess/bench.csv (synthetic TTFT P99 with a capacity pole at
concurrency 131), prints the report the command prints and writes docs/figures/assess_bench.png (what
``gametheory assess ... --plot FILE`` writes).
"""

from __future__ import annotations

from pathlib import Path

import gametheory
from gametheory.plotting import save

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[1] / "tests" / "data" / "assess" / "bench.csv"


def main() -> None:
    result = gametheory.assess(SAMPLE, latency_column="ttft_p99_ms")
    print(result.report())
    axes = result.plot()
    save(axes[0].figure, HERE / "assess_bench.png")
    print("wrote", HERE / "assess_bench.png")


if __name__ == "__main__":
    main()
