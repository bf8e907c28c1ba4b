"""Whether a version is better: evaluate a version (or the base model) on the validation
Q&As, optionally with an LLM judge, and compare two of them question by question."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from core.cli.base import CLI_ACTOR, command, connection_named, open_uow
from core.csv_export import frame_to_csv
from core.errors import ArbiterError
from core.services import catalog, evaluation


def _side(value: str) -> int | str:
    if value.lower() == evaluation.BASE:
        return evaluation.BASE
    try:
        return int(value.lower().removeprefix("v"))
    except ValueError:
        raise ArbiterError(f"{value!r} is neither a version number nor 'base'.") from None


def _write(frame: pd.DataFrame, out: str) -> None:
    Path(out).write_bytes(frame_to_csv(frame))


@command("evaluate")
def cmd_evaluate(args: argparse.Namespace) -> int:
    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    version = _side(args.version) if args.version else model.active_version_number
    if version is None:
        raise ArbiterError(f"{model.name} has no active version: name one with --version.")
    judge = connection_named(uow, args.judge).id if args.judge else None
    run = evaluation.evaluate(uow, CLI_ACTOR, model.id, version, judge_connection_id=judge)
    print(run.summary())
    if args.out and run.error is None:
        rows = evaluation.evaluation_results(open_uow(), CLI_ACTOR, run.id)
        _write(rows, args.out)
        print(f"Wrote {len(rows)} question(s), worst first, to {args.out}.")
    return 1 if run.error else 0


@command("compare")
def cmd_compare(args: argparse.Namespace) -> int:
    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    sides = [_side(args.a), _side(args.b)]
    if not args.reuse:
        for side in sides:
            run = evaluation.evaluate(open_uow(), CLI_ACTOR, model.id, side)
            print(run.summary())
            if run.error:
                return 1
    table = evaluation.compare_evaluations(open_uow(), CLI_ACTOR, model.id, *sides)
    _write(table, args.out)
    changes = table["f1 change"]
    print(
        f"{len(table)} question(s): {int((changes > 0).sum())} better, "
        f"{int((changes < 0).sum())} worse, {int((changes == 0).sum())} the same "
        f"(token F1, {args.a} → {args.b}); written to {args.out}, regressions first."
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="ask a version the validation Q&As and score each answer")
    p.add_argument("model", help="model name")
    p.add_argument("--version", help="version number or 'base' (default: the active version)")
    p.add_argument("--judge", metavar="CONNECTION", help="grade answers with an LLM there")
    p.add_argument("--out", metavar="FILE.csv", help="write the per-question results")
    p = sub.add_parser("compare", help="two versions (or a version and 'base') side by side")
    p.add_argument("model", help="model name")
    p.add_argument("a", help="version number or 'base'")
    p.add_argument("b", help="version number or 'base'")
    p.add_argument("--out", metavar="FILE.csv", required=True, help="where to write the table")
    p.add_argument(
        "--reuse", action="store_true", help="use each side's newest evaluation, ask nothing"
    )
