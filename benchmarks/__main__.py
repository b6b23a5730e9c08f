"""Run every benchmark script (benchmarks/bench_*.py) in turn: `python -m benchmarks [NAME ...]`.

Each script prints its own figures; speed targets live here, never as timed asserts in tests. A script that
ends with ``SystemExit`` (``raise SystemExit(main())``, the usual ending of a standalone script) or fails does
not stop the others: the runner reports each one's status and wall time at the end, and exits non-zero if
any failed.
"""

from __future__ import annotations

import runpy
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_script(script: Path) -> tuple[str, float]:
    """Run one script as ``__main__``; returns (status, seconds), status "ok" or what went wrong."""
    start = time.perf_counter()
    status = "ok"
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            status = f"exit {exc.code}"
    except Exception:  # noqa: BLE001 - report and go on with the next benchmark
        traceback.print_exc()
        status = "error (traceback above)"
    return status, time.perf_counter() - start


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(name in s.stem for name in argv)]
        if not scripts:
            print(f"no benchmark matches {argv}; choose from {[s.stem for s in sorted(HERE.glob('bench_*.py'))]}")
            return 2
    results = []
    for script in scripts:
        print(f"== {script.name} ==", flush=True)
        status, seconds = run_script(script)
        results.append((script.name, status, seconds))
        print(f"({script.name}: {status}, {seconds:.1f} s)\n", flush=True)
    print("== summary ==")
    for name, status, seconds in results:
        print(f"{name:<22} {status:<24} {seconds:8.1f} s")
    print(f"{'total':<22} {'':<24} {sum(s for _, _, s in results):8.1f} s")
    return 0 if all(status == "ok" for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
