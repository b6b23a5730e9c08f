"""Reader of user measurements: plain CSV and aiperf / genai-perf exports (tests/data/measurements)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.measurements import read_benchmark, read_csv, read_sweep

DATA = Path(__file__).parent / "data" / "measurements"


# ---- plain CSV ------------------------------------------------------------------------------------
def test_plain_csv_reads_points_in_order():
    m = read_csv(DATA / "plain.csv")
    np.testing.assert_array_equal(m.load, [8, 16, 32, 64, 96, 128])
    np.testing.assert_allclose(m.latency_ms, [41.2, 42.0, 44.1, 47.9, 55.0, 210.5])
    assert len(m) == 6 and m.load_name == "load" and m.latency_name == "latency"


def test_plain_csv_named_columns_and_aliases(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("concurrency,ttft_p99,latency_ms\n1,5.0,10\n2,6.0,12\n")
    m = read_csv(p)
    assert m.load_name == "concurrency" and m.latency_name == "latency_ms"
    np.testing.assert_allclose(m.latency_ms, [10, 12])
    m2 = read_csv(p, latency_column="ttft_p99")
    np.testing.assert_allclose(m2.latency_ms, [5.0, 6.0])


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("load,latency\n1,2\n2,abc\n", ["row 3", "'latency'", "'abc' is not a number"]),
        ("load,latency\n1,2\n-2,3\n", ["row 3", "'load'", "must be >= 0"]),
        ("load,latency\n1,2\n2,nan\n", ["row 3", "'latency'", "not finite"]),
        ("load,latency\n1,2\n3\n", ["row 3", "1 fields", "header has 2"]),
        ("load,lat\n1,2\n", ["row 1", "no latency column"]),
        ("x,latency\n1,2\n", ["row 1", "no load column"]),
        ("load,latency\n", ["header only"]),
        ("# nothing\n\n", ["empty file"]),
        ("load,latency\n1,\n", ["row 2", "empty cell"]),
        ("load,latency,load\n1,2,3\n", ["row 1", "duplicate column 'load'"]),
        ("concurrency,ttft_p99_ms,itl_p50_ms\n1,2,3\n", ["several latency columns", "--latency-column"]),
    ],
)
def test_plain_csv_errors_name_file_row_and_field(tmp_path, text, fragments):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        read_csv(p)
    msg = str(info.value)
    assert str(p) in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_missing_file():
    with pytest.raises(InvalidInputError, match="no such file"):
        read_csv(DATA / "absent.csv")


# ---- aiperf / genai-perf --------------------------------------------------------------------------
def test_aiperf_json_and_csv_of_same_run_agree():
    j = read_benchmark(DATA / "aiperf_sweep" / "concurrency64" / "profile_export_aiperf.json")
    c = read_benchmark(DATA / "aiperf_c64.csv", concurrency=64)
    assert j.tool == "aiperf" and c.tool == "aiperf"
    assert j.concurrency == 64 == c.concurrency  # JSON: input_config.loadgen.concurrency
    for metric in ("ttft", "itl", "request_latency"):
        for stat in ("avg", "p50", "p90", "p99", "min", "max"):
            assert j.stat(metric, stat) == pytest.approx(c.stat(metric, stat), abs=0.006), (metric, stat)
    assert j.request_throughput == pytest.approx(c.request_throughput, abs=0.006)
    assert j.output_token_throughput == pytest.approx(c.output_token_throughput, abs=0.006)
    assert j.ttft_ms["p99"] == 88.0 and j.itl_ms["avg"] == 9.6


def test_genai_perf_csv_with_thousands_separators_matches_json():
    folder = DATA / "genai-perf-concurrency16"
    c = read_benchmark(folder / "profile_export_genai_perf.csv")
    j = read_benchmark(folder / "profile_export_genai_perf.json")
    assert c.tool == j.tool == "genai-perf"
    assert c.concurrency == 16  # from the folder name
    assert j.concurrency == 16  # from input_config
    assert c.request_latency_ms["p99"] == pytest.approx(1310.2)
    assert c.output_token_throughput == pytest.approx(1283.2)
    for metric in ("ttft", "itl", "request_latency"):
        for stat in ("avg", "p25", "p50", "p75", "p90", "p95", "p99"):
            assert c.stat(metric, stat) == pytest.approx(j.stat(metric, stat)), (metric, stat)


def test_units_are_converted_to_ms(tmp_path):
    p = tmp_path / "profile_export_aiperf.json"
    p.write_text(json.dumps({
        "time_to_first_token": {"unit": "sec", "avg": 0.05, "p99": 0.2},
        "inter_token_latency": {"unit": "us", "avg": 9000.0},
        "input_config": {"loadgen": {"concurrency": 4}},
    }))
    run = read_benchmark(p)
    assert run.ttft_ms == {"avg": pytest.approx(50.0), "p99": pytest.approx(200.0)}
    assert run.itl_ms["avg"] == pytest.approx(9.0)
    assert run.request_throughput is None


def test_sweep_from_folder_is_sorted_by_concurrency():
    sweep = read_sweep(DATA / "aiperf_sweep")
    np.testing.assert_array_equal(sweep.concurrency, [8, 32, 64])
    np.testing.assert_allclose(sweep.series("ttft", "p99"), [52.3, 60.8, 88.0])
    np.testing.assert_allclose(sweep.throughput, [0.551, 2.013, 3.708])
    m = sweep.measurements("itl", "avg")
    assert m.load_name == "concurrency" and m.latency_name == "itl_avg_ms"
    np.testing.assert_allclose(m.latency_ms, [7.9, 8.3, 9.6])


def test_sweep_errors(tmp_path):
    # a run without a known concurrency
    with pytest.raises(InvalidInputError, match="aiperf_c64.csv: field 'concurrency' is unknown"):
        read_sweep([DATA / "aiperf_c64.csv"])
    # the same concurrency twice
    a = tmp_path / "a" / "profile_export_aiperf.json"
    b = tmp_path / "b" / "profile_export_aiperf.json"
    for dst in (a, b):
        dst.parent.mkdir()
        shutil.copy(DATA / "aiperf_sweep" / "concurrency8" / "profile_export_aiperf.json", dst)
    with pytest.raises(InvalidInputError, match="concurrency 8 appears in more than one run"):
        read_sweep(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInputError, match="no aiperf/genai-perf summary exports"):
        read_sweep(empty)
    with pytest.raises(InvalidInputError, match="field 'ttft.p42' is missing"):
        read_benchmark(a).stat("ttft", "p42")


@pytest.mark.parametrize(
    "content, fragments",
    [
        ('{"time_to_first_token": {"unit": "ms", "avg": 1.0,\n "p99": }}', ["row 2", "not valid JSON"]),
        ('{"time_to_first_token": {"unit": "ms", "avg": "fast"}}', ["field 'time_to_first_token.avg'", "not a number"]),
        ('{"time_to_first_token": {"unit": "ms", "avg": -3}}', ["field 'time_to_first_token.avg'", "negative"]),
        ('{"time_to_first_token": 12}', ["field 'time_to_first_token' must be a stats object"]),
        ('{"time_to_first_token": {"unit": "fortnights", "avg": 1}}', ["unknown time unit"]),
        ('{"benchmark_duration": {"unit": "sec", "avg": 60}}', ["no time_to_first_token"]),
        ("[1, 2]", ["expected a JSON object"]),
    ],
)
def test_export_json_errors(tmp_path, content, fragments):
    p = tmp_path / "profile_export_aiperf.json"
    p.write_text(content)
    with pytest.raises(InvalidInputError) as info:
        read_benchmark(p)
    msg = str(info.value)
    assert str(p) in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_export_csv_errors(tmp_path):
    p = tmp_path / "profile_export_aiperf.csv"
    p.write_text("Metric,avg,min,max,p99\nTime to First Token (ms),1.0,0.5,oops,2.0\n")
    with pytest.raises(InvalidInputError) as info:
        read_benchmark(p, concurrency=4)
    assert all(s in str(info.value) for s in (str(p), "row 2", "Time to First Token (ms) / max", "'oops'"))
    q = tmp_path / "other.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError, match="no 'Metric,...' section"):
        read_benchmark(q, concurrency=4)
    r = tmp_path / "run.txt"
    r.write_text("x")
    with pytest.raises(InvalidInputError, match="expected a .json, .csv or .jsonl"):
        read_benchmark(r)
