"""SQL dumps: MySQL INSERTs and PostgreSQL COPY, one source per table, exact values."""

from __future__ import annotations

import gzip

import pytest

from tests.conftest import read_all
from triage.errors import PartialInputError
from triage.sources import open_sources, sql

MYSQL = rb"""-- MySQL dump 10.13  Don't mind the quote in this comment
/*!40101 SET NAMES utf8mb4 */;
/* a block comment; with a semicolon */
DROP TABLE IF EXISTS `patients`;
CREATE TABLE `patients` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(50) DEFAULT 'a,b',
  `email` varchar(80),
  `note` text,
  PRIMARY KEY (`id`),
  KEY `by_email` (`email`)
) ENGINE=InnoDB;
LOCK TABLES `patients` WRITE;
INSERT INTO `patients` VALUES (1,'O\'Brien','a@x.fr','it''s );'),(2,'ZOE','b@y.fr',NULL),(3,'back\\slash','c@z.fr','line\nbreak\ttab\0nul\Zsub\"dq');
INSERT INTO `patients` VALUES (4,'a),(b','d@x.fr','');
INSERT INTO patients (id, name, email, note) VALUES (5, 'spaced', 'e@x.fr', NULL),
 (6,'x','f@x.fr','NULL');
UNLOCK TABLES;
CREATE TABLE visits (id int, patient int, at date);
INSERT INTO visits VALUES (1,1,'2020-01-01'),(2,-1.5e3,_binary 'bin');
CREATE TABLE never_filled (a int);
""".replace(b"ZOE", "Zoë".encode())

PATIENTS = [
    {"id": "1", "name": "O'Brien", "email": "a@x.fr", "note": "it's );"},
    {"id": "2", "name": "Zoë", "email": "b@y.fr", "note": None},
    {"id": "3", "name": "back\\slash", "email": "c@z.fr",
     "note": 'line\nbreak\ttab\x00nul\x1asub"dq'},
    {"id": "4", "name": "a),(b", "email": "d@x.fr", "note": ""},
    {"id": "5", "name": "spaced", "email": "e@x.fr", "note": None},
    {"id": "6", "name": "x", "email": "f@x.fr", "note": "NULL"},
]

POSTGRES = b"""--
-- PostgreSQL database dump
--
SET standard_conforming_strings = on;
CREATE TABLE public.people (
    id integer NOT NULL,
    name text,
    phone text
);
COPY public.people (id, name, phone) FROM stdin;
1\tJean\t0612345678
2\t\\N\tback\\\\slash\\ttab
3\tnew\\nline\t
\\.
INSERT INTO public.people VALUES (4, 'C:\\dir', 'it''s');
"""


def _tables(path):
    return {s.info.name.rsplit("#", 1)[1]: s for s in open_sources(path)}


def test_mysql_dump_one_source_per_table_exact_values(tmp_path):
    path = tmp_path / "dump.sql"
    path.write_bytes(MYSQL)
    rows, accounting, sources = read_all(path)
    names = [s.info.name for s in sources]
    assert names == [f"{path}#patients", f"{path}#visits", f"{path}#never_filled"]
    assert rows[:6] == PATIENTS
    assert rows[6:] == [{"id": "1", "patient": "1", "at": "2020-01-01"},
                        {"id": "2", "patient": "-1.5e3", "at": "bin"}]
    assert [s.accounting.parsed for s in sources] == [6, 2, 0]
    assert all(s.info.format == "sql" for s in sources)
    assert accounting.rejected == 0


def test_postgres_copy_and_standard_strings(tmp_path):
    path = tmp_path / "pg_dump.sql"
    path.write_bytes(POSTGRES)
    rows, _, (source,) = read_all(path)
    assert source.info.name.endswith("#public.people")
    assert rows == [
        {"id": "1", "name": "Jean", "phone": "0612345678"},
        {"id": "2", "name": None, "phone": "back\\slash\ttab"},
        {"id": "3", "name": "new\nline", "phone": ""},
        {"id": "4", "name": "C:\\dir", "phone": "it's"},
    ]


def test_sql_claimed_by_content_without_suffix(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(MYSQL)
    assert [s.info.format for s in open_sources(path)] == ["sql", "sql", "sql"]


def test_huge_statement_is_cut_between_tuples(tmp_path, monkeypatch):
    monkeypatch.setattr(sql, "RUN_BYTES", 64 * 1024)
    monkeypatch.setattr(sql, "BLOCK_BYTES", 16 * 1024)
    tuples = ",".join(f"({i},'n\\'{i}),(x;','06{i:08d}')" for i in range(20_000))
    path = tmp_path / "big.sql"
    path.write_text(f"CREATE TABLE t (id int, name text, tel text);\n"
                    f"INSERT INTO t VALUES {tuples};\n")
    rows, accounting, _ = read_all(path)
    assert len(rows) == 20_000
    assert rows[12_345] == {"id": "12345", "name": "n'12345),(x;", "tel": "0600012345"}
    assert accounting.rejected == 0


def test_fast_and_exact_paths_agree(tmp_path, monkeypatch):
    body = MYSQL.replace(b"(5, 'spaced', 'e@x.fr', NULL),\n (6,", b"(5,'spaced','e@x.fr',NULL),(6,")
    path = tmp_path / "d.sql"
    path.write_bytes(body)
    fast, _, _ = read_all(path)
    monkeypatch.setattr(sql.SqlDump, "_prepare_fast", lambda self, run, columns: None)
    exact, _, _ = read_all(path)
    assert fast == exact


def test_ragged_tuples_are_kept_and_counted(tmp_path):
    path = tmp_path / "r.sql"
    path.write_text("CREATE TABLE t (a int, b text);\n"
                    "INSERT INTO t VALUES (1,'x'),(2),(3,'y','z');\n"
                    "INSERT INTO t VALUES (4,'ok'),(NOW(;\n")
    rows, accounting, _ = read_all(path)
    assert {"a": "2", "b": None, "_extra": None} in rows
    assert accounting.repaired["too_few_fields"] == 1
    assert accounting.repaired["too_many_fields"] == 1
    assert accounting.reasons["invalid_tuple"] == 1


def test_interleaved_tables_resume_as_further_sources(tmp_path):
    path = tmp_path / "i.sql"
    path.write_text("INSERT INTO a VALUES (1);\nINSERT INTO b VALUES (2);\nINSERT INTO a VALUES (3);\n")
    names = [s.info.name.rsplit("#", 1)[1] for s in open_sources(path)]
    assert names == ["a", "b", "a"]


def test_unterminated_statement_keeps_tuples_and_says_where(tmp_path):
    path = tmp_path / "u.sql"
    path.write_text("INSERT INTO t VALUES (1,'a'),(2,'b')")
    rows, accounting, _ = read_all(path)
    assert len(rows) == 2
    assert accounting.regions[0]["reason"] == "unterminated_statement"


def test_truncated_gzip_dump_fails_after_counting_rows(tmp_path):
    body = b"".join(b"INSERT INTO t VALUES (%d,'user%d@x.fr');\n" % (i, i) for i in range(40_000))
    path = tmp_path / "cut.sql.gz"
    path.write_bytes(gzip.compress(b"CREATE TABLE t (id int, email text);\n" + body)[:-2000])
    with pytest.raises(PartialInputError, match=r"truncated.*after [1-9][\d,]* rows") as error:
        read_all(path)
    assert "@x.fr" not in str(error.value)


def test_latin1_bytes_counted_not_fatal(tmp_path):
    path = tmp_path / "l.sql"
    path.write_bytes(b"INSERT INTO t VALUES (1,'Fran\xe7ois'),(2,'ok');\n")
    rows, accounting, _ = read_all(path)
    assert len(rows) == 2
    assert accounting.repaired["undecodable_bytes"] == 1


def test_windows_line_ends_and_statements_sharing_a_line(tmp_path):
    path = tmp_path / "w.sql"
    path.write_bytes(b"INSERT INTO a VALUES (1,'x;y'); INSERT INTO b VALUES (2,'z');\r\n"
                     b"INSERT INTO a VALUES (3,'w');\r\n")
    sources = list(open_sources(path))
    assert [s.info.name.rsplit("#", 1)[1] for s in sources] == ["a", "b", "a"]
    rows, _, _ = read_all(path)
    assert [r["col_2"] for r in rows] == ["x;y", "z", "w"]
