"""What every command shares: the operator it acts as, the unit of work (the schema brought
up to date first, as the app and the worker do) and the table of commands by name."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from core import db
from core.errors import ArbiterError
from core.permissions import Actor
from core.services import catalog
from core.uow import UnitOfWork

CLI_ACTOR = Actor.system("cli")

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def open_uow() -> UnitOfWork:
    # Like the app and the worker, every command first brings the schema up to date.
    engine = db.get_engine()
    db.upgrade(engine)
    return UnitOfWork(db.session_factory(engine))


def connection_named(uow: UnitOfWork, name: str) -> catalog.ConnectionView:
    for connection in catalog.list_connections(uow, CLI_ACTOR):
        if connection.name.lower() == name.strip().lower():
            return connection
    raise ArbiterError(f"There is no connection named {name!r}.")


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register
