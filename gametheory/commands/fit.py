"""``gametheory fit FILE.csv``: fit a latency curve to measured points and report its regimes.

The file (CSV or TSV, read by :mod:`gametheory.io.table`: UTF-8 byte-order mark, ``#`` comments) has a header
row, a load column and a latency column (``--load-column``/``--latency-column``, by default the usual names of
:func:`gametheory.serving.measurements.read_csv`) and optionally ``weight``; other columns are ignored.
Prints the chosen family, its parameters with standard errors, R^2, the AICc/BIC ranking of the candidate
families (``--family auto``, the default), any warning about the statistics (too few points, latency not rising
with load), the saturation knee with its bootstrap interval, and the regime of every point; ``--json`` prints the
same as strict JSON.

References
----------
.. [1] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002
   (the AICc ranking; :mod:`gametheory.fitting`).
.. [2] B. Efron, R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall 1993 (the knee
   interval; :mod:`gametheory.regimes`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gametheory.commands.arguments import bounded_int, nonnegative_int, strict_json
from gametheory.errors import InvalidInputError
from gametheory.fitting import FAMILIES, fit
from gametheory.regimes import METHODS, classify, find_knee
from gametheory.serving.measurements import read_csv

__all__ = ["HELP", "MAX_BOOTSTRAP", "NAME", "add_arguments", "run"]

#: most bootstrap refits the command runs (each is a full fit)
MAX_BOOTSTRAP = 100_000

NAME = "fit"
HELP = "Fit a latency curve to a CSV/TSV of (load, latency[, weight]) points; print fit, knee and regimes."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gametheory fit`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser: ``csv`` and ``--load-column``, ``--latency-column``, ``--encoding``,
        ``--family``, ``--degree``, ``--criterion``, ``--bootstrap``, ``--knee-method``, ``--seed``, ``--json``.
    """
    parser.add_argument("csv", type=Path, help="CSV/TSV file with a load and a latency column, optional weight")
    parser.add_argument("--load-column", help="column holding the load (default: load, concurrency, rate, ...)")
    parser.add_argument("--latency-column", help="column holding the latency in ms (default: latency, latency_ms)")
    parser.add_argument("--encoding", help="encoding of the file when not UTF-8 (e.g. latin-1)")
    parser.add_argument("--family", default="auto", choices=("auto",) + FAMILIES, help="curve family (default auto)")
    parser.add_argument("--degree", type=bounded_int(1, 12), default=2, help="polynomial degree, 1-12 (default 2)")
    parser.add_argument("--criterion", default="aic", choices=("aic", "bic"), help="model selection criterion")
    parser.add_argument("--bootstrap", type=bounded_int(0, MAX_BOOTSTRAP), default=0, metavar="N",
                        help="parameter uncertainty from N residual-bootstrap refits (default: covariance)")
    parser.add_argument("--knee-method", default="hinge", choices=METHODS, help="knee method (default hinge)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="bootstrap seed (an integer >= 0)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON (strict: null for inf/NaN)")


def run(args: argparse.Namespace) -> int:
    """Fit the file's points (:func:`gametheory.fitting.fit`), find the knee, print the report or JSON.

    A knee that cannot be found (too few points, no evidence of one) is reported as such, not as an error.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of :func:`add_arguments`.

    Returns
    -------
    int
        0 (user errors raise and :func:`gametheory.cli.main` turns them into exit code 2).
    """
    m = read_csv(args.csv, args.load_column, args.latency_column, encoding=args.encoding)
    x, y, w = m.load.tolist(), m.latency_ms.tolist(), None if m.weights is None else m.weights.tolist()
    unc = "bootstrap" if args.bootstrap > 0 else "covariance"
    res = fit(x, y, family=args.family, weights=w, degree=args.degree, criterion=args.criterion,
              uncertainty=unc, n_boot=max(args.bootstrap, 1), seed=args.seed, warn=False)
    try:
        knee = find_knee(x, y, method=args.knee_method, weights=w, seed=args.seed)
        labels = classify(x, knee=knee)
        knee_info = {"load": knee.load, "interval": list(knee.interval), "method": knee.method,
                     "interval_method": knee.interval_method,
                     "n_boot": knee.n_boot}
    except InvalidInputError as exc:
        knee, labels, knee_info = None, [], {"error": str(exc)}
    out = res.summary()
    out["file"] = str(args.csv)
    out["load_column"], out["latency_column"] = m.load_name, m.latency_name
    out["knee"] = knee_info
    out["points"] = [{"load": a, "latency": b, "fitted": float(res.curve(a)) if a < res.curve.capacity else None,
                      "regime": lab} for a, b, lab in zip(x, y, labels or [None] * len(x), strict=True)]
    if args.json:
        print(strict_json(out))
        return 0
    print(f"{args.csv}: {len(x)} points of {m.latency_name} against {m.load_name}, family {res.family} (k={res.k})")
    for name, v in res.params.items():
        se = res.stderr.get(name)
        print(f"  {name:>10} = {v:.6g}" + (f"  +/- {se:.3g} ({res.uncertainty})" if se is not None else ""))
    aicc = f"{res.aic:.2f}" if res.n > res.k + 1 else "undefined (n <= k + 1)"  # res.aic is a ranking penalty there
    print(f"  R^2 = {res.r2:.5f}   AICc = {aicc}   BIC = {res.bic:.2f}")
    if res.ranking:
        print("ranking (best first):")
        for r in res.ranking:
            print(f"  {r['family']:>10}  k={r['k']}  AICc={r['aic']:10.2f}  BIC={r['bic']:10.2f}  "
                  f"weight={r['weight']:.3f}  R^2={r['r2']:.4f}")
        print(f"why: {res.explanation}")
    for text in res.warnings:
        print(f"warning: {text}")
    if knee is None:
        print(f"knee: none ({knee_info['error']})")
    else:
        lo, hi = knee.interval
        print(f"knee ({knee.method}): load {knee.load:.6g}, {100 * knee.confidence:.0f}% interval "
              f"[{lo:.6g}, {hi:.6g}] ({knee.n_boot} bootstrap refits)")
        if knee.interval_method != "bootstrap":
            print(f"  interval: {knee.interval_method}")
        print("regimes:")
        for p in out["points"]:
            fitted = "-" if p["fitted"] is None else f"{p['fitted']:.6g}"
            print(f"  load {p['load']:>10.6g}  latency {p['latency']:>10.6g}  fitted {fitted:>10}  {p['regime']}")
    return 0
