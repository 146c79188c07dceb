"""What a visitor sees when something fails: a plain message and a reference, never a traceback.

The server log keeps the detail under the same reference, for the admin to find (DESIGN.md section 8).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from qidash import db

LOG = logging.getLogger("qidash.app")
if not LOG.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.INFO)

DATABASE_UNREACHABLE = "The database cannot be reached; your admin has details."
PAGE_FAILED = "Something went wrong showing this page; your admin has details."

# Failures that mean the database is down, refusing us or misconfigured, rather than a fault in a page.
DATABASE_FAILURES = (db.DatabaseError, OperationalError, InterfaceError, CommandError)


def is_database_failure(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached or used as configured."""
    if isinstance(exc, DATABASE_FAILURES):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def new_reference() -> str:
    """A short reference that ties a message on a page to its entry in the server log."""
    return uuid.uuid4().hex[:10].upper()


def show_failure(exc: BaseException, where: str) -> str:
    """Log ``exc`` with a new reference and show the visitor a plain message with it.

    Returns the reference.
    """
    reference = new_reference()
    LOG.error("%s failed (reference %s)", where, reference, exc_info=(type(exc), exc, exc.__traceback__))
    message = DATABASE_UNREACHABLE if is_database_failure(exc) else PAGE_FAILED
    st.error(f"{message} Reference: {reference}", icon=":material/error:")
    return reference


@contextmanager
def plain_errors(where: str, stop: bool = True) -> Iterator[None]:
    """Run the block; an exception becomes a plain message with a reference (and the run stops when
    ``stop``). Streamlit's own stop and rerun signals are not exceptions and pass through."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure is shown plainly and logged in full
        show_failure(exc, where)
        if stop:
            st.stop()


def run_plainly(fn: Callable[[], object], where: str) -> None:
    """Call ``fn`` (a page's run); a failure is shown as a plain message with a reference."""
    with plain_errors(where, stop=False):
        fn()
