"""Archives: tar, tar.gz, 7z, zip, nested; every member a source named archive!member."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile

import polars as pl
import pytest

from tests.conftest import read_all
from triage.errors import TriageError
from triage.sources import open_sources, reading_options

py7zr = pytest.importorskip("py7zr")

CSV = b"email;tel\na@x.fr;0612345678\nb@y.fr;0698765432\n"
ROWS = [{"email": "a@x.fr", "tel": "0612345678"}, {"email": "b@y.fr", "tel": "0698765432"}]
SQL = b"CREATE TABLE t (email text);\nINSERT INTO t VALUES ('c@z.fr'),('d@z.fr');\n"


def tar_bytes(members: dict[str, bytes], mode: str = "w", links: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for k in range(links):
            link = tarfile.TarInfo(f"link{k}")
            link.type = tarfile.SYMTYPE if k % 2 == 0 else tarfile.LNKTYPE
            link.linkname = "/etc/passwd"
            archive.addfile(link)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def seven_zip_bytes(members: dict[str, bytes], password: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w", password=password) as archive:
        if password:
            archive.set_encrypted_header(True)
        for name, data in members.items():
            archive.writestr(data, name)
    return buffer.getvalue()


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"email": ["p@q.fr"], "n": [1]}).write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name,mode", [("a.tar", "w"), ("a.tar.gz", "w:gz"), ("a.tgz", "w:gz"),
                                       ("a.tar.xz", "w:xz"), ("a.tar.bz2", "w:bz2")])
def test_tar_members_stream_in_order(tmp_path, name, mode):
    path = tmp_path / name
    path.write_bytes(tar_bytes({"x/one.csv": CSV, "dump.sql": SQL, "t.parquet": parquet_bytes()},
                               mode))
    rows, accounting, sources = read_all(path)
    assert [s.info.name for s in sources] == [
        f"{path}!x/one.csv", f"{path}!dump.sql#t", f"{path}!t.parquet"]
    assert rows[:2] == ROWS
    assert rows[2:] == [{"email": "c@z.fr"}, {"email": "d@z.fr"}, {"email": "p@q.fr", "n": "1"}]
    assert accounting.parsed == 5
    assert sources[0].info.container == "tar"


def test_many_members(tmp_path):
    path = tmp_path / "many.tar.gz"
    path.write_bytes(tar_bytes({f"m{k:04d}.csv": CSV for k in range(300)}, "w:gz"))
    _, accounting, sources = read_all(path)
    assert len(sources) == 300 and accounting.parsed == 600


def test_seven_zip(tmp_path):
    path = tmp_path / "a.7z"
    path.write_bytes(seven_zip_bytes({"a.csv": CSV, "dir/b.jsonl": b'{"ip": "10.0.0.1"}\n',
                                      "d.sql": SQL}))
    rows, accounting, sources = read_all(path)
    assert [s.info.name for s in sources] == [f"{path}!a.csv", f"{path}!dir/b.jsonl",
                                              f"{path}!d.sql#t"]
    assert rows[:2] == ROWS and {"ip": "10.0.0.1"} in rows
    assert accounting.parsed == 5


def test_nested_archives_to_depth_three(tmp_path):
    inner = zip_bytes({"p.csv": CSV, "deep.csv.gz": gzip.compress(CSV)})
    middle = tar_bytes({"inner.zip": inner}, "w:gz")
    path = tmp_path / "outer.7z"
    path.write_bytes(seven_zip_bytes({"middle.tgz": middle}))
    rows, _, sources = read_all(path)
    assert [s.info.name for s in sources] == [
        f"{path}!middle.tgz!inner.zip!p.csv", f"{path}!middle.tgz!inner.zip!deep.csv.gz"]
    assert sources[1].info.compression == "gzip"
    assert rows == ROWS + ROWS


def test_zip_member_names_are_neutralised(tmp_path):
    path = tmp_path / "evil.zip"
    path.write_bytes(zip_bytes({"../../etc/x.csv": CSV, "/abs/y.csv": CSV,
                                "new\nline\x1b[2J.csv": CSV}))
    names = [s.info.member for s in open_sources(path)]
    assert names == ["etc/x.csv", "abs/y.csv", "new?line?[2J.csv"]


def test_links_and_devices_skipped_and_counted(tmp_path):
    path = tmp_path / "links.tar"
    path.write_bytes(tar_bytes({"a.csv": CSV}, links=3))
    rows, _, (source,) = read_all(path)
    assert rows == ROWS
    assert source.info.to_dict()["archive_skipped"] == {"link": 3}


def test_only_links_means_nothing_to_read(tmp_path):
    path = tmp_path / "links.tar"
    path.write_bytes(tar_bytes({}, links=2))
    assert list(open_sources(path)) == []


def test_password_hook_opens_encrypted_7z(tmp_path):
    path = tmp_path / "locked.7z"
    path.write_bytes(seven_zip_bytes({"a.csv": CSV}, password="s3cret"))
    with pytest.raises(TriageError, match="encrypted"):
        list(open_sources(path))
    with reading_options(password=b"s3cret"):
        rows, _, _ = read_all(path)
    assert rows == ROWS


def test_lazy_sources_are_reiterable(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(zip_bytes({"a.csv": CSV, "b.csv": CSV}))
    sources = open_sources(path)
    assert len(sources) == 2 and sources[1].info.member == "b.csv"
    assert [s.info.member for s in sources] == ["a.csv", "b.csv"]


def test_emails_and_long_numbers_in_member_table_and_sheet_names_are_withheld(tmp_path):
    # Per-person files: each name holds an identifier, which every output would show.
    import xlsxwriter

    book = tmp_path / "book.xlsx"
    workbook = xlsxwriter.Workbook(str(book))
    sheet = workbook.add_worksheet("zebulon 0611223344")
    for row, values in enumerate([["email", "tel"], ["a@x.fr", "0612345678"]]):
        sheet.write_row(row, 0, values)
    workbook.close()
    members = {
        "dossiers/Quaxworth_canary.zq81@example.org.csv": CSV,
        "dupont_0612345678.csv": CSV,
        "dupont_+33 6 98 76 54 32.csv.gz": gzip.compress(CSV),
        "export_2021-02-23.csv": CSV,
        "dump.sql": SQL.replace(b" t ", b" patient_185037512345641 ").replace(
            b"INTO t", b"INTO patient_185037512345641"),
        "book.xlsx": book.read_bytes(),
    }
    path = tmp_path / "m.zip"
    path.write_bytes(zip_bytes(members))
    rows, _, sources = read_all(path)
    names = [source.info.name for source in sources]
    # Numbered by position among their siblings: two per-person files stay two tables.
    assert names == [f"{path}!dossiers/<withheld #1>.csv", f"{path}!dupont_<withheld #2>.csv",
                     f"{path}!dupont_<withheld #3>.csv.gz", f"{path}!export_2021-02-23.csv",
                     f"{path}!dump.sql#patient_<withheld #1>",
                     f"{path}!book.xlsx#zebulon <withheld #1>"]
    assert len(rows) == 4 * 2 + 2 + 1  # every member still read, by its content
    shown = json.dumps([source.info.to_dict() for source in sources])
    for secret in ("zq81", "0612345678", "98 76", "185037512345641", "0611223344"):
        assert secret not in shown


def test_per_person_files_of_other_columns_keep_their_people(tmp_path):
    # Withheld names that agreed were once one source, whose identity plan came from the
    # first file: the second file's phone holders were never counted.
    from triage.identity.keys import HmacKey
    from triage.scan import scan

    emails = "email,full_name\n" + "".join(f"user{i}@example.com,Jean Dupont{i}\n"
                                           for i in range(200))
    phones = "phone,city\n" + "".join(f"+336123{i:05d},Paris\n" for i in range(300))
    people = []
    for names in (("p_0612345678.csv", "p_0698765432.csv"), ("p_a.csv", "p_b.csv")):
        path = tmp_path / f"{names[0]}.zip"
        path.write_bytes(zip_bytes(dict(zip(names, (emails.encode(), phones.encode()),
                                            strict=True))))
        result = scan([path], key=HmacKey(bytes(range(32))))
        people.append(result.leak_people().distinct)
    assert people == [500, 500]
