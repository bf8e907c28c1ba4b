"""``python -m core …``: scripted set-up and operations for operators.

Every command acts as the system operator (an admin, audited as ``cli@arbiter.local``).
Errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from core.cli import backups, catalogue, compiling, data, evaluation, models, setup
from core.cli.base import COMMANDS
from core.errors import ArbiterError

# The command groups, in the order --help lists them.
GROUPS = (setup, models, data, compiling, catalogue, evaluation, backups)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Arbiter Studio operations. The database comes from DATABASE_URL "
        "(default: SQLite under data/).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ArbiterError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        # The database cannot be used at all (a server that is down, a file that cannot be
        # opened): one line too, naming the driver's reason.
        reason = " ".join(str(exc.orig or exc).split())
        print(f"error: the database cannot be used: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
