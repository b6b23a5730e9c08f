"""Readable results and Tables: short text, HTML and DataFrame views that carry the true values."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from gametheory.display import Readable, Table, format_value, row_dict
from gametheory.errors import InvalidInputError


@dataclass(frozen=True, repr=False)
class Example(Readable):
    name: str
    value: float
    interval: tuple
    series: np.ndarray = field(default_factory=lambda: np.arange(1000.0))
    hidden: int = field(default=3, repr=False)

    def _display_title(self):
        return f"Example {self.name}: {self.value:.3g}"


def test_format_value_kinds():
    assert format_value(1.23456789) == "1.235"
    assert format_value(math.inf) == "inf" and format_value(-math.inf) == "-inf" and format_value(math.nan) == "nan"
    assert format_value(None) == "-" and format_value(True) == "True" and format_value(np.int64(7)) == "7"
    assert format_value((1.0, 2.5)) == "(1, 2.5)"
    assert format_value(np.arange(100.0)) == "array(shape=(100,), 0..99)"
    assert format_value({"a": 1.0, "b": 2.0}) == "{a: 1, b: 2}"


def test_readable_repr_is_short_and_skips_hidden_fields():
    r = Example("x", 3.14159, (1.0, 5.0))
    text = repr(r)
    assert text.splitlines()[0] == "Example x: 3.14"
    assert "interval: (1, 5)" in text and "array(shape=(1000,), 0..999)" in text
    assert "hidden" not in text and len(text.splitlines()) == 5
    assert "<table>" in r._repr_html_() and "Example x" in r._repr_html_()


def test_readable_to_frame_holds_raw_values():
    df = Example("x", 3.14159, (1.0, 5.0)).to_frame()
    assert isinstance(df, pd.DataFrame) and df.shape[0] == 1
    assert df.loc[0, "value"] == 3.14159 and df.loc[0, "interval"] == (1.0, 5.0)


@dataclass(frozen=True)
class Point:
    load: float
    poa: float


def test_table_is_the_list_it_was():
    rows = [{"load": 1.0, "poa": 1.1}, {"load": 2.0, "poa": 1.2}]
    t = Table(rows, title="PoA across load")
    assert t == rows and len(t) == 2 and t[1]["poa"] == 1.2 and isinstance(t, list)


def test_table_views():
    t = Table([Point(float(i), 1 + i / 100) for i in range(20)], title="sweep")
    df = t.to_frame()
    assert list(df.columns) == ["load", "poa"] and df.shape == (20, 2)
    np.testing.assert_allclose(df["poa"], [1 + i / 100 for i in range(20)])
    text = repr(t)
    assert text.startswith("sweep: 20 rows") and "..." in text and len(text.splitlines()) == 2 + 11
    assert "<th>poa</th>" in t._repr_html_()


def test_table_mixed_columns_and_bad_rows():
    t = Table([{"a": 1}, {"a": 2, "b": 3}])
    df = t.to_frame()
    assert list(df.columns) == ["a", "b"] and math.isnan(df.loc[0, "b"])
    with pytest.raises(InvalidInputError, match="a Table row must be"):
        row_dict(42)


def test_simulator_sweep_returns_a_table():
    from gametheory.serving.sweeps import SweepPoint, sweep

    rows = sweep("70b_1p5d", [16], n_requests=200, progress=False)
    assert isinstance(rows, Table) and isinstance(rows[0], SweepPoint) and len(rows) == 1
    df = rows.to_frame()
    assert df.loc[0, "concurrency"] == 16 and "poa_hat" in df.columns
