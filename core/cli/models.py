"""Models and their answers: create a model, ask it one question."""

from __future__ import annotations

import argparse

from core.cli.base import CLI_ACTOR, command, connection_named, open_uow
from core.domain import ModelKind
from core.services import catalog, chat


@command("create-model")
def cmd_create_model(args: argparse.Namespace) -> int:
    uow = open_uow()
    parent = catalog.get_model_by_name(uow, CLI_ACTOR, args.parent).id if args.parent else None
    created = catalog.create_model(
        uow,
        CLI_ACTOR,
        catalog.ModelInput(
            name=args.name,
            kind=ModelKind(args.kind),
            connection_id=connection_named(uow, args.connection).id if args.connection else None,
            base_model=args.base_model,
            system_message=args.system_message or "",
            parent_id=parent,
            n_epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate_multiplier=args.lr_multiplier,
        ),
    )
    print(f"Created {created.kind.value} {created.name} on {created.connection_name or '-'}.")
    return 0


@command("ask")
def cmd_ask(args: argparse.Namespace) -> int:
    answered = chat.ask_model(open_uow(), CLI_ACTOR, args.model, args.question, args.version)
    print(answered.text)
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("create-model", help="add an arbiter or assistant")
    p.add_argument("name")
    p.add_argument("--connection", help="connection name (default: the parent's)")
    p.add_argument("--parent", help="parent model name")
    p.add_argument("--system-message", help="the model's system message")
    p.add_argument("--kind", choices=[k.value for k in ModelKind], default="arbiter")
    p.add_argument("--base-model", help="base model (default: the connection's)")
    p.add_argument("--epochs", type=int, help="training epochs (default: auto)")
    p.add_argument("--batch-size", type=int, help="batch size (default: auto)")
    p.add_argument("--lr-multiplier", type=float, help="learning-rate multiplier (default: auto)")
    p = sub.add_parser("ask", help="ask a model one question; prints its answer")
    p.add_argument("model", help="model name")
    p.add_argument("question")
    p.add_argument("--version", type=int, help="answer from this version (default: the active)")
