"""The ORM's base: the declarative base with its naming convention, and the column types the
entity modules share.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACTIVE_SQL = "status IN ('queued', 'validating', 'uploading', 'training')"
# A Q&A's question and answer as a search reads them (the line feed keeps a phrase from
# matching across the two: a search term never holds one).
SEARCH_TEXT = "lower(question || '\n' || answer)"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Tables whose edits are guarded by a row version: on SQLite an id must never be handed out
# again, or a save meant for a deleted row would pass the version check on its successor
# (migration 0007).
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
