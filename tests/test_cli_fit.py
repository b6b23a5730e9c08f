"""`gametheory fit`: CSV in, family/parameters/R^2/ranking/knee/regimes out; JSON; named errors."""

import json
import re

import numpy as np
import pytest

from gametheory.cli import main


def write_csv(path, x, y, w=None):
    head = "load,latency" + (",weight" if w is not None else "")
    rows = [f"{a},{b}" + (f",{c}" if w is not None else "") for a, b, c in zip(x, y, w if w is not None else x,
                                                                               strict=True)]
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def hinge_csv(tmp_path):
    x = np.linspace(0, 100, 30)
    y = 2 + 0.5 * x + 3 * np.maximum(x - 60, 0) + 0.3 * np.random.default_rng(0).standard_normal(x.size)
    return write_csv(tmp_path / "m.csv", x, y)


def test_text_output(hinge_csv, capsys):
    assert main(["fit", str(hinge_csv)]) == 0
    out = capsys.readouterr().out
    assert "family piecewise" in out and "R^2" in out and "ranking" in out and "why:" in out
    knee = float(re.search(r"knee \(hinge\): load ([0-9.]+)", out).group(1))
    assert abs(knee - 60.0) < 1.0
    assert out.count("below") >= 10 and out.count("saturated") >= 5


def test_json_output_with_family_and_weights(tmp_path, capsys):
    x = np.linspace(0, 90, 25)
    y = 5 + 0.1 * x + 20 / (100 - x)
    path = write_csv(tmp_path / "w.csv", x, y, w=np.ones_like(x))
    assert main(["fit", str(path), "--family", "pole", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["family"] == "pole" and data["params"]["kappa"] == pytest.approx(100, rel=0.02)
    assert set(data["stderr"]) == {"a", "b", "c", "kappa"}
    assert len(data["points"]) == 25 and {p["regime"] for p in data["points"]} <= {"below", "transition",
                                                                                 "saturated"}
    assert data["knee"]["interval"][0] <= data["knee"]["load"] <= data["knee"]["interval"][1]


def test_bootstrap_option(hinge_csv, capsys):
    assert main(["fit", str(hinge_csv), "--family", "affine", "--bootstrap", "30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["uncertainty"] == "bootstrap"


@pytest.mark.parametrize(
    "text,needle",
    [("load,latency\n1,2\n2,x\n", "row 3, column 'latency'"),
     ("load,lat\n1,2\n", "no latency column"),
     ("load,latency\n-1,2\n2,3\n", "row 2, column 'load'"),
     ("load,latency\n", "no data rows"),
     ("load,latency,weight\n1,2,0\n", "column 'weight'"),
     ("# a comment\nload,latency\n\n# another\n1,2\n2,x\n", "row 6, column 'latency'"),
     ("\ufeffload,latency,load\n1,2,3\n", "duplicate column 'load'")],
)
def test_malformed_csv_names_file_row_field(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and needle in err


def test_missing_file(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err


def test_too_few_points_for_family(tmp_path, capsys):
    path = write_csv(tmp_path / "few.csv", [0, 1, 2], [1, 2, 3])
    assert main(["fit", str(path), "--family", "pole"]) == 2
    assert "needs at least 4" in capsys.readouterr().err


def test_aicc_undefined_below_k_plus_2_points_is_said_not_printed_as_a_number(tmp_path, capsys):
    # AICc's correction 2k(k+1)/(n-k-1) does not exist for n <= k + 1: the report says so instead of
    # printing the large finite penalty that keeps family="auto"'s ranking total
    path = write_csv(tmp_path / "three.csv", [8, 32, 64], [52.3, 60.8, 88.0])
    assert main(["fit", str(path), "--family", "affine"]) == 0
    out = capsys.readouterr().out
    assert "AICc = undefined (n <= k + 1)" in out and "1000" not in out.split("AICc")[1].split("\n")[0]
    four = write_csv(tmp_path / "four.csv", [8, 32, 64, 96], [52.3, 60.8, 88.0, 101.0])
    assert main(["fit", str(four), "--family", "affine"]) == 0
    assert re.search(r"AICc = -?[0-9]+\.[0-9]{2} ", capsys.readouterr().out)


def test_comment_lines_are_skipped(capsys):
    from pathlib import Path

    plain = Path(__file__).parent / "data" / "measurements" / "plain.csv"
    assert plain.read_text().startswith("#")
    assert main(["fit", str(plain), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 6


def test_version(capsys):
    import importlib.metadata

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"gametheory {importlib.metadata.version('gametheory')}"


def test_the_issue_file_with_a_bom_and_named_columns(tmp_path, capsys):
    # concurrency,ttft_p99_ms,itl_p50_ms written by a spreadsheet (UTF-8 BOM): readable with the column options
    path = tmp_path / "my_bench.csv"
    rows = "".join(f"{c},{40 + 0.2 * c + 800 / (131 - c):.2f},{8 + 0.02 * c:.3f}\n" for c in range(8, 129, 8))
    path.write_bytes("\ufeffconcurrency,ttft_p99_ms,itl_p50_ms\n".encode() + rows.encode())
    assert main(["fit", str(path), "--latency-column", "ttft_p99_ms", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["load_column"] == "concurrency" and doc["latency_column"] == "ttft_p99_ms" and doc["family"] == "pole"
    assert main(["fit", str(path), "--load-column", "concurrency", "--latency-column", "itl_p50_ms"]) == 0
    assert "itl_p50_ms against concurrency" in capsys.readouterr().out
