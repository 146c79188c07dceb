"""Reading one cell as its column's kind (text, codes, numbers, dates, yes/no, choices, scopes), with
the reason in plain words when it cannot be, and the checks of one row's columns against each other.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable

from qidash import db
from qidash.ingest.formats import Column, num_text

# --- values -----------------------------------------------------------------------------------------------


class BadValue(ValueError):
    """A cell that cannot be read as its column's kind; the reason is in plain words."""


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value) -> str | None:
    """A cell as the admin typed it, for the rejected-rows table."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


SHOWN_CHARACTERS = 80
# Characters no cell of text may hold: NUL (PostgreSQL cannot store it), the other control characters
# but tab and line breaks, and lone surrogates (half a character, which UTF-8 cannot encode).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_CODES = re.compile("[\t\n\r]")
# Every whole-number column is a 32-bit integer (PostgreSQL's integer; SQLite would take more).
LARGEST_WHOLE_NUMBER = 2**31 - 1


def visible(text: str) -> str:
    """``text`` with control characters written out (``\\x00``), safe to show and to store in the audit."""
    return _NOT_TEXT.sub(
        lambda found: (
            f"\\x{ord(found.group()):02x}" if ord(found.group()) < 256 else f"\\u{ord(found.group()):04x}"
        ),
        text,
    )


def clip(text: str | None) -> str | None:
    """A cell's text short enough to quote in a message (a 1 MB cell is not repeated whole), with
    control characters written out."""
    if text is None:
        return None
    text = visible(text[: SHOWN_CHARACTERS * 2])
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def _check_characters(text: str, col: Column) -> None:
    """BadValue when ``text`` holds a character the column cannot store, named in words."""
    found = _NOT_TEXT.search(text)
    if found:
        char = found.group()
        what = {"\x00": "a NUL character (U+0000)"}.get(char)
        if what is None:
            kind = (
                "half of a character (an unpaired surrogate)"
                if "\ud800" <= char <= "\udfff"
                else "a control character"
            )
            what = f"{kind} (U+{ord(char):04X})"
        raise BadValue(
            f"The cell holds {what}, which is not text; {col.name} cannot store it. It usually comes from "
            "copying out of another system: retype the cell or save the file again as CSV UTF-8."
        )
    if col.kind != "text" and _NOT_IN_CODES.search(text.strip()):
        raise BadValue(f'"{clip(text)}" holds a tab or a line break; a {col.name} is one line of text.')


def text_of(value) -> str | None:
    """A cell as trimmed text (None when blank), undoing the export's formula neutralising."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace("\xa0", " ").strip()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = cell_text(value) or ""
    if len(text) >= 2 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text or None


_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def _number(value, col: Column) -> float | None:
    if isinstance(value, bool):
        raise BadValue(f'"{value}" is not a number.')
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a whole number of hundreds of digits, from a workbook
            raise BadValue(
                f"The number is too large; {col.name} must be {_a_number(col)} of sensible size."
            ) from None
    else:
        text = text_of(value)
        if text is None:
            return None
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise BadValue(f'"{clip(text)}" is not a number; {col.name} must be {_a_number(col)}.') from None
    if not math.isfinite(number):
        raise BadValue(f'"{clip(cell_text(value))}" is not a number; {col.name} must be {_a_number(col)}.')
    return number


def _a_number(col: Column) -> str:
    return "a whole number" if col.kind == "int" else "a number"


def _int(value, col: Column) -> int | None:
    number = _number(value, col)
    if number is None:
        return None
    if not number.is_integer():
        raise BadValue(
            f'"{clip(cell_text(value))}" is not a whole number; {col.name} must be a whole number.'
        )
    if abs(number) > LARGEST_WHOLE_NUMBER:
        shown = clip(cell_text(value) if not isinstance(value, str) else value.strip())
        raise BadValue(
            f'"{shown}" is too large; {col.name} can be at most {LARGEST_WHOLE_NUMBER:,} (check for a '
            'typing slip).'
        )
    return int(number)


def _in_range(number: float, value, col: Column) -> None:
    shown = cell_text(value) if not isinstance(value, str) else value.strip()
    low, high = col.minimum, col.maximum
    if low is not None and high is not None and not low <= number <= high:
        scale = "the IHI progress scale" if col.name == "score" else "the allowed range"
        # A stepped scale is written as its steps are (0.5 to 5.0), others as plainly as possible.
        low_text, high_text = (f"{low:.1f}", f"{high:.1f}") if col.step else (num_text(low), num_text(high))
        raise BadValue(
            f'"{clip(shown)}" is outside {scale}; {col.name} must be between {low_text} and {high_text}.'
        )
    if low is not None and number < low:
        if low == 0:
            raise BadValue(f'"{clip(shown)}" is negative; {col.name} must be 0 or more.')
        raise BadValue(f'"{clip(shown)}" is too small; {col.name} must be {num_text(low)} or more.')
    if col.step and not math.isclose(number / col.step, round(number / col.step)):
        raise BadValue(f'"{clip(shown)}" is not a step of {col.step} on the scale; use e.g. 2.0 or 2.5.')


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: 00:00(?::00)?)?$")
_UK_SHORT_YEAR = re.compile(r"^\d{1,2}/\d{1,2}/\d{2}$")
DATE_HINT = "write dates as 31/12/2019 (day/month/year) or 2019-12-31"


def _date(value, col: Column, memo: dict) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return _plausible(value.date(), value, col)
    if isinstance(value, dt.date):
        return _plausible(value, value, col)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise BadValue(
            f'"{clip(cell_text(value))}" is a number, not a date; format the cell as a date or {DATE_HINT}.'
        )
    text = text_of(value)
    if text is None:
        return None
    if text not in memo:
        try:
            memo[text] = parse_date_text(text)
        except BadValue as exc:
            memo[text] = exc
    found = memo[text]
    if isinstance(found, BadValue):
        raise found
    return _plausible(found, text, col)


def _plausible(day: dt.date, value, col: Column) -> dt.date:
    """``day``, or BadValue when its year is outside what the programme can hold (a mistyped year)."""
    if not db.is_plausible_date(day):
        bound = (
            f"before {db.EARLIEST_DATE.year}" if day < db.EARLIEST_DATE else f"after {db.LATEST_DATE.year}"
        )
        raise BadValue(
            f'"{clip(cell_text(value))}" is not a plausible date (the year {day.year} is {bound}); check '
            'the year.'
        )
    return day


def parse_date_text(text: str) -> dt.date:
    iso, uk = _ISO.match(text), _UK.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
        if month > 12 and day <= 12:
            raise BadValue(
                f'"{clip(text)}" looks like a month-first (US) date; there is no month {month}. Put the day '
                'first: '
                f"{month:02d}/{day:02d}/{year}, or {DATE_HINT}."
            )
    elif _UK_SHORT_YEAR.match(text):
        raise BadValue(
            f'"{clip(text)}" has a two-digit year, which is ambiguous; give the year in full: {DATE_HINT}.'
        )
    else:
        raise BadValue(f'"{clip(text)}" is not a date; {DATE_HINT}.')
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise BadValue(f'"{clip(text)}" is not a real date (there is no such day); {DATE_HINT}.') from None


_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f"}


def _bool(value, col: Column) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = text_of(value)
    if text is None:
        return col.default
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadValue(f'"{clip(text)}" is not yes or no; {col.name} takes y/n, yes/no, true/false or 1/0.')


def _choice(value, col: Column, memo: dict) -> str | None:
    text = text_of(value)
    if text is None:
        return col.default
    if text not in memo:
        memo[text] = re.sub(r"[\s\-]+", "_", text.lower())
    choice = memo[text]
    if choice not in col.choices:
        noun = "status" if col.name == "status" else col.name
        raise BadValue(f'"{clip(text)}" is not a recognised {noun}; use one of: {", ".join(col.choices)}.')
    return choice


def _code_list(value) -> list[str]:
    text = text_of(value)
    if text is None:
        return []
    return list(dict.fromkeys(c.strip() for c in text.split(";") if c.strip()))


def _scope(value) -> str:
    text = text_of(value)
    if text is None:
        return "system"
    kind, sep, code = text.partition(":")
    kind = kind.strip().lower()
    if kind == "system" and not code.strip():
        return "system"
    if kind in ("locality", "pcn") and sep and code.strip():
        return f"{kind}:{code.strip()}"
    raise BadValue(
        f'"{clip(text)}" is not a scope; use system, locality:CODE or pcn:CODE (e.g. pcn:PCN-N1).'
    )


def cell_reader(col: Column) -> Callable:
    """A function reading one cell of ``col``: returns the typed value or raises BadValue."""
    memo: dict = {}
    base: Callable = {
        "text": lambda v: text_of(v),
        "code": lambda v: text_of(v),
        "int": lambda v: _int(v, col),
        "number": lambda v: _number(v, col),
        "date": lambda v: _date(v, col, memo),
        "bool": lambda v: _bool(v, col),
        "list": _code_list,
        "choice": lambda v: _choice(v, col, memo),
        "scope": _scope,
    }[col.kind]
    checks_range = col.minimum is not None or col.maximum is not None or col.step is not None

    def read(value):
        if isinstance(value, str):
            _check_characters(value, col)
        typed = base(value)
        if typed is None:
            return col.default
        if checks_range and col.kind in ("int", "number"):
            _in_range(typed, value, col)
        if col.max_len and len(typed) > col.max_len:
            raise BadValue(
                f"This is {len(typed)} characters long; {col.name} can hold at most {col.max_len}."
            )
        return typed

    return read


# --- one row's columns against each other -------------------------------------------------------------------

RowCheck = Callable[[dict], Iterable[tuple[str, object, str, bool]]]  # column, value, reason, rejects


def _check_coordinates(r: dict):
    lat, lon = r.get("latitude"), r.get("longitude")
    if (lat is None) != (lon is None):
        given, blank = ("latitude", "longitude") if lon is None else ("longitude", "latitude")
        yield blank, None, f"{given} is filled in but {blank} is blank; give both or neither.", True
    elif lat is not None and not (49.5 <= lat <= 61 and -8.7 <= lon <= 2.1):
        yield (
            "latitude",
            lat,
            f"{lat}, {lon} is outside the UK; check latitude and longitude are not swapped.",
            False,
        )


def _check_dates(start: str, end: str) -> RowCheck:
    def check(r: dict):
        if r.get(start) and r.get(end) and r[end] < r[start]:
            yield (
                end,
                r[end].isoformat(),
                f"{end} {r[end]:%d/%m/%Y} is before {start} {r[start]:%d/%m/%Y}.",
                True,
            )

    return check


def _check_completion(r: dict):
    if r.get("completed_on") and r.get("status") != "completed":
        yield (
            "completed_on",
            r["completed_on"].isoformat(),
            (
                f'completed_on is filled in but status is "{r.get("status")}"; only a completed enrolment '
                "has a completion date. Set status to completed or clear the date."
            ),
            True,
        )


def _check_parent(r: dict):
    if r.get("parent_code") and r["parent_code"] == r.get("code"):
        yield "parent_code", r["parent_code"], "A priority cannot be its own parent.", True


ROW_CHECKS: dict[str, list[RowCheck]] = {
    "organisations": [_check_coordinates],
    "cohorts": [_check_dates("start_date", "end_date")],
    "projects": [_check_dates("start_date", "end_date")],
    "enrolments": [_check_completion],
    "priorities": [_check_parent],
}
