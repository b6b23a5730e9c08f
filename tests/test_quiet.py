"""No solver banner reaches the user's output: a fresh process solving a MILP prints only what we print."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from gametheory.games.routing import RoutingGame
from gametheory.latency import Affine
g = RoutingGame([Affine(1, 1), Affine(2, 1)], [0.5, 0.5], omega=1.0, cache_benefit=0.5)
print("cost", round(g.optimum().cost, 6))
"""


def test_highs_banner_does_not_leak():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("cost ") and len(out.stdout.strip().splitlines()) == 1, out.stdout
    assert "HiGHS" not in out.stdout + out.stderr


def test_the_banner_exists_without_the_guard():
    # the test above is not vacuous: a bare highspy object prints the banner in a fresh process
    out = subprocess.run([sys.executable, "-c", "import highspy; highspy.Highs()"], capture_output=True, text=True)
    assert "HiGHS" in out.stdout
