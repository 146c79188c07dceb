"""Loading files in the section-3 format (DESIGN.md section 3): read, check, preview, then commit.

The Data page and ``python -m qidash import`` share one API::

    batch = read_upload([(file_name, data), ...])   # raises UnusableInput if a file cannot be used
    report = preview(engine, batch)                  # per-entity counts, rejected rows, notes; writes nothing
    result = commit(engine, batch, user="...")       # all or nothing, unless allow_partial=True

Reading checks what a file can tell on its own: headings, types, ranges, one row's columns against each
other. Preview and commit then check each reference against the database and the rest of the load, and
plan the upsert through :mod:`qidash.store`. Every problem names the file, the row as the spreadsheet
shows it (the heading row is row 1), the column and the reason in plain words.
"""

from __future__ import annotations

from qidash.ingest.batch import Batch, Problem, Table, UnusableInput, UploadedFile
from qidash.ingest.checks import Checked, validate
from qidash.ingest.coerce import (
    DATE_HINT,
    LARGEST_WHOLE_NUMBER,
    ROW_CHECKS,
    SHOWN_CHARACTERS,
    BadValue,
    RowCheck,
    parse_date_text,
)
from qidash.ingest.formats import ALIASES, FORMATS, IGNORED_SHEETS, LOOKUP_NAMES, NOUNS, Column, EntityFormat
from qidash.ingest.loading import (
    CHART_ENTITIES,
    COUNT_COLUMNS,
    REJECTED_COLUMNS,
    ImportFailed,
    LoadResult,
    Preview,
    Report,
    commit,
    preview,
    recent_imports,
    record_unusable,
)
from qidash.ingest.quality import (
    DATA_QUALITY_TITLES,
    DATE_COLUMNS,
    DATE_COLUMNS_OF_CHILDREN,
    data_quality,
    quality_lists,
)
from qidash.ingest.read import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_LABEL,
    MAX_WORKBOOK_CELLS,
    MAX_WORKBOOK_UNPACKED_BYTES,
    entity_for_name,
    read_paths,
    read_upload,
)

__all__ = [
    "ALIASES",
    "CHART_ENTITIES",
    "COUNT_COLUMNS",
    "DATA_QUALITY_TITLES",
    "DATE_COLUMNS",
    "DATE_COLUMNS_OF_CHILDREN",
    "DATE_HINT",
    "FORMATS",
    "IGNORED_SHEETS",
    "LARGEST_WHOLE_NUMBER",
    "LOOKUP_NAMES",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_LABEL",
    "MAX_WORKBOOK_CELLS",
    "MAX_WORKBOOK_UNPACKED_BYTES",
    "NOUNS",
    "REJECTED_COLUMNS",
    "ROW_CHECKS",
    "SHOWN_CHARACTERS",
    "BadValue",
    "Batch",
    "Checked",
    "Column",
    "EntityFormat",
    "ImportFailed",
    "LoadResult",
    "Preview",
    "Problem",
    "Report",
    "RowCheck",
    "Table",
    "UnusableInput",
    "UploadedFile",
    "commit",
    "data_quality",
    "entity_for_name",
    "parse_date_text",
    "preview",
    "quality_lists",
    "read_paths",
    "read_upload",
    "recent_imports",
    "record_unusable",
    "validate",
]
