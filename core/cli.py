"""``python -m core …``: scripted set-up and operations for operators.

Every command acts as the system operator (an admin, audited as ``cli@arbiter.local``).
Errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from core import cli_models, db, demo
from core.domain import ProviderType, Role
from core.errors import ArbiterError, ValidationFailed
from core.permissions import Actor
from core.services import accounts, catalog
from core.uow import UnitOfWork

CLI_ACTOR = Actor.system("cli")

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = dict(cli_models.COMMANDS)


def _uow() -> UnitOfWork:
    # Like the app and the worker, every command first brings the schema up to date.
    engine = db.get_engine()
    db.upgrade(engine)
    return UnitOfWork(db.session_factory(engine))


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


@command("init-db")
def cmd_init_db(args: argparse.Namespace) -> int:
    engine = db.get_engine()
    db.upgrade(engine)
    print(f"Database is at the newest schema ({db.current_revision(engine)}).")
    return 0


@command("seed-demo")
def cmd_seed_demo(args: argparse.Namespace) -> int:
    uow = _uow()
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
        _uow(),
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
        _uow(),
        CLI_ACTOR,
        catalog.ConnectionInput(
            name=args.name,
            provider_type=ProviderType(args.type),
            base_url=args.base_url,
            api_key_env=args.key_env,
            default_base_model=args.base_model,
            price_per_million_tokens=Decimal(args.price),
            monthly_budget=Decimal(args.budget) if args.budget is not None else None,
            lora_rank=args.lora_rank,
        ),
    )
    state = "present" if conn.key_present else "missing"
    print(f"Created connection {conn.name} ({conn.provider_type.value}); API key {state}.")
    return 0


@command("list-models")
def cmd_list_models(args: argparse.Namespace) -> int:
    rows = catalog.list_models(_uow(), CLI_ACTOR)
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
    uow = _uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    match = [
        c
        for c in catalog.list_connections(uow, CLI_ACTOR)
        if c.name.lower() == args.connection.lower()
    ]
    if not match:
        raise ArbiterError(f"There is no connection named {args.connection!r}.")
    updated = catalog.update_model(
        uow, CLI_ACTOR, model.id, model.as_input(connection_id=match[0].id), model.row_version
    )
    print(f"{updated.name} now uses the connection {updated.connection_name}.")
    return 0


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    from core.training.validator import validate_stream

    path = Path(args.file)
    try:
        with path.open("rb") as stream:
            report = validate_stream(stream, base_model=args.base_model)
    except OSError as exc:
        raise ArbiterError(f"Cannot read {path}: {exc.strerror}.") from exc
    for finding in report.findings:
        print(f"{path}:{finding.line or '-'}: {finding.severity}: {finding.message}")
    hidden = report.errors + report.warnings - len(report.findings)
    if hidden > 0:
        print(f"… and {hidden:,} more of the same kinds")
    print(f"{path}: {report.summary()}")
    return 1 if report.errors else 0


@command("import-transcripts")
def cmd_import_transcripts(args: argparse.Namespace) -> int:
    from core.services import curation

    uow = _uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    path = Path(args.file)
    if not path.is_file():
        raise ArbiterError(f"There is no file {args.file!r}.")
    try:
        result = curation.import_transcripts(
            uow, CLI_ACTOR, model.id, path.name, _read_import(path)
        )
    except ValidationFailed as exc:
        # One problem per line, so that each bad line of the file can be found.
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"Imported {result.imported:,} transcripts into the review queue of {model.name}"
        f" ({result.with_personal_data:,} with personal-data warnings)."
    )
    return 0


def _read_import(path: Path) -> bytes:
    """An import file's bytes; one over the import limit is refused before it is read."""
    from core.tabular import too_large

    try:
        refused = too_large(path.name, path.stat().st_size)
        if refused:
            raise ValidationFailed(f"{refused}.")
        return path.read_bytes()
    except OSError as exc:
        raise ArbiterError(f"Cannot read {path}: {exc.strerror}.") from exc


def _model_id(uow: UnitOfWork, name_or_id: str) -> int:
    if name_or_id.isdigit():
        return catalog.get_model(uow, CLI_ACTOR, int(name_or_id)).id
    return catalog.get_model_by_name(uow, CLI_ACTOR, name_or_id).id


@command("import-qas")
def cmd_import_qas(args: argparse.Namespace) -> int:
    from core.services import qas

    uow = _uow()
    model_id = _model_id(uow, args.model)
    path = Path(args.file)
    table = qas.read_upload(path.name, _read_import(path))
    mapping = qas.suggest_mapping(table.headers)
    for pair in args.column or []:
        field, _, header = pair.partition("=")
        field = {"type": "qa_type", "active": "is_active"}.get(field, field)
        if field not in qas.FIELDS or not header:
            raise ArbiterError(
                f"--column {pair!r}: use FIELD=HEADER, FIELD one of {', '.join(qas.HEADERS.values())}."
            )
        mapping[field] = header
    result = qas.commit_import(
        uow,
        CLI_ACTOR,
        model_id,
        table,
        mapping,
        args.on_duplicate,
        leave_out_errors=args.skip_errors,
    )
    print(result.message)
    return 0


@command("export-qas")
def cmd_export_qas(args: argparse.Namespace) -> int:
    from core.services import qas
    from core.services.qas import QAQuery
    from core.tabular import TableError, format_of

    uow = _uow()
    model_id = _model_id(uow, args.model)
    path = Path(args.file)
    try:
        kind = args.format or format_of(path.name)
    except TableError as exc:
        raise ArbiterError(f"{exc} (or pass --format).") from exc
    active = True if args.active_only else None
    exported = qas.export_qas(uow, CLI_ACTOR, QAQuery(model_id=model_id, active=active), kind)
    try:
        path.write_bytes(exported.data)
    except OSError as exc:
        raise ArbiterError(f"Cannot write {path}: {exc.strerror}.") from exc
    print(f"Exported {exported.rows:,} Q&As to {path} ({kind}).")
    return 0


@command("compile")
def cmd_compile(args: argparse.Namespace) -> int:
    from core.services import compilation

    uow = _uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    if args.dry_run:
        preflight = compilation.preflight(uow, CLI_ACTOR, model.id)
        _print_preflight(preflight)
        return 1 if preflight.errors or preflight.refusal else 0
    queued = compilation.request_compilation(
        uow, CLI_ACTOR, model.id, force=args.force, override_budget=args.override_budget
    )
    print(f"Compilation #{queued.id} of {model.name} queued.")
    if not args.wait:
        print("A worker runs it (the app's embedded worker or python -m core.worker).")
        return 0
    return _follow(queued.id)


def _follow(compilation_id: int) -> int:
    """Work on the compilation here (other workers may share it) and print its progress."""
    import time

    from core.services import compilation
    from core.worker import worker_id

    name = f"cli:{worker_id()}"
    seen = 0
    while True:
        ran = compilation.run_next(_uow(), name, compilation_id=compilation_id)
        for event in compilation.compilation_events(_uow(), CLI_ACTOR, compilation_id, seen):
            seen = event.id
            print(f"{event.created_at:%H:%M:%S}  {event.message}")
        view = compilation.get_compilation(_uow(), CLI_ACTOR, compilation_id)
        if view.finished:
            print(f"Compilation #{view.id}: {view.status.value}.")
            return 0 if view.status.value in ("succeeded", "skipped") else 1
        if not ran:
            time.sleep(0.2)


def _print_preflight(p: object) -> None:
    from core.services.compilation import Preflight

    assert isinstance(p, Preflight)
    print(f"Pre-flight of {p.model_name} ({p.sources}), base model {p.base_model or '-'}")
    print(f"  examples      {p.example_count:,} ({p.duplicates_removed:,} duplicates kept once)")
    print(f"  tokens        {p.total_tokens:,}")
    print(f"  estimate      {p.estimate.describe()}")
    print(f"  budget        {p.budget.describe()}")
    print(f"  changes       {p.diff.describe() if p.diff else 'no active version to compare'}")
    if p.config_changed:
        print("                configuration changed")
    print(f"  findings      {p.errors:,} errors, {p.warnings:,} warnings")
    for finding in p.findings[:50]:
        print(f"    {finding}")
    if len(p.findings) > 50:
        print(f"    … and {p.errors + p.warnings - 50:,} more")
    print(f"  outcome       {p.outcome}")


@command("export-training-set")
def cmd_export_training_set(args: argparse.Namespace) -> int:
    from core.services import compilation

    uow = _uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    content = compilation.export_training_set(uow, CLI_ACTOR, model.id)
    if args.file == "-":
        sys.stdout.buffer.write(content)
        return 0
    Path(args.file).write_bytes(content)
    lines = content.count(b"\n")
    print(f"Wrote {lines:,} examples of {model.name} to {args.file} (chat JSONL).")
    return 0


@command("export-training-sets")
def cmd_export_training_sets(args: argparse.Namespace) -> int:
    from core.services import catalog

    exported = catalog.export_training_sets(_uow(), CLI_ACTOR)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in exported.files.items():
        (folder / name).write_bytes(content)
    written = sum(1 for s in exported.sets if s.examples)
    print(
        f"Wrote the training sets of {written} of {len(exported.sets)} model(s), "
        f"{exported.examples:,} examples, to {folder} (chat JSONL, with manifest.json)."
    )
    return 0


def _setup_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    sub.add_parser("list-models", help="show the models as a tree")
    p = sub.add_parser("set-connection", help="set the provider connection of a model")
    p.add_argument("model", help="model name")
    p.add_argument("connection", help="connection name")


def _data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Training data in and out: validation, transcripts, Q&As."""
    p = sub.add_parser("validate", help="check a JSONL training file against the providers' rules")
    p.add_argument("file", help="the JSONL file")
    p.add_argument("--base-model", help="base model whose per-example token limit applies")
    p = sub.add_parser(
        "import-transcripts",
        help="queue transcripts (JSONL in OpenAI chat format, or CSV) for curation",
    )
    p.add_argument("model", help="model name")
    p.add_argument("file", help="a .jsonl or .csv file")
    p = sub.add_parser(
        "import-qas",
        help="import Q&As from a CSV, XLSX or JSONL file (all rows or none)",
        description="Columns: question, answer (required); section, type, active, notes. "
        "Rows whose question the model already has are skipped unless --on-duplicate update.",
    )
    p.add_argument("model", help="model name or id")
    p.add_argument("file", help=".csv, .tsv, .xlsx or .jsonl")
    p.add_argument("--on-duplicate", choices=["skip", "update"], default="skip")
    p.add_argument(
        "--skip-errors", action="store_true", help="import the valid rows, leave out bad ones"
    )
    p.add_argument(
        "--column",
        action="append",
        metavar="FIELD=HEADER",
        help="map a field to a differently named column, e.g. question=Frage (repeatable)",
    )
    p = sub.add_parser("export-qas", help="export a model's Q&As to CSV, XLSX or JSONL")
    p.add_argument("model", help="model name or id")
    p.add_argument("file", help="where to write (.csv, .xlsx or .jsonl)")
    p.add_argument("--format", choices=["csv", "xlsx", "jsonl"], help="default: from the file name")
    p.add_argument("--active-only", action="store_true", help="leave out deactivated Q&As")


def _compile_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Compiling, and training sets to take elsewhere."""
    p = sub.add_parser("compile", help="compile a model (or only check it with --dry-run)")
    p.add_argument("model", help="model name")
    p.add_argument("--dry-run", action="store_true", help="pre-flight only: start nothing")
    p.add_argument("--wait", action="store_true", help="run it here and print its progress")
    p.add_argument("--force", action="store_true", help="compile even if nothing changed")
    p.add_argument(
        "--override-budget", action="store_true", help="compile even past the monthly budget"
    )
    p = sub.add_parser(
        "export-training-set", help="write a model's training set as provider-neutral JSONL"
    )
    p.add_argument("model", help="model name")
    p.add_argument("file", help="the file to write (- for standard output)")
    p = sub.add_parser(
        "export-training-sets",
        help="write every arbiter's training set as JSONL, one file per model, and a manifest",
    )
    p.add_argument("dir", help="the folder to write into (created if missing)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Arbiter Studio operations. The database comes from DATABASE_URL "
        "(default: SQLite under data/).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_setup_commands, _data_commands, _compile_commands, cli_models.add_parsers):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ArbiterError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
