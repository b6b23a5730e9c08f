"""The command line never shows a traceback for a user error: exit code 2 and one line on stderr.

Covers bad encodings (latin-1, UTF-16, binary), ``--out`` on a file or under one, negative, fractional and
huge counts and seeds, missing files, folders given as files; ``--json`` is strict JSON (no NaN/Infinity).
"""

import json
import os

import pytest

from gametheory.cli import main

GOOD = "load,latency\n1,2\n2,3\n3,5\n4,9\n5,20\n"


def run(argv, capsys):
    """(exit code, stdout, stderr) of one in-process run; argparse errors exit through SystemExit."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code, err, *needles):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("gametheory")
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "ok.csv").write_text(GOOD)
    (tmp_path / "latin1.csv").write_bytes((GOOD + "# café\n").encode("latin-1"))
    (tmp_path / "utf16.csv").write_text(GOOD, encoding="utf-16")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "nul.csv").write_bytes(b"load,latency\n1,\x002\n")
    (tmp_path / "afile").write_text("x")
    return tmp_path


@pytest.mark.parametrize("name", ["latin1.csv", "binary.csv", "nul.csv"])
def test_bad_encodings(files, capsys, name):
    code, _, err = run(["fit", str(files / name)], capsys)
    assert_user_error(code, err, name)


def test_utf16_with_a_byte_order_mark_is_read(files, capsys):
    # what spreadsheet programs write as "Unicode text": unambiguous with its BOM, so it is read, not refused
    code, out, _ = run(["fit", str(files / "ok.csv"), "--json"], capsys)
    assert code == 0
    expected = json.loads(out)
    code, out, _ = run(["fit", str(files / "utf16.csv"), "--json"], capsys)
    assert code == 0 and json.loads(out)["params"] == expected["params"]


@pytest.mark.parametrize("args, needle", [
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", "abc"], "--seed"),
    (["--bootstrap", "-5"], "--bootstrap"),
    (["--bootstrap", "1000000000"], "--bootstrap"),
    (["--degree", "0"], "--degree"),
    (["--degree", "100000"], "--degree"),
    (["--family", "nope"], "--family"),
])
def test_bad_arguments(files, capsys, args, needle):
    code, _, err = run(["fit", str(files / "ok.csv"), *args], capsys)
    assert_user_error(code, err, needle)


def test_missing_file_and_folder(files, capsys):
    code, _, err = run(["fit", str(files / "missing.csv")], capsys)
    assert_user_error(code, err, "missing.csv")
    code, _, err = run(["fit", str(files)], capsys)
    assert_user_error(code, err)


def test_out_on_a_file_or_under_one(files, capsys):
    code, _, err = run(["reproduce", "--only", "latency", "--out", str(files / "afile")], capsys)
    assert_user_error(code, err, "--out", "not a folder")
    code, _, err = run(["reproduce", "--only", "latency", "--out", str(files / "afile" / "sub")], capsys)
    assert_user_error(code, err, "--out", "is a file")


def test_out_unwritable(files, capsys):
    if os.geteuid() != 0:  # a folder without write permission: refused by the argument check, nothing run
        locked = files / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run(["reproduce", "--only", "latency", "--out", str(locked / "out")], capsys)
        assert_user_error(code, err, "not writable")
    else:  # root passes permission checks; /proc refuses new folders even to root: the OSError is one line
        code, _, err = run(["reproduce", "--only", "latency", "--out", "/proc/gametheory-test/out"], capsys)
        assert_user_error(code, err, "/proc/gametheory-test")


def test_unknown_command_and_section(capsys):
    code, _, err = run(["nosuch"], capsys)
    assert_user_error(code, err)
    code, _, err = run(["reproduce", "--only", "nosuch"], capsys)
    assert_user_error(code, err, "nosuch")


def test_json_is_strict(files, capsys):
    # an affine fit through two points has zero degrees of freedom: infinite standard errors, written as null
    (files / "two.csv").write_text("load,latency\n1,1\n2,3\n")

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    for argv in (["ok.csv"], ["two.csv", "--family", "affine"]):
        code, out, _ = run(["fit", str(files / argv[0]), *argv[1:], "--json"], capsys)
        assert code == 0
        data = json.loads(out, parse_constant=refuse)
    assert data["stderr"]["a"] is None
