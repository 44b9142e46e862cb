"""Sniffing a text table from its first bytes: encoding, delimiter, quoting, header."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass

DELIMITERS = (";", ",", "\t", "|")
SAMPLE_BYTES = 256 * 1024
_DIGIT_HEAVY = re.compile(r"^[\s\d.,:/+()\-]*\d[\s\d.,:/+()\-]*$")


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    # cp1252 leaves five bytes undefined; latin-1 maps them to C1 controls, losslessly.
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("triage-latin1", _latin1_fallback)
# The csv module refuses fields over 128 KiB by default; triage bounds records itself
# (delimited.MAX_RECORD_BYTES), so a 10 MB comment must not fail here.
csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class TextDialect:
    encoding: str
    delimiter: str
    quotechar: str | None
    header: list[str] | None  # None: no header line, columns are col_1..col_n
    width: int
    #: What ends a record: "\n" (LF or CR LF), or "\r" for classic Mac files, whose
    #: reader turns each CR into LF (one byte for one: offsets stay those of the file).
    line_break: str = "\n"
    #: Lines above the table (blank lines, an export's title and date), skipped
    #: before the header, and how many records they hold that are not blank lines
    #: (the reader counts those as rejected, reason "preamble").
    preamble_lines: int = 0
    preamble_rows: int = 0
    #: Lines of the header record (more than one when a quoted name holds a line break).
    header_lines: int = 0


def sniff_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 (Windows Western).

    A sample that decodes as UTF-8, or whose undecodable bytes are rare beside
    valid multi-byte sequences, is UTF-8 (the bad bytes are then counted per
    row). Otherwise the legacy Western encodings that old exports use.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-32's little-endian BOM begins with UTF-16's: test it first.
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if (unmarked := utf16_without_bom(sample)) is not None:
        return unmarked
    errors = 0

    def count(error: UnicodeDecodeError) -> tuple[str, int]:
        nonlocal errors
        errors += 1
        return "", error.end

    codecs.register_error("triage-count", count)
    text = codecs.getincrementaldecoder("utf-8")(errors="triage-count").decode(sample, final=False)
    if errors == 0:
        return "utf-8"
    # Characters past ASCII, counted in C (a loop over a 256 KiB sample took ~25 ms,
    # paid by every part of a file split for a cluster).
    multibyte = len(text) - len(text.encode("ascii", "ignore"))
    if multibyte > 4 * errors:
        return "utf-8"
    # cp1252 rather than latin-1 even when the sample has no 0x80-0x9F byte: real
    # latin-1 text never uses those C1 controls, while a later "€" or "œ" would be
    # garbled by latin-1. The five bytes cp1252 leaves undefined decode as latin-1.
    return "cp1252"


def decode_sample(sample: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_errors_for(encoding))
    return decoder.decode(sample, final=False)


def _errors_for(encoding: str) -> str:
    return "triage-latin1" if encoding == "cp1252" else "replace"


def utf16_without_bom(sample: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for text with every other byte NUL and no BOM."""
    pairs = sample[:64]
    if len(pairs) < 4:
        return None
    if not any(pairs[1::2]) and all(pairs[0::2]):
        return "utf-16-le"
    if not any(pairs[0::2]) and all(pairs[1::2]):
        return "utf-16-be"
    return None


def line_break_of(text: str) -> str:
    """"\r" when the text's records end with a lone CR (classic Mac), else "\n"."""
    return "\r" if "\n" not in text and "\r" in text else "\n"


def _split_lines(text: str, line_break: str) -> list[str]:
    """Lines as the reader cuts records: at LF (a CR before it dropped), or at CR for a
    classic Mac file. Not str.splitlines(), which also breaks at form feeds, U+2028 and
    other characters that the reader keeps inside a record: a header sniffed from a
    line the reader does not see would be skipped with the row it hides. A CR left
    inside a line (a spreadsheet cell's line break) is read as a space: the reader
    keeps it inside its record, and the csv module refuses it in an unquoted field."""
    lines = text.split(line_break)
    if line_break == "\n":
        lines = [line.removesuffix("\r").replace("\r", " ") for line in lines]
    return lines


def _complete_lines(text: str, at_eof: bool) -> list[str]:
    line_break = line_break_of(text)
    lines = _split_lines(text, line_break)
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a line break
    elif len(lines) > 1 and not at_eof:
        lines.pop()  # the sample cut the last line
    return lines


def sniff_dialect(sample_text: str, at_eof: bool = False) -> tuple[str, str | None]:
    """Pick the delimiter whose field count is most consistent across lines."""
    lines = [line for line in _complete_lines(sample_text, at_eof)[:200] if line.strip()]
    if not lines:
        return ",", '"'
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter, strict=False))
        modal = max(counts, key=lambda width: (counts[width], width))  # a title's width loses
        freq = counts[modal]
        if modal < 2:
            continue
        score = freq / counts.total() + modal * 1e-6  # consistency first, then width
        if score > best_score:
            best, best_score = delimiter, score
    quotechar: str | None = '"'
    fields = [f for line in lines for f in line.split(best)]
    if not any(f.startswith('"') for f in fields):
        # No field is quoted: a quote inside a value is a literal character.
        quotechar = None
    return best, quotechar


def _known_labels(cells: list[str]) -> int:
    """How many cells are labels of the detectors' header lexicon."""
    # Imported here: it loads the triage.detect package (~0.4 s), which imports
    # triage.sources; only a first row that the shape rules leave open needs it.
    from triage.detect.headers import match_header

    return sum(1 for cell in cells if cell.strip() and match_header(cell.strip()))


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    cells = [c.strip() for c in first]
    if not cells or any(_DIGIT_HEAVY.match(c) or "@" in c for c in cells if c):
        return False
    if any(not c for c in cells) or len({c.lower() for c in cells}) != len(cells) or not rest:
        # Spreadsheet exports leave a column unnamed or name two alike ("Date"), and a
        # row with nothing below it has no values to compare with (a file of one
        # person's record): such a row is a header when most of its cells are known
        # labels, else data, whose values would otherwise be printed as column names.
        return 2 * _known_labels(cells) >= len(cells)
    for j, cell in enumerate(cells):
        column = [row[j].strip() for row in rest if j < len(row)]
        if not column:
            continue
        digit_heavy = sum(1 for v in column if _DIGIT_HEAVY.match(v))
        if digit_heavy >= len(column) / 2:
            return True
        if cell in column:
            return False
    # All-text table. Known labels (the detectors' header lexicon, seven languages)
    # make a header. Otherwise a first row whose every cell has the shape of most of
    # its column's values ("Aa Aa" above "Aa Aa") is data: taken for a header, it
    # would print a person's name as a column name and lose the row. A header of
    # unknown labels shaped like its values is then read as a row: one row too many,
    # and no name printed.
    if _known_labels(cells):
        return True
    columns = [[row[j].strip() for row in rest if j < len(row) and row[j].strip()]
               for j in range(len(cells))]
    if all(column and _shape(cell) == Counter(map(_shape, column)).most_common(1)[0][0]
           for cell, column in zip(cells, columns, strict=True)):
        return False
    # A header's cells are short labels, values are usually longer.
    return all(len(c) <= 40 for c in cells)


def _shape(text: str) -> str:
    """Letters as A or a and digits as 9, runs collapsed: "Jean-Luc Dupont" is "Aa-Aa Aa"."""
    classes = ("A" if ch.isupper() else "a" if ch.isalpha() else "9" if ch.isdigit() else ch
               for ch in text)
    return "".join(k for k, _ in itertools.groupby(classes))


def sniff_text_table(sample: bytes, at_eof: bool) -> TextDialect:
    """Sniff from the first bytes; ``at_eof`` says the sample is the whole stream."""
    encoding = sniff_encoding(sample)
    text = decode_sample(sample, encoding).lstrip("\ufeff")
    delimiter, quotechar = sniff_dialect(text, at_eof)
    lines = _complete_lines(text, at_eof)[:200]
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter,
                        quotechar=quotechar or '"',
                        quoting=csv.QUOTE_MINIMAL if quotechar else csv.QUOTE_NONE, strict=False)
    records, ends = [], [0]  # a blank line is an empty record; the line each ends on
    for record in reader:
        records.append(record)
        ends.append(reader.line_num)
    line_break = line_break_of(text)
    if not any(records):
        return TextDialect(encoding, delimiter, quotechar, None, 0, line_break)
    preamble, header = table_start(records)
    width = len(header) if header is not None else _modal_width(records)
    # The reader skips these lines as they are, never re-reading their quotes: a title
    # with a stray quote ('Fichier "clients') must end where the sniffer ended it.
    return TextDialect(encoding, delimiter, quotechar, header, width, line_break,
                       preamble_lines=ends[preamble],
                       preamble_rows=sum(1 for record in records[:preamble] if record),
                       header_lines=ends[preamble + 1] - ends[preamble] if header else 0)


def _modal_width(records: list[list[str]]) -> int:
    """The most common field count of the non-blank records, the wider on a tie (a
    title line and one header: the header's)."""
    counts = Counter(len(r) for r in records if any(cell.strip() for cell in r))
    return max(counts, key=lambda width: (counts[width], width)) if counts else 0


#: At most this many records above a table are taken for a title block.
MAX_PREAMBLE = 20


def table_start(records: list[list[str]]) -> tuple[int, list[str] | None]:
    """Where the table starts in its first records: (how many records come before
    it, its header or None). Blank records (no non-blank cell) may come first.

    Old exports put a title block above the header ("Export du 12/03/2019", a lab's
    name), as lines with fewer fields than the table, or padded to its width with
    one cell filled. Such lines are skipped when the row after them is a header
    whose cells are mostly known labels; otherwise they may be ragged data, and are
    read as rows.
    """
    filled = [sum(1 for cell in record if cell.strip()) for record in records]
    blank = next((i for i, count in enumerate(filled) if count), len(records))
    width = _modal_width(records)
    if width >= 2:
        title = blank
        while title < len(records) and (not filled[title] or len(records[title]) < width
                                        or (filled[title] == 1 and width >= 3)):
            title += 1
        if blank < title <= MAX_PREAMBLE and title < len(records):
            rest = [record for record in records[title + 1:] if record]
            # Skipping rows is only worth it below a real header: most of its cells
            # known labels. Short first rows of a headerless list are ragged data.
            if (2 * _known_labels(records[title]) >= filled[title]
                    and _looks_like_header(records[title], rest)):
                return title, records[title]
    if blank == len(records):
        return 0, None  # only empty cells so far: rows, read as such
    # Rows below, those of empty cells included (a blank line is no row).
    rest = [record for record in records[blank + 1:] if record]
    return blank, records[blank] if _looks_like_header(records[blank], rest) else None


def column_names(header: list[str] | None, width: int) -> list[str]:
    """Unique, non-empty names: blanks become col_j, repeats get a _2, _3 suffix."""
    if header is None:
        return [f"col_{j + 1}" for j in range(width)]
    names: list[str] = []
    seen: Counter[str] = Counter()
    for j, raw in enumerate(header):
        name = raw.strip() or f"col_{j + 1}"
        seen[name] += 1
        if seen[name] > 1:
            name = f"{name}_{seen[name]}"
        names.append(name)
    return names
