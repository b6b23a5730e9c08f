"""The benchmark runner runs every script even when one ends with SystemExit (as bench_network does) or fails."""

from __future__ import annotations

import runpy
from pathlib import Path

import benchmarks.__main__ as runner


def test_system_exit_does_not_stop_the_runner(tmp_path, monkeypatch, capsys):
    (tmp_path / "bench_a.py").write_text("print('A ran')\nraise SystemExit(0)\n")
    (tmp_path / "bench_b.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "bench_c.py").write_text("print('C ran')\nraise SystemExit(3)\n")
    (tmp_path / "bench_d.py").write_text("print('D ran')\n")
    monkeypatch.setattr(runner, "HERE", tmp_path)
    assert runner.main([]) == 1
    out = capsys.readouterr().out
    assert "A ran" in out and "C ran" in out and "D ran" in out
    summary = out.split("== summary ==")[1]
    assert "bench_a.py" in summary and "ok" in summary and "exit 3" in summary and "error" in summary


def test_every_shipped_benchmark_is_found():
    names = {p.stem for p in Path(runner.HERE).glob("bench_*.py")}
    assert {"bench_network", "bench_fitting", "bench_routing"} <= names
    assert callable(runpy.run_path)
