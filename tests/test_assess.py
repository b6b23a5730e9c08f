"""`gametheory assess` and `gametheory.assess`: sample inputs in tests/data/assess (make_samples.py)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gametheory.assessment import assess  # noqa: E402
from gametheory.bounds import class_bound  # noqa: E402
from gametheory.cli import main  # noqa: E402
from gametheory.errors import InvalidInputError  # noqa: E402
from gametheory.regimes import find_knees  # noqa: E402
from gametheory.serving.estimator import poa_hat_log, read_request_log  # noqa: E402

DATA = Path(__file__).parent / "data" / "assess"
KEYS = ("knee", "knee_interval", "regime", "load_over_knee", "poa_bound", "bound_kind", "fit")


@pytest.fixture(scope="module")
def bench():
    return assess(DATA / "bench.csv", latency_column="ttft_p99_ms", n_boot=40)


def test_bench_csv_report_is_consistent_with_its_parts(bench):
    # the parts, recomputed independently from the same points
    x, y = bench.data.load, bench.data.latency_ms
    assert x.tolist() == list(range(8, 129, 8)) and bench.data.load_name == "concurrency"
    k = find_knees(x, y, n_boot=40)
    assert bench.knee.load == pytest.approx(k.load) and bench.knee.interval == pytest.approx(k.interval)
    assert bench.fit.family == "pole" and 128 < bench.fit.params["kappa"] < 135  # the pole at 131
    assert bench.at == 128 and bench.regime == "saturated"
    assert bench.load_over_knee == pytest.approx(128 / k.load)
    lo, hi = bench.load_over_knee_interval
    assert lo == pytest.approx(128 / k.interval[1]) and hi == pytest.approx(128 / k.interval[0])
    b, kind = class_bound([bench.fit.curve], 128.0)
    assert bench.poa_bound == pytest.approx(b) and bench.bound_kind == kind
    # the bound across load rises to the bound at the operating point
    loads, bounds_ = zip(*bench.bound_across_load, strict=True)
    assert loads[-1] == pytest.approx(128) and bounds_[-1] == pytest.approx(b) and np.all(np.diff(bounds_) >= -1e-9)
    text = bench.report()
    for word in ("fit", "why", "knee", "hinge", "pole", "kneedle", "saturated", "load / knee", "PoA <="):
        assert word in text


def test_json_is_strict_and_has_the_contract_keys(capsys):
    assert main(["assess", str(DATA / "straight.tsv"), "--json", "--bootstrap", "10"]) == 0
    text = capsys.readouterr().out
    assert "Infinity" not in text and "NaN" not in text
    doc = json.loads(text)
    for key in KEYS:
        assert key in doc
    # a straight line: no knee, said with nulls, not NaN
    assert doc["knee"] is None and doc["knee_interval"] is None and doc["regime"] == "no knee"
    assert doc["load_over_knee"] is None
    assert doc["bound_kind"] == "polynomial degree 1" and doc["poa_bound"] == pytest.approx(4 / 3)
    assert doc["fit"]["family"] == "affine"


def test_aiperf_folder_with_request_logs():
    r = assess(DATA / "aiperf_sweep", n_boot=20)
    assert r.data.load_name == "concurrency" and r.data.latency_name == "ttft_p99_ms"
    assert r.data.load.tolist() == [8, 16, 32, 48, 64, 80, 96, 104, 112, 120, 128]  # sweep_aggregate skipped
    # PoA-hat per run, equal to the estimator on the same file
    loads = [x for x, _ in r.poa_hat_across_load]
    assert loads == r.data.load.tolist()
    direct = poa_hat_log(read_request_log(DATA / "aiperf_sweep" / "concurrency_128" / "request_log.csv"))
    assert r.poa_hat.value == pytest.approx(direct.value)
    values = [p.value for _, p in r.poa_hat_across_load]
    assert values[-1] > 1.3 and abs(values[0] - 1) < 0.05  # flat below the knee, growing past it
    doc = json.loads(r.to_json())
    assert doc["poa_hat"]["form"] == "paper" and len(doc["poa_hat_across_load"]) == 11


def test_per_request_jsonl_groups_requests_by_load():
    r = assess(DATA / "aiperf_ramp" / "profile_export.jsonl", n_boot=20)
    assert r.data.load_name == "requests in flight" and len(r.data) >= 8
    assert np.all(np.diff(r.data.load) > 0)
    assert "left out" in " ".join(r.notes) and any("p99 of about 20" in w for w in r.warnings)


def test_plot_follows_the_figure_rules(bench, tmp_path, capsys):
    from gametheory.plotting import figure_problems

    axes = bench.plot()
    assert figure_problems(axes[0].figure) == []
    out = tmp_path / "assess.png"
    assert main(["assess", str(DATA / "bench.csv"), "--latency-column", "ttft_p99_ms", "--bootstrap", "5",
                 "--plot", str(out)]) == 0
    assert out.stat().st_size > 10_000 and "figure:" in capsys.readouterr().out


def test_python_views(bench):
    assert repr(bench).startswith("Assessment of") and "<table>" in bench._repr_html_()
    df = bench.to_frame()
    assert list(df.columns) == ["concurrency", "ttft_p99_ms", "fitted_ms", "regime"] and len(df) == 16


def test_operating_point_and_arrays():
    x = np.arange(8, 129, 8.0)
    y = 40 + 0.2 * x + 800 / (131 - x)
    r = assess(load=x, latency=y, at=64, n_boot=10)
    assert r.at == 64 and r.at_source == "given" and r.regime == "below"
    past = assess(load=x, latency=y, at=140, n_boot=0)
    assert past.poa_bound is None and "past the fitted capacity" in past.bound_kind
    assert any("past the highest measured load" in w for w in past.warnings)


@pytest.mark.parametrize("content, args, fragments", [
    (b"concurrency,ttft_ms\n8,40\n16,4x\n", [], ["row 3", "column 'ttft_ms'", "'4x' is not a number"]),
    ("concurrency,ttft_ms\n8,40\n16,café\n".encode("latin-1"), [], ["row 3", "not valid UTF-8", "--encoding"]),
    (b"a,b\n1,2\n", [], ["row 1", "no load column", "--load-column"]),
    (b"concurrency,ttft_p99_ms,itl_p50_ms\n1,2,3\n", [], ["several latency columns", "--latency-column"]),
    (b"qps,ms\n1,2\n2,3\n", ["--load-column", "qps", "--latency-column", "p99"], ["no latency column", "'p99'"]),
    (b"load,latency\n1,2\n2,3\n", [], ["too few to choose a curve family"]),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, content, args, fragments):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    assert main(["assess", str(p), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gametheory assess: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)


def test_one_run_is_not_a_curve(capsys):
    run = DATA / "aiperf_sweep" / "concurrency_8" / "profile_export_aiperf.json"
    assert main(["assess", str(run)]) == 2
    assert "one run (one load) gives no curve" in capsys.readouterr().err
    with pytest.raises(InvalidInputError, match="no such file"):
        assess(DATA / "absent.csv")
    with pytest.raises(InvalidInputError, match="a request log gives PoA-hat but no load-latency curve"):
        assess(DATA / "aiperf_sweep" / "concurrency_8" / "request_log.csv")


def test_samples_are_what_the_generator_writes(tmp_path, monkeypatch):
    # the committed samples are reproducible from make_samples.py (no hand edits)
    import importlib.util
    import shutil

    copy = tmp_path / "assess"
    shutil.copytree(DATA, copy)
    spec = importlib.util.spec_from_file_location("make_samples", copy / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main()
    for f in sorted(DATA.rglob("*")):
        if f.is_file() and f.suffix != ".py":
            assert (copy / f.relative_to(DATA)).read_bytes() == f.read_bytes(), f


def test_numbers_quoted_in_howto_assess_are_what_the_default_run_gives():
    # docs/howto-assess.md quotes docs/figures/make_assess.py's run (default n_boot): the same numbers, rounded
    page = (Path(__file__).parents[1] / "docs" / "howto-assess.md").read_text()
    text = " ".join(page.split())  # the paragraph wraps lines
    doc = assess(DATA / "bench.csv", latency_column="ttft_p99_ms").summary()

    def r1(v):
        return f"{v:.1f}".removesuffix(".0")

    def span(pair):
        return f"[{r1(pair[0])}, {r1(pair[1])}]"

    methods = doc["knee_methods"]
    expected = [f"capacity ${r1(doc['fit']['params']['kappa'])} \\pm {doc['fit']['stderr']['kappa']:.2f}$",
                *(f"{name} {r1(methods[name]['knee'])} {span(methods[name]['interval'])}"
                  for name in ("hinge", "pole", "kneedle")),
                f"median, {r1(doc['knee'])}, with the interval {span(doc['knee_interval'])}",
                f"load / knee {doc['load_over_knee']:.2f} [{doc['load_over_knee_interval'][0]:.2f}, "
                f"{doc['load_over_knee_interval'][1]:.2f}]",
                f"at 128 is {doc['poa_bound']:.2f}."]
    for quoted in expected:
        assert quoted in text, quoted
