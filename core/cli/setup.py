"""Database, demo, users, connections and models."""

from __future__ import annotations

import argparse
import getpass
import sys

from core import db, demo
from core.cli.base import CLI_ACTOR, command, connection_named, open_uow
from core.domain import ProviderType, Role
from core.services import accounts, catalog


@command("init-db")
def cmd_init_db(args: argparse.Namespace) -> int:
    engine = db.get_engine()
    db.upgrade(engine)
    print(f"Database is at the newest schema ({db.current_revision(engine)}).")
    return 0


@command("seed-demo")
def cmd_seed_demo(args: argparse.Namespace) -> int:
    uow = open_uow()
    if not demo.is_empty(uow):
        if args.if_empty:
            print("The database already holds data; demo data not added.")
            return 0
        print(
            "error: the database already holds data; seed-demo only fills an empty one.",
            file=sys.stderr,
        )
        return 1
    accounts = demo.seed(uow)
    path = demo.write_credentials(accounts)
    print("Demo company created. Sign in with one of these accounts (shown once; also in")
    print(f"{path}, readable only by you):")
    for account in accounts:
        print(f"  {account.role.value:<8} {account.email:<32} {account.password}")
    if not args.no_compile:
        print("Compiling the demo arbiters with the local provider …")
        for line in demo.compile_arbiters(uow):
            print(f"  {line}")
    demo.open_the_chat(uow)
    return 0


@command("create-user")
def cmd_create_user(args: argparse.Namespace) -> int:
    password: str | None = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not args.sso_only and sys.stdin.isatty():
        password = getpass.getpass("Password for the new user: ")
    created = accounts.create_user(
        open_uow(),
        CLI_ACTOR,
        args.email,
        args.name or args.email.split("@")[0],
        Role(args.role),
        password,
        generate_password=password is None and not args.sso_only,
    )
    print(f"Created {created.user.role.value} {created.user.email} (id {created.user.id}).")
    if created.generated_password:
        print(f"Generated password (shown once): {created.generated_password}")
    return 0


@command("create-connection")
def cmd_create_connection(args: argparse.Namespace) -> int:
    conn = catalog.create_connection(
        open_uow(),
        CLI_ACTOR,
        catalog.ConnectionInput(
            name=args.name,
            provider_type=ProviderType(args.type),
            base_url=args.endpoint or args.serve_url or args.base_url,
            api_key_env=args.key_env,
            default_base_model=args.base_model,
            price_per_million_tokens=args.price,
            monthly_budget=args.budget,
            api_version=args.api_version,
            entra_id=args.entra_id,
            azure_subscription_id=args.subscription,
            azure_resource_group=args.resource_group,
            azure_account_name=args.resource,
            manual_deployments=args.manual_deployments,
            hosting_price_per_hour=args.hosting_price,
            lora_rank=args.lora_rank,
        ),
    )
    if conn.provider_type == ProviderType.OPEN_WEIGHTS:
        state = (
            f"serves through {conn.base_url}"
            + (f", key in {conn.api_key_env}" if conn.api_key_env else "")
            if conn.base_url
            else "chat in-process"
        )
    elif conn.entra_id:
        state = "Microsoft Entra ID sign-in (no key)"
    else:
        state = "API key " + ("present" if conn.key_present else "missing")
    print(f"Created connection {conn.name} ({conn.provider_type.value}); {state}.")
    return 0


@command("list-models")
def cmd_list_models(args: argparse.Namespace) -> int:
    rows = catalog.list_models(open_uow(), CLI_ACTOR)
    if not rows:
        print("No models yet.")
        return 0
    print(f"{'MODEL':<40} {'KIND':<10} {'CONNECTION':<20} {'VERSION':>7} {'Q&As':>7} {'CONV':>5}")
    for m in rows:
        name = "  " * m.depth + m.name
        version = f"v{m.active_version_number}" if m.active_version_number else "-"
        print(
            f"{name:<40} {m.kind.value:<10} {(m.connection_name or '-'):<20} {version:>7} "
            f"{m.training_qas + m.validation_qas:>7} {m.ready_conversations:>5}"
        )
    return 0


@command("set-connection")
def cmd_set_connection(args: argparse.Namespace) -> int:
    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    connection = connection_named(uow, args.connection)
    updated = catalog.update_model(
        uow, CLI_ACTOR, model.id, model.as_input(connection_id=connection.id), model.row_version
    )
    print(f"{updated.name} now uses the connection {updated.connection_name}.")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Database, demo, users, connections and models."""
    sub.add_parser("init-db", help="create or upgrade the database to the newest schema")
    p = sub.add_parser("seed-demo", help="fill an empty database with the demo company")
    p.add_argument(
        "--if-empty", action="store_true", help="do nothing (and succeed) if data exists"
    )
    p.add_argument(
        "--no-compile", action="store_true", help="do not compile the demo arbiters afterwards"
    )
    p = sub.add_parser("create-user", help="add a user account")
    p.add_argument("email")
    p.add_argument("--role", choices=[r.value for r in Role], required=True)
    p.add_argument("--name", help="display name (default: the e-mail's local part)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    group.add_argument("--sso-only", action="store_true", help="no password: single sign-on only")
    p = sub.add_parser("create-connection", help="add a provider connection")
    p.add_argument("name")
    p.add_argument("--type", choices=[t.value for t in ProviderType], required=True)
    p.add_argument("--base-url")
    p.add_argument("--key-env", help="NAME of the environment variable or secret holding the key")
    p.add_argument("--base-model", help="default base model")
    p.add_argument("--price", default="0", help="price per 1M training tokens")
    p.add_argument("--budget", help="monthly budget")
    p.add_argument("--lora-rank", type=int, help="open_weights: LoRA rank (default 16)")
    p.add_argument(
        "--serve-url",
        help="open_weights: serve through this OpenAI-compatible server (vLLM with "
        "--enable-lora), e.g. http://gpu-host:8000/v1; its key variable: --key-env",
    )
    azure = p.add_argument_group("Azure OpenAI (--type azure_openai)")
    azure.add_argument("--endpoint", help="the resource's endpoint, https://NAME.openai.azure.com")
    azure.add_argument("--api-version", help="data-plane API version (default: the newest stable)")
    azure.add_argument(
        "--entra-id", action="store_true", help="sign in with Microsoft Entra ID instead of a key"
    )
    azure.add_argument("--subscription", help="subscription id, for automatic deployments")
    azure.add_argument("--resource-group", help="resource group of the Azure OpenAI resource")
    azure.add_argument("--resource", help="name of the Azure OpenAI resource")
    azure.add_argument(
        "--manual-deployments",
        action="store_true",
        help="deploy trained models by hand at Azure (then name each deployment here)",
    )
    azure.add_argument("--hosting-price", help="price per hour of a deployment")
    sub.add_parser("list-models", help="show the models as a tree")
    p = sub.add_parser("set-connection", help="set the provider connection of a model")
    p.add_argument("model", help="model name")
    p.add_argument("connection", help="connection name")
