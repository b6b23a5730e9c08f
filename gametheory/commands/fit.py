"""``gametheory fit FILE.csv``: fit a latency curve to measured points and report its regimes.

The CSV has a header with columns ``load`` and ``latency`` and optionally ``weight`` (other columns are
ignored). Prints the chosen family, its parameters with standard errors, R^2, the AICc/BIC ranking of the
candidate families (``--family auto``, the default), the saturation knee with its bootstrap interval, and
the regime of every point; ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from gametheory.commands.arguments import bounded_int, nonnegative_int, strict_json
from gametheory.errors import InvalidInputError
from gametheory.fitting import FAMILIES, fit
from gametheory.regimes import METHODS, classify, find_knee

#: most bootstrap refits the command runs (each is a full fit)
MAX_BOOTSTRAP = 100_000

NAME = "fit"
HELP = "Fit a latency curve to a CSV of (load, latency[, weight]) points; print fit, knee and regimes."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", type=Path, help="CSV file with columns load,latency and optional weight")
    parser.add_argument("--family", default="auto", choices=("auto",) + FAMILIES, help="curve family (default auto)")
    parser.add_argument("--degree", type=bounded_int(1, 12), default=2, help="polynomial degree, 1-12 (default 2)")
    parser.add_argument("--criterion", default="aic", choices=("aic", "bic"), help="model selection criterion")
    parser.add_argument("--bootstrap", type=bounded_int(0, MAX_BOOTSTRAP), default=0, metavar="N",
                        help="parameter uncertainty from N residual-bootstrap refits (default: covariance)")
    parser.add_argument("--knee-method", default="hinge", choices=METHODS, help="knee method (default hinge)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="bootstrap seed (an integer >= 0)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def read_points(path: Path) -> tuple[list[float], list[float], list[float] | None]:
    """Read load, latency and optional weight columns; errors name the file, line and field. Blank lines
    and lines starting with ``#`` are skipped (as in :func:`gametheory.serving.measurements.read_csv`)."""
    try:
        handle = open(path, newline="")
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        kept = [(no, line) for no, line in enumerate(handle, start=1)
                if line.strip() and not line.lstrip().startswith("#")]
        line_numbers = [no for no, _ in kept[1:]]
        reader = csv.DictReader(line for _, line in kept)
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        for need in ("load", "latency"):
            if need not in fields:
                raise InvalidInputError(f"{path}: header must have a {need!r} column, got {fields}")
        has_w = "weight" in fields
        xs, ys, ws = [], [], []
        for row_no, row in zip(line_numbers, reader, strict=False):
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            vals = []
            for name in ("load", "latency") + (("weight",) if has_w else ()):
                text = (row.get(name) or "").strip()
                try:
                    v = float(text)
                except ValueError:
                    raise InvalidInputError(f"{path}: row {row_no}, field {name!r}: not a number: {text!r}") from None
                if not math.isfinite(v):
                    raise InvalidInputError(f"{path}: row {row_no}, field {name!r}: must be finite, got {text!r}")
                if v < 0 or (name == "weight" and v == 0):
                    raise InvalidInputError(f"{path}: row {row_no}, field {name!r}: must be "
                                            f"{'> 0' if name == 'weight' else '>= 0'}, got {text!r}")
                vals.append(v)
            xs.append(vals[0])
            ys.append(vals[1])
            if has_w:
                ws.append(vals[2])
    if not xs:
        raise InvalidInputError(f"{path}: no data rows")
    return xs, ys, (ws if has_w else None)


def run(args: argparse.Namespace) -> int:
    x, y, w = read_points(args.csv)
    unc = "bootstrap" if args.bootstrap > 0 else "covariance"
    res = fit(x, y, family=args.family, weights=w, degree=args.degree, criterion=args.criterion,
              uncertainty=unc, n_boot=max(args.bootstrap, 1), seed=args.seed)
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
    out["knee"] = knee_info
    out["points"] = [{"load": a, "latency": b, "fitted": float(res.curve(a)) if a < res.curve.capacity else None,
                      "regime": lab} for a, b, lab in zip(x, y, labels or [None] * len(x), strict=True)]
    if args.json:
        print(strict_json(out))
        return 0
    print(f"{args.csv}: {len(x)} points, family {res.family} (k={res.k})")
    for name, v in res.params.items():
        se = res.stderr.get(name)
        print(f"  {name:>10} = {v:.6g}" + (f"  +/- {se:.3g} ({res.uncertainty})" if se is not None else ""))
    print(f"  R^2 = {res.r2:.5f}   AICc = {res.aic:.2f}   BIC = {res.bic:.2f}")
    if res.ranking:
        print("ranking (best first):")
        for r in res.ranking:
            print(f"  {r['family']:>10}  k={r['k']}  AICc={r['aic']:10.2f}  BIC={r['bic']:10.2f}  "
                  f"weight={r['weight']:.3f}  R^2={r['r2']:.4f}")
        print(f"why: {res.explanation}")
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
