"""``gametheory profiles``: list the shipped step-latency profiles, or summarize one.

``gametheory profiles`` prints one line per profile (GPU, model, backend, dtype, TP, data provenance);
``gametheory profiles NAME`` prints its model and memory facts, grid, fitted prefill and decode curves and
the non-monotone points of its tables; ``--json`` prints the summary as JSON.

References
----------
.. [1] NVIDIA aiconfigurator (PyPI ``aiconfigurator-core``, Apache-2.0): the measured per-kernel B200 tables
   the shipped profiles were computed from (each profile's provenance names the package version).
"""

from __future__ import annotations

import argparse
import json

from gametheory.serving.profiles import list_profiles, load_profile

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "profiles"
HELP = "List the shipped measured latency profiles (with provenance), or summarize one."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gametheory profiles`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser: an optional profile ``name`` and ``--json``.
    """
    parser.add_argument("name", nargs="?", help="profile to summarize (default: list all)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _fit_line(label: str, result) -> str:
    params = getattr(result, "params", {})
    if isinstance(params, dict):
        text = ", ".join(f"{k}={v:.4g}" for k, v in params.items() if isinstance(v, (int, float)))
    else:
        text = str(params)
    return f"  {label}: {result.family} [{text}], R^2 = {result.r2:.4f}"


def _summary(name: str) -> dict:
    p = load_profile(name)
    pre = p.prefill_fit
    out = {
        "name": p.name,
        "provenance": p.provenance.summary(),
        "model": p.model.name,
        "tp": p.tp,
        "kv_bytes_per_token": p.model.kv_bytes_per_token,
        "max_kv_tokens_per_worker": p.max_kv_tokens,
        "prefill_fit": {"family": pre.family, "r2": pre.r2},
        "decode_fits": {
            int(c): {"family": f.family, "r2": f.r2} for c, f in zip(p.decode_context, p.decode_fits, strict=True)
        },
        "non_monotone_decode_points": len(p.non_monotone_decode()),
    }
    return out


def run(args: argparse.Namespace) -> int:
    """List the shipped profiles, or describe the one named (:func:`gametheory.serving.profiles.load_profile`).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of :func:`add_arguments`.

    Returns
    -------
    int
        0 (an unknown profile name raises and :func:`gametheory.cli.main` turns it into exit code 2).
    """
    if not args.name:
        rows = []
        for n in list_profiles():
            p = load_profile(n)
            rows.append(
                {
                    "name": n,
                    "system": p.provenance.system,
                    "model": p.model.name,
                    "backend": p.provenance.backend,
                    "dtype": p.provenance.dtype,
                    "tp": p.tp,
                    "source": f"{p.provenance.package} {p.provenance.package_version} "
                    f"({p.provenance.table_version}), {p.provenance.date}",
                }
            )
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        width = max(len(r["name"]) for r in rows)
        print(f"{'profile'.ljust(width)}  {'system':8}  {'model':16}  {'backend':7}  {'dtype':5}  tp  source")
        for r in rows:
            print(
                f"{r['name'].ljust(width)}  {r['system']:8}  {r['model']:16}  {r['backend']:7}  {r['dtype']:5}  "
                f"{r['tp']:2d}  {r['source']}"
            )
        print(f"{len(rows)} profiles; `gametheory profiles NAME` for details")
        return 0

    if args.json:
        print(json.dumps(_summary(args.name), indent=2))
        return 0
    p = load_profile(args.name)
    print(p.describe())
    print("fitted curves (gametheory.fitting):")
    print(_fit_line("prefill latency vs tokens per batch", p.prefill_fit))
    for isl in p.prefill_isls_with_batch_sweep:
        print(_fit_line(f"prefill at isl {isl} vs tokens", p.prefill_fit_at(isl)))
    for c, f in zip(p.decode_context, p.decode_fits, strict=True):
        print(_fit_line(f"decode step vs batch at context {int(c)}", f))
    drops = p.non_monotone_decode(min_drop_pct=1.0)
    print(f"non-monotone decode points (step latency falls > 1 % as batch grows): {len(drops)}")
    for c, b0, b1, pct in drops[:8]:
        print(f"  context {c}: batch {b0} -> {b1}: -{pct:.1f} %")
    if len(drops) > 8:
        print(f"  ... {len(drops) - 8} more")
    return 0
