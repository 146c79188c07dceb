"""Reading uploaded or on-disk files (CSV in any common encoding, XLSX within size caps) into typed
tables: which entity a file holds, its headings, and every row read through :mod:`qidash.ingest.coerce`.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from qidash.ingest.batch import Batch, Problem, Table, UnusableInput, UploadedFile
from qidash.ingest.coerce import ROW_CHECKS, BadValue, cell_reader, cell_text, clip, is_blank, visible
from qidash.ingest.formats import ALIASES, FORMATS, IGNORED_SHEETS

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_LABEL = "50 MB"


# --- reading files --------------------------------------------------------------------------------------


@dataclass
class _RawTable:
    file: str
    entity: str
    header: list
    rows: list[tuple[int, list]]


def read_upload(files: list[tuple[str, bytes]], max_bytes: int | None = MAX_UPLOAD_BYTES) -> Batch:
    """Read uploaded files (CSV or XLSX) into a :class:`Batch`; raises UnusableInput, naming every bad
    file."""
    if not files:
        raise UnusableInput(["No file was given."])
    # A name is shown on pages and kept in the audit: control characters in it are written out.
    files = [(visible(name), data) for name, data in files]
    total = sum(len(data) for _, data in files)
    if max_bytes is not None and total > max_bytes:
        raise UnusableInput(
            [
                (
                    f"The upload is {total / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_LABEL}. Split it "
                    "into smaller files, or load it on the server with `python -m qidash import`."
                )
            ]
        )
    errors: list[str] = []
    raw_tables: list[_RawTable] = []
    notes: list[Problem] = []
    for name, data in files:
        try:
            raw_tables.extend(_read_file(name, data, notes))
        except UnusableInput as exc:
            errors.extend(exc.messages)
    tables, problems = [], list(notes)
    for raw in raw_tables:
        try:
            table, found = _typed_table(raw)
        except UnusableInput as exc:
            errors.extend(exc.messages)
            continue
        tables.append(table)
        problems.extend(found)
    if errors:
        raise UnusableInput(errors)
    if not any(t.rows or t.rejected for t in tables):
        raise UnusableInput([f"{t.file} has headings but no rows." for t in tables])
    uploaded = [UploadedFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files]
    return Batch(uploaded, tables, problems)


def read_paths(paths: Iterable[str]) -> Batch:
    """Read files from disk (a folder means every CSV and XLSX in it); no size limit. Raises UnusableInput."""
    files, errors = [], []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                # Excel leaves "~$name.xlsx" lock files beside open workbooks; they are not data.
                if p.suffix.lower() in (".csv", ".xlsx", ".xlsm") and not p.name.startswith(("~$", "."))
            )
            if not found:
                errors.append(f"{given}: the folder holds no .csv or .xlsx files.")
            files.extend((p.name, p.read_bytes()) for p in found)
        elif path.is_file():
            files.append((path.name, path.read_bytes()))
        else:
            errors.append(f"{given}: no such file.")
    if not files:
        raise UnusableInput(errors or ["No file was given."])
    try:
        batch = read_upload(files, max_bytes=None)
    except UnusableInput as exc:
        raise UnusableInput(errors + exc.messages) from exc
    if errors:
        raise UnusableInput(errors)
    return batch


def entity_for_name(name: str) -> str | None:
    """The entity a file or sheet name means (``enrolments_2019.csv`` -> ``enrolments``), or None."""
    stem = _normalise(PurePath(name).stem if "." in name else name)
    names = {**{e: e for e in FORMATS}, **ALIASES}
    matches = [n for n in names if stem == n or stem.startswith(n)]
    return names[max(matches, key=len)] if matches else None


def _unknown_name(what: str) -> str:
    return (
        f"{what} does not say which data it holds. Name it after one of: {', '.join(FORMATS)} "
        "(e.g. enrolments.csv or enrolments_2019.csv; in a workbook, a sheet called enrolments)."
    )


def _read_file(name: str, data: bytes, notes: list[Problem]) -> list[_RawTable]:
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        raise UnusableInput([f"{name} is empty."])
    if suffix in (".xlsx", ".xlsm") or data[:2] == b"PK":
        return _read_workbook(name, data, notes)
    if suffix == ".xls":
        raise UnusableInput(
            [f"{name} is an old-style Excel file (.xls). Save it as .xlsx or as CSV and try again."]
        )
    if suffix not in (".csv", ".txt", ""):
        raise UnusableInput([f"{name} is not a CSV or XLSX file."])
    named = entity_for_name(name)
    read_notes: list[Problem] = []  # about the file, for whichever entity it turns out to hold
    header, rows = _read_csv(name, data, named, read_notes)
    entity = named or _entity_from_header(name, header, notes)
    notes += [dataclasses.replace(n, entity=entity) for n in read_notes]
    return [_RawTable(name, entity, header, rows)]


_SAVE_AS_CSV = 'Save it from Excel as "CSV UTF-8 (comma delimited)" and try again.'


def _not_text(name: str, data: bytes) -> str | None:
    """Why ``data`` is not a CSV file in words (UTF-16, a PDF, binary), or None when it may be one."""
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f'{name} is saved as UTF-16 (Excel\'s "Unicode text"), not UTF-8. {_SAVE_AS_CSV}'
    if head.startswith(b"%PDF"):
        return f"{name} is a PDF document, not a CSV file. Load the spreadsheet the data came from instead."
    # UTF-16 without its byte-order mark: every other byte of plain text is NUL.
    even, odd = head[0::2].count(0) / max(1, len(head) // 2), head[1::2].count(0) / max(1, len(head) // 2)
    if max(even, odd) > 0.3 and min(even, odd) < 0.05:
        return f'{name} is saved as UTF-16 (Excel\'s "Unicode text"), not UTF-8. {_SAVE_AS_CSV}'
    # A control character or two is a bad cell, rejected with its row; many mean binary data.
    controls = sum(head.count(bytes([c])) for c in (*range(9), 11, 12, *range(14, 32), 127))
    if controls > max(8, len(head) // 100):
        return (
            f"{name} is not a text file (it holds binary data), so it cannot be read as CSV. {_SAVE_AS_CSV}"
        )
    return None


def _decode(name: str, data: bytes, entity: str | None, notes: list[Problem]) -> str:
    why_not = _not_text(name, data)
    if why_not:
        raise UnusableInput([why_not])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows saves Windows-1252, not UTF-8; read it and say so.
        notes.append(
            Problem(
                entity, name, None, None, None, "The file is not UTF-8; it was read as Windows-1252.", False
            )
        )
        return data.decode("cp1252", errors="replace")


def _read_csv(name: str, data: bytes, entity: str | None, notes: list[Problem]) -> tuple[list, list]:
    text = _decode(name, data, entity, notes)
    if not text.strip():
        raise UnusableInput([f"{name} is empty."])
    first = text.lstrip().split("\n", 1)[0]
    delimiter = ","
    if "," not in first and "\t" in first:
        delimiter = "\t"
    elif "," not in first and ";" in first:
        raise UnusableInput(
            [
                (
                    f"{name}: the columns are separated by semicolons. Save it as CSV with commas (CSV "
                    "UTF-8 in "
                    "Excel)."
                )
            ]
        )
    records = _csv_records(name, text, delimiter)
    if not records or not any(c.strip() for c in records[0]):
        raise UnusableInput([f"{name} has no heading row: the first row must name the columns."])
    if text.count("\n") > len(records):  # some cell spans lines
        _check_quotes(name, records, delimiter)
    return records[0], list(enumerate(records[1:], start=2))


def _csv_records(name: str, text: str, delimiter: str) -> list[list[str]]:
    """The records of a CSV text. A quote never closed is an error naming its row: read leniently, the
    rest of the file would silently become one cell of that row."""
    records: list[list[str]] = []
    try:
        # Strict first, record by record, so the row where reading stopped is known.
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            records.append(record)  # noqa: PERF402 - one by one, so a failure knows its row
        return records
    except csv.Error as exc:
        if "end of data" in str(exc):  # the file ended inside a quoted cell
            unclosed = (
                f'{name}: row {len(records) + 1} opens a quote (") that is never closed, so every row after '
                "it would be read as part of one cell. Close the quote or remove it, and load the file again."
            )
            raise UnusableInput([unclosed]) from exc
    # Other slips strict reading refuses (text after a closing quote) read as spreadsheets read them.
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnusableInput([f"{name} could not be read as CSV ({exc}).".replace("\x00", "")]) from exc


def _check_quotes(name: str, records: list[list[str]], delimiter: str) -> None:
    """A stray quote closed by another many lines down makes the rows between one cell: refuse a cell
    whose lines look like rows of the file (as many separators as the heading has)."""
    width = len(records[0])
    if width < 3:
        return
    for index, record in enumerate(records[1:], start=2):
        for cell in record:
            if "\n" in cell:
                lines = cell.split("\n")
                if any(line.count(delimiter) >= width - 1 for line in lines):
                    runs_on = (
                        f'{name}: row {index} has a quote (") that runs on over {len(lines) - 1} line'
                        f"{'s' if len(lines) > 2 else ''}, which look like rows of their own: they would be "
                        "read as one cell. Remove the stray quote, and load the file again."
                    )
                    raise UnusableInput([runs_on])


# What a workbook may unpack to. Parsing is the slow part (about 10 s of CPU per million cells, 50 MB
# of sheet XML), and a small zip can inflate a thousandfold: both are checked on the zip itself, before
# any XML is parsed. Larger data goes in as CSV files, which are read without that cost.
MAX_WORKBOOK_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_WORKBOOK_CELLS = 1_000_000
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")  # a cell element, with or without a prefix


def _check_workbook_size(name: str, data: bytes) -> None:
    """Raise UnusableInput when the workbook would unpack past MAX_WORKBOOK_UNPACKED_BYTES or hold more
    than MAX_WORKBOOK_CELLS cells. Reads the zip's directory, then streams the sheets counting cells
    (sizes in the directory can lie, so the bytes inflated are counted too). No XML is parsed."""
    import zipfile

    split = "Save each sheet as a CSV file and load those instead (several CSV files can be loaded at once)."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl says it is unreadable
    declared = sum(member.file_size for member in members)
    limit_mb = MAX_WORKBOOK_UNPACKED_BYTES // 1024 // 1024
    too_big = (
        f"{name} unpacks to more than {limit_mb} MB, too large to read safely; a workbook is compressed, "
        f"and this one would take minutes to open. {split}"
    )
    if declared > MAX_WORKBOOK_UNPACKED_BYTES:
        raise UnusableInput([too_big])
    too_many = (
        f"{name} holds more than {MAX_WORKBOOK_CELLS:,} cells, too many to read from a workbook safely. "
        f"{split}"
    )
    inflated = cells = 0
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            inflated += member.file_size
            continue
        try:
            with archive.open(member) as stream:
                carry = b""
                while chunk := stream.read(1024 * 1024):
                    inflated += len(chunk)
                    if inflated > MAX_WORKBOOK_UNPACKED_BYTES:
                        raise UnusableInput([too_big])
                    # A cell's tag starts at a "<": count up to the last one, carry the rest over.
                    buffer = carry + chunk
                    cut = buffer.rfind(b"<")
                    cut = len(buffer) if cut < 0 else cut
                    cells += len(_CELL.findall(buffer, 0, cut))
                    carry = buffer[cut:]
                    if cells > MAX_WORKBOOK_CELLS:
                        raise UnusableInput([too_many])
                cells += len(_CELL.findall(carry))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return  # damaged: openpyxl says so
    if cells > MAX_WORKBOOK_CELLS:
        raise UnusableInput([too_many])


def _read_workbook(name: str, data: bytes, notes: list[Problem]) -> list[_RawTable]:
    import openpyxl

    unreadable = (
        f"{name} could not be opened as an Excel workbook; it may be damaged or only partly saved. "
        "Save it again from Excel, or upload CSV files instead."
    )
    _check_workbook_size(name, data)
    tables = []
    # A damaged workbook can fail in many ways inside the zip and XML readers; each means "unreadable".
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnusableInput([unreadable]) from exc
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some writers store wrong dimensions; read every row there is
            records = [list(r) for r in sheet.iter_rows(values_only=True)]
            while records and all(is_blank(v) for v in records[-1]):
                records.pop()
            label = f"{name} (sheet {sheet.title})"
            if not records or _normalise(sheet.title) in IGNORED_SHEETS:
                continue
            entity = entity_for_name(sheet.title) or _entity_from_header(
                f'{name}: the sheet "{sheet.title}"', records[0], notes
            )
            tables.append(_RawTable(label, entity, records[0], list(enumerate(records[1:], start=2))))
    except UnusableInput:
        raise
    except Exception as exc:  # as above
        raise UnusableInput([unreadable]) from exc
    finally:
        book.close()
    if not tables:
        raise UnusableInput([f"{name} has no sheet with data named after an entity ({', '.join(FORMATS)})."])
    return tables


# --- headings ---------------------------------------------------------------------------------------------


def _normalise(heading) -> str:
    """``" Ods Code"`` -> ``ods_code``: headings are case- and space-insensitive."""
    text = visible(str(heading or "").replace("\ufeff", "")).strip().lower()
    return re.sub(r"[\s\-]+", "_", text).strip("_")


def _columns_for(raw: _RawTable) -> tuple[dict[str, int], list[Problem]]:
    """Column name -> position for the entity's columns; raises UnusableInput for a file of another kind."""
    fmt = FORMATS[raw.entity]
    names = [_normalise(h) for h in raw.header]
    seen = Counter(n for n in names if n)
    twice = [n for n, k in seen.items() if k > 1]
    if twice:
        raise UnusableInput([f'{raw.file}: the column "{twice[0]}" appears more than once.'])
    present = set(names)
    missing = [c for c in fmt.required if c not in present]
    if missing:
        raise UnusableInput([_missing_columns(raw, missing, present)])
    known = {c.name for c in fmt.columns}
    notes = []
    for name in names:
        if name and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            notes.append(
                Problem(
                    raw.entity,
                    raw.file,
                    None,
                    clip(name),
                    None,
                    f"This column is not part of the {raw.entity} format and was ignored.{hint}",
                    False,
                )
            )
    return {n: i for i, n in enumerate(names) if n in known}, notes


def _entities_like(present: set[str], other_than: str | None = None) -> list[str]:
    """The entities whose required columns are all in ``present`` and that share most columns with it."""
    looks_like = [e for e, f in FORMATS.items() if e != other_than and all(c in present for c in f.required)]
    if not looks_like:
        return []
    overlap = {e: len(present & {c.name for c in FORMATS[e].columns}) for e in looks_like}
    best = max(overlap.values())
    return [e for e in looks_like if overlap[e] == best]


def _entity_from_header(name: str, header: list, notes: list[Problem]) -> str:
    """The entity a file whose name says nothing holds, told by its headings when only one fits."""
    likely = _entities_like({_normalise(h) for h in header})
    if len(likely) != 1:
        raise UnusableInput([_unknown_name(name)])
    notes.append(
        Problem(
            likely[0],
            name,
            None,
            None,
            None,
            f"The file name does not say which data it holds; its headings are those of {likely[0]}, "
            "so it was read as that.",
            False,
        )
    )
    return likely[0]


def _missing_columns(raw: _RawTable, missing: list[str], present: set[str]) -> str:
    looks_like = _entities_like(present, other_than=raw.entity)
    if looks_like:
        guess = " or ".join(looks_like)
        return (
            f"{raw.file}: this looks like a {guess} file, not {raw.entity}: its columns are those of "
            f"{guess}. "
            f"Check you chose the right file, or rename it after what it holds."
        )
    quoted = ", ".join(f'"{c}"' for c in missing)
    return (
        f"{raw.file}: the {raw.entity} format needs the column{'s' if len(missing) > 1 else ''} {quoted}, "
        f"which {'are' if len(missing) > 1 else 'is'} missing. The template shows every heading."
    )


def _typed_table(raw: _RawTable) -> tuple[Table, list[Problem]]:
    """Read every row of ``raw`` into typed values; returns the table and the problems found."""
    positions, problems = _columns_for(raw)
    fmt = FORMATS[raw.entity]
    cols = [(c, positions[c.name], cell_reader(c)) for c in fmt.columns if c.name in positions]
    table = Table(raw.entity, raw.file, [c.name for c, _, _ in cols])
    trimmed: dict[str, list[int]] = defaultdict(list)
    row_checks = ROW_CHECKS.get(raw.entity, [])
    entity, file = raw.entity, raw.file
    # An optional column of the natural key left out of the file means what its blank cell means
    # (a target without a scope column is for the whole system): every row needs its whole key.
    key_defaults = {
        c.name: cell_reader(c)(None) for c in fmt.columns if c.name in fmt.key and c.name not in positions
    }
    for rowno, cells in raw.rows:
        if all(is_blank(v) for v in cells):
            continue  # blank rows separate blocks in spreadsheets; skip them silently
        values, bad = dict(key_defaults), []
        for col, pos, read in cols:
            cell = cells[pos] if pos < len(cells) else None
            try:
                value = read(cell)
            except BadValue as exc:
                bad.append(Problem(entity, file, rowno, col.name, clip(cell_text(cell)), str(exc)))
                continue
            if col.required and value is None:
                bad.append(
                    Problem(entity, file, rowno, col.name, None, "This is required, but the cell is blank.")
                )
            values[col.name] = value
            if col.is_code and isinstance(cell, str) and cell != cell.strip() and cell.strip():
                trimmed[col.name].append(rowno)
        if not bad:
            for column, value, reason, rejects in (p for check in row_checks for p in check(values)):
                shown = None if value is None else str(value)
                (bad if rejects else problems).append(
                    Problem(entity, file, rowno, column, shown, reason, rejects)
                )
        if any(p.rejects for p in bad):
            problems.extend(bad)
            table.rejected.append((rowno, values))
        else:
            table.rows.append((rowno, values))
    for column, rows in trimmed.items():
        problems.append(
            Problem(
                entity,
                file,
                rows[0],
                column,
                None,
                f"Spaces around {len(rows)} code{'s' if len(rows) > 1 else ''} in this column were removed "
                f"(first in row {rows[0]}).",
                False,
            )
        )
    if not table.rows and not table.rejected:
        problems.append(Problem(entity, file, None, None, None, "The file has headings but no rows.", False))
    return table, problems
