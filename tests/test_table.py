"""The one tabular reader: encodings, BOM, comments, separators, duplicate columns, errors naming file/row/column."""

from __future__ import annotations

import codecs

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.io.table import read_json, read_jsonl, read_table, read_text


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bom_comments_crlf_and_thousands(tmp_path):
    text = b"# note\r\nLoad , Latency\r\n\r\n8,\"1,234.5\"\r\n# mid\r\n16,50\r\n"
    p = write(tmp_path, "a.csv", codecs.BOM_UTF8 + text)
    t = read_table(p)
    assert t.header == ("Load", "Latency") and len(t) == 2
    np.testing.assert_array_equal(t.lines, [4, 6])  # file lines, counting comments and blanks
    assert t.column(None, ("load",)) == "Load"  # case-insensitive
    np.testing.assert_allclose(t.numbers("Latency"), [1234.5, 50.0])


@pytest.mark.parametrize("name, data, sep", [
    ("a.tsv", b"load\tlatency\n1\t2\n", "\t"),
    ("a.txt", b"load;latency\n1;2\n", ";"),
    ("a.csv", b"load,latency\n1,2\n", ","),
])
def test_separator_sniffed(tmp_path, name, data, sep):
    t = read_table(write(tmp_path, name, data))
    assert t.separator == sep and t.numbers("latency")[0] == 2.0


def test_utf16_with_bom_is_read(tmp_path):
    text = "load\tlatency\n1\t2\n2\t3\n"
    t = read_table(write(tmp_path, "u.tsv", codecs.BOM_UTF16_LE + text.encode("utf-16-le")))
    np.testing.assert_allclose(t.numbers("latency"), [2, 3])


def test_latin1_is_named_and_can_be_chosen(tmp_path):
    p = write(tmp_path, "l.csv", "load,name\n1,café\n".encode("latin-1"))
    with pytest.raises(InvalidInputError) as info:
        read_table(p)
    msg = str(info.value)
    assert str(p) in msg and "row 2" in msg and "not valid UTF-8" in msg and "encoding='latin-1'" in msg
    assert read_table(p, encoding="latin-1").strings("name") == ["café"]
    with pytest.raises(InvalidInputError, match="unknown codec"):
        read_table(p, encoding="klingon")


@pytest.mark.parametrize("data, fragments", [
    (b"load,latency,LOAD\n1,2,3\n", ["row 1", "duplicate column 'LOAD'", "columns 1 and 3"]),
    (b"load,,latency\n1,2,3\n", ["row 1", "column 2 has no name"]),
    (b"load,latency\n1,2\n3,4,5\n", ["row 3", "3 fields", "header has 2"]),
    (b"load,latency\n", ["header only"]),
    (b"\n# only a comment\n", ["empty file"]),
    (b"\x00\x01\x02binary", ["NUL bytes"]),
])
def test_structure_errors(tmp_path, data, fragments):
    p = write(tmp_path, "bad.csv", data)
    with pytest.raises(InvalidInputError) as info:
        read_table(p)
    for f in (str(p), *fragments):
        assert f in str(info.value), (f, str(info.value))


@pytest.mark.parametrize("cell, rules, fragment", [
    ("", {}, "empty cell"),
    ("abc", {}, "'abc' is not a number"),
    ("inf", {}, "not finite"),
    ("-1", {"nonnegative": True}, "must be >= 0"),
    ("0", {"positive": True}, "must be > 0"),
    ("1.5", {"integer": True}, "whole number"),
])
def test_cell_errors_name_file_row_and_column(tmp_path, cell, rules, fragment):
    p = write(tmp_path, "c.csv", f"# c\nx,y\n1,2\n2,{cell}\n".encode())
    t = read_table(p)
    with pytest.raises(InvalidInputError) as info:
        t.numbers("y", **rules)
    msg = str(info.value)
    assert str(p) in msg and "row 4" in msg and "column 'y'" in msg and fragment in msg


def test_missing_column_lists_header_and_option(tmp_path):
    t = read_table(write(tmp_path, "m.csv", b"a,b\n1,2\n"))
    with pytest.raises(InvalidInputError, match="no load column .*'a', 'b'.*--load-column"):
        t.column(None, ("load", "concurrency"), what="load")
    with pytest.raises(InvalidInputError, match="looked for 'qps'"):
        t.column("qps", what="load")


def test_files_that_are_not_there(tmp_path):
    with pytest.raises(InvalidInputError, match="no such file"):
        read_text(tmp_path / "absent.csv")
    with pytest.raises(InvalidInputError, match="is a folder"):
        read_text(tmp_path)


def test_json_and_jsonl(tmp_path):
    assert read_json(write(tmp_path, "a.json", codecs.BOM_UTF8 + b'{"a": 1}')) == {"a": 1}
    with pytest.raises(InvalidInputError, match="row 2, column 4: not valid JSON"):
        read_json(write(tmp_path, "b.json", b'{"a":\n 1,,}'))
    recs = read_jsonl(write(tmp_path, "c.jsonl", b'{"a": 1}\n\n{"a": 2}\n'))
    assert recs == [(1, {"a": 1}), (3, {"a": 2})]
    with pytest.raises(InvalidInputError, match="row 2"):
        read_jsonl(write(tmp_path, "d.jsonl", b'{"a": 1}\n{oops\n'))
    with pytest.raises(InvalidInputError, match="no records"):
        read_jsonl(write(tmp_path, "e.jsonl", b"\n\n"))
