"""What a load is made of: the files read, their typed tables, and the problems found on the way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from qidash import store

# --- problems and batches ---------------------------------------------------------------------------------


class UnusableInput(Exception):
    """Files that cannot be loaded at all (empty, unreadable, of no known entity); ``messages`` says why."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(" ".join(messages))


@dataclass(frozen=True)
class Problem:
    """A rejected row (``rejects``) or a note about one that still loads."""

    entity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str
    rejects: bool = True

    def message(self) -> str:
        """``Row 7, column "beds": "-3" is negative; ...`` (the file is shown separately)."""
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


@dataclass
class Table:
    """One file or sheet's rows, typed. ``rows`` passed every check a file alone allows."""

    entity: str
    file: str
    columns: list[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)
    rejected: list[tuple[int, dict]] = field(default_factory=list)  # what could be read of bad rows


@dataclass(frozen=True)
class UploadedFile:
    name: str
    size: int
    sha256: str


@dataclass
class Batch:
    """What :func:`read_upload` made of the files: tables per entity and the problems found so far."""

    files: list[UploadedFile]
    tables: list[Table]
    problems: list[Problem]

    @property
    def entities(self) -> list[str]:
        present = {t.entity for t in self.tables}
        return [e for e in store.ENTITY_ORDER if e in present]

    @property
    def file_label(self) -> str:
        return ", ".join(f.name for f in self.files)

    @property
    def sha256(self) -> str:
        """One file's hash, or for several the hash of their hashes in name order."""
        if len(self.files) == 1:
            return self.files[0].sha256
        joined = "".join(f.sha256 for f in sorted(self.files, key=lambda f: f.name))
        return hashlib.sha256(joined.encode()).hexdigest()
