"""Spreadsheets (.xlsx, .xlsm, .xlsb, .xls, .ods) through python-calamine: one source per sheet.

Every cell becomes text as a CSV export would show it: integers and integral
floats without ``.0``, other floats in their shortest exact form (no float noise),
dates and times in ISO 8601, booleans as ``TRUE``/``FALSE``, empty cells as ``""``.
The header row is detected as for delimited text.

calamine holds one sheet in memory at a time, so a workbook that is a zip (xlsx,
ods) is first decompressed once, counting only, under the input's expansion
limits: a zip bomb dressed as a workbook is refused before calamine sees it, and
so is a sheet whose XML is larger than :data:`MAX_SHEET_XML_BYTES`.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import zipfile
from collections.abc import Iterator
from typing import Any

import polars as pl

from triage.errors import TriageError
from triage.sources.base import Source, SourceInfo
from triage.sources.names import withhold_identifiers
from triage.sources.sniff import column_names, table_start
from triage.sources.stream import Member, ReadOptions

BATCH_ROWS = 65_536
#: The decompressed XML of one sheet; calamine needs about as much memory again.
MAX_SHEET_XML_BYTES = 384 * 1024 * 1024
_SHEET_PARTS = ("xl/worksheets/", "content.xml", "xl/sharedstrings.xml")
_HEADER_SAMPLE_ROWS = 200


def cell_text(value: Any) -> str:
    """A cell as the text a CSV export would show."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return "" if value is None else str(value)


class SheetSource(Source):
    """One sheet of a workbook, read from the workbook its opener holds."""

    def __init__(self, workbook: Any, sheet: str, info: SourceInfo, progress_share: int) -> None:
        super().__init__(info)
        self.workbook = workbook
        self.sheet = sheet
        self._share = progress_share
        self._header_names: list[str] = []

    def batches(self) -> Iterator[pl.DataFrame]:
        import python_calamine

        try:
            rows = self.workbook.get_sheet_by_name(self.sheet).iter_rows()
            texts = ([cell_text(v) for v in row] for row in rows)
            # Blank rows above the table, however many, are not rows of it.
            texts = itertools.dropwhile(lambda row: not any(c.strip() for c in row), texts)
            first = [row for _, row in zip(range(_HEADER_SAMPLE_ROWS + 1), texts)]
        except python_calamine.CalamineError:
            raise TriageError("corrupt sheet", path=self.info.name) from None
        if not first:
            self._progress(self._share)
            return
        # A title block above the table is skipped and counted.
        preamble, header = table_start(first)
        titles = sum(1 for row in first[:preamble] if any(cell.strip() for cell in row))
        if titles:
            self.accounting.reject("preamble", titles)
        first = first[preamble:]
        width = max(len(r) for r in first)
        self.info.header = header is not None
        names = column_names(header, width)
        if header is not None:
            self._header_names = names
        pending = first[1:] if header is not None else first
        try:
            while True:
                for row in texts:
                    pending.append(row)
                    if len(pending) >= BATCH_ROWS:
                        break
                if not pending:
                    break
                yield self._frame(pending, names)
                pending = []
        except python_calamine.CalamineError:
            raise TriageError("corrupt sheet", path=self.info.name) from None
        self._progress(self._share)

    def declared_columns(self) -> list[str]:
        return self._header_names

    def _frame(self, rows: list[list[str]], names: list[str]) -> pl.DataFrame:
        width = len(names)
        columns = {name: [r[j] if j < len(r) else None for r in rows]
                   for j, name in enumerate(names)}
        self.accounting.add_parsed(len(rows))
        long = [r for r in rows if len(r) > width and any(r[width:])]
        if long:
            # Cells right of the header's last column: kept, as for too-long CSV rows.
            columns["_extra"] = [",".join(r[width:]) if len(r) > width else None for r in rows]
            self.accounting.repair("too_many_fields", len(long))
        return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def _check_expansion(member: Member, options: ReadOptions) -> None:
    """Decompress every part of a zip workbook once, counting, under the input's limits."""
    budget = member.budget
    with member.open() as raw:
        try:
            archive = zipfile.ZipFile(raw)
        except Exception:  # noqa: BLE001 - zipfile raises many types for a damaged directory
            raise TriageError("corrupt workbook (bad zip container)",
                              path=member.display_name) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > options.max_members:
                raise TriageError("workbook has too many parts: refused as a possible "
                                  "archive bomb", path=member.display_name)
            for info in infos:
                limit = max(options.min_allowance, options.max_ratio * max(info.compress_size, 1))
                produced = 0
                try:
                    with archive.open(info) as part:
                        while block := part.read(1 << 20):
                            produced += len(block)
                            if budget is not None:
                                budget.spend(len(block))
                            if produced > limit:
                                raise TriageError(
                                    "workbook part expands beyond the ratio limit: refused "
                                    "as a possible decompression bomb", path=member.display_name)
                except TriageError:
                    raise
                except Exception:  # noqa: BLE001 - zlib, CRC, encryption, unknown methods
                    raise TriageError("corrupt or encrypted workbook",
                                      path=member.display_name) from None
                if info.filename.lower().startswith(_SHEET_PARTS) and \
                        produced > MAX_SHEET_XML_BYTES:
                    raise TriageError(
                        f"a sheet is larger than {MAX_SHEET_XML_BYTES >> 20} MiB of XML, too "
                        "large to read in bounded memory; export it to CSV",
                        path=member.display_name)


def open_spreadsheet(member: Member, info: SourceInfo, head: bytes) -> Iterator[Source]:
    import python_calamine

    info.format = "spreadsheet"
    options = member.budget.options if member.budget else ReadOptions()
    if head.startswith(b"PK"):
        _check_expansion(member, options)
    on_disk = member.opener is None and member.compression is None
    try:
        workbook = (python_calamine.CalamineWorkbook.from_path(str(member.path)) if on_disk
                    else python_calamine.CalamineWorkbook.from_filelike(member.open()))
        sheets = [m.name for m in workbook.sheets_metadata
                  if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except TriageError:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises plain errors for some bad files
        message = str(exc).lower()
        if isinstance(exc, python_calamine.PasswordError) or "password" in message \
                or "encrypt" in message:
            raise TriageError("spreadsheet is password-protected; save a decrypted copy first",
                              path=member.display_name) from None
        raise TriageError("corrupt or unsupported spreadsheet", path=member.display_name) from None
    return _sheets(workbook, sheets, member, info)


def _sheets(workbook: Any, sheets: list[str], member: Member,
            info: SourceInfo) -> Iterator[Source]:
    share = info.size // max(len(sheets), 1) if member.member is None else 0
    try:
        for position, sheet in enumerate(sheets, 1):
            sheet_info = copy.copy(info)
            sheet_info.sheet = withhold_identifiers(sheet, position)  # type: ignore[attr-defined]
            sheet_info.name = f"{info.name}#{sheet_info.sheet}"  # type: ignore[attr-defined]
            sheet_info.encoding = None
            yield SheetSource(workbook, sheet, sheet_info, share)
    finally:
        workbook.close()
