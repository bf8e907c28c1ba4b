"""Base models and moving away from a provider: what the catalogue knows, the deprecation
radar (days left for new fine-tuning jobs and until shutdown), and moving a model to
another connection with its pre-flight there shown first."""

from __future__ import annotations

import argparse

from core.cli.base import CLI_ACTOR, command, connection_named, open_uow
from core.services import catalog, compilation
from core.services.catalog import MoveTarget


@command("list-base-models")
def cmd_list_base_models(args: argparse.Namespace) -> int:
    uow = open_uow()
    provider = connection_named(uow, args.connection).provider_type if args.connection else None
    rows = [
        r
        for r in catalog.list_base_models(uow, CLI_ACTOR)
        if provider is None or r.provider_type == provider
    ]
    if not rows:
        print("The catalogue knows no base models for this connection.")
        return 0
    print(
        f"{'BASE MODEL':<36} {'PROVIDER':<13} {'TUNABLE':<7} {'EXAMPLE LIMIT':>13} "
        f"{'$/1M TRAIN':>10} {'$/HOUR':>7} {'NEW JOBS UNTIL':<14} {'SHUTDOWN':<10}"
    )
    for r in rows:
        print(
            f"{r.name:<36} {r.provider_type.value:<13} {'yes' if r.fine_tunable else 'no':<7} "
            f"{_number(r.example_token_limit):>13} {_number(r.training_price_per_million):>10} "
            f"{_number(r.hosting_price_per_hour):>7} {_day(r.fine_tuning_ends):<14} "
            f"{_day(r.shutdown_date):<10}"
        )
    return 0


@command("radar")
def cmd_radar(args: argparse.Namespace) -> int:
    rows = catalog.base_models_in_use(open_uow(), CLI_ACTOR)
    if not rows:
        print("No model uses a base model yet.")
        return 0
    for r in rows:
        print(f"{'!' if r.flagged else ' '} {r.base_model} ({r.provider_type.value})")
        if r.fine_tuning_ends is not None:
            print(
                f"    new fine-tuning jobs until {_deadline(r.fine_tuning_ends, r.fine_tuning_days_left)}"
            )
        if r.shutdown_date is not None:
            print(f"    shuts down {_deadline(r.shutdown_date, r.days_left)}")
        print(f"    used by {', '.join(r.models)} on {', '.join(r.connections)}")
    flagged = sum(r.flagged for r in rows)
    print(f"{flagged} of {len(rows)} base model(s) need action (marked !).")
    return 0


@command("move-model")
def cmd_move_model(args: argparse.Namespace) -> int:
    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    target = connection_named(uow, args.connection)
    seen = compilation.preflight(
        uow, CLI_ACTOR, model.id, MoveTarget(target.id, args.base_model or None)
    )
    where = f"{target.name} ({target.provider_type.value}), base model {seen.base_model or '-'}"
    print(f"On {where}: {seen.example_count:,} examples, {seen.total_tokens:,} tokens")
    if seen.estimate is not None:
        print(f"  estimated: {seen.estimate.describe()}")
    if seen.errors or seen.refusal:
        print(f"  {seen.refusal or f'{seen.errors} error(s) in the training set'}")
        print("Not moved.")
        return 1
    moved = catalog.move_model(uow, CLI_ACTOR, model.id, target.id, args.base_model)
    print(
        f"{moved.name} now uses {moved.connection_name}; its active version keeps answering "
        "until a compilation there succeeds."
    )
    if args.compile:
        queued = compilation.request_compilation(open_uow(), CLI_ACTOR, moved.id)
        print(f"Compilation #{queued.id} queued.")
    return 0


def _number(value: object) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _day(value: object) -> str:
    return "-" if value is None else str(value)


def _deadline(day: object, days_left: int | None) -> str:
    if days_left is None:
        return str(day)
    return f"{day} ({days_left} days ago)" if days_left < 0 else f"{day} (in {days_left} days)"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list-base-models", help="the base models the catalogue knows, with facts")
    p.add_argument("connection", nargs="?", help="only those of this connection's provider")
    sub.add_parser("radar", help="base models in use, days left for new jobs and to shutdown")
    p = sub.add_parser(
        "move-model", help="move a model to another connection (pre-flight there first)"
    )
    p.add_argument("model", help="model name")
    p.add_argument("connection", help="connection name")
    p.add_argument("--base-model", help="base model there (default: the connection's)")
    p.add_argument("--compile", action="store_true", help="queue a compilation there")
