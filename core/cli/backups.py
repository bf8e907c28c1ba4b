"""Backup and restore: a consistent snapshot of the database and the data folder while the
studio runs, and its restore into an empty database (``core.backup``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import backup
from core.cli.base import command


@command("backup")
def cmd_backup(args: argparse.Namespace) -> int:
    print(backup.backup(Path(args.file)))
    return 0


@command("restore")
def cmd_restore(args: argparse.Namespace) -> int:
    print(backup.restore(Path(args.file), force=args.force))
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backup", help="write a consistent backup of the database and the data folder"
    )
    p.add_argument("file", help="the backup file to write (a tar archive, 0600)")
    p = sub.add_parser("restore", help="restore a backup into an empty database")
    p.add_argument("file", help="a file written by backup")
    p.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
