"""The docs write their mathematics as TeX for MathJax ($...$ inline, $$...$$ display), not as plain text in code
spans: code spans are for identifiers, calls, commands and printed values."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
# comparisons, square roots and Greek names followed by a spaced relation: how plain-text math was written
PLAIN_MATH = re.compile(r"<=|>=|!=|\bsqrt\(|\b(?:omega|kappa|rho|lambda|alpha|beta|mu|tau|eps|delta) +[=<>]")
# what a command prints, quoted as printed (a printed value stays code)
PRINTED = {"howto-bound.md": {"t0 = 7.0902, alpha = 2.7505, beta = 1.1455", '"none (omega > 0)"'}}


def plain_math_spans(markdown: str) -> list[str]:
    """Inline code spans outside fenced blocks that hold plain-text mathematics."""
    return [span for span in SPAN.findall(FENCE.sub("", markdown)) if PLAIN_MATH.search(span)]


def test_detector_finds_plain_math_and_spares_code():
    page = ("Let `G_P >= m_P`, `mu = sqrt(a)` and `omega = 0`; call `fit(x, y, omega=0.5)` or `MM1(mu)`.\n"
            "```python\nassert 1 <= 2\n```\n")
    assert plain_math_spans(page) == ["G_P >= m_P", "mu = sqrt(a)", "omega = 0"]


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_no_plain_text_math_in_code_spans(page):
    found = [span for span in plain_math_spans(page.read_text()) if span not in PRINTED.get(page.name, set())]
    assert found == [], f"{page.name}: write these as $...$ (TeX), or they are printed output: {found}"
