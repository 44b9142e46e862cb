"""The native MySQL value-list reader against the exact tokenizer and the polars fast path.

Three readers of the same dump must give the same rows and the same accounting:

* ``native``: the kernel's ``triage_mysql_values`` (tokenizer and CSV writer in C), then
  polars' CSV reader, checked against the kernel's counts;
* ``polars``: the pure-Python/polars twin used without the kernel (``TRIAGE_NATIVE=0``):
  byte replacements, polars, then decoding expressions;
* ``exact``: the tokenizer that knows every quoting rule, tuple by tuple.

Regions (where problems are) may differ in number and lines, since the readers group
statements differently; their reasons are compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import read_all
from triage import native
from triage.sources import sql

KERNEL = native.mysql_values_available()
needs_kernel = pytest.mark.skipif(not KERNEL, reason="no native kernel (no compiler, or "
                                                     "TRIAGE_NATIVE=0)")

ROOT = Path(__file__).resolve().parent.parent
QUICK = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.function_scoped_fixture])


def _summary(accounting) -> dict:
    summary = accounting.to_dict()
    summary["regions"] = sorted({(r["reason"], r["kept"]) for r in summary["regions"]})
    return summary


def _read(path: Path, monkeypatch, mode: str):
    """Rows and accounting of ``path`` read by one of the three readers."""
    calls = Counter()
    with monkeypatch.context() as patch:
        if mode != "native":
            patch.setattr(native, "mysql_values_available", lambda: False)
        if mode == "exact":
            patch.setattr(sql.SqlDump, "_prepare_fast", lambda self, run, columns: None)
        finish = sql.SqlDump.finish_native

        def counted(self, run):
            calls["native_runs"] += 1
            return finish(self, run)

        patch.setattr(sql.SqlDump, "finish_native", counted)
        rows, accounting, _ = read_all(path)
    # A batch without surplus cells has no _extra column: the same as _extra None.
    columns = list(dict.fromkeys(k for row in rows for k in row))
    rows = [{k: row.get(k) for k in columns} for row in rows]
    return rows, _summary(accounting), calls


def _agree(path: Path, monkeypatch) -> tuple[list[dict], dict, Counter]:
    """Read ``path`` with the three readers (two without the kernel); the native result."""
    exact = _read(path, monkeypatch, "exact")
    fast = _read(path, monkeypatch, "polars")
    assert fast[:2] == exact[:2]
    assert exact[2]["native_runs"] == fast[2]["native_runs"] == 0
    if not KERNEL:
        return fast[0], fast[1], Counter(native_runs=1)
    fresh = _read(path, monkeypatch, "native")
    assert fresh[:2] == exact[:2]
    return fresh


# -- tricky values, by hand ----------------------------------------------------------------

TRICKY = [
    rb"'O\'Brien'", rb"'it''s'", rb"''", rb"'\\'", rb"'\\\\'", rb"'a\\'", rb"'\\'''",
    rb"'x\''''", rb"');'", rb"'),('", rb"'a),(b;'", b"';\n'", rb"'NULL'", rb"NULL", rb"null",
    rb"NuLl", rb"'null'", rb"'\0 \n \r \t \Z \b'", rb"'\% \_ \x \" \\N'", rb"'dq \"x\" \"\"'",
    rb"_binary 'b\0in'", rb"_utf8mb4'x'", rb"x'4142'", rb"X''", rb"b'01'", rb"N'n'",
    rb"e'e\n'", rb"0x41", rb"-1.5e3", rb"TRUE", rb"\N", rb"/*c*/1", rb"a;b",
    "'Zoë 😀 \\é'".encode(), "'\ufffd'".encode(), "\ufffd7".encode(), "\ufeff9".encode(),
    "'\ufeff'".encode(), b"'raw\nnew\r\nline'", b"'tab\there'", b"'\x00nul'",
]


def _dump(values: list[bytes], width: int, *, spaced: bool = False, crlf: bool = False,
          per_statement: int = 3, head: bytes = b"") -> bytes:
    names = [f"c{j}" for j in range(width)]
    cells = [values[k % len(values)] for k in range(max(len(values), width) * 2)]
    tuples = [cells[i:i + width] for i in range(0, len(cells) - width + 1, width)]
    comma, between = (b", ", b"),\n (") if spaced else (b",", b"),(")
    end = b";\r\n" if crlf else b";\n"
    out = head + b"CREATE TABLE t (" + b", ".join(n.encode() + b" text" for n in names) + b")" + end
    for i in range(0, len(tuples), per_statement):
        chunk = tuples[i:i + per_statement]
        out += (b"INSERT INTO t VALUES (" + between.join(comma.join(t) for t in chunk) + b")"
                + end)
    return out


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("width", [1, 3, 7])
def test_tricky_values_read_alike(tmp_path, monkeypatch, spaced, crlf, width):
    path = tmp_path / "d.sql"
    path.write_bytes(_dump(TRICKY, width, spaced=spaced, crlf=crlf))
    rows, summary, calls = _agree(path, monkeypatch)
    assert len(rows) * width >= len(TRICKY) and summary["rejected"] == 0
    assert calls["native_runs"] >= 1
    values = {v for row in rows for v in row.values()}
    assert {"O'Brien", "it's", "", "\\", "\\\\", "a\\", "\\'", "x''", ");", "),(", ";\n",
            "NULL", None, "\x00 \n \r \t \x1a \b", '\\% \\_ x " \\N', "b\x00in", "4142",
            "\\N", "\ufeff9", "raw\nnew\r\nline"} <= values
    assert summary["repaired"]["undecodable_bytes"] >= 2  # U+FFFD, as the exact path counts


def test_tricky_values_exact_values(tmp_path, monkeypatch):
    path = tmp_path / "d.sql"
    path.write_bytes(b"CREATE TABLE t (a text, b text, c text);\n"
                     b"INSERT INTO t VALUES (1,'O\\'Brien',NULL),(2,'NULL',null),"
                     b"(3,_binary 'x\\0y',x'41'),(4, 'sp' , ''),(5,'\\\\','a),(b);\\n');\n")
    rows, summary, calls = _agree(path, monkeypatch)
    assert rows == [{"a": "1", "b": "O'Brien", "c": None}, {"a": "2", "b": "NULL", "c": None},
                    {"a": "3", "b": "x\x00y", "c": "41"}, {"a": "4", "b": "sp", "c": ""},
                    {"a": "5", "b": "\\", "c": "a),(b);\n"}]
    assert calls["native_runs"] == 1 and summary["parsed"] == 5


@pytest.mark.parametrize("statement", [
    b"INSERT INTO t VALUES (1,'a'),(2),(3,'b','c');\n",            # ragged
    b"INSERT INTO t VALUES (1,'a'),(NOW(),'b'),(3,'c');\n",        # expression
    b"INSERT INTO t VALUES (1,\"dq\"),(2,'b');\n",                 # double-quoted
    b"INSERT INTO t VALUES (1,'Fran\xe7ois'),(2,'ok');\n",         # latin-1 byte
    b"INSERT INTO t VALUES (1,'\\\xe9'),(2,'\xc3\\\xa9');\n",      # bad bytes around escapes
    b"INSERT INTO t VALUES (1,x 'a'),(2,'b');\n",                  # a prefix that is not one
    b"INSERT INTO t VALUES (1,'a') ;\n",                           # space before ;
    b"INSERT INTO t VALUES (1,'a'); INSERT INTO t VALUES (2,'b');\n",
    b"INSERT INTO t VALUES (1,'a');  \nINSERT INTO t VALUES (2,'b');\n",
    b"INSERT INTO t VALUES (1,'a')\x0c;\n",
    b"INSERT INTO t VALUES ,(1,'a'),,(2,'b'),;\n",
    b"INSERT INTO t VALUES (1,'a')(2,'b');\n",
    b"INSERT INTO t VALUES (1,'a'),(2,'unterminated);\n",
    b"INSERT INTO t VALUES (1,'a'),(2,'b')",                       # file ends inside
    b"INSERT INTO t VALUES (1,'a'),(2,'b');",                      # ; at the very end
    b"INSERT INTO t VALUES ();\n",
    b"INSERT INTO t VALUES (1,'a'),(2,'b');\r\nINSERT INTO t VALUES (3,'c');\n",
])
def test_statements_the_kernel_declines_read_alike(tmp_path, monkeypatch, statement):
    path = tmp_path / "d.sql"
    path.write_bytes(b"CREATE TABLE t (a int, b text);\n" + statement
                     + b"INSERT INTO t VALUES (9,'after');\n")
    _agree(path, monkeypatch)


def test_standard_strings_read_alike(tmp_path, monkeypatch):
    path = tmp_path / "pg.sql"
    head = b"-- PostgreSQL database dump\nSET standard_conforming_strings = on;\n"
    path.write_bytes(_dump([rb"'C:\dir\'", rb"'it''s'", rb"NULL", rb"'\\'"], 2, spaced=True,
                           head=head) + b"INSERT INTO t VALUES (E'e\\n', 'x');\n")
    rows, _, calls = _agree(path, monkeypatch)
    assert {"C:\\dir\\", "it's", None, "\\\\", "e\n"} <= {v for r in rows for v in r.values()}
    assert calls["native_runs"] >= 1


# -- generated statements ------------------------------------------------------------------

_PIECES = st.sampled_from([
    b"a", b"Z", b" ", b",", b";", b"(", b")", b"\\'", b"''", b"\\\\", b"\\0", b"\\n", b"\\r",
    b"\\t", b"\\Z", b"\\b", b"\\%", b"\\_", b"\\x", b'\\"', b'"', b"),(", b");", b";\n",
    b"\n", b"\r\n", b"NULL", "é😀".encode(), "\ufffd".encode(), "\ufeff".encode(), b"\\\xc3\xa9",
])
_STRING = st.lists(_PIECES, max_size=6).map(b"".join)
_VALUE = st.one_of(
    _STRING.map(lambda s: b"'" + s + b"'"),
    st.tuples(st.sampled_from([b"_binary ", b"_utf8mb4", b"x", b"N", b"e", b"b"]), _STRING)
    .map(lambda p: p[0] + b"'" + p[1] + b"'"),
    st.sampled_from([b"NULL", b"null", b"Null", b"1", b"-2.5e3", b"0x1F", b"TRUE", b"\\N",
                     "é".encode(), "\ufeff1".encode()]),
    st.sampled_from([b'"dq"', b"NOW()", b"", b"'\xe9'", b"x 'a'", b"'open"]),  # declined
)
_SPACE = st.sampled_from([b"", b"", b"", b" ", b"\n", b"\t", b"\r\n"])


@st.composite
def statements(draw) -> tuple[int, bytes]:
    width = draw(st.integers(1, 4))
    tuples = []
    for _ in range(draw(st.integers(1, 5))):
        count = width if draw(st.integers(0, 9)) else draw(st.integers(1, width + 1))
        cells = [draw(_SPACE) + draw(_VALUE) + draw(_SPACE) for _ in range(count)]
        tuples.append(b"(" + b",".join(cells) + b")")
    glue = draw(st.sampled_from([b",", b",", b", ", b",\n"]))
    return width, b"INSERT INTO t VALUES " + glue.join(tuples) + b";\n"


@QUICK
@given(st.lists(statements(), min_size=1, max_size=3), st.booleans())
def test_generated_statements_read_alike(tmp_path, monkeypatch, generated, standard):
    width = generated[0][0]
    head = b"-- PostgreSQL database dump\n" if standard else b""
    columns = ", ".join(f"c{j} text" for j in range(width)).encode()
    body = b"".join(s for w, s in generated if w == width)
    path = tmp_path / "g.sql"
    path.write_bytes(head + b"CREATE TABLE t (" + columns + b");\n" + body)
    _agree(path, monkeypatch)


# -- long statements, blocks and runs ------------------------------------------------------


def _long_dump(rows: int) -> bytes:
    tuples = b",".join(b"(%d,'n\\'%d),(x;\\n','06%08d',%s)" % (i, i, i, b"NULL" if i % 3 else b"'z'")
                       for i in range(rows))
    return (b"CREATE TABLE t (id int, name text, tel text, z text);\n"
            b"INSERT INTO t VALUES " + tuples + b";\nINSERT INTO t VALUES (0,'end','',NULL);\n")


@pytest.mark.parametrize("run_bytes,block_bytes", [(64 * 1024, 16 * 1024), (4096, 1 << 20),
                                                   (1 << 20, 4096)])
def test_multi_megabyte_statement_is_cut_alike(tmp_path, monkeypatch, run_bytes, block_bytes):
    monkeypatch.setattr(sql, "RUN_BYTES", run_bytes)
    monkeypatch.setattr(sql, "BLOCK_BYTES", block_bytes)
    path = tmp_path / "big.sql"
    path.write_bytes(_long_dump(60_000))
    assert path.stat().st_size > 2_500_000
    rows, summary, calls = _agree(path, monkeypatch)
    assert len(rows) == 60_001 and summary["rejected"] == 0
    assert rows[12_345] == {"id": "12345", "name": "n'12345),(x;\n", "tel": "0600012345",
                            "z": "z"}
    assert calls["native_runs"] > 1 or not KERNEL


def test_huge_tuple_goes_to_the_exact_path(tmp_path, monkeypatch):
    monkeypatch.setattr(sql, "RUN_BYTES", 4096)
    monkeypatch.setattr(sql, "BLOCK_BYTES", 4096)
    path = tmp_path / "huge.sql"
    path.write_bytes(b"CREATE TABLE t (a int, b text);\nINSERT INTO t VALUES (1,'a'),(2,'"
                     + b"x\\'" * 10_000 + b"'),(3,'c');\n")
    rows, _, _ = _agree(path, monkeypatch)
    assert [r["a"] for r in rows] == ["1", "2", "3"] and rows[1]["b"] == "x'" * 10_000


@needs_kernel
@pytest.mark.parametrize("kind", ["tricky", "one row per insert"])
def test_failed_check_falls_back_to_the_exact_path(tmp_path, monkeypatch, kind):
    path = tmp_path / "d.sql"
    if kind == "tricky":
        path.write_bytes(_dump(TRICKY, 3))
    else:
        path.write_bytes(b"CREATE TABLE t (a int, b text);\n" + b"".join(
            b"INSERT INTO t VALUES (%d,'v\\'%d');%s" % (i, i, b"\r\n" if i % 3 else b"\n")
            for i in range(500)))
    expected = _read(path, monkeypatch, "exact")[:2]

    def wrong(*args, **kwargs):  # polars reading other values than the kernel wrote
        frame = real(*args, **kwargs)
        return frame.with_columns(sql.pl.col(frame.columns[1]).str.slice(1))

    real = sql.pl.read_csv
    monkeypatch.setattr(sql.pl, "read_csv", wrong)
    assert _read(path, monkeypatch, "native")[:2] == expected


@needs_kernel
def test_dump_read_in_a_process_without_the_kernel(tmp_path, monkeypatch):
    """TRIAGE_NATIVE=0 (no kernel at all) reads what the kernel reads."""
    path = tmp_path / "d.sql"
    path.write_bytes(_dump(TRICKY, 4, spaced=True) + _long_dump(3000))
    script = ("import json, sys\nfrom tests.conftest import read_all\n"
              "rows, accounting, _ = read_all(sys.argv[1])\n"
              "summary = accounting.to_dict()\n"
              "summary['regions'] = sorted({r['reason'] for r in summary['regions']})\n"
              "print(json.dumps([rows, summary]))")
    outputs = []
    for flag in ("0", "1"):
        env = {**os.environ, "TRIAGE_NATIVE": flag, "PYTHONPATH": str(ROOT)}
        outputs.append(subprocess.run([sys.executable, "-c", script, str(path)], env=env,
                                      cwd=ROOT, capture_output=True, check=True).stdout)
    assert outputs[0] == outputs[1]


# -- the kernel's contract -----------------------------------------------------------------


def _call(data: bytes, width: int, cap: int = 4096, start: int = 0, backslash: bool = True,
          prefix: bytes = b"", soft: int = 4096, ends: int = 8):
    out = np.zeros(cap, dtype=np.uint8)
    stats = np.full(6 * width, -1, dtype=np.int64)
    ended = np.zeros(ends, dtype=np.int64)
    status, stop, following, used, tuples, bad, statements = native.mysql_values(
        data, start, width, backslash, prefix, out, 0, soft, stats, ended)
    assert statements == (status == native.SQL_END) * len(ended[:statements])
    return status, stop, following, out[:used].tobytes(), tuples, bad, stats[:2 * width].tolist()


@needs_kernel
def test_kernel_end_writes_csv_and_counts():
    data = b"(1,'O\\'Brien',NULL),( 2 , _binary 'x\"y' , '\xef\xbf\xbd' );\nINSERT"
    status, stop, following, csv, tuples, bad, stats = _call(data, 3)
    assert status == native.SQL_END and data[stop:stop + 2] == b";\n" and following == stop
    assert csv == b'1,"O\'Brien",\n2,"x""y","\xef\xbf\xbd"\n'
    assert (tuples, bad) == (2, 1)
    assert stats == [2, 10, 3, 0, 0, 1]  # value bytes per column, then nulls per column


DATA = b"(1,'a;\\n'), (2,'bb'),(3,'c') ;\r\n"


@needs_kernel
@pytest.mark.parametrize("cut", range(len(DATA)))
def test_kernel_more_keeps_complete_tuples(cut):
    status, stop, following, csv, tuples, _, _ = _call(DATA[:cut], 2)
    assert status == native.SQL_MORE and stop <= cut
    closes = [i for i, c in enumerate(DATA[:cut]) if c == ord(")")]
    assert tuples == len(closes) and csv.count(b"\n") == len(closes) + csv.count(b";\n")
    expected = closes[-1] + 1 if closes else 0
    while closes and expected < cut and DATA[expected] in b" ,":
        expected += 1
    assert following == expected
    assert _call(DATA, 2)[:3] == (native.SQL_END, len(DATA) - 3, len(DATA) - 3)


@needs_kernel
def test_kernel_full_stops_between_tuples():
    data = b"(1,'aaaa'),(2,'bbbb'),(3,'cccc');\n"
    status, _, following, csv, tuples, _, _ = _call(data, 2, cap=20)
    assert status == native.SQL_FULL and tuples == 2 and data[following:following + 2] == b"(3"
    assert csv == b'1,"aaaa"\n2,"bbbb"\n'


@needs_kernel
@pytest.mark.parametrize("data", [b"(1,\"a\");\n", b"(1,'a',3);\n", b"(1);\n", b"(1,'a') x;\n",
                                  b"(1,'a'); X\n", b"(1,'\xff');\n", b"(1,f(2));\n",
                                  b"(1,e'a');\n"])
def test_kernel_declines_what_it_does_not_read(data):
    assert _call(data, 2, backslash=not data.startswith(b"(1,e"))[0] == native.SQL_BAIL


@needs_kernel
def test_kernel_reads_on_through_inserts_with_the_same_prefix():
    prefix = b"INSERT INTO `t` VALUES "
    data = (b"(1,'a');\n" + prefix + b"(2,NULL),(3,'c');\r\n" + prefix + b"(4,'d');\n"
            + prefix + b" (5,'e');\n" + prefix + b"(6,\"f\");\n")
    out = np.zeros(4096, dtype=np.uint8)
    stats = np.zeros(12, dtype=np.int64)
    ends = np.zeros(8, dtype=np.int64)
    status, stop, _, used, tuples, _, statements = native.mysql_values(
        data, 0, 2, True, prefix, out, 0, 4096, stats, ends)
    # The fourth INSERT has a space before its tuple: the scanner reads it.
    assert (status, tuples, statements) == (native.SQL_END, 4, 3)
    assert stop == data.index(b";\n" + prefix + b" (5") and ends[:3].tolist()[-1] == stop
    assert out[:used].tobytes() == b'1,"a"\n2,\n3,"c"\n4,"d"\n'
    assert stats[:4].tolist() == [4, 3, 0, 1]
    # Stopping inside a later statement ends with the ones before it.
    status, stop, _, used, tuples, _, statements = native.mysql_values(
        data, data.index(b"(5"), 2, True, prefix, out, 0, 4096, stats, ends)
    assert (status, tuples, statements) == (native.SQL_END, 1, 1)
    # No more than ends can hold, nor past the soft limit.
    assert native.mysql_values(data, 0, 2, True, prefix, out, 0, 4096, stats, ends[:1])[6] == 1
    assert native.mysql_values(data, 0, 2, True, prefix, out, 0, 5, stats, ends)[6] == 1


@pytest.mark.parametrize("crlf", [False, True])
def test_one_row_per_insert_read_alike(tmp_path, monkeypatch, crlf):
    """mysqldump --skip-extended-insert and pg_dump --inserts write a row per statement."""
    end = b";\r\n" if crlf else b";\n"
    rows = [b"(%d,'n\\'%d',%s)" % (i, i, b"NULL" if i % 4 else b"'x;\\n'") for i in range(3000)]
    rows[700] = b"(700,\"dq\",NULL)"                     # declined: read by the scanner
    rows[1400] = b"(1400, 'spaced' ,'ok')"
    statements = [b"INSERT INTO `t` VALUES " + r + end for r in rows]
    statements[2000] = b"INSERT INTO `t` VALUES  " + rows[2000] + end  # another prefix
    statements[2100] += b"-- a comment\n"
    statements[2200] += b"INSERT INTO `u` VALUES (1);\n"
    path = tmp_path / "one.sql"
    path.write_bytes(b"CREATE TABLE t (a int, b text, c text);\n" + b"".join(statements))
    got, summary, calls = _agree(path, monkeypatch)
    assert len(got) == 3001 and summary["rejected"] == 0
    assert calls["native_runs"] >= 2 or not KERNEL


def test_one_row_per_insert_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(sql, "RUN_BYTES", 8192)
    monkeypatch.setattr(sql, "BLOCK_BYTES", 5000)
    path = tmp_path / "one.sql"
    path.write_bytes(b"CREATE TABLE t (a int, b text);\n" + b"".join(
        b"INSERT INTO t VALUES (%d,'%s');\n" % (i, b"x" * (i % 97)) for i in range(5000)))
    got, _, _ = _agree(path, monkeypatch)
    assert [int(r["a"]) for r in got] == list(range(5000))


@QUICK
@given(st.lists(st.sampled_from([b"'", b"''", b",", b"\n", b"a", b" ", b"\t", b"(", b")", b'"',
                                 b"\\", b"\x1a", b"\x0c"]), max_size=40).map(b"".join),
       st.booleans())
def test_fast_path_check_matches_its_definition(text, backslash):
    """The numpy check of the polars path: a stray quote, or a suspect byte outside quotes."""
    stray = sql._STRAY_QUOTE.search(text, 1) is not None
    suspects = b' \t\r\x0b\x0c()"' + (b"\\\x1a" if backslash else b"")
    inside = outside = False
    for byte in text:
        if byte == ord("'"):
            inside = not inside
        elif not inside and byte in suspects:
            outside = True
    assert sql._not_canonical(text, backslash) == (stray or outside)
