"""One figure style for the package: the docs figures, the notebooks and every ``.plot()`` method.

The rules a figure here follows (checked by :func:`figure_problems`):

- legible fonts (11 pt labels, 10 pt ticks and legends at the figure's saved size);
- a y-label with its unit on every panel (:func:`axis_label` writes "TTFT P99 (ms)"; a dimensionless
  quantity names its definition instead: "PoA (equilibrium / optimum)");
- a legend wherever a panel has several labelled series (:func:`legend` draws one only then);
- knee lines labelled, with their interval shaded (:func:`knee_line`);
- axis ranges that do not dramatize small effects: a ratio such as a PoA keeps 1 in view and spans at least
  ``MIN_RATIO_SPAN`` (:func:`ratio_ylim`), so a 0.3 % effect looks like one.

Use ``with style(): ...`` (or ``@styled``) around figure code, ``use_style()`` once in a notebook, and
:func:`axes` to honour the ``ax=None`` convention of the ``.plot()`` methods: draw into the given axes, else
into a new figure.

References
----------
.. [1] M. Okabe, K. Ito, "Color Universal Design (CUD): how to make figures and presentations that are
   friendly to colorblind people", J*Fly, 2008 (the palette :data:`COLORS`).
.. [2] J. D. Hunter, "Matplotlib: a 2D graphics environment", Computing in Science & Engineering 9(3), 2007
   (``rcParams``, ``rc_context``).
.. [3] E. R. Tufte, *The Visual Display of Quantitative Information*, Graphics Press 1983 (the "lie factor":
   why a ratio axis keeps its reference value in view).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence

import numpy as np

from gametheory._validate import choice, finite_array, finite_scalar, flag, instance, nonnegative_scalar, pair
from gametheory._validate import path as check_path
from gametheory.errors import GameTheoryError, InvalidInputError

__all__ = [
    "COLORS",
    "FigureStyleError",
    "MIN_RATIO_SPAN",
    "RC",
    "axes",
    "axis_label",
    "figure_problems",
    "knee_line",
    "legend",
    "plain_log_ticks",
    "ratio_ylim",
    "save",
    "style",
    "styled",
    "use_style",
]

#: Okabe-Ito palette: distinguishable in colour-vision deficiency and in greyscale print
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: a ratio axis (PoA, PoA-hat, relative cost) spans at least this much above 1
MIN_RATIO_SPAN = 0.1

#: matplotlib rcParams of the shared style
RC = {
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.framealpha": 0.85,
    "figure.titlesize": 12.5,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying :data:`RC` and the :data:`COLORS` cycle to figures made inside it.

    The previous matplotlib settings are restored on exit (``matplotlib.rc_context``).

    Yields
    ------
    None
        Control to the block, with the shared style active.
    """
    import matplotlib as mpl
    from cycler import cycler

    with mpl.rc_context({**RC, "axes.prop_cycle": cycler(color=list(COLORS))}):
        yield


def use_style() -> None:
    """Apply the shared style to every figure from now on (notebooks: call once at the top)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({**RC, "axes.prop_cycle": cycler(color=list(COLORS))})


def styled(func):
    """Decorator: run ``func`` inside :func:`style`.

    Parameters
    ----------
    func : callable
        A function that makes figures.

    Returns
    -------
    callable
        A wrapper with ``func``'s name and docstring that calls it inside :func:`style` and returns its result.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def _check_axes(ax):
    from matplotlib.axes import Axes

    return instance(ax, Axes, "ax", what="matplotlib Axes")


def _check_figure(fig):
    from matplotlib.figure import Figure, SubFigure

    return instance(fig, (Figure, SubFigure), "fig", what="matplotlib Figure")


def axes(ax=None, *, figsize: tuple[float, float] = (6.4, 4.0)):
    """The axes a ``.plot(ax=None)`` method draws into.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Draw here when given.
    figsize : (float, float)
        Size in inches of the new figure when ``ax`` is None.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of a new figure made in the shared style.
    """
    if ax is not None:
        return _check_axes(ax)
    import matplotlib.pyplot as plt

    figsize = pair(figsize, "figsize", positive=True)
    with style():
        _, new = plt.subplots(figsize=figsize)
    return new


def axis_label(quantity: str, unit: str | None) -> str:
    """"quantity (unit)", or the quantity alone for a dimensionless one (``unit`` None or empty).

    Parameters
    ----------
    quantity : str
        What the axis shows ("TTFT P99", "PoA").
    unit : str or None
        Its unit ("ms"), or for a dimensionless ratio its definition ("equilibrium / optimum").

    Returns
    -------
    str
        The label, e.g. "TTFT P99 (ms)".

    Raises
    ------
    InvalidInputError
        ``quantity`` is not a string, or ``unit`` is neither a string nor None.
    """
    if not isinstance(quantity, str) or not (unit is None or isinstance(unit, str)):
        raise InvalidInputError(f"quantity and unit must be strings, got {quantity!r} and {unit!r}")
    return f"{quantity} ({unit})" if unit else quantity


def legend(ax, **kwargs):
    """Draw a legend when the axes hold at least two labelled artists; return it (or None).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.legend` (default ``loc="best"``).

    Returns
    -------
    matplotlib.legend.Legend or None
        The legend, or None when fewer than two artists are labelled (one series needs none).

    Raises
    ------
    InvalidInputError
        ``ax`` is not a matplotlib Axes.
    """
    handles, labels = _check_axes(ax).get_legend_handles_labels()
    if len(labels) < 2:
        return None
    kwargs.setdefault("loc", "best")
    return ax.legend(handles, labels, **kwargs)


def knee_line(ax, load: float, interval: Sequence[float] | None = None, *, label: str = "knee",
              unit: str = "", color: str = "0.35"):
    """A dashed vertical line at the knee, labelled in the plot and in the legend, its interval shaded.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    load : float
        The knee (x-axis units).
    interval : (float, float), optional
        Low and high ends, shaded.
    label : str
        Name of the line ("knee", "consensus knee", ...).
    unit : str
        Unit appended to the value in the text label.
    color : str
        A matplotlib colour (default a dark grey).

    Returns
    -------
    matplotlib.lines.Line2D
        The line.

    Raises
    ------
    InvalidInputError
        ``ax`` is not an Axes, ``load`` is not a finite number, ``interval`` is not two finite numbers, or
        ``label``, ``unit`` or ``color`` is not a string.
    """
    _check_axes(ax)
    load = finite_scalar(load, "load")
    if interval is not None:
        interval = finite_array(interval, "interval", ndim=1)
        if interval.size != 2:
            raise InvalidInputError(f"interval must be (low, high), got {interval.size} numbers")
    for name, value in (("label", label), ("unit", unit), ("color", color)):
        if not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a string, got {value!r}")
    text = f"{label} {load:.3g}{(' ' + unit) if unit else ''}"
    line = ax.axvline(load, color=color, linestyle="--", linewidth=1.3, label=text, zorder=1)
    if interval is not None and interval[1] > interval[0]:
        ax.axvspan(interval[0], interval[1], color=color, alpha=0.12, linewidth=0, zorder=0,
                   label=f"{label} interval [{interval[0]:.3g}, {interval[1]:.3g}]")
    ax.annotate(text, xy=(load, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                textcoords="offset points", ha="left", va="top", fontsize=9, color=color)
    return line


def ratio_ylim(ax, values, *, floor: float = 1.0, min_span: float = MIN_RATIO_SPAN, headroom: float = 0.06):
    """Y range for a ratio (PoA, PoA-hat, cost relative to optimum) that keeps ``floor`` in view.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel; its y limits are set.
    values : array_like
        The plotted ratios (non-finite values ignored).
    floor : float
        The ratio's reference value (1: no loss), always shown.
    min_span : float
        The axis spans at least ``floor`` .. ``floor + min_span``: a 0.3 % effect stays a 0.3 % effect.
    headroom : float
        Fraction of the span added above the largest value.

    Returns
    -------
    (float, float)
        The limits set.

    Raises
    ------
    InvalidInputError
        ``ax`` is not an Axes, ``values`` are not numbers, ``floor`` is not finite, or ``min_span`` or
        ``headroom`` is negative or not finite.
    """
    _check_axes(ax)
    floor, min_span, headroom = (finite_scalar(floor, "floor"), nonnegative_scalar(min_span, "min_span"),
                                 nonnegative_scalar(headroom, "headroom"))
    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"values must be numbers, got {values!r}") from None
    v = v[np.isfinite(v)]
    lo = min(floor, float(v.min())) if v.size else floor
    hi = max(floor + min_span, float(v.max())) if v.size else floor + min_span
    pad = headroom * (hi - lo)
    limits = (lo - (pad if lo < floor else 0.0) - 0.02 * (hi - lo), hi + pad)
    ax.set_ylim(*limits)
    return limits


class FigureStyleError(GameTheoryError):
    """A figure breaks the shared style's rules (:func:`figure_problems` lists them)."""


def plain_log_ticks(ax, axis: str = "y") -> None:
    """Label a logarithmic axis with plain numbers (1, 2, 5, 10, ...) instead of powers of ten.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"y", "x"}
    """
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    _check_axes(ax)
    axis = choice(axis, "axis", ("x", "y"))
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    formatter = ScalarFormatter()
    formatter.set_scientific(False)
    target.set_major_formatter(formatter)
    target.set_minor_formatter(NullFormatter())


def save(fig, path, *, check: bool = True) -> None:
    """Save ``fig`` in the shared style's resolution with a tight bounding box, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
    check : bool
        Refuse a figure that breaks the style's rules.

    Raises
    ------
    FigureStyleError
        ``check`` and :func:`figure_problems` found a problem (the figure is not written).
    """
    import matplotlib.pyplot as plt

    _check_figure(fig)
    path = check_path(path, "path")
    problems = figure_problems(fig) if flag(check, "check") else []
    if problems:
        plt.close(fig)
        raise FigureStyleError(f"{path}: " + "; ".join(problems))
    try:
        with style():
            fig.savefig(path)
    except (ValueError, OSError) as exc:
        raise InvalidInputError(f"cannot write the figure to {str(path)!r}: {exc}") from None
    finally:
        plt.close(fig)


def figure_problems(fig) -> list[str]:
    """What a figure misses of the shared style's rules (empty when it follows them).

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    list of str
        One line per problem: a panel without a y-label (its own, or that of a panel sharing its y axis), a
        y-label without its unit (or, for a
        dimensionless quantity, its definition) in parentheses, e.g. "TTFT P99 (ms)" or
        "PoA (equilibrium / optimum)"; a panel with several labelled series and no legend; a font below 8 pt.
    """
    problems = []
    for i, ax in enumerate(_check_figure(fig).axes):
        if not ax.get_visible() or not ax.has_data() or _is_colorbar(ax):
            continue
        name = f"panel {i} ({ax.get_title() or 'untitled'})"
        ylabel = ax.get_ylabel().strip() or _shared_ylabel(fig, ax)
        if not ylabel:
            problems.append(f"{name}: no y-label")
        elif "(" not in ylabel:
            problems.append(f"{name}: y-label {ylabel!r} has no unit in parentheses")
        _, labels = ax.get_legend_handles_labels()
        if len(labels) >= 2 and ax.get_legend() is None and not fig.legends:
            problems.append(f"{name}: {len(labels)} labelled series and no legend")
        leg = ax.get_legend()
        if leg is not None:
            small = [t.get_fontsize() for t in leg.get_texts() if t.get_fontsize() < 8]
            if small:
                problems.append(f"{name}: legend font {min(small):.1f} pt (< 8)")
        for t in (ax.xaxis.label, ax.yaxis.label):
            if t.get_text() and t.get_fontsize() < 8:
                problems.append(f"{name}: axis label font {t.get_fontsize():.1f} pt (< 8)")
    return problems


def _shared_ylabel(fig, ax) -> str:
    """The y-label of a panel that shares ``ax``'s y axis (``sharey=True`` labels only the first)."""
    shared = ax.get_shared_y_axes()
    return next((other.get_ylabel().strip() for other in fig.axes
                 if other is not ax and shared.joined(ax, other) and other.get_ylabel().strip()), "")


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>"
