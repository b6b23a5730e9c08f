"""The command line under fuzz: any arguments give exit code 0 or 2, and a 2 comes with exactly one line on
stderr (``gametheory COMMAND: error: ...``), never a traceback.

Arguments are drawn from each subcommand's own parser (so new options are fuzzed): positional files from a
pool of good and bad files (latin-1, UTF-16, binary, empty, header only, NaN and infinite values, ragged rows,
a folder, a missing path), option values from a pool of bad strings (negative, zero, fractional, huge,
``nan``, ``inf``, empty, text) and the option's own choices. ``reproduce`` is fuzzed on its options that fail
before any section runs (a bad ``--only`` or ``--out``).
"""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz.harness import STATS
from gametheory.cli import build_parser, main

VALUES = ["-1", "0", "1", "2", "1.5", "-5", "1e309", "nan", "inf", "-inf", "", "abc", "999999999999", "0x10",
          "1,5", "\u00e9", "None"]
GOOD = "load,latency\n1,10\n2,10.5\n4,11\n8,12\n16,14\n32,30\n48,60\n64,120\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_fuzz")
    (d / "good.csv").write_text(GOOD)
    (d / "latin1.csv").write_bytes((GOOD + "# caf\u00e9\n").encode("latin-1"))
    (d / "utf16.csv").write_text(GOOD, encoding="utf-16")
    (d / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("load,latency\n")
    (d / "nan.csv").write_text("load,latency\n1,nan\n2,3\n3,inf\n4,5\n")
    (d / "ragged.csv").write_text("load,latency\n1,2,3\n4\n5,6\n")
    (d / "negative.csv").write_text("load,latency\n-1,2\n2,-3\n3,4\n4,5\n")
    (d / "huge.csv").write_text("load,latency\n1,1e300\n2,1e301\n3,1e302\n4,1e303\n5,1e304\n6,1e305\n")
    (d / "folder").mkdir()
    (d / "afile").write_text("x")
    return [str(d / n) for n in ("good.csv", "latin1.csv", "utf16.csv", "binary.csv", "empty.csv", "header.csv",
                                 "nan.csv", "ragged.csv", "negative.csv", "huge.csv", "folder", "missing.csv")], d


def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


def _argv(data, command, paths, folder):
    sp = _subparsers()[command]
    argv = [command]
    for action in sp._actions:
        if action.dest in ("help",):
            continue
        if not action.option_strings:  # positional
            if action.nargs == "?" and data.draw(st.booleans(), label="skip"):
                continue
            argv.append(data.draw(st.sampled_from(paths + VALUES), label=action.dest))
            continue
        if not data.draw(st.booleans(), label=f"use {action.dest}"):
            continue
        flag = action.option_strings[-1]
        if action.nargs == 0:
            argv.append(flag)
            continue
        pool = list(VALUES) + (list(action.choices) if action.choices else [])
        if action.dest in ("log", "plot"):
            pool += paths + [str(folder / "out.png"), str(folder / "afile" / "x.png")]
        argv += [flag, data.draw(st.sampled_from(pool), label=flag)]
    return argv


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["fit", "assess", "profiles"])
@given(data=st.data())
def test_cli_never_shows_a_traceback(files, command, data):
    paths, folder = files
    argv = _argv(data, command, paths, folder)
    code, _, err = _run(argv)
    lines = err.strip().splitlines()
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("gametheory"), (argv, err)
    STATS.record(f"cli:{command}", "named" if code == 2 else "valid")


@given(only=st.lists(st.sampled_from(VALUES + ["latency", "nope"]), min_size=1, max_size=3),
       out=st.sampled_from(["afile", "afile/sub"]))
def test_reproduce_rejects_bad_options_before_running(files, only, out):
    _, folder = files
    argv = ["reproduce", "--out", str(folder / out), "--only", *only]
    code, _, err = _run(argv)
    assert code == 2 and len(err.strip().splitlines()) == 1, (argv, err)
    STATS.record("cli:reproduce", "named")
