"""The shared figure style and its rules: the checker catches what it claims to catch."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gametheory.plotting import RC, axes, axis_label, figure_problems, knee_line, legend, ratio_ylim, style  # noqa: E402


def test_style_applies_and_restores():
    before = plt.rcParams["legend.fontsize"]
    with style():
        assert plt.rcParams["legend.fontsize"] == RC["legend.fontsize"]
    assert plt.rcParams["legend.fontsize"] == before


def test_problems_found_and_fixed():
    with style():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="a")
        ax.plot([0, 1], [1, 0], label="b")
        problems = figure_problems(fig)
        assert any("no y-label" in p for p in problems) and any("no legend" in p for p in problems)
        ax.set_ylabel("TTFT P99")
        assert any("no unit" in p for p in figure_problems(fig))
        ax.set_ylabel(axis_label("TTFT P99", "ms"))
        legend(ax)
        assert figure_problems(fig) == []
        plt.close(fig)


def test_legend_only_for_several_series():
    ax = axes()
    ax.plot([0, 1], [0, 1], label="only")
    assert legend(ax) is None
    plt.close(ax.figure)


def test_knee_line_is_labelled():
    ax = axes()
    ax.plot([0, 200], [1, 2], label="latency")
    knee_line(ax, 118.0, (110.0, 125.0), unit="requests")
    labels = ax.get_legend_handles_labels()[1]
    assert "knee 118 requests" in labels and any("interval [110, 125]" in s for s in labels)
    assert any("knee 118" in t.get_text() for t in ax.texts)
    plt.close(ax.figure)


def test_ratio_axis_keeps_small_effects_small():
    ax = axes()
    lo, hi = ratio_ylim(ax, [1.000, 1.003])
    assert lo <= 1.0 and hi >= 1.1  # a 0.3 % effect on a >= 10 % axis
    lo, hi = ratio_ylim(ax, [1.0, 4.0])
    assert lo <= 1.0 and 4.0 < hi < 4.5
    plt.close(ax.figure)


def test_save_refuses_a_figure_that_breaks_the_rules(tmp_path):
    import pytest

    from gametheory.plotting import FigureStyleError, save

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    with pytest.raises(FigureStyleError, match="no y-label"):
        save(fig, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.set_ylabel("latency (ms)")
    save(fig, tmp_path / "good.png")
    assert (tmp_path / "good.png").stat().st_size > 1000


def test_shared_y_axis_takes_the_first_panels_label():
    fig, axes = plt.subplots(1, 2, sharey=True)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    axes[0].set_ylabel("latency (ms)")
    assert figure_problems(fig) == []
    fig2, axes2 = plt.subplots(1, 2)
    for ax in axes2:
        ax.plot([0, 1], [0, 1])
    axes2[0].set_ylabel("latency (ms)")
    assert any("panel 1" in p and "no y-label" in p for p in figure_problems(fig2))
    plt.close(fig)
    plt.close(fig2)
