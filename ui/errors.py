"""One way to show errors: domain errors as their message, anything else as a short apology
with a reference that points to the server log (never a traceback on the page)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st

from core.errors import ArbiterError, EditConflict, ValidationFailed

log = logging.getLogger("arbiter.ui")
T = TypeVar("T")


def show_error(exc: BaseException) -> None:
    if isinstance(exc, ValidationFailed):
        lines = [exc.message, *(f"- {p}" for p in exc.problems[:20])]
        st.error("\n".join(lines), icon=":material/error:")
    elif isinstance(exc, EditConflict):
        st.warning(exc.message, icon=":material/sync_problem:")
    elif isinstance(exc, ArbiterError):
        st.error(exc.message, icon=":material/error:")
    else:
        reference = uuid.uuid4().hex[:8]
        log.error("unexpected error (reference %s)", reference, exc_info=exc)
        st.error(
            f"Something went wrong on our side (reference {reference}). Nothing you entered "
            "is lost; please try again, and give an admin this reference if it happens again.",
            icon=":material/bug_report:",
        )


@contextmanager
def errors_shown() -> Iterator[None]:
    """Show any error raised in the block in the standard way and carry on."""
    try:
        yield
    except Exception as exc:
        show_error(exc)


def attempt(fn: Callable[[], T]) -> T | None:
    """Run a service call; show its error and return None if it fails."""
    try:
        return fn()
    except Exception as exc:
        show_error(exc)
        return None
