"""The demo company (Northwind Components Ltd.): its content as data files (``content``) and
the seeding of a fresh database with it (``seed``)."""

from core.demo.seeding import (
    DemoAccount,
    compile_arbiters,
    credentials_path,
    is_empty,
    open_the_chat,
    seed,
    write_credentials,
)

__all__ = [
    "DemoAccount",
    "compile_arbiters",
    "credentials_path",
    "is_empty",
    "open_the_chat",
    "seed",
    "write_credentials",
]
